"""Similarity stage: answers that look copied, per exercise, for a human to judge.

After grading, every exercise's answer cells are compared between every pair of
students with copydetect (winnowed fingerprints of the token stream, the method of
MOSS; https://github.com/blingenf/copydetect). Nothing is uploaded and nothing is run:
answers are read from the handed-in files by the normalize stage's parser, and student
code is only parsed (``ast``) and tokenized (Pygments), never executed.

What everyone shares is left out: every code cell of the student edition (the stub
included) and the instructor's solution are boilerplate, whose fingerprints are removed
from each answer before two answers are compared. An answer that is the solution (up
to names, comments, layout and the order of independent lines) is listed on its own:
it is not evidence that two students copied each other.

What copying disguises is normalised away before fingerprinting:

* names (Korean or not), strings, comments and whitespace: copydetect's token filter
  turns every name into ``V``, every string into ``S`` and drops comments and spaces;
* the order of independent lines: in every block, runs of simple statements
  (assignments and expression statements, each on lines of its own) are put in a
  canonical order that keeps every statement after the ones it depends on (names read
  and written; a method call counts as a write to its object). Code that does not
  parse is fingerprinted as it is (the tokenizer does not need valid Python).

Answers too small to tell copying from the one obvious way to write them are not
compared: the unanswered (empty, or the stub unchanged), and the short (one line of
code of their own, or fewer than ``MIN_OWN_TOKENS`` filtered characters left once
the shared code is removed). Two answers are listed only when the share of one that
matches the other reaches the threshold *and* the match itself is at least
``MIN_OWN_TOKENS`` long.

The result is a list for a human to look at. It never changes a grade.
"""

from __future__ import annotations

import ast
import bisect
import heapq
import io
import time
import tokenize
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from .model import SourceCell, SourceNotebook, Submission, nbgrader_meta, release_cells
from .normalize import match_cells, read_notebook
from .settings import SIMILARITY_THRESHOLD, SOLUTIONS_DIR

# copydetect's noise threshold: a match must span at least this many characters of the filtered
# token stream (names are one character there, so about one line of code). Guarantee threshold
# equal to it: every k-gram is a fingerprint (window 1), which is affordable for answers this
# short and makes the scores independent of Python's per-process string hashing.
K = 25
# Filtered characters (two or three short lines: "V=V.V(V*V,V=-1)" is one) that an answer must have
# of its own to be compared, and that two answers must have in common to be listed: below that,
# short answers match by chance.
MIN_OWN_TOKENS = 40
MIN_OWN_LINES = 2  # logical lines of an answer's own code, below which it is "short"
# A passage found in more answers to one exercise than this (MOSS's -m option) is the class's
# common way of writing it, not evidence: it is left out like the given code.
COMMON_MIN_ANSWERS = 10
COMMON_SHARE = 0.2
# What is compared of one answer, whatever is handed in: the longest solution is about 1,000
# characters; a pasted blob is cut here, and a run of more simple statements than MAX_RUN is left
# in its written order (sorting it costs the square of its length).
MAX_ANSWER_CHARS = 5_000
MAX_RUN = 30

UNANSWERED, SOLUTION, SHORT, COMMON, COMPARED = "unanswered", "solution", "short", "common", "compared"


@dataclass
class Answer:
    """One student's answer to one exercise, as the similarity stage sees it."""

    student_id: str
    text: str
    kind: str = ""  # UNANSWERED, SOLUTION, SHORT, COMMON or COMPARED, once prepared
    own_lines: int = 0
    fingerprint: object = None  # a copydetect CodeFingerprint, boilerplate removed
    line_of: list[int] = field(default_factory=list)  # fingerprinted line -> line of ``text``


@dataclass
class PairMatch:
    """Two students' answers to one exercise, and how much of each the other covers."""

    notebook: str
    grade_id: str
    student_a: str
    student_b: str
    similarity_a: float  # share of a's own code (filtered tokens) that matches b
    similarity_b: float
    matched: int = 0  # filtered tokens of a that match b
    text_a: str = ""
    text_b: str = ""
    marks_a: list[tuple[int, int, int]] = field(default_factory=list)  # (line, start column, end column) in text_a
    marks_b: list[tuple[int, int, int]] = field(default_factory=list)

    @property
    def similarity(self) -> float:
        return max(self.similarity_a, self.similarity_b)


