"""The "Key findings" box at the top of every report page, generated from the recorded results.

A notebook shows the box right under its title (:meth:`analysis.recorder.Recorder.key_findings`);
every :meth:`~analysis.recorder.Recorder.save` re-renders it from ``rec.results``, so the box
always says what the page below computed, and the notebook writes none of it. The box holds:

* the **conclusion**: the generated text the notebook recorded (``conclusion``, or
  ``sentence`` / ``verdict``);
* **three to five key numbers**, each with its evidence (a p-value and the test that gave
  it, or what a number is compared with), read from the notebook's recorded key numbers
  (:data:`EXTRACTORS`, one function per notebook; any other notebook gets its
  conclusion and notes only);
* the **sample notes** (``results["notes"]``): the first few, and how many more the
  "Sample notes" box at the end of the page lists;
* the **data vintage** (``results["data_vintage"]``, from :func:`data_vintage`), in words:
  "World Bank Pink Sheet, May 2026 release; later months from the June 2026 release"
  (:func:`commodity_source`) rather than the file's vintage codes.

Also here: the two notebooks' key-number builders :func:`commodity_key_numbers` and
:func:`catalog_key_numbers` (re-exported by :mod:`analysis.recorder`, their first home).

Every value is escaped; numbers follow :mod:`analysis.present`'s display rules. Stdlib
only at import.
"""

from __future__ import annotations

import html
import re

from .errors import ReportError

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
#: how many sample notes the box lists before pointing to the full box
MAX_NOTES = 4

_BOX_STYLE = ("border:2px solid #2b6cb0;background:#f3f8ff;padding:0.5em 1.2em 0.7em;margin:0.6em 0 1.4em;"
              "border-radius:6px;max-width:62em")


def _release(code: str) -> str:
    code = code.strip()
    m = re.fullmatch(r"(?:after\s+)?(\d{4})-(\d{2})(?:-\d{2})?(?:\s*\(.*\))?", code)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{_MONTHS[int(m.group(2)) - 1]} {m.group(1)} release"
    m = re.fullmatch(r"downloaded\s+(\d{4}-\d{2}-\d{2})", code)
    if m:
        return f"download of {m.group(1)}"
    return code


def commodity_source(vintage, publisher: str = "World Bank Pink Sheet") -> str:
    """The commodity series' source in words, from the loader's vintage codes.

    Parameters
    ----------
    vintage : str or dict
        ``attrs["vintage"]`` of :func:`analysis.commodity_data.load_commodity_prices` (codes
        joined by ``"; "``, oldest release first), or the ``attrs`` dict itself.
    publisher : str
        Who publishes the series.

    Returns
    -------
    str
        e.g. ``"World Bank Pink Sheet, May 2026 release; later months from the June 2026 release"``.

    Examples
    --------
    >>> commodity_source("2026-05-04; after 2026-06 (rounded copy)")
    'World Bank Pink Sheet, May 2026 release; later months from the June 2026 release'
    >>> commodity_source({"vintage": "unknown"})
    'World Bank Pink Sheet (release not recorded)'
    """
    v = vintage.get("vintage") if isinstance(vintage, dict) else vintage
    parts = [x.strip() for x in str(v or "").split(";") if x.strip() and x.strip() != "unknown"]
    if not parts:
        return f"{publisher} (release not recorded)"
    text = f"{publisher}, {_release(parts[0])}"
    if len(parts) > 1:
        text += "; later months from the " + " and the ".join(_release(x) for x in parts[1:])
    return text


def data_vintage(data_dir=None, *, sources=None) -> str:
    """Where the page's data come from, in one plain sentence (the box's "Data" line).

    Parameters
    ----------
    data_dir : str, path-like or Case, optional
        The case folder (default: ``$POTASH_IMPACT_DATA`` or the bundled ``data/``).
    sources : dict, optional
        ``ticker -> source`` (``returns.attrs["sources"]``): series from the cache or a
        live download are counted.

    Returns
    -------
    str

    Examples
    --------
    >>> data_vintage()  # doctest: +ELLIPSIS
    'Share prices: curated snapshot, prices to 2026-09-15. Commodity prices: World Bank Pink Sheet, May 2026 release; ...'
    """
    from .commodity_data import load_commodity_prices
    from .data import snapshot_vintage
    from .errors import PotashImpactError

    snap = str(snapshot_vintage(data_dir).get("vintage") or "not recorded").split(";")[0].strip()
    text = f"Share prices: {snap}"
    other = sorted({str(s) for s in (sources or {}).values()} - {"snapshot"})
    if other:
        n = sum(1 for s in (sources or {}).values() if str(s) != "snapshot")
        text += f" ({n} series from the {' and the '.join(other)}; see the data coverage table)"
    try:
        text += f". Commodity prices: {commodity_source(load_commodity_prices(data_dir, source='auto').attrs)}."
    except PotashImpactError:  # a case without commodity prices: say nothing about them
        text += "."
    return text


