"""The Match page under AppTest: its view in the URL (hand-edited garbage falls back to defaults),
what it says when nothing is selected (and that its suggestions select something), the matches of
a selection, nothing to match, the visitor's corpus (refused when too big), a corpus that is not
on the server, and the Cells page's links to it. The corpus readers and the loading of a match
into the box are tested here too, on the app's own compute functions."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from apptest import HOSTILE, assert_clean, chart_specs
from conftest import MAIN
from streamlit.testing.v1 import AppTest

import cells
from app.compute import matching, models
from app.compute.experiments import CARRIERS
from app.view.sequence import prepare_text
from app.view.state import DEFAULT_SPAN, DEFAULT_TEXT, KIND_DEFAULTS, ViewState
from cells.io import corpora

GRU_QUOTE = {"arch": "gru", "sign": "-"}
"""The GRU with units on below minus the threshold: its quote unit selects the default span."""


def open_match(query: dict[str, str] | None = None, timeout: float = 240, **session) -> AppTest:
    """The app opened at a URL with ``query``, then the Match page (``session`` preset first)."""
    at = AppTest.from_file(MAIN, default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    for key, value in session.items():
        at.session_state[key] = value
    return at.switch_page("../pages/match.py").run()


def table(at: AppTest):
    assert len(at.dataframe) == 1, "no table of matches"
    return at.dataframe[0].value


def captions(at: AppTest) -> str:
    return " | ".join(c.value for c in at.caption)


# --------------------------------------------------------------------------- the view in the URL


def test_the_match_view_round_trips_through_the_url():
    state = ViewState(page="match", kind="code", span=(3, 9), threshold=0.25, state="c", sign="-",
                      layers=(0, 2))
    query = state.to_query()
    assert (query["span"], query["threshold"], query["layers"]) == ("3-9", "0.25", "0,2")
    assert ViewState.from_query(query, "match") == state
    assert state.url().startswith("match?")


@pytest.mark.parametrize("params", [
    {"span": "20-9", "threshold": "-1", "state": "q", "sign": "plus", "kind": "jazz", "layers": "x"},
    {"span": "garbage", "threshold": "nan", "state": "", "sign": "+-", "layers": "0,99"},
    {"span": "1-2-3", "threshold": "1e999", "layers": "-1"},
    {"span": ["4"], "threshold": "inf"},
])
def test_hand_edited_match_parameters_fall_back_to_defaults(params):
    state, default = ViewState.from_query(params), ViewState()
    for key in params:
        assert getattr(state, key) == getattr(default, key), key


def test_a_hand_edited_url_opens_the_default_view():
    at = open_match({"span": "20-9", "threshold": "nan", "state": "x", "sign": "?", "kind": "jazz",
                     "layers": "a,b"})
    assert_clean(at)
    assert at.slider(key="span").value == DEFAULT_SPAN
    assert at.slider(key="threshold").value == 0.3
    assert at.radio(key="kind").value == "prose" and at.radio(key="sign").value == "+"


def test_a_span_beyond_the_text_is_moved_inside_it():
    at = open_match({"span": "500-900", "seq": "a short text"})
    assert_clean(at)
    start, end = at.slider(key="span").value
    assert 0 <= start < end <= len("a short text")


# --------------------------------------------------------------------------- nothing selected


def test_nothing_selected_says_which_threshold_would_select_something_and_its_button_does():
    at = open_match()  # the LSTM: no unit is on over the whole quotation and off before it at 0.3
    assert_clean(at)
    assert any("nothing to match" in w.value for w in at.warning)
    box = cells.pretrained("lstm").read(DEFAULT_TEXT).trace.h
    assert len(cells.select_units(box, *DEFAULT_SPAN, 0.3)) == 0
    button = next(b for b in at.button if b.label.startswith("Use threshold"))
    suggested = float(re.search(r"threshold (\d+\.\d+)", button.label)[1])
    assert len(cells.select_units(box, *DEFAULT_SPAN, suggested)) > 0  # it does select something
    part = next(b for b in at.button if b.label.startswith("Select tokens"))
    first, last = map(int, re.search(r"tokens (\d+) to (\d+)", part.label).groups())
    assert DEFAULT_SPAN[0] <= first <= last < DEFAULT_SPAN[1]
    assert len(cells.select_units(box, first, last + 1, 0.3)) > 0
    button.click().run()
    assert_clean(at)
    assert at.slider(key="threshold").value == suggested
    assert "Selected:" in captions(at) and len(table(at)) > 0


# --------------------------------------------------------------------------- matches


def test_the_gru_quote_unit_is_selected_and_its_matches_are_ranked_as_lstmvis_ranks_them():
    at = open_match(GRU_QUOTE)
    assert_clean(at)
    # the unit that carries an open quote (found by the Experiments page's own search) is selected
    assert f"Selected: 1 unit(s), unit {CARRIERS['gru']}" in captions(at)
    found = table(at)
    assert len(found) == 50
    key = list(zip(-found["selected on"], found["others on"], -found["length"], strict=True))
    assert key == sorted(key)
    assert len(chart_specs(at)) == 2  # the selected units over the text, the lengths' histogram


def test_nothing_matches_in_a_corpus_where_the_units_never_switch_on(tmp_path):
    text = b"the cat sat on the mat.\n\nno quotation here, and none there either.\n"
    reader = cells.pretrained("gru")
    unit = CARRIERS["gru"]
    for piece in text.decode().split("\n\n"):  # the unit never reaches -0.3 here
        assert reader.read(piece).trace.h[:, unit].min() > -0.3
    at = open_match(GRU_QUOTE)
    at.file_uploader(key="match_corpus_file").set_value(("mine.txt", text, "text/plain")).run()
    assert_clean(at)
    assert any(i.value.startswith("Nothing matches") for i in at.info)
    assert "your corpus (2 pieces" in " ".join(s.value for s in at.subheader)
    assert not at.dataframe


def test_a_corpus_file_over_the_limit_is_refused_and_the_shipped_corpus_is_searched():
    at = open_match(GRU_QUOTE)
    big = b"a" * (matching.MAX_OWN_CORPUS_MB * 2**20 + 1)
    at.file_uploader(key="match_corpus_file").set_value(("big.txt", big, "text/plain")).run()
    assert not at.exception
    refused = [e.value for e in at.error]
    assert len(refused) == 1 and refused[0].startswith("This corpus was refused")
    assert f"{matching.MAX_OWN_CORPUS_MB} MB" in refused[0]
    assert "held-out fortunes" in " ".join(s.value for s in at.subheader) and len(table(at)) == 50


def test_without_the_fortunes_the_page_says_so_and_offers_your_corpus(monkeypatch):
    monkeypatch.setattr(corpora, "find_fortunes", lambda: None)
    matching.shipped_corpus.clear()
    try:
        at = open_match(GRU_QUOTE)
        assert_clean(at)
        assert any("fortunes" in i.value and "Upload your own corpus" in i.value for i in at.info)
        assert not at.dataframe
    finally:
        matching.shipped_corpus.clear()


@pytest.mark.parametrize("name", list(HOSTILE))
def test_any_text_gives_a_page(name):
    at = open_match({"arch": "gru", "sign": "-", "span": "0-3"}, seq=HOSTILE[name])
    assert_clean(at)


def test_each_kind_opens_with_its_own_text_and_span():
    at = open_match({"kind": "code"})
    assert_clean(at)
    text, span = KIND_DEFAULTS["code"]
    assert at.text_area(key="seq").value == text and at.slider(key="span").value == span


# --------------------------------------------------------------------------- the Cells page's links


def test_the_cells_page_links_each_ranked_unit_to_the_span_that_selects_it():
    at = AppTest.from_file(MAIN, default_timeout=240).run()
    at.switch_page("../pages/cells.py").run()
    assert_clean(at)
    links = [b.proto.url for b in at.get("link_button")]
    assert links
    reading = cells.pretrained("lstm").read(DEFAULT_TEXT).trace
    for url in links:
        unit = int(re.search(r"unit (\d+)", next(b.proto.label for b in at.get("link_button")
                                                 if b.proto.url == url))[1])
        assert urlsplit(url).path == "match"
        view = ViewState.from_query({k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}, "match")
        states = getattr(reading, view.state) * (-1 if view.sign == "-" else 1)
        assert unit in cells.select_units(states, *view.span, view.threshold)


# --------------------------------------------------------------------------- corpora and loading


def test_a_match_loaded_into_the_box_reads_as_it_did_in_the_corpus():
    key = matching.resolve("prose", "gru", "trained")
    corpus = matching.shipped_corpus("prose")
    query = matching.Query(DEFAULT_SPAN, sign="-")
    view = matching.match_view(key, prepare_text(DEFAULT_TEXT), query, corpus)
    reader = models.load(key).reader
    for row in view.matches[:5]:
        text, (start, end) = matching.loaded_box(view, row)
        assert text in corpus.pieces
        rows = int(view.searched.many.starts[row.piece])
        expected = -view.searched.many.states[rows:rows + len(text)]  # the search read them negated
        # float16 keeps 11 significant bits; read in float32, tiny states differ by ~1e-7 more
        np.testing.assert_allclose(reader.read(text).trace.h, expected, rtol=2**-10, atol=1e-5)
        assert "".join(matching.shown_label(ch) for ch in text[start:end]) == row.matched


def test_your_corpus_is_read_in_paragraphs_and_refused_with_a_reason():
    corpus = matching.read_own_corpus(b"first one\n\n\nsecond\r\non two lines\n")
    assert corpus.pieces == ("first one", "second\non two lines")
    long = matching.read_own_corpus(("word " * 1000).encode())  # 5,000 characters: 3 pieces
    assert [len(p) for p in long.pieces] == [2000, 2000, 1000]
    for data, reason in ((b"\xff\xfe\x00", "not UTF-8"), (b"a\x00b", "NUL"), (b"\n\n  \n", "no text")):
        with pytest.raises(ValueError, match=reason):
            matching.read_own_corpus(data)


SONGS = [{"meter": "3/4", "notes": [[60 + (k * i) % 12, 1.0, 0.0, 3.0] for i in range(30)]}
         for k in range(1, 21)]
SONGS[10]["notes"][3][1] = 1 / 3  # a triplet the notation cannot write: left out of the search
"""Twenty made-up melodies of 30 notes (the Essen corpus is music21's, not always installed)."""


@pytest.fixture
def few_songs(monkeypatch):
    """The melody corpus made of :data:`SONGS` (every 10th held out: songs 0 and 10)."""
    monkeypatch.setattr(corpora, "read_essen", lambda: SONGS)
    monkeypatch.setattr(corpora, "essen_available", lambda: True)
    matching.shipped_corpus.clear()
    yield
    matching.shipped_corpus.clear()


def test_the_melody_models_search_the_held_out_melodies(few_songs):
    at = open_match({"kind": "melody", "arch": "gru"})
    assert_clean(at)
    text, span = KIND_DEFAULTS["melody"]
    assert at.text_area(key="seq").value == text and at.slider(key="span").value == span
    assert "Model: GRU, 64 units, trained by gatescope on the Essen folk songs" in captions(at)
    assert "Matches in the held-out Essen melodies" in " ".join(s.value for s in at.subheader)
    assert len(table(at)) > 0


def test_the_melodies_are_searched_and_a_match_loads_as_notation(few_songs):
    pieces = matching.held_out_pieces("melody")
    assert len(pieces) == 2 and [len(p) for p in pieces] == [30, 29]  # songs 0 and 10, held out
    corpus = matching.shipped_corpus("melody")
    assert corpus.meters == ("3/4", "3/4")
    for piece in range(2):  # the box's notation reads back the same notes
        assert cells.parse(corpus.box_text(piece)).tokens == list(corpus.pieces[piece])
    key = matching.resolve("melody", "lstm", "trained")
    box = prepare_text(corpus.box_text(1))
    values = matching.box_reading(key, box, ()).rows["h"]  # (29, H)
    unit, span = next((u, s) for u in range(values.shape[1])
                      if (s := cells.match.strongest_span(values, u)) is not None)
    view = matching.match_view(key, box, matching.Query(span), corpus)
    assert unit in view.units and view.searched.steps == 59
    # the piece in the box is in the corpus: the span is found there
    assert any(m.piece == 1 and m.start <= span[0] and span[1] <= m.end for m in view.matches)


def test_an_uploaded_stack_is_searched_several_layers_at_once():
    """examples/torch-char-lstm2.safetensors (nn.Embedding + nn.LSTM(num_layers=2) + nn.Linear):
    both layers' units selected and matched side by side, named by layer."""
    data = (Path(MAIN).parents[1] / "examples" / "torch-char-lstm2.safetensors").read_bytes()
    reader = cells.read_model(data)
    text = "Beautiful is better than ugly. Explicit is better than implicit."
    trace = reader.read(text).trace
    both = np.hstack([trace.layers[0].h, trace.layers[1].h])  # (T, 2H): layer 0's units, then 1's
    H = reader.cell.hidden_size
    unit = H + int(np.argmax(trace.layers[1].h.std(axis=0)))  # layer 1's most varied unit
    span = cells.match.strongest_span(both, unit) or cells.match.strongest_span(-both, unit)
    sign = "+" if cells.match.strongest_span(both, unit) == span else "-"
    expected = cells.select_units((1 if sign == "+" else -1) * both, *span)
    at = AppTest.from_file(MAIN, default_timeout=240)
    at.query_params["seq"] = text
    at.run()
    at.file_uploader(key="upload_file").set_value(("model.safetensors", data, "application/octet-stream"))
    at.run()
    at.session_state["layers"], at.session_state["span"], at.session_state["sign"] = [0, 1], span, sign
    at.switch_page("../pages/match.py").run()
    assert_clean(at)
    assert at.multiselect(key="layers").value == [0, 1]
    names = [f"layer {u // H} unit {u % H}" for u in expected]
    assert f"Selected: {len(expected)} unit(s), {', '.join(names[:40])}" in captions(at)
    assert at.dataframe or any(i.value.startswith("Nothing matches") for i in at.info)
