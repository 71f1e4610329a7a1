"""Every cache the app keeps is bounded: a list of them all, checked against the code, and each one
filled past its bound to see that it keeps at most that many entries.

The app's caches (a server's memory stays flat however many visitors come, bench/bench_load.py):

================================================ ========================== =====
cache                                            kind                       bound
================================================ ========================== =====
app/compute/models.py _load_shipped_or_random    st.cache_resource          24
app/compute/models.py _read                      st.cache_data              16 (READ_ENTRIES)
app/compute/models.py _step_seconds              st.cache_data, ttl 300 s   16
app/compute/models.py _continuation              st.cache_data              64
app/compute/models.py _decision                  st.cache_data              16
app/compute/gradient_profiles.py _profiles       st.cache_data              32
app/compute/gradient_profiles.py _edit_distances st.cache_data              32
app/compute/forecasts.py _forecast               st.cache_data              16
app/compute/example_series.py example_values     st.cache_data              4
app/compute/docs.py read_doc                    st.cache_data              16
app/compute/example_series.py csv_table          st.cache_data              8
app/compute/writing.py _written                  st.cache_data              12 (WRITE_ENTRIES)
app/compute/ranking.py _units                    st.cache_data              16
app/compute/ranking.py _strongest                st.cache_data              16
app/compute/melodies.py _sound                   st.cache_data              32
app/compute/melodies.py _ranking                 st.cache_data              32
app/compute/lab.py claims_data                   st.cache_data              1 (no arguments)
app/compute/lab.py _forget_bias_spans            st.cache_data              32
app/compute/training.py _store, _server_lock     st.cache_resource          1 each (no arguments)
app/compute/training.py LRUMap (in _store)       LRU map                    24 (CACHE_ENTRIES)
app/compute/models.py _resumables                st.cache_resource          1 (no arguments)
app/compute/models.py LRUMap (in _resumables)    LRU map                    8 (RESUME_ENTRIES)
app/compute/matching.py shipped_corpus           st.cache_resource          3 (one per kind)
app/compute/matching.py _store                   st.cache_resource          1 (no arguments)
app/compute/matching.py LRUMap (in _store)       LRU map                    3 (CORPUS_ENTRIES)
app/component/live_chart.py serve_plotly_js      st.cache_resource          1 (no arguments)
app/charts/base.py _grid_layout                 functools.lru_cache        32
app/charts/scrubber.py _equation_text           functools.lru_cache        32
app/charts/cell_layout.py cell_layout            functools.lru_cache        32
app/charts/diagram.py colour_table, ink_table    functools.lru_cache        8 each
app/compute/experiments.py quote_carriers        functools.lru_cache        4
app/compute/experiments.py _costs                functools.lru_cache        2
================================================ ========================== =====

A Streamlit cache function is called outside a script run here (Streamlit then keeps it in
memory, as the server does) and its entries are counted by their recomputations: fill it with
bound + 1 different arguments, call the last ``bound`` again (no recomputation: all kept), then the
first (recomputed: it was dropped).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import cells
from app.charts import base as charts
from app.charts import cell_layout, diagram, scrubber
from app.compute import docs, experiments, forecasts, lab, matching, models, ranking, training, writing
from app.compute import example_series as series
from app.compute import gradient_profiles as gradients
from app.compute import melodies as music
from app.compute.lru import LRUMap

ROOT = Path(__file__).resolve().parents[1]

BOUNDS = {
    "app/compute/models.py:_load_shipped_or_random": 24,
    "app/compute/models.py:_read": 16,
    "app/compute/models.py:_step_seconds": 16,
    "app/compute/models.py:_continuation": 64,
    "app/compute/models.py:_decision": 16,
    "app/compute/melodies.py:_sound": 32,
    "app/compute/melodies.py:_ranking": 32,
    "app/compute/lab.py:claims_data": 1,
    "app/compute/lab.py:_forget_bias_spans": 32,
    "app/compute/gradient_profiles.py:_profiles": 32,
    "app/compute/gradient_profiles.py:_edit_distances": 32,
    "app/compute/forecasts.py:_forecast": 16,
    "app/compute/example_series.py:example_values": 4,
    "app/compute/example_series.py:csv_table": 8,
    "app/compute/docs.py:read_doc": 16,
    "app/compute/writing.py:_written": 12,
    "app/compute/ranking.py:_units": 16,
    "app/compute/ranking.py:_strongest": 16,
    "app/compute/training.py:_store": 1,
    "app/compute/models.py:_resumables": 1,
    "app/compute/matching.py:shipped_corpus": 3,
    "app/compute/matching.py:_store": 1,
    "app/compute/training.py:_server_lock": 1,
    "app/component/live_chart.py:serve_plotly_js": 1,
    "app/charts/base.py:_grid_layout": 32,
    "app/charts/scrubber.py:_equation_text": 32,
    "app/charts/cell_layout.py:cell_layout": 32,
    "app/charts/diagram.py:colour_table": 8,
    "app/charts/diagram.py:ink_table": 8,
    "app/compute/experiments.py:quote_carriers": 4,
    "app/compute/experiments.py:_costs": 2,
}
"""Every cache in the code -> the most entries it keeps (the table above)."""

CACHE_DECORATORS = ("cache_data", "cache_resource", "lru_cache", "cache")


def _bound_of(decorator: ast.expr, func: ast.FunctionDef) -> int | None:
    """The bound a cache decorator sets (None: unbounded); a Streamlit cache of a function without
    arguments holds one entry."""
    if not isinstance(decorator, ast.Call):  # @functools.cache, @st.cache_data without arguments
        name = decorator.attr if isinstance(decorator, ast.Attribute) else getattr(decorator, "id", "")
        return 1 if name != "cache" and not func.args.args else None
    keywords = {k.arg: k.value for k in decorator.keywords}
    bound = keywords.get("max_entries", keywords.get("maxsize"))
    if bound is None and decorator.args:
        bound = decorator.args[0]
    if bound is None:
        return 1 if not func.args.args and not func.args.kwonlyargs else None
    value = ast.literal_eval(bound) if isinstance(bound, ast.Constant) else _constant(bound, func)
    return value


def _constant(node: ast.expr, func: ast.FunctionDef) -> int:
    """A module constant used as a bound (say READ_ENTRIES), looked up in its module."""
    name = node.id if isinstance(node, ast.Name) else ast.unparse(node)
    return {"READ_ENTRIES": models.READ_ENTRIES, "WRITE_ENTRIES": writing.WRITE_ENTRIES}[name]


def caches_in_code() -> dict[str, int | None]:
    """Every cache decorator in app/, pages/ and cells/: "file:function" -> its bound."""
    found = {}
    for path in sorted([*ROOT.glob("app/**/*.py"), *ROOT.glob("pages/*.py"), *ROOT.glob("cells/**/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
                if name in CACHE_DECORATORS:
                    found[f"{path.relative_to(ROOT)}:{node.name}"] = _bound_of(decorator, node)
    return found


def test_every_cache_in_the_code_is_listed_and_bounded():
    found = caches_in_code()
    unbounded = [name for name, bound in found.items() if bound is None]
    assert not unbounded, f"caches without a bound (max_entries / maxsize): {unbounded}"
    assert found == BOUNDS, "a cache was added, removed or re-bounded: update BOUNDS and the table"


def holds_at_most(call: Callable[[int], object], bound: int, computed: Callable[[], int]) -> None:
    """``call(i)`` fills entry i; ``computed()`` counts the computations so far. Fill bound + 1
    entries, the last ``bound`` must all be kept, the first must have been dropped."""
    for i in range(bound + 1):
        call(i)
    assert computed() == bound + 1
    for i in range(bound, 0, -1):  # the newest `bound`, all still there
        call(i)
    assert computed() == bound + 1, "fewer entries kept than the bound"
    call(0)  # the oldest was dropped to keep `bound`
    assert computed() == bound + 2, "more entries kept than the bound"


class Counter:
    def __init__(self, result: Callable = lambda *a, **k: None) -> None:
        self.n, self.result = 0, result

    def __call__(self, *args, **kwargs):
        self.n += 1
        return self.result(*args, **kwargs)


class CountingMapping(dict):
    """An unhashed ``_loaded``/``_readers`` argument that counts the computations reading it."""

    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    def items(self):
        self.n += 1
        return super().items()


@pytest.fixture(autouse=True)
def no_streamlit_warnings(monkeypatch):
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)


def test_readings_cache(monkeypatch):
    loaded = models.load(models.resolve("lstm", "trained", "text"))
    counter = Counter(models.reading_of)
    monkeypatch.setattr(models, "reading_of", counter)
    models._read.clear()
    key = models.resolve("lstm", "trained", "text")
    holds_at_most(lambda i: models._read(key, f"text {i}", np.zeros(0), -1, 0, loaded),
                  BOUNDS["app/compute/models.py:_read"], lambda: counter.n)


def test_decisions_cache(monkeypatch):
    key = models.ModelKey("random", "gru", "text", hidden=4)
    reader = models._random(key)
    classifier = cells.Reader(reader.cell, reader.encoder, cells.Readout.init(4, 3, seed=0),
                              {"labels": ["a", "b", "c"]})
    loaded = models.Loaded(classifier, "a classifier", trained=False)
    counter = Counter(models.decide)
    monkeypatch.setattr(models, "decide", counter)
    models._decision.clear()
    holds_at_most(lambda i: models._decision(key, f"text {i}", loaded),
                  BOUNDS["app/compute/models.py:_decision"], lambda: counter.n)


def test_models_cache(monkeypatch):
    counter = Counter(models._random)
    monkeypatch.setattr(models, "_random", counter)
    models._load_shipped_or_random.clear()
    holds_at_most(lambda i: models._load_shipped_or_random(
        models.ModelKey("random", "lstm", "text", seed=i, hidden=4)),
        BOUNDS["app/compute/models.py:_load_shipped_or_random"], lambda: counter.n)


def test_step_seconds_cache(monkeypatch):
    counter = Counter(lambda cell, tokens: {"step": 1e-5})
    monkeypatch.setattr(cells, "seconds_per_token", counter)
    models._step_seconds.clear()
    loaded = models.load(models.resolve("lstm", "random", "text"))
    key = models.resolve("lstm", "random", "text")
    holds_at_most(lambda i: models._step_seconds(key, i + 1, loaded),
                  BOUNDS["app/compute/models.py:_step_seconds"], lambda: counter.n)


@pytest.mark.parametrize("name", ["_profiles", "_edit_distances"])
def test_gradients_caches(name):
    cached = getattr(gradients, name)
    cached.clear()
    loaded = CountingMapping()  # no models: each computation is one pass over none
    keys = (("LSTM", models.resolve("lstm", "trained", "text")),)
    if name == "_profiles":
        def call(i): return cached(keys, f"text {i}", loaded)
    else:
        def call(i): return cached(keys, f"text {i}", 1, "x", loaded)
    holds_at_most(call, BOUNDS[f"app/compute/gradient_profiles.py:{name}"], lambda: loaded.n)


def test_guide_documents_cache(monkeypatch):
    counter = Counter(docs.doc_blocks)
    monkeypatch.setattr(docs, "doc_blocks", counter)
    docs.read_doc.clear()
    holds_at_most(lambda i: docs.read_doc(f"no such document {i}"), BOUNDS["app/compute/docs.py:read_doc"],
                  lambda: counter.n)
    docs.read_doc.clear()


def test_forecast_cache(monkeypatch):
    counter = Counter(forecasts.horizons)
    monkeypatch.setattr(forecasts, "horizons", counter)
    forecasts._forecast.clear()
    holds_at_most(lambda i: forecasts._forecast("series", np.array([float(i)]), 50, 10, {}),
                  BOUNDS["app/compute/forecasts.py:_forecast"], lambda: counter.n)


def test_csv_tables_cache(monkeypatch):
    counter = Counter()
    monkeypatch.setattr(series, "read_csv", counter)
    series.csv_table.clear()
    holds_at_most(lambda i: series.csv_table(f"a\n{i}\n".encode(), 100),
                  BOUNDS["app/compute/example_series.py:csv_table"], lambda: counter.n)


def test_example_series_cache_holds_every_example():
    """Keyed by an example's name: it cannot hold more than the shipped examples, all of which fit."""
    assert len(series.EXAMPLES) <= BOUNDS["app/compute/example_series.py:example_values"]


