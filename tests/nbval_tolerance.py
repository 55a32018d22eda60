"""Number-tolerant output comparison for the GPU run of the notebooks.

The stored outputs in ``solutions/`` are CPU outputs, and the CPU run compares them
strictly. On a GPU the same seeded code gives slightly different floats: Keras compiles
``fit`` with XLA (``jit_compile="auto"``), cuDNN/cuBLAS pick other summation orders, and
Hopper- and Ampere-class GPUs run float32 matmuls in TF32 (a 10-bit mantissa, about 1e-3
relative error per product), which a few dozen training steps compound. So on the GPU
leg a printed float may differ from the stored one by

    |gpu - cpu| <= ABS_TOL + REL_TOL * |cpu|

with REL_TOL = 5e-2 (TF32's 1e-3 per operation, grown over 40-100 training steps) and
ABS_TOL = 1e-2 (a loss or accuracy near 0; one sample in a hundred of an accuracy).
Only numbers written with a decimal point or an exponent get this tolerance. Integers
(shapes, counts, epochs, layer names) and all the text around the numbers must still
match exactly, so a changed shape, a missing line or a different message still fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable

REL_TOL = 5e-2
ABS_TOL = 1e-2

_FLOAT = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?\d+[eE][-+]?\d+")


def close(ours: float, reference: float) -> bool:
    return abs(ours - reference) <= ABS_TOL + REL_TOL * abs(reference)


def _same(text: str) -> str:
    return text


def snap_to_reference(text: str, reference: str, sanitize: Callable[[str], str] = _same) -> str:
    """``reference`` when ``text`` differs from it only by floats within tolerance, else ``text``.

    Both are first passed through ``sanitize`` (nbval's regex sanitizer), so that what the
    sanitizer masks (timings, versions) does not stop two outputs from being compared.
    """
    if text == reference or not isinstance(text, str) or not isinstance(reference, str):
        return text
    clean_text, clean_reference = sanitize(text), sanitize(reference)
    ours, theirs = _FLOAT.findall(clean_text), _FLOAT.findall(clean_reference)
    if len(ours) != len(theirs) or _FLOAT.sub("#", clean_text) != _FLOAT.sub("#", clean_reference):
        return text
    if all(close(float(a), float(b)) for a, b in zip(ours, theirs, strict=True)):
        return reference
    return text


def snap_outputs(test: list[dict], reference: list[dict], sanitize: Callable[[str], str] = _same) -> None:
    """Snap, in place, each text of ``test`` to the reference output at the same position."""
    for ours, theirs in zip(test, reference, strict=False):
        if ours.get("output_type") != theirs.get("output_type") or ours.get("name") != theirs.get("name"):
            continue
        if "text" in ours and "text" in theirs:
            ours["text"] = snap_to_reference(ours["text"], theirs["text"], sanitize)
        for mime, value in ours.get("data", {}).items():
            if mime.startswith("text/") and mime in theirs.get("data", {}):
                ours["data"][mime] = snap_to_reference(value, theirs["data"][mime], sanitize)


def install() -> None:
    """Make nbval compare with tolerance (only called for ``--gpu``)."""
    from nbval.plugin import IPyNbCell

    strict_compare = IPyNbCell.compare_outputs

    def tolerant_compare(self, test, ref, skip_compare=None):
        snap_outputs(test, ref, self.sanitize)
        return strict_compare(self, test, ref, skip_compare)

    IPyNbCell.compare_outputs = tolerant_compare
