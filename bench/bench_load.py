"""Load: many browser sessions edit the text at once, on the Gates and Gradients pages.

Starts ``streamlit run app/main.py`` (as the tests do), opens ``--sessions`` headless Chromium
contexts (Debian's ``/usr/bin/chromium`` through Playwright), half of them on Gates and half on
Gradients (``--pages``, dealt in turn), and in every round all of them type a new text at the same
moment (a barrier lines them up) and wait until every chart on their page shows it (the tests'
``CHARTS_READY``: the token count each chart carries). It repeats that burst ``--bursts`` times and
prints:

* the latency from pressing Ctrl+Enter to the charts showing the new text: median and p95, over
  all edits and per page;
* the server's resident memory (``/proc/<pid>/status``) before the first burst, after each burst
  and at its peak: with bounded caches (tests/test_caches.py), the second burst should not raise it
  further. Streamlit keeps a closed tab's session for ``server.disconnectedSessionTTL`` seconds
  (120 by default); the server here runs with ``--session-ttl`` (10 s), and memory is read after
  each burst once that has passed and a new visitor has come (Streamlit drops expired sessions
  when one connects), so that it counts what the server keeps, not the tabs just closed;
* the time a new visitor needs to see the Gates page's charts after the bursts, beside the first
  visitor's;
* any session that did not get its charts or saw an exception or error box (exit code 1 then).

Every loop is bounded (sessions x rounds x bursts) and every wait has a timeout.

    python bench/bench_load.py                 # 12 sessions (6 Gates, 6 Gradients), 5 rounds, 2 bursts
    python bench/bench_load.py --sessions 4 --rounds 2 --bursts 1
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import launch_chromium, start_server, stop_server  # noqa: E402
from e2e import BOX, CHARTS_READY  # noqa: E402
from e2e import FAILURE as BAD  # noqa: E402  (the tests' failure check: exception or error box)
from playwright.async_api import Browser, Page, async_playwright  # noqa: E402

TIMEOUT_MS = 120_000
WORDS = ("the cat sat on the mat and then it said: i am not moving, ever again. "
         "a quick brown fox jumps over the lazy dog; gates open, gates close.")
PAGES = {"gates": ("", 3), "gradients": ("gradients", 3)}
"""Page name -> (URL path, charts it draws for a text): Gates' story, heatmaps and scrubber;
Gradients' gradient curves, their why and the what-if."""


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=dict)  # page -> seconds, per edit
    failures: list[str] = field(default_factory=list)
    rss_peak_kb: int = 0