def test_writings_cache(monkeypatch):
    counter = Counter()
    monkeypatch.setattr(writing, "written_of", counter)
    writing._written.clear()
    key = models.resolve("lstm", "trained", "text")
    holds_at_most(lambda i: writing._written(key, f"prompt {i}", 10, 0.0, 0, None),
                  BOUNDS["app/compute/writing.py:_written"], lambda: counter.n)


def test_the_lru_map_of_the_training_runs_and_the_resumable_readings_keeps_the_most_recent():
    assert (training.CACHE_ENTRIES, models.RESUME_ENTRIES) == (24, 8)  # the table above
    assert training._store().max_entries == 24 and models._resumables().max_entries == 8
    bound = training.CACHE_ENTRIES
    store = LRUMap(bound)
    for i in range(bound + 5):
        store.put(i, f"runs {i}")
        assert len(store._entries) <= bound
    assert store.get(0) is None and store.get(bound + 4) == f"runs {bound + 4}"
    store.get(5)  # touched: now the most recent
    store.put("new", "runs")
    assert store.get(5) == "runs 5" and store.get(6) is None  # the least recently used went first


def test_chart_lru_caches():
    charts._grid_layout.cache_clear()
    scrubber._equation_text.cache_clear()
    for i in range(40):
        charts.subplot_grid(1, 1, [f"title {i}"])
        scrubber._equation_text((f"line {i}",))
    for cached, name in ((charts._grid_layout, "app/charts/base.py:_grid_layout"),
                         (scrubber._equation_text, "app/charts/scrubber.py:_equation_text")):
        info = cached.cache_info()
        assert info.maxsize == BOUNDS[name] and info.currsize == info.maxsize


