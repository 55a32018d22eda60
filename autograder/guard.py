"""Integrity guard: the path a test cell takes to run is put back before it runs, and tampering is detected.

A student's cell can change what a later test cell sees or whether it runs at all: patch
``np.allclose`` to always agree, add an IPython input or AST transformer that rewrites
test cells, replace the shell's or the kernel's execution or error-reporting methods,
install a custom exception handler, a display or exception hook, a trace function. Code
put at the top of a test cell cannot undo that, because a transformer rewrites the cell
before its first line runs. So the guard works out of band:

1. ``prelude`` (the first cell, before any student code) snapshots the libraries tests
   use (module attributes and the classes of their core types) and the whole execution
   path of IPython and ipykernel (transformer lists, event callbacks, exception handlers,
   hooks, instance and class attributes of the shell and the kernel and their handler
   tables), installs an audit hook (which nothing can remove) that notes trace and
   profile functions and changes to those classes' special attributes (CPython raises no
   audit event for an ordinary class attribute: the snapshot covers those), and starts a thread that
   listens on a Unix socket in the kernel's ``ipc`` folder, answering only the grader (checked with
   SO_PEERCRED), never a process the notebook started or another student's kernel.
2. Before every graded test cell, and once at the end, the grader asks that thread over
   the socket (not through the execute path the student controls) to put everything
   back; the thread answers with what it had to put back that honest code never changes.
   A change made during a test cell by a function it calls, and undone before that check
   (an IPython event when the cell ends, say), is caught by a cheaper check after every
   top-level statement of a test cell (the grader says when one starts and ends): the
   identities of everything restore() watches, in one pass of C code, with restore() itself
   only when something differs; the grader also checks right after each test cell. And the guard
   counts the cells whose code raised, where IPython's ``run_code`` returns: a handler that
   swallows a failing assert and makes the kernel report success leaves nothing to put
   back, but then more cells raised than the grader saw errors.
3. Canaries: copies of real test cells, each ending in a check that must fail, are placed
   at random beside the real ones. Student code cannot tell them apart before they run;
   if one passes, test cells are being neutralised in a way the guard could not undo.

Any of these makes the notebook ``tampered``: the test cells from the first sign on score
0, and the report asks for a human look. An honest notebook never triggers them.

What this cannot promise: code running in the same process can, with enough effort, find
and disable the guard itself. The canaries and the unanswered socket make that visible
rather than profitable; the sandbox (``sandbox.py``) bounds everything else.
"""

from __future__ import annotations

import json
import random
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .model import is_test_cell

GUARDED_MODULES = ("builtins", "math", "numpy", "numpy.testing", "numpy.linalg", "tensorflow",
                   "tensorflow.math", "tensorflow.debugging", "keras", "keras.ops")
SOCKET_NAME = "guard.sock"
CANARY_META = "canary"
PRELUDE_META = "integrity guard"
REPLY_TIMEOUT_S = 20.0

