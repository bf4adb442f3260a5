"""The event-study engine: normal-return models, abnormal returns and the test battery.

One call estimates every firm at once and returns an :class:`EventStudyResult`, a
container in the style of linearmodels' results: read-only properties, derived
statistics computed lazily and cached, ``summary()`` for people and ``to_frame()`` /
``to_json()`` for machines. The computation lives in private array functions; the result
only stores the inputs of *its own* study (no class-level state).

>>> import analysis
>>> returns = analysis.load_returns(["NTR", "MOS", "IPI", "ICL", "SPY"], "2024-11-01", "2026-03-31", offline=True)
>>> res = event_study(returns, returns.pop("SPY"), "2025-12-15")
>>> res.tests.query("window == '(0,1)'").set_index("test")["p_value"].round(3)
test
t_cross_sectional     0.123
t_crude_dependence    0.082
patell_z              0.007
patell_z_kp           0.202
bmp                   0.123
bmp_kp                0.389
corrado_rank          0.072
generalized_sign      0.052
wilcoxon              0.125
placebo               0.062
Name: p_value, dtype: float64

Layout: :mod:`~analysis.eventstudy.models` (the normal-return fits),
:mod:`~analysis.eventstudy.battery` (the tests on arrays),
:mod:`~analysis.eventstudy.results` (:class:`EventStudyResult`),
:mod:`~analysis.eventstudy.serialize` (JSON round trip),
:mod:`~analysis.eventstudy.groups` (:class:`GroupComparison`, the portfolio sd),
:mod:`~analysis.eventstudy.inputs` (input checks); windows are :mod:`analysis.windows`.
This docstring is the reference for the notation and every convention.

Notation
--------
Relative days are sessions counted from the event session (day 0). Windows are
inclusive pairs ``(a, b)`` of relative days, labelled ``"(a,b)"``; ``L = b - a + 1``.
For firm *i*, ``m_i`` is its number of valid estimation-window observations and ``k`` the
number of estimated normal-return parameters (below).

Normal-return models (MacKinlay 1997, "Event studies in economics and finance", JEL 35)
---------------------------------------------------------------------------------------
``"market"``
    OLS of R_it on (1, Rm_t) over the estimation window, k = 2.
``"factor"``
    OLS of R_it on (1, x_t) with x_t the columns of ``market`` (a DataFrame), k = 1 + F.
``"constant_mean"``
    AR_it = R_it - mean of the firm's estimation returns, k = 1.
``"market_adjusted"``
    AR_it = R_it - Rm_t, nothing estimated, k = 0.

In every model σ̂_i² = SSR_i / (m_i - k), the estimation-window sum of squared abnormal
returns over its degrees of freedom (for the market model SSR/(m - 2); for the
market-adjusted model, which imposes α = 0, β = 1, ΣAR²/m). The event-window abnormal
return is a prediction error whose standard deviation is

    s_it = σ̂_i · sqrt(1 + h_it),   h_it = x_t'(X_i'X_i)⁻¹x_t,

which for the market model is σ̂_i·sqrt(1 + 1/m_i + (Rm_t - R̄m_i)²/Σ(Rm - R̄m_i)²)
(MacKinlay 1997, eq. 9), for constant-mean h = 1/m_i and for market-adjusted h = 0.
SAR_it = AR_it / s_it. The estimation is vectorized: per-firm normal equations in centred
form, with each firm's own NaN mask, solved for all firms in one batched ``numpy.linalg``
call -- no Python loop over firms.

Missing data: one firm-set rule
-------------------------------
Every statistic is NaN-aware. A firm with fewer than ``min_estimation_obs`` valid
estimation returns (or flagged by the caller's ``exclude=``, e.g. the data-quality gate)
is excluded before estimation, with a warning naming it. Every number of a *window*
(a row of :attr:`EventStudyResult.tests`, :attr:`EventStudyResult.caar`, the
:class:`GroupComparison` CAARs, ``n``) uses **the firms observed on every day of that
window**; every estimation-window quantity the test needs (the AAR series, r̄, S(K), p̂,
the placebo CAARs) is computed on that same firm set. The CAAR *path*
(:attr:`EventStudyResult.caar_path`, the figures) uses the firms observed on every day
of the event span, which for the default windows is the widest window (-5,5), so the
path ends at CAAR(-5,5). :attr:`EventStudyResult.excluded` names every firm left out of
every window and why (too few estimation returns, a quality flag, a missing day, the
window running past the firm's data).

Window independence and daily statistics
----------------------------------------
A window's statistics never depend on which other windows are requested: each test
reads only the estimation window and the window's own days. Daily statistics
(:attr:`EventStudyResult.daily_tests`) are the same tests on the one-day windows
``(d,d)`` of ``daily_span`` (default: the span of the event windows), so they equal the
``(d,d)`` window rows, except Corrado's, which ranks over the estimation window plus the
whole daily span, fixed for all its days (Corrado 1989; as estudy2 does for event-period
days).

The test battery (``test`` names in :attr:`EventStudyResult.tests`)
--------------------------------------------------------------------
All p-values are two-sided.

``t_cross_sectional``
    √N·mean(CAR)/sd(CAR), sd with N - 1 degrees of freedom; p from t(N - 1). Robust to
    event-induced variance, not to cross-correlation (MacKinlay 1997; Brown & Warner 1985).
``t_crude_dependence``
    Brown & Warner (1985, "Using daily stock returns", JFE 14) "crude dependence
    adjustment": CAAR / (sd_A·√L) where sd_A is the time-series sd (n - 1) of the AAR
    series over the estimation window; p from t(m - 1), m the number of estimation days.
    Portfolio-based, so it absorbs cross-correlation among firms.
``patell_z``
    Patell (1976, JAR 14): Σ_i SCAR_i / sqrt(Σ_i (m_i - k)/(m_i - k - 2)), p from N(0,1).
    *Window standardizer* (``scar=``): ``"exact"`` (the default) divides each firm's CAR
    by the standard deviation of a CAR of L prediction errors,
    SCAR_i = CAR_i / (σ̂_i·sqrt(L + 1'X_w(X_i'X_i)⁻¹X_w'1)) (MacKinlay 1997, eq. 15;
    Mikkelson & Partch 1988), X_w the window's regressor rows with the constant; it is
    t(m_i - k) under normal errors, so the Patell variance factor is exact. This is
    what EventStudyTools' BMP and Kolari & Pynnönen (2010) use, and what
    :attr:`EventStudyResult.firm_tests` uses. ``"sum"`` keeps the older
    SCAR_i = Σ_{t∈w} SAR_it / √L, which ignores the covariance of the window's
    prediction errors through the shared estimated parameters. On one-day windows the
    two are identical (SCAR = SAR).
``bmp``
    Boehmer, Musumeci & Poulsen (1991, JFE 30): √N·mean(SCAR)/sd(SCAR), p from t(N - 1),
    with the same SCAR as Patell's. SAR uses the prediction-error-corrected s_it above
    (BMP's original); packages that standardize the CAR by σ̂√L without the
    prediction-error term differ; we do not.
``patell_z_kp``, ``bmp_kp``
    Kolari & Pynnönen (2010, RFS 23) cross-correlation adjustment: the statistic times
    sqrt((1 - r̄)/(1 + (N - 1)·r̄)), where r̄ is the mean off-diagonal Pearson correlation
    of the estimation-window residuals of the firms in the test (pairwise-complete
    observations) and N the test's own number of firms. p as for the unadjusted test.
``corrado_rank``
    Corrado (1989, JFE 23): each firm's ARs over the estimation window plus the ranked
    event days are ranked (ties averaged) and centred, U_it = K_it - (T_i + 1)/2. With
    Ū_t = mean_i U_it and S(K) = sqrt((1/T)·Σ_t Ū_t²) over all T ranked days, the day
    statistic is Ū_0/S(K). *Window form* (Cowan 1992): each window ranks the estimation
    window plus **its own** L days, and the statistic is √L·mean_{t∈w}Ū_t / S(K).
    Daily rows rank the estimation window plus the whole ``daily_span`` once.
    p from N(0,1).
``generalized_sign``
    Cowan (1992, "Nonparametric event study tests", RQFA 2): Z = (w - N·p̂)/sqrt(N·p̂(1 - p̂)),
    w the number of ARs (CARs) strictly > 0. *Choice*: p̂ is the share of positive
    estimation-window ARs *pooled* over firms (Cowan averages the firms' shares; the two
    agree when all m_i are equal). p from N(0,1).
``wilcoxon``
    Wilcoxon (1945) signed rank: the statistic is W+, the sum of the ranks of |CAR| (ties
    averaged) over the positive CARs; zeros are dropped. p is exact for n ≤ 50 without
    ties, else the normal approximation with tie correction (no continuity correction),
    matching ``scipy.stats.wilcoxon``.
``placebo``
    Empirical p of the CAAR: the event CAAR against the same-length CAARs (sums of the
    AAR) starting on every pseudo-event day inside the estimation window,
    p = (1 + #{|CAAR_s| ≥ |CAAR|}) / (1 + #pseudo-events); the statistic column is the
    CAAR. It assumes nothing about the shape of the distribution, the variance or the
    cross-correlation, so **with N = 4 to 6 firms it is the honest test**: the
    cross-sectional tests then have 3 to 5 degrees of freedom and the asymptotic ones
    lean on assumptions four firms cannot support. Its resolution is 1/(1 + #pseudo).

Per-firm tests (:attr:`EventStudyResult.firm_tests`) use the exact variance of a CAR of
prediction errors, σ̂²(L + 1'X_w(X'X)⁻¹X_w'1) (MacKinlay 1997, eq. 15), p from t(m - k).

The CAAR figure's grey band (:meth:`EventStudyResult.caar_band`) is the *null* band,
0 ± t_{m-1}·sd_A·√k on the path's k-th day: where a CAAR path would lie in 95% of
event-free stretches, by the crude-dependence standard error.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import EventStudyError, InsufficientDataError
from ..windows import DEFAULT_ESTIMATION_WINDOW, DEFAULT_WINDOWS, window_label
from .battery import SCARS, TESTS, _battery, _rank_avg, _wilcoxon, _wilcoxon_cdf, portfolio_sd  # noqa: F401
from .groups import GroupComparison, compare_groups
from .inputs import EventStudyWarning, _as_frame, _check_windows, _event_position, _market_array
from .models import MODELS, _fit, car_variance_factor  # noqa: F401
from .results import TEST_COLUMNS, EventStudyResult, from_json  # noqa: F401
from .serialize import JSON_SCHEMA  # noqa: F401

__all__ = [
    "DEFAULT_ESTIMATION_WINDOW",
    "DEFAULT_WINDOWS",
    "MODELS",
    "SCARS",
    "TESTS",
    "EventStudyResult",
    "EventStudyWarning",
    "GroupComparison",
    "compare_groups",
    "event_study",
    "from_json",
    "portfolio_sd",
    "window_label",
]


def event_study(
    returns,
    market=None,
    event_date=None,
    estimation_window=DEFAULT_ESTIMATION_WINDOW,
    event_windows=DEFAULT_WINDOWS,
    model="market",
    min_estimation_obs=120,
    *,
    daily_span=None,
    scar="exact",
    exclude=None,
    measure="return",
) -> EventStudyResult:
    """Run an event study of one event for every firm in ``returns``.

    Parameters
    ----------
    returns : DataFrame
        Sessions (sorted, unique ``DatetimeIndex``) x firms, simple daily returns; NaN
        allowed. ``returns.attrs["excluded"]`` (``{firm: reason}``, set by the
        data-quality gate) excludes those firms like ``exclude``.
    market : Series or DataFrame
        The market return on the same sessions (``"market"``, ``"market_adjusted"``), a
        DataFrame of regressors (``"factor"``), or None (``"constant_mean"``). Reindexed
        to ``returns.index``; a missing market value makes that day invalid for every firm.
    event_date : date-like
        Day 0, a session in the index (align calendar dates first with
        :func:`analysis.calendars.align_event`).
    estimation_window : (int, int)
        Relative sessions, inclusive; must end before the event windows and the daily
        span start.
    event_windows : sequence of (int, int)
        Relative windows, inclusive, labelled ``"(a,b)"`` in the results.
    model : {"constant_mean", "market_adjusted", "market", "factor"}
        The normal-return model; see the module docstring.
    min_estimation_obs : int
        Firms with fewer valid estimation returns are excluded (with a warning naming them).
    daily_span : (int, int), optional
        The days of :attr:`EventStudyResult.daily_tests`, e.g. ``(-2, 5)`` for daily tests
        on days -2..+5 without adding a window. Default: the span of ``event_windows``.
    scar : {"exact", "sum"}
        The window standardizer of Patell and BMP (module docstring): the CAR over its
        exact prediction-error sd (default), or ΣSAR/√L.
    exclude : mapping firm -> reason, optional
        Firms to leave out of the study with the reason given (e.g. a data-quality flag);
        they appear in :attr:`EventStudyResult.excluded` with code ``"quality"``.
    measure : str
        What the "returns" are, for labels (``"return"``; e.g. ``"log volume"`` when the
        engine is reused for abnormal volume).

    Returns
    -------
    EventStudyResult

    Raises
    ------
    EventStudyError
        Malformed input, event date not a session (the nearest is suggested), constant
        returns, a zero-variance market, an unknown firm in ``exclude``.
    WindowError
        A malformed, reversed or duplicated window, or the estimation window overlapping
        the event windows.
    InsufficientDataError
        The windows run past the data (:class:`~analysis.errors.WindowRangeError`), the
        estimation window is shorter than ``min_estimation_obs``, or no firm has enough
        estimation returns.

    Examples
    --------
    >>> import analysis
    >>> r = analysis.load_returns(["NTR", "MOS", "IPI", "ICL", "SPY"], "2024-11-01", "2026-03-31", offline=True)
    >>> res = analysis.event_study(r.drop(columns="SPY"), r["SPY"], "2025-12-15")
    >>> round(float(res.caar["(0,1)"]), 4)
    -0.0434
    >>> res.tests.query("window == '(0,1)' and test == 'placebo'")["p_value"].round(4).tolist()
    [0.0625]
    """
    if model not in MODELS:
        raise EventStudyError(f"unknown model {model!r}: choose one of {', '.join(MODELS)}")
    if scar not in SCARS:
        raise EventStudyError(f"unknown scar {scar!r}: choose one of {', '.join(SCARS)}")
    returns = _as_frame(returns)
    if event_date is None:
        raise EventStudyError("event_date is required: pass day 0 as a session in the returns index")
    index = returns.index
    pos, t0 = _event_position(index, event_date)
    est, wins, span, daily = _check_windows(estimation_window, event_windows, pos, len(index), daily_span)
    X, xnames = _market_array(market, index, model, returns.columns)
    F = X.shape[1]
    k = 0 if model == "market_adjusted" else 1 + F
    try:
        min_obs = int(min_estimation_obs)
    except (TypeError, ValueError):
        raise EventStudyError(f"min_estimation_obs must be an integer, got {min_estimation_obs!r}") from None
    if min_obs < k + 3:
        raise EventStudyError(
            f"min_estimation_obs={min_obs} is too small for model {model!r} (k={k}): the Patell "
            f"variance needs m - k > 2, use at least {k + 3}"
        )
    est_len = est[1] - est[0] + 1
    if est_len < min_obs:
        raise InsufficientDataError(
            f"estimation window {est} has {est_len} sessions, fewer than min_estimation_obs={min_obs}: "
            "lengthen the window or lower min_estimation_obs"
        )
    firms = [str(c) for c in returns.columns.to_numpy(dtype=object)]
    flags = {str(f): str(why) for f, why in (returns.attrs.get("excluded") or {}).items() if str(f) in firms}
    if exclude:
        unknown = [f for f in exclude if str(f) not in firms]
        if unknown:
            raise EventStudyError(f"exclude names firms {unknown} that are not in returns (its firms: {firms})")
        flags.update({str(f): str(why) for f, why in dict(exclude).items()})

    Y = returns.to_numpy(dtype=float, na_value=np.nan)
    eidx = np.arange(pos + est[0], pos + est[1] + 1)
    sidx = np.arange(pos + span[0], pos + span[1] + 1)
    YE, YS = Y[eidx].copy(), Y[sidx].copy()
    XE, XS = X[eidx], X[sidx]
    if model == "market_adjusted" or F > 0:
        mvalid = np.isfinite(XE).all(axis=1)
        if mvalid.sum() < min_obs:
            raise InsufficientDataError(
                f"the market series has only {int(mvalid.sum())} valid values in the estimation window "
                f"{est} (need {min_obs}): check that it covers the same sessions as returns"
            )
        xv = XE[mvalid]
        if np.any(np.ptp(xv, axis=0) == 0):
            raise EventStudyError(
                "the market (regressor) return is constant over the estimation window "
                f"{est}: check the market series, or use model='constant_mean'"
            )

    # exclusions before estimation: quality flags, then too few estimation returns
    validE = np.isfinite(YE) & np.isfinite(XE).all(axis=1)[:, None]
    m_obs = validE.sum(axis=0)
    dropped = {f: ("quality", why) for f, why in flags.items()}
    dE = index[eidx]
    for j in np.nonzero(m_obs < min_obs)[0]:
        if firms[j] in dropped:
            continue
        first = np.nonzero(validE[:, j])[0]
        where = (f"first valid estimation return {dE[first[0]].date()}" if first.size
                 else f"no valid return from {dE[0].date()} to {dE[-1].date()}")
        dropped[firms[j]] = ("estimation",
                             f"{int(m_obs[j])} valid estimation returns < min_estimation_obs={min_obs}; {where}")
    keep = np.array([f not in dropped for f in firms], dtype=bool)
    # max - min of each firm's valid estimation returns (0 for a firm with none: it is excluded above)
    spread = np.where(validE, YE, -np.inf).max(axis=0) - np.where(validE, YE, np.inf).min(axis=0)
    spread = np.where(validE.any(axis=0), spread, np.nan)
    const = [firms[j] for j in np.nonzero(keep & (spread == 0))[0]]
    if const:
        raise EventStudyError(
            f"constant returns over the estimation window for {const} (stale or delisted prices?): "
            "drop these firms or fix their price data"
        )
    few = {f: why for f, (code, why) in dropped.items() if code == "estimation"}
    if few:
        warnings.warn(
            "excluded from the event study (too few estimation observations): "
            + "; ".join(f"{f}: {why}" for f, why in few.items()),
            EventStudyWarning,
            stacklevel=2,
        )
    if not keep.any():
        raise InsufficientDataError(
            f"no firm has {min_obs} valid estimation returns in window {est} (or every firm is flagged): lower "
            "min_estimation_obs, lengthen the data, or move the estimation window"
        )
    YE[:, ~keep] = np.nan
    YS[:, ~keep] = np.nan

    valid = np.isfinite(Y)
    has = valid.any(axis=0)
    last_dates = index[len(index) - 1 - np.argmax(valid[::-1], axis=0)]
    last_valid = dict(zip(firms, np.where(has, last_dates.to_numpy(), np.datetime64("NaT"))))

    fit = _fit(YE[None], XE[None], YS[None], XS[None], model)
    fit = {key: (v[0] if isinstance(v, np.ndarray) else v) for key, v in fit.items()}
    return EventStudyResult(
        returns=returns,
        market=market,
        event_date=t0,
        estimation_window=est,
        event_windows=tuple(wins),
        span=span,
        daily_span=daily,
        model=model,
        scar=scar,
        measure=str(measure),
        min_estimation_obs=min_obs,
        firms=firms,
        xnames=xnames,
        dropped=dropped,
        exclude=flags,
        last_valid=last_valid,
        dates_estimation=index[eidx],
        dates_span=index[sidx],
        YS=YS,
        XS=XS,
        fit=fit,
    )
