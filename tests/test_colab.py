"""A student who follows an "Open in Colab" badge: it leads to the notebook, and the notebook runs there as it is.

Colab is imitated, not reached (the tests run offline): a Python that has the course's
third-party packages (TensorFlow, Keras, NumPy, Matplotlib) but not this repository's own
code, a ``google.colab`` module, an environment without the course's TensorFlow settings,
and an empty working directory elsewhere (Colab's /content): the notebook comes alone,
with no data or helper files beside it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from autograder.settings import NOTEBOOKS_DIR, REPO_ROOT, course_config
from tests.course import is_solution, is_test, read, source_paths, student_path
from tests.tools import require

pytestmark = pytest.mark.e2e

SOURCES = source_paths()
IDS = [p.stem for p in SOURCES]
COLAB_LINK = re.compile(r"https://colab\.research\.google\.com/github/([^/\s]+/[^/\s]+)/blob/([^/\s]+)/([^\s\"')]+)")

PROBE = """
import importlib.util, json, os, sys
print(json.dumps({
    "google.colab": importlib.util.find_spec("google.colab") is not None,
    "autograder": importlib.util.find_spec("autograder") is not None,
    "tensorflow": importlib.util.find_spec("tensorflow") is not None,
    "cwd": os.getcwd(),
    "files": sorted(os.listdir(".")),
    "sys.path": [os.path.realpath(p or ".") for p in sys.path],
    "tf_settings": sorted(k for k in os.environ if k.startswith("TF_CPP") or k == "TF_ENABLE_ONEDNN_OPTS"),
}))
"""


@dataclass
class Colab:
    kernels: Path  # holds the kernel spec "colab"
    content: Path  # the working directory, empty like Colab's /content
    env: dict[str, str]

    def run(self, nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        specs = KernelSpecManager(kernel_dirs=[str(self.kernels)])
        manager = KernelManager(kernel_name="colab", kernel_spec_manager=specs)
        NotebookClient(nb, km=manager, timeout=300, allow_errors=True,
                       resources={"metadata": {"path": str(self.content)}}).execute(env=self.env)
        return nb


@pytest.fixture(scope="module")
def colab(tmp_path_factory) -> Colab:
    """A fresh virtual environment that sees this one's site-packages but runs none of its .pth files.

    The course package is installed in editable mode by a .pth file in site-packages; a
    directory added to sys.path by a .pth line is searched but its own .pth files are not
    run, so TensorFlow and the rest are importable and the course package is not.
    """
    base = tmp_path_factory.mktemp("colab")
    venv = base / "python"
    made = subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], capture_output=True, text=True)
    require(made.returncode == 0, f"cannot create a virtual environment (apt-get install python3-venv): {made.stderr}")
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    fake = base / "colab-site" / "google" / "colab"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('"""Imitation of Colab\'s google.colab: present, as it is in Colab."""\n')
    ours = sysconfig.get_paths()
    (Path(site) / "colab-imitation.pth").write_text(
        "\n".join(dict.fromkeys([str(base / "colab-site"), ours["purelib"], ours["platlib"]])) + "\n")
    spec = base / "kernels" / "colab"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (Colab imitation)", "language": "python",
    }))
    content, home = base / "content", base / "home"
    content.mkdir()
    home.mkdir()
    # Nothing of the course's environment: only what any machine has, and this suite's thread sizing.
    env = {"PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "CUDA_VISIBLE_DEVICES": "-1"}
    env.update({k: os.environ[k] for k in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")
                if k in os.environ})
    return Colab(base / "kernels", content, env)


def test_the_imitation_has_google_colab_no_course_package_and_an_empty_working_directory(colab: Colab) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(PROBE)])
    out = colab.run(nb).cells[0].outputs
    assert [o.output_type for o in out] == ["stream"], out
    facts = json.loads(out[0].text)
    assert facts["google.colab"] and facts["tensorflow"], facts
    assert not facts["autograder"], "the course package is importable in the Colab imitation"
    assert (facts["cwd"], facts["files"]) == (str(colab.content.resolve()), []), facts
    assert str(REPO_ROOT.resolve()) not in facts["sys.path"], f"the repository is on sys.path: {facts['sys.path']}"
    assert facts["tf_settings"] == [], f"the kernel inherited TensorFlow settings: {facts['tf_settings']}"


@pytest.mark.notebook
@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_student_edition_runs_unchanged_in_colab_failing_only_at_the_exercises(colab: Colab, source: Path) -> None:
    nb = colab.run(read(student_path(source)))
    failing = {i: cell for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
               and any(o.output_type == "error" for o in cell.outputs)}
    outside = {i: [f"{o.ename}: {o.evalue}" for o in cell.outputs if o.output_type == "error"]
               for i, cell in failing.items() if not (is_solution(cell) or is_test(cell))}
    assert not outside, f"{source.name}: cells fail in Colab that do not fail where the course is installed: {outside}"
    stubs = {o.ename for cell in failing.values() if is_solution(cell) for o in cell.outputs
             if o.output_type == "error"}
    assert stubs <= {"NotImplementedError"}, f"{source.name}: an unsolved answer fails with {stubs}"
    assert all(i in failing for i, cell in enumerate(nb.cells) if is_test(cell)), (
        f"{source.name}: a self-check passes with no answer")
    noisy = {i: o.text[:300] for i, cell in enumerate(nb.cells) if i not in failing
             for o in cell.get("outputs", []) if o.get("name") == "stderr"}
    assert not noisy, f"{source.name}: cells write to stderr in Colab (TensorFlow not quieted before import?): {noisy}"


def _colab_links() -> dict[str, list[re.Match]]:
    """Every "Open in Colab" address, by the file it appears in (README and every student edition)."""
    texts = {"README.md": (REPO_ROOT / "README.md").read_text(encoding="utf-8")}
    for path in sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        texts[f"notebooks/{path.name}"] = "\n".join(cell.source for cell in read(path).cells)
    return {where: list(COLAB_LINK.finditer(text)) for where, text in texts.items()}


def test_every_open_in_colab_link_leads_to_a_committed_notebook_at_the_configured_branch() -> None:
    require(shutil.which("git") is not None and (REPO_ROOT / ".git").exists(),
            "git or the repository's history is missing: cannot list the committed files")
    committed = set(subprocess.run(["git", "ls-tree", "-r", "--name-only", "HEAD"], cwd=REPO_ROOT,
                                   capture_output=True, text=True, check=True).stdout.splitlines())
    config = course_config()
    links = _colab_links()
    problems = [f"{where}: no Open in Colab link" for where, found in links.items() if not found]
    for where, found in links.items():
        for link in found:
            repository, branch, path = link.group(1), link.group(2), urllib.parse.unquote(link.group(3))
            if (repository, branch) != (config["repository"], config["branch"]):
                problems.append(f"{where}: {link.group(0)} is not {config['repository']} at branch {config['branch']} "
                                "([tool.course] in pyproject.toml)")
            if path not in committed:
                problems.append(f"{where}: {link.group(0)} opens {path}, which is not a committed file")
            elif where.startswith("notebooks/") and path != where:
                problems.append(f"{where}: its badge opens {path}, another notebook")
    assert not problems, "\n".join(problems)
    in_readme = {urllib.parse.unquote(link.group(3)) for link in links["README.md"]}
    assert in_readme == {f"notebooks/{p.name}" for p in NOTEBOOKS_DIR.glob("*.ipynb")}, (
        f"the README's badges open {sorted(in_readme)}; expected one per student edition")
