"""The similarity report: copies are listed, independent answers and the solution are not.

No kernel runs here: a class of notebook-01 hand-ins is built from the student edition,
and the similarity stage and the report renderer are called directly.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import nbformat
import pytest

from autograder import report, samples, similarity
from autograder.cli import build_parser
from autograder.collect import Collection, collect
from autograder.model import NotebookResult, Status, nbgrader_meta
from autograder.settings import NOTEBOOKS_DIR, SIMILARITY_THRESHOLD
from tests.course import source_numbered

NB = source_numbered("01").name
EXERCISES = [f"nb01_ex{i}_solution" for i in range(1, 6)]
COPIED = {"nb01_ex2_solution", "nb01_ex3_solution", "nb01_ex5_solution"}  # the own-words answers of 3+ lines
MARKER = "similarity-ran-student-code"


def _answer(nb: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == grade_id)


def broken_copy() -> nbformat.NotebookNode:
    """Ana's exercise 2 with a parenthesis missing (it does not parse); the rest unanswered."""
    nb = samples.blank(NB)
    code = samples.OWN_WORDS[NB]["a"]["nb01_ex2_solution"]
    _answer(nb, "nb01_ex2_solution").source = code.replace("tf.shape(x, out_type=tf.int64))", "tf.shape(x")
    return nb


def one_liners() -> nbformat.NotebookNode:
    """Every exercise answered in one line of the student's own (two students hand in the same)."""
    nb = samples.blank(NB)
    lines = {
        "nb01_ex1_solution": "return tf.zeros(shape, dtype) + tf.constant(value, dtype)",
        "nb01_ex2_solution": "return tf.tensor_scatter_nd_update(x, [list(index)], tf.cast([value], x.dtype))",
        "nb01_ex3_solution": "return (x - tf.reduce_mean(x, 0)) / tf.math.reduce_std(x, 0)",
        "nb01_ex4_solution": "return tf.maximum(tf.matmul(x, W) + b, 0)",
        "nb01_ex5_solution": "return tf.norm(a[:, None, :] - b[None, :, :], axis=-1)",
    }
    for grade_id, line in lines.items():
        cell = _answer(nb, grade_id)
        cell.source = cell.source.replace("# YOUR CODE HERE\n    raise NotImplementedError()", line)
    return nb


def empty_cells() -> nbformat.NotebookNode:
    nb = samples.blank(NB)
    for grade_id in EXERCISES:
        _answer(nb, grade_id).source = ""
    return nb


def would_write_a_file(marker: Path) -> nbformat.NotebookNode:
    """Answers that write a file if anything ever ran them."""
    nb = samples.blank(NB)
    for grade_id in EXERCISES:
        _answer(nb, grade_id).source = f"open({str(marker)!r}, 'w').write('ran')\n" + _answer(nb, grade_id).source
    return nb


def build_class(root: Path) -> dict[str, nbformat.NotebookNode]:
    a = samples.in_own_words(NB, "a")
    hand_ins = {
        "ana": a,  # the original
        "ben": a,  # a true copy: the same file
        "cho": samples.saved_by_colab(samples.disguised(a)),  # renamed (in Korean), recommented, reordered, Colab
        "eun": samples.in_own_words(NB, "b"),  # independent, Korean names
        "fay": samples.in_own_words(NB, "c"),  # independent
        "gus": samples.disguised(samples.in_own_words(NB, "c")),  # fay's, disguised: the layout of tuples changes too
        "gil": samples.perfect(NB),  # the solution verbatim
        "han": samples.perfect(NB),
        "ivy": samples.disguised(samples.perfect(NB)),  # the solution renamed and recommented
        "jin": samples.blank(NB),  # unanswered
        "kim": one_liners(),
        "lee": one_liners(),
        "nam": broken_copy(),
        "oli": empty_cells(),
        "pat": would_write_a_file(root / MARKER),
    }
    for student, nb in hand_ins.items():
        samples.write(nb, root / "class" / student / NB)
    return hand_ins


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Collection, similarity.SimilarityReport]:
    root = tmp_path_factory.mktemp("similarity")
    build_class(root)
    collection = collect(root / "class", [NB], root / "unpacked")
    course = {NB: similarity.release_source(NOTEBOOKS_DIR / NB)}
    return root, collection, similarity.compare_class(collection.submissions, course)


