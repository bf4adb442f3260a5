"""Helpers shared by the runner's tests: tiny notebooks and an HTML scanner.

A tiny notebook stands in for the real ones where the runner's mechanics are tested: its
parameters cell takes the runner's values, one code cell records results through
``Recorder``. The scanner looks for live script in what a run writes.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import nbformat

HOSTILE = "<img src=x onerror=alert('XSS-ID')>"

TINY_SOURCE = """import os, time
from analysis.recorder import Recorder
rec = Recorder(output_dir, "tiny")
rec["event"] = event
rec["key"] = {"window": "(0,1)", "caar_treated": -0.0123, "test": "placebo", "p_value": 0.25, "n": 4}
time.sleep(float(os.environ.get("TINY_SLEEP", "0")))
if os.environ.get("TINY_FAIL"):
    raise RuntimeError("deliberate failure")
rec.save()
print("tiny done")"""


def write_notebook(path: Path, source: str = TINY_SOURCE) -> Path:
    """A two-cell notebook at ``path``: a ``parameters`` cell and ``source``."""
    nb = nbformat.v4.new_notebook()
    par = nbformat.v4.new_code_cell('event = None\noffline = None\ndata_dir = None\noutput_dir = None')
    par.metadata["tags"] = ["parameters"]
    nb.cells = [par, nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.n = 0

    def handle_starttag(self, tag, attrs):
        if tag == "img" and any(k == "src" and (v or "").startswith("data:image/") for k, v in attrs):
            self.n += 1


def count_images(html: str) -> int:
    """How many embedded ``<img src="data:image/...">`` an HTML page shows (CSS backgrounds excluded)."""
    p = _Images()
    p.feed(html)
    return p.n


class _Scanner(HTMLParser):
    """Collects every ``<script>``, every ``on*=`` attribute and every ``javascript:`` URL."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple] = []

    def handle_starttag(self, tag, attrs):
        if tag.lower() == "script":
            self.found.append(("script", tuple(sorted((k, v or "") for k, v in attrs))))
        for k, v in attrs:
            if k.lower().startswith("on"):
                self.found.append(("on-attribute", tag, k, v or ""))
            if k.lower() in ("href", "src", "action") and (v or "").strip().lower().startswith("javascript:"):
                self.found.append(("javascript-url", tag, k, v))

    handle_startendtag = handle_starttag


def scan_html(text: str) -> list[tuple]:
    """Live-script findings in an HTML text (empty when clean)."""
    s = _Scanner()
    s.feed(text)
    s.close()
    return s.found


def scan_file(path: Path) -> list[tuple]:
    """Findings in one file a run wrote, with ``html.parser``: HTML and any other text file
    (JSON, CSV) whole; for a notebook, each HTML output and markdown cell."""
    if path.suffix == ".png":
        return []
    text = path.read_text(errors="replace")
    if path.suffix == ".ipynb":
        found = []
        for cell in json.loads(text).get("cells", []):
            if cell.get("cell_type") == "markdown":
                found += scan_html("".join(cell.get("source", "")))
            for out in cell.get("outputs", []):
                html = out.get("data", {}).get("text/html")
                if html:
                    found += scan_html("".join(html) if isinstance(html, list) else html)
        return found
    return scan_html(text)


def scan_tree(root: Path, baseline: list[tuple] = (), suffixes=None) -> dict[str, list[tuple]]:
    """``{relative path: findings}`` for every file under ``root`` (only ``suffixes`` if given)
    with findings not in ``baseline``."""
    allowed = set(baseline)
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and ".locks" not in p.parts and (suffixes is None or p.suffix in suffixes):
            bad = [f for f in scan_file(p) if f not in allowed]
            if bad:
                out[p.relative_to(root).as_posix()] = bad
    return out
