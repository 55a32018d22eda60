"""Realistic student submissions, built from the course notebooks.

The bundled sample class (``data/sample_class``), the grader's tests and the benchmark
all use these builders, so that every fixture follows the notebooks when they change.
Each builder starts from the student edition a student would download and changes it
the way students (and Google Colab) do.
"""

from __future__ import annotations

import ast
import copy
import json
import re
from collections.abc import Callable
from pathlib import Path

import nbformat

from .model import nbgrader_meta
from .settings import NOTEBOOKS_DIR, SOLUTIONS_DIR

SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.M)


def student_edition(name: str, notebooks_dir: Path = NOTEBOOKS_DIR) -> nbformat.NotebookNode:
    return nbformat.read(notebooks_dir / name, as_version=4)


def answers(name: str, solutions_dir: Path = SOLUTIONS_DIR) -> dict[str, str]:
    """grade_id of each solution cell -> the instructor's answer as a student would type it."""
    nb = nbformat.read(solutions_dir / name, as_version=4)
    return {nbgrader_meta(c)["grade_id"]: SOLUTION_MARKERS.sub("", c.source)
            for c in nb.cells if nbgrader_meta(c).get("solution")}


def solution_ids(nb: nbformat.NotebookNode) -> list[str]:
    return [nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c).get("solution")]


def solved(name: str, which: Callable[[int, str], bool] = lambda i, gid: True) -> nbformat.NotebookNode:
    """The student edition with the exercises chosen by ``which(index, grade_id)`` answered."""
    nb = student_edition(name)
    right = answers(name)
    index = 0
    for cell in nb.cells:
        if nbgrader_meta(cell).get("solution"):
            if which(index, nbgrader_meta(cell)["grade_id"]):
                cell.source = right[nbgrader_meta(cell)["grade_id"]]
            index += 1
    return nb


def perfect(name: str) -> nbformat.NotebookNode:
    return solved(name)


def partial(name: str, answered: int) -> nbformat.NotebookNode:
    """The first ``answered`` exercises answered, the rest left as stubs."""
    return solved(name, lambda i, gid: i < answered)


def blank(name: str) -> nbformat.NotebookNode:
    return student_edition(name)