@dataclass
class StudentPair:
    """Two students over every exercise both answered in their own words."""

    student_a: str
    student_b: str
    compared: int  # exercises where both answers were compared
    flagged: list[tuple[str, str]]  # (notebook, grade_id) at or above the threshold
    similarity: float  # matched own tokens / own tokens, summed over the compared exercises (larger direction)


@dataclass
class SimilarityReport:
    """Everything the report stage shows about similar answers."""

    threshold: float
    pairs: list[PairMatch]  # per exercise, listed (at or above the threshold), most similar first
    overall: list[StudentPair]  # student pairs with at least one listed exercise, most listed first
    same_as_solution: dict[tuple[str, str], list[str]]  # (notebook, grade_id) -> students
    kinds: dict[tuple[str, str], Counter]  # (notebook, grade_id) -> answers per kind
    titles: dict[tuple[str, str], str]  # (notebook, grade_id) -> the exercise's heading
    unreadable: list[tuple[str, str]]  # (student, notebook) whose file could not be read as a notebook
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (notebook, grade_id, error): not compared
    compared_pairs: int = 0  # answer pairs actually compared
    seconds: float = 0.0
    # every answer pair that shares a fingerprint: (notebook, grade_id, a, b, share of a, share of b, listed)
    scored: list[tuple] = field(default_factory=list)


# --------------------------------------------------------------------------- reading answers


def read_answers(path: Path, source: SourceNotebook) -> dict[str, str]:
    """grade_id -> the answer in each solution cell of a handed-in file (parsed, never run).

    Cells are found as the normalize stage finds them (by metadata, content or position), so
    Colab saves and reshuffled notebooks give the answers the grader ran; a missing one is the stub.
    """
    submitted = [dict(c) for c in read_notebook(path.read_bytes()).cells]
    wanted = {c["grade_id"]: c["source"] for c in source.release_cells if c.get("solution") and c.get("grade_id")}
    found: dict[str, str] = {}
    for cell in submitted:  # the common case, metadata kept: the first code cell with each grade_id
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in wanted and grade_id not in found and cell.get("cell_type") == "code":
            found[grade_id] = cell.get("source", "")
    if len(found) == len(wanted):
        return found
    matched = match_cells(source.release_cells, submitted)
    return {cell["grade_id"]: submitted[matched[i]].get("source", "") if i in matched else cell["source"]
            for i, cell in enumerate(source.release_cells) if cell.get("solution") and cell.get("grade_id")}


def release_source(path: Path) -> SourceNotebook:
    """A ``SourceNotebook`` read from a student edition alone, without a gradebook.

    Enough to find a hand-in's answers (tests and benchmarks use it); never enough to grade
    one: the student edition has no hidden tests.
    """
    nb = read_notebook(path.read_bytes())
    cells, titles = release_cells(nb.cells)
    restore = {c["grade_id"]: SourceCell(c["grade_id"], c["cell_type"], c["source"], dict(nbgrader_meta(cell)))
               for c, cell in zip(cells, nb.cells, strict=True) if c["grade_id"]}
    return SourceNotebook(path.name, cells, restore, titles)


def exercise_titles(source: SourceNotebook) -> dict[str, str]:
    """grade_id of each solution cell -> the heading of its exercise (that of the test cell after it)."""
    titles, waiting = {}, []
    for cell in source.release_cells:
        grade_id = cell.get("grade_id")
        if not grade_id:
            continue
        if cell.get("solution"):
            waiting.append(grade_id)
        elif grade_id in source.titles:
            titles.update({w: source.titles[grade_id] for w in waiting})
            waiting = []
    titles.update({w: w for w in waiting})
    return titles


# --------------------------------------------------------------------------- normalising one answer