def study_source(params: dict, *, vintage: str | None = None, measure: str = "daily total returns",
                 model: str | None = None) -> str:
    """The source line of an event-study figure: the data and the normal-return model, in words.

    Parameters
    ----------
    params : dict
        :func:`analysis.params.resolve`'s output (``model``, ``benchmark``,
        ``estimation_window``, ``data_dir``).
    vintage : str, optional
        The snapshot's vintage text (default: read from the case folder).
    measure : str
        What was measured, e.g. ``"daily log share volume"``.
    model : str, optional
        The normal model when it is not ``params["model"]`` (the volume study's
        ``"mean"``: the estimation-window mean, no benchmark).

    Returns
    -------
    str

    Examples
    --------
    >>> study_source({"model": "market", "benchmark": "SPY", "estimation_window": [-250, -11]},
    ...              vintage="curated snapshot, prices to 2026-09-15")
    'Source: daily total returns, curated snapshot, prices to 2026-09-15; market model on SPY, estimation window: trading days -250\xa0to\xa0-11'
    """
    if vintage is None:
        from .data import snapshot_vintage

        vintage = str(snapshot_vintage(params.get("data_dir")).get("vintage") or "not recorded")
    snap = str(vintage).split(";")[0].strip()
    a, b = params.get("estimation_window") or (None, None)
    model = str(model or params.get("model", "market"))
    model = "constant-mean" if model in ("mean", "constant_mean") else model.replace("_", "-")
    on = f" on {params['benchmark']}" if params.get("benchmark") and model != "constant-mean" else ""
    span = f"{a}\u00a0to\u00a0{b}"  # never wrapped apart
    return f"Source: {measure}, {snap}; {model} model{on}, estimation window: trading days {span}"


# =========================================================================== key numbers of two notebooks
def commodity_key_numbers(path, sensitivity, treated, alpha: float | None = None) -> dict:
    """The commodity notebook's headline: the event-aligned path and the treated firms' mean beta.

    Parameters
    ----------
    path : EventPotashPath
        :func:`analysis.event_potash_path` of the run's event.
    sensitivity : sensitivity result or pandas.DataFrame
        :func:`analysis.potash_sensitivity`'s result or its ``to_frame()`` (``ticker``,
        ``beta_<series>``, the series being the path's unless the result names its own).
    treated : list of str
        The treated firms.
    alpha : float, optional
        Level for counting the treated firms whose commodity beta has a p-value below it
        (default :data:`analysis.narrative.DEFAULT_ALPHA`).

    Returns
    -------
    dict
        ``series, event_month, change_event_month_pct, cum_change_pct, to_month,
        mean_beta_treated`` (percent changes in percent; ``None`` where not computable),
        ``alpha``, ``n_beta_treated`` and ``n_beta_significant`` (treated firms with a beta,
        and those whose beta's p-value is below ``alpha``).

    Examples
    --------
    >>> import analysis
    >>> path = analysis.event_potash_path("us-potash-easing-2025", months_after=3)
    >>> commodity_key_numbers(path, None, [])["to_month"]
    '2026-03'
    """
    import pandas as pd

    from .narrative import DEFAULT_ALPHA
    from .recorder import _frame, jsonable

    alpha = DEFAULT_ALPHA if alpha is None else alpha
    t = path.to_frame()
    done = t.dropna(subset=["cum_change_pct"])
    last = done.iloc[-1] if len(done) else None
    at0 = t.loc[t["offset"] == 0, "change_pct"]
    beta, n_beta, n_sig = None, None, None
    if sensitivity is not None:
        s = _frame(sensitivity)
        series = getattr(sensitivity, "series", None) or path.series
        col = f"beta_{series}"
        if col not in s.columns:
            raise ReportError(f"key numbers: the sensitivity table has no {col} column (columns: {', '.join(s.columns)})")
        mine = s[s["ticker"].isin(list(treated))]
        b = mine[col].dropna()
        beta = float(b.mean()) if len(b) else None
        n_beta = int(len(b))
        if f"p_{series}" in mine.columns:
            n_sig = int((mine[f"p_{series}"].astype(float) < alpha).sum())
    return jsonable({
        "series": path.series,
        "event_month": str(pd.Period(path.event_date, "M")),
        "change_event_month_pct": at0.iloc[0] if len(at0) else None,
        "cum_change_pct": None if last is None else last["cum_change_pct"],
        "to_month": None if last is None else str(last["month"]),
        "mean_beta_treated": beta,
        "alpha": alpha,
        "n_beta_treated": n_beta,
        "n_beta_significant": n_sig,
    })


