"""Abnormal trading volume: the event-study engine run on log volume.

Prices are one reaction to news; trading volume is another. A shock that traders
disagree about moves volume even when the mean return does not (Ajinkya & Jain 1989,
"The behavior of daily stock market trading volume", JAE 11). This module feeds the
log share volume to the *same* engine as the returns
(:func:`analysis.eventstudy.event_study`): one code path for fitting, standardizing and
testing, parameterized by the measure. Nothing of the engine is copied here.

Notation
--------
``V_it`` is the share volume of firm *i* on session *t*, ``v_it = ln(1 + V_it)`` its log
volume, ``v_mt`` the log volume of the market proxy (by default the case's market ETF).
Relative days, windows, ``m_i`` and ``k`` are those of the engine.

Why log volume (Campbell & Wasley 1996, "Measuring abnormal daily trading volume for
samples of NYSE/ASE and NASDAQ securities using parametric and nonparametric test
statistics", RQFA 6): raw daily volume is strongly right-skewed and far from normal,
while the log transform is close to normal, so the parametric tests are much better
specified on it; and the rank test (Corrado) is well specified on log volume. The
``1 +`` keeps zero-volume days in the sample (``ln 1 = 0``) instead of dropping them.

Normal-volume models (``model=``)
---------------------------------
``"mean"``
    AV_it = v_it - mean of v_i over the estimation window: the engine's
    ``constant_mean`` model, k = 1, prediction-error correction h = 1/m_i.
``"market"``
    OLS of v_it on (1, v_mt) over the estimation window: the engine's market model,
    k = 2, with the market model's leverage h_it (Ajinkya & Jain 1989; Campbell &
    Wasley 1996 use this form).

Abnormal log volume, CAR (summed over a window), CAAR and the whole battery
(``res.tests``) and the event-induced volatility (``res.volatility``,
:mod:`analysis.eventstudy.volatility`) then mean exactly what they mean for returns, with "return"
read as "log volume". A CAAR of 0.7 over two days is a mean abnormal log volume of 0.35
a day, i.e. volume about exp(0.35) = 1.42 times its normal level.

Missing data
------------
Missing volume is NaN (``log_volume`` keeps it NaN) and the engine's firm-set rule
applies exactly as for returns: a window's statistics use the firms observed on every
day of it, a firm with too few estimation observations is excluded and named.

The seam of the snapshot
------------------------
The bundled volumes change source at 2025-09-29 (``data/SOURCES.md``): the Yahoo
mirrors round to hundreds of shares, the Nasdaq mirror does not. :func:`seam_check`
measures what the rounding does to log volume on the unrounded rows: a mean change of
order 1e-6 and at most about 1.5e-4, against a daily noise of about 0.3 in log volume.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .errors import DataError, EventStudyError
from .windows import DEFAULT_ESTIMATION_WINDOW, DEFAULT_WINDOWS

__all__ = [
    "MEASURE",
    "VOLUME_MODELS",
    "load_volumes",
    "log_volume",
    "seam_check",
    "volatility_summary",
    "volume_key_numbers",
    "volume_sentence",
    "volume_study",
    "volume_tests",
]

#: The label of the measure on volume results.
MEASURE = "log volume"
#: volume model name -> the engine's normal-return model that computes it.
VOLUME_MODELS = {"mean": "constant_mean", "market": "market"}
#: The date after which the Nasdaq mirror (unrounded volume) serves NTR, MOS, ICL, CF and SPY.
SEAM = "2025-09-29"


# --------------------------------------------------------------------------- data
def log_volume(volumes):
    """Log share volume ``v = ln(1 + V)``; NaN where the volume is missing.

    Parameters
    ----------
    volumes : DataFrame or Series
        Share volume, sessions x firms (or one series). Zero is a valid volume
        (``ln 1 = 0``); NaN means missing and stays NaN.

    Returns
    -------
    DataFrame or Series
        Float log volume, same shape, index and labels.

    Raises
    ------
    DataError
        Non-numeric columns, or a negative or infinite volume (named by firm and date).

    Examples
    --------
    >>> import pandas as pd
    >>> log_volume(pd.Series([0.0, 99.0, None])).round(6).tolist()
    [0.0, 4.60517, nan]
    """
    if not isinstance(volumes, (pd.DataFrame, pd.Series)):
        raise DataError(f"volumes must be a pandas DataFrame or Series, got {type(volumes).__name__}")
    frame = volumes.to_frame() if isinstance(volumes, pd.Series) else volumes
    bad = [c for c, dt in frame.dtypes.items() if not pd.api.types.is_numeric_dtype(dt)]
    if bad:
        raise DataError(f"non-numeric volume columns {bad}: convert them to numbers (shares traded)")
    V = frame.to_numpy(dtype=float, na_value=np.nan)
    wrong = np.isinf(V) | (V < 0)
    if wrong.any():
        i, j = (int(a[0]) for a in np.nonzero(wrong))
        when = frame.index[i]
        when = when.date() if isinstance(when, pd.Timestamp) else when
        raise DataError(
            f"volume of {frame.columns[j]} on {when} is {V[i, j]}: a share volume must be finite and >= 0 "
            "(fix the price file, or set it to NaN if unknown)"
        )
    out = pd.DataFrame(np.log1p(V), index=frame.index, columns=frame.columns)
    return out.iloc[:, 0].rename(volumes.name) if isinstance(volumes, pd.Series) else out


def load_volumes(tickers, start=None, end=None, **kwargs) -> pd.DataFrame:
    """Daily share volume of ``tickers``: the ``volume`` field of :func:`analysis.data.load_prices`.

    Parameters
    ----------
    tickers : str or list of str
    start, end : date-like, optional
    **kwargs
        Passed to :func:`analysis.data.load_prices` (``offline``, ``data_dir``, ...).

    Returns
    -------
    DataFrame
        Sessions x tickers, NaN where a ticker has no bar (e.g. before its listing).

    Raises
    ------
    DataError
        As :func:`analysis.data.load_prices`, or no volume column in the data.

    Examples
    --------
    >>> v = load_volumes(["NTR", "SPY"], "2025-12-12", "2025-12-15", offline=True)
    >>> float(v.loc["2025-12-12", "NTR"])
    2276183.0
    """
    from .data import load_prices

    prices = load_prices(tickers, start, end, **kwargs)
    if "volume" not in prices.columns.get_level_values(0):
        raise DataError(f"no volume in the price data of {list(prices.columns.get_level_values(1).unique())}")
    vol = prices["volume"].astype(float)
    vol.columns.name = "ticker"
    vol.attrs = dict(prices.attrs)
    return vol


# --------------------------------------------------------------------------- the study
def volume_study(volumes, market_volume=None, event_date=None, estimation_window=DEFAULT_ESTIMATION_WINDOW,
                 event_windows=DEFAULT_WINDOWS, model: str = "mean", min_estimation_obs: int = 120):
    """Abnormal log volume around one event, with the engine's whole test battery.

    ``log_volume`` of ``volumes`` (and of ``market_volume``) goes into
    :func:`analysis.eventstudy.event_study` as the measure; see the module docstring for
    the models and why log volume.

    Parameters
    ----------
    volumes : DataFrame
        Sessions (sorted ``DatetimeIndex``) x firms of share volume; NaN where missing.
    market_volume : Series, optional
        The market's share volume on the same sessions; required for ``model="market"``,
        ignored for ``"mean"``.
    event_date : date-like
        Day 0, a session of the index (align the event first).
    estimation_window, event_windows, min_estimation_obs
        As :func:`analysis.eventstudy.event_study`.
    model : {"mean", "market"}
        ``"mean"``: estimation-window mean log volume (k = 1, h = 1/m). ``"market"``:
        OLS on (1, v_mt) (k = 2).

    Returns
    -------
    EventStudyResult
        ``ar`` is abnormal log volume, ``tests`` the battery on it, ``volatility`` the
        event-induced volatility of log volume.

    Raises
    ------
    EventStudyError
        Unknown model, ``model="market"`` without ``market_volume``, or anything
        :func:`analysis.eventstudy.event_study` refuses.
    DataError
        Negative, infinite or non-numeric volumes.

    Examples
    --------
    >>> v = load_volumes(["NTR", "MOS", "IPI", "ICL", "SPY"], "2024-11-01", "2026-01-30", offline=True)
    >>> res = volume_study(v.drop(columns="SPY"), v["SPY"], "2025-12-15", model="market")
    >>> res.firms
    ['NTR', 'MOS', 'IPI', 'ICL']
    """
    if model not in VOLUME_MODELS:
        raise EventStudyError(f"unknown volume model {model!r}: choose one of {', '.join(VOLUME_MODELS)}")
    from .eventstudy import event_study

    if model == "market":
        if market_volume is None:
            raise EventStudyError("model='market' needs market_volume (e.g. the market ETF's share volume)")
        if not isinstance(market_volume, pd.Series):
            raise EventStudyError(f"market_volume must be a pandas Series, got {type(market_volume).__name__}")
        market = log_volume(market_volume)
    else:
        market = None
    return event_study(
        log_volume(volumes), market, event_date, estimation_window=estimation_window,
        event_windows=event_windows, model=VOLUME_MODELS[model], min_estimation_obs=min_estimation_obs,
        measure=MEASURE,
    )


#: Test order of volume tables: the rank and placebo tests first (well specified on log volume, and
#: honest with a handful of firms), then the engine's order.
RANK_FIRST = ("corrado_rank", "placebo")


def volume_tests(res) -> pd.DataFrame:
    """The tidy test battery of a volume study with the rank and placebo tests first in each window.

    Parameters
    ----------
    res : EventStudyResult
        A :func:`volume_study` result (any result works).

    Returns
    -------
    DataFrame
        ``res.tests`` rows reordered: per window (in the study's order) ``corrado_rank``,
        ``placebo``, then the other tests in the engine's order.

    Examples
    --------
    >>> v = load_volumes(["NTR", "MOS"], "2024-11-01", "2026-01-30", offline=True)
    >>> volume_tests(volume_study(v, None, "2025-12-15"))["test"].head(3).tolist()
    ['corrado_rank', 'placebo', 't_cross_sectional']
    """
    t = res.tests
    tests = list(dict.fromkeys(t["test"]))
    order = [x for x in RANK_FIRST if x in tests] + [x for x in tests if x not in RANK_FIRST]
    key = t["window"].map({w: i for i, w in enumerate(res.windows)}) * len(order) + t["test"].map(
        {x: i for i, x in enumerate(order)})
    return t.iloc[np.argsort(key.to_numpy(), kind="stable")].reset_index(drop=True)


def volatility_summary(returns_res=None, volume_res=None, firms=None) -> pd.DataFrame:
    """Event-induced volatility of returns and of log volume side by side, one row per (measure, day).

    Parameters
    ----------
    returns_res : EventStudyResult, optional
        The returns study.
    volume_res : EventStudyResult, optional
        The :func:`volume_study` of the same event.
    firms : list of str, optional
        Restrict the return volatility to these firms (default all of ``returns_res``).

    Returns
    -------
    DataFrame
        Columns measure, day, n, mean_sar2, statistic, df, p_value, p_placebo, n_placebo
        (see :mod:`analysis.eventstudy.volatility`).

    Raises
    ------
    EventStudyError
        Neither result given.

    Examples
    --------
    >>> v = load_volumes(["NTR", "MOS"], "2024-11-01", "2026-01-30", offline=True)
    >>> volatility_summary(volume_res=volume_study(v, None, "2025-12-15"))["measure"].unique().tolist()
    ['log volume']
    """
    from .eventstudy.volatility import event_volatility

    parts = {}
    if returns_res is not None:
        parts["return"] = event_volatility(returns_res, firms=firms)
    if volume_res is not None:
        parts[volume_res.measure] = volume_res.volatility
    if not parts:
        raise EventStudyError("give a returns study, a volume study or both")
    return pd.concat(parts, names=["measure"]).reset_index()


# --------------------------------------------------------------------------- key numbers and prose
def _num(x) -> float:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return x


def volume_key_numbers(volume_res, window, returns_res=None, firms=None) -> dict:
    """The headline numbers of the volume and volatility analysis, as a flat dict.

    Parameters
    ----------
    volume_res : EventStudyResult
        A :func:`volume_study` result.
    window : str or (int, int)
        The main window, ``"(0,1)"`` or ``(0, 1)``.
    returns_res : EventStudyResult, optional
        The returns study of the same event, for the day-0 *return* volatility.
    firms : list of str, optional
        The firms of the return volatility (default all of ``returns_res``'s).

    Returns
    -------
    dict
        ``window``, ``n`` and ``firms`` (the firms of the window), ``caar`` (summed
        abnormal log volume),
        ``p_rank`` (Corrado), ``p_placebo``, ``p_volatility_volume_day0``,
        ``p_placebo_volatility_volume_day0`` and, with ``returns_res``,
        ``p_volatility_day0`` (χ², returns), ``p_placebo_volatility_day0``,
        ``mean_sar2_day0`` and ``n_volatility_day0``.

    Raises
    ------
    EventStudyError
        ``window`` is not a window of ``volume_res``.

    Examples
    --------
    >>> v = load_volumes(["NTR", "MOS", "IPI", "ICL"], "2024-11-01", "2026-01-30", offline=True)
    >>> k = volume_key_numbers(volume_study(v, None, "2025-12-15"), (0, 1))
    >>> k["window"], k["n"]
    ('(0,1)', 4)
    """
    from .eventstudy.volatility import event_volatility

    label = window if isinstance(window, str) else f"({int(window[0])},{int(window[1])})"
    if label not in volume_res.windows:
        raise EventStudyError(f"window {label} is not a window of the volume study ({', '.join(volume_res.windows)})")
    t = volume_res.tests
    t = t[t["window"] == label].set_index("test")
    vv = volume_res.volatility
    out = {
        "measure": MEASURE,
        "window": label,
        "n": int(t.loc["placebo", "n"]),
        "firms": [str(f) for f in volume_res.car.loc[label].dropna().index],
        "caar": _num(volume_res.caar[label]),
        "p_rank": _num(t.loc["corrado_rank", "p_value"]),
        "p_placebo": _num(t.loc["placebo", "p_value"]),
        "p_volatility_volume_day0": _num(vv.loc[0, "p_value"]) if 0 in vv.index else float("nan"),
        "p_placebo_volatility_volume_day0": _num(vv.loc[0, "p_placebo"]) if 0 in vv.index else float("nan"),
    }
    if returns_res is not None:
        rv = event_volatility(returns_res, firms=firms)
        out["p_volatility_day0"] = _num(rv.loc[0, "p_value"]) if 0 in rv.index else float("nan")
        out["p_placebo_volatility_day0"] = _num(rv.loc[0, "p_placebo"]) if 0 in rv.index else float("nan")
        out["mean_sar2_day0"] = _num(rv.loc[0, "mean_sar2"]) if 0 in rv.index else float("nan")
        out["n_volatility_day0"] = int(rv.loc[0, "n"]) if 0 in rv.index else 0
    return out


def _ok(p) -> bool:
    return isinstance(p, (int, float)) and math.isfinite(p)


def _fp(p) -> str:
    return f"{p:.3f}" if _ok(p) else "n/a"


def _pair(name_a, pa, name_b, pb, alpha) -> str:
    """How two p-values read at ``alpha``: both, one, neither, or not available."""
    if not _ok(pa) and not _ok(pb):
        return "no test is available"
    if not _ok(pa) or not _ok(pb):
        name, p = (name_b, pb) if not _ok(pa) else (name_a, pa)
        return f"only the {name} is available and it {'rejects' if p < alpha else 'does not reject'} at {alpha:.0%}"
    ra, rb = pa < alpha, pb < alpha
    if ra and rb:
        return f"both reject no change at {alpha:.0%}"
    if ra or rb:
        yes, no = (name_a, name_b) if ra else (name_b, name_a)
        return f"the {yes} rejects no change at {alpha:.0%} but the {no} does not"
    return f"neither rejects no change at {alpha:.0%}"


def volume_sentence(key: dict, *, group: str = "the treated firms", alpha: float = 0.05) -> str:
    """One plain sentence on volume and volatility from :func:`volume_key_numbers`; no more than the numbers.

    Parameters
    ----------
    key : dict
        :func:`volume_key_numbers` output.
    group : str
        How to name the firms (e.g. ``"the potash producers (NTR, MOS, IPI, ICL)"``).
    alpha : float
        The level at which a p-value counts as a rejection.

    Returns
    -------
    str

    Examples
    --------
    >>> volume_sentence({"window": "(0,1)", "n": 4, "caar": 0.7, "p_rank": 0.01, "p_placebo": 0.2})[:61]
    'Over (0,1), the trading volume of the treated firms (4 firms)'
    """
    w, n, caar = key.get("window", "?"), key.get("n"), _num(key.get("caar"))
    L = None
    try:
        a, b = (int(v) for v in w.strip("()").split(","))
        L = b - a + 1
    except (ValueError, AttributeError):
        pass
    firms = key.get("firms")
    if firms:
        who = f"{group} ({', '.join(map(str, firms))})"
    else:
        who = f"{group} ({n} firm{'s' if n != 1 else ''})" if n is not None else group
    if not math.isfinite(caar) or not L:
        s = f"Over {w}, the abnormal log volume of {who} could not be measured (no CAAR)."
    else:
        daily = caar / L
        direction = "above" if daily > 0 else "below" if daily < 0 else "at"
        ratio = math.exp(daily)
        s = (f"Over {w}, the trading volume of {who} was {direction} its normal level "
             f"(abnormal log volume {caar:+.2f} in total, {daily:+.2f} a day, i.e. about {ratio:.2f} times normal); "
             f"rank test p = {_fp(key.get('p_rank'))}, placebo p = {_fp(key.get('p_placebo'))}: "
             f"{_pair('rank test', key.get('p_rank'), 'placebo', key.get('p_placebo'), alpha)}.")
    if "p_volatility_day0" in key:
        pv, pp = key.get("p_volatility_day0"), key.get("p_placebo_volatility_day0")
        m2 = _num(key.get("mean_sar2_day0"))
        lvl = f"mean squared standardized abnormal return {m2:.2f} against 1 expected; " if math.isfinite(m2) else ""
        verdict = _pair("χ² test", pv, "placebo", pp, alpha).replace("no change", "ordinary volatility")
        s += (f" Day-0 return volatility: {lvl}χ² p = {_fp(pv)}, placebo p = {_fp(pp)}: {verdict}.")
    return s


# --------------------------------------------------------------------------- the seam
def seam_check(tickers=None, *, seam: str = SEAM, sessions: int = 20, data_dir=None) -> pd.DataFrame:
    """Does the change of volume source at ``seam`` break the level of log volume?

    Two measurements per snapshot ticker whose volume source changes at the seam to an
    unrounded one (a source whose volumes after the seam are mostly not multiples of
    100: the Nasdaq mirror), the rows before being rounded to hundreds (Yahoo):

    * the mechanical effect: on the unrounded rows, ``d = ln(1 + V) - ln(1 + round(V, -2))``
      is the change the Yahoo rounding would make; ``mean_diff`` is the level break the
      change of source creates, to compare with ``noise = sd(Δv)/√2``, the typical
      daily deviation of log volume over the ticker's history (``ratio``);
    * the observed break: ``level_jump`` is the mean log volume of the ``sessions``
      sessions after the seam minus that of the ``sessions`` up to it, and
      ``jump_share`` the share of all dates whose jump is at least as large in absolute
      value (a share well above 5% means the seam is within normal variation).

    Parameters
    ----------
    tickers : list of str, optional
        Default every snapshot ticker.
    seam : date-like
        Last session of the rounded source.
    sessions : int
        Sessions on each side for ``level_jump``.
    data_dir : path, optional

    Returns
    -------
    DataFrame
        One row per ticker with a seam: source_before, source_after, n_after,
        share_rounded_before, mean_diff, mean_abs_diff, max_abs_diff, noise, ratio,
        level_jump, jump_share. Tickers without a change to an unrounded source are left out.

    Raises
    ------
    DataError
        A snapshot file without volume or source column.

    Examples
    --------
    >>> s = seam_check(["NTR"])
    >>> bool(s.loc["NTR", "max_abs_diff"] < 1e-3)
    True
    """
    from .data import read_snapshot, snapshot_tickers

    seam_ts = pd.Timestamp(seam)
    K = int(sessions)
    rows = []
    for t in tickers or snapshot_tickers(data_dir):
        df = read_snapshot(t, data_dir)
        if "volume" not in df.columns or "source" not in df.columns:
            raise DataError(f"{t}: the snapshot file has no volume/source column")
        before, after = df.loc[df.index <= seam_ts], df.loc[df.index > seam_ts]
        if before.empty or after.empty:
            continue
        src = after["source"].value_counts().index[0]
        Va = after.loc[after["source"] == src, "volume"].astype(float).dropna()
        Vb = before["volume"].astype(float).dropna()
        if src == before["source"].iloc[-1] or (Va % 100 == 0).mean() >= 0.5:
            continue  # same source, or still rounded: no seam in the rounding
        d = np.log1p(Va) - np.log1p(np.round(Va, -2))
        lv = np.log1p(df["volume"].astype(float))
        noise = float(lv.diff().std() / math.sqrt(2.0))
        jumps = (lv.rolling(K).mean().shift(-K) - lv.rolling(K).mean()).dropna()
        j = float(jumps.loc[before.index[-1]])
        rows.append({"ticker": t, "source_before": before["source"].iloc[-1], "source_after": src,
                     "n_after": int(len(Va)), "share_rounded_before": float((Vb % 100 == 0).mean()),
                     "mean_diff": float(d.mean()), "mean_abs_diff": float(d.abs().mean()),
                     "max_abs_diff": float(d.abs().max()), "noise": noise, "ratio": float(abs(d.mean()) / noise),
                     "level_jump": j, "jump_share": float((jumps.abs() >= abs(j)).mean())})
    cols = ["ticker", "source_before", "source_after", "n_after", "share_rounded_before", "mean_diff",
            "mean_abs_diff", "max_abs_diff", "noise", "ratio", "level_jump", "jump_share"]
    return pd.DataFrame(rows, columns=cols).set_index("ticker")
