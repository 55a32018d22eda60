"""A real JupyterLab server and a real Chromium for the browser tests (tests/test_browser.py).

JupyterLab runs from this project's environment on 127.0.0.1 with a token, a free port and
its own empty configuration, settings and workspace folders, so nothing from the user's
~/.jupyter leaks in. Chromium is Debian's ``chromium`` driven by Playwright for Python
(``executable_path``: Playwright downloads nothing); it runs headless with everything that
would reach the network switched off.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from autograder.settings import REPO_ROOT
from tests.tools import require

ARTEFACTS = REPO_ROOT / "build" / "browser"  # screenshots a person can look at after the run

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    """Debian's chromium, or the browser named by the CHROMIUM environment variable."""
    path = os.environ.get("CHROMIUM") or shutil.which("chromium")
    return path if path and os.access(path, os.X_OK) else None


def require_browser() -> str:
    """The Chromium executable; skips (fails in CI) when Chromium or Playwright is missing."""
    try:
        import playwright.sync_api  # noqa: F401
        has_playwright = True
    except ImportError:
        has_playwright = False
    require(has_playwright, "Playwright for Python is not installed (it is in the `test` extra of pyproject.toml)")
    path = chromium_path()
    require(path is not None, "Chromium is not installed (Debian/Ubuntu: apt-get install chromium fonts-noto-cjk; "
                              "or set CHROMIUM=/path/to/chromium)")
    return path


def launch_chromium(playwright, user_data_dir: Path):
    """A headless Chromium with a fresh profile that does not try to reach the network on its own."""
    return playwright.chromium.launch_persistent_context(
        str(user_data_dir), executable_path=require_browser(), headless=True, args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900}, locale="ko-KR",
    )


def require_korean_font() -> None:
    """Skip (fail in CI) on a machine with no Korean font: no page could show Korean there."""
    if shutil.which("fc-list") is None:
        return  # no fontconfig to ask; the glyph check itself will tell
    listed = subprocess.run(["fc-list", ":lang=ko", "family"], capture_output=True, text=True).stdout.strip()
    require(bool(listed), "no Korean font is installed (Debian/Ubuntu: apt-get install fonts-noto-cjk)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLab:
    """``jupyter lab`` serving ``root`` (started in ``root``: nbgrader's formgrader reads its config there)."""

    def __init__(self, root: Path, home: Path) -> None:
        self.root, self.home = root, home
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home / "jupyterlab.log"
        settings = home / "lab-settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        # No "official Jupyter news?" toast over the notebook: nothing may reach the network.
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
                   JUPYTER_RUNTIME_DIR=str(home / "runtime"), JUPYTERLAB_SETTINGS_DIR=str(home / "lab-settings"),
                   JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), IPYTHONDIR=str(home / "ipython"))
        command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
                   "--port-retries=0", f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
                   "--LabApp.expose_app_in_browser=True"]  # window.jupyterapp: read cells and outputs in the page
        if os.geteuid() == 0:
            command.append("--allow-root")  # containers and CI machines run as root
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        self._wait_until_serving()

    def link(self, path: str) -> str:
        separator = "&" if "?" in path else "?"
        return f"{self.url}{path}{separator}token={self.token}"

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def _wait_until_serving(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with status {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.link("/api/status"), timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"JupyterLab did not answer on {self.url} within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # the server shuts its kernels down
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# JavaScript run in the JupyterLab page. `window.jupyterapp` is JupyterLab's application object.
# A notebook panel is found by its path; its cells are the widgets of panel.content, in order.
PANEL = ("const panel = Array.from(window.jupyterapp.shell.widgets('main'))"
         ".find(w => w.context && w.context.path === name);")

LAB_RESTORED = "async () => { if (!window.jupyterapp) return false; await window.jupyterapp.restored; return true; }"

# The notebook is open, its kernel connected and idle, and the kernel answered kernel_info.
KERNEL_READY = f"""async (name) => {{
  {PANEL}
  if (!panel || !panel.sessionContext) return false;
  await panel.context.ready;
  await panel.sessionContext.ready;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel || kernel.connectionStatus !== 'connected' || kernel.status !== 'idle') return false;
  await kernel.info;
  return true;
}}"""

# Run → "Run Selected Cell and All Below" (or "Run All Above Selected Cell") from cell i; resolves when the
# run ends: true, or false when a cell failed (Jupyter does not run the cells after a failing one).
def _run_command(command: str) -> str:
    return f"""async ([name, i, timeout_ms]) => {{
  {PANEL}
  window.jupyterapp.shell.activateById(panel.id);
  panel.content.activeCellIndex = i;
  const timeout = new Promise((_, reject) => setTimeout(
    () => reject(new Error(`{command} from cell ${{i}} took more than ${{timeout_ms}} ms`)), timeout_ms));
  return await Promise.race([window.jupyterapp.commands.execute('{command}'), timeout]);
}}"""


RUN_ALL_BELOW = _run_command("notebook:run-all-below")
RUN_ALL_ABOVE = _run_command("notebook:run-all-above")

# Every cell as the page holds it: nbgrader metadata, execution count, the errors of its outputs,
# and the text the page shows under it.
CELLS = f"""(name) => {{
  {PANEL}
  return panel.content.widgets.map((cell, index) => {{
    const code = cell.model.type === 'code';
    const outputs = code ? cell.model.outputs.toJSON() : [];
    const area = cell.node.querySelector('.jp-OutputArea');
    return {{
      index, type: cell.model.type, nbgrader: cell.model.getMetadata('nbgrader') || {{}},
      execution_count: code ? cell.model.executionCount : null,
      errors: outputs.filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue),
      stderr: outputs.filter(o => o.output_type === 'stream' && o.name === 'stderr').map(o => o.text).join(''),
      shown: area ? area.textContent : '',  // textContent: off-screen cells are not laid out (content-visibility)
    }};
  }});
}}"""

SCROLL_TO_CELL = f"""async ([name, i]) => {{
  {PANEL}
  panel.content.activeCellIndex = i;
  await panel.content.scrollToItem(i, 'center');
}}"""

SAVED = f"""(name) => {{ {PANEL} return !panel.context.model.dirty; }}"""

CLOSE_AND_SHUT_DOWN = f"""async (name) => {{
  {PANEL}
  await panel.sessionContext.shutdown();
  panel.dispose();
}}"""

# Whether an element's Korean text is drawn with real glyphs: with no Korean font every Hangul
# syllable falls back to the same empty box, so distinct syllables would draw identical pixels.
# Draws the element's first distinct syllables in its own font and counts the distinct images.
HANGUL_GLYPHS = r"""(element) => {
  const syllables = Array.from(new Set(element.innerText.match(/[\uac00-\ud7a3]/g) || [])).slice(0, 8);
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 64;
  const context = canvas.getContext('2d', {willReadFrequently: true});
  const style = getComputedStyle(element);
  context.font = `${style.fontWeight} 40px ${style.fontFamily}`;
  const draw = (text) => {
    context.clearRect(0, 0, 64, 64);
    context.fillText(text, 4, 48);
    return Array.from(context.getImageData(0, 0, 64, 64).data).join(',');
  };
  return {syllables: syllables.join(''), distinct_images: new Set(syllables.map(draw)).size,
          font_family: style.fontFamily};
}"""


def platform_fonts(page, selector: str) -> list[str]:
    """The fonts Chromium actually drew the element's text with (DevTools protocol), for messages."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        return [f["familyName"] for f in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]]
    finally:
        cdp.detach()
