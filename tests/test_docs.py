"""The README and docs/: every relative link and image exists (anchors included), the README stays
a newcomer's size, its numbers are the shipped models' own, and the app's Guide page shows every
document with links it can follow, each page's "What am I looking at?" line pointing into it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from apptest import assert_clean, open_page
from conftest import MAIN
from streamlit.testing.v1 import AppTest

import cells
from app.compute import docs
from cells.science.claims import claims_table, load_claims

ROOT = Path(__file__).resolve().parents[1]
MARKDOWN = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
PAGES = [p.stem for p in sorted((ROOT / "pages").glob("*.py")) if p.stem != "docs"]


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", text, re.M)}


def test_slugs_are_githubs():
    assert slug("Training (`cells.train_task`)") == "training-cellstrain_task"
    assert slug("From Olah's diagrams to these pages") == "from-olahs-diagrams-to-these-pages"
    assert slug("LSTM vs GRU") == "lstm-vs-gru"


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: p.name)
def test_every_relative_link_and_image_exists(path):
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        file, _, anchor = target.partition("#")
        resolved = path if not file else (path.parent / file).resolve()
        if not resolved.exists() or (anchor and resolved.suffix == ".md" and anchor not in anchors(resolved)):
            broken.append(target)
    assert broken == []


def test_the_link_check_sees_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Here\n[ok](#here) [gone](#there) [missing](nowhere.md)\n")
    text = page.read_text()
    targets = LINK.findall(text)
    assert targets == ["#here", "#there", "nowhere.md"]
    assert anchors(page) == {"here"} and not (tmp_path / "nowhere.md").exists()


def test_the_readme_is_a_newcomers_size_and_starts_with_its_picture():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode()) < 15_000
    first_image = re.search(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert first_image and first_image.group(1) == "docs/images/gates.png"
    order = [readme.index(h) for h in ("## Run it", "## Your first five minutes", "## Development")]
    assert order == sorted(order)
    assert "http://localhost:8501" in readme


def test_the_readme_keeps_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install -r requirements.txt && streamlit run app/main.py" in readme
    assert "pip install -r requirements-dev.txt && python -m pytest" in readme


def test_the_readmes_shipped_models_table_is_the_models_own_figures():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table_row = re.compile(r"^\| `([\w-]+)`, .*? \| .*? \| (.+?) \|$", re.M)
    rows = {m.group(1): m.group(2) for m in table_row.finditer(readme)}
    keys = {"lstm": ("", "heldout_prose_bpc"), "lstm-code": ("-code", "heldout_code_bpc"),
            "lstm-melody": ("-melody", "heldout_loglik_per_note"), "lstm-series": ("-series", "test_mse")}
    for first, (suffix, key) in keys.items():
        shown = [float(x.replace("−", "-")) for x in re.findall(r"[−-]?\d+\.\d+", rows[first])]
        figures = [float(cells.pretrained_meta(f"{arch}{suffix}")[key]) for arch in ("lstm", "gru", "rnn")]
        digits = 3 if key != "test_mse" else 4
        assert shown == [round(f, digits) for f in figures], first


README_CLAIMS = {"NFG and NOAF hurt most": "Greff's ordering",
                 "CIFG, NIG, NOG cost little": "CIFG, NIG and NOG",
                 "CIFG ≈ LSTM": "CIFG ≈ LSTM", "MGU ≈ GRU": "MGU ≈ GRU",
                 "forget bias 1 beats 0": "Forget-gate bias"}
"""The README's claims (its first column begins so) and the Lab's claims they stand for."""
README_SETTINGS = {2: "Bach chorales", 3: "fortunes, 64 units, 16M characters"}
"""The README's claims columns and the Lab's settings they show."""


def shown_in(number: str, measured: str) -> bool:
    """Whether the README's ``number`` is one of the Lab's figures rounded to the digits shown (a
    number shown without a sign stands for either sign)."""
    number = number.replace("−", "-")
    digits = len(number.split(".")[1])
    figures = [float(x) for x in re.findall(r"[+-]?\d+\.\d+", measured)]
    if number[0] in "+-":
        return any(round(f, digits) == float(number) for f in figures)
    return any(round(abs(f), digits) == float(number) for f in figures)


def test_the_readmes_claims_table_is_the_labs_own_verdicts_and_figures():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lab = claims_table(load_claims())
    checked = 0
    for line in readme.splitlines():
        columns = [c.strip() for c in line.strip("|").split("|")]
        begins = [k for k in README_CLAIMS if columns[0].startswith(k)]
        if not line.startswith("| ") or not begins:
            continue
        for column, setting in README_SETTINGS.items():
            (claim,) = [c for c in lab if c.claim.startswith(README_CLAIMS[begins[0]])
                        and c.setting.startswith(setting)]
            verdict, _, numbers = columns[column].partition(":")
            assert verdict.strip("* ") == claim.held, (columns[0], setting)
            for number in re.findall(r"[+−-]?\d+\.\d+", numbers):
                assert shown_in(number, claim.measured), (columns[0], setting, number, claim.measured)
            checked += 1
    assert checked == 2 * len(README_CLAIMS)


def test_a_claims_figure_is_shown_only_when_the_lab_has_it_at_those_digits():
    assert shown_in("+0.185", "NOAF +0.185") and shown_in("9.19", "MGU 9.186 ± 0.045")
    assert not shown_in("-0.185", "NOAF +0.185") and not shown_in("9.20", "MGU 9.186")
    assert shown_in("0.044", "better by -0.044")


def test_doc_blocks_split_images_and_point_links_where_the_app_can_follow_them():
    names = ("pages", "match")
    blocks = docs.doc_blocks("See [match](match.md#speed), [here](#top), [code](../cells/core/lstm.py), "
                             "[web](https://example.org).\n![a cell](images/x.png)\nafter", names)
    assert [b.image for b in blocks] == [None, docs.DOCS_DIR / "images/x.png", None]
    assert blocks[0].text == ("See [match](docs?doc=match#speed), [here](#top), code, "
                              "[web](https://example.org).\n")
    assert blocks[1].text == "a cell" and blocks[2].text == "\nafter"
    assert docs.page_link("nowhere.md", names) is None  # not a document: its text only


@pytest.mark.parametrize("name", docs.doc_names())
def test_the_guide_shows_every_document(name):
    at = open_page("docs.py", doc=name)
    assert_clean(at)
    shown = "\n".join(m.value for m in at.markdown)
    title = (docs.DOCS_DIR / f"{name}.md").read_text(encoding="utf-8").splitlines()[0].lstrip("# ")
    assert title in shown
    for target in re.findall(r"\]\(([^)\s]+)\)", shown):
        assert target.startswith(("docs?doc=", "#", "http")), target
        if target.startswith("docs?doc="):
            doc, _, anchor = target.removeprefix("docs?doc=").partition("#")
            assert doc in docs.doc_names()
            assert not anchor or anchor in anchors(docs.DOCS_DIR / f"{doc}.md"), target


def test_a_hand_edited_guide_url_opens_the_first_document():
    at = AppTest.from_file(MAIN, default_timeout=120)
    at.query_params["doc"] = "../../etc/passwd"
    at.run()
    at.switch_page("../pages/docs.py").run()
    assert_clean(at)
    assert "The pages in detail" in "\n".join(m.value for m in at.markdown)


@pytest.mark.parametrize("page", PAGES)
def test_every_pages_explanation_links_to_its_part_of_the_guide(page):
    at = open_page(f"{page}.py")
    lines = [c.value for c in at.caption if c.value.startswith("**What am I looking at?**")]
    assert len(lines) == 1, page
    target = re.search(r"\[More in the guide\]\(docs\?doc=([\w-]+)(?:#([\w-]+))?\)", lines[0])
    assert target, lines[0][-120:]
    doc, anchor = target.groups()
    assert doc in docs.doc_names()
    assert anchor is None or anchor in anchors(docs.DOCS_DIR / f"{doc}.md")
