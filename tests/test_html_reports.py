"""Issue 14: every HTML page of a report reads like a paper, checked with ``html.parser``.

Two real runs, each once for the module (the slow part):

* the **default suite** (``potash-impact report --offline --jobs 2``: every notebook of
  ``params.NOTEBOOKS``) on the bundled case;
* one **``--all-events``** run, kept affordable: a copy of the bundled case whose catalog
  keeps two news events (the December 2025 easing and the December 2021 BPC designation,
  where LXU has no data yet) and every confounder; three notebooks per event.

On every notebook page:

* no table header contains an underscore, except code identifiers shown in ``<code>``;
* no cell reads ``NaN``, ``nan``, ``-0.00``, ``-0.0000`` (or any negative zero), ends in
  ``00:00:00``, or is cut with an ellipsis;
* a "Key findings" heading comes before the first table;
* every figure is followed by a one-sentence caption saying what it shows.

Then what the box and the tables say is checked against ``results.json``.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from analysis import cli, config, params

NEWS = ("us-potash-easing-2025", "us-bpc-designated-2021")
ALL_EVENTS_NOTEBOOKS = ("event_study", "potash_prices", "event_catalog")
BAD_CELL = re.compile(r"^(nan|-0(\.0+)?%?)$|00:00:00$|(…|\.\.\.)$", re.IGNORECASE)


def _report(base: Path, argv: list[str], data: Path | None = None) -> dict:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POTASH_IMPACT_CACHE", str(base / "cache"))
        mp.setenv("POTASH_IMPACT_OFFLINE", "1")
        mp.delenv("POTASH_IMPACT_DATA", raising=False)
        extra = ["--data-dir", str(data)] if data is not None else []
        code = cli.main(["report", "--offline", *argv, *extra, "--jobs", "2", "--out", str(base / "reports"),
                         "--quiet"])
    runs = sorted(d for d in (base / "reports").iterdir() if d.is_dir() and not d.name.startswith((".", "_")))
    return {"code": code, "runs": runs, "out": base / "reports"}


@pytest.fixture(scope="module")
def default_suite(tmp_path_factory):
    """``potash-impact report --offline --jobs 2``: the default suite, every notebook."""
    return _report(tmp_path_factory.mktemp("default"), [])


@pytest.fixture(scope="module")
def all_events(tmp_path_factory):
    """``--all-events`` on a copy of the bundled case whose catalog keeps two news events."""
    base = tmp_path_factory.mktemp("all_events")
    case = base / "case"
    shutil.copytree(config.data_dir(), case)
    events = pd.read_csv(case / "events.csv", dtype=str, keep_default_na=False)
    keep = events[events["event_id"].isin(NEWS) | (events["kind"] == "confounder")]
    keep.to_csv(case / "events.csv", index=False)
    return _report(base, ["--all-events", "--notebooks", *ALL_EVENTS_NOTEBOOKS], data=case)


def _pages(run_set: dict) -> dict[str, str]:
    return {f"{r.name}/{p.name}": p.read_text() for r in run_set["runs"] for p in sorted(r.glob("*.html"))}


# --------------------------------------------------------------------------- the page parser
class Page(HTMLParser):
    """Headers, cells, headings, figures and captions of an nbconvert page, in document order."""

    def __init__(self):
        super().__init__()
        self.order: list[tuple[str, str]] = []  # ("heading", text) / ("table", "") / ("img", "") / ("text", data)
        self.headers: list[tuple[str, str]] = []  # (full text, text outside <code>)
        self.cells: list[str] = []
        self._cell = None
        self._code = 0
        self._heading = None
        self._caption = None
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("style", "script"):
            self._skip += 1
        elif tag == "table":
            self.order.append(("table", ""))
        elif tag in ("th", "td"):
            self._cell = [tag, "", ""]
        elif tag == "code":
            self._code += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = ""
        elif tag == "img":
            self.order.append(("img", ""))
        elif tag == "p" and "caption" in (a.get("class") or "").split():
            self._caption = ""

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip -= 1
        elif tag in ("th", "td") and self._cell is not None:
            kind, full, plain = self._cell
            (self.headers.append((full.strip(), plain.strip())) if kind == "th" else None)
            self.cells.append(full.strip())
            self._cell = None
        elif tag == "code":
            self._code -= 1
        elif re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self.order.append(("heading", self._heading.replace("¶", "").strip()))
            self._heading = None
        elif tag == "p" and self._caption is not None:
            self.order.append(("caption", self._caption.strip()))
            self._caption = None

    def handle_data(self, data):
        if self._skip:
            return
        if self._cell is not None:
            self._cell[1] += data
            if not self._code:
                self._cell[2] += data
        if self._heading is not None:
            self._heading += data
        elif self._caption is not None:
            self._caption += data
        elif data.strip() and self._cell is None:
            self.order.append(("text", data.strip()))


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def _one_sentence(text: str) -> bool:
    """Ends with a full stop, holds no second sentence, and has a few words."""
    body = text.rstrip()
    return (body.endswith(".") and len(body.split()) >= 6
            and not re.search(r"[.!?]\s+[A-Z]", body[:-1]))


def check_page(name: str, html: str) -> list[str]:
    """Every issue-14 rule broken on one page, as messages."""
    page = parse(html)
    problems = []
    for full, plain in page.headers:
        if "_" in plain:
            problems.append(f"{name}: header {full!r} has an underscore outside <code>")
    for cell in page.cells:
        if BAD_CELL.search(cell):
            problems.append(f"{name}: cell {cell!r}")
    kinds = [k for k, _ in page.order]
    first_table = kinds.index("table") if "table" in kinds else len(kinds)
    headings = [i for i, (k, t) in enumerate(page.order) if k == "heading" and t == "Key findings"]
    if not headings or headings[0] > first_table:
        problems.append(f"{name}: no 'Key findings' heading before the first table")
    for i, (k, _) in enumerate(page.order):
        if k != "img":
            continue
        nxt = next(((kk, t) for kk, t in page.order[i + 1:] if kk in ("caption", "text", "heading", "table", "img")),
                   None)
        if nxt is None or nxt[0] != "caption" or not _one_sentence(nxt[1]):
            problems.append(f"{name}: figure {kinds[:i + 1].count('img')} is followed by {nxt!r}, not a one-sentence "
                            f"caption")
    return problems


# --------------------------------------------------------------------------- the checker itself
def test_checker_catches_each_broken_rule():
    """The page checks can fail: one page breaking every rule gives one message per rule."""
    bad = ("<table><tr><th>caar_treated</th><th><code>bmp_kp</code></th></tr><tr><td>NaN</td><td>-0.00</td>"
           "<td>2021-06-21 00:00:00</td><td>EU foreign ministers agree…</td></tr></table>"
           "<h2>Key findings</h2><img src='x.png'><p>Treated and control CAAR.</p>")
    problems = check_page("bad", bad)
    assert any("caar_treated" in p for p in problems) and not any("bmp_kp" in p for p in problems)
    assert sum("cell" in p for p in problems) == 4
    assert any("Key findings" in p for p in problems)
    assert any("figure 1" in p for p in problems)
    good = ("<h1>T</h1><div><h2>Key findings</h2><p>x</p></div><table><tr><th>CAAR treated</th></tr>"
            "<tr><td>-4.34%</td></tr></table><img src='x.png'>"
            "<p class='caption'><em>Treated and control CAAR by event day, with the null band.</em></p>")
    assert check_page("good", good) == []
    assert not _one_sentence("Short.") and not _one_sentence("The CAAR path of the firms. It is long enough here.")


# --------------------------------------------------------------------------- the runs
def test_default_suite_pages_follow_every_rule(default_suite):
    assert default_suite["code"] == 0
    (run,) = default_suite["runs"]
    pages = _pages(default_suite)
    assert sorted(p.split("/")[1] for p in pages) == sorted(f"{nb}.html" for nb in params.NOTEBOOKS)
    problems = [p for name, html in pages.items() for p in check_page(name, html)]
    assert problems == []


def test_all_events_pages_follow_every_rule(all_events):
    assert all_events["code"] == 0
    assert sorted(r.name.split("_")[1] for r in all_events["runs"]) == sorted(NEWS)
    pages = _pages(all_events)
    assert len(pages) == len(NEWS) * len(ALL_EVENTS_NOTEBOOKS)
    problems = [p for name, html in pages.items() for p in check_page(name, html)]
    assert problems == []


def test_key_findings_box_says_what_results_json_holds(default_suite):
    """The box is generated from the recorded results: conclusion, key numbers with p-values, data."""
    (run,) = default_suite["runs"]
    results = json.loads((run / "results.json").read_text())
    es = results["event_study"]
    page = (run / "event_study.html").read_text()
    box = page[page.index("Key findings"):page.index("About this page")]
    assert "-4.34%" in box and "p = 0.062 (placebo)" in box and "-2.97%" in box and "p = 0.212 (placebo)" in box
    assert es["conclusion"][:120].replace("'", "&#x27;") in box
    assert "World Bank Pink Sheet, May 2026 release; later months from the June 2026 release" in box
    assert "none; every requested firm was used" in box
    catalog = (run / "event_catalog.html").read_text()
    cbox = catalog[catalog.index("Key findings"):catalog.index("About this page")]
    assert results["event_catalog"]["conclusion"].startswith("All 24 catalog events are covered")
    assert "6 of 8 votes" in cbox and "p = 0.289 (sign test)" in cbox
    for nb in params.NOTEBOOKS:  # every page opens with its box, before any other output
        html = (run / f"{nb}.html").read_text()
        assert html.index('class="key-findings"') < html.index("<table"), nb
        assert "once it has finished computing" not in html, nb  # the placeholder was replaced


def test_excluded_firm_shows_a_dash_and_its_reason(all_events):
    """December 2021: LXU has no data yet; its CAR column is all '–' and the footnote says why."""
    (run,) = [r for r in all_events["runs"] if "us-bpc-designated-2021" in r.name]
    page = parse((run / "event_study.html").read_text())
    assert "–" in page.cells
    html = (run / "event_study.html").read_text()
    assert "–: LXU excluded from every window: 0 valid estimation returns" in html
    assert "Sample notes" in html and "LXU excluded from every window" in html


def test_titles_wrap_and_are_never_cut(default_suite):
    (run,) = default_suite["runs"]
    html = (run / "event_catalog.html").read_text()
    events = pd.read_csv(config.data_dir() / "events.csv", dtype=str, keep_default_na=False)
    longest = max(events["title"], key=len)
    assert len(longest) > 60
    from html import escape

    assert escape(longest) in html
    assert "white-space: normal" in html


def test_pages_carry_the_print_stylesheet(default_suite):
    (run,) = default_suite["runs"]
    for nb in params.NOTEBOOKS:
        html = (run / f"{nb}.html").read_text()
        assert "@media print" in html and "break-inside: avoid" in html and "max-width: 72em" in html, nb


def _png_size_dpi(path: Path) -> tuple[int, int, float]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    i = data.find(b"pHYs")
    ppm = struct.unpack(">I", data[i + 4:i + 8])[0] if i > 0 else 0
    return width, height, ppm * 0.0254


def test_figures_are_150_dpi_and_one_width(default_suite):
    (run,) = default_suite["runs"]
    figures = sorted((run / "figures").glob("*.png"))
    assert len(figures) >= 8
    for png in figures:
        w, h, dpi = _png_size_dpi(png)
        assert round(dpi) == 150, png.name
    for name in ("event_study_caar", "event_study_volume_path", "potash_prices_prices", "potash_prices_sensitivity",
                 "potash_prices_event_path"):  # analysis.plots figures: FIGSIZE at 150 dpi
        assert _png_size_dpi(run / "figures" / f"{name}.png")[:2] == (1200, 675), name
    assert _png_size_dpi(run / "figures" / "event_catalog_forest.png")[0] == 1200