def test_diagram_lru_caches():
    """One layout per cell class, one colour table (and its inks) per colour scale."""
    for cached in (cell_layout.cell_layout, diagram.colour_table, diagram.ink_table):
        cached.cache_clear()
    for cls in cells.CELLS.values():
        cell_layout.cell_layout(cls)
    scales = ("Cividis", "RdBu", "Viridis", "Blues", "Greens", "Reds", "Greys", "Plasma", "Magma", "Inferno")
    for scale in scales:
        diagram.ink_table(scale)  # and its colour table
    info = cell_layout.cell_layout.cache_info()
    assert info.maxsize == BOUNDS["app/charts/cell_layout.py:cell_layout"]
    assert info.currsize == len(cells.CELLS)
    for cached, name in ((diagram.colour_table, "app/charts/diagram.py:colour_table"),
                         (diagram.ink_table, "app/charts/diagram.py:ink_table")):
        info = cached.cache_info()
        assert info.maxsize == BOUNDS[name] == info.currsize < len(scales)


def test_experiment_lru_caches(monkeypatch):
    monkeypatch.setattr(experiments, "carrier", lambda reader, text, start, end: (text, start, end))
    experiments.quote_carriers.cache_clear()
    for i in range(10):
        experiments.quote_carriers(f'say "{i}" now')
    info = experiments.quote_carriers.cache_info()
    assert info.maxsize == BOUNDS["app/compute/experiments.py:quote_carriers"] == info.currsize
    assert experiments._costs.cache_info().maxsize == BOUNDS["app/compute/experiments.py:_costs"]


