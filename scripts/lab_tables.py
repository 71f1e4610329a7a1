"""Print the gate lab's tables as Markdown from the stored figures (for the README's "The gate lab").

    python scripts/lab_tables.py [--claims cells/claims_data/lab_claims.json]

The same rows and verdicts as the Lab page (``cells.claims``), so the README never carries a figure
typed by hand.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cells.science import claims


def markdown(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of ``rows`` (dicts with the same keys)."""
    if not rows:
        return "(no figures stored)\n"
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(r[k]) for k in head) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    text = f"{value:,}" if isinstance(value, int) else f"{value:.3f}" if isinstance(value, float) \
        else str(value)
    return text.replace("|", "\\|")


def per_model(data: dict[str, Any], setting: claims.Setting) -> list[dict[str, Any]]:
    """One setting's models, best first: parameters and the figure over the seeds."""
    figs = claims.figures(data, setting)
    return [{"cell": claims.DISPLAY[n], "parameters": figs[n].params,
             f"{setting.unit} (mean ± sd)": figs[n].text(), "seeds": figs[n].seeds}
            for n in sorted(figs, key=lambda n: figs[n].mean)]


def adding_bias(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Steps to solve per seed, for each length and bias."""
    section = data.get("adding-bias", {})
    rows = []
    for length, sub in sorted(section.get("lengths", {}).items(), key=lambda kv: int(kv[0])):
        for entry in sub["models"].values():
            rows.append({"T": int(length), "forget bias": f"{entry['forget_bias']:g}",
                         "seeds": ", ".join(map(str, entry["seeds"])),
                         "steps to solve": ", ".join("never" if s is None else f"{s:,}"
                                                     for s in entry["steps_to_solve"]),
                         "held-out MSE when stopped": ", ".join(f"{m:.4f}" for m in entry["held_out_mse"])})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--claims", type=Path, default=claims.CLAIMS_FILE)
    data = claims.load_claims(ap.parse_args().claims)
    table = [{"claim": c.claim, "measured on": c.setting, "gatescope measured": c.measured,
              "held here?": f"**{c.held}**"} for c in claims.claims_table(data)]
    print("## Claims\n\n" + markdown(table))
    print("## Chorales\n\n" + markdown(claims.music_table(data)))
    print("## Fortunes, 16M characters: held-out curve\n\n" + markdown(claims.chars_curve(data)))
    for setting in (claims.CHARS, claims.CHARS_EARLY):
        print(f"## {setting.label}\n\n" + markdown(per_model(data, setting)))
    print("## Forget-gate bias on the adding problem\n\n" + markdown(adding_bias(data)))
    for section in data.values():
        print(f"    {section['command']}")


if __name__ == "__main__":
    main()
