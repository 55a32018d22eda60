"""Warm kernels share a parent: no notebook may reach another through it, before, after or beside it.

One worker (``--jobs 1``) grades, in this order and from the same warm parent:

1. ``a_plant``: hides the answers everywhere a later notebook might look (the working folder,
   ``/tmp``, ``/dev/shm``, the socket folder, System V shared memory, the user keyring, an
   abstract Unix socket served by a daemon that also keeps rewriting the files, the
   environment and patched library functions), then attacks the parent itself: signals to
   every process it can see, writes to their memory and their stdin through ``/proc``;
2. ``b_probe``: blank answers plus a cell that looks in all those places and, for each one it
   finds, runs the answers it holds. It must find nothing and score 0;
3. ``c_honest``: a perfect hand-in, which must get full marks from the same, unharmed parent.

A second class runs two probes at once (``--jobs 2``: two workers sharing the machine's warm
parent) beside a plant: kernels graded side by side share nothing either. Every probe also
looks for the warm parent's socket and for the other workers' socket folders (connection
files hold the keys that drive a kernel): a kernel sees neither.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest

from autograder import samples
from autograder.pipeline import grade_class
from autograder.settings import Limits
from tests.course import source_numbered

pytestmark = pytest.mark.notebook
NB01 = source_numbered("01").name
LIMITS = Limits(cell_timeout_s=60, notebook_timeout_s=240, memory_mb=3000)
SHM_KEY, KEY_NAME, ABSTRACT = 0x5EED01, b"answers-for-later", "\0answers-for-later"
FILES = ("/home/student/answers.py", "/tmp/answers.py", "/dev/shm/answers.py", "IPC/answers.py", "IPC/../answers.py",
         "IPC/../../answers.py")  # the socket folder, this worker's folder and the warm parent's folder

COMMON = f'''
import ctypes, os, socket, sys
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
IPC = os.path.dirname(sys.argv[sys.argv.index("-f") + 1])  # the folder of this kernel's connection file
FILES = [p.replace("IPC", IPC) for p in {list(FILES)!r}]
SHM_KEY, KEY_NAME, ABSTRACT = {SHM_KEY}, {KEY_NAME!r}, {ABSTRACT!r}
KEY_SPEC_USER_KEYRING = -4
'''

PLANT = COMMON + '''
import numpy as np, signal, time
ANSWERS = ANSWERS_HERE
def _plant_files():
    for path in FILES:
        try:
            with open(path, "w") as f:
                f.write(ANSWERS)
        except OSError:
            pass
_plant_files()
_data = ANSWERS.encode()
_libc.shmget.restype = ctypes.c_int
_libc.shmat.restype = ctypes.c_void_p
_shm = _libc.shmget(SHM_KEY, len(_data) + 1, 0o1666)  # IPC_CREAT | 0666
if _shm >= 0:
    ctypes.memmove(_libc.shmat(_shm, None, 0), _data, len(_data))
_libc.syscall(248, b"user", KEY_NAME, _data, len(_data), KEY_SPEC_USER_KEYRING)  # add_key
os.environ["ANSWERS"] = ANSWERS
np.testing.assert_allclose = lambda *a, **k: None
np.allclose = lambda *a, **k: True
if os.fork() == 0:  # a daemon that outlives this notebook if it can: serves and keeps re-planting the answers
    os.setsid()
    if os.fork() == 0:
        server = socket.socket(socket.AF_UNIX)
        server.bind(ABSTRACT)
        server.listen(5)
        server.settimeout(0.2)
        for _ in range(3000):
            _plant_files()
            try:
                server.accept()[0].sendall(_data)
            except OSError:
                pass
    os._exit(0)
# the parent: every process this kernel can see outside its own pid namespace (/proc shows the
# parent's namespace: one NSpid level), signalled by the number /proc shows, and its memory and stdin
# written to. A number that is also one of this kernel's own pids or threads is left out (a kill would
# only hit itself).
def _levels(path):
    try:
        return [line.split()[1:] for line in open(path) if line.startswith("NSpid:")][0]
    except (OSError, IndexError):
        return []
own = {int(_levels(f"/proc/{p}/task/{t}/status")[-1]) for p in os.listdir("/proc") if p.isdigit()
       and len(_levels(f"/proc/{p}/status")) > 1 for t in os.listdir(f"/proc/{p}/task")
       if _levels(f"/proc/{p}/task/{t}/status")}
outside = [p for p in os.listdir("/proc") if p.isdigit() and len(_levels(f"/proc/{p}/status")) == 1]
print("outside:", len(outside))
harmed = []
for name in outside:
    if int(name) in own:
        continue
    for what, attempt in (("kill", lambda: os.kill(int(name), signal.SIGKILL)),
                          ("mem", lambda: open(f"/proc/{name}/mem", "wb").write(b"x")),
                          ("stdin", lambda: open(f"/proc/{name}/fd/0", "w").write('{"connection_file": "/x"}\\n'))):
        try:
            attempt()
            harmed.append((name, what))
        except Exception:
            pass
print("harmed:", harmed)
time.sleep(1)
'''

PROBE = COMMON + '''
import numpy as np, time
found = {}
for path in FILES:
    try:
        found[path] = open(path).read()
    except OSError:
        pass
_libc.shmget.restype = ctypes.c_int
_libc.shmat.restype = ctypes.c_void_p
_shm = _libc.shmget(SHM_KEY, 0, 0)
if _shm >= 0:
    found["shm"] = ctypes.string_at(_libc.shmat(_shm, None, 0)).decode(errors="replace")
_key = _libc.syscall(249, b"user", KEY_NAME, None, 0)  # request_key
if _key >= 0:
    _buf = ctypes.create_string_buffer(65536)
    _n = _libc.syscall(250, 11, _key, _buf, 65536)  # keyctl(KEYCTL_READ)
    found["keyring"] = _buf.raw[:max(_n, 0)].decode(errors="replace")
try:
    with socket.socket(socket.AF_UNIX) as _s:
        _s.settimeout(1)
        _s.connect(ABSTRACT)
        found["abstract socket"] = _s.recv(65536).decode(errors="replace")
except OSError:
    pass
import glob
for path in glob.glob(os.path.join(IPC, "..", "..", "*", "ipc", "*.json")):  # another worker's connection file
    if os.path.realpath(os.path.dirname(path)) != os.path.realpath(IPC):
        found["connection file " + path] = ""
try:
    with socket.socket(socket.AF_UNIX) as _s:  # the warm parent's own socket, to ask it for kernels
        _s.connect(os.path.join(IPC, "..", "..", "zygote.sock"))
        found["warm parent's socket"] = ""
except OSError:
    pass
if "ANSWERS" in os.environ:
    found["environment"] = os.environ["ANSWERS"]
if np.allclose(0, 1):
    found["patched numpy"] = "np.allclose(0, 1) is True"
daemons = [p for p in os.listdir("/proc") if p.isdigit() and "answers-for-later" in open(f"/proc/{p}/cmdline").read()]
print("FOUND", json.dumps(sorted(found)), "DAEMONS", len(daemons))
for text in found.values():
    try:
        exec(text, globals())  # the stolen answers, if any
    except Exception:
        pass
'''.replace("import numpy as np, time", "import json, numpy as np, time")


def answers_code() -> str:
    """The perfect answers of notebook 01, as one block of code."""
    nb = samples.perfect(NB01)
    return "\n\n".join(c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))


def plant() -> nbformat.NotebookNode:
    return samples.with_cell(samples.blank(NB01), PLANT.replace("ANSWERS_HERE", repr(answers_code())))


def probe() -> nbformat.NotebookNode:
    return samples.with_cell(samples.blank(NB01), PROBE)


def grade(tmp: Path, students: dict[str, nbformat.NotebookNode], jobs: int):
    for student, nb in students.items():
        samples.write(nb, tmp / "class" / student / NB01)
    run = grade_class(tmp / "class", tmp / "out", jobs=jobs, notebooks=["01"], limits=LIMITS, quiet=True,
                      sandbox="bwrap")
    return {r.student_id: r for r in run.results}, tmp / "out"


def probe_report(out: Path, student: str) -> str:
    """What the probe cell printed, from the graded notebook the grader kept."""
    graded = nbformat.read(out / "autograded" / student / "ch03" / NB01, as_version=4)
    texts = [o.get("text", "") for c in graded.cells for o in c.get("outputs", []) if o.get("output_type") == "stream"]
    return next(t for t in texts if "FOUND" in t)


@pytest.fixture(scope="module")
def in_turn(tmp_path_factory):
    return grade(tmp_path_factory.mktemp("warm-in-turn"), {"a_plant": plant(), "b_probe": probe(),
                                                           "c_honest": samples.perfect(NB01)}, jobs=1)


def test_every_notebook_ran_in_a_kernel_of_the_same_warm_parent(in_turn) -> None:
    results, _ = in_turn
    assert [r.timings.get("warm_kernel") for r in results.values()] == [1.0, 1.0, 1.0]
    started = {s: r.timings["warm_parent_start_s"] > 0 for s, r in results.items()}
    assert started == {"a_plant": True, "b_probe": False, "c_honest": False}  # the plant did not kill it


def test_a_later_notebook_finds_nothing_an_earlier_one_left(in_turn) -> None:
    results, out = in_turn
    assert probe_report(out, "b_probe").split() == ["FOUND", "[]", "DAEMONS", "0"]
    assert (results["b_probe"].score, results["b_probe"].status.value) == (0.0, "ok")


def test_the_plant_could_not_touch_the_parent_and_the_next_student_gets_full_marks(in_turn) -> None:
    results, out = in_turn
    graded = json.dumps(nbformat.read(out / "autograded" / "a_plant" / "ch03" / NB01, as_version=4).cells)
    assert "harmed: []" in graded and "outside: 0" not in graded  # it did see the parent's processes
    assert (results["c_honest"].score, results["c_honest"].status.value, results["c_honest"].notes) == (10.0, "ok", [])


def test_notebooks_graded_side_by_side_from_the_shared_warm_parent_share_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # scratch folders outside /tmp, where no tmpfs of the sandbox hides them by chance
    scratch = Path(tempfile.mkdtemp(prefix="warm-side-by-side-", dir="/var/tmp"))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    try:
        results, out = grade(tmp_path, {"a_plant": plant(), "b_probe": probe(), "c_probe": probe()}, jobs=2)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert [r.timings.get("warm_kernel") for r in results.values()] == [1.0, 1.0, 1.0]
    for student in ("b_probe", "c_probe"):
        assert probe_report(out, student).split() == ["FOUND", "[]", "DAEMONS", "0"]
        assert results[student].score == 0.0