def listed(similar: similarity.SimilarityReport) -> set[tuple[str, str, str]]:
    return {(m.grade_id, m.student_a, m.student_b) for m in similar.pairs}


def test_copies_are_listed_and_nothing_else(klass) -> None:
    _, _, similar = klass
    copies = {(g, a, b) for g in COPIED for a, b in (("ana", "ben"), ("ana", "cho"), ("ben", "cho"), ("fay", "gus"))}
    broken = {("nb01_ex2_solution", a, "nam") for a in ("ana", "ben", "cho")}
    assert listed(similar) == copies | broken
    assert all(m.similarity >= SIMILARITY_THRESHOLD for m in similar.pairs)
    true_copy = [m for m in similar.pairs if {m.student_a, m.student_b} == {"ana", "ben"}]
    assert all(m.similarity_a == m.similarity_b == 1.0 for m in true_copy)


def test_a_disguised_copy_is_found_despite_new_names_comments_order_and_colab(klass) -> None:
    _, _, similar = klass
    disguised = {m.grade_id: m for m in similar.pairs if (m.student_a, m.student_b) == ("ana", "cho")}
    assert set(disguised) == COPIED
    assert all(m.similarity == 1.0 for m in disguised.values())
    relaid = [m for m in similar.pairs if (m.student_a, m.student_b) == ("fay", "gus")]
    assert min(m.similarity for m in relaid) >= 0.7  # `n, m = ...` became `(값, 결과) = (...)`: still listed
    ex2 = disguised["nb01_ex2_solution"]
    assert "결과" in ex2.text_b  # Korean names instead of ana's
    marked_b = {line for line, _, _ in ex2.marks_b}
    code_lines = {i for i, line in enumerate(ex2.text_b.split("\n"))
                  if line.strip() and not line.strip().startswith(("#", "def ", '"""'))}
    assert code_lines <= marked_b  # every line of cho's own code is marked as matching ana's


def test_the_solution_is_listed_apart_and_never_paired(klass) -> None:
    _, _, similar = klass
    for grade_id in EXERCISES:
        assert similar.same_as_solution[(NB, grade_id)] == ["gil", "han", "ivy"]
    paired = {s for m in similar.pairs for s in (m.student_a, m.student_b)}
    assert not paired & {"gil", "han", "ivy"}


def test_no_false_alarm_from_independent_korean_short_empty_or_unanswered_answers(klass) -> None:
    _, _, similar = klass
    paired = {s for m in similar.pairs for s in (m.student_a, m.student_b)}
    assert not paired & {"eun", "jin", "kim", "lee", "oli", "pat"}
    with_fay = {(m.student_a, m.student_b) for m in similar.pairs if "fay" in (m.student_a, m.student_b)}
    assert with_fay == {("fay", "gus")}  # fay wrote her own answers; only gus copied them
    for grade_id in EXERCISES:
        kinds = similar.kinds[(NB, grade_id)]
        assert kinds[similarity.UNANSWERED] >= 2 + (grade_id != "nb01_ex2_solution")  # jin, oli, nam but in ex2
        assert kinds[similarity.SHORT] >= 3  # kim and lee (one line each), pat (one line that was never run)
    overall = {(p.student_a, p.student_b): p for p in similar.overall}
    assert set(overall) == {("ana", "ben"), ("ana", "cho"), ("ben", "cho"), ("ana", "nam"), ("ben", "nam"),
                            ("cho", "nam"), ("fay", "gus")}
    assert (len(overall[("ana", "ben")].flagged), overall[("ana", "ben")].compared) == (3, 3)


def test_student_code_is_only_read_never_run(klass) -> None:
    root, _, similar = klass
    assert not (root / MARKER).exists()
    assert similar.unreadable == []


