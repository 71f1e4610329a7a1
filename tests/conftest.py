"""Shared test fixtures: the app under AppTest, a real Streamlit server, and headless Chromium.

Browser tests use Debian's Chromium (``/usr/bin/chromium``) through Playwright; they never run
``playwright install``. Without Chromium the browser tests fail with a message that says how to
install it (``apt-get install chromium``), rather than being skipped.

Every page ``new_page`` (and ``page``) opens is watched for JavaScript errors (``e2e.watch``): a
test ends in error on one, even if it never calls ``e2e.assert_no_failure`` after it (unless it
provoked it on purpose and took it with ``e2e.take_js_errors``).
``pytest --cpu-slowdown=N`` runs every page's JavaScript N times slower (Chromium's CPU
throttling), the way a loaded machine does, to bring out a test that reads the page too early
(docs/e2e.md).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import e2e
import pytest

ROOT = Path(__file__).resolve().parents[1]
MAIN = str(ROOT / "app" / "main.py")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


START_SECONDS = 120
"""Longest a test server may take to say it is listening (a loaded machine takes 5-10 s)."""


def start_server(script: str = MAIN, *extra: str) -> tuple[subprocess.Popen, str]:
    """``streamlit run script`` headless on a free port; returns (process, base URL) once it says
    it is listening and answers its health check. If it exits first (or is still silent after
    :data:`START_SECONDS`), fails quoting what it printed."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    silent = threading.Timer(START_SECONDS, proc.kill)  # ends the wait below if nothing is said
    silent.start()
    said = []
    for line in proc.stdout:  # until Streamlit prints the URL it listens on, or exits
        said.append(line)
        if url in line:
            break
    silent.cancel()
    if url not in "".join(said):
        stop_server(proc)
        raise RuntimeError(f"streamlit did not start (exit code {proc.returncode}); it said:\n"
                           + "".join(said[-40:]))
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # the rest: read, so it never blocks
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=30) as response:
        assert response.status == 200, f"{url}/_stcore/health answered {response.status}"
    return proc, url


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    """A running gatescope server for the whole test session."""
    proc, url = start_server()
    yield url
    stop_server(proc)


def launch_chromium(playwright):  # -> playwright Browser (sync API), or an awaitable of one (async)
    """Debian's Chromium, headless, with the flags this machine's closed network needs.

    Works with both Playwright APIs: ``launch_chromium(p)`` under ``sync_playwright()``,
    ``await launch_chromium(p)`` under ``async_playwright()`` (bench/bench_load.py).
    """
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


def pytest_addoption(parser) -> None:
    parser.addoption("--cpu-slowdown", type=float, default=1.0, metavar="N",
                     help="browser tests: run every page's JavaScript N times slower (Chromium's CPU "
                     "throttling), as on a loaded machine")


@pytest.fixture
def new_page(browser, app_url, request) -> Iterator:
    """Pages in fresh browser contexts (no shared cookies or storage), closed afterwards.

    Depends on ``app_url`` so the server is up before the first page opens. Check pages with
    ``e2e.assert_no_failure``; every page is watched for JavaScript errors from the start
    (``e2e.watch``), and any left on a page (not taken by ``e2e.take_js_errors``) fails the test
    when it ends.
    """
    contexts, pages = [], []
    slowdown = request.config.getoption("--cpu-slowdown")

    def make(**options):  # more of browser.new_context's options: color_scheme="dark", say
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, **options)
        contexts.append(context)
        page = context.new_page()
        e2e.watch(page)
        if slowdown > 1:
            context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": slowdown})
        pages.append(page)
        return page

    yield make
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:  # the charts' states, for a wait that timed out
        for page in pages:
            print("charts on", e2e.chart_states(page))
    errors = [error for page in pages for error in e2e.js_errors(page)]
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript error(s) on the test's pages: {errors}"


@pytest.fixture
def page(new_page):
    """One page in a fresh browser context, 1400 x 1000."""
    return new_page()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Each phase's report on the test item (``rep_call``): ``new_page`` reads whether the test
    failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
