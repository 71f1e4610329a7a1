"""What the AppTest-based tests share: hostile inputs, opening the app, reading its charts."""

from __future__ import annotations

import base64
import json

import numpy as np
from conftest import MAIN
from streamlit.testing.v1 import AppTest

HOSTILE = {
    "empty": "",
    "one character": "x",
    "whitespace": "   \n\t  ",
    "control": "a\x00b\x07c\x1b[31md\x7f\u202eevil\u200b",
    "emoji and combining": "😀👍🏽👨‍👩‍👧 e\u0301 a\u0308\u0308\u0308 Z\u0336a\u0337",
    "right to left": "שלום עולם, مرحبا بالعالم",
    "html": '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">',
    "markdown and latex": "**bold** [x](javascript:alert(1)) $\\frac{1}{0}$ $$x$$ # title",
    "20k": "All work and no play. " * 910,
}
"""Inputs no page may fail on (docs/architecture.md, "The app's rules")."""


def run_app(query: dict[str, str] | None = None, timeout: float = 90) -> AppTest:
    """The app's first run, as a visitor arriving with ``query`` in the URL."""
    at = AppTest.from_file(MAIN, default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def open_page(page: str, timeout: float = 120, **session) -> AppTest:
    """The app with ``pages/<page>`` open; ``session`` presets widget values before that run."""
    at = AppTest.from_file(MAIN, default_timeout=timeout).run()  # the first run loads the URL's view
    for key, value in session.items():
        at.session_state[key] = value
    return at.switch_page(f"../pages/{page}").run()  # relative to app/main.py


def assert_clean(at: AppTest) -> None:
    """No exception, no message from the page's error guard, and no warning that a shipped
    model is missing (the page then shows random weights in its place)."""
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    missing = [w.value for w in at.warning if "not a trained model" in w.value]
    assert not missing, missing


def _component_data(at: AppTest) -> list[dict]:
    """What ``app.component.live_chart`` sent the browser, per component on the page."""
    return [json.loads(c.proto.json) for c in at.get("bidi_component")
            if c.proto.component_name == "gatescope_chart"]


def chart_specs(at: AppTest) -> list[dict]:
    """Every chart on the page, as the Plotly figure JSON the browser gets (``app.component.live_chart``'s
    component data: ``{"figure": <figure JSON>, "config": ..., "player": ...}``), with the
    player of an animated figure (``app.charts.scrubber.Player`` as a dict) under ``"player"``."""
    return [{**json.loads(data["figure"]), **({"player": data["player"]} if "player" in data else {})}
            for data in _component_data(at) if "figure" in data]


def players(at: AppTest) -> list[dict]:
    """Every player with no chart on the page (``app.charts.scrubber.diagram_player``, as a dict)."""
    return [data["player"] for data in _component_data(at) if "figure" not in data]


def plotly_array(values: list | dict) -> np.ndarray:
    """An array as Plotly's JSON holds it: (nested) lists with None for gaps (-> NaN), or a typed
    array {dtype, bdata, shape}, whose shape may be a list or a string like "2, 80"."""
    if isinstance(values, dict):
        flat = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
        shape = values.get("shape")
        if shape is None:
            return flat
        return flat.reshape([int(n) for n in str(shape).strip("[]").split(",")])
    return np.array(values, dtype=float)


def heatmap_blocks(spec: dict) -> dict[str, tuple[list[int], np.ndarray]]:
    """The blocks of a ``app.charts.base.state_heatmaps`` figure (as JSON), in order: row name ->
    (units, values (U, C)), read from its heatmap's y categories ("f · unit 4") and customdata."""
    trace = spec["data"][0]
    values = plotly_array(trace["customdata"])  # (rows, C), blank rows between blocks
    blocks: dict[str, tuple[list[int], list[np.ndarray]]] = {}
    for row, category in enumerate(trace["y"]):
        if " · unit " in category:
            name, unit = category.split(" · unit ")
            units, rows = blocks.setdefault(name, ([], []))
            units.append(int(unit))
            rows.append(values[row])
    return {name: (units, np.array(rows)) for name, (units, rows) in blocks.items()}


def gate_charts(at: AppTest) -> tuple[dict, dict]:
    """The Gates page's heatmaps and scrubber: its last two charts (in text mode one unit's story
    comes first)."""
    specs = chart_specs(at)
    assert len(specs) >= 2, f"{len(specs)} charts"
    return specs[-2], specs[-1]