def catalog_key_numbers(study, window: str, alpha: float | None = None) -> dict:
    """The catalog notebook's headline: coverage and the sign consistency over ``window``.

    Parameters
    ----------
    study : CatalogStudy
        :func:`analysis.study_catalog`'s result.
    window : str
        The main window label.
    alpha : float, optional
        Level for counting events whose treated-minus-control placebo p is below it
        (default :data:`analysis.narrative.DEFAULT_ALPHA`).

    Returns
    -------
    dict
        ``window, n_events, n_covered, sign_consistency`` (records ``kind, n_votes,
        share_expected_treated, share_expected_diff``), ``alpha`` and
        ``n_placebo_significant`` (covered events with placebo p below ``alpha``).

    Examples
    --------
    >>> from analysis.catalog_study import study_catalog
    >>> study = study_catalog(["us-potash-easing-2025", "eu-belaruskali-2022"], offline=True)
    >>> catalog_key_numbers(study, "(0,1)")["n_covered"]
    2
    """
    from .narrative import DEFAULT_ALPHA
    from .recorder import jsonable

    alpha = DEFAULT_ALPHA if alpha is None else alpha
    cons = study.sign_consistency(window)
    table = study.to_frame(window)
    ok = table[table["status"] == "ok"]
    return jsonable({
        "window": window,
        "n_events": study.n_events,
        "n_covered": study.n_covered,
        "sign_consistency": cons[["kind", "n_votes", "share_expected_treated", "share_expected_diff"]],
        "alpha": alpha,
        "n_placebo_significant": int((ok["p_placebo"].astype(float) < alpha).sum()),
    })


# =========================================================================== the box's rows
def _v(value, kind):
    from .present import format_value

    return format_value(value, kind)


def _p(value, test):
    from .present import MISSING, TEST_NAMES

    p = _v(value, "p")
    if p == MISSING:
        return f"no p-value ({TEST_NAMES.get(test, test)})"
    return f"p {p} ({TEST_NAMES.get(test, test)})" if p.startswith("<") else f"p = {p} ({TEST_NAMES.get(test, test)})"


def _row(label, value, evidence=""):
    return {"label": label, "value": value, "evidence": evidence}


def _event_study(r: dict) -> list[dict]:
    k = r.get("key") or {}
    if not k:
        return []
    w = k.get("window", "")
    rows = [_row(f"CAAR of the treated firms, days {w} ({k.get('n')} firms)", _v(k.get("caar_treated"), "pct"),
                 _p(k.get("p_value"), k.get("test")))]
    if k.get("caar_control") is not None:
        rows.append(_row(f"CAAR of the control firms, days {w} ({k.get('n_control')} firms)",
                         _v(k.get("caar_control"), "pct"), "the comparison group"))
    if k.get("diff") is not None:
        rows.append(_row(f"treated − control, days {w}", _v(k.get("diff"), "pct"),
                         _p(k.get("p_placebo_diff"), "placebo")))
    vol = r.get("volume") or {}
    if vol.get("caar") is not None:
        rows.append(_row(f"abnormal log volume of the treated firms, days {vol.get('window', w)}",
                         _v(vol.get("caar"), "stat"), _p(vol.get("p_rank"), "corrado_rank")))
    if vol.get("p_volatility_day0") is not None:
        rows.append(_row("event-day volatility of the treated firms (mean squared standardized AR)",
                         _v(vol.get("mean_sar2_day0"), "stat") if vol.get("mean_sar2_day0") is not None else "day 0",
                         _p(vol.get("p_volatility_day0"), "chi-square")))
    return rows[:5]