def _reads_writes(stmt: ast.stmt, local: set[str]) -> tuple[set[str], set[str]]:
    """Names a simple statement reads and writes.

    A subscript or attribute target writes its base name (``x[0] = 1`` writes x); calling a
    method of a local name may change it (``W.assign_sub(g)`` writes W); a bare call on a line
    of its own (``print(...)``) has effects of its own, so such calls keep their order.
    """
    reads, writes = set(), set()
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name):
            (reads if isinstance(node.ctx, ast.Load) else writes).add(node.id)
        elif isinstance(node, ast.Call):
            root = node.func
            while isinstance(root, ast.Attribute | ast.Subscript | ast.Call):
                root = root.func if isinstance(root, ast.Call) else root.value
            if root is not node.func and isinstance(root, ast.Name) and root.id in local:
                writes.add(root.id)
            elif root is node.func and isinstance(stmt, ast.Expr):
                writes.add("<effects>")
                reads.add("<effects>")
    for target in getattr(stmt, "targets", None) or [getattr(stmt, "target", None)]:
        while isinstance(target, ast.Attribute | ast.Subscript | ast.Starred):
            target = target.value
        if isinstance(target, ast.Name):
            writes.add(target.id)
    if isinstance(stmt, ast.AugAssign):
        reads |= writes
    return reads, writes


def _shape(stmt: ast.stmt) -> str:
    """A statement with its names and strings left out: a sort key that renaming does not change."""
    return " ".join(repr(n.value) if isinstance(n, ast.Constant) and not isinstance(n.value, str)
                    else type(n).__name__ for n in ast.walk(stmt) if not isinstance(n, ast.expr_context))


def _bodies(tree: ast.AST) -> Iterable[list[ast.stmt]]:
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield block
        for inner in getattr(node, "handlers", []) + getattr(node, "cases", []):
            yield inner.body


_SIMPLE = (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr)


def canonical_order(code: str) -> list[int]:
    """A permutation of ``code``'s lines that puts independent simple statements in a canonical order.

    In every block, each run of simple statements (assignments and expression statements, each
    on lines of its own) is sorted by the statements' shape, names left out, while every statement
    stays after those it depends on. Comment lines travel with the statement below them. Two
    answers that differ only in the order of independent lines get the same order. The identity
    when the code does not parse.
    """
    order = list(range(code.count("\n") + 1))
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return order
    local = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    local |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments)
              for a in n.posonlyargs + n.args + n.kwonlyargs + [x for x in (n.vararg, n.kwarg) if x]}
    for body in _bodies(tree):
        run: list[ast.stmt] = []
        for stmt in [*body, None]:
            movable = (isinstance(stmt, _SIMPLE) and stmt.end_lineno is not None
                       and not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)))  # docstrings
            if movable and not (run and stmt.lineno <= run[-1].end_lineno):  # not two statements on one line
                run.append(stmt)
                continue
            if 1 < len(run) <= MAX_RUN:
                _sort_run(run, order, local)
            run = [stmt] if movable else []
    return order


def _sort_run(run: list[ast.stmt], order: list[int], local: set[str]) -> None:
    """Rewrite ``order`` over the lines of ``run``: its statements (each with the comments above it) sorted."""
    first = run[0].lineno - 1
    blocks, start = [], first
    for stmt in run:
        blocks.append(range(start, stmt.end_lineno))
        start = stmt.end_lineno
    effects = [_reads_writes(stmt, local) for stmt in run]
    after: dict[int, list[int]] = defaultdict(list)
    waiting = [0] * len(run)
    for i, j in combinations(range(len(run)), 2):
        (reads_i, writes_i), (reads_j, writes_j) = effects[i], effects[j]
        if writes_i & (reads_j | writes_j) or writes_j & reads_i:
            after[i].append(j)
            waiting[j] += 1
    keys = [_shape(stmt) for stmt in run]
    ready = [(keys[i], i) for i in range(len(run)) if waiting[i] == 0]
    heapq.heapify(ready)
    placed: list[int] = []
    while ready:
        _, i = heapq.heappop(ready)
        placed.append(i)
        for j in after[i]:
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(ready, (keys[j], j))
    new = [order[line] for i in placed for line in blocks[i]]
    order[first:first + len(new)] = new