PRELUDE = r'''
def _grader_start_guard(socket_path, module_names):
    import builtins, importlib, json, operator, os, socket, sys, threading, types

    ip = get_ipython()
    kernel = getattr(ip, "kernel", None)
    raised = [0]  # cells whose code raised, as IPython's run_code saw it (before any handler could hide it)
    pending = []  # what the checks after each statement of a test cell found, for the grader's next check
    in_test = [False]  # a test cell runs: the grader said so in its check before it, and ends it with the next
    run_code = type(ip).run_code

    async def counting_run_code(self, *args, **kwargs):
        failed = await run_code(self, *args, **kwargs)
        if failed:
            raised[0] += 1
        if in_test[0] and checks and not untouched():  # before anything later in the cell, or after it, undoes it
            pending.extend(note for note in checks[0]() if note not in pending)
            watch()
        return failed

    type(ip).run_code = counting_run_code  # put back before every test cell, as the rest of the shell's class
    modules = []
    for name in module_names:
        try:
            module = importlib.import_module(name)
        except Exception:
            continue
        modules.append((name, module, dict(vars(module))))
    core_types = []
    try:  # the classes of the values tests compare: tensors and variables, with their bases
        import tensorflow as tf
        for value in (tf.constant(0.0), tf.Variable(0.0)):
            core_types += [c for c in type(value).__mro__ if c is not object]
    except Exception:
        pass
    lists = [(ip, "input_transformers_cleanup"), (ip, "input_transformers_post"), (ip, "ast_transformers")]
    manager = ip.input_transformer_manager
    lists += [(manager, n) for n in ("cleanup_transforms", "line_transforms", "token_transformers")]
    saved_lists = [(owner, name, getattr(owner, name), list(getattr(owner, name))) for owner, name in lists]
    saved_events = {k: list(v) for k, v in ip.events.callbacks.items()}
    attributes = ["custom_exceptions", "CustomTB", "displayhook", "display_pub", "input_transformer_manager",
                  "compile", "events", "showtraceback", "showsyntaxerror", "run_cell", "run_cell_async",
                  "run_ast_nodes", "run_code", "transform_cell", "transform_ast", "should_run_async",
                  "_showtraceback", "InteractiveTB", "SyntaxTB", "excepthook", "user_global_ns"]
    saved_attributes = [(ip, a, getattr(ip, a)) for a in attributes if hasattr(ip, a)]
    objects = [o for o in (ip, kernel, ip.displayhook, ip.display_pub, ip.compile, ip.InteractiveTB) if o is not None]
    saved_instances = [(o, {k: v for k, v in vars(o).items() if callable(v)}) for o in objects]
    tables = [getattr(kernel, n) for n in ("shell_handlers", "control_handlers") if hasattr(kernel, n)]
    saved_tables = [(t, dict(t)) for t in tables]
    classes = {c for o in objects for c in type(o).__mro__ if c is not object} | set(core_types)
    saved_classes = [(c, dict(vars(c))) for c in classes]
    found = []
    guard_thread = []
    checks = []  # restore, once it is defined
    watched = []  # (mapping, keys, values): what the check after each statement compares by identity

    def watch():
        """Take the identities the check after each statement compares: the guarded modules', classes' and
        objects' entries as restore() last left them (it keeps a class's caches, and puts back the rest)."""
        pairs = [(vars(m), saved) for _, m, saved in modules] + [(vars(c), saved) for c, saved in saved_classes]
        pairs += [(vars(o), saved) for o, saved in saved_instances]
        pairs.append((vars(ip), {a: v for _, a, v in saved_attributes if a in vars(ip)}))
        watched[:] = [(mapping, tuple(saved), tuple(map(mapping.get, saved))) for mapping, saved in pairs]

    def untouched():
        """True when nothing restore() looks at has changed: one pass in C code, a fraction of a millisecond,
        so that it can run after every top-level statement of a test cell."""
        return not found and all(all(map(operator.is_, map(mapping.get, keys), values))
                                 for mapping, keys, values in watched)

    def audit(event, args):
        if guard_thread and threading.get_ident() == guard_thread[0]:
            return
        if event in ("sys.settrace", "sys.setprofile"):
            found.append(f"{event} was called: a trace or profile function sees and can change every test")
        elif event in ("object.__setattr__", "object.__delattr__") and args and args[0] in classes and \
                args[1] != "__annotations__":
            found.append(f"{getattr(args[0], '__qualname__', args[0])}.{args[1]} was changed")

    sys.addaudithook(audit)

    def from_notebook(value):
        code = getattr(getattr(value, "__func__", value), "__code__", None)
        where = code.co_filename if code else getattr(type(value), "__module__", "")
        return where == "__main__" or "/ipykernel_" in where or where.startswith("<")

    def restore():
        notes = []
        for name, module, saved in modules:
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
                notes.append(f"sys.modules[{name!r}] was replaced")
            current = vars(module)
            for key, value in saved.items():
                now = current.get(key, restore)
                if now is not value:
                    if now is not restore and from_notebook(now):
                        notes.append(f"{name}.{key} was replaced by notebook code")
                    setattr(module, key, value)
        for owner, name, original, items in saved_lists:
            now = getattr(owner, name, None)
            if now is not original or list(now) != items:
                notes.append(f"IPython's {name} were changed")
                original[:] = items
                if now is not original:
                    setattr(owner, name, original)
        for event, callbacks in ip.events.callbacks.items():
            extra = [c for c in callbacks if c not in saved_events.get(event, [])]
            if any(not getattr(c, "__module__", "").startswith(("IPython", "ipykernel", "matplotlib")) for c in extra):
                notes.append(f"a {event} event callback was added")
            callbacks[:] = saved_events.get(event, [])
        for owner, name, value in saved_attributes:
            if owner.__dict__.get(name, value) is not value or (name not in owner.__dict__ and name in vars(owner)):
                notes.append(f"the shell's {name} was replaced")
                setattr(owner, name, value)
        for obj, saved in saved_instances:
            methods = {k for c in type(obj).__mro__ for k, v in vars(c).items() if callable(v)}
            for key, value in list(vars(obj).items()):
                if key in methods and callable(value) and saved.get(key) is not value:
                    notes.append(f"{type(obj).__name__}.{key} was replaced on the instance")
                    if key in saved:
                        setattr(obj, key, saved[key])
                    else:
                        delattr(obj, key)
        for table, saved in saved_tables:
            if table != saved:
                notes.append("the kernel's message handlers were changed")
                table.clear()
                table.update(saved)
        for cls, saved in saved_classes:  # only behaviour counts: methods and descriptors, not caches
            current = dict(vars(cls))
            for key in current.keys() - saved.keys():
                if callable(current[key]) or hasattr(current[key], "__get__"):
                    notes.append(f"{cls.__qualname__}.{key} was added")
                    delattr(cls, key)
            for key, value in saved.items():
                now = current.get(key, restore)
                if now is not value and key not in ("__dict__", "__weakref__", "__doc__", "__annotations__") and (
                        callable(value) or callable(now) or hasattr(value, "__get__")):
                    notes.append(f"{cls.__qualname__}.{key} was replaced")
                    try:
                        setattr(cls, key, value)
                    except (AttributeError, TypeError):
                        pass
        notes += found
        found.clear()
        return notes

    watch()
    checks.append(restore)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(socket_path)
    server.listen(1)

    def ancestors():
        pids, pid = set(), os.getpid()
        for _ in range(8):
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    pid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                break
            pids.add(pid)
        return pids

    def from_grader(connection):
        """Only the grader may talk to the guard: a process outside this kernel's pid namespace (seen as
        pid 0 here) or one of the kernel's ancestors; never a process the notebook started or a classmate's."""
        import struct
        creds = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        pid = struct.unpack("3i", creds)[0]
        return pid == 0 or pid in ancestors()

    def serve():
        guard_thread.append(threading.get_ident())
        while True:
            connection, _ = server.accept()
            if from_grader(connection):
                break
            connection.close()
        server.close()
        stream = connection.makefile("rw")
        for line in stream:
            try:
                command = line.strip()
                notes = restore() if command in ("restore", "restore test") else []
                watch()
                in_test[0] = command == "restore test"
                reply = {"tampered": pending + [n for n in notes if n not in pending], "raised": raised[0]}
                pending.clear()
            except Exception as error:
                reply = {"tampered": [f"the guard could not put things back ({type(error).__name__})"],
                         "raised": raised[0]}
            stream.write(json.dumps(reply) + "\n")
            stream.flush()

    threading.Thread(target=serve, name="grader-guard", daemon=True).start()


_grader_start_guard(SOCKET_PATH, MODULE_NAMES)
del _grader_start_guard
'''


