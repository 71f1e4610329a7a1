"""Plotly charts that stay mounted: drawn once, then updated in place on every rerun.

``st.plotly_chart`` makes a chart's identity from its figure, so every edit that changes a figure
throws the chart away and builds a new one (Plotly's ``newPlot``, its toolbar, Streamlit's
wrapper), which was most of an edit's time on the Gates page (README, "Benchmarks"). This module
draws figures with a small Streamlit component (``st.components.v2``, in the page itself, no
iframe) keyed by the chart's name: the browser keeps the chart's element from one run to the next
and hands each new figure to ``Plotly.react``, which redraws only what changed.

A chart is drawn when it comes into view (within :data:`NEAR_MARGIN` of the window): an edit
redraws the charts on screen, and a chart further down keeps its last picture, faded
(:data:`STALE_CLASS`), until it scrolls into view. An animated figure with a ``player``
(``app.charts.scrubber.Player``) gets its controls from here: the shown frame's caption above the
chart, a play button and a step slider under it; its PNG carries the caption as a title. A player's
cell diagrams (``app.charts.diagram``: an SVG and one frame of numbers per step) are drawn beside
the caption and stepped with the chart, their way back shown by a toggle under it; a player with
no chart (:func:`draw_player`) steps its diagrams alone.

The component runs the plotly.js that ships with the installed ``plotly`` package (the version
its figures are made for). Streamlit serves it from ``app/static/`` (``server.enableStaticServing``
in ``.streamlit/config.toml``); :func:`ensure_plotly_js` copies it there when the app starts, so
nothing is fetched from the internet and nothing generated is committed.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import plotly
import plotly.io as pio
import streamlit as st

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
"""Streamlit's static folder for ``app/main.py`` (served at ``<app URL>/app/static/``)."""

PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
"""The plotly.js bundled with the installed Python package."""

ERROR_CLASS = "gs-chart-error"
"""CSS class of the message a chart shows when it cannot be drawn (the browser tests look for it)."""

NEAR_MARGIN = "50% 0px"
"""How far beyond the browser window a chart counts as in view (CSS margins: half a window above
and below): a chart is drawn when it comes that near."""

STALE_CLASS = "gs-chart-stale"
"""CSS class of a chart's box (``.gs-chart-box``: the chart and its player) while the chart still
shows the figure before the last edit: it is out of view, and is drawn anew when it comes into
view. Faded until then."""

_CSS = f"""
.{STALE_CLASS} {{ opacity: 0.35; }}
.gs-player-top {{ display: flex; flex-wrap: wrap; gap: 0.5rem 2rem; align-items: flex-start; }}
.gs-player-caption {{ font-size: 14px; line-height: 1.6; margin: 0 0 0.25rem 0.5rem; white-space: pre-wrap;
  flex: 1 1 24rem; }}
.gs-diagrams {{ display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; }}
.gs-diagrams:empty {{ display: none; }}
.gs-diagram-box {{ margin: 0; max-width: 100%; }}
.gs-diagram-box figcaption {{ font-size: 14px; font-weight: 600; margin: 0 0 0 0.5rem; }}
.gs-player-controls {{ display: flex; gap: 1rem; align-items: center; margin: 0 0 1rem 0.5rem; }}
.gs-player-controls input {{ flex: 1; accent-color: #0072b2; }}
.gs-player-controls button[hidden] {{ display: none; }}
.gs-player-controls button[aria-pressed="true"] {{ border-color: currentColor; }}
.gs-player-controls button {{ font: inherit; color: inherit; background: transparent;
  border: 1px solid rgba(128, 128, 128, 0.5); border-radius: 0.5rem; padding: 0.25rem 0.75rem;
  cursor: pointer; min-width: 6.5rem; }}
"""

