"""LSTM vs GRU: the two cells side by side on the same sequence, with their costs measured here."""

import pandas as pd
import streamlit as st

from app import charts, models, ui, upload
from app.experiments import experiment_links

LSTM_LATEX = r"""
\begin{aligned}
f_t &= \sigma(W_f x_t + U_f h_{t-1} + b_f)\\
i_t &= \sigma(W_i x_t + U_i h_{t-1} + b_i)\\
o_t &= \sigma(W_o x_t + U_o h_{t-1} + b_o)\\
g_t &= \tanh(W_g x_t + U_g h_{t-1} + b_g)\\
c_t &= f_t \odot c_{t-1} + i_t \odot g_t\\
h_t &= o_t \odot \tanh(c_t)
\end{aligned}"""

GRU_LATEX = r"""
\begin{aligned}
r_t &= \sigma(W_r x_t + U_r h_{t-1} + b_r)\\
z_t &= \sigma(W_z x_t + U_z h_{t-1} + b_z)\\
n_t &= \tanh(W_n x_t + b_{in} + r_t \odot (U_n h_{t-1} + b_{hn}))\\
h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}
\end{aligned}"""


def main() -> None:
    st.title("LSTM vs GRU")
    ui.explain(
        "The same sequence read by an LSTM and by a GRU. The GRU merges the LSTM's forget and "
        "input gates into one update gate z and keeps no separate cell state, so it has three "
        "weight blocks instead of four. The table counts parameters from the cells themselves "
        "and times one step on this server; the heatmaps and the saturation plot show how each "
        "cell's gates actually behave on your text."
    )
    left, right = st.columns([3, 1])
    with right:
        model = upload.model_choice(models.MODEL_LABELS, st.session_state.get("mode", "text"),
                                    horizontal=False)
    with left:
        seq = ui.sequence_input()
    state = ui.view_state()

    eq_lstm, eq_gru = st.columns(2)
    eq_lstm.markdown("**LSTM** (Hochreiter & Schmidhuber 1997; forget gate: Gers et al. 2000)")
    eq_lstm.latex(LSTM_LATEX)
    eq_lstm.caption("f forget, i input, o output gate; g candidate; c cell state; h hidden state.")
    eq_gru.markdown("**GRU** (Cho et al. 2014), PyTorch's form")
    eq_gru.latex(GRU_LATEX)
    eq_gru.caption("r reset, z update gate; n candidate; h hidden state (no separate cell state).")

    names = {arch: upload.model_for(arch, model, seq.mode) for arch in ("lstm", "gru")}
    upload.note(model, seq.mode, "replaces the trained cell of its kind in the table and the charts; "
                "the other cell is gatescope's trained one")
    loaded = {arch: upload.load_model(arch, name, seq.mode, state.seed) for arch, name in names.items()}
    timing = {arch: upload.step_seconds(arch, name, seq.mode, state.seed)
              for arch, name in names.items()}
    st.dataframe(
        pd.DataFrame({
            arch.upper(): {
                "gates (sigmoid)": ", ".join(n for n in m.cell.gate_names if n in charts.SIGMOID_GATES),
                "weight blocks G": str(m.cell.blocks),
                "state vectors": "c, h" if arch == "lstm" else "h",
                "hidden size H": str(m.cell.hidden_size),
                "input size I": str(m.cell.input_size),
                "parameters": f"{m.cell.num_params:,}",
                "µs per step (step())": f"{timing[arch]['step'] * 1e6:.1f}",
                "µs per token (forward())": f"{timing[arch]['forward'] * 1e6:.1f}",
            }
            for arch, m in loaded.items()
        }),
        width="stretch",
    )
    st.caption(
        "Parameters: G·H·(I + H + 2) for G weight blocks (the LSTM's G = 4, the GRU's G = 3), "
        "counted from the cells' arrays. Times: median of 5 runs over 200 tokens on this server, "
        "measured again every 5 minutes. Models: "
        + "; ".join(m.description for m in loaded.values()) + "."
    )
    if seq.length == 0:
        st.info("Type a sequence above to compare the gates.", icon=":material/keyboard:")
        return
    readings = {
        arch: upload.read_sequence(arch, name, seq.mode, seq.text, seq.values, state.seed)
        for arch, name in names.items()
    }
    ui.show_unknown(list(dict.fromkeys(ch for r in readings.values() for ch in r.unknown_chars)))
    for arch, reading in readings.items():
        labels = ui.mark_unknown(seq.labels, reading.unknown)
        whose = " (your upload)" if upload.shown(names[arch], seq.mode) else ""
        ui.show_chart(
            charts.state_heatmaps(reading.gates, reading.h, labels, reading.units,
                                  title=f"{arch.upper()}{whose} gates and h, the {len(reading.units)} "
                                  f"of {reading.hidden_size} units whose h varies most"),
            f"compare-gates-{arch}",
        )
    st.subheader("Gate saturation per unit")
    st.caption(
        "Each dot is one unit's gate: how often it is nearly closed (< 0.1, x) and nearly open "
        "(> 0.9, y) over your sequence, as in Karpathy, Johnson & Fei-Fei (2015). Dots near the "
        "axes' ends are gates that act like switches; dots near the origin stay in between. "
        "All units are counted, not only the ones shown above."
    )
    ui.show_chart(
        charts.saturation_scatter({arch: r.saturation for arch, r in readings.items()}),
        "compare-saturation",
    )


with ui.page_guard():
    main()
    experiment_links("compare")
