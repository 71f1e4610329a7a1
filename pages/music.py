"""Melodies: type a tune, hear it, watch a cell read it note by note, let the models continue it,
and find the unit that keeps the beat.

View code only: the notation, tokens, sampling and rhythm signals come from ``cells.music`` and
``cells.models.melody``, the sound from ``cells.music.sound`` (cached in ``app.compute.melodies``),
the models from ``app.compute.models`` (mode "notes"), the charts from ``app.charts``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.charts import base as charts
from app.charts import heatmaps
from app.charts.music import mark_bars, unit_over_notes
from app.compute import melodies as music
from app.compute import models
from app.view import sequence
from app.widgets import inputs
from app.widgets import page as ui
from cells.music import sound
from cells.music.notation import UNKNOWN_NOTE, describe_problems
from cells.music.rhythm import BAR_POSITION, RHYTHM_PROPERTIES
from cells.music.tunes import TUNES

MODE = "notes"
YOURS = "your melody"

HOW_TO = f"""
Write notes as **pitch, then duration**, separated by spaces or new lines:

    C4 q D4 q E4 h | r q G4 e. A4 s B4 h |

* **pitch**: a letter A-G, an optional `#` (sharp) or `b` (flat), and an octave 0-8. `C4` is
  middle C, `A4` is 440 Hz; `Bb3` is the B-flat below middle C. `F#4` and `Gb4` are the same key.
* **rest**: `r`, then its duration: `r q`.
* **durations**: `w` whole, `h` half, `q` quarter, `e` eighth, `s` sixteenth. A dot makes a
  note half as long again (`q.` = three eighths), two dots three quarters again (`h..`).
* **bar lines** `|` are optional: with them, the charts mark your bars (a first, short bar is a
  pickup). Without them, bars are counted from the first note.
* **time signature**: `3/4`, `6/8`, ... before the first note (default 4/4).