def canonical(code: str) -> tuple[str, list[int]]:
    """``code`` with its lines in canonical order, and the written line of each."""
    order = canonical_order(code)
    lines = code.split("\n")
    return "\n".join(lines[i] for i in order), order


def _logical_lines(code: str) -> list[str]:
    """The code's logical lines (continuations joined), comments and blank lines left out."""
    try:
        out, current = [], []
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
                continue
            if tok.type == tokenize.NEWLINE:
                if current:
                    out.append(" ".join(current))
                current = []
            else:
                current.append(tok.string)
        if current:
            out.append(" ".join(current))
        return out
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return [" ".join(line.split()) for line in code.splitlines()
                if line.strip() and not line.strip().startswith("#")]


# --------------------------------------------------------------------------- one exercise


def _fingerprint(code: str):
    """copydetect's fingerprint of the code: Pygments tokens filtered (names V, strings S, no comments
    or spaces), every k-gram hashed."""
    from copydetect import CodeFingerprint

    return CodeFingerprint("answer.py", K, 1, fp=io.StringIO(code), language="python")


def boilerplate_hashes(shared: Iterable[str], reordered: bool = True) -> set:
    """Every fingerprint of the shared code, its lines as written (and in canonical order)."""
    texts = []
    for code in shared:
        texts += [code, canonical(code)[0]] if reordered else [code]
    return set(_fingerprint("\n".join(texts)).hashes)


def own_code(code: str, stub: str) -> tuple[str, list[int]]:
    """``code`` in canonical line order less the lines it keeps from the stub (the def line, the
    docstring, ``# YOUR CODE HERE``), and the written line of each line kept."""
    given = {line.strip() for line in stub.split("\n") if line.strip()}
    lines = code.split("\n")
    kept = [i for i in canonical_order(code) if lines[i].strip() not in given]
    return "\n".join(lines[i] for i in kept), kept


def prepare(answer: Answer, stub: str, stub_lines: set[str], solution_filtered: str, boilerplate: set) -> Answer:
    """Classify one answer and, when it is to be compared, keep its fingerprint less the boilerplate."""
    text = answer.text[:MAX_ANSWER_CHARS]
    answer.own_lines = sum(1 for line in _logical_lines(text) if line not in stub_lines)
    if answer.own_lines == 0:
        answer.kind = UNANSWERED
        return answer
    own, kept = own_code(text, stub)
    fp = _fingerprint(own)
    if not fp.filtered_code.strip():
        answer.kind = UNANSWERED
    elif fp.filtered_code == solution_filtered:
        answer.kind = SOLUTION
    else:
        answer.fingerprint, answer.line_of = fp, kept
        _drop(answer, boilerplate)
    return answer


def _drop(answer: Answer, hashes: set) -> None:
    """Remove fingerprints from a compared answer, then call it short when too little of its own is left.

    (copydetect's own boilerplate argument also deletes positions of unshared fingerprints when a
    k-gram repeats: it calls ``np.intersect1d(..., assume_unique=True)`` on hashes that repeat.)
    """
    from copydetect.utils import get_token_coverage

    fp = answer.fingerprint
    for h in fp.hashes & hashes:
        del fp.hash_idx[h]
    fp.hashes -= hashes
    fp.token_coverage = get_token_coverage(fp.hash_idx, K, len(fp.filtered_code))
    answer.kind = COMPARED if answer.own_lines >= MIN_OWN_LINES and fp.token_coverage >= MIN_OWN_TOKENS else SHORT


