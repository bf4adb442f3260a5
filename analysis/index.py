"""The HTML index of every published run: ``<out>/index.html``.

One row per run folder (``<out>/<run-id>/`` and ``<out>/_failed/*/``) that holds a
readable ``manifest.json``. The index is rebuilt from the folders on disk, never edited
in place, under its own lock, and written atomically.

Rows
----
* sorted by **event date, newest first**, then by **run start time**, newest first;
* event id and title, event time, aligned session, run start time;
* the run's **non-default parameters** (model, benchmark, windows, groups, case folder...),
  so two runs of one event differ by more than a hash;
* status; for a failed run, the **first line of its error**;
* the headline numbers (:class:`analysis.recorder.KeyNumbers`): treated CAAR over the main
  window, the main test's p-value, **n** (treated firms used; controls after a slash),
  and the robustness notebook's share of significant specifications when it ran;
* links to each notebook's HTML, ``results.json`` and ``manifest.json``.

Rendering uses a Jinja2 template with autoescaping on: every string from a manifest
(ids, titles, errors, parameters) is escaped, never concatenated into markup.

Stdlib only at import (Jinja2 loads inside :func:`build_index`).
"""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

from ._io import atomic_write_text
from .publish import FAILED_DIR, LOCKS_DIR, now, read_manifest

_HIDDEN_PARAMS = ("event", "offline", "output_dir")