Words that cannot be read are listed with their line and column, and skipped. The page reads at
most {music.MAX_NOTES} notes; it plays at most {sound.MAX_NOTES} notes and {sound.MAX_SECONDS:g}
seconds, at {sound.TEMPO} quarter notes per minute.
"""


def _load_tune() -> None:
    name = st.session_state.get("music_tune")
    if name in TUNES:
        st.session_state["melody"] = TUNES[name]


def melody_input() -> music.ReadMelody:
    """The tune picker, the melody box (``key="melody"``) and what could not be read."""
    session = st.session_state
    if not isinstance(session.get("melody"), str):
        session["melody"] = TUNES[next(iter(TUNES))]
    shown = next((name for name, tune in TUNES.items() if tune == session["melody"]), YOURS)
    session["music_tune"] = shown
    st.selectbox("Pick a tune", [YOURS, *TUNES], key="music_tune", on_change=_load_tune,
                 help="Public-domain tunes written out in the notation below; pick one to edit it.")
    st.text_area("Melody", key="melody", height=120,
                 help="Notes as pitch and duration: C4 q D4 q E4 h | r q ... (see How to write "
                 "a melody).")
    with st.expander("How to write a melody"):
        st.markdown(HOW_TO)
    read = music.read_melody(session.get("melody"))
    problems = read.melody.problems
    if problems:
        st.warning(f"{len(problems)} word(s) of your melody could not be read and are skipped; "
                   "the rest is shown:", icon=":material/music_off:")
        st.text(describe_problems(problems))
    if read.cut:
        st.warning(f"Your melody has more than {music.MAX_NOTES} notes; only the first "
                   f"{music.MAX_NOTES} are read.", icon=":material/content_cut:")
    return read


def play(snd: sound.Sound, what: str) -> None:
    """An audio player for a rendered melody, and what the limits left out."""
    st.audio(snd.wav, format="audio/wav")
    if snd.bounded:
        st.caption(f"{what}: only the first {snd.notes} notes ({snd.seconds:.1f} s) are played "
                   f"(at most {sound.MAX_NOTES} notes and {sound.MAX_SECONDS:g} s).")


def main() -> None:
    st.title("Melodies: watch a cell keep the beat")
    ui.explain(
        "A melody is read one note at a time: each note (pitch and duration together, as "
        "“C4 q”) is one token. The cells were trained on some 8,000 European folk songs (the "
        "Essen collection) to predict the next note. Hear your tune, see the gates over its "
        "notes (dotted lines are bar lines), let each model continue it, and find the unit "
        "that tracks where in the bar the melody is: keeping the rhythm needs a counter.",
        guide="pages#melodies",
    )
    left, right = st.columns([3, 1])
    with left:
        read = melody_input()
    with right:
        arch = inputs.arch_choice("Cell", models.BASELINES)
        model = inputs.model_choice(models.MODEL_LABELS, MODE, horizontal=False)
        key = models.resolve(arch, model, MODE, seed=ui.view_state().seed)
        loaded = models.load(key)
    melody = read.melody
    if len(melody) == 0:
        st.info("Type a melody (C4 q D4 q E4 h ...) or pick a tune to hear it and see the gates.",
                icon=":material/music_note:")
        return
    ui.upload_note(model, MODE, "is shown here")
    st.caption(f"{len(melody)} notes, {melody.meter} "
               f"({'your bar lines' if melody.typed_bars else 'bars counted from the first note'}). "
               f"Synthesised here with NumPy: sine and overtones, {sound.SAMPLE_RATE:,} samples per "
               f"second, 16-bit, {sound.TEMPO} quarter notes per minute.")
    play(music.melody_sound(melody), "Your melody")

    reading = models.read(key, read.prepared)
    shown = reading.shown()
    cell = reading.cell
    ui.show_model(loaded.description, loaded.problem, loaded.note)
    if reading.unknown_chars:
        st.info(f"{len(reading.unknown_chars)} distinct note(s) are not in the model's vocabulary "
                f"(it learnt the pitches and lengths of its folk songs); it reads each as its unknown "
                f"token {UNKNOWN_NOTE}, labelled {sequence.UNKNOWN_LABEL} on the charts:",
                icon=":material/help:")
        st.text(", ".join(reading.unknown_chars[:100]))
    labels = sequence.mark_unknown(reading.labels, reading.unknown)
    fig = heatmaps.state_heatmaps(
        shown.rows, labels, shown.units, gates=cell.gates,
        title=f"{cell.display_name} gates and states over the notes, the {len(shown.units)} of "
              f"{reading.hidden_size} units whose h varies most")
    ui.show_chart(mark_bars(fig, melody.bar_starts), f"music-gates-{cell.arch}", key="music_heatmaps")

    continuations(model, read)
    rhythm(key, loaded, read, reading)


def continuations(model: str, read: music.ReadMelody) -> None:
    st.subheader("Let each model continue your melody")
    c1, c2 = st.columns(2)
    with c1:
        temperature = inputs.slider("temperature", "Temperature", 0.0, 2.0, step=0.1, default=1.0,
                                help="Each next note is drawn with probability ∝ p^(1/temperature): "
                                "0 always takes the likeliest note (greedy), 1 samples the model "
                                "as it is, higher is wilder.")
    with c2:
        seed = inputs.slider("sample_seed", "Seed", 0, 99, default=0,
                         help="The same seed, melody and temperature give the same notes.")
    st.caption(f"{music.CONTINUE_NOTES} notes each, drawn after the last note of your melody"
               + (" (greedy: the likeliest note every time)." if temperature == 0 else "."))
    columns = st.columns(len(models.BASELINES))
    for column, arch in zip(columns, models.BASELINES, strict=True):
        key = models.resolve(arch, model, MODE, seed=ui.view_state().seed)  # the models shown above
        tokens = models.continuation(key, read.melody.tokens, music.CONTINUE_NOTES,
                                     temperature=temperature, seed=seed)
        with column:
            st.markdown(f"**{key.cell.display_name}**" + ("" if models.load(key).trained else
                                                           " (random weights)"))
            st.code(" ".join(tokens), language=None, wrap_lines=True)
            play(music.tokens_sound(tokens), f"The {key.cell.display_name}'s continuation")


def rhythm(key: models.ModelKey, loaded: models.Loaded, read: music.ReadMelody,
           reading: models.Reading) -> None:
    st.subheader("Which unit keeps the rhythm?")
    state = "h"
    if "c" in reading.rows:
        state = inputs.choice("music_state", "Rank the units of", ("c", "h"),
                              format_func=charts.STATE_TITLES.get)
    if len(read.melody) < 2:
        st.info("A correlation needs at least two notes.", icon=":material/music_note:")
        return
    props, best = music.rank_rhythm_units(read, reading.rows[state])
    rows = [{"property": name, "means": RHYTHM_PROPERTIES[name], "best unit": scores[0].unit,
             "correlation r": scores[0].r,
             "runners-up (r)": ", ".join(f"{s.unit} ({s.r:+.2f})" for s in scores[1:])}
            for name, scores in best.items() if scores]
    if not rows:
        st.info("No rhythm property varies over this melody: add notes of other lengths.",
                icon=":material/info:")
        return
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                 column_config={"correlation r": st.column_config.NumberColumn(format="%+.2f")})
    shipped = loaded.reader.meta.get("bar_unit", {}).get(state) if loaded.trained else None
    st.caption(
        f"Pearson r of each unit's {charts.STATE_TITLES[state]} with each property over the "
        f"{len(read.melody)} notes of your melody (as on the Cells page). One short melody is weak "
        "evidence; "
        + (f"on the held-out Essen melodies, unit {shipped['unit']} of this model tracks "
           f"“{BAR_POSITION}” with r = {shipped['r_heldout']:+.2f} (chosen on training melodies)."
           if shipped else "a longer melody gives a fairer ranking.")
    )
    name = BAR_POSITION if best.get(BAR_POSITION) else rows[0]["property"]
    top = best[name][0]
    ui.show_chart(
        unit_over_notes(sequence.mark_unknown(reading.labels, reading.unknown),
                        reading.rows[state][:, top.unit], props[name], read.melody.bar_starts,
                        title=f"Unit {top.unit}, {charts.STATE_TITLES[state]}: r = {top.r:+.2f} "
                        f"with “{name}”",
                        value_name=f"{state} of unit {top.unit}", signal_name=name),
        f"music-unit-{key.arch}-{top.unit}", key="music_unit",
    )
    if not loaded.trained:
        st.warning("These are random weights: any match is chance.", icon=":material/warning:")


with ui.page_guard():
    main()
