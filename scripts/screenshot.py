"""The README's picture: the Gates page's first screen on the default sentence, from the running app.

    python scripts/screenshot.py            # writes docs/images/gates.png

Starts the app on a free port, opens it in Debian's Chromium (1280 x 900), waits until the page
shows the first unit's story and the heatmaps drawn, and saves the screen as a small PNG (a
128-colour palette). Run it again when the Gates page changes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import launch_chromium, start_server, stop_server  # noqa: E402
from PIL import Image  # noqa: E402 (Streamlit's dependency)

OUT = ROOT / "docs" / "images" / "gates.png"
VIEWPORT = {"width": 1280, "height": 900}
DRAWN = """() => {
  const charts = [...document.querySelectorAll('.gs-chart')];
  const near = gd => { const r = gd.getBoundingClientRect(); return r.top < innerHeight && r.height > 0; };
  const shown = charts.filter(near);
  return shown.length >= 2 && shown.every(gd => gd._fullLayout && gd._fullData && gd._fullData.length);
}"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    proc, url = start_server()
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_context(viewport=VIEWPORT).new_page()
            page.goto(url, timeout=120_000)
            page.get_by_text("tracks", exact=False).first.wait_for(timeout=120_000)
            page.wait_for_function(DRAWN, timeout=120_000)
            page.evaluate("() => document.activeElement && document.activeElement.blur()")
            raw = args.out.with_suffix(".raw.png")
            page.screenshot(path=str(raw))
            browser.close()
    finally:
        stop_server(proc)
    image = Image.open(raw).convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    image.save(args.out, optimize=True)
    raw.unlink()
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