_JS = r"""
const SRC = 'app/static/plotly.min.js';
const NEAR = 'NEAR_MARGIN';  // how far beyond the window a chart counts as in view
const STALE_CLASS = 'STALE_NAME';

function loadPlotly() {
  if (!window.__gatescopePlotly) {
    window.__gatescopePlotly = new Promise((resolve, reject) => {
      if (window.Plotly) return resolve(window.Plotly);
      const script = document.createElement('script');
      script.src = new URL(SRC, document.baseURI).href;
      const failed = () => reject(new Error(
        'plotly.js did not load from ' + script.src + ' (start the app with `streamlit run '
        + 'app/main.py` from the repository folder, which reads .streamlit/config.toml)'));
      script.onload = () => window.Plotly ? resolve(window.Plotly) : failed();
      script.onerror = failed;
      document.head.appendChild(script);
    });
  }
  return window.__gatescopePlotly;
}

function showError(host, message) {
  let box = host.querySelector('.ERROR_CLASS');
  if (!box) {
    box = document.createElement('div');
    box.className = 'ERROR_CLASS';
    box.setAttribute('role', 'alert');
    host.appendChild(box);
  }
  box.textContent = 'This chart could not be drawn: ' + message;
}

// A number as the diagrams write it (app.charts.diagram.number): fixed decimals, a real minus
// sign, no minus on a zero.
function fmt(v, digits = 2) {
  const text = v.toFixed(digits);
  return (/^-[0.]*$/.test(text) ? text.slice(1) : text).replace('-', '−');
}

// The player's cell diagrams (app.charts.diagram): SVGs the server drew from the cells' own facts
// and numbers (no user text in them), at the step shown first; every step after that is applied
// here, in place, from the numbers that came with them (one frame per step).
function loadDiagrams(p, specs) {
  p.diagramBox.replaceChildren();
  p.diagrams = specs.map(spec => {
    const box = document.createElement('figure');
    box.className = 'gs-diagram-box';
    box.innerHTML = spec.svg;
    const title = document.createElement('figcaption');
    title.textContent = spec.title;
    box.prepend(title);
    p.diagramBox.appendChild(box);
    const one = selector => box.querySelector(selector);
    const node = name => one(`[data-node="${CSS.escape(name)}"]`);
    return {
      spec, box,
      nodes: spec.nodes.map(name => {
        const el = node(name);
        return {el, shape: el.querySelector('.gs-shape'), num: el.querySelector('.gs-num'),
                inks: el.querySelectorAll('.gs-ink'), title: el.querySelector('title')};
      }),
      wires: spec.wires.map(key => one(`path[data-wire="${CSS.escape(key)}"]`)),
      derivs: spec.derivatives.map(key => one(`text[data-wire="${CSS.escape(key)}"]`)),
      slopes: spec.layers.map(name => node(name).querySelector('.gs-slope-num')),
      note: one('[data-path]'), path: one('.gs-path-num'), reach: one('.gs-sup'),
    };
  });
  p.back.hidden = specs.length === 0;
  showWayBack(p);
}

// The way back on or off (the toggle's state, kept from one reading to the next): each diagram
// says which class of its box shows it.
function showWayBack(p) {
  const on = p.back.getAttribute('aria-pressed') === 'true';
  p.diagrams.forEach(d => d.box.classList.toggle(d.spec.back_class, on));
}

function showDiagrams(p, k) {
  for (const d of p.diagrams) {
    const f = d.spec.frames[k];
    d.nodes.forEach((n, j) => {
      n.el.setAttribute('data-value', f.v[j]);
      n.num.textContent = fmt(f.v[j]);
      n.title.textContent = n.el.dataset.label + ' = ' + fmt(f.v[j]);
      const scale = d.spec.scales[j];
      if (scale && f.k[j] >= 0) {
        n.shape.style.fill = d.spec.tables[scale][f.k[j]];
        n.inks.forEach(text => { text.style.fill = d.spec.inks[scale][f.k[j]]; });
      }
    });
    d.wires.forEach((wire, j) => {
      wire.style.setProperty('--w', f.w[j] / 10);  // tenths of a unit
      wire.style.setProperty('--b', f.b[j] / 10);
    });
    d.derivs.forEach((text, j) => { text.textContent = fmt(f.d[j]); });
    d.slopes.forEach((text, j) => { text.textContent = fmt(f.s[j]); });
    if (f.p.length) {
      d.note.setAttribute('data-value', f.p[0]);
      d.path.textContent = fmt(f.p[0]);
      d.reach.textContent = fmt(f.p[1], 1);
    }
  }
}

// An animated figure's player: the shown frame's caption (and the cell diagrams, if any) above the
// chart, a play button, a step slider (a native range input: arrow keys, Home and End step it) and
// the diagrams' way-back toggle under it. Stepping animates to the frame in the browser, no server
// round trip; Plotly draws no slider or buttons of its own. A player without a chart (gd null)
// steps its diagrams alone.
function player(host, gd) {
  if (host.__player) return host.__player;
  const top = document.createElement('div');
  top.className = 'gs-player-top';
  const caption = document.createElement('div');
  caption.className = 'gs-player-caption';
  const diagramBox = document.createElement('div');
  diagramBox.className = 'gs-diagrams';
  top.append(caption, diagramBox);
  host.insertBefore(top, gd);
  const controls = document.createElement('div');
  controls.className = 'gs-player-controls';
  const button = document.createElement('button');
  button.type = 'button';
  const slider = document.createElement('input');
  slider.type = 'range';
  slider.min = 0;
  slider.setAttribute('aria-label', 'Scrubber step');
  const back = document.createElement('button');
  back.type = 'button';
  back.textContent = '∂ The way back';
  back.title = "The gradient's paths back through the cell at this step: each line's local derivative";
  back.setAttribute('aria-pressed', 'false');
  controls.append(button, slider, back);
  host.appendChild(controls);
  const p = host.__player = {caption, diagramBox, button, slider, back, spec: null, timer: null,
                             diagrams: []};
  p.show = k => {
    slider.value = k;
    caption.innerHTML = p.spec.captions[k];  // made by the server, user text escaped
    showDiagrams(p, k);
    // the next step interrupts this one's animation, and Plotly rejects an interrupted animation
    // with no reason: an expected end, not an error
    if (gd) window.Plotly.animate(gd, [p.names[k]], {frame: {duration: 0, redraw: true},
                                                 transition: {duration: 0}, mode: 'immediate'})
      .catch(reason => { if (reason !== undefined) throw reason; });
  };
  p.pause = () => { clearInterval(p.timer); p.timer = null; button.textContent = '▶ Play'; };
  p.play = () => {
    if (Number(slider.value) >= p.spec.captions.length - 1) p.show(0);
    button.textContent = '❚❚ Pause';
    p.timer = setInterval(() => {
      const next = Number(slider.value) + 1;
      if (next >= p.spec.captions.length) p.pause(); else p.show(next);
    }, p.spec.interval_ms);
  };
  button.onclick = () => p.timer ? p.pause() : p.play();
  slider.oninput = () => { p.pause(); p.show(Number(slider.value)); };
  back.onclick = () => {
    const on = back.getAttribute('aria-pressed') !== 'true';
    back.setAttribute('aria-pressed', String(on));
    showWayBack(p);
  };
  return p;
}

function loadPlayer(host, gd, spec, frames) {
  const p = player(host, gd);
  p.pause();
  p.spec = spec;
  p.names = frames && frames.map(f => f.name);
  p.slider.max = spec.captions.length - 1;
  p.slider.value = spec.active;
  p.caption.innerHTML = spec.captions[spec.active];
  loadDiagrams(p, spec.diagrams);
}

// A player with no chart (app.charts.scrubber.diagram_player): its caption, diagrams and controls,
// drawn at once (nothing to load).
function drawPlayer(parentElement, spec) {
  let host = parentElement.querySelector(':scope > .gs-chart-box');
  if (!host) {
    host = document.createElement('div');
    host.className = 'gs-chart-box';
    parentElement.appendChild(host);
  }
  loadPlayer(host, null, spec, null);
}

// A played chart saves as PNG with the shown step's caption as its title (the caption is the
// page's, above the chart): the toolbar's camera is replaced by one that adds it.
function captionedExport(config, host) {
  // the same config for the same options: a new one (a new function in it) makes Plotly.react
  // plot the chart anew
  const key = JSON.stringify(config);
  if (host.__export?.key === key) return host.__export.config;
  const options = config.toImageButtonOptions || {};
  const save = gd => {
    const caption = host.__player.caption.innerHTML;
    const top = 30 + 22 * caption.split('<br>').length;  // the caption's lines, 14 px type
    const layout = {...gd.layout, height: gd._fullLayout.height + top,
                    margin: {...gd.layout.margin, t: gd._fullLayout.margin.t + top},
                    title: {text: caption, x: 0.01, xanchor: 'left', y: 0.99, yanchor: 'top',
                            yref: 'container', font: {size: 14}}};
    window.Plotly.toImage({data: gd.data, layout}, {format: 'png', scale: options.scale || 2,
                                                   width: gd._fullLayout.width, height: layout.height})
      .then(url => {
        const link = document.createElement('a');
        link.href = url;
        link.download = (options.filename || 'chart') + '.png';
        link.click();
      });
  };
  const exported = {...config, modeBarButtonsToRemove: ['toImage'], modeBarButtonsToAdd: [
    {name: 'captioned-png', title: 'Download plot as a png', icon: window.Plotly.Icons.camera,
     click: save}]};
  host.__export = {key, config: exported};
  return exported;
}

function draw(host, gd) {
  const data = gd.__latest;
  gd.__pending = false;
  loadPlotly().then(Plotly => {
    if (gd.__latest !== data) return;
    const fig = JSON.parse(data.figure);
    const layout = {...fig.layout, width: fig.layout.width || host.clientWidth};
    const config = data.player ? captionedExport(data.config, host) : data.config;
    const frames = fig.frames || [];
    return Plotly.react(gd, {data: fig.data, layout, frames, config})
      // plotly.js 4.1.1: when the config changes, react plots anew from the data alone and the
      // frames are lost (a player's chart would then not step): add them back
      .then(() => gd._transitionData._frames.length === frames.length || Plotly.addFrames(gd, frames))
      .then(() => {
        if (data.player && gd.__latest === data) loadPlayer(host, gd, data.player, frames);
        gd.__shown = data;  // drawn: the browser tests wait until every chart shows its __latest
        if (gd.__latest === data) host.classList.remove(STALE_CLASS);
        host.querySelector('.ERROR_CLASS')?.remove();
      });
  }).catch(err => showError(host, err.message));
}

export default function ({ parentElement, data }) {
  if (!data.figure) return drawPlayer(parentElement, data.player);
  // host: this chart's box in the component's element, kept from run to run: the player's
  // caption, the chart (gd), the player's controls, or a message that it could not be drawn
  let host = parentElement.querySelector(':scope > .gs-chart-box');
  let gd = host && host.querySelector(':scope > .gs-chart');
  if (!gd) {
    host = document.createElement('div');
    host.className = 'gs-chart-box';
    parentElement.appendChild(host);
    gd = document.createElement('div');
    gd.className = 'gs-chart';
    gd.style.contain = 'layout style';  // a redraw inside does not lay out the rest of the page
    host.appendChild(gd);
    // A chart is as wide as its box, given to Plotly as a number: with autosize Plotly measures
    // the page on every redraw (every scrubber step). The box's height follows the chart's own,
    // so only a new width (window, sidebar, columns) redraws; a box of width 0 (hidden, or on a
    // page being left) keeps its chart as it is (Plotly throws on width 0 without autosize).
    let width = host.clientWidth;
    new ResizeObserver(() => {
      const now = host.clientWidth;
      if (!now || now === width || !window.Plotly || !gd._fullLayout) return;
      width = now;
      window.Plotly.relayout(gd, {width});
    }).observe(host);
    // Drawn when near the window: a chart further down is drawn as it scrolls into view.
    // One callback can bring several entries (the box moved out and back in while a rerun laid
    // out the page, the callback late on a busy machine): the last one is where the box is now.
    new IntersectionObserver(entries => {
      gd.__near = entries[entries.length - 1].isIntersecting;
      if (gd.__near && gd.__pending) draw(host, gd);
    }, {rootMargin: NEAR}).observe(host);
  }
  gd.__latest = data;  // a figure that arrives before the last one is drawn replaces it
  gd.__pending = true;
  host.__player?.pause();  // a new reading: the old one stops playing
  if (gd.__near) {
    draw(host, gd);
  } else {
    if (gd._fullLayout) host.classList.add(STALE_CLASS);  // still the last figure: faded until drawn
    loadPlotly().catch(err => showError(host, err.message));  // say at once if it cannot load
  }
}
""".replace("ERROR_CLASS", ERROR_CLASS).replace("NEAR_MARGIN", NEAR_MARGIN).replace("STALE_NAME", STALE_CLASS)

