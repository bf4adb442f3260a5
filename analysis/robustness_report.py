"""The specification curve in the report: the notebook's grid, its key numbers and its display tables.

:mod:`analysis.robustness` computes; this module turns a run's parameters into the grid
of :func:`~analysis.robustness.specification_curve` (:func:`report_grid`) and a result
into the numbers ``results.json`` and the index carry (:func:`curve_key`) and the tables
the notebook shows (:func:`summary_table`, :func:`specifications_table`, with human
headers from :data:`DISPLAY_NAMES`). The notebook shows; the package decides.
"""

from __future__ import annotations

import pandas as pd

from ._speccurve import _fmt
from .robustness import (
    DEFAULT_ESTIMATION_WINDOWS,
    DEFAULT_EVENT_WINDOWS,
    DEFAULT_MODELS,
    NullTest,
    SpecificationCurve,
)

__all__ = ["DISPLAY_NAMES", "NOTEBOOK_N_PLACEBO", "curve_key", "null_test_or_reason", "report_grid", "specifications_table",
           "summary_table"]

#: Pseudo-events of the notebook's null test when the run does not say (fast enough for ``make report``).
NOTEBOOK_N_PLACEBO = 40


def report_grid(params: dict, case=None) -> dict:
    """The report's grid: the module defaults plus the run's own choices, so the baseline is a row.

    Parameters
    ----------
    params : dict
        A resolved run (:func:`analysis.params.resolve`): ``model``, ``benchmark``,
        ``estimation_window``, ``main_window``, ``min_estimation_obs``.
    case : Case or path-like, optional
        The case (its ``market`` and ``sector`` are the default benchmarks).

    Returns
    -------
    dict
        Keyword arguments of :func:`specification_curve`: ``models``, ``benchmarks``,
        ``estimation_windows``, ``event_windows``, ``min_estimation_obs``, ``baseline``.
        With the report's default ``min_estimation_obs`` (120) each window asks
        ``min(120, half its sessions)``; another value applies to every window, and the
        default estimation windows shorter than it are left out.

    Examples
    --------
    >>> g = report_grid({"model": "market", "benchmark": "SPY", "estimation_window": [-200, -11],
    ...                  "main_window": [0, 1], "min_estimation_obs": 120})
    >>> g["estimation_windows"][-1], g["baseline"]["estimation_window"]
    ((-200, -11), (-200, -11))
    """
    from .case import as_case
    from .params import SCHEMA

    st = as_case(case if case is not None else params.get("data_dir")).settings
    est, main = tuple(params["estimation_window"]), tuple(params["main_window"])
    flat = params.get("min_estimation_obs")
    flat = None if flat in (None, SCHEMA["min_estimation_obs"][0]) else int(flat)
    ests = [e for e in DEFAULT_ESTIMATION_WINDOWS if flat is None or e[1] - e[0] + 1 >= flat]
    benchmarks = [b for b in (st.market, st.sector) if b]
    return {
        "models": tuple(dict.fromkeys((*DEFAULT_MODELS, params["model"]))),
        "benchmarks": tuple(dict.fromkeys((*benchmarks, params["benchmark"]))),
        "estimation_windows": tuple(dict.fromkeys((*ests, est))),
        "event_windows": tuple(dict.fromkeys((*DEFAULT_EVENT_WINDOWS, main))),
        "min_estimation_obs": flat,
        "baseline": {"model": params["model"], "benchmark": params["benchmark"], "estimation_window": est,
                     "event_window": main},
    }


#: Human column headers for display tables (the frames keep their snake_case names).
DISPLAY_NAMES = {
    "model": "Model", "benchmark": "Benchmark", "estimation_window": "Estimation window",
    "event_window": "Event window", "treated": "Treated used", "control": "Control used",
    "caar_treated": "CAAR treated", "caar_control": "CAAR control", "diff": "Difference",
    "t_crude_dependence": "t (crude dependence)", "p_crude_dependence": "p (crude dependence)",
    "p_placebo": "p (placebo)", "n_treated": "N treated", "n_control": "N control", "status": "Status",
    "reason": "Sample note", "firm": "Firm dropped", "n_specifications": "Specifications",
    "median_diff_without": "Median difference without it", "median_diff_with": "Median difference, all firms",
    "shift": "Shift", "sign_flips": "Sign flips",
}


def specifications_table(frame: pd.DataFrame) -> pd.DataFrame:
    """:meth:`SpecificationCurve.to_frame` with the firm tuples written ``"NTR, MOS"`` (for CSV and display).

    Parameters
    ----------
    frame : DataFrame
        A :meth:`SpecificationCurve.to_frame`.

    Returns
    -------
    DataFrame
        ``frame`` with ``treated`` and ``control`` as comma-separated text.

    Examples
    --------
    >>> import pandas as pd
    >>> specifications_table(pd.DataFrame({"treated": [("NTR", "MOS")], "control": [("CF",)]})).values.tolist()
    [['NTR, MOS', 'CF']]
    """
    out = frame.copy()
    for c in ("treated", "control"):
        out[c] = out[c].map(", ".join)
    return out


