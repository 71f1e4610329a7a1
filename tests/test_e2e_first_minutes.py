"""The README's "Your first five minutes", followed in Chromium as a newcomer would, every claim it
makes checked against what the page draws and against the engine's own numbers."""

from __future__ import annotations

import re

import numpy as np
from e2e import DRAW_ALL, assert_no_failure, wait_until_drawn

import cells
from app.view.state import DEFAULT_TEXT

UNIT = 75
TIMEOUT = 90_000
OPEN, CLOSE = DEFAULT_TEXT.index('"'), DEFAULT_TEXT.index('"', DEFAULT_TEXT.index('"') + 1)

STORY = """() => {
  // The story chart's numbers per character: the text trace's memory and each strip's gate.
  const gd = [...document.querySelectorAll('.gs-chart')].find(
    g => g._fullData && g._fullData.some(t => t.name === 'gates'));
  if (!gd) return null;
  const out = {memory: {}, gates: {}};
  gd._fullData.forEach(trace => Array.from(trace.z).forEach((row, r) => Array.from(row).forEach((z, c) => {
    const where = trace.customdata[r][c];
    if (where === null || z === null || Number.isNaN(z)) return;
    const m = /^char (\\d+):.*?(?:<br>(\\w+))?$/s.exec(where);
    if (!m) return;
    if (m[2]) (out.gates[m[2]] = out.gates[m[2]] || {})[m[1]] = z; else out.memory[m[1]] = z;
  })));
  return out;
}"""
"""What the drawn story shows: step -> the unit's memory, and gate -> step -> value."""

DIAGRAM_F = """() => { const el = document.querySelector('.gs-diagram [data-gate="f"]');
  return el ? Number(el.getAttribute('data-value')) : null; }"""


def test_the_first_five_minutes(page, app_url):
    lstm = cells.pretrained("lstm").read(DEFAULT_TEXT).trace
    f, i, c = lstm.gates["f"][:, UNIT], lstm.gates["i"][:, UNIT], lstm.c[:, UNIT]

    # 1. The default sentence, with a quotation; the story names the unit that tracks quotes.
    page.goto(app_url)
    page.get_by_text(f"Unit {UNIT} tracks “inside quotes”").wait_for(timeout=TIMEOUT)
    wait_until_drawn(page, f"() => ({STORY})() !== null")
    assert_no_failure(page)

    # 2. The strips: f drops at the opening quote and the letter after it and stays near 1 inside,
    # i near 0, c negative from the first quoted letter and positive again at the closing quote;
    # the page draws the engine's numbers.
    story = page.evaluate(STORY)
    drawn_f = np.array([story["gates"]["f"][str(t)] for t in range(len(DEFAULT_TEXT))])
    drawn_c = np.array([story["memory"][str(t)] for t in range(len(DEFAULT_TEXT))])
    np.testing.assert_allclose(drawn_f, f, atol=1e-4)
    np.testing.assert_allclose(drawn_c, c, atol=1e-4)
    inside = slice(OPEN + 1, CLOSE)
    assert f[OPEN] < 0.1 and f[OPEN + 1] < 0.1 and f[inside].mean() > 0.9 and i[inside].mean() < 0.2
    assert c[OPEN + 1] < 0 and np.all(c[inside] < 0.05) and c[CLOSE] > 0

    # 3. Follow the unit, step the scrubber into the quotation: the equations and the drawn cell
    # show unit 75's numbers; the way back can be pressed.
    page.get_by_role("button", name=f"Follow unit {UNIT} in the heatmaps and the scrubber").click()
    wait_until_drawn(page, "() => [...document.querySelectorAll('.gs-player-caption')]"
                           f".some(el => el.textContent.includes('equations of unit {UNIT}'))")
    assert_no_failure(page)
    caption = page.locator(".gs-player-caption").first
    slider = page.locator('.gs-player-controls input[type="range"]').first
    slider.scroll_into_view_if_needed()
    slider.focus()
    slider.press("Home")
    step = OPEN + 3
    for _ in range(step):
        slider.press("ArrowRight")
    page.wait_for_function(f"() => document.querySelector('.gs-player-controls input').value === '{step}'",
                           timeout=TIMEOUT)
    assert caption.inner_text().startswith(f"step {step} of")
    assert abs(page.evaluate(DIAGRAM_F) - f[step]) < 5e-3
    back = page.get_by_role("button", name="∂ The way back").first
    back.click()
    assert back.get_attribute("aria-pressed") == "true"
    assert_no_failure(page)

    # 4. Gradients: the RNN's curve falls fastest: the shortest memory span of the three.
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Gradients").click()
    spans = page.locator('[data-testid="stMetric"]')
    spans.first.wait_for(timeout=TIMEOUT)
    page.wait_for_function(f"() => ({DRAW_ALL})()", timeout=TIMEOUT)
    assert_no_failure(page)
    shown = {}
    for text in spans.all_inner_texts():
        m = re.match(r"(\w+) memory span\D*(\d+)", text)
        if m:
            shown[m.group(1)] = int(m.group(2))
    assert set(shown) == {"RNN", "LSTM", "GRU"} and shown["RNN"] == min(shown.values())

    # 5. Experiments: the claims, seven of them, each one click away.
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Experiments").click()
    page.get_by_role("heading", name=re.compile(r"^7\. ")).wait_for(timeout=TIMEOUT)
    assert_no_failure(page)
    assert page.get_by_role("heading", name=re.compile(r"^\d\. ")).count() == 7