def prelude(socket_path: str) -> str:
    """The first cell of a graded notebook: snapshot, audit hook and the guard's listening thread."""
    return PRELUDE.replace("SOCKET_PATH", repr(socket_path)).replace("MODULE_NAMES", repr(GUARDED_MODULES))


CANARY_CHECKS = (
    'assert {a} * {b} == {c}, "결과가 예상과 다릅니다: {a} * {b}"',
    'assert sorted([{a}, {b}])[0] == {b}, "순서가 예상과 다릅니다"',
    'assert abs({a} / {b} - {c}) < 1e-9, "값이 예상과 다릅니다"',
)


def canary_source(test_cell: nbformat.NotebookNode, rng: random.Random) -> str:
    """A copy of the visible part of ``test_cell`` that ends in a check which must fail."""
    from .model import HIDDEN_MARKER

    visible = test_cell.source.split(HIDDEN_MARKER, 1)[0].rstrip()
    a, b = rng.randint(3, 999), rng.randint(1000, 9999)
    check = rng.choice(CANARY_CHECKS).format(a=a, b=b, c=a * b + rng.randint(1, 9))
    return f"{visible}\n{HIDDEN_MARKER}\n{check}\n"


def protect(nb: nbformat.NotebookNode, socket_path: str, canaries: int = 2, seed: int | None = None) -> None:
    """Add the guard's prelude at the top of ``nb`` and ``canaries`` canary cells beside random test cells."""
    rng = random.Random(seed if seed is not None else secrets.randbits(64))
    tests = [i for i, cell in enumerate(nb.cells) if is_test_cell(cell)]
    chosen = sorted(rng.sample(tests, min(canaries, len(tests))), reverse=True)
    for index in chosen:
        canary = nbformat.v4.new_code_cell(canary_source(nb.cells[index], rng), metadata={"autograder": CANARY_META})
        nb.cells.insert(index + rng.randint(0, 1), canary)  # before or after the real one, at random
    nb.cells.insert(0, nbformat.v4.new_code_cell(prelude(socket_path), metadata={"autograder": PRELUDE_META}))


