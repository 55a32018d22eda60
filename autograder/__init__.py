"""Course tooling: release generation and the class autograder."""

import sys

# jsonschema, which nbformat imports to validate notebooks, loads ``rfc3987_syntax`` when it
# is installed (jupyter-events asks for it) to check the "iri" string format, and that
# package compiles a grammar on import: 1.1 s of CPU in every grading process. No notebook
# schema uses that format, so this package makes the import fail, as it would on a machine
# without the package; jsonschema then simply has no "iri" checker.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
