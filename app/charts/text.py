"""Chart builders of the Cells page: the text coloured by one unit's activation, Karpathy-style.

NumPy arrays in, ``plotly.graph_objects.Figure`` out; no Streamlit calls. The text is laid out as
a grid of characters (a heatmap whose cells carry the characters as text), never as HTML: user
text reaches the figure only through ``app.charts.base.plot_text``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale

from app.charts.base import GATE_SCALE, STATE_SCALE, figure, plot_text, token_meta

LINE_WIDTH = 80
"""Characters per row of the coloured text; longer lines wrap."""

ROW_PX = 24
"""Height of one row of characters, in pixels."""


def text_grid(text: str, width: int = LINE_WIDTH) -> tuple[np.ndarray, np.ndarray]:
    """(row (T,), column (T,)) of every character when ``text`` is written ``width`` to a row.

    A newline sits at the end of its row and the next character starts a new one. Rows wrap
    between words: a word that would cross the end of a row starts the next one, unless it is
    longer than a whole row (then it is cut where the row ends).
    """
    rows = np.zeros(len(text), dtype=np.int64)
    cols = np.zeros(len(text), dtype=np.int64)
    row = col = 0
    for t, ch in enumerate(text):
        starts_word = not ch.isspace() and (t == 0 or text[t - 1].isspace())
        if starts_word and col > 0:
            end = t
            while end < len(text) and not text[end].isspace():
                end += 1
            if col + (end - t) > width:
                row, col = row + 1, 0
        if col == width:
            row, col = row + 1, 0
        rows[t], cols[t] = row, col
        if ch == "\n":
            row, col = row + 1, 0
        else:
            col += 1
    return rows, cols


def activation_text(
    text: str,
    labels: Sequence[str],
    values: np.ndarray,
    *,
    title: str,
    value_name: str,
    width: int = LINE_WIDTH,
) -> go.Figure:
    """``text`` as a grid of characters, each cell coloured by ``values`` (T,), the activation of
    one unit after reading that character (red negative, blue positive, white 0).

    ``labels`` (T,) are the visible labels of the characters (``app.widgets.page.token_label``); a space is
    drawn as an empty cell. The colour scale is symmetric, ±max |value| (at least 1e-6), and the
    title says where it ends (a colour bar would be squeezed to nothing beside one row of text).
    """
    T = len(text)
    values = np.asarray(values, dtype=np.float64)  # (T,)
    if values.shape != (T,) or len(labels) != T:
        raise ValueError(f"need one value and one label per character: {T} characters, "
                         f"{values.shape} values, {len(labels)} labels")
    rows, cols = text_grid(text, width)
    n_rows = int(rows[-1]) + 1 if T else 1
    z = np.full((n_rows, width), np.nan)                  # (R, W) empty cells stay blank
    shown = np.full((n_rows, width), "", dtype=object)    # what each cell displays
    hover = np.full((n_rows, width), "", dtype=object)
    z[rows, cols] = values
    for t, (label, r, c) in enumerate(zip(labels, rows, cols, strict=True)):
        safe = plot_text(label)
        shown[r, c] = "" if text[t] == " " else safe
        hover[r, c] = f"char {t}: «{safe}»"
    limit = max(float(np.max(np.abs(values))) if T else 0.0, 1e-6)
    fig = go.Figure(go.Heatmap(
        z=z, text=shown, customdata=hover, texttemplate="%{text}",
        textfont={"size": 13, "family": "monospace"},
        colorscale=STATE_SCALE, zmin=-limit, zmax=limit, zmid=0.0, xgap=1, ygap=1, showscale=False,
        hovertemplate=f"%{{customdata}}<br>{value_name} = %{{z:.3f}}<extra></extra>",
        hoverongaps=False,
    ))
    fig.update_xaxes(visible=False, range=[-0.5, width - 0.5], fixedrange=True)
    fig.update_yaxes(visible=False, autorange="reversed", fixedrange=True)
    fig.update_layout(
        title={"text": f"{title}   <span style='font-size:12px'>(blue +, red −, white 0; "
                       f"darkest at {value_name} = ±{limit:.3g})</span>",
               "x": 0, "xanchor": "left", "font": {"size": 14}},
        height=n_rows * ROW_PX + 70, meta=token_meta(T),
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    return fig


GATE_ROW_PX = 9
"""Height of one gate strip under a line of text, in pixels."""

TEXT_ROWS = 3
"""Gate strips' heights one line of text takes (27 pixels)."""