def _commodity(r: dict) -> list[dict]:
    k = r.get("key") or {}
    if not k:
        return []
    series = str(k.get("series") or "commodity")
    path = {str(x.get("month")): x for x in (r.get("path") or [])}
    at0 = path.get(str(k.get("event_month"))) or {}
    pct = at0.get("percentile")
    rows = [_row(f"{series} price change in the event month ({k.get('event_month')})",
                 _v(k.get("change_event_month_pct"), "pct_points"),
                 f"percentile {float(pct):.0f} of all monthly changes" if pct is not None else "")]
    if k.get("cum_change_pct") is not None:
        rows.append(_row(f"cumulative {series} change to {k.get('to_month')}", _v(k.get("cum_change_pct"), "pct_points"),
                         "monthly averages: context, not a test"))
    if k.get("mean_beta_treated") is not None:
        n, k_sig = k.get("n_beta_treated"), k.get("n_beta_significant")
        ev = f"p < {k.get('alpha')} for {k_sig} of {n} treated firms' betas (HAC t)" if n else ""
        rows.append(_row(f"mean {series} beta of the treated firms", _v(k.get("mean_beta_treated"), "stat"), ev))
    return rows


def _catalog(r: dict) -> list[dict]:
    from .narrative import sign_test_p

    k = r.get("key") or {}
    if not k:
        return []
    rows = [_row("catalog events covered by the data", f"{k.get('n_covered')} of {k.get('n_events')}", "")]
    for c in k.get("sign_consistency") or []:
        n = int(c.get("n_votes") or 0)
        if not n:
            continue
        for col, who in (("share_expected_treated", "treated firms"), ("share_expected_diff", "treated − control")):
            if c.get(col) is None:
                continue
            kk = int(round(c[col] * n))
            rows.append(_row(f"{c.get('kind')} news: {who} moved the expected way", f"{kk} of {n} votes",
                             _p(sign_test_p(kk, n), "sign test")))
    vol = r.get("volume_kind_difference") or {}
    if vol.get("diff") is not None:
        a, b = vol.get("kinds") or ("", "")
        rows.append(_row(f"abnormal log volume, {a} minus {b} news, days {vol.get('window')}",
                         _v(vol["diff"], "stat"), _p(vol.get("p_permutation"), "permutation")))
    return rows[:6]


def _robustness(r: dict) -> list[dict]:
    k = r.get("key") or {}
    if not k:
        return []
    rows = []
    if k.get("n_specifications") is not None:
        rows.append(_row("specifications that could run", f"{k.get('n_ok')} of {k.get('n_specifications')}", ""))
    if k.get("median_diff") is not None:
        ev = _p(k.get("p_null_median"), "null test") if k.get("p_null_median") is not None else "no null test"
        rows.append(_row("median treated − control over the specifications", _v(k.get("median_diff"), "pct"), ev))
    if k.get("share_significant") is not None:
        ev = _p(k.get("p_null_share"), "null test") if k.get("p_null_share") is not None else "no null test"
        rows.append(_row("share of specifications significant with the expected sign",
                         _v(k.get("share_significant"), "share"), ev))
    if k.get("share_crude_significant") is not None:
        rows.append(_row("share significant by the crude-dependence test", _v(k.get("share_crude_significant"), "share"),
                         ""))
    return rows


def _cross_section(r: dict) -> list[dict]:
    k = r.get("key") or {}
    if not k or k.get("available") is False:
        return []
    w = k.get("window", "")
    donors = f", {k.get('n_donors')} donors" if k.get("n_donors") else ""
    rows = []  # each number with the p of the same statistic: SCAR with the SCAR p, raw CAAR with the CAR p
    if k.get("mean_scar_treated") is not None:
        rows.append(_row(f"mean SCAR of the treated firms, days {w}", _v(k.get("mean_scar_treated"), "stat"),
                         _p(k.get("p_in_space"), "in space, SCAR") + donors))
    if k.get("caar_treated") is not None:
        rows.append(_row(f"CAAR of the treated firms, days {w}", _v(k.get("caar_treated"), "pct"),
                         _p(k.get("p_in_space_car"), "in space, raw CAR") + donors))
    if k.get("p_in_space_diff") is not None:
        rows.append(_row(f"treated − control, days {w}", "mean SCAR difference",
                         _p(k.get("p_in_space_diff"), "in space, SCAR")))
    if k.get("p_synthetic") is not None:
        rows.append(_row("gap to the synthetic control", "placebo in space", _p(k.get("p_synthetic"), "synthetic")))
    return rows


