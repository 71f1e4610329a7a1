"""Shared test fixtures: the app under AppTest, a real Streamlit server, and headless Chromium.

Browser tests use Debian's Chromium (``/usr/bin/chromium``) through Playwright; they never run
``playwright install``. Without Chromium the browser tests fail with a message that says how to
install it (``apt-get install chromium``), rather than being skipped.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

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


def start_server(script: str = MAIN, *extra: str) -> tuple[subprocess.Popen, str]:
    """``streamlit run script`` headless on a free port; returns (process, base URL) once healthy."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", *extra],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("streamlit did not become healthy within 60 s")


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


@pytest.fixture
def new_page(browser, app_url) -> Iterator:
    """Pages in fresh browser contexts (no shared cookies or storage), closed afterwards.

    Depends on ``app_url`` so the server is up before the first page opens. Check pages with
    ``e2e.assert_no_failure``.
    """
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """One page in a fresh browser context, 1400 x 1000."""
    return new_page()