def unit_story(
    text: str,
    labels: Sequence[str],
    memory: np.ndarray,
    gates: Mapping[str, np.ndarray],
    *,
    title: str,
    memory_name: str,
    width: int = LINE_WIDTH,
    of_tokens: int | None = None,
) -> go.Figure:
    """One unit reading a text, as Karpathy, Johnson & Fei-Fei (2015) draw it: the text itself,
    each character coloured by the unit's ``memory`` (T,) after reading it (c or h: red negative,
    blue positive), and beneath every line of text one thin strip per gate of ``gates`` (name ->
    (T,), on the fixed 0-1 Cividis scale) for the same characters. ``of_tokens``: the length of the
    sequence when ``text`` is its beginning (recorded in ``layout.meta``, see ``charts.token_meta``).

    Two heatmaps on one grid of rows :data:`GATE_ROW_PX` high: line r of the text takes the
    :data:`TEXT_ROWS` grid rows from (TEXT_ROWS + G) r, its gate strips the G rows below them
    (G = len(gates)); empty cells stay blank. Evenly spaced rows let Plotly draw each heatmap as
    one small image scaled up pixelated, instead of painting every cell (with three gates, as the
    LSTM's f, i, o, the text's bands are even too). The hover names the character, its step and
    the value.
    """
    T = len(text)
    memory = np.asarray(memory, dtype=np.float64)  # (T,)
    if memory.shape != (T,) or len(labels) != T or any(np.shape(g) != (T,) for g in gates.values()):
        raise ValueError(f"need one value per character for the memory and every gate: {T} characters")
    rows, cols = text_grid(text, width)
    lines = int(rows[-1]) + 1 if T else 1
    step = TEXT_ROWS + len(gates)  # grid rows per line of text
    where = [f"char {t}: «{plot_text(label)}»" for t, label in enumerate(labels)]
    limit = max(float(np.max(np.abs(memory))) if T else 0.0, 1e-6)
    common = {"type": "heatmap", "hoverongaps": False, "showscale": False}
    data = [
        {**common, **_text_band(text, labels, memory, rows, cols, lines, step, width, where),
         "name": memory_name, "textfont": {"size": 13, "family": "monospace"},
         "colorscale": get_colorscale(STATE_SCALE), "zmin": -limit, "zmax": limit, "zmid": 0.0,
         "hovertemplate": f"%{{customdata}}<br>{memory_name} = %{{z:.3f}}<extra></extra>"},
        {**common, **_gate_strips(gates, rows, cols, lines * step, step, width, where),
         "colorscale": get_colorscale(GATE_SCALE), "zmin": 0.0, "zmax": 1.0, "name": "gates",
         "hovertemplate": "%{customdata} = %{z:.3f}<extra></extra>"},
    ]
    strips = f"; strips beneath: {', '.join(gates)}, dark 0 to yellow 1" if gates else ""
    layout = {
        "xaxis": {"visible": False, "range": [-0.5, width - 0.5], "fixedrange": True},
        "yaxis": {"range": [lines * step - 0.5, -0.5], "fixedrange": True, "showgrid": False,
                  "zeroline": False, "tickvals": list(range(TEXT_ROWS, step)), "ticktext": list(gates),
                  "ticks": "", "showline": False, "tickfont": {"size": 9}},  # the first line's strips
        "title": {"text": f"{title}   <span style='font-size:12px'>(text: {memory_name}, blue +, red −, "
                          f"darkest at ±{limit:.3g}{strips})</span>",
                  "x": 0, "xanchor": "left", "font": {"size": 14}},
        "height": lines * step * GATE_ROW_PX + 50,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "meta": token_meta(T if of_tokens is None else of_tokens),  # the whole sequence's length
    }
    return figure(data, layout)


def _text_band(text: str, labels: Sequence[str], memory: np.ndarray, rows: np.ndarray, cols: np.ndarray,
               lines: int, step: int, width: int, where: list[str]) -> dict[str, Any]:
    """The text trace of :func:`unit_story`: per line, one row for the text band and (with gates)
    one empty row for the strips' band, each centred on its band (Plotly visits every cell for the
    characters' texts, so it gets 2 rows a line, not ``step``)."""
    bands = 2 if step > TEXT_ROWS else 1
    centres = [(TEXT_ROWS - 1) / 2, TEXT_ROWS + (step - TEXT_ROWS - 1) / 2][:bands]
    y = (np.arange(lines)[:, None] * step + np.array(centres)).ravel()  # (bands * lines,)
    z = np.full((bands * lines, width), np.nan, dtype=np.float32)
    shown = np.full((bands * lines, width), "", dtype=object)
    hover = np.full((bands * lines, width), None, dtype=object)  # each trace: its own cells
    z[rows * bands, cols] = memory
    for t, (r, c) in enumerate(zip(rows, cols, strict=True)):
        shown[r * bands, c] = "" if text[t] == " " else plot_text(labels[t])
        hover[r * bands, c] = where[t]
    return {"z": z, "y": y, "text": shown, "texttemplate": "%{text}", "customdata": hover}


def _gate_strips(gates: Mapping[str, np.ndarray], rows: np.ndarray, cols: np.ndarray, R: int,
                 step: int, width: int, where: list[str]) -> dict[str, Any]:
    """The gates' trace of :func:`unit_story`: gate g of the character in grid cell (r, c) sits in
    row r * ``step`` + TEXT_ROWS + g, on every line under its characters."""
    z = np.full((R, width), np.nan, dtype=np.float32)
    hover = np.full((R, width), None, dtype=object)
    for g, (name, values) in enumerate(gates.items()):
        z[rows * step + TEXT_ROWS + g, cols] = np.asarray(values, dtype=np.float64)
        for t, (r, c) in enumerate(zip(rows, cols, strict=True)):
            hover[r * step + TEXT_ROWS + g, c] = f"{where[t]}<br>{name}"
    return {"z": z, "customdata": hover}