#: notebook name -> function(results) -> the key-number rows of its box
EXTRACTORS = {"event_study": _event_study, "potash_prices": _commodity, "event_catalog": _catalog,
              "robustness": _robustness, "cross_section": _cross_section}
_CONCLUSION_KEYS = ("conclusion", "sentence", "verdict")


def key_findings(results: dict) -> dict:
    """What the "Key findings" box says, from a notebook's recorded results.

    Parameters
    ----------
    results : dict
        ``Recorder.results`` (or the notebook's entry of ``results.json``): ``notebook``,
        the conclusion text, ``key``, ``notes``, ``data_vintage``.

    Returns
    -------
    dict
        ``conclusion`` (str or None), ``numbers`` (rows ``label, value, evidence``, at most
        six), ``notes`` (texts), ``vintage`` (str or None).

    Examples
    --------
    >>> box = key_findings({"notebook": "event_study", "conclusion": "C.", "notes": [],
    ...                     "key": {"window": "(0,1)", "test": "placebo", "caar_treated": -0.0434,
    ...                             "p_value": 0.0625, "n": 4}})
    >>> box["numbers"][0]["value"], box["numbers"][0]["evidence"]
    ('-4.34%', 'p = 0.062 (placebo)')
    """
    conclusion = next((results[k] for k in _CONCLUSION_KEYS if isinstance(results.get(k), str) and results[k]), None)
    extract = EXTRACTORS.get(str(results.get("notebook")))
    notes = [n.get("text", "") if isinstance(n, dict) else str(n) for n in results.get("notes") or []]
    return {"conclusion": conclusion, "numbers": extract(results) if extract else [],
            "notes": [n for n in dict.fromkeys(notes) if n], "vintage": results.get("data_vintage")}


def key_findings_html(results: dict, *, pending: bool = False) -> str:
    """The "Key findings" box as an escaped HTML fragment (heading, conclusion, numbers, notes, data).

    Parameters
    ----------
    results : dict
        See :func:`key_findings`.
    pending : bool
        The page has not finished computing: the box says so instead of the findings.

    Returns
    -------
    str
        A ``div.key-findings`` whose first element is the ``<h2>Key findings</h2>`` heading.

    Examples
    --------
    >>> page = key_findings_html({"notebook": "x", "conclusion": "CAAR < 0 & p = 0.06", "notes": []})
    >>> page.count("<h2>Key findings</h2>"), "CAAR &lt; 0 &amp; p = 0.06" in page
    (1, True)
    """
    e = html.escape
    box = key_findings(results)
    parts = [f'<div class="key-findings" style="{_BOX_STYLE}">', '<h2>Key findings</h2>']
    if pending:
        parts.append("<p><em>The key findings are generated from this page's results once it has finished "
                     "computing.</em></p>")
    else:
        parts.append(f"<p>{e(box['conclusion'])}</p>" if box["conclusion"] else
                     "<p><em>No conclusion was recorded: see the sections below.</em></p>")
        if box["numbers"]:
            body = "".join(f"<tr><td style=\"text-align:left\">{e(r['label'])}</td>"
                           f"<td style=\"text-align:right;white-space:nowrap\">{e(r['value'])}</td>"
                           f"<td style=\"text-align:left\">{e(r['evidence'])}</td></tr>" for r in box["numbers"])
            parts.append('<table class="key-numbers"><thead><tr><th style="text-align:left">key number</th>'
                         '<th style="text-align:right">value</th><th style="text-align:left">evidence</th></tr>'
                         f"</thead><tbody>{body}</tbody></table>")
        notes = box["notes"]
        if notes:
            more = len(notes) - MAX_NOTES
            items = "".join(f"<li>{e(n)}</li>" for n in notes[:MAX_NOTES])
            tail = (f"<li>and {more} more: see the Sample notes box at the end of the page</li>" if more > 0 else "")
            parts.append(f"<p><strong>Sample notes</strong></p><ul>{items}{tail}</ul>")
        else:
            parts.append("<p><strong>Sample notes:</strong> none; every requested firm was used.</p>")
    if box["vintage"]:
        parts.append(f'<p class="vintage"><strong>Data:</strong> {e(box["vintage"])}</p>')
    parts.append("</div>")
    return "".join(parts)


__all__ = ["commodity_source", "data_vintage", "study_source", "key_findings", "key_findings_html", "EXTRACTORS", "MAX_NOTES",
           "commodity_key_numbers", "catalog_key_numbers"]
