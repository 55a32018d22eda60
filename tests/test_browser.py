"""The student's and the instructor's path in a real browser.

A real JupyterLab from this project's environment, Debian's Chromium driven by Playwright,
the real grader and nbgrader's formgrader; nothing is mocked. Screenshots land in
build/browser/ for a person to look at.

- The student opens every notebook in JupyterLab and runs all of it: only the unsolved
  exercises fail. Then she types a typical wrong answer to one exercise, reads the Korean
  message of its self-check, fixes the answer, sees the Korean success line, saves, and the
  grader gives the saved file exactly that exercise's points.
- The instructor grades the sample class (notebook 01), opens report.html (its plots load),
  a Korean feedback page from it (drawn with a real Korean font), and the formgrader in
  JupyterLab on the grader's gradebook, which lists every graded student with their score.
"""

from __future__ import annotations

import ast
import csv
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest

from autograder import samples
from autograder.model import is_test_cell
from autograder.settings import NOTEBOOKS_DIR, REPO_ROOT, SAMPLE_CLASS_DIR, SOLUTIONS_DIR
from tests.browser import (
    ARTEFACTS,
    CELLS,
    CLOSE_AND_SHUT_DOWN,
    HANGUL_GLYPHS,
    KERNEL_READY,
    LAB_RESTORED,
    RUN_ALL_ABOVE,
    RUN_ALL_BELOW,
    SAVED,
    SCROLL_TO_CELL,
    JupyterLab,
    launch_chromium,
    platform_fonts,
    require_browser,
    require_korean_font,
)
from tests.course import HIDDEN_MARKER, nbgrader_meta, read, source_paths, student_path

pytestmark = [pytest.mark.e2e, pytest.mark.notebook]

SOURCES = source_paths()
IDS = [p.stem for p in SOURCES]
HANGUL = re.compile(r"[\uac00-\ud7a3]")
RUN_TIMEOUT_MS = 300_000  # one "run all below", the slowest notebook included

# The exercise the student solves in the browser, and the mistake she makes first
# (a typical one: the dtype argument is ignored, so the visible int32 check fails).
NOTEBOOK, EXERCISE = "01_tensors.ipynb", "nb01_ex1_solution"
TYPICAL_MISTAKE = '''def make_filled(shape, value, dtype=tf.float32):
    """Return a tensor of the given shape and dtype whose elements all equal `value`."""
    return tf.ones(shape) * value
'''


# --- fixtures: one Chromium, one JupyterLab for the student, one graded class for the instructor ---

@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    require_browser()
    from playwright.sync_api import sync_playwright

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = launch_chromium(playwright, tmp_path_factory.mktemp("chromium-profile"))
        context.set_default_timeout(60_000)
        yield context
        context.close()


@pytest.fixture(scope="module")
def lab(chromium, tmp_path_factory):
    """JupyterLab on a folder holding copies of the student editions, and a page with it loaded."""
    root = tmp_path_factory.mktemp("student")
    for source in SOURCES:
        shutil.copy(student_path(source), root / source.name)
    server = JupyterLab(root, tmp_path_factory.mktemp("student-jupyter"))
    page = chromium.new_page()
    try:
        page.goto(server.link("/lab?reset"))
        page.wait_for_function(LAB_RESTORED)
        yield server, page
    finally:
        page.close()
        server.stop()


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory) -> Path:
    """The sample class's notebook 01 graded by the grader's command line, as an instructor runs it."""
    out = tmp_path_factory.mktemp("instructor") / "out"
    grade(SAMPLE_CLASS_DIR, out)
    return out


# --- helpers ---

def grade(submissions: Path, out: Path) -> None:
    """``python -m autograder grade`` on notebook 01 only (grading all six would take minutes on two cores)."""
    command = [sys.executable, "-m", "autograder", "grade", str(submissions), "--out", str(out),
               "--notebook", Path(NOTEBOOK).stem, "--jobs", "2"]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"`{' '.join(command[1:])}` failed ({done.returncode}):\n{done.stdout}{done.stderr}"