def is_canary(cell: dict) -> bool:
    return cell.get("metadata", {}).get("autograder") == CANARY_META


def is_grader_cell(cell: dict) -> bool:
    return cell.get("metadata", {}).get("autograder") in (CANARY_META, PRELUDE_META)


@dataclass
class GuardClient:
    """The grader's end of the guard's socket."""

    socket_path: Path
    findings: list[str] = field(default_factory=list)
    raised: int = 0  # cells whose code raised, as the guard counted them at its last answer
    _stream: object = None

    def restore(self, test_follows: bool = False) -> list[str]:
        """Ask the guard to put everything back; what it had to put back (or why it could not answer).
        ``test_follows``: a test cell runs next, so the guard checks after each of its statements."""
        try:
            if self._stream is None:
                connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                connection.settimeout(REPLY_TIMEOUT_S)
                connection.connect(str(self.socket_path))
                self._stream = connection.makefile("rw")
            self._stream.write("restore test\n" if test_follows else "restore\n")
            self._stream.flush()
            line = self._stream.readline()
            if not line:
                raise OSError("connection closed")
            reply = json.loads(line)
            notes, self.raised = list(reply["tampered"]), int(reply["raised"])
        except (OSError, ValueError, KeyError, TypeError):
            notes = ["the grader's guard in the kernel stopped answering (it was disabled or the kernel hung)"]
            self._stream = None
        self.findings += notes
        return notes

    def hidden_errors(self, errors_shown: int) -> list[str]:
        """Whether more cells raised than the grader saw errors: then a handler swallowed an error and made
        the kernel report success, which is how a failing test is made to look passed from inside it.

        The guard counts a raise where IPython's ``run_code`` returns, after any handler ran; honest code
        never hides one (an error shows as an error output, or the reply says "error", which the grader
        turns into one). Student code that also found and changed that count is what the canaries are for.
        """
        if self.raised <= errors_shown:
            return []
        note = ("a cell raised an error that never reached the grader (it was hidden, and the kernel reported "
                "success): a failing test could look passed")
        self.findings.append(note)
        return [note]
