"""The course as a student meets it: JupyterLab in headless Chromium, driven by Playwright.

The fixtures start one JupyterLab for the whole suite, on 127.0.0.1 with a random port and token, over a
temporary copy of ``notebooks/`` (with ``data/`` beside it, read-only as the notebooks use it), so that running
and saving notebooks in the browser never touches the repository. Chromium is the system's (Debian's
``chromium``): no browser can be downloaded here, so Playwright is pointed at its executable. Each test gets a
fresh page that records the browser console, page errors and every request, and a screenshot of the page is kept
under ``build/browser/`` when a test fails.
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
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "browser"
#: Where the suite looks for Chromium; ``GRSN_EDU_CHROMIUM`` overrides it.
CHROMIUM = os.environ.get("GRSN_EDU_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
#: Flags of a headless Chromium on a machine with no network: without the background-networking ones it keeps
#: trying to reach Google's services. --no-sandbox because CI runs as root, where the sandbox cannot start.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
#: JupyterLab settings of the test server: no news or update checks (they would ask the network and put a
#: notification over the notebook), and a notebook's kernel starts without a dialog.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                       "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"autoStartDefaultKernel": True},
}
INSTALL_HINT = ("the browser suite needs Chromium: on Debian or Ubuntu run `apt-get install chromium` (as root), "
                "or set GRSN_EDU_CHROMIUM to a Chromium or Chrome executable")


@dataclass
class Lab:
    """A running JupyterLab: ``url(path)`` is an address in it with the token; ``root`` the folder it serves."""

    base: str
    token: str
    root: Path

    def url(self, path: str, *query: str) -> str:
        return f"{self.base}/{path.lstrip('/')}?{'&'.join([*query, f'token={self.token}'])}"

    def shut_down_kernels(self) -> None:
        """End every session (and its kernel): one notebook's kernel should not outlive its test."""
        for session in self._api("GET", "api/sessions"):
            self._api("DELETE", f"api/sessions/{session['id']}")

    def _api(self, method: str, path: str):
        request = urllib.request.Request(f"{self.base}/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def lab(tmp_path_factory) -> Lab:
    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    (root / "data").symlink_to(ROOT / "data", target_is_directory=True)
    settings = tmp_path_factory.mktemp("lab-settings")
    for name, values in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path_factory.mktemp("lab-workspaces"))}
    log = open(tmp_path_factory.mktemp("lab-log") / "jupyterlab.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--allow-root"],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                log.close()
                pytest.fail(f"JupyterLab did not start; its log: {log.name}")
            time.sleep(0.5)
    yield Lab(base, token, root)
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(INSTALL_HINT)  # never skipped: a suite that is not run would pass unseen
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class PageLog:
    """What a page did besides drawing: console messages, uncaught errors, requests."""

    console: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def problems(self, allowed_origin: str) -> list[str]:
        """Console errors and warnings, page errors, and requests that left ``allowed_origin``."""
        found = [f"console {kind}: {text}" for kind, text in self.console if kind in ("error", "warning")]
        found += [f"page error: {e}" for e in self.errors]
        found += [f"request outside {allowed_origin}: {url}" for url in self.requests
                  if not url.startswith((allowed_origin, "data:", "blob:", "about:"))]
        return found


@pytest.fixture
def lab_page(page, lab):
    """A page for a JupyterLab test; the kernels it started are shut down afterwards."""
    yield page
    lab.shut_down_kernels()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.log = PageLog()
    page.on("console", lambda m: page.log.console.append((m.type, m.text)))
    page.on("pageerror", lambda e: page.log.errors.append(str(e)))
    page.on("request", lambda r: page.log.requests.append(r.url))
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in request.node.name)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Give each test its call report, so that the page fixture knows whether to keep a screenshot."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report