def grades(out: Path) -> list[dict[str, str]]:
    with open(out / "grades.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def open_notebook(server: JupyterLab, page, name: str) -> None:
    """Double-click the notebook in JupyterLab's file browser and wait for its kernel."""
    page.locator(".jp-DirListing-item", has=page.locator(".jp-DirListing-itemText", has_text=name)).dblclick()
    try:
        page.wait_for_function(KERNEL_READY, arg=name, timeout=120_000, polling=250)
    except Exception as error:
        raise AssertionError(f"{name}: its kernel never became ready in JupyterLab ({error}).\n"
                             f"JupyterLab log:\n{server.log_tail()}") from None


def first_unrun_code_cell(cells: list[dict], start: int) -> int | None:
    """The first code cell from `start` on that has not run (the student editions start with none run)."""
    return next((c["index"] for c in cells[start:] if c["type"] == "code" and c["execution_count"] is None), None)


def run_every_cell(page, name: str) -> list[dict]:
    """Run all, as a student does: Jupyter stops at a failing cell, so go on below it until the end.

    After a failing cell, ipykernel 7 aborts the requests that reach it before it stops aborting
    (a race between its shell thread and the next request). A run that ends with no failing cell
    below it but with a cell that never ran was aborted that way: go on from that cell, as a
    student who presses Run again does. A run that ends with no cell aborted and none failed is
    a real fault (the kernel restarted, say).
    """
    start, aborted_runs = 0, 0
    for _ in range(2 * len(page.evaluate(CELLS, name)) + 1):
        finished = page.evaluate(RUN_ALL_BELOW, [name, start, RUN_TIMEOUT_MS])
        cells = page.evaluate(CELLS, name)
        if finished:
            return cells
        failed = [c["index"] for c in cells[start:] if c["errors"]]
        if failed:
            start = failed[0] + 1
        else:
            unrun = first_unrun_code_cell(cells, start)
            aborted_runs += 1
            assert unrun is not None and aborted_runs <= 3, (
                f"{name}: the run from cell {start} stopped though no cell below it failed "
                f"and none was left unrun (kernel restarted?)")
            time.sleep(1)
            start = unrun
        if start == len(cells):
            return cells
    raise AssertionError(f"{name}: running every cell did not come to an end")


def is_answer(cell: dict) -> bool:
    return bool(cell["nbgrader"].get("solution"))


def is_check(cell: dict) -> bool:
    """A self-check: a graded test cell, by the grader's own definition."""
    return is_test_cell({"cell_type": cell["type"], "metadata": {"nbgrader": cell["nbgrader"]}})


def cell_index(cells: list[dict], grade_id: str) -> int:
    return next(c["index"] for c in cells if c["nbgrader"].get("grade_id") == grade_id)


def screenshot_cell(page, name: str, index: int, file: str) -> Path:
    page.evaluate(SCROLL_TO_CELL, [name, index])
    page.wait_for_timeout(300)  # let the scroll settle before the picture
    path = ARTEFACTS / file
    page.screenshot(path=path)
    return path


def shown_cell(page, index: int):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(index)


def output_area(page, index: int):
    return shown_cell(page, index).locator(".jp-OutputArea-output").last.element_handle()


def type_into_cell(page, index: int, text: str) -> None:
    """Click into the cell's editor, select everything in it and type ``text`` over it."""
    editor = shown_cell(page, index).locator(".cm-content")
    editor.scroll_into_view_if_needed()
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(text)  # as typed; insert_text skips the editor's auto-indent of each new line


def run_with_shift_enter(page, name: str, index: int) -> dict:
    """Shift+Enter on the selected cell, then wait until its new execution count shows."""
    before = page.evaluate(CELLS, name)[index]["execution_count"]
    page.keyboard.press("Shift+Enter")
    deadline = time.monotonic() + RUN_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        cell = page.evaluate(CELLS, name)[index]
        if cell["execution_count"] not in (None, before):
            return cell
        page.wait_for_timeout(200)
    raise AssertionError(f"{name}: cell {index} did not finish running after Shift+Enter")


def success_line(check_source: str) -> str:
    """The line a self-check prints when it passes: its last print of a string literal."""
    tree = ast.parse(check_source.split(HIDDEN_MARKER, 1)[0])
    printed = [node.args[0].value for node in ast.walk(tree) if isinstance(node, ast.Call)
               and getattr(node.func, "id", "") == "print" and node.args and isinstance(node.args[0], ast.Constant)]
    assert printed, "the self-check prints no success message"
    return printed[-1]


def korean_glyphs(page, element) -> dict:
    """How the element's Korean text is drawn (HANGUL_GLYPHS), with the fonts Chromium used when in doubt."""
    glyphs = page.evaluate(HANGUL_GLYPHS, element)
    if glyphs["distinct_images"] != len(glyphs["syllables"]):
        element.evaluate("e => e.setAttribute('data-font-probe', '')")
        glyphs["drawn_with"] = platform_fonts(page, "[data-font-probe]")
    return glyphs


def assert_drawn_with_a_korean_font(glyphs: dict, what: str) -> None:
    """Last in a test: on a machine without any Korean font it skips (fails in CI)."""
    assert len(glyphs["syllables"]) >= 4, f"{what}: expected Korean text, found {glyphs}"
    require_korean_font()
    assert glyphs["distinct_images"] == len(glyphs["syllables"]), (
        f"{what}: the Korean syllables {glyphs['syllables']!r} are drawn as identical boxes "
        f"(font-family {glyphs['font_family']}; Chromium drew them with {glyphs.get('drawn_with')})")


# --- the student ---

@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_student_runs_every_cell_in_jupyterlab_and_only_the_unsolved_exercises_fail(lab, source: Path) -> None:
    server, page = lab
    name = source.name
    open_notebook(server, page, name)
    cells = run_every_cell(page, name)
    first_check = next(c["index"] for c in cells if is_check(c))
    screenshot_cell(page, name, first_check, f"jupyterlab_{source.stem}.png")
    page.evaluate(CLOSE_AND_SHUT_DOWN, name)

    assert len(cells) == len(read(student_path(source)).cells), f"{name}: the page does not show every cell"
    never_ran = [c["index"] for c in cells if c["type"] == "code" and c["execution_count"] is None]
    assert not never_ran, f"{name}: cells {never_ran} never ran"
    failing = [c for c in cells if c["errors"]]
    outside = {c["index"]: c["errors"] for c in failing if not (is_answer(c) or is_check(c))}
    assert not outside, f"{name}: cells outside the exercises fail in JupyterLab: {outside}"
    stubs = {c["index"]: c["errors"] for c in failing if is_answer(c)
             and not all(e.startswith("NotImplementedError") for e in c["errors"])}
    assert not stubs, f"{name}: an unsolved answer cell fails with something other than NotImplementedError: {stubs}"
    passing_checks = [c["nbgrader"]["grade_id"] for c in cells if is_check(c) and not c["errors"]]
    assert not passing_checks, f"{name}: self-checks pass with no answer: {passing_checks}"
    unseen = [c["index"] for c in failing if c["errors"][0].split(":")[0] not in c["shown"]]
    assert not unseen, f"{name}: the page shows no error under the failing cells {unseen}"


def test_student_fixes_a_wrong_answer_saves_and_the_grader_gives_exactly_that_exercises_points(
        lab, tmp_path: Path) -> None:
    server, page = lab
    open_notebook(server, page, NOTEBOOK)
    cells = page.evaluate(CELLS, NOTEBOOK)
    answer = cell_index(cells, EXERCISE)
    check = next(c["index"] for c in cells[answer + 1:] if is_check(c))
    check_id = cells[check]["nbgrader"]["grade_id"]
    assert page.evaluate(RUN_ALL_ABOVE, [NOTEBOOK, answer, RUN_TIMEOUT_MS]), "the cells above the exercise fail"

    # A typical mistake: the self-check fails with its Korean message, shown in the page.
    type_into_cell(page, answer, TYPICAL_MISTAKE)
    assert not run_with_shift_enter(page, NOTEBOOK, answer)["errors"]
    failed = run_with_shift_enter(page, NOTEBOOK, check)
    assert failed["errors"] and failed["errors"][0].startswith("AssertionError"), failed
    message = failed["errors"][0].removeprefix("AssertionError: ")
    assert HANGUL.search(message), f"the self-check's message is not Korean: {message!r}"
    assert message in failed["shown"], f"the page does not show the message {message!r}:\n{failed['shown']}"
    screenshot_cell(page, NOTEBOOK, check, "jupyterlab_failing_self_check.png")
    message_glyphs = korean_glyphs(page, output_area(page, check))

    # The instructor's answer, typed over it: the self-check prints its Korean success line.
    type_into_cell(page, answer, samples.answers(NOTEBOOK)[EXERCISE])
    assert not run_with_shift_enter(page, NOTEBOOK, answer)["errors"]
    passed = run_with_shift_enter(page, NOTEBOOK, check)
    expected = success_line(next(c.source for c in read(NOTEBOOKS_DIR / NOTEBOOK).cells
                                 if nbgrader_meta(c).get("grade_id") == check_id))
    assert not passed["errors"] and expected in passed["shown"], f"expected {expected!r} under the check: {passed}"
    assert HANGUL.search(expected)
    screenshot_cell(page, NOTEBOOK, check, "jupyterlab_passing_self_check.png")

    page.keyboard.press("Control+S")
    page.wait_for_function(SAVED, arg=NOTEBOOK)
    page.evaluate(CLOSE_AND_SHUT_DOWN, NOTEBOOK)
    saved = server.root / NOTEBOOK
    assert "tf.fill" in json.dumps(json.loads(saved.read_text(encoding="utf-8"))), "the answer is not in the saved file"

    # Handed in as it was saved, and graded by the grader's command line.
    hand_in = tmp_path / "class" / "browser-student" / NOTEBOOK
    hand_in.parent.mkdir(parents=True)
    shutil.copy(saved, hand_in)
    grade(tmp_path / "class", tmp_path / "out")
    [row] = grades(tmp_path / "out")
    points = nbgrader_meta(next(c for c in read(SOLUTIONS_DIR / NOTEBOOK).cells
                                if nbgrader_meta(c).get("grade_id") == check_id))["points"]
    assert (row["status"], float(row["score"])) == ("ok", points), row
    [result] = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))["results"]
    assert [t["grade_id"] for t in result["tests"] if t["passed"]] == [check_id], result["tests"]
    assert_drawn_with_a_korean_font(message_glyphs, "the self-check's message in JupyterLab")


