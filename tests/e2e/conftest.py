"""End-to-end fixtures: a real ``orientia serve`` process, a local htmx, Debian's Chromium.

Nothing here downloads a browser: Playwright drives the system ``chromium``. htmx and axe-core come
from npm (``npm pack``) into ``tests/e2e/vendor/`` (git-ignored) the first time.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from ..conftest import stop_process

HERE = Path(__file__).parent
VENDOR = HERE / "vendor"
ROOT = HERE.parent.parent
SCREENSHOTS = ROOT / "docs" / "screenshots"

#: npm package -> (file inside the package, file name in vendor/).
PACKAGES = {
    "htmx.org@2.0.11": ("package/dist/htmx.min.js", "htmx.min.js"),
    "axe-core@4.14.1": ("package/axe.min.js", "axe.min.js"),
}
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 780}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fetch_vendor() -> None:
    """Get htmx and axe-core from npm unless already there."""
    VENDOR.mkdir(exist_ok=True)
    for spec, (member, name) in PACKAGES.items():
        if (VENDOR / name).exists():
            continue
        if shutil.which("npm") is None:
            pytest.fail(f"npm is needed once to fetch {spec} into {VENDOR}")
        out = subprocess.run(
            ["npm", "pack", spec, "--silent", "--pack-destination", str(VENDOR)],
            capture_output=True, text=True, timeout=300, check=True,
        )
        tarball = VENDOR / out.stdout.strip().splitlines()[-1]
        with tarfile.open(tarball) as tar:
            source = tar.extractfile(member)
            assert source is not None, f"{member} missing from {tarball.name}"
            (VENDOR / name).write_bytes(source.read())
        tarball.unlink()


@pytest.fixture(scope="session")
def vendor() -> Path:
    """tests/e2e/vendor with htmx.min.js and axe.min.js."""
    _fetch_vendor()
    return VENDOR


@pytest.fixture(scope="session")
def axe_source(vendor) -> str:
    return (vendor / "axe.min.js").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def htmx_url(vendor):
    """A small static server for the local htmx copy (the app's ORIENTIA_HTMX_URL)."""
    handler = functools.partial(_QuietHandler, directory=str(vendor))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", _free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, name="htmx-static", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/htmx.min.js"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # the stdlib's signature
        pass


@contextmanager
def running_server(corpus_dir: Path, base: Path, htmx_url: str, **extra_env: str):
    """A real ``python -m web serve`` over a private copy of the ingested corpus; its base URL."""
    data_dir = base / "data"
    shutil.copytree(corpus_dir, data_dir)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORIENTIA_")}
    env["ORIENTIA_RATE_LIMIT"] = "off"  # the browser tests ask many questions; a test may set it
    env.update(
        ORIENTIA_DATA_DIR=str(data_dir), ORIENTIA_HTMX_URL=htmx_url, ORIENTIA_LOG_LEVEL="WARNING",
        HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False",
    )
    env.update(extra_env)  # may override the defaults above (e.g. ORIENTIA_LOG_LEVEL)
    log_path = base / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "web", "serve", "--port", str(port)],
            cwd=base, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, log_path)
        yield url
    finally:
        stop_process(process)


@pytest.fixture(scope="session")
def server(corpus_dir, tmp_path_factory, htmx_url):
    """The app as a user runs it (grounded writer)."""
    with running_server(corpus_dir, tmp_path_factory.mktemp("e2e-server"), htmx_url) as url:
        yield url


def _wait_ready(url: str, process: subprocess.Popen, log_path: Path, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited ({process.returncode}):\n{log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    pytest.fail(f"the server was not ready after {timeout:.0f} s:\n{log_path.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never ``playwright install``)."""
    from playwright.sync_api import expect

    # Answers take from a few hundred milliseconds to several seconds on a shared 2-core machine:
    # waits are generous so the tests check behaviour, not speed.
    expect.set_options(timeout=30_000)
    yield from _launch_browser()


def _launch_browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is required: apt-get install -y chromium (scripts/test.sh does it)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Console:
    """Errors the page logged (a CSP violation shows up here)."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def __call__(self, message) -> None:
        if message.type == "error":
            self.errors.append(message.text)


def _new_page(browser, *, viewport=DESKTOP, javascript=True):
    context = browser.new_context(viewport=viewport, locale="fr-FR", java_script_enabled=javascript, accept_downloads=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.console = Console()
    page.on("console", page.console)
    page.on("pageerror", lambda exc: page.console.errors.append(str(exc)))
    return context, page


@pytest.fixture
def page(browser):
    """A desktop page with JavaScript."""
    context, page = _new_page(browser)
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    """A 360 x 780 page with JavaScript."""
    context, page = _new_page(browser, viewport=PHONE)
    yield page
    context.close()


@pytest.fixture
def nojs_page(browser):
    """A desktop page with JavaScript disabled (plain form posts and links)."""
    context, page = _new_page(browser, javascript=False)
    yield page
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
