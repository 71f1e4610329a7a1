"""Chart builders: NumPy arrays in, ``plotly.graph_objects.Figure`` out. No Streamlit calls.

Colour scales (both readable with the common colour-vision deficiencies):

* gates, which live in [0, 1], use **Cividis** on a FIXED 0-1 range, so the same colour means the
  same gate value on every chart and every input;
* the cell state c and hidden state h use **RdBu** (red negative, blue positive), a diverging scale
  centred at 0 and symmetric around it.
"""

from __future__ import annotations

from typing import Any


def chart_config(name: str) -> dict[str, Any]:
    """Plotly config for ``st.plotly_chart``: PNG export from the toolbar as ``gatescope-<name>.png``."""
    return {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": f"gatescope-{name}", "scale": 2},
    }