def test_canonical_order_undoes_reordered_independent_lines_only() -> None:
    written = "def f(x, y):\n    a = x * 2\n    # the other one\n    b = y + 1\n    return a - b\n"
    swapped = "def f(x, y):\n    b = y + 1\n    a = x * 2\n    return a - b\n"
    assert similarity.own_code(written, "")[0].replace("    # the other one\n", "") == \
        similarity.own_code(swapped, "")[0]
    dependent = "def f(x):\n    a = x * 2\n    b = a + 1\n    return b\n"
    assert similarity.canonical_order(dependent) == list(range(5))
    method = "def g(W, b, gW, gb):\n    W.assign_sub(gW)\n    loss = tf.reduce_sum(W)\n    return loss\n"
    assert similarity.canonical_order(method) == list(range(5))  # W.assign_sub changes W: read after it
    assert similarity.canonical_order("def broken(:\n  b = 1\n  a = 2\n") == [0, 1, 2, 3]


def test_korean_names_are_names_to_the_tokenizer() -> None:
    english = similarity._fingerprint("mean = tf.reduce_mean(x)\nreturn x - mean").filtered_code
    korean = similarity._fingerprint("평균 = tf.reduce_mean(x)\nreturn x - 평균").filtered_code
    assert korean == english == "V=V.V(V)returnV-V"


def test_odd_answers_do_not_stop_the_report() -> None:
    odd = ["\x00\x00", "(" * 5000, "x = 1\n" * 50_000, "%timeit f(1)\n!pip install foo\n", "def f(:\n\tpass"]
    answers = [similarity.Answer(f"s{i}", code) for i, code in enumerate(odd + odd)]
    flagged, _ = similarity.compare_exercise(NB, "nb01_ex1_solution", answers, set(), "", "", 0.5)
    assert {a.kind for a in answers} <= {similarity.UNANSWERED, similarity.SHORT, similarity.COMPARED}
    assert isinstance(flagged, list)


def test_a_fault_of_the_stage_costs_one_exercise_not_the_report(klass, monkeypatch: pytest.MonkeyPatch) -> None:
    _, collection, _ = klass
    real = similarity.compare_exercise

    def failing(notebook, grade_id, *args):
        if grade_id == "nb01_ex3_solution":
            raise RuntimeError("boom")
        return real(notebook, grade_id, *args)

    monkeypatch.setattr(similarity, "compare_exercise", failing)
    similar = similarity.compare_class(collection.submissions, {NB: similarity.release_source(NOTEBOOKS_DIR / NB)})
    assert similar.failed == [(NB, "nb01_ex3_solution", "RuntimeError: boom")]
    assert {m.grade_id for m in similar.pairs} == COPIED - {"nb01_ex3_solution"}
    assert "boom" in "".join(report.similarity_section(similar))


def test_report_section_and_csv_say_it_never_changes_a_grade(klass, tmp_path: Path) -> None:
    _, collection, similar = klass
    result = NotebookResult("ana", NB, Status.OK, score=7.0, max_score=10.0)
    course = {NB: similarity.release_source(NOTEBOOKS_DIR / NB)}
    paths = report.write_all(tmp_path, [result], course, collection, {"sandbox": "bwrap"}, similar)
    page = paths["report"].read_text(encoding="utf-8")
    section = page.split('id="similarity"', 1)[1].split("<h2>", 1)[0]
    assert "점수를 바꾸지 않습니다" in section and "never changes a grade" in section
    assert section.count("<details>") == len(similar.pairs) and "<mark>" in section
    assert re.search(r"identical to the instructor.s solution", section)
    with open(paths["csv"], encoding="utf-8") as f:
        assert [r["score"] for r in csv.DictReader(f)] == ["7"]  # the grade as scored
    with open(paths["similarity"], encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["scope"] for r in rows} == {"overall", "exercise", "same_as_solution"}
    assert sum(r["scope"] == "exercise" for r in rows) == len(similar.pairs)
    assert "Not run this time" in "".join(report.similarity_section(None))


def test_command_line_sets_or_turns_off_the_threshold() -> None:
    parser = build_parser()
    assert parser.parse_args(["grade", "x", "--out", "o"]).similarity_threshold == SIMILARITY_THRESHOLD
    assert parser.parse_args(["grade", "x", "--out", "o", "--similarity-threshold", "0.8"]).similarity_threshold == 0.8
    assert parser.parse_args(["grade", "x", "--out", "o", "--no-similarity"]).no_similarity
    with pytest.raises(SystemExit):
        parser.parse_args(["grade", "x", "--out", "o", "--similarity-threshold", "0"])