# --- the instructor ---

def test_instructor_reads_the_class_report_its_plots_and_links_and_a_korean_feedback_page(
        chromium, graded_class) -> None:
    page = chromium.new_page()
    try:
        page.goto((graded_class / "report.html").as_uri())
        images = page.evaluate("() => Array.from(document.images).map(i => ({complete: i.complete, "
                               "width: i.naturalWidth, height: i.naturalHeight}))")
        assert len(images) >= 2, f"the report has {len(images)} plots; expected the histogram and the pass rates"
        loaded = all(i["complete"] and i["width"] > 0 and i["height"] > 0 for i in images)
        assert loaded, f"a plot of the report did not load: {images}"
        page.screenshot(path=ARTEFACTS / "report.png", full_page=True)
        links = page.evaluate("() => Array.from(document.links).map(a => a.href)")
        broken = [link for link in links if not Path(url2pathname(urlparse(link).path)).is_file()]
        assert links and not broken, f"links of the report lead nowhere: {broken}"

        # From the grade table to the feedback of a student who solved some exercises but not all.
        rows = grades(graded_class)
        student = next(r for r in rows if 0 < float(r["score"]) < float(r["max_score"]))
        page.click(f'a[href="feedback/{student["student_id"]}/01_tensors.html"]')
        page.wait_for_load_state()
        assert page.url.endswith(f"feedback/{student['student_id']}/01_tensors.html")
        body = page.inner_text("body")
        assert "채점 결과" in page.inner_text("h1")
        assert f"{student['score']} / {student['max_score']}" in body, f"the feedback page misses the score:\n{body}"
        verdicts = {kind: page.locator(f"td .{kind}").all_inner_texts() for kind in ("pass", "fail")}
        assert verdicts["pass"] and verdicts["fail"], f"expected passed and failed exercises: {verdicts}"
        assert all(HANGUL.search(text) for text in verdicts["pass"] + verdicts["fail"]), verdicts
        page.screenshot(path=ARTEFACTS / "feedback.png", full_page=True)
        title, table = korean_glyphs(page, page.query_selector("h1")), korean_glyphs(page, page.query_selector("table"))
    finally:
        page.close()
    assert_drawn_with_a_korean_font(title, "the feedback page's title")
    assert_drawn_with_a_korean_font(table, "the feedback page's table")


