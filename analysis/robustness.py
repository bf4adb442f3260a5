"""How fragile is the answer? A specification curve for treated-minus-control event studies.

An event study's headline depends on choices nobody can defend as the only right ones:
the normal-return model, the benchmark, the estimation window, the event window and
which firms count. The specification curve (Simonsohn, Simmons & Nelson 2020,
"Specification curve analysis", *Nature Human Behaviour* 4, 1208-1214; the "multiverse"
of Steegen et al. 2016, *Perspectives on Psychological Science* 11) runs every
reasonable combination, shows all of them sorted, and tests the curve as a whole.

>>> sc = specification_curve("us-potash-easing-2025", offline=True)
>>> sc.stats["n_specifications"], round(sc.stats["median_diff"], 4), round(sc.stats["share_expected_sign"], 2)
(360, -0.0137, 0.71)

The grid
--------
A *specification* is one choice of

* ``model``: one of the engine's normal-return models (:mod:`analysis.eventstudy`);
* ``benchmark``: each ticker of ``benchmarks`` for ``"market"`` and ``"market_adjusted"``.
  ``"constant_mean"`` takes no benchmark (label ``"none"``) and ``"factor"`` regresses on
  the case's market *plus* its sector ETF (``case.toml`` ``market`` and ``sector``, label
  ``"SPY+XLB"``), so each of those appears once per estimation window;
* ``estimation_window`` and ``event_window`` (relative sessions, inclusive, labelled
  ``"(a,b)"`` as everywhere in the package);
* the treated set: the treated group and, with ``leave_one_out``, every set with one of
  its firms dropped. The control group is fixed.

Each row holds exactly what :func:`~analysis.eventstudy.event_study` followed by
:func:`~analysis.eventstudy.compare_groups` gives for that specification (the tests
check a sample of rows against such direct calls to 1e-12).

Reusing work
------------
A fit depends only on (model, benchmark, estimation window, firm). So there is one
``event_study`` call per (model, benchmark, estimation window), over every firm and every
event window, and a row's numbers are sums over that fit's abnormal returns, vectorized
over event windows, treated sets and (for :meth:`SpecificationCurve.null_test`) pseudo
events. For window ``w = (a, b)``, ``L = b - a + 1``:

* each group's firm set is its firms with an abnormal return on every day of ``w`` (the
  engine's one firm-set rule; a firm the engine excluded has none);
* ``caar_g`` is the mean CAR of group g's set, ``diff = caar_treated - caar_control``;
* on the estimation window ``LS_t`` is the treated set's mean AR minus the control set's
  (each over the firms observed that day); ``t_crude_dependence = diff / (sd·√L)`` with
  ``sd`` from :func:`analysis.eventstudy.portfolio_sd` over the ``m`` valid days and p
  from t(m - 1) (Brown & Warner 1985, JFE 14);
* ``p_placebo = (1 + #{|Σ_L LS| ≥ |diff|}) / (1 + #windows)`` over every length-L stretch
  of the estimation window with L valid days.

``min_estimation_obs=None`` (the default) asks each firm for ``min(120, n // 2)`` valid
estimation returns, ``n`` the window's sessions: 120 for (-250,-11) and (-500,-11), as in
the report, and 55 for (-120,-11), which a flat 120 would refuse outright.

Rows that cannot run, duplicates
--------------------------------
A specification the data cannot support keeps its row with ``status = "insufficient
data"`` and the reason: the engine's :class:`~analysis.errors.InsufficientDataError`
(too little history for the estimation window, no firm with enough returns, windows past
the data), or a group with no firm observed on every day of the window. Any other error
is a malformed input and is raised. Rows that ran have ``status = "ok"`` and name in
``reason`` every requested firm they do not use, with the engine's reason. A row whose
firm lists equal an earlier row's with the same choices is a duplicate and is dropped
(a leave-one-out set that drops a firm the data had already excluded).

The joint null test
-------------------
Following Simonsohn et al.'s inference under the null, :meth:`SpecificationCurve.null_test`
re-runs the same grid (the specifications that ran for the event) at pseudo-event
sessions with no news: sessions whose event span ends before the earliest estimation
window of the event begins, with enough history for the longest estimation window, and
with no catalog event in their event span. It reports where the event's median ``diff``
and its share of significant specifications fall among the pseudo-events':

* ``p_median = (1 + #{|median_s| ≥ |median|}) / (1 + n)``, two-sided;
* ``p_share = (1 + #{share_s ≥ share}) / (1 + n)``, where a specification is significant
  when ``p_placebo < alpha`` with the sign the case expects for the event kind (as
  Simonsohn et al. count significant results in the predicted direction), or either sign
  for a kind without an expected sign.

Under no effect the event is exchangeable with the pseudo-events, so each p is valid at
resolution 1/(1 + n). A firm without data at the pseudo-events' older dates is excluded
there by the engine's rules; :attr:`NullTest.notes` names it and counts how often.

Length: the module is one concern, the specification curve's public face (the grid, the
result object with its summary, table, plot and joint null test, and the curve's sentence),
and of its 704 lines 344 are code and 312 docstrings, the computing core already being in
:mod:`analysis._speccurve` and the report side in :mod:`analysis.robustness_report`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ._speccurve import (
    COLUMNS,
    INSUFFICIENT,
    NO_BENCHMARK,
    OK,
    _evaluate_event,
    _fits,
    _fmt,
    _Inputs,
    NullTest,
    _null_draws,
    _plot_curve,
    _windows,
)
from .errors import CatalogError, ParameterError
from .windows import DEFAULT_ESTIMATION_WINDOW, parse_window, window_label

__all__ = [
    "COLUMNS",
    "DEFAULT_ESTIMATION_WINDOWS",
    "DEFAULT_EVENT_WINDOWS",
    "DEFAULT_MODELS",
    "NullTest",
    "SpecificationCurve",
    "curve_from_returns",
    "curve_sentence",
    "specification_curve",
]

DEFAULT_MODELS = ("market", "market_adjusted", "constant_mean", "factor")
DEFAULT_ESTIMATION_WINDOWS = (DEFAULT_ESTIMATION_WINDOW, (-120, -11), (-500, -11))
DEFAULT_EVENT_WINDOWS = ((0, 0), (0, 1), (-1, 1), (0, 5))
# =========================================================================== public API
def specification_curve(
    event=None,
    treated=None,
    control=None,
    models=DEFAULT_MODELS,
    benchmarks=None,
    estimation_windows=DEFAULT_ESTIMATION_WINDOWS,
    event_windows=DEFAULT_EVENT_WINDOWS,
    leave_one_out=True,
    offline=None,
    data_dir=None,
    *,
    case=None,
    min_estimation_obs=None,
    baseline=None,
    exchange=None,
    policy="next",
    alpha=0.05,
) -> "SpecificationCurve":
    """Run the treated-minus-control event study under every specification of a grid.

    Parameters
    ----------
    event : str, optional
        A catalog id or ``"YYYY-MM-DD[ HH:MM]"`` (UTC), aligned to its first reacting
        session as everywhere else; None: the case's ``default_event``.
    treated, control : str or list of str, optional
        A universe group name (its listings on ``exchange``; offline, those with a price
        file) or a list of tickers; None: the case's ``treated_group`` / ``control_group``.
    models : sequence of str
        Normal-return models (module docstring: ``"factor"`` is the market plus the sector ETF).
    benchmarks : sequence of str, optional
        Market proxies for ``"market"`` and ``"market_adjusted"``; None: the case's
        ``market`` and ``sector`` (``("SPY", "XLB")`` for the bundled case).
    estimation_windows, event_windows : sequence of (int, int)
        Relative sessions, inclusive.
    leave_one_out : bool
        Also every treated set with one firm dropped.
    offline : bool, optional
        Never touch the network (None: ``$POTASH_IMPACT_OFFLINE``).
    data_dir : str or path-like, optional
        The case folder (None: ``$POTASH_IMPACT_DATA``, else the bundled ``data/``).
    case : Case, optional
        An already loaded :class:`analysis.case.Case` (instead of ``data_dir``).
    min_estimation_obs : int, optional
        Valid estimation returns a firm needs; None: ``min(120, half the window)``.
    baseline : dict, optional
        ``model, benchmark, estimation_window, event_window`` of the baseline row; None:
        the report's defaults (market model on the case's market, (-250,-11), (0,1)).
    exchange : str, optional
        Calendar the event is aligned on (None: the report's default, ``"XNYS"``).
    policy : {"next", "previous", "error"}
        Alignment policy (:func:`analysis.calendars.align_event`).
    alpha : float
        Significance level of the shares in :attr:`SpecificationCurve.stats`.

    Returns
    -------
    SpecificationCurve

    Raises
    ------
    ParameterError
        An unknown model, group or ticker, a malformed window, or a baseline outside the grid.
    CatalogError
        An unknown event id.

    Examples
    --------
    >>> sc = specification_curve(models=("market",), benchmarks=("SPY",), estimation_windows=((-250, -11),),
    ...                          event_windows=((0, 1),), offline=True)
    >>> r = sc.to_frame().iloc[0]
    >>> r["model"], r["event_window"], int(r["n_treated"]), r["status"]
    ('market', '(0,1)', 4, 'ok')
    >>> round(float(sc.baseline["diff"]), 4)
    -0.0297
    """
    from . import config, data
    from .calendars import align_event
    from .case import as_case
    from .params import SCHEMA

    case = as_case(case if case is not None else data_dir)
    st = case.settings
    ev = case.event(event if event is not None else st.default_event)
    exchange = exchange or SCHEMA["exchange"][0]
    session = align_event(ev["timestamp"], exchange, policy)
    off = config.is_offline(offline)
    treated = _resolve_firms(case, treated if treated is not None else st.treated_group, exchange, off, "treated")
    control = _resolve_firms(case, control if control is not None else st.control_group, exchange, off, "control")
    benchmarks = tuple(benchmarks) if benchmarks is not None else tuple(b for b in (st.market, st.sector) if b)
    regs = [b for b in benchmarks if any(m in ("market", "market_adjusted") for m in models)]
    if "factor" in models:
        regs += [st.market, st.sector]
    regs = [r for r in dict.fromkeys(regs) if r]
    case.check_tickers(regs, offline=off)
    returns = data.load_returns(list(dict.fromkeys(treated + control + regs)), offline=offline, data_dir=case.data_dir)
    news = [align_event(ts, exchange, policy) for ts in case.events["timestamp"]]
    return curve_from_returns(
        returns, session, treated, control, market=st.market, sector=st.sector, models=models, benchmarks=benchmarks,
        estimation_windows=estimation_windows, event_windows=event_windows, leave_one_out=leave_one_out,
        min_estimation_obs=min_estimation_obs, baseline=baseline, expected_sign=(st.expected_sign or {}).get(ev["kind"]),
        news_dates=news, event=ev, alpha=alpha,
    )


def _resolve_firms(case, value, exchange, offline, name) -> list:
    groups = set(case.universe["group"])
    if isinstance(value, str) and value in groups:
        firms = case.group(value, exchange=exchange, offline_only=offline)
        if not firms:
            raise ParameterError(f"{name}={value!r}: the group has no listing on the {exchange} calendar"
                                 + (" with a price file (offline)" if offline else ""))
        return list(firms)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise ParameterError(f"{name}={value!r}: give a universe group ({', '.join(sorted(groups))}) or tickers")
    try:
        return list(case.check_tickers(list(value), offline=offline))
    except CatalogError as exc:  # an unknown ticker: re-raised as this parameter's error
        raise ParameterError(f"{name}={value!r}: {exc}") from None


def curve_from_returns(
    returns,
    event_date,
    treated,
    control,
    *,
    market=None,
    sector=None,
    models=DEFAULT_MODELS,
    benchmarks=None,
    estimation_windows=DEFAULT_ESTIMATION_WINDOWS,
    event_windows=DEFAULT_EVENT_WINDOWS,
    leave_one_out=True,
    min_estimation_obs=None,
    baseline=None,
    expected_sign=None,
    news_dates=(),
    event=None,
    alpha=0.05,
) -> "SpecificationCurve":
    """The specification curve on a returns frame you supply (what :func:`specification_curve` runs).

    Parameters
    ----------
    returns : DataFrame
        Sessions x tickers: every treated and control firm and every regressor column.
    event_date : date-like
        Day 0, a session of ``returns.index``.
    treated, control : list of str
        Columns of ``returns``; disjoint.
    market, sector : str, optional
        The columns of the factor model (``"factor"`` needs both) and the baseline's
        benchmark (``market``).
    models, benchmarks, estimation_windows, event_windows, leave_one_out, min_estimation_obs, baseline, alpha
        As :func:`specification_curve` (``benchmarks`` None: ``market`` and ``sector``).
    expected_sign : {1, -1}, optional
        The sign expected for the treated firms (used for the difference too).
    news_dates : sequence of date-like
        Sessions with news; the null test avoids pseudo-events whose span holds one.
    event : dict, optional
        The event record, kept on the result for prose.

    Returns
    -------
    SpecificationCurve

    Raises
    ------
    ParameterError
        Unknown columns, overlapping groups, an unknown model, malformed windows, or a
        ``baseline`` outside the grid; ``event_date`` not a session of ``returns``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> idx = pd.bdate_range("2020-01-01", periods=400)
    >>> rng = np.random.default_rng(1)   # synthetic returns
    >>> r = pd.DataFrame(rng.normal(0, 0.01, (400, 4)), index=idx, columns=["A", "B", "C", "M"])
    >>> sc = curve_from_returns(r, idx[350], ["A", "B"], ["C"], market="M", models=("market",),
    ...                         estimation_windows=((-250, -11),), event_windows=((0, 1),))
    >>> len(sc.to_frame()), sc.stats["n_ok"]
    (3, 3)
    """
    if not isinstance(returns, pd.DataFrame) or not isinstance(returns.index, pd.DatetimeIndex):
        raise ParameterError("returns: expected a DataFrame of sessions (DatetimeIndex) x tickers")
    treated, control = [str(t) for t in treated], [str(c) for c in control]
    if not treated or not control:
        raise ParameterError(f"give at least one treated and one control firm (treated={treated}, control={control})")
    both = sorted(set(treated) & set(control))
    if both or len(set(treated)) != len(treated) or len(set(control)) != len(control):
        raise ParameterError(f"treated={treated}, control={control}: list each firm once, in one group")
    models = tuple(models)
    benchmarks = tuple(benchmarks) if benchmarks is not None else tuple(b for b in (market, sector) if b)
    if any(m in ("market", "market_adjusted") for m in models) and not benchmarks:
        raise ParameterError("benchmarks: the market and market-adjusted models need at least one benchmark")
    ests = _windows(estimation_windows, "estimation_windows")
    wins = _windows(event_windows, "event_windows")
    first = min(a for a, _ in wins)
    for e in ests:
        if e[1] >= first:
            raise ParameterError(f"estimation_windows: {window_label(e)} must end before the earliest event window "
                                 f"starts (day {first})")
    fits = _fits(models, benchmarks, ests, market, sector, min_estimation_obs)
    firms = treated + control
    regs = list(dict.fromkeys(r for f in fits for r in f.regressors))
    missing = [c for c in firms + regs if c not in returns.columns]
    if missing:
        raise ParameterError(f"returns has no column for {missing}: load them, or drop them from the grid")
    overlap = sorted(set(regs) & set(firms))
    if overlap:
        raise ParameterError(f"{overlap} are both firms and benchmarks: a benchmark cannot be a treated or control firm")
    day0 = pd.Timestamp(event_date)
    if day0 not in returns.index:
        raise ParameterError(f"event date {day0.date()} is not a session of the returns "
                             f"({returns.index[0].date()} .. {returns.index[-1].date()}): align it first")
    drops = [""] + (treated if leave_one_out and len(treated) > 1 else [])
    T = np.array([[f in treated and f != d for f in firms] for d in drops], dtype=bool)
    C = np.array([f in control for f in firms], dtype=bool)
    news = returns.index.searchsorted(pd.DatetimeIndex([pd.Timestamp(d) for d in news_dates]))
    inp = _Inputs(returns=returns[list(dict.fromkeys(firms + regs))], firms=firms, treated=treated, control=control,
                  drops=drops, T=T, C=C, fits=fits, windows=wins, pos=int(returns.index.get_loc(day0)),
                  news=np.asarray(news, dtype=int))
    rows = _evaluate_event(inp)
    bkey = _baseline_key(baseline, market, sector, fits, wins)
    return SpecificationCurve(rows, inp, event=event, session=day0, expected_sign=expected_sign, baseline_key=bkey,
                              alpha=alpha)


def _baseline_key(baseline, market, sector, fits, wins):
    from .params import SCHEMA

    given = baseline is not None
    b = {"model": SCHEMA["model"][0], "benchmark": market,
         "estimation_window": SCHEMA["estimation_window"][0], "event_window": SCHEMA["main_window"][0],
         **(baseline or {})}
    model = b["model"]
    bench = NO_BENCHMARK if model == "constant_mean" else (f"{market}+{sector}" if model == "factor" else b["benchmark"])
    key = (model, bench, window_label(parse_window(b["estimation_window"], name="baseline estimation_window")),
           window_label(parse_window(b["event_window"], name="baseline event_window")))
    in_grid = any((f.model, f.benchmark, window_label(f.estimation_window)) == key[:3] for f in fits) and \
        key[3] in {window_label(w) for w in wins}
    if not in_grid:
        if given:
            raise ParameterError(f"baseline {b}: not a specification of the grid; add its choices to the grid")
        return None
    return key


# =========================================================================== results
def _share(mask) -> float:
    mask = np.asarray(mask, dtype=bool)
    return float(mask.mean()) if mask.size else float("nan")


class SpecificationCurve:
    """Result of :func:`specification_curve`: one row per specification, and tests of the whole curve.

    Built by :func:`specification_curve` or :func:`curve_from_returns`, never directly.
    Summaries are over the rows with ``status == "ok"``; every share's denominator is
    their number.

    Attributes
    ----------
    event : dict or None
        The event record (catalog row or ad-hoc event).
    session : Timestamp
        Day 0.
    treated, control : list of str
        The full groups (specifications may drop one treated firm).
    expected_sign : int or None
        +1 / -1 from ``case.toml`` for the event's kind.
    alpha : float
        The level of every share of significant specifications.
    stats : dict
        The curve's summary numbers (median and IQR of ``diff``, shares, baseline).
    baseline : Series or None
        The baseline specification's row.

    Examples
    --------
    >>> sc = specification_curve(models=("market", "constant_mean"), estimation_windows=((-250, -11),),
    ...                          event_windows=((0, 1),), offline=True)
    >>> sc.stats["n_specifications"], sc.influence()["firm"].iloc[0]
    (15, 'MOS')
    >>> nt = sc.null_test(5, seed=1)
    >>> nt.n_placebo, 0 < nt.p_median <= 1
    (5, True)
    """

    def __init__(self, rows, inputs, *, event, session, expected_sign, baseline_key, alpha):
        self._rows = rows
        self._inputs = inputs
        self._event = dict(event) if event is not None else None
        self._session = session
        self._expected_sign = int(expected_sign) if expected_sign else None
        self._baseline_key = baseline_key
        self._alpha = float(alpha)
        self._stats = None

    # ------------------------------------------------------------------ configuration
    @property
    def event(self) -> dict | None:
        """The event record (catalog row or ad-hoc event), if known."""
        return None if self._event is None else dict(self._event)

    @property
    def session(self) -> pd.Timestamp:
        """Day 0, the event session."""
        return self._session

    @property
    def treated(self) -> list[str]:
        """The treated firms requested (the full set)."""
        return list(self._inputs.treated)

    @property
    def control(self) -> list[str]:
        """The control firms requested."""
        return list(self._inputs.control)

    @property
    def expected_sign(self) -> int | None:
        """+1 or -1: the sign the case expects for the event kind (None: no expectation)."""
        return self._expected_sign

    @property
    def alpha(self) -> float:
        """The significance level of the shares."""
        return self._alpha

    # ------------------------------------------------------------------ tables
    def to_frame(self) -> pd.DataFrame:
        """One row per specification: the columns of :data:`COLUMNS` (firm lists as tuples of tickers)."""
        return self._rows[list(COLUMNS)].copy()

    def choices(self) -> pd.DataFrame:
        """The grid's choices: one row per dimension (``Dimension``, ``Choices``, ``Count``), for display."""
        r = self._rows
        sets = ["all treated"] + [f"without {d}" for d in self._inputs.drops[1:]]
        dims = [("Model", list(dict.fromkeys(r["model"]))), ("Benchmark", list(dict.fromkeys(r["benchmark"]))),
                ("Estimation window", list(dict.fromkeys(r["estimation_window"]))),
                ("Event window", list(dict.fromkeys(r["event_window"]))), ("Treated set", sets)]
        return pd.DataFrame([(d, ", ".join(map(str, c)), len(c)) for d, c in dims],
                            columns=["Dimension", "Choices", "Count"])

    def _ok(self) -> pd.DataFrame:
        return self._rows[self._rows["status"] == OK]

    def _significant(self, rows, alpha) -> np.ndarray:
        sig = rows["p_placebo"].to_numpy() < alpha
        if self._expected_sign:
            sig &= np.sign(rows["diff"].to_numpy()) == self._expected_sign
        return sig

    @property
    def stats(self) -> dict:
        """The curve in numbers (what :meth:`summary` prints and ``results.json`` carries).

        Keys: ``n_specifications`` (rows), ``n_ok``, ``n_insufficient``; ``median_diff``,
        ``diff_q25``, ``diff_q75``, ``diff_iqr`` (of the ok rows' ``diff``);
        ``expected_sign`` and ``share_expected_sign``; ``share_crude_significant`` and
        ``share_placebo_significant`` (p below ``alpha``, either sign);
        ``share_significant`` (placebo p below ``alpha`` with the expected sign: the null
        test's statistic); the baseline's ``baseline_diff``, ``baseline_p_placebo`` and
        ``baseline_percentile`` (its rank among the ok diffs, 0-100); ``alpha``.
        """
        if self._stats is None:
            ok = self._ok()
            d = ok["diff"].to_numpy(dtype=float)
            q25, med, q75 = (np.quantile(d, [0.25, 0.5, 0.75]) if d.size else (np.nan,) * 3)
            es = self._expected_sign
            b = self.baseline
            pct = float("nan") if b is None or not d.size else float((d < b["diff"]).mean() * 100)
            self._stats = {
                "n_specifications": int(len(self._rows)), "n_ok": int(len(ok)),
                "n_insufficient": int((self._rows["status"] == INSUFFICIENT).sum()),
                "median_diff": float(med), "diff_q25": float(q25), "diff_q75": float(q75),
                "diff_iqr": float(q75 - q25),
                "expected_sign": es,
                "share_expected_sign": _share(np.sign(d) == es) if es else float("nan"),
                "share_crude_significant": _share(ok["p_crude_dependence"].to_numpy() < self._alpha),
                "share_placebo_significant": _share(ok["p_placebo"].to_numpy() < self._alpha),
                "share_significant": _share(self._significant(ok, self._alpha)),
                "baseline_diff": float("nan") if b is None else float(b["diff"]),
                "baseline_p_placebo": float("nan") if b is None else float(b["p_placebo"]),
                "baseline_percentile": pct,
                "alpha": self._alpha,
            }
        return dict(self._stats)

    @property
    def baseline(self) -> pd.Series | None:
        """The row equal to the report's default study (full treated set), or None if the grid lacks it."""
        if self._baseline_key is None:
            return None
        r = self._rows
        hit = r[(r["model"] == self._baseline_key[0]) & (r["benchmark"] == self._baseline_key[1])
                & (r["estimation_window"] == self._baseline_key[2]) & (r["event_window"] == self._baseline_key[3])
                & (r["_dropped"] == "")]
        return None if hit.empty else hit.iloc[0][list(COLUMNS)]

    def influence(self) -> pd.DataFrame:
        """How the median ``diff`` moves when each treated firm is dropped.

        Returns
        -------
        DataFrame
            One row per treated firm, largest move first: ``firm``, ``n_specifications``
            (ok rows without it), ``median_diff_without``, ``median_diff_with`` (the
            median over the full treated set's ok rows), ``shift`` (without - with) and
            ``sign_flips``. A firm whose leave-one-out rows were all dropped as duplicates
            (the data had excluded it already) has ``n_specifications = 0`` and NaNs.

        Raises
        ------
        ParameterError
            The curve was built without ``leave_one_out``.
        """
        if len(self._inputs.drops) < 2:
            raise ParameterError("influence() needs the leave-one-out rows: build the curve with leave_one_out=True")
        ok = self._ok()
        ref = float(np.median(ok.loc[ok["_dropped"] == "", "diff"])) if (ok["_dropped"] == "").any() else np.nan
        recs = []
        for f in self._inputs.treated:
            d = ok.loc[ok["_dropped"] == f, "diff"].to_numpy(dtype=float)
            med = float(np.median(d)) if d.size else float("nan")
            recs.append({"firm": f, "n_specifications": int(d.size), "median_diff_without": med,
                         "median_diff_with": ref, "shift": med - ref,
                         "sign_flips": bool(d.size and np.sign(med) != np.sign(ref))})
        out = pd.DataFrame.from_records(recs)
        return out.sort_values("shift", key=np.abs, ascending=False, kind="stable", na_position="last") \
            .reset_index(drop=True)

    def summary(self) -> str:
        """The curve in a few lines: counts, median and IQR, shares, the baseline."""
        s = self.stats
        a = f"{self._alpha:g}"
        sign = {1: "up", -1: "down"}.get(s["expected_sign"])
        lines = [
            f"Specification curve: day 0 = {self._session.date()}, treated {', '.join(self.treated)} "
            f"vs control {', '.join(self.control)}",
            f"specifications: {s['n_specifications']} ({s['n_ok']} ran, {s['n_insufficient']} insufficient data)",
            f"median diff: {_fmt(s['median_diff'], '+.3%')}  IQR {_fmt(s['diff_q25'], '+.3%')} .. "
            f"{_fmt(s['diff_q75'], '+.3%')} ({_fmt(s['diff_iqr'], '.3%')})",
            f"share with the expected sign ({sign or 'none'}): {_fmt(s['share_expected_sign'], '.0%')}",
            f"share p_crude_dependence < {a}: {_fmt(s['share_crude_significant'], '.0%')}; "
            f"p_placebo < {a}: {_fmt(s['share_placebo_significant'], '.0%')}",
        ]
        if self.baseline is not None:
            b = self.baseline
            lines.append(f"baseline ({b['model']}, {b['benchmark']}, {b['estimation_window']}, {b['event_window']}): "
                         f"diff {_fmt(float(b['diff']), '+.3%')}, p_placebo {_fmt(float(b['p_placebo']), '.3f')}, "
                         f"percentile {_fmt(s['baseline_percentile'], '.0f')}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<SpecificationCurve {self._session.date()} specifications={len(self._rows)}>"

    def _repr_html_(self) -> str:
        from html import escape

        return "<pre>" + escape(self.summary()) + "</pre>"

    # ------------------------------------------------------------------ figure
    def plot(self, *, title=None, source=None):
        """The two-panel specification curve; returns the Figure.

        Top: the ok rows' ``diff`` sorted ascending (a Line2D with ``gid="estimates"``
        holds exactly those points), with 95% crude-dependence intervals
        ``diff ± t_0.975(m - 1)·sd·√L``, rows significant by the null test's rule
        coloured, the baseline ringed. Below: the indicator matrix, one dot per choice
        of each specification. ``title`` replaces the plain-words default; ``source`` is the
        source line under the figure (:func:`analysis.plots.add_source`).
        """
        return _plot_curve(self, title, source)

    # ------------------------------------------------------------------ the joint null
    def null_test(self, n_placebo: int = 200, *, seed: int = 0, alpha: float | None = None) -> "NullTest":
        """Where the curve's median and share of significant specifications fall on days without news.

        Parameters
        ----------
        n_placebo : int
            Pseudo-event sessions, drawn without replacement (all candidates if fewer).
        seed : int
            Seed of the draw (``numpy.random.default_rng``).
        alpha : float, optional
            Significance level of the share (default: the curve's).

        Returns
        -------
        NullTest

        Raises
        ------
        InsufficientDataError
            No specification ran for the event, or no pseudo-event session fits before
            the estimation window.
        """
        return NullTest(**_null_draws(self, int(n_placebo), seed, self._alpha if alpha is None else float(alpha)))


# =========================================================================== prose
def curve_sentence(stats: dict, *, null: dict | None = None, influence=None, alpha: float = 0.05,
                   null_missing: bool = False) -> str:
    """A plain-language paragraph on the specification curve that claims nothing beyond its numbers.

    Parameters
    ----------
    stats : dict
        :attr:`SpecificationCurve.stats`.
    null : dict, optional
        :attr:`NullTest.stats`.
    influence : DataFrame, optional
        :meth:`SpecificationCurve.influence`.
    alpha : float
        The level the null test's p-values are judged at.
    null_missing : bool
        Say that the joint null test could not run (when ``null`` is None).

    Returns
    -------
    str

    Examples
    --------
    >>> curve_sentence({"n_specifications": 3, "n_ok": 0, "n_insufficient": 3})
    'None of the 3 specifications could be estimated: the data are insufficient for all of them.'
    """
    n, n_ok = int(stats["n_specifications"]), int(stats["n_ok"])
    if n_ok == 0:
        return f"None of the {n} specifications could be estimated: the data are insufficient for all of them."
    pct = lambda v: _fmt(v * 100 if v is not None else None, "+.2f") + ("%" if v is not None and math.isfinite(v) else "")  # noqa: E731
    share = lambda v: _fmt(v, ".0%")  # noqa: E731
    a = f"{stats.get('alpha', 0.05):g}"
    out = [f"Across {n_ok} specifications"
           + (f" ({n - n_ok} more lacked the data)" if n > n_ok else "")
           + f", the median treated-minus-control difference is {pct(stats['median_diff'])} "
           f"(interquartile range {pct(stats['diff_q25'])} to {pct(stats['diff_q75'])})."]
    es = stats.get("expected_sign")
    if es:
        out.append(f"{share(stats['share_expected_sign'])} of them have the expected sign "
                   f"({'up' if es > 0 else 'down'}).")
    else:
        out.append("The event kind has no expected sign, so direction is not judged.")
    out.append(f"{share(stats['share_placebo_significant'])} are significant at {a} by the placebo test and "
               f"{share(stats['share_crude_significant'])} by the crude-dependence t test.")
    if null is not None:
        pm, ps = null["p_median"], null["p_share"]
        out.append(f"On {null['n_placebo']} pseudo-event days without news, a median at least this far from zero "
                   f"has p = {_fmt(pm, '.3f')} and a share of significant specifications at least this large "
                   f"p = {_fmt(ps, '.3f')};")
        lo_m, lo_s = pm < alpha, ps < alpha
        if lo_m and lo_s:
            out[-1] += f" by both, the curve as a whole is unusual for a day without news at {alpha:g}."
        elif not lo_m and not lo_s:
            out[-1] += f" by neither is the curve as a whole unusual for a day without news at {alpha:g}."
        else:
            which = "median" if lo_m else "share"
            out[-1] += f" only the {which} is unusual at {alpha:g}, so the evidence of the curve as a whole is mixed."
    elif null_missing:
        out.append("The joint null test could not run on these data (see the sample notes).")
    if influence is not None and len(influence) and influence["n_specifications"].iloc[0] > 0:
        r = influence.iloc[0]
        out.append(f"Dropping {r['firm']} moves the median most: over the same specifications, from "
                   f"{pct(r['median_diff_with'])} with every treated firm to {pct(r['median_diff_without'])} without "
                   f"{r['firm']}" + (", reversing its sign." if r["sign_flips"] else "."))
    return " ".join(out)