def test_music_caches(monkeypatch):
    sounds = Counter()
    monkeypatch.setattr(music.sound, "synthesize", sounds)
    music._sound.clear()
    holds_at_most(lambda i: music._sound(((60 + i % 12, 1.0 + i),)), BOUNDS["app/compute/melodies.py:_sound"],
                  lambda: sounds.n)
    rankings = Counter(lambda *a, **k: {})
    monkeypatch.setattr(music.interpret, "best_units", rankings)
    music._ranking.clear()
    holds_at_most(lambda i: music._ranking("C4 q", np.full((1, 2), float(i))),
                  BOUNDS["app/compute/melodies.py:_ranking"], lambda: rankings.n)


def test_continuation_cache():
    class Reader:  # counts the continuations written
        n = 0

        def continue_melody(self, tokens, n, *, temperature, seed):
            Reader.n += 1
            return tokens[:n]

    loaded = models.Loaded(Reader(), "counting", trained=False)
    key = models.resolve("lstm", "trained", "notes")
    models._continuation.clear()
    holds_at_most(lambda i: models._continuation(key, ("C4 q",), 1, 1.0, i, loaded),
                  BOUNDS["app/compute/models.py:_continuation"], lambda: Reader.n)


def test_lab_span_cache(monkeypatch):
    counter = Counter(lambda keys, text: {"bias 0": _Span(), "bias 1": _Span()})
    monkeypatch.setattr(lab.gradients, "profiles", counter)
    lab._forget_bias_spans.clear()
    holds_at_most(lambda i: lab._forget_bias_spans(f"text {i}"),
                  BOUNDS["app/compute/lab.py:_forget_bias_spans"], lambda: counter.n)


class _Span:
    memory_span = 1


@pytest.mark.parametrize("name", ["_units", "_strongest"])
def test_ranking_caches(monkeypatch, name):
    counter = Counter(lambda *a, **k: ({}, {}))
    monkeypatch.setattr(ranking.interpret, "best_units" if name == "_units" else "strongest_unit",
                        counter)
    monkeypatch.setattr(ranking.interpret, "text_properties", lambda *a: {})
    cached = getattr(ranking, name)
    cached.clear()
    states = np.zeros((2, 3), np.float32)
    if name == "_units":
        def call(i): return cached(states, f"text {i}", "prose")
    else:
        def call(i): return cached(states, f"text {i}")
    holds_at_most(call, BOUNDS[f"app/compute/ranking.py:{name}"], lambda: counter.n)


def test_the_corpora_and_their_readings(monkeypatch):
    counter = Counter(lambda kind: [(kind, "")])
    monkeypatch.setattr(matching, "_held_out", counter)
    matching.shipped_corpus.clear()
    holds_at_most(lambda i: matching.shipped_corpus(f"kind {i}"),
                  BOUNDS["app/compute/matching.py:shipped_corpus"], lambda: counter.n)
    assert matching.CORPUS_ENTRIES == 3 and matching._store().entries.max_entries == 3  # the table above