def rss_kb(pid: int, field_name: str = "VmRSS") -> int:
    """A process's memory from /proc, in kB (VmRSS: resident now, VmHWM: its peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field_name} not in /proc/{pid}/status")


def text_for(session: int, burst: int, rnd: int) -> str:
    """A distinct text per edit, 60-80 characters (under the Gradients page's default length)."""
    start = (7 * session + 13 * rnd + 29 * burst) % 60
    return f"s{session} b{burst} r{rnd}: {WORDS[start:start + 60 + 4 * rnd]}".rstrip()


async def shows(page: Page, name: str, text: str) -> None:
    await page.wait_for_function(CHARTS_READY, arg={"count": PAGES[name][1], "T": len(text)},
                                 timeout=TIMEOUT_MS)


async def open_page(browser: Browser, url: str, name: str = "gates") -> tuple[Page, float]:
    """A new visitor: a fresh context, the page, until its charts show the text in the box."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    start = time.perf_counter()
    await page.goto(f"{url}/{PAGES[name][0]}", timeout=TIMEOUT_MS)
    await page.wait_for_selector(BOX, timeout=TIMEOUT_MS)
    await shows(page, name, await page.locator(BOX).input_value())
    return page, time.perf_counter() - start


async def session(page: Page, name: str, who: int, burst: int, rounds: int, barrier: asyncio.Barrier,
                  results: Results) -> None:
    """One visitor's edits: every round, wait for the others, type, time until the charts show it."""
    box = page.locator(BOX)
    for rnd in range(rounds):
        text = text_for(who, burst, rnd)
        where = f"session {who} ({name}), burst {burst}, round {rnd}"
        try:
            await box.fill(text, timeout=TIMEOUT_MS)
        except Exception as exc:  # the box never came back: this session lost its page
            await fail(page, where, f"no text box: {exc!s:.200}", results)
            await barrier.wait()  # the others still go ahead together
            continue
        await barrier.wait()
        start = time.perf_counter()
        await box.press("Control+Enter")
        try:
            await shows(page, name, text)
        except Exception as exc:  # a timeout: this session did not get its charts
            await fail(page, where, f"no charts: {exc!s:.200}", results)
            continue
        results.latencies.setdefault(name, []).append(time.perf_counter() - start)
        if await page.locator(BAD).count():
            await fail(page, where, "an error box", results)


async def fail(page: Page, where: str, what: str, results: Results) -> None:
    """Record a failure, with a screenshot of what the visitor saw."""
    shot = Path(f"/tmp/bench_load_{len(results.failures)}.png")
    await page.screenshot(path=shot)
    results.failures.append(f"{where}: {what} (screenshot {shot})")


async def sample_rss(pid: int, results: Results, stop: asyncio.Event) -> None:
    while not stop.is_set():
        results.rss_peak_kb = max(results.rss_peak_kb, rss_kb(pid))
        await asyncio.sleep(0.2)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def describe(values: list[float]) -> str:
    return (f"median {statistics.median(values):.2f} s, p95 {percentile(values, 0.95):.2f} s, "
            f"max {max(values):.2f} s")


async def settle(browser: Browser, url: str, ttl: int) -> None:
    """Wait until the closed tabs' sessions have expired, then let a visitor in (which drops them)."""
    await asyncio.sleep(ttl + 2)
    probe, _ = await open_page(browser, url)
    await probe.context.close()


async def main(sessions: int, rounds: int, bursts: int, pages: list[str], ttl: int) -> int:
    proc, url = start_server(str(ROOT / "app" / "main.py"), "--server.disconnectedSessionTTL", str(ttl))
    results = Results()
    try:
        async with async_playwright() as p:
            browser = await launch_chromium(p)
            first, first_seconds = await open_page(browser, url)
            await first.context.close()
            rss = {"before": rss_kb(proc.pid)}
            stop = asyncio.Event()
            sampler = asyncio.create_task(sample_rss(proc.pid, results, stop))
            names = [pages[who % len(pages)] for who in range(sessions)]
            for burst in range(bursts):
                opened = []
                for name in names:  # one at a time: 12 first loads at once are not the test
                    opened.append((await open_page(browser, url, name))[0])
                barrier = asyncio.Barrier(sessions)
                await asyncio.gather(*(session(page, name, who, burst, rounds, barrier, results)
                                       for who, (page, name) in enumerate(zip(opened, names, strict=True))))
                await asyncio.gather(*(page.context.close() for page in opened))
                await settle(browser, url, ttl)
                rss[f"after burst {burst + 1}"] = rss_kb(proc.pid)
            stop.set()
            await sampler
            late, late_seconds = await open_page(browser, url)
            late_bad = await late.locator(BAD).count()
            await browser.close()
    finally:
        stop_server(proc)

    edits = sessions * rounds * bursts
    every = [s for values in results.latencies.values() for s in values]
    split = ", ".join(f"{names.count(n)} on {n}" for n in pages)
    print(f"gatescope under load: {sessions} sessions ({split}) x {rounds} rounds x {bursts} bursts "
          f"= {edits} simultaneous edits, {os.cpu_count()} CPUs")
    if every:
        print(f"edit -> charts, all pages: {describe(every)} ({len(every)} of {edits} edits)")
    for name, values in results.latencies.items():
        print(f"edit -> charts, {name}: {describe(values)} ({len(values)} edits)")
    print("server RSS: " + ", ".join(f"{k} {v / 1024:.0f} MB" for k, v in rss.items())
          + f", peak {results.rss_peak_kb / 1024:.0f} MB")
    print(f"first visitor: charts in {first_seconds:.2f} s; "
          f"new visitor after the bursts: charts in {late_seconds:.2f} s")
    failures = results.failures + (["the new visitor saw an error box"] if late_bad else [])
    for failure in failures:
        print("FAILED:", failure)
    print("all sessions got their charts, no error box" if not failures
          else f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=12, choices=range(1, 25))
    parser.add_argument("--rounds", type=int, default=5, choices=range(1, 21))
    parser.add_argument("--bursts", type=int, default=2, choices=range(1, 6))
    parser.add_argument("--pages", nargs="+", default=list(PAGES), choices=list(PAGES))
    parser.add_argument("--session-ttl", type=int, default=10,
                        help="seconds the server keeps a closed tab's session (Streamlit's default: 120)")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.sessions, args.rounds, args.bursts, args.pages, args.session_ttl)))
