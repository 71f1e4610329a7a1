"""End to end: the music page (/music) in headless Chromium has audio players with a WAV source."""

from __future__ import annotations

from e2e import assert_no_failure


def test_the_music_page_plays_the_melody(page, app_url):
    page.goto(f"{app_url}/music")
    page.wait_for_selector('textarea[aria-label="Melody"]', timeout=90_000)
    page.wait_for_selector("audio[src]", state="attached", timeout=90_000)
    assert_no_failure(page)
    sources = page.eval_on_selector_all("audio", "els => els.map(e => e.getAttribute('src'))")
    assert len(sources) == 4 and all(sources), sources  # the melody and three continuations
    response = page.request.get(app_url + sources[0] if sources[0].startswith("/") else sources[0])
    assert response.ok and response.headers["content-type"].startswith("audio/")
    body = response.body()
    assert body[:4] == b"RIFF" and body[8:12] == b"WAVE"
    # the gates over the notes: a chart is drawn by plotly.js in the browser, after the run ends
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')]"
                           ".some(gd => gd._fullData && gd._fullData.length > 0)", timeout=60_000)
    assert_no_failure(page)
