"""app.charts.palette: one colour per cell on every chart, handed out by the registry."""

from __future__ import annotations

import cells
from app.charts.palette import cell_colour, cell_dash


def test_the_three_baselines_keep_their_okabe_ito_colours():
    assert cell_colour("lstm") == "#0072B2"  # blue
    assert cell_colour("gru") == "#CC79A7"  # reddish purple
    assert cell_colour("rnn") == "#D55E00"  # vermillion


def test_the_first_seven_registered_cells_get_seven_different_colours():
    first = cells.ARCHS[:7]
    assert len({cell_colour(arch) for arch in first}) == 7


def test_a_newly_registered_cell_gets_a_colour_without_the_palette_knowing_it(monkeypatch):
    unregistered = cell_colour("my-other-cell")
    monkeypatch.setattr(cells, "ARCHS", (*cells.ARCHS[:3], "my-cell"))
    assert cell_colour("my-cell") == "#009E73"  # the fourth colour: bluish green
    assert cell_colour("my-other-cell") == unregistered  # not registered: fixed by its name alone


def test_only_the_cell_without_a_memory_path_is_dashed():
    assert {arch for arch in cells.ARCHS if cell_dash(arch) == "dash"} == {"rnn"}