def test_instructor_opens_the_formgrader_in_jupyterlab_and_it_lists_every_graded_student(
        chromium, graded_class, tmp_path: Path) -> None:
    server = JupyterLab(graded_class, tmp_path / "instructor-jupyter")
    page = chromium.new_page()
    try:
        page.goto(server.link("/lab?reset"))
        page.wait_for_function(LAB_RESTORED)
        page.get_by_role("menuitem", name="Nbgrader").click()
        page.get_by_role("menuitem", name="Formgrader").click()
        formgrader = page.frame_locator("iframe").first
        formgrader.get_by_role("link", name="Manage Students").click()
        rows = grades(graded_class)
        table = formgrader.locator("table").first
        for row in rows:
            table.locator("td", has_text=row["student_id"]).wait_for()
        listed = {}
        for line in table.inner_text().splitlines()[1:]:
            fields = line.split("\t")
            if len(fields) >= 4:
                listed[fields[1].strip()] = fields[3].split("/")[0].strip()
        page.screenshot(path=ARTEFACTS / "formgrader.png")
        expected = {r["student_id"]: r["score"] for r in rows}
        assert {s: float(v) for s, v in listed.items()} == {s: float(v) for s, v in expected.items()}, (
            f"the formgrader lists {listed}; grades.csv has {expected}")
    finally:
        page.close()
        server.stop()