_TEMPLATE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>potash-impact reports</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;font-size:0.92em}th,td{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left;
vertical-align:top}th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#17692c;font-weight:600}.failed{color:#b00020;font-weight:600}.locked{color:#8a5a00;font-weight:600}
small{color:#555}code{font-size:0.9em}
</style></head><body>
<h1>potash-impact reports</h1>
<p>{{ rows|length }} run(s); regenerated {{ generated }}. Newest event first, then newest run.
Treated CAAR and p-value: the run's main window and main test (parameters <code>main_window</code>,
<code>main_test</code>); n: treated firms used (/ control firms).</p>
<table><thead><tr><th>run</th><th>event</th><th>event time (UTC)</th><th>session</th><th>run started</th>
<th>parameters (non-default)</th><th>status</th><th>treated CAAR</th><th>window</th><th>main test p</th>
<th>n</th><th>links</th></tr></thead>
<tbody>
{% for r in rows %}<tr>
<td><a href="{{ r.href }}/">{{ r.run_id }}</a></td>
<td>{{ r.event_id }}<br><small>{{ r.title }}</small></td>
<td>{{ r.timestamp }}</td>
<td>{{ r.session }}</td>
<td>{{ r.started }}</td>
<td>{% for k, v in r.params %}<code>{{ k }}={{ v }}</code>{% if not loop.last %}<br>{% endif %}{% endfor %}</td>
<td class="{{ r.status }}">{{ r.status_text }}{% if r.error %}<br><small>{{ r.error }}</small>{% endif %}</td>
<td class="num">{{ r.caar }}</td>
<td>{{ r.window }}</td>
<td class="num">{{ r.p }}{% if r.test %} <small>{{ r.test }}</small>{% endif %}{% if r.share %}<br><small>robustness: {{ r.share }} significant</small>{% endif %}{% if r.p_space %}<br><small>in-space p: {{ r.p_space }}</small>{% endif %}</td>
<td class="num">{{ r.n }}</td>
<td>{% for name, href in r.links %}<a href="{{ href }}">{{ name }}</a>{% if not loop.last %} · {% endif %}{% endfor %}</td>
</tr>
{% endfor %}</tbody></table></body></html>
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
        :meth:`analysis.recorder.KeyNumbers.from_results` as a dict, ``{}`` when no
        notebook recorded one.

    Raises
    ------
    ReportError
        A notebook recorded a ``key`` that breaks the contract (a required field missing).

    Examples
    --------
    >>> key_numbers({"event_study": {"key": {"window": "(0,1)", "test": "placebo",
    ...     "caar_treated": -0.04, "p_value": 0.2, "n": 4}}})["caar_treated"]
    -0.04
    """
    from .recorder import KeyNumbers

    k = KeyNumbers.from_results(results)
    return k.to_dict() if k is not None else {}


def _text(v) -> str:
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(v, separators=(",", ":"))
    return str(v)


def _nondefault(m: dict) -> list[tuple[str, str]]:
    nd = m.get("nondefault")
    if not isinstance(nd, dict):  # manifests written before the runner recorded it
        from .params import SCHEMA

        params = m.get("params") or {}
        nd = {k: v for k, v in params.items()
              if k in SCHEMA and SCHEMA[k][0] is not None and v != SCHEMA[k][0]}
    return [(str(k), _text(v)) for k, v in sorted(nd.items()) if k not in _HIDDEN_PARAMS]


def _first_error(m: dict) -> str:
    errs = [m.get("error")] + [n.get("error") for n in m.get("notebooks", []) if n.get("status") != "ok"]
    for e in errs:
        lines = [ln.strip() for ln in str(e or "").splitlines() if ln.strip()]
        if lines:
            return lines[0][:300]
    return ""


def _row(out: Path, d: Path, m: dict) -> dict:
    rel = d.relative_to(out).as_posix()
    key = m.get("key") if isinstance(m.get("key"), dict) else {}
    ev = m.get("event") if isinstance(m.get("event"), dict) else {}
    nbs = [n for n in m.get("notebooks", []) if isinstance(n, dict)]
    failed = [str(n.get("name")) for n in nbs if n.get("status") != "ok"]
    status = str(m.get("status", "?"))
    caar, pv = key.get("caar_treated"), key.get("p_value")
    n_t, n_c = key.get("n"), key.get("n_control")
    robust = ((m.get("keys") or {}).get("robustness") or {}) if isinstance(m.get("keys"), dict) else {}
    share = robust.get("share_significant")
    space = ((m.get("keys") or {}).get("cross_section") or {}) if isinstance(m.get("keys"), dict) else {}  # issue 13
    links = [(str(n.get("name")), f"{rel}/{n.get('name')}.html") for n in nbs if n.get("html")]
    links += [("results", f"{rel}/results.json"), ("manifest", f"{rel}/manifest.json")]
    started = str(m.get("started") or "")
    return {
        "href": rel, "run_id": str(m.get("run_id", d.name)),
        "event_id": str(ev.get("event_id", "")), "title": str(ev.get("title") or ""),
        "timestamp": str(ev.get("timestamp") or ""), "session": str(m.get("session") or ""),
        "started": started[:19].replace("T", " "),
        "params": _nondefault(m),
        "status": status, "status_text": status + (f" ({', '.join(failed)})" if failed else ""),
        "error": _first_error(m) if status != "ok" else "",
        "caar": "" if not isinstance(caar, (int, float)) else f"{caar * 100:+.2f}%",
        "window": str(key.get("window") or ""),
        "p": "" if not isinstance(pv, (int, float)) else f"{pv:.3f}",
        "test": str(key.get("test") or ""),
        "share": "" if not isinstance(share, (int, float)) else f"{share:.0%}",
        "p_space": "; ".join(f"{lab} {space[k]:.4f}" for k, lab in (("p_in_space", "treated"), ("p_in_space_diff", "diff"))
                             if isinstance(space.get(k), (int, float))),
        "n": "" if n_t is None else (f"{n_t}" + (f" / {n_c}" if n_c is not None else "")),
        "links": links,
        "_sort": (str(ev.get("timestamp") or "")[:10], started),
    }


def _runs(out: Path) -> list[tuple[Path, dict]]:
    found = []
    for d in list(out.glob("*")) + list((out / FAILED_DIR).glob("*")):
        if d.is_dir() and not d.name.startswith(".") and d.name != FAILED_DIR:
            m = read_manifest(d)
            if m is not None:
                found.append((d, m))
    return found


def build_index(out) -> Path:
    """Rewrite ``<out>/index.html`` from the run folders on disk.

    Parameters
    ----------
    out : path-like
        The reports folder.

    Returns
    -------
    pathlib.Path
        The index file.

    Raises
    ------
    WriteError
        The index cannot be written (the previous index is intact).

    Examples
    --------
    >>> import tempfile
    >>> build_index(tempfile.mkdtemp()).read_text().count("<tr>")
    1
    """
    import jinja2

    out = Path(out)
    (out / LOCKS_DIR).mkdir(parents=True, exist_ok=True)
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(_TEMPLATE)
    with open(out / LOCKS_DIR / "index.lock", "a+") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        rows = sorted((_row(out, d, m) for d, m in _runs(out)), key=lambda r: r["_sort"], reverse=True)
        html = template.render(rows=rows, generated=now())
        atomic_write_text(out / "index.html", html)
    return out / "index.html"
