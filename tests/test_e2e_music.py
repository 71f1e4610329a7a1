"""End to end: the music page (/music) in headless Chromium has audio players with a WAV source."""

from __future__ import annotations

from e2e import assert_no_failure, wait_until_drawn

PLAYERS = 4
"""The melody's player and one per model's continuation (``pages/music.py``: RNN, LSTM, GRU)."""


def test_the_music_page_plays_the_melody(page, app_url):
    page.goto(f"{app_url}/music")
    page.wait_for_selector('textarea[aria-label="Melody"]', timeout=90_000)  # the first run is on
    # Everything the run sent, shown: the players come after the run has ended (Streamlit loads
    # the audio element's code when the first one arrives, and draws a placeholder until then).
    assert_no_failure(page)
    sources = page.eval_on_selector_all("audio", "els => els.map(e => e.getAttribute('src'))")
    assert len(sources) == PLAYERS and all(sources), sources
    response = page.request.get(app_url + sources[0] if sources[0].startswith("/") else sources[0])
    assert response.ok and response.headers["content-type"].startswith("audio/")
    body = response.body()
    assert body[:4] == b"RIFF" and body[8:12] == b"WAVE"
    # the gates over the notes, and the rhythm unit's chart: drawn by plotly.js as they come into view
    wait_until_drawn(page, "() => [...document.querySelectorAll('.js-plotly-plot')]"
                           ".filter(gd => gd._fullData && gd._fullData.length > 0).length === 2")
    assert_no_failure(page)
