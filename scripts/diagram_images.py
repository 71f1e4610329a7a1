"""Draw docs/images/diagram-*.png: the cell diagram as the Gates page shows it, from the running app.

    python scripts/diagram_images.py

Starts the app (``streamlit run app/main.py``) and Debian's headless Chromium, opens the Gates
page on one sentence for the LSTM, the GRU (the shipped models) and the LSTM-CIFG (seeded random
weights: gatescope ships no trained CIFG) with unit UNIT followed and the scrubber at step STEP,
and saves each diagram (and the LSTM's way back) as a small PNG (64 colours). Prints the numbers
each picture shows, as the engine computes them, for docs/diagram.md.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import quote

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import launch_chromium, start_server, stop_server  # noqa: E402
from e2e import DRAW_ALL  # noqa: E402

TEXT = 'She said "not again" and left.'
UNIT = 5
STEP = 12
"""The scrubber's step: the 't' of "not", inside the quotes."""
OUT = ROOT / "docs" / "images"
PICTURES = {  # file -> (arch, weights, the way back shown)
    "diagram-lstm.png": ("lstm", "trained", False),
    "diagram-gru.png": ("gru", "trained", False),
    "diagram-cifg.png": ("lstm-cifg", "random", False),
    "diagram-lstm-way-back.png": ("lstm", "trained", True),
}
NUMBERS = """(figure) => Object.fromEntries([...figure.querySelectorAll('[data-node]')]
    .map(el => [el.dataset.node, el.dataset.value]))"""


def main() -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    proc, url = start_server()
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
            for name, (arch, weights, way_back) in PICTURES.items():
                page.goto(f"{url}/?seq={quote(TEXT)}&arch={arch}&model={weights}&unit={UNIT}&step={STEP}")
                page.wait_for_function(f"() => ({DRAW_ALL})() && document.querySelector('.gs-diagram')",
                                       timeout=120_000)
                figure = page.locator(".gs-diagram-box").first
                figure.scroll_into_view_if_needed()
                if way_back:
                    page.get_by_role("button", name="∂ The way back").click()
                figure.evaluate("el => el.scrollIntoView({block: 'center'})")  # clear of the page's header
                path = OUT / name
                figure.screenshot(path=str(path))
                Image.open(path).convert("RGB").quantize(64).save(path, optimize=True)
                print(f"{name} ({arch}, {weights} weights, unit {UNIT}, step {STEP}): "
                      f"{page.locator('.gs-player-caption').first.inner_text().splitlines()[0]}")
                print("   ", figure.evaluate(NUMBERS))
            browser.close()
    finally:
        stop_server(proc)


if __name__ == "__main__":
    main()