def saved_by_colab(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What Colab may hand back: nbgrader metadata gone, Colab's own notebook and cell metadata."""
    nb = copy.deepcopy(nb)
    nb.metadata = {"colab": {"provenance": [], "name": "student copy"}, "kernelspec": {
        "name": "python3", "display_name": "Python 3"}, "language_info": {"name": "python"}, "accelerator": "GPU"}
    for i, cell in enumerate(nb.cells):
        cell.metadata = {"id": f"cell{i:03d}"}
        if cell.cell_type == "code":
            cell.outputs = [{"output_type": "stream", "name": "stdout", "text": "ran in Colab\n"}]
            cell.execution_count = i + 1
    return nb


def tampered(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Every test cell emptied of its assertions, and 100 points claimed for it."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade"):
            cell.source = "pass  # tests removed"
            cell.metadata["nbgrader"]["points"] = 100
    return nb


def reshuffled(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Cells moved, duplicated, deleted and added the way a messy notebook ends up."""
    nb = copy.deepcopy(nb)
    tests = [i for i, c in enumerate(nb.cells) if nbgrader_meta(c).get("grade")]
    solutions = [i for i, c in enumerate(nb.cells) if nbgrader_meta(c).get("solution")]
    del nb.cells[tests[-1]]  # the last test cell deleted (last first: earlier indices stay valid)
    nb.cells.insert(solutions[1] + 1, copy.deepcopy(nb.cells[solutions[1]]))  # an answer duplicated
    moved = nb.cells.pop(tests[0])  # the first test cell moved above its answer
    nb.cells.insert(solutions[0], moved)
    nb.cells.insert(2, nbformat.v4.new_code_cell("scratch = [i * i for i in range(10)]\nprint(sum(scratch))",
                                                 id="added-scratch"))
    nb.cells.append(nbformat.v4.new_markdown_cell("제 메모: 다시 볼 것", id="added-note"))
    return nb


def chatty_on_stderr(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Correct answers whose functions also write debugging lines to stderr (as logging does)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if not nbgrader_meta(cell).get("solution"):
            continue
        names = re.findall(r"^def (\w+)\(", cell.source, re.M)
        for name in names:
            cell.source += (f"\n\nimport sys as _sys\n_{name}_quiet = {name}\n\n"
                            f"def {name}(*args, **kwargs):\n"
                            f"    print('debug: {name} called', file=_sys.stderr)\n"
                            f"    return _{name}_quiet(*args, **kwargs)\n")
    return nb


def with_cell(nb: nbformat.NotebookNode, code: str, after_setup: bool = True) -> nbformat.NotebookNode:
    """Insert a code cell right after the setup cell (or at the end)."""
    nb = copy.deepcopy(nb)
    cell = nbformat.v4.new_code_cell(code, id="added-cell")  # a fixed id keeps the sample files reproducible
    if after_setup:
        nb.cells.insert(2, cell)
    else:
        nb.cells.append(cell)
    return nb


def with_megabytes_of_output(nb: nbformat.NotebookNode, megabytes: int = 5) -> nbformat.NotebookNode:
    """A notebook carrying megabytes of stored output, as after printing a huge array."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            text = "0123456789" * (megabytes * 2**20 // 10)
            cell.outputs = [{"output_type": "stream", "name": "stdout", "text": text}]
            break
    return nb


def with_duplicated_grade_cells(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Every graded cell pasted twice: the case that aborts a whole nbgrader batch (issue #1083)."""
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if nbgrader_meta(cell).get("grade"):
            cells.append(copy.deepcopy(cell))
    nb.cells = cells
    return nb


# Notebook 01 answered in three students' own words: correct answers (the hidden tests accept them)
# written differently from the solution and from each other. Student "b" names things in Korean.
# The sample class, the similarity tests and the similarity benchmark use them.
_NB01_STUBS = {
    "nb01_ex1_solution": 'def make_filled(shape, value, dtype=tf.float32):\n'
                         '    """Return a tensor of the given shape and dtype whose elements all equal `value`."""\n',
    "nb01_ex2_solution": 'def with_value_at(x, index, value):\n'
                         '    """Return a new tensor equal to `x` except that position `index` holds `value`."""\n',
    "nb01_ex3_solution": 'def standardize(x):\n'
                         '    """Return (x - column mean) / column std for a 2D tensor x of shape (n, d)."""\n',
    "nb01_ex4_solution": 'def dense_relu(x, W, b):\n'
                         '    """Forward pass of a dense layer with ReLU: relu(x @ W + b)."""\n',
    "nb01_ex5_solution": 'def pairwise_distances(a, b):\n'
                         '    """Euclidean distances between every row of a (n, d) and every row of b (m, d): '
                         'shape (n, m)."""\n',
}
_NB01_BODIES = {
    "a": {
        "nb01_ex1_solution": """\
    # a tensor of ones times the value, both in the requested dtype
    filler = tf.cast(value, dtype)
    return tf.ones(shape, dtype=dtype) * filler
""",
        "nb01_ex2_solution": """\
    # 1 at `index`, 0 elsewhere: keep x where the mask is 0, put the value where it is 1
    spot = tf.constant([index], dtype=tf.int64)
    mask = tf.scatter_nd(spot, tf.ones([1], dtype=x.dtype), tf.shape(x, out_type=tf.int64))
    new_value = tf.cast(value, x.dtype)
    return x * (1 - mask) + new_value * mask
""",
        "nb01_ex3_solution": """\
    n = tf.cast(tf.shape(x)[0], x.dtype)
    centered = x - tf.reduce_sum(x, axis=0) / n       # subtract the column means
    variance = tf.reduce_sum(centered ** 2, axis=0) / n
    return centered / tf.sqrt(variance)
""",
        "nb01_ex4_solution": """\
    z = tf.matmul(x, W) + b
    return tf.maximum(z, tf.zeros_like(z))
""",
        "nb01_ex5_solution": """\
    # (n, 1, d) - (1, m, d) broadcasts to (n, m, d): every row of a minus every row of b
    diff = tf.expand_dims(a, 1) - tf.expand_dims(b, 0)
    squared = tf.reduce_sum(diff * diff, axis=-1)
    return tf.sqrt(squared)
""",
    },
    "b": {
        "nb01_ex1_solution": """\
    return tf.zeros(shape, dtype=dtype) + tf.cast(value, dtype)
""",
        "nb01_ex2_solution": """\
    # 바꿀 위치만 1인 마스크
    마스크 = tf.scatter_nd([list(index)], [1], tf.shape(x))
    유지 = tf.cast(1 - 마스크, x.dtype)
    새값 = tf.cast(value, x.dtype)
    return x * 유지 + 새값 * (1 - 유지)
""",
        "nb01_ex3_solution": """\
    평균 = tf.reduce_mean(x, axis=0)
    편차 = x - 평균
    표준편차 = tf.sqrt(tf.reduce_mean(편차 * 편차, axis=0))
    return 편차 / 표준편차
""",
        "nb01_ex4_solution": """\
    return tf.nn.relu(x @ W + b)
""",
        "nb01_ex5_solution": """\
    a제곱 = tf.reduce_sum(a * a, axis=1)[:, tf.newaxis]    # (n, 1)
    b제곱 = tf.reduce_sum(b * b, axis=1)[tf.newaxis, :]    # (1, m)
    내적 = a @ tf.transpose(b)                              # (n, m)
    거리제곱 = tf.nn.relu(a제곱 - 2 * 내적 + b제곱)          # 반올림 오차로 생긴 음수는 0으로
    return tf.sqrt(거리제곱)
""",
    },
    "c": {
        "nb01_ex1_solution": """\
    # tf.fill takes the value's dtype, so make the value in the right dtype first
    element = tf.constant(value, dtype=dtype)
    return tf.fill(shape, element)
""",
        "nb01_ex2_solution": """\
    # flatten, replace one element through a one-hot vector, and reshape back
    strides = tf.math.cumprod(tf.shape(x), exclusive=True, reverse=True)
    position = tf.reduce_sum(tf.constant(index, dtype=tf.int32) * strides)
    hot = tf.one_hot(position, tf.size(x), dtype=x.dtype)
    flat = tf.reshape(x, [-1]) * (1 - hot) + tf.cast(value, x.dtype) * hot
    return tf.reshape(flat, tf.shape(x))
""",
        "nb01_ex3_solution": """\
    mean, variance = tf.nn.moments(x, axes=[0], keepdims=True)
    std = tf.sqrt(variance)
    return (x - mean) / std
""",
        "nb01_ex4_solution": """\
    pre_activation = tf.add(tf.matmul(x, W), b)
    activated = tf.nn.relu(pre_activation)
    return activated
""",
        "nb01_ex5_solution": """\
    n, m = tf.shape(a)[0], tf.shape(b)[0]
    a_tiled = tf.tile(tf.expand_dims(a, 1), [1, m, 1])   # (n, m, d)
    b_tiled = tf.tile(tf.expand_dims(b, 0), [n, 1, 1])   # (n, m, d)
    return tf.norm(a_tiled - b_tiled, axis=2)
""",
    },
}
OWN_WORDS = {"01_tensors.ipynb": {style: {gid: _NB01_STUBS[gid] + body for gid, body in bodies.items()}
                                  for style, bodies in _NB01_BODIES.items()}}


def in_own_words(name: str, style: str, which: Callable[[int, str], bool] = lambda i, gid: True
                 ) -> nbformat.NotebookNode:
    """The student edition with the exercises chosen by ``which`` answered in ``style``'s own words."""
    nb = student_edition(name)
    mine = OWN_WORDS[name][style]
    for index, cell in enumerate(c for c in nb.cells if nbgrader_meta(c).get("solution")):
        if which(index, nbgrader_meta(cell)["grade_id"]):
            cell.source = mine[nbgrader_meta(cell)["grade_id"]]
    return nb


COPIER_NAMES = ["값", "결과", "임시", "중간값", "합", "차이", "비율", "행렬", "벡터", "거리"]


def disguise(code: str) -> str:
    """A classmate's answer as a copier hands it in: local names changed (to Korean ones), the first
    two independent assignments swapped, comments dropped and new ones written, layout redone.

    Code that does not parse comes back with its comments replaced only.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return "# 내가 풀었음\n" + re.sub(r"\s*#.*$", "", code, flags=re.M)
    renames: dict[str, str] = {}
    for func in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        params = {a.arg for a in func.args.posonlyargs + func.args.args + func.args.kwonlyargs}
        for node in ast.walk(func):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id not in params:
                n = len(renames)
                renames.setdefault(node.id, COPIER_NAMES[n] if n < len(COPIER_NAMES) else f"값{n}")
        for first, second in zip(func.body, func.body[1:], strict=False):
            if isinstance(first, ast.Assign) and isinstance(second, ast.Assign):
                written = {n.id for t in first.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
                read = {n.id for n in ast.walk(second.value) if isinstance(n, ast.Name)}
                if not written & read:
                    at = func.body.index(first)
                    func.body[at], func.body[at + 1] = second, first
                    break
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in renames:
            node.id = renames[node.id]
    out = []
    for line in ast.unparse(tree).split("\n"):
        if line.lstrip().startswith("return "):
            out.append(line[:len(line) - len(line.lstrip())] + "# 결과를 돌려준다")
        out.append(line)
    return "\n".join(out) + "\n"


def disguised(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Every answer of a (classmate's) notebook disguised (see ``disguise``)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if nbgrader_meta(cell).get("solution"):
            cell.source = disguise(cell.source)
    return nb


def write(nb: nbformat.NotebookNode, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path
