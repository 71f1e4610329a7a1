"""A handful of public-domain tunes written out in gatescope's melody notation (``cells.melody``).

Traditional songs and a theme by Beethoven (1824), transcribed for gatescope in C major or A minor
where that is usual; one melody line each, as sung.
"""

from __future__ import annotations

TUNES: dict[str, str] = {
    "Twinkle, Twinkle, Little Star": (
        "C4 q C4 q G4 q G4 q | A4 q A4 q G4 h | F4 q F4 q E4 q E4 q | D4 q D4 q C4 h |\n"
        "G4 q G4 q F4 q F4 q | E4 q E4 q D4 h | G4 q G4 q F4 q F4 q | E4 q E4 q D4 h |\n"
        "C4 q C4 q G4 q G4 q | A4 q A4 q G4 h | F4 q F4 q E4 q E4 q | D4 q D4 q C4 h |"
    ),
    "Ode to Joy (Beethoven)": (
        "E4 q E4 q F4 q G4 q | G4 q F4 q E4 q D4 q | C4 q C4 q D4 q E4 q | E4 q. D4 e D4 h |\n"
        "E4 q E4 q F4 q G4 q | G4 q F4 q E4 q D4 q | C4 q C4 q D4 q E4 q | D4 q. C4 e C4 h |"
    ),
    "Frère Jacques": (
        "C4 q D4 q E4 q C4 q | C4 q D4 q E4 q C4 q | E4 q F4 q G4 h | E4 q F4 q G4 h |\n"
        "G4 e A4 e G4 e F4 e E4 q C4 q | G4 e A4 e G4 e F4 e E4 q C4 q |\n"
        "C4 q G3 q C4 h | C4 q G3 q C4 h |"
    ),
    "Mary Had a Little Lamb": (
        "E4 q D4 q C4 q D4 q | E4 q E4 q E4 h | D4 q D4 q D4 h | E4 q G4 q G4 h |\n"
        "E4 q D4 q C4 q D4 q | E4 q E4 q E4 q E4 q | D4 q D4 q E4 q D4 q | C4 w |"
    ),
    "Au clair de la lune": (
        "C4 q C4 q C4 q D4 q | E4 h D4 h | C4 q E4 q D4 q D4 q | C4 w |\n"
        "C4 q C4 q C4 q D4 q | E4 h D4 h | C4 q E4 q D4 q D4 q | C4 w |"
    ),
    "Row, Row, Row Your Boat (6/8)": (
        "6/8 C4 q. C4 q. | C4 q D4 e E4 q. | E4 q D4 e E4 q F4 e | G4 h. |\n"
        "C5 e C5 e C5 e G4 e G4 e G4 e | E4 e E4 e E4 e C4 e C4 e C4 e | G4 q F4 e E4 q D4 e | C4 h. |"
    ),
    "Greensleeves (3/4)": (
        "3/4 A4 q | C5 h D5 q | E5 q. F5 e E5 q | D5 h B4 q | G4 q. A4 e B4 q |\n"
        "C5 h A4 q | A4 q. G#4 e A4 q | B4 h G#4 q | E4 h A4 q |\n"
        "C5 h D5 q | E5 q. F5 e E5 q | D5 h B4 q | G4 q. A4 e B4 q |\n"
        "C5 q. B4 e A4 q | G#4 q. F#4 e G#4 q | A4 h. | A4 h. |"
    ),
    "Yankee Doodle": (
        "C4 q C4 q D4 q E4 q | C4 q E4 q D4 q G3 q | C4 q C4 q D4 q E4 q | C4 h B3 h |\n"
        "C4 q C4 q D4 q E4 q | F4 q E4 q D4 q C4 q | B3 q G3 q A3 q B3 q | C4 h C4 h |"
    ),
}
"""name -> the tune in the notation (the first is the music page's default)."""

DEFAULT_TUNE = next(iter(TUNES))