def _marks(fp, slices, line_of: list[int]) -> list[tuple[int, int, int]]:
    """copydetect's matched slices (offsets into the fingerprinted text) as (line, start, end) of the answer."""
    text = fp.raw_code
    starts = [0]
    for line in text.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    marks = []
    for begin, end in zip(slices[0], slices[1], strict=True):
        begin, end = int(begin), int(min(end, len(text)))
        line = max(0, _bisect(starts, begin))
        while begin < end and line < len(starts) - 1:
            stop = min(end, starts[line + 1] - 1)
            if stop > begin and not text[starts[line]:starts[line + 1]].lstrip().startswith("#"):
                marks.append((line_of[line], begin - starts[line], stop - starts[line]))
            line += 1
            begin = starts[line] if line < len(starts) else end
    return sorted(marks)


def _bisect(starts: list[int], offset: int) -> int:
    return bisect.bisect_right(starts, offset) - 1


def compare_answers(a: Answer, b: Answer) -> tuple[float, float, int, object]:
    """(share of a matched, share of b matched, tokens of a matched, copydetect's slices) for two answers."""
    from copydetect import compare_files

    if not (a.fingerprint.hashes & b.fingerprint.hashes):
        return 0.0, 0.0, 0, None
    matched, (sim_a, sim_b), slices = compare_files(a.fingerprint, b.fingerprint)
    return min(1.0, float(sim_a)), min(1.0, float(sim_b)), int(matched), slices


def compare_exercise(notebook: str, grade_id: str, answers: list[Answer], given: set, stub: str,
                     solution: str, threshold: float) -> tuple[list[PairMatch], list[tuple]]:
    """Classify every answer, compare the comparable ones pairwise; return flagged pairs and every score.

    ``given`` holds the fingerprints of the student edition's code cells (``boilerplate_hashes``);
    the stub and the solution are added to it. The second list holds (student a, student b,
    share of a, share of b, listed) for every compared pair that shares at least one fingerprint.
    """
    boilerplate = given | boilerplate_hashes([stub, solution])
    stub_lines = set(_logical_lines(stub))
    solution_filtered = _fingerprint(own_code(solution, stub)[0]).filtered_code
    for answer in answers:
        prepare(answer, stub, stub_lines, solution_filtered, boilerplate)
    compared = [a for a in answers if a.kind == COMPARED]
    seen = Counter(h for a in compared for h in a.fingerprint.hashes)
    common = {h for h, n in seen.items() if n > max(COMMON_MIN_ANSWERS, COMMON_SHARE * len(compared))}
    if common:
        for answer in compared:
            _drop(answer, common)
            if answer.kind == SHORT:
                answer.kind = COMMON
        compared = [a for a in compared if a.kind == COMPARED]
    index: dict[int, list[int]] = defaultdict(list)  # fingerprint -> answers that have it
    for n, answer in enumerate(compared):
        for h in answer.fingerprint.hashes:
            index[h].append(n)
    candidates = {(i, j) for owners in index.values() for i, j in combinations(owners, 2)}
    flagged, scores = [], []
    for i, j in sorted(candidates):
        a, b = compared[i], compared[j]
        sim_a, sim_b, matched, slices = compare_answers(a, b)
        listed = max(sim_a, sim_b) >= threshold and matched >= MIN_OWN_TOKENS
        scores.append((a.student_id, b.student_id, sim_a, sim_b, listed))
        if listed:
            flagged.append(PairMatch(notebook, grade_id, a.student_id, b.student_id, sim_a, sim_b, matched,
                                     a.text, b.text, _marks(a.fingerprint, slices[0], a.line_of),
                                     _marks(b.fingerprint, slices[1], b.line_of)))
    return flagged, scores


# --------------------------------------------------------------------------- the class