def summary_table(sc: SpecificationCurve, null: NullTest | None = None) -> pd.DataFrame:
    """The curve's numbers (and the null test's) as a two-column display table of formatted text.

    Parameters
    ----------
    sc : SpecificationCurve
    null : NullTest, optional

    Returns
    -------
    DataFrame
        Columns ``Quantity`` and ``Value``.

    Examples
    --------
    >>> from analysis.robustness import specification_curve
    >>> sc = specification_curve(models=("market",), estimation_windows=((-250, -11),), event_windows=((0, 1),),
    ...                          offline=True)
    >>> summary_table(sc).iloc[0].tolist()
    ['Specifications', '10 (10 ran, 0 without the data)']
    """
    s = sc.stats
    a = f"{s['alpha']:g}"
    sign = {1: "up", -1: "down"}.get(s["expected_sign"], "none")
    rows = [
        ("Specifications", f"{s['n_specifications']} ({s['n_ok']} ran, {s['n_insufficient']} without the data)"),
        ("Median difference", _fmt(s["median_diff"] * 100, "+.2f") + "%"),
        ("Interquartile range", f"{_fmt(s['diff_q25'] * 100, '+.2f')}% to {_fmt(s['diff_q75'] * 100, '+.2f')}%"),
        (f"Share with the expected sign ({sign})", _fmt(s["share_expected_sign"], ".0%")),
        (f"Share with p (crude dependence) < {a}", _fmt(s["share_crude_significant"], ".0%")),
        (f"Share with p (placebo) < {a}", _fmt(s["share_placebo_significant"], ".0%")),
        ("Baseline difference (its percentile in the curve)",
         f"{_fmt(s['baseline_diff'] * 100, '+.2f')}% ({_fmt(s['baseline_percentile'], '.0f')})"),
    ]
    if null is not None:
        n = null.stats
        rows += [("Pseudo-events without news", f"{n['n_placebo']} (of {n['n_candidates']} candidates)"),
                 ("Null test p, median difference", _fmt(n["p_median"], ".3f")),
                 ("Null test p, share significant with the expected sign", _fmt(n["p_share"], ".3f"))]
    return pd.DataFrame(rows, columns=["Quantity", "Value"])


def curve_key(sc: SpecificationCurve, null: NullTest | None = None) -> dict:
    """The headline numbers of a curve for ``results.json`` and the index.

    Parameters
    ----------
    sc : SpecificationCurve
    null : NullTest, optional

    Returns
    -------
    dict
        ``n_specifications``, ``n_ok``, ``median_diff``, ``diff_q25``, ``diff_q75``,
        ``share_significant``, ``share_placebo_significant``, ``share_crude_significant``,
        ``share_expected_sign``, ``baseline_diff``, and with ``null`` ``p_null_median``,
        ``p_null_share``, ``n_placebo`` (NaN where a number does not exist).

    Examples
    --------
    >>> from analysis.robustness import specification_curve
    >>> sc = specification_curve(models=("market",), estimation_windows=((-250, -11),), event_windows=((0, 1),),
    ...                          offline=True)
    >>> key = curve_key(sc, sc.null_test(5, seed=1))
    >>> key["n_specifications"], key["n_placebo"], 0 < key["p_null_median"] <= 1
    (10, 5, True)
    """
    s = sc.stats
    keys = ("n_specifications", "n_ok", "median_diff", "diff_q25", "diff_q75", "share_significant",
            "share_placebo_significant", "share_crude_significant", "share_expected_sign", "baseline_diff", "alpha")
    out = {k: s[k] for k in keys}
    if null is not None:
        out.update(p_null_median=null.p_median, p_null_share=null.p_share, n_placebo=null.n_placebo)
    return out


def null_test_or_reason(sc: SpecificationCurve, n_placebo: int, *, seed: int = 0) -> tuple[NullTest | None, str]:
    """:meth:`SpecificationCurve.null_test`, or None and the reason it cannot run (for the report).

    A case whose data start shortly before the event has no pseudo-event sessions before
    the estimation window; the report then says so instead of failing.

    Parameters
    ----------
    sc : SpecificationCurve
    n_placebo : int
    seed : int

    Returns
    -------
    (NullTest or None, str)
        The test and ``""``, or None and the one-line reason.

    Examples
    --------
    >>> from analysis.robustness import specification_curve
    >>> sc = specification_curve(models=("market",), estimation_windows=((-250, -11),), event_windows=((0, 1),),
    ...                          offline=True)
    >>> test, reason = null_test_or_reason(sc, 5, seed=1)
    >>> test.n_placebo, reason
    (5, '')
    """
    from .errors import InsufficientDataError

    try:
        return sc.null_test(n_placebo, seed=seed), ""
    except InsufficientDataError as exc:
        return None, "No joint null test: " + str(exc).removeprefix("null test: ")
