"""Gradients: the same text through a tanh RNN, an LSTM and a GRU; how far back the gradient reaches.

View code only: the numbers come from ``cells.science.gradients``, the charts from ``app.charts.gradients``.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

import cells
from app.charts.gradients import divergence_figure, gradient_figure, why_figure
from app.compute import gradient_profiles as gradients
from app.compute.gradient_profiles import JACOBIAN_MAX_TOKENS, span_text
from app.view import sequence
from app.widgets import inputs
from app.widgets import page as ui
from app.widgets.experiments import experiment_links
from cells.science import gradients as grad

FORGET_BIASES = (0.0, 1.0, 2.0)
TOLERANCES = (1e-1, 1e-2, 1e-3, 1e-4, 1e-6)
EDIT_DEFAULT = "x"  # the replacement character offered first ("y" when the token already is "x")


def fresh_knobs() -> dict[str, float]:
    """For fresh weights: hidden size, spectral radius, forget bias and seed (stated on the page)."""
    cols = st.columns(4)
    with cols[0]:
        hidden = inputs.slider("hidden", "Hidden size H", 4, 256, help="The same H for all three cells.")
    with cols[1]:
        radius = inputs.slider(
            "radius", "Recurrent weight scale (spectral radius)", 0.1, 2.0, step=0.05,
            help="Every H×H block of W_hh is rescaled to this largest |eigenvalue|.",
        )
    with cols[2]:
        forget_bias = inputs.choice(
            "forget_bias", "LSTM forget-gate bias", FORGET_BIASES, format_func=lambda b: f"{b:g}",
            help="Added to the forget gate's pre-activation: σ(1) ≈ 0.73, σ(2) ≈ 0.88 keep more.",
        )
    with cols[3]:
        seed = int(st.number_input("Seed", min_value=0, max_value=2**31 - 1, key="seed", step=1))
    st.caption(
        f"Fresh weights: every weight and bias uniform on (−1/√H, 1/√H) (PyTorch's scale), seed {seed}, "
        f"then each recurrent gate block of W_hh rescaled to spectral radius {radius:g}; "
        f"LSTM forget-gate bias {forget_bias:g}. Inputs: one-hot printable ASCII."
    )
    return {"hidden": hidden, "radius": radius, "forget_bias": float(forget_bias), "seed": seed}


def show_spans(profs: dict[str, grad.GradientProfile]) -> None:
    for col, (name, p) in zip(st.columns(len(profs)), profs.items(), strict=True):
        col.metric(
            f"{name} memory span", span_text(p), delta=f"{p.decay_rate:+.3f} decades per token back",
            delta_color="off", delta_arrow="off", border=True,
            help="Decay: slope of a straight-line fit of the curve below (log10 norm against tokens back).",
        )
        if p.span_reaches_start:
            col.caption("The span reaches the first token: the text is shorter than this memory.")


def why_line(name: str, p: grad.GradientProfile) -> str:
    """One bullet of the explanation, with the cell's own numbers (developer text, no user text)."""
    cell = cells.cell_class(p.arch)
    if p.gate_log_product is None:  # no memory path: the per-step Jacobian decides
        if p.weight_radius is None:
            culprit = f"tanh's slope $1 - h_t^2$ (mean {p.mean_tanh_slope:.2f})"
        elif p.weight_radius < 1:
            culprit = (f"$W_{{hh}}$'s spectral radius is {p.weight_radius:.2f}, below 1, and tanh's "
                       f"slope $1 - h_t^2$ (mean {p.mean_tanh_slope:.2f}) only lowers it further")
        else:
            culprit = (f"$W_{{hh}}$'s spectral radius is {p.weight_radius:.2f}, so here it is tanh's "
                       f"slope $1 - h_t^2$ (mean {p.mean_tanh_slope:.2f}) that shrinks it: saturated "
                       "units pass almost nothing back")
        return (
            f"- **{name}**: no gate keeps its memory, so one step back multiplies the gradient by "
            f"$J_t = \\partial h_t / \\partial h_{{t-1}}$ (for the tanh RNN "
            f"$\\mathrm{{diag}}(1 - h_t^2)\\,W_{{hh}}$). Its norm $\\lVert J_t \\rVert_2$, the most one "
            f"step can scale a gradient by, is {p.typical_step_norm:.2f} on average (geometric mean) "
            f"and below 1 at {p.fraction_shrinking:.0%} of the steps. What the steps did, measured "
            f"along the chain: ×{p.mean_step_factor:.2f} per step on average. Over many steps a "
            f"product of $J$'s shrinks like their spectral radius, not their norm: {culprit}."
        )
    state = cell.memory_state
    best = p.gate_log_product[0, p.best_unit]
    return (
        f"- **{name}**: along ${state}$, ${cell.memory_equation}$, one step back is just "
        f"$\\times ({p.memory_gate})_t$. Over the whole input the path keeps "
        f"$10^{{{p.highway_mean[0]:.1f}}}$ of an average unit; the best unit, #{p.best_unit}, keeps "
        f"$10^{{{best:.1f}}}$. This highway needs no recurrent weights; the curve above measures all "
        f"paths at once (nudging $h_t${', $c_t$ held fixed' if cell.has_cell_state else ''}), so "
        "where it stays above the highway, paths through $W_{hh}$ carry the rest."
    )


def show_why(profs: dict[str, grad.GradientProfile], labels: tuple[str, ...]) -> None:
    st.subheader("Why: each cell's own numbers")
    st.markdown("\n".join(why_line(name, p) for name, p in profs.items()))  # developer text
    steps = {name: (p.in_time_order(p.step_norms), p.in_time_order(grad.step_factors(p.log_norms)))
             for name, p in profs.items() if p.step_norms is not None}
    highways = {name: (p.in_time_order(p.gate_log_product), p.best_unit, p.memory_gate)
                for name, p in profs.items() if p.gate_log_product is not None}
    ui.show_chart(why_figure(labels, steps, highways, archs={n: p.arch for n, p in profs.items()}),
                  "gradients-why", key="gr_why_chart")