def compare_class(submissions: Iterable[Submission], course: dict[str, SourceNotebook],
                  threshold: float = SIMILARITY_THRESHOLD, solutions_dir: Path = SOLUTIONS_DIR) -> SimilarityReport:
    """Compare every exercise's answers between every pair of students who handed the notebook in.

    ``course`` gives each notebook's stubs and student-edition code; the solutions come from
    ``solutions_dir``. Files that cannot be read as notebooks are listed and left out.
    """
    from .samples import answers as solution_answers

    started = time.monotonic()
    unreadable = []
    by_exercise: dict[str, dict[str, list[Answer]]] = defaultdict(lambda: defaultdict(list))
    for sub in sorted(submissions, key=lambda s: (s.notebook, s.student_id)):
        if sub.path is None or sub.notebook not in course:
            continue
        try:
            cells = read_answers(sub.path, course[sub.notebook])
        except Exception:  # not a notebook (InvalidNotebook), unreadable, or odder: left out, never fatal
            unreadable.append((sub.student_id, sub.notebook))
            continue
        for grade_id, text in cells.items():
            by_exercise[sub.notebook][grade_id].append(Answer(sub.student_id, text))

    similar = SimilarityReport(threshold, [], [], {}, {}, {}, sorted(unreadable))
    totals: dict[tuple[str, str], _Total] = defaultdict(_Total)
    for notebook, exercises in sorted(by_exercise.items()):
        source = course[notebook]
        solutions = solution_answers(notebook, solutions_dir)
        given = boilerplate_hashes((c["source"] for c in source.release_cells  # listings and examples
                                    if c["cell_type"] == "code" and not c.get("grade_id")), reordered=False)
        stubs = {c["grade_id"]: c["source"] for c in source.release_cells if c.get("solution")}
        names = exercise_titles(source)
        for grade_id, group in sorted(exercises.items()):
            key = (notebook, grade_id)
            try:
                flagged, scores = compare_exercise(notebook, grade_id, group, given, stubs[grade_id],
                                                   solutions.get(grade_id, ""), threshold)
            except Exception as error:  # a fault of this stage costs one exercise's comparison, never the reports
                similar.failed.append((notebook, grade_id, f"{type(error).__name__}: {error}"))
                continue
            similar.pairs += flagged
            similar.compared_pairs += len(scores)
            similar.scored += [(notebook, grade_id, *score) for score in scores]
            similar.titles[key] = names.get(grade_id, grade_id)
            similar.kinds[key] = Counter(a.kind for a in group)
            similar.same_as_solution[key] = sorted(a.student_id for a in group if a.kind == SOLUTION)
            _add_up(totals, key, [a for a in group if a.kind == COMPARED], scores)
    similar.overall = sorted((StudentPair(a, b, t.compared, t.flagged, t.similarity)
                              for (a, b), t in totals.items() if t.flagged),
                             key=lambda p: (-len(p.flagged), -p.similarity, p.student_a, p.student_b))
    similar.pairs.sort(key=lambda p: (-p.similarity, p.notebook, p.grade_id, p.student_a, p.student_b))
    similar.seconds = time.monotonic() - started
    return similar


@dataclass
class _Total:
    """One pair of students, summed over the exercises where both answers were compared."""

    compared: int = 0
    flagged: list[tuple[str, str]] = field(default_factory=list)
    matched_a: float = 0.0  # own tokens of a that match b
    own_a: float = 0.0
    matched_b: float = 0.0
    own_b: float = 0.0

    @property
    def similarity(self) -> float:
        return max(self.matched_a / self.own_a if self.own_a else 0.0,
                   self.matched_b / self.own_b if self.own_b else 0.0)


def _add_up(totals: dict[tuple[str, str], _Total], key: tuple[str, str], compared: list[Answer],
            scores: list[tuple]) -> None:
    """Add one exercise to every pair of students whose answers to it were both compared."""
    found = {}
    for s_a, s_b, sim_a, sim_b, listed in scores:
        found[(s_a, s_b)], found[(s_b, s_a)] = (sim_a, sim_b, listed), (sim_b, sim_a, listed)
    by_student = {a.student_id: a for a in compared}
    for s_a, s_b in combinations(sorted(by_student), 2):
        sim_a, sim_b, listed = found.get((s_a, s_b), (0.0, 0.0, False))
        own_a, own_b = by_student[s_a].fingerprint.token_coverage, by_student[s_b].fingerprint.token_coverage
        total = totals[(s_a, s_b)]
        total.compared += 1
        total.flagged += [key] if listed else []
        total.matched_a += sim_a * own_a
        total.own_a += own_a
        total.matched_b += sim_b * own_b
        total.own_b += own_b
