"""Integrity guard: undo monkeypatching of the libraries that test cells rely on.

A student's cell could replace ``np.allclose`` by ``lambda *a, **k: True`` and pass every
hidden test that uses it. Before the notebook runs, the grader snapshots the attributes
of the modules tests use (builtins, math, NumPy, TensorFlow, Keras); every graded test
cell starts by putting back each attribute whose identity changed. The restoring function
is stored under a random name chosen per notebook, so student code cannot call or
replace it by a name known in advance.

This raises the bar; it is not a sandbox. Code in the same kernel can still reach the
grader's hooks if it searches for them, which is why the README asks for
``--kernel-prefix`` with a real sandbox and why flagged notebooks deserve a human look.
"""

from __future__ import annotations

import secrets

from .model import is_test_cell

GUARDED_MODULES = ("builtins", "math", "numpy", "numpy.testing", "numpy.linalg", "tensorflow",
                   "tensorflow.math", "tensorflow.debugging", "keras", "keras.ops")


def new_guard_name() -> str:
    return f"_grader_guard_{secrets.token_hex(8)}"


def prelude(guard_name: str) -> str:
    """Code run in the kernel before any student cell: takes the snapshot."""
    return f"""\
def _grader_make_guard():
    import importlib, sys
    snapshots = []
    for name in {GUARDED_MODULES!r}:
        try:
            module = importlib.import_module(name)
        except Exception:
            continue
        snapshots.append((name, module, dict(vars(module))))

    def restore():
        for name, module, saved in snapshots:
            sys.modules[name] = module
            current = vars(module)
            for key, value in saved.items():
                if current.get(key, restore) is not value:
                    setattr(module, key, value)

    return restore


__import__("builtins").{guard_name} = _grader_make_guard()
del _grader_make_guard
"""


def restore_call(guard_name: str) -> str:
    """The first line of every graded test cell."""
    return f'getattr(__import__("builtins"), "{guard_name}")()  # grader: undo monkeypatching\n'


def protect(nb) -> None:
    """Add the snapshot cell at the top of ``nb`` and the restore call to each graded test cell."""
    import nbformat

    name = new_guard_name()
    for cell in nb.cells:
        if is_test_cell(cell):
            cell.source = restore_call(name) + cell.source
    nb.cells.insert(0, nbformat.v4.new_code_cell(prelude(name), metadata={"autograder": "integrity guard"}))
