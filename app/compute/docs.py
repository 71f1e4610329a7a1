"""The guide: the repository's docs/ folder, read for the app's Guide page.

A document is Markdown written by this project (developer text, never a visitor's). For the page
it is cut into blocks, text and images (Streamlit's Markdown does not load relative images), and
its links are pointed where a browser on the app can follow them: another document of docs/
becomes the Guide page showing it (``docs?doc=<name>#<anchor>``), a link within the document stays
an anchor, a web address stays as it is, and a link to a file of the repository (code, the
README) becomes its text, since the app does not serve them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

DOCS_DIR = Path(__file__).resolve().parents[2] / "docs"
FIRST = "pages"
"""The document the Guide opens at: the pages in detail."""

_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)")


@dataclass(frozen=True)
class Block:
    """A piece of a document: Markdown ``text``, or an ``image`` (a path under docs/) with its
    ``text`` as the caption."""

    text: str
    image: Path | None = None


def doc_names() -> tuple[str, ...]:
    """The documents of docs/, the first one first, then by name."""
    names = sorted(p.stem for p in DOCS_DIR.glob("*.md"))
    return tuple(sorted(names, key=lambda n: n != FIRST))


def page_link(target: str, names: tuple[str, ...]) -> str | None:
    """Where a link of a document points on the app, or None when the app cannot follow it."""
    if re.match(r"[a-z]+://", target) or target.startswith("#"):
        return target
    path, _, anchor = target.partition("#")
    name = Path(path).stem
    if path.endswith(".md") and "/" not in path and name in names:
        return f"docs?doc={name}" + (f"#{anchor}" if anchor else "")
    return None


def doc_blocks(markdown: str, names: tuple[str, ...]) -> list[Block]:
    """``markdown`` as the Guide page shows it: text and image blocks, links pointed for the app
    (module docstring)."""

    def relink(m: re.Match) -> str:
        target = page_link(m.group(2), names)
        return m.group(1) if target is None else f"[{m.group(1)}]({target})"

    blocks, at = [], 0
    for m in _IMAGE.finditer(markdown):
        blocks.append(Block(_LINK.sub(relink, markdown[at:m.start()])))
        blocks.append(Block(m.group(1), image=DOCS_DIR / m.group(2)))
        at = m.end()
    blocks.append(Block(_LINK.sub(relink, markdown[at:])))
    return [b for b in blocks if b.image is not None or b.text.strip()]


@st.cache_data(max_entries=16, show_spinner=False)
def read_doc(name: str) -> list[Block]:
    """Document ``name`` of docs/ (one of :func:`doc_names`) in blocks; the first document for any
    other name."""
    names = doc_names()
    name = name if name in names else FIRST
    return doc_blocks((DOCS_DIR / f"{name}.md").read_text(encoding="utf-8"), names)
