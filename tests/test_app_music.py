"""The music page (url path ``music``) under AppTest: the melody, its sound, the gates over the
notes with bar lines, the continuations, the rhythm unit, and hostile input."""

from __future__ import annotations

import ast
import io
import wave

import pytest
from apptest import HOSTILE, assert_clean, chart_specs, open_page, run_app
from conftest import ROOT

from app.compute import melodies as music
from app.view.state import MAX_QUERY_SEQ, ViewState
from cells.music import notation, rhythm, sound
from cells.music.tunes import TUNES


@pytest.fixture(scope="module")
def page():
    at = open_page("music.py")
    assert_clean(at)
    return at


def audio_urls(at) -> list[str]:
    """Where each audio player's file is served from (one URL per distinct WAV)."""
    return [el.proto.url for el in at.get("audio")]


def heatmaps(at) -> dict:
    return chart_specs(at)[0]


def test_the_page_is_declared_at_url_path_music():
    tree = ast.parse((ROOT / "app" / "main.py").read_text())
    pages = next(ast.literal_eval(node.value) for node in tree.body
                 if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PAGES")
    assert ("music.py", "Melodies", ":material/music_note:", "music") in pages


def test_the_default_tune_is_heard_seen_with_bar_lines_and_continued(page):
    melody = notation.parse(TUNES[next(iter(TUNES))])
    assert len(page.get("audio")) == 4  # the melody and one continuation per cell
    fig = heatmaps(page)
    notes = fig["data"][0]["x"]  # the heatmap's columns
    assert len(notes) == len(melody) and notes[0].endswith("«C4 q»")
    lines = [s["x0"] for s in fig["layout"]["shapes"]]
    assert lines == [t - 0.5 for t in melody.bar_starts] and len(lines) == 11
    codes = [c.value for c in page.main.code]
    assert len(codes) == 3 and all(len(c.split()) == 2 * 16 for c in codes)
    assert page.dataframe[0].value["property"].tolist()  # the rhythm ranking
    unit_chart = chart_specs(page)[1]
    assert rhythm.BAR_POSITION in unit_chart["layout"]["title"]["text"]


def test_the_players_serve_wav_files_and_the_page_wav_is_as_long_as_the_notes(page):
    urls = audio_urls(page)
    assert len(urls) == 4 and all(u.endswith(".wav") for u in urls)
    assert len(set(urls)) == 4  # the melody and three different continuations
    read = music.read_melody(TUNES[next(iter(TUNES))])
    snd = music.melody_sound(read.melody)  # what the first player plays (cached by the page)
    with wave.open(io.BytesIO(snd.wav)) as w:
        assert w.getframerate() == sound.SAMPLE_RATE and w.getsampwidth() == 2
        assert w.getnframes() == round(read.melody.quarters.sum() * 60 / sound.TEMPO * sound.SAMPLE_RATE)


def test_picking_a_tune_loads_it_and_a_shared_link_restores_the_view():
    at = open_page("music.py")
    at.selectbox(key="music_tune").set_value("Greensleeves (3/4)").run()
    assert_clean(at)
    assert at.text_area(key="melody").value == TUNES["Greensleeves (3/4)"]
    at.slider(key="temperature").set_value(0.0).run()
    greedy = [c.value for c in at.main.code]
    at.slider(key="sample_seed").set_value(5).run()
    assert [c.value for c in at.main.code] == greedy  # greedy: the seed does not matter
    assert at.query_params["temperature"] == ["0"] or at.query_params["temperature"] == "0"
    shared = run_app({"melody": "3/4 G4 q | C5 h E5 q |", "temperature": "0"})
    shared.switch_page("../pages/music.py").run()
    assert_clean(shared)
    assert shared.text_area(key="melody").value == "3/4 G4 q | C5 h E5 q |"


def test_sampling_at_temperature_one_changes_with_the_seed(page):
    page.slider(key="temperature").set_value(1.0).run()
    page.slider(key="sample_seed").set_value(1).run()
    first = [c.value for c in page.main.code]
    page.slider(key="sample_seed").set_value(2).run()
    assert [c.value for c in page.main.code] != first
    page.slider(key="sample_seed").set_value(1).run()
    assert [c.value for c in page.main.code] == first  # reproducible


def test_bad_notation_is_named_and_the_rest_of_the_page_stays(page):
    page.text_area(key="melody").set_value("C4 q D4 q\nE4 h H9 q | G4").run()
    assert_clean(page)
    warned = [w.value for w in page.warning]
    assert any("could not be read" in w for w in warned), warned
    shown = [t.value for t in page.text]
    assert any("line 2, column 6: 'H9' is not a pitch" in t for t in shown), shown
    assert any("line 2, column 13: 'G4' needs a duration" in t for t in shown), shown
    assert len(page.get("audio")) == 4 and len(chart_specs(page)) == 2  # the 3 good notes are shown
    assert page.selectbox(key="music_tune").value == "your melody"


@pytest.mark.parametrize("name", [*HOSTILE, "only rests", "unknown notes", "notation 20k"])
def test_hostile_input_never_breaks_the_page(page, name):
    text = {"only rests": "r q r h | r w", "unknown notes": "C0 s. C#8 w.. r s.",
            "notation 20k": "C4 e D4 e " * 2000}.get(name) or HOSTILE[name]
    page.text_area(key="melody").set_value(text).run()
    assert_clean(page)
    melody = notation.parse(text, strict=False)
    if len(melody) == 0:
        assert any("Type a melody" in i.value for i in page.info)
        assert not page.get("audio") and not chart_specs(page)
    else:
        assert len(page.get("audio")) == 4
    if name == "notation 20k":
        assert any("only the first 400 are read" in w.value for w in page.warning)
        assert len(heatmaps(page)["data"][0]["x"]) == 400
    if name == "20k":
        assert any("could not be read" in w.value for w in page.warning)


def test_the_melody_temperature_and_seed_round_trip_through_the_url():
    state = ViewState(melody="3/4 G4 q | C5 h E5 q |", temperature=0.3, sample_seed=12)
    assert ViewState.from_query(state.to_query()) == state
    assert ViewState().to_query() == {}  # the default tune stays out of the URL
    bad = ViewState.from_query({"temperature": "5", "sample_seed": "-1", "melody": ["x" * 30_000]})
    assert bad.temperature == ViewState().temperature and bad.sample_seed == 0
    assert len(bad.melody) == MAX_QUERY_SEQ
