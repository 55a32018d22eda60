"""Build data/sample_class: a small class whose hand-ins show what real students hand in.

Run `python data/make_sample_class.py` after changing a notebook (the tests check that
the committed sample class is what this script writes). Every file is derived from the
current notebooks by the builders in ``autograder.samples``.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from autograder import samples as s
from autograder.settings import SAMPLE_CLASS_DIR, source_notebooks

ENDLESS_LOOP = "import time\nwhile True:  # forgot to stop\n    time.sleep(0.5)"
MEMORY_HOG = "import numpy as np\nbig = [np.ones((64, 1024, 1024)) for _ in range(64)]  # 512 MB each, 32 GB"
KERNEL_EXIT = "import os\nos._exit(1)  # quits the kernel"


def build(target: Path) -> list[Path]:
    names = [p.name for p in source_notebooks()]
    by_number = {name[:2]: name for name in names}
    n01, n02, n03, n04, n05, n06, n07 = (by_number[f"{k:02d}"] for k in range(1, 8))
    files: dict[str, object] = {}
    for name in names:  # s01: everything right, notebook 01 in their own words
        files[f"s2026001/{name}"] = s.in_own_words(name, "a") if name == n01 else s.perfect(name)
    for name in names:  # s02: the first two exercises of each notebook (01 in their own words), 02 never handed in
        if name != n02:
            files[f"s2026002/{name}"] = s.in_own_words(name, "b", lambda i, gid: i < 2) if name == n01 \
                else s.partial(name, 2)
    for name in names:  # s03: works in Colab, downloads "Copy of ..." files
        files[f"s2026003/Copy of {Path(name).stem} (1).ipynb"] = s.saved_by_colab(s.perfect(name))
    files["s2026003/notes.txt"] = "my notes\n"
    files[f"s2026004/{n01}"] = s.blank(n01)  # s04: a hurried and messy student
    files[f"s2026004/{n02}"] = s.tampered(s.blank(n02))
    files[f"s2026004/{n03}"] = s.reshuffled(s.perfect(n03))
    files[f"s2026004/{n04}"] = s.with_duplicated_grade_cells(s.perfect(n04))
    files[f"s2026004/{n05}"] = "{\n \"cells\": [\n  {\"cell_type\": \"code\", \"source\": \"print(1)\"\n"  # cut off
    files[f"s2026004/{n06}"] = ""
    files[f"s2026004/{n07}"] = s.partial(n07, 1)  # one exercise answered, notebook 08 never handed in
    files[f"s2026005/{n01}"] = s.chatty_on_stderr(s.in_own_words(n01, "c"))  # s05: runs into every limit
    files[f"s2026005/{n02}"] = s.with_cell(s.perfect(n02), ENDLESS_LOOP, after_setup=False)
    files[f"s2026005/{n03}"] = s.with_cell(s.perfect(n03), MEMORY_HOG, after_setup=False)
    files[f"s2026005/{n04}"] = s.with_cell(s.perfect(n04), KERNEL_EXIT)
    files[f"s2026005/{n05}"] = s.with_megabytes_of_output(s.perfect(n05), 3)
    files[f"s2026006/{n01}"] = s.disguised(s.in_own_words(n01, "a"))  # s06: copied s01's 01 and disguised it
    shutil.rmtree(target, ignore_errors=True)
    written = []
    for relative, content in sorted(files.items()):
        path = target / relative
        if isinstance(content, str):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        else:
            s.write(content, path)
        written.append(path)
    return written


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLE_CLASS_DIR
    print(f"wrote {len(build(out))} files to {out}")
