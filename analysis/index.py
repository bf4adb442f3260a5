"""The HTML index of every published run: ``<out>/index.html``.

One row per run folder (``<out>/<run-id>/`` and ``<out>/_failed/*/``) that holds a
readable ``manifest.json``: event, times, status, the headline key numbers (producer
CAAR over the main window and the main test's p-value) and links. The index is
rebuilt from the folders on disk, never edited in place, under its own lock.

Stdlib only at import.
"""

from __future__ import annotations

import fcntl
from pathlib import Path

from ._io import atomic_write_text
from .publish import FAILED_DIR, now, read_manifest

_INDEX_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;font-size:0.92em}th,td{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#17692c;font-weight:600}.failed{color:#b00020;font-weight:600}.partial{color:#8a5a00;font-weight:600}
"""


def key_numbers(results: dict) -> dict:
    """The headline numbers of a run from its merged ``results.json``.

    Parameters
    ----------
    results : dict
        ``{notebook: results}``.

    Returns
    -------
    dict
        event_study's ``key``, else the first notebook's ``key`` with a ``caar_treated``,
        else ``{}``.

    Examples
    --------
    >>> key_numbers({"event_study": {"key": {"caar_treated": -0.04}}})
    {'caar_treated': -0.04}
    """
    keys = [(results.get("event_study") or {}).get("key")] + [r.get("key") for r in results.values()
                                                             if isinstance(r, dict)]
    return next((k for k in keys if isinstance(k, dict) and "caar_treated" in k), {})


def _runs(out: Path) -> list[tuple[Path, dict]]:
    found = []
    for d in list(out.glob("*")) + list((out / FAILED_DIR).glob("*")):
        if d.is_dir() and not d.name.startswith("."):
            m = read_manifest(d)
            if m is not None:
                found.append((d, m))
    return sorted(found, key=lambda x: x[1].get("started") or "", reverse=True)


def build_index(out) -> Path:
    """Rewrite ``<out>/index.html``: one row per run (event, date, status, key numbers, links).

    Parameters
    ----------
    out : path-like
        The reports folder.

    Returns
    -------
    pathlib.Path
        The index file.
    """
    from html import escape

    out = Path(out)
    (out / ".locks").mkdir(parents=True, exist_ok=True)
    with open(out / ".locks" / "index.lock", "a+") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        rows = []
        for d, m in _runs(out):
            rel = d.relative_to(out).as_posix()
            key = m.get("key") or {}
            ev = m.get("event") or {}
            links = [f'<a href="{escape(rel)}/{escape(n["name"])}.html">{escape(n["name"])}</a>'
                     for n in m.get("notebooks", []) if n.get("html")]
            links += [f'<a href="{escape(rel)}/results.json">results</a>',
                      f'<a href="{escape(rel)}/manifest.json">manifest</a>']
            failed = [n["name"] for n in m.get("notebooks", []) if n.get("status") != "ok"]
            status = m.get("status", "?") + (f" ({', '.join(failed)})" if failed else "")
            caar = key.get("caar_treated")
            pv = key.get("p_value")
            rows.append(
                "<tr>"
                f'<td><a href="{escape(rel)}/">{escape(m.get("run_id", d.name))}</a></td>'
                f"<td>{escape(str(ev.get('event_id', '')))}<br><small>{escape(str(ev.get('title') or ''))}</small></td>"
                f"<td>{escape(str(ev.get('timestamp', '')))}</td>"
                f"<td>{escape(str(m.get('session') or ''))}</td>"
                f"<td>{escape((m.get('started') or '')[:19].replace('T', ' '))}</td>"
                f'<td class="{escape(m.get("status", ""))}">{escape(status)}</td>'
                f'<td class="num">{"" if caar is None else f"{caar * 100:+.2f}%"}</td>'
                f'<td>{escape(str(key.get("window", "")))}</td>'
                f'<td class="num">{"" if pv is None else f"{pv:.3f}"}'
                f'{"" if not key.get("test") else " <small>" + escape(key["test"]) + "</small>"}</td>'
                f"<td>{' · '.join(links)}</td>"
                "</tr>"
            )
        html = (
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>potash-impact reports</title>"
            f"<style>{_INDEX_CSS}</style></head><body><h1>potash-impact reports</h1>"
            f"<p>{len(rows)} run(s); regenerated {escape(now())}. Producer CAAR and p-value: the run's main window "
            "and main test (parameters <code>main_window</code>, <code>main_test</code>).</p>"
            "<table><thead><tr><th>run</th><th>event</th><th>event time (UTC)</th><th>session</th><th>run started</th>"
            "<th>status</th><th>producer CAAR</th><th>window</th><th>main test p</th><th>links</th></tr></thead>"
            "<tbody>" + "\n".join(rows) + "</tbody></table></body></html>\n"
        )
        atomic_write_text(out / "index.html", html)
    return out / "index.html"
