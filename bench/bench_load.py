"""Load: several browser sessions edit the Gates page's text at once, for several rounds.

Starts ``streamlit run app/main.py`` (as the tests do), opens ``--sessions`` headless Chromium
contexts (Debian's ``/usr/bin/chromium`` through Playwright), and in every round all of them type
a new text at the same moment (a barrier lines them up) and wait until both charts show it. It
repeats that burst ``--bursts`` times and prints:

* the latency from pressing Ctrl+Enter to the charts showing the new text, median and p95;
* the server's resident memory (``/proc/<pid>/status``) before the first burst, after each burst
  and at its peak: with bounded caches, the second burst should not raise it further;
* the time a new visitor needs to see the page's charts after the burst, beside the first one's;
* any session that did not get its charts or saw an exception or error box (exit code 1 then).

Every loop is bounded (sessions x rounds x bursts) and every wait has a timeout.

    python bench/bench_load.py                 # 6 sessions, 5 rounds, 2 bursts
    python bench/bench_load.py --sessions 3 --rounds 2 --bursts 1
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
from e2e import BOX  # noqa: E402
from e2e import FAILURE as BAD  # noqa: E402  (the tests' failure check: exception or error box)
from playwright.async_api import Browser, Page, async_playwright  # noqa: E402

TIMEOUT_MS = 120_000
WORDS = ("the cat sat on the mat and then it said: i am not moving, ever again. "
         "a quick brown fox jumps over the lazy dog; gates open, gates close.")

SHOWS = """(want) => {
  const plots = [...document.querySelectorAll('.js-plotly-plot')];
  if (plots.length < 2 || !plots[1].layout.sliders) return false;
  const ticks = [...plots[0].querySelectorAll('.subplot.xy .xaxislayer-above .xtick text')];
  return ticks.map(t => t.textContent).join('') === want.replaceAll(' ', '\u2423')
    && plots[1].layout.sliders[0].steps.length === want.length;
}"""
"""True once the heatmaps' token axis and the scrubber both hold ``want`` (spaces shown as ␣)."""


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)  # seconds, one per edit
    failures: list[str] = field(default_factory=list)
    rss_peak_kb: int = 0


def rss_kb(pid: int, field_name: str = "VmRSS") -> int:
    """A process's memory from /proc, in kB (VmRSS: resident now, VmHWM: its peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field_name} not in /proc/{pid}/status")


def text_for(session: int, burst: int, rnd: int) -> str:
    """A distinct text per edit, 60-80 characters (so every token has its own tick)."""
    start = (7 * session + 13 * rnd + 29 * burst) % 60
    return f"s{session} b{burst} r{rnd}: {WORDS[start:start + 60 + 4 * rnd]}".rstrip()


async def shows(page: Page, text: str) -> None:
    await page.wait_for_function(SHOWS, arg=text, timeout=TIMEOUT_MS)


async def open_page(browser: Browser, url: str) -> tuple[Page, float]:
    """A new visitor: a fresh context, the home page, until both charts show the default text."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    start = time.perf_counter()
    await page.goto(url, timeout=TIMEOUT_MS)
    await page.wait_for_selector(BOX, timeout=TIMEOUT_MS)
    await shows(page, await page.locator(BOX).input_value())
    return page, time.perf_counter() - start


async def session(page: Page, who: int, burst: int, rounds: int, barrier: asyncio.Barrier,
                  results: Results) -> None:
    """One visitor's edits: every round, wait for the others, type, time until the charts show it."""
    box = page.locator(BOX)
    for rnd in range(rounds):
        text = text_for(who, burst, rnd)
        where = f"session {who}, burst {burst}, round {rnd}"
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
            await shows(page, text)
        except Exception as exc:  # a timeout: this session did not get its charts
            await fail(page, where, f"no charts: {exc!s:.200}", results)
            continue
        results.latencies.append(time.perf_counter() - start)
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


async def main(sessions: int, rounds: int, bursts: int) -> int:
    proc, url = start_server()
    results = Results()
    try:
        async with async_playwright() as p:
            browser = await launch_chromium(p)
            first, first_seconds = await open_page(browser, url)
            await first.context.close()
            rss = {"before": rss_kb(proc.pid)}
            stop = asyncio.Event()
            sampler = asyncio.create_task(sample_rss(proc.pid, results, stop))
            for burst in range(bursts):
                pages = [page for page, _ in await asyncio.gather(
                    *(open_page(browser, url) for _ in range(sessions)))]
                barrier = asyncio.Barrier(sessions)
                await asyncio.gather(*(session(page, who, burst, rounds, barrier, results)
                                       for who, page in enumerate(pages)))
                await asyncio.gather(*(page.context.close() for page in pages))
                rss[f"after burst {burst + 1}"] = rss_kb(proc.pid)
            stop.set()
            await sampler
            late, late_seconds = await open_page(browser, url)
            late_bad = await late.locator(BAD).count()
            await browser.close()
    finally:
        stop_server(proc)

    edits = sessions * rounds * bursts
    lat = results.latencies
    print(f"gatescope under load: {sessions} sessions x {rounds} rounds x {bursts} bursts "
          f"= {edits} simultaneous edits, {os.cpu_count()} CPUs")
    if lat:
        print(f"edit -> charts: median {statistics.median(lat):.2f} s, "
              f"p95 {percentile(lat, 0.95):.2f} s, max {max(lat):.2f} s ({len(lat)} of {edits} edits)")
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
    parser.add_argument("--sessions", type=int, default=6, choices=range(1, 13))
    parser.add_argument("--rounds", type=int, default=5, choices=range(1, 21))
    parser.add_argument("--bursts", type=int, default=2, choices=range(1, 6))
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.sessions, args.rounds, args.bursts)))