def show_what_if(text: str, labels: tuple[str, ...], cells_keys: gradients.Keys) -> None:
    st.subheader("What if one early token were different?")
    st.caption(
        "The same measurement without gradients: replace one character, run both texts through "
        "each cell, and watch how long the hidden states stay apart. Differences below about 1e-15 are "
        "float64 round-off, the floor of this measurement."
    )
    cols = st.columns(3)
    with cols[0]:
        position = inputs.slider("gr_edit_pos", "Token to change (position)", 0, len(text) - 1, default=0)
        st.text(f"token {position}: {sequence.token_label(text[position])}")  # user text: plain text
    default = EDIT_DEFAULT if text[position] != EDIT_DEFAULT else "y"
    with cols[1]:
        typed = st.text_input("Replacement character", max_chars=1, key="gr_edit_char", placeholder=default,
                              help=f"Empty: {default}.")
    replacement = typed or default
    with cols[2]:
        tol = st.select_slider("Tolerance on ‖h_t − h′_t‖", TOLERANCES, value=1e-3, key="gr_tol",
                               format_func=lambda v: f"{v:g}")
    distances = gradients.edit_distances(cells_keys, text, position, replacement)
    if all(not d.any() for d in distances.values()):
        st.info("Both characters are the same token for these models (identical, or both unknown): "
                "nothing changes. Pick another replacement.", icon=":material/info:")
        return
    for col, (name, d) in zip(st.columns(len(distances)), distances.items(), strict=True):
        steps = grad.steps_until_below(d, position, tol)
        still = steps == len(text) - position
        col.metric(f"{name}: steps until below {tol:g}", f"≥ {steps}" if still else str(steps), border=True)
        if still:
            col.caption("still different at the last token")
    fig = divergence_figure(distances, labels, position, tol, archs={n: k.arch for n, k in cells_keys})
    ui.show_chart(fig, "gradients-what-if", key="gr_edit_chart")


with ui.page_guard():
    st.title("Gradients through time: RNN vs LSTM vs GRU")
    ui.explain(
        "The same text read by a plain tanh RNN, an LSTM and a GRU. The first chart shows how much "
        "of the gradient at the last token reaches each earlier token, ‖∂h_T/∂h_t‖, on a log10 "
        "scale: a straight falling line is a gradient that vanishes geometrically. The memory span "
        "counts how many tokens back it stays within 10³ of its value at the last token. Colours: "
        "the colour-blind-safe Okabe-Ito palette; the RNN is also dashed.",
        guide="pages#gradients",
    )
    prepared = inputs.sequence_input(numbers=False)
    left, right = st.columns(2)
    with left:
        model = inputs.model_choice(
            {"trained": "trained character models", "random": "fresh random weights"}, "text",
            help="Trained: the character models gatescope ships. Fresh: random weights you can "
            "tune. Your upload: it replaces the trained cell of its kind.",
        )
    ui.upload_note(model, "text", "replaces the trained cell of its kind (or joins them): its "
                   "curve is measured on your text read the way your model reads it")
    cells_keys = gradients.keys(model, **(fresh_knobs() if model == "random" else {}))
    loaded = gradients.loaded(cells_keys)
    cap = gradients.token_cap(loaded)
    with right:
        length = inputs.slider(
            "length", "Input length (tokens)", 2, cap, default=min(100, cap),
            help=f"Gradients are measured over the first tokens of the text, at most {cap} for "
            f"these models (the page's cap, {JACOBIAN_MAX_TOKENS} at most, lower for large "
            f"models, so one edit stays under about {gradients.SECONDS_PER_EDIT:g} s).",
        )
    text = prepared.text[:length]
    if len(prepared.text) > length:
        st.caption(
            f"Measuring the first {length} of {len(prepared.text):,} characters "
            f"(this page reads at most {cap} with these models)."
        )
    if len(text) < 2:
        st.info("Type at least two characters to see a gradient flow back through time.",
                icon=":material/keyboard:")
    else:
        sizes = sorted({m.cell.hidden_size for m in loaded.values()})
        with st.expander(f"The models: {', '.join(loaded)}, {' / '.join(map(str, sizes))} hidden units"):
            st.caption("  \n".join(m.description for m in loaded.values()))
        for m in loaded.values():
            if m.problem:
                st.warning(m.problem, icon=":material/warning:")
        unknown = np.any([gradients.inputs(m, text)[1] for m in loaded.values()], axis=0)  # (T,)
        ui.show_unknown(list(dict.fromkeys(ch for ch, u in zip(text, unknown, strict=True) if u)))
        labels = sequence.mark_unknown(prepared.labels[:length], unknown)
        profs = gradients.profiles(cells_keys, text)
        show_spans(profs)
        backward = [n for n, p in profs.items() if p.reads_backward]
        if backward:
            st.caption("Your model is bidirectional: each direction's curve follows the gradient of "
                       "its own last state, the forward one's after the last token, the backward "
                       "one's after the first token (it reads from the end), through every layer "
                       "and both directions below; the backward curves fall from left to right.")
        ui.show_chart(
            gradient_figure({n: p.in_time_order(p.log_norms) for n, p in profs.items()}, labels,
                            {n: p.memory_span for n, p in profs.items()}, grad.SPAN_DECADES,
                            archs={n: p.arch for n, p in profs.items()}, backward=backward),
            "gradients", key="gr_chart",
        )
        show_why(profs, labels)
        show_what_if(text, labels, cells_keys)
    experiment_links("gradients")