_component = st.components.v2.component("gatescope_chart", js=_JS, css=_CSS, isolate_styles=False)


def ensure_plotly_js(static_dir: Path = STATIC_DIR) -> None:
    """Put the installed plotly.js in Streamlit's static folder (``static/`` beside the script
    ``streamlit run`` was given) unless an identical copy is there."""
    target = static_dir / PLOTLY_JS.name
    if target.exists() and target.stat().st_size == PLOTLY_JS.stat().st_size:
        return
    static_dir.mkdir(exist_ok=True)
    with (PLOTLY_JS.open("rb") as source,
          tempfile.NamedTemporaryFile(dir=static_dir, suffix=".partial", delete=False) as partial):
        shutil.copyfileobj(source, partial)  # each script run its own partial file
    Path(partial.name).replace(target)  # atomic: a visitor never loads half a file


@st.cache_resource(show_spinner=False)
def serve_plotly_js() -> None:
    """:func:`ensure_plotly_js` for ``app/static/``, once per server process: ``app/main.py``
    calls this on every script run."""
    ensure_plotly_js()


def draw_player(player: Any, key: str) -> None:
    """A player with no chart (``app.charts.scrubber.diagram_player``; its ``to_dict`` is what the
    browser gets): its caption, its cell diagrams and its controls; the same ``key`` on the next
    run updates it in place."""
    _component(key=key, data={"player": player.to_dict()})


def draw(fig: Any, config: dict[str, Any], key: str | None) -> None:
    """Draw ``fig`` (a Plotly figure) with Plotly ``config``; the same ``key`` on the next run
    updates this chart in place. A figure with a ``player`` (``app.charts.scrubber.AnimatedFigure``) gets
    its caption, play button and step slider around the chart."""
    data = {"figure": pio.to_json(fig, validate=False), "config": config}
    if getattr(fig, "player", None) is not None:
        data["player"] = fig.player.to_dict()
    _component(key=key, data=data)
