"""The event-study engine: normal-return models, abnormal returns and the test battery.

One call estimates every firm at once and returns an :class:`EventStudyResult`, a
container in the style of linearmodels' results: read-only properties, derived
statistics computed lazily and cached, ``summary()`` for people and ``to_frame()`` /
``to_json()`` for machines. The computation lives in private array functions; the result
only stores the inputs of *its own* study (no class-level state).

>>> res = event_study(returns, returns.pop("SPY"), "2025-12-15")   # doctest: +SKIP
>>> res.tests.query("window == '(0,1)'")                           # doctest: +SKIP

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

Missing data and the firm set of each test
------------------------------------------
Every statistic is NaN-aware. A firm with fewer than ``min_estimation_obs`` valid
estimation returns is excluded with a warning naming it. A *window* statistic (a row of
:attr:`EventStudyResult.tests`) uses the firms observed on every day of that window; its
``n`` column is their number, and every estimation-window quantity the test needs (the
AAR series, r̄, S(K), p̂, the placebo CAARs) is computed on that same firm set. Daily
statistics (:attr:`EventStudyResult.daily_tests`) are the same tests on one-day windows
``(d,d)``, so their rows for day 0 equal the ``(0,0)`` rows.

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
    The window form standardizes each firm's CAR as SCAR_i = Σ_{t∈w} SAR_it / √L (the
    sum of standardized ARs; not the CAR divided by its own full-covariance sd).
``bmp``
    Boehmer, Musumeci & Poulsen (1991, JFE 30): √N·mean(SCAR)/sd(SCAR), p from t(N - 1).
    *Standardizer choice*: SAR uses the prediction-error-corrected s_it above (BMP's
    original), and the window form is the same SCAR as Patell's. Packages differ here
    (some standardize the CAR by σ̂√L without the prediction-error term); we do not.
``patell_z_kp``, ``bmp_kp``
    Kolari & Pynnönen (2010, RFS 23) cross-correlation adjustment: the statistic times
    sqrt((1 - r̄)/(1 + (N - 1)·r̄)), where r̄ is the mean off-diagonal Pearson correlation
    of the estimation-window residuals of the firms in the test (pairwise-complete
    observations) and N the test's own number of firms. p as for the unadjusted test.
``corrado_rank``
    Corrado (1989, JFE 23): each firm's ARs over the estimation window plus the event
    span are ranked (ties averaged) and centred, U_it = K_it - (T_i + 1)/2. With
    Ū_t = mean_i U_it and S(K) = sqrt((1/T)·Σ_t Ū_t²) over all T ranked days, the day
    statistic is Ū_0/S(K). *Window form*: Cowan's (1992) √L·mean_{t∈w}Ū_t / S(K).
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
"""

from __future__ import annotations

import json
import math
import warnings
from functools import lru_cache

import numpy as np
import pandas as pd

from .calendars import nearest_session
from .distributions import p_norm, p_t, t_quantile
from .errors import EventStudyError

__all__ = [
    "MODELS",
    "TESTS",
    "EventStudyResult",
    "EventStudyWarning",
    "GroupComparison",
    "compare_groups",
    "event_study",
    "from_json",
]

MODELS = ("constant_mean", "market_adjusted", "market", "factor")
TESTS = (
    "t_cross_sectional",
    "t_crude_dependence",
    "patell_z",
    "patell_z_kp",
    "bmp",
    "bmp_kp",
    "corrado_rank",
    "generalized_sign",
    "wilcoxon",
    "placebo",
)
DEFAULT_WINDOWS = ((-1, 1), (0, 0), (0, 1), (0, 5), (-5, 5))
TEST_COLUMNS = ["window", "test", "statistic", "p_value", "n"]
JSON_SCHEMA = "potash-impact/event-study/1"
_WILCOXON_EXACT_MAX = 50


class EventStudyWarning(UserWarning):
    """A firm was dropped from an event study (too few estimation observations)."""


def window_label(window) -> str:
    """The label of a relative window, ``(a, b) -> "(a,b)"``."""
    return f"({int(window[0])},{int(window[1])})"


# =========================================================================== array core
# Arrays carry a leading batch axis G (events) so the null-calibration tests can run
# thousands of simulated events in one call; event_study uses G = 1.
# Shapes: YE (G, Te, N) estimation returns, XE (G, Te, F) regressors, YS/XS the event span.


def _fit(YE, XE, YS, XS, model):
    """Estimate the normal-return model for every firm at once.

    Returns a dict of arrays: alpha (G,N), beta (G,N,F), sigma2, m, k, r2, ARE (G,Te,N)
    estimation residuals, ARS (G,Ts,N) event-span prediction errors, h (G,Ts,N)
    leverages, and what the per-firm CAR variance needs (xbar, Sinv).
    """
    G, Te, N = YE.shape
    F = XE.shape[2]
    ME = np.isfinite(YE) & np.isfinite(XE).all(axis=2)[:, :, None]
    m = ME.sum(axis=1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        if model == "market_adjusted":
            ARE = np.where(ME, YE - XE[:, :, :1], np.nan)
            ARS = YS - XS[:, :, :1]
            k = 0
            alpha = np.zeros((G, N))
            beta = np.ones((G, N, 1))
            ssr = np.nansum(ARE**2, axis=1)
            r2 = np.full((G, N), np.nan)
            h = np.zeros(ARS.shape)
            out = dict(xbar=None, Sinv=None)
        else:
            Y0 = np.where(ME, YE, 0.0)
            ybar = Y0.sum(axis=1) / m
            Yc = np.where(ME, YE - ybar[:, None, :], 0.0)
            sst = (Yc**2).sum(axis=1)
            k = 1 + F
            if F == 0:
                alpha = ybar
                beta = np.zeros((G, N, 0))
                ARE = np.where(ME, YE - ybar[:, None, :], np.nan)
                ARS = YS - ybar[:, None, :]
                h = np.broadcast_to(1.0 / m[:, None, :], ARS.shape).copy()
                out = dict(xbar=np.zeros((G, N, 0)), Sinv=np.zeros((G, N, 0, 0)))
            else:
                X0 = np.where(np.isfinite(XE), XE, 0.0)
                MEf = ME.astype(float)
                msafe = np.where(m > 0, m, 1.0)  # excluded firms (m = 0) get a harmless system
                xbar = np.einsum("gtn,gtf->gnf", MEf, X0) / msafe[:, :, None]
                Xc = (X0[:, :, None, :] - xbar[:, None, :, :]) * MEf[:, :, :, None]  # (G,Te,N,F)
                Sxx = np.einsum("gtnf,gtnh->gnfh", Xc, Xc)
                Sxy = np.einsum("gtnf,gtn->gnf", Xc, Yc)
                _check_regressors(Sxx, m)
                Sxx = np.where((m > 0)[:, :, None, None], Sxx, np.eye(F))
                Sinv = np.linalg.inv(Sxx)
                beta = np.einsum("gnfh,gnh->gnf", Sinv, Sxy)
                alpha = ybar - np.einsum("gnf,gnf->gn", xbar, beta)
                fitted_E = alpha[:, None, :] + np.einsum("gtf,gnf->gtn", XE, beta)
                ARE = np.where(ME, YE - fitted_E, np.nan)
                ARS = YS - (alpha[:, None, :] + np.einsum("gtf,gnf->gtn", XS, beta))
                XcS = XS[:, :, None, :] - xbar[:, None, :, :]  # (G,Ts,N,F)
                h = 1.0 / m[:, None, :] + np.einsum("gtnf,gnfh,gtnh->gtn", XcS, Sinv, XcS)
                out = dict(xbar=xbar, Sinv=Sinv)
            ssr = np.nansum(ARE**2, axis=1)
            r2 = 1.0 - ssr / sst if F > 0 else np.zeros((G, N))
        sigma2 = ssr / (m - k)
    out.update(alpha=alpha, beta=beta, sigma2=sigma2, m=m, k=k, r2=r2, ARE=ARE, ARS=ARS, h=h)
    return out


def _check_regressors(Sxx, m):
    """Raise if a firm's regressors have no variance over its estimation observations."""
    F = Sxx.shape[-1]
    diag = np.diagonal(Sxx, axis1=-2, axis2=-1)  # (G,N,F)
    ok = m > 0
    if np.any((diag <= 0) & ok[..., None]):
        raise EventStudyError(
            "the market (regressor) return has zero variance over the estimation window: "
            "check that the market series is not constant or empty there, or use "
            "model='constant_mean'"
        )
    if F > 1:
        sd = np.sqrt(diag)
        corr = Sxx / (sd[..., :, None] * sd[..., None, :])
        cond = np.linalg.cond(np.where(ok[..., None, None], corr, np.eye(F)))
        if np.any(cond > 1e12):
            raise EventStudyError(
                "the factor regressors are collinear over the estimation window "
                f"(condition number {float(np.max(cond)):.3g}): drop a redundant factor"
            )


def _window_sums(A, rows):
    """Sums of A (G,T,N) over each row span (start, end) inclusive -> (G,N,R), and valid counts."""
    valid = np.isfinite(A)
    cs = np.concatenate([np.zeros_like(A[:, :1]), np.cumsum(np.where(valid, A, 0.0), axis=1)], axis=1)
    cn = np.concatenate([np.zeros_like(valid[:, :1], dtype=int), np.cumsum(valid, axis=1)], axis=1)
    i0 = np.array([r[0] for r in rows])
    i1 = np.array([r[1] for r in rows]) + 1
    sums = np.moveaxis(cs[:, i1] - cs[:, i0], 1, 2)
    counts = np.moveaxis(cn[:, i1] - cn[:, i0], 1, 2)
    return sums, counts


def _cross_t(X, P, N):
    """√N·mean/sd (ddof 1) over the firm axis of X (G,N,R), restricted to mask P."""
    X0 = np.where(P, X, 0.0)
    mean = X0.sum(axis=1) / N
    var = (np.where(P, X - mean[:, None, :], 0.0) ** 2).sum(axis=1) / (N - 1)
    return np.sqrt(N) * mean / np.sqrt(var), mean


def _pairwise_corr_sum(ARE, P):
    """Sum and count of off-diagonal pairwise-complete correlations within each row's firm set.

    ARE (G,Te,N) residuals, P (G,N,R) float masks -> (sum, pairs), each (G,R).
    """
    M = np.isfinite(ARE)
    G, Te, N = ARE.shape
    m = M.sum(axis=1)
    full = np.all((m == Te) | (m == 0))
    if full:  # every firm fully observed or absent: C = Z'Z/(T-1), p'Cp = |Zp|²/(T-1)
        E0 = np.where(M, ARE, 0.0)
        mu = E0.sum(axis=1, keepdims=True) / Te
        Z = np.where(M, ARE - mu, 0.0)
        sd = np.sqrt((Z**2).sum(axis=1, keepdims=True) / (Te - 1))
        Z = np.where(sd > 0, Z / np.where(sd > 0, sd, 1.0), 0.0)
        d = (Z**2).sum(axis=1) / (Te - 1)  # (G,N) diagonal, 1 up to rounding
        Zp = Z @ P  # (G,Te,R)
        total = (Zp**2).sum(axis=1) / (Te - 1) - np.einsum("gn,gnr->gr", d, P)
        n = P.sum(axis=1)
        return total, n * (n - 1)
    Mf = M.astype(float)
    E0 = np.where(M, ARE, 0.0)
    T = np.transpose
    nn = T(Mf, (0, 2, 1)) @ Mf  # overlap counts
    Sx = T(E0, (0, 2, 1)) @ Mf  # Sx[i,j] = sum of e_i over days both observed
    Sxx = T(E0**2, (0, 2, 1)) @ Mf
    Sxy = T(E0, (0, 2, 1)) @ E0
    with np.errstate(invalid="ignore", divide="ignore"):
        num = nn * Sxy - Sx * T(Sx, (0, 2, 1))
        den = np.sqrt((nn * Sxx - Sx**2) * T(nn * Sxx - Sx**2, (0, 2, 1)))
        C = num / den
    C[nn < 2] = np.nan
    idx = np.arange(N)
    C[:, idx, idx] = np.nan  # off-diagonal only
    D = np.isfinite(C).astype(float)
    C0 = np.where(np.isfinite(C), C, 0.0)
    total = np.einsum("gnr,gnm,gmr->gr", P, C0, P)
    pairs = np.einsum("gnr,gnm,gmr->gr", P, D, P)
    return total, pairs


def _rank_avg(A, axis):
    """Ranks 1..T_valid along ``axis`` with ties averaged; NaN stays NaN (as scipy's nan_policy="omit")."""
    A = np.ascontiguousarray(np.moveaxis(A, axis, -1))
    nan = ~np.isfinite(A)
    B = np.where(nan, np.inf, A)
    order = np.argsort(B, axis=-1)
    s = np.take_along_axis(B, order, axis=-1)
    T = s.shape[-1]
    diff = s[..., 1:] != s[..., :-1]
    ranks = np.empty_like(s)
    if np.all(diff | ~np.isfinite(s[..., 1:])):  # no ties among valid values: ordinal ranks
        np.put_along_axis(ranks, order, np.broadcast_to(np.arange(1.0, T + 1.0), s.shape), axis=-1)
        ranks[nan] = np.nan
        return np.moveaxis(ranks, -1, axis)
    pos = np.broadcast_to(np.arange(T), s.shape)
    first = np.concatenate([np.ones(s.shape[:-1] + (1,), bool), diff], axis=-1)
    last = np.concatenate([diff, np.ones(s.shape[:-1] + (1,), bool)], axis=-1)
    start = np.maximum.accumulate(np.where(first, pos, 0), axis=-1)
    end = np.flip(np.minimum.accumulate(np.flip(np.where(last, pos, T), axis=-1), axis=-1), axis=-1)
    np.put_along_axis(ranks, order, (start + end) / 2.0 + 1.0, axis=-1)
    ranks[nan] = np.nan
    return np.moveaxis(ranks, -1, axis)


_p_t, _p_norm = p_t, p_norm  # short local names used throughout the battery


@lru_cache(maxsize=None)
def _wilcoxon_cdf(n: int) -> np.ndarray:
    """Exact null CDF of W+ for n untied, nonzero values: P(W+ <= w), w = 0..n(n+1)/2."""
    counts = np.zeros(n * (n + 1) // 2 + 1)
    counts[0] = 1.0
    for r in range(1, n + 1):
        counts[r:] = counts[r:] + counts[:-r].copy()
    return np.cumsum(counts) / 2.0**n


def _wilcoxon(CAR, P):
    """W+ and two-sided p for each (g, r); CAR (G,N,R), P mask. Returns (W, p, n)."""
    X = np.where(P & (CAR != 0), CAR, np.nan)
    n = np.isfinite(X).sum(axis=1)
    ranks = _rank_avg(np.abs(X), axis=1)
    W = np.where(X > 0, ranks, 0.0).sum(axis=1)
    p = np.full(W.shape, np.nan)
    # ties: any two equal |x| within a (g, r)
    srt = np.sort(np.abs(X), axis=1)
    tied = (np.diff(srt, axis=1) == 0).any(axis=1)
    exact = (n <= _WILCOXON_EXACT_MAX) & ~tied & (n > 0)
    for nv in np.unique(n[exact]):
        sel = exact & (n == nv)
        cdf = _wilcoxon_cdf(int(nv))
        w = np.rint(W[sel]).astype(int)
        lo = cdf[w]
        hi = 1.0 - np.where(w > 0, cdf[np.maximum(w - 1, 0)], 0.0)
        p[sel] = np.minimum(1.0, 2.0 * np.minimum(lo, hi))
    approx = ~exact & (n > 0)
    if approx.any():
        mean = n * (n + 1) / 4.0
        var = n * (n + 1) * (2 * n + 1) / 24.0
        for g, r in zip(*np.nonzero(approx & tied)):
            _, t = np.unique(np.abs(X[g, :, r][np.isfinite(X[g, :, r])]), return_counts=True)
            var[g, r] -= (t**3 - t).sum() / 48.0
        z = (W - mean) / np.sqrt(var)
        p[approx] = _p_norm(z[approx])
    return W, p, n


def _battery(fit, rows, L):
    """Every test on every row.

    ``rows``: list of (i0, i1) indices into the event span; ``L``: their lengths. Returns
    dict test -> (statistic, p, n), each (G,R), plus CAAR, CAR (G,N,R), P.
    """
    ARE, ARS, h, sigma2, m, k = fit["ARE"], fit["ARS"], fit["h"], fit["sigma2"], fit["m"], fit["k"]
    SARS = ARS / np.sqrt(sigma2[:, None, :] * (1.0 + h))
    Lf = np.asarray(L, dtype=float)
    sqL = np.sqrt(Lf)
    CAR, cnt = _window_sums(ARS, rows)
    SSUM, _ = _window_sums(SARS, rows)
    P = cnt == np.asarray(L)[None, None, :]
    Pf = P.astype(float)
    N = Pf.sum(axis=1)  # (G,R)
    CAR = np.where(P, CAR, np.nan)
    SCAR = np.where(P, SSUM / sqL, np.nan)
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        t_cs, CAAR = _cross_t(CAR, P, N)
        out["t_cross_sectional"] = (t_cs, _p_t(t_cs, N - 1), N)

        # Brown-Warner crude dependence: the AAR series of the row's firms over estimation
        ME = np.isfinite(ARE)
        E0 = np.where(ME, ARE, 0.0)
        A = (E0 @ Pf) / (ME.astype(float) @ Pf)  # (G,Te,R)
        mA = np.isfinite(A).sum(axis=1)
        Abar = np.nansum(A, axis=1) / mA
        sdA = np.sqrt(np.nansum((A - Abar[:, None, :]) ** 2, axis=1) / (mA - 1))
        t_cd = CAAR / (sdA * sqL)
        out["t_crude_dependence"] = (t_cd, _p_t(t_cd, mA - 1), N)

        dfk = m - k
        vpat = np.einsum("gn,gnr->gr", np.where(m > 0, dfk / (dfk - 2), 0.0), Pf)
        z_pat = np.where(P, SCAR, 0.0).sum(axis=1) / np.sqrt(vpat)
        bmp, _ = _cross_t(SCAR, P, N)
        csum, pairs = _pairwise_corr_sum(ARE, Pf)
        rbar = csum / pairs
        adj = np.sqrt((1 - rbar) / (1 + (N - 1) * rbar))
        p_norm = _p_norm
        out["patell_z"] = (z_pat, p_norm(z_pat), N)
        out["patell_z_kp"] = (z_pat * adj, p_norm(z_pat * adj), N)
        out["bmp"] = (bmp, _p_t(bmp, N - 1), N)
        out["bmp_kp"] = (bmp * adj, _p_t(bmp * adj, N - 1), N)

        # Corrado ranks over estimation days + event span
        ALL = np.concatenate([ARE, ARS], axis=1)
        MA = np.isfinite(ALL)
        K = _rank_avg(ALL, axis=1)
        Ti = MA.sum(axis=1)
        U = np.where(MA, K - (Ti[:, None, :] + 1) / 2.0, 0.0)
        Ubar = (U @ Pf) / (MA.astype(float) @ Pf)  # (G,Tall,R)
        TK = np.isfinite(Ubar).sum(axis=1)
        SK = np.sqrt(np.nansum(Ubar**2, axis=1) / TK)
        Te = ARE.shape[1]
        UbS = Ubar[:, Te:, :]  # event-span part (G,Ts,R)
        cs = np.concatenate([np.zeros_like(UbS[:, :1]), np.cumsum(np.nan_to_num(UbS), axis=1)], axis=1)
        i0 = np.array([r[0] for r in rows])
        i1 = np.array([r[1] for r in rows]) + 1
        R = len(rows)
        usum = cs[:, i1, np.arange(R)] - cs[:, i0, np.arange(R)]
        z_c = usum / (sqL * SK)
        out["corrado_rank"] = (z_c, p_norm(z_c), N)

        pos = np.einsum("gn,gnr->gr", (ARE > 0).sum(axis=1).astype(float), Pf)
        tot = np.einsum("gn,gnr->gr", ME.sum(axis=1).astype(float), Pf)
        phat = pos / tot
        w = np.where(P, CAR > 0, False).sum(axis=1)
        z_s = (w - N * phat) / np.sqrt(N * phat * (1 - phat))
        out["generalized_sign"] = (z_s, p_norm(z_s), N)

        W, pw, nw = _wilcoxon(CAR, P)
        out["wilcoxon"] = (W, pw, nw.astype(float))

        # placebo: same-length CAARs starting on every pseudo-event day in the estimation window
        pp = np.full(CAAR.shape, np.nan)
        A0 = np.where(np.isfinite(A), A, 0.0)
        csA = np.concatenate([np.zeros_like(A0[:, :1]), np.cumsum(A0, axis=1)], axis=1)
        cnA = np.concatenate([np.zeros((A.shape[0], 1, R), dtype=int), np.cumsum(np.isfinite(A), axis=1)], axis=1)
        for Lv in np.unique(L):
            cols = np.nonzero(np.asarray(L) == Lv)[0]
            if Lv > Te:
                continue
            S = csA[:, Lv:, :][:, :, cols] - csA[:, :-Lv, :][:, :, cols]  # (G,Te-L+1,c)
            ok = (cnA[:, Lv:, :][:, :, cols] - cnA[:, :-Lv, :][:, :, cols]) == Lv
            ev = np.abs(CAAR[:, cols])[:, None, :]
            hits = ((np.abs(S) >= ev) & ok).sum(axis=1)
            npse = ok.sum(axis=1)
            pp[:, cols] = (1.0 + hits) / (1.0 + npse)
        pp[~np.isfinite(CAAR)] = np.nan
        out["placebo"] = (CAAR, pp, N)
    extra = dict(CAAR=CAAR, CAR=CAR, SCAR=SCAR, P=P, N=N, sdA=sdA, mA=mA, rbar=rbar, SK=SK, phat=phat)
    return out, extra


# =========================================================================== validation
def _as_frame(returns) -> pd.DataFrame:
    if isinstance(returns, pd.Series):
        returns = returns.to_frame(returns.name if returns.name is not None else "firm")
    if not isinstance(returns, pd.DataFrame):
        raise EventStudyError(
            f"returns must be a DataFrame of sessions x firms, got {type(returns).__name__}"
        )
    if returns.shape[1] == 0:
        raise EventStudyError("returns has no firm columns: pass at least one firm")
    if not isinstance(returns.index, pd.DatetimeIndex):
        raise EventStudyError(
            f"returns must have a DatetimeIndex of sessions, got {type(returns.index).__name__}: "
            "set the date column as index (df.set_index('date'))"
        )
    if returns.columns.has_duplicates:
        dup = returns.columns[returns.columns.duplicated()][0]
        raise EventStudyError(f"firm {dup!r} appears twice in returns: drop the duplicate column")
    if returns.index.has_duplicates:
        dup = returns.index[returns.index.duplicated()][0]
        raise EventStudyError(
            f"duplicate date {dup.date()} in the returns index: de-duplicate the data "
            "(e.g. returns[~returns.index.duplicated()]) first"
        )
    if not returns.index.is_monotonic_increasing:
        raise EventStudyError("the returns index is not sorted: call returns.sort_index() first")
    bad = [c for c, dt in returns.dtypes.items() if not pd.api.types.is_numeric_dtype(dt)]
    if bad:
        raise EventStudyError(f"non-numeric return columns {bad}: convert them to float")
    return returns


def _event_position(index: pd.DatetimeIndex, event_date) -> tuple[int, pd.Timestamp]:
    try:
        t = pd.Timestamp(event_date)
    except (TypeError, ValueError):
        raise EventStudyError(f"event_date {event_date!r} is not a date: use YYYY-MM-DD") from None
    if pd.isna(t):
        raise EventStudyError(f"event_date {event_date!r} is not a date: use YYYY-MM-DD")
    if t.tz is not None:
        t = t.tz_localize(None)
    if index.tz is not None:
        index = index.tz_localize(None)
    if t not in index:
        raise EventStudyError(
            f"event date {t.date()} is not a session in the returns index; the nearest session is "
            f"{nearest_session(index, t).date()} (align the event first with "
            "analysis.calendars.align_event)"
        )
    return int(index.get_loc(t)), t


def _check_windows(estimation_window, event_windows, pos, T):
    try:
        ea, eb = (int(v) for v in estimation_window)
        wins = [tuple(int(v) for v in w) for w in event_windows]
    except (TypeError, ValueError):
        raise EventStudyError(
            "estimation_window and event_windows must be (start, end) pairs of integers, e.g. "
            f"(-250, -11) and ((-1, 1), (0, 0)); got {estimation_window!r}, {event_windows!r}"
        ) from None
    if not wins or any(len(w) != 2 for w in wins):
        raise EventStudyError(f"event_windows must be a non-empty list of (start, end) pairs, got {event_windows!r}")
    for w in [(ea, eb), *wins]:
        if w[0] > w[1]:
            raise EventStudyError(f"window {w} is reversed: give (start, end) with start <= end")
    if len(set(wins)) != len(wins):
        raise EventStudyError(f"duplicate event windows in {wins}: list each window once")
    s0, s1 = min(w[0] for w in wins), max(w[1] for w in wins)
    if ea <= s1 and s0 <= eb:
        raise EventStudyError(
            f"estimation window ({ea},{eb}) overlaps the event windows, which span ({s0},{s1}): "
            f"end the estimation window before day {s0}, e.g. ({ea},{s0 - 1 - 5})"
        )
    lo, hi = min(ea, s0), max(eb, s1)
    if pos + lo < 0 or pos + hi >= T:
        raise EventStudyError(
            f"the windows need relative days {lo}..{hi} around the event, but the returns hold "
            f"{pos} sessions before and {T - pos - 1} after it: load more history/future data "
            "or shorten the windows"
        )
    return (ea, eb), wins, (s0, s1)


def _market_array(market, index, model, firms):
    """Regressor array (T, F) and names, validated for the model."""
    if model == "constant_mean":
        return np.zeros((len(index), 0)), []
    if market is None:
        raise EventStudyError(f"model={model!r} needs a market series (or factor DataFrame); got None")
    if isinstance(market, pd.DataFrame):
        if model != "factor" and market.shape[1] != 1:
            raise EventStudyError(
                f"model={model!r} takes one market Series, got a DataFrame with columns "
                f"{list(market.columns)}: pass one column, or use model='factor'"
            )
        frame = market
    elif isinstance(market, pd.Series):
        frame = market.to_frame(market.name if market.name is not None else "market")
    else:
        raise EventStudyError(f"market must be a pandas Series or DataFrame, got {type(market).__name__}")
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise EventStudyError("market must have a DatetimeIndex on the same sessions as returns")
    if frame.index.has_duplicates:
        dup = frame.index[frame.index.duplicated()][0]
        raise EventStudyError(f"duplicate date {dup.date()} in the market index: de-duplicate it first")
    overlap = [c for c in frame.columns if c in set(firms)] if model == "factor" else []
    if overlap:
        raise EventStudyError(f"factor columns {overlap} are also firms in returns: drop them from returns")
    frame = frame.reindex(index).astype(float)
    return frame.to_numpy(), [str(c) for c in frame.columns]


# =========================================================================== engine
def event_study(
    returns,
    market=None,
    event_date=None,
    estimation_window=(-250, -11),
    event_windows=DEFAULT_WINDOWS,
    model="market",
    min_estimation_obs=120,
) -> "EventStudyResult":
    """Run an event study of one event for every firm in ``returns``.

    Parameters
    ----------
    returns : DataFrame
        Sessions (sorted, unique ``DatetimeIndex``) x firms, simple daily returns; NaN allowed.
    market : Series or DataFrame
        The market return on the same sessions (``"market"``, ``"market_adjusted"``), a
        DataFrame of regressors (``"factor"``), or None (``"constant_mean"``). Reindexed
        to ``returns.index``; a missing market value makes that day invalid for every firm.
    event_date : date-like
        Day 0, a session in the index (align calendar dates first with
        :func:`analysis.calendars.align_event`).
    estimation_window : (int, int)
        Relative sessions, inclusive; must not overlap the event windows.
    event_windows : sequence of (int, int)
        Relative windows, inclusive, labelled ``"(a,b)"`` in the results.
    model : {"constant_mean", "market_adjusted", "market", "factor"}
        The normal-return model; see the module docstring.
    min_estimation_obs : int
        Firms with fewer valid estimation returns are excluded (with a warning naming them).

    Returns
    -------
    EventStudyResult

    Raises
    ------
    EventStudyError
        Malformed input, event date not a session (the nearest is suggested), overlapping
        or out-of-data windows, constant returns, a zero-variance market, no usable firm.
    """
    if model not in MODELS:
        raise EventStudyError(f"unknown model {model!r}: choose one of {', '.join(MODELS)}")
    returns = _as_frame(returns)
    if event_date is None:
        raise EventStudyError("event_date is required: pass day 0 as a session in the returns index")
    index = returns.index
    pos, t0 = _event_position(index, event_date)
    est, wins, span = _check_windows(estimation_window, event_windows, pos, len(index))
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
        raise EventStudyError(
            f"estimation window {est} has {est_len} sessions, fewer than min_estimation_obs={min_obs}: "
            "lengthen the window or lower min_estimation_obs"
        )

    Y = returns.to_numpy(dtype=float, na_value=np.nan)
    eidx = np.arange(pos + est[0], pos + est[1] + 1)
    sidx = np.arange(pos + span[0], pos + span[1] + 1)
    YE, YS = Y[eidx].copy(), Y[sidx].copy()
    XE, XS = X[eidx], X[sidx]
    if model == "market_adjusted" or F > 0:
        mvalid = np.isfinite(XE).all(axis=1)
        if mvalid.sum() < min_obs:
            raise EventStudyError(
                f"the market series has only {int(mvalid.sum())} valid values in the estimation window "
                f"{est} (need {min_obs}): check that it covers the same sessions as returns"
            )
        xv = XE[mvalid]
        if np.any(np.ptp(xv, axis=0) == 0):
            raise EventStudyError(
                "the market (regressor) return is constant over the estimation window "
                f"{est}: check the market series, or use model='constant_mean'"
            )
    firms = [c if isinstance(c, str) else str(c) for c in returns.columns.tolist()]

    # firm exclusion (too few obs) and constant-return errors, before fitting
    validE = np.isfinite(YE) & np.isfinite(XE).all(axis=1)[:, None]
    m_obs = validE.sum(axis=0)
    excluded = {}
    for j in np.nonzero(m_obs < min_obs)[0]:
        excluded[firms[j]] = f"{int(m_obs[j])} valid estimation returns < min_estimation_obs={min_obs}"
    keep = m_obs >= min_obs
    # max - min of each firm's valid estimation returns (0 for a firm with none: it is excluded above)
    spread = np.where(validE, YE, -np.inf).max(axis=0) - np.where(validE, YE, np.inf).min(axis=0)
    spread = np.where(validE.any(axis=0), spread, np.nan)
    const = [firms[j] for j in np.nonzero(keep & (spread == 0))[0]]
    if const:
        raise EventStudyError(
            f"constant returns over the estimation window for {const} (stale or delisted prices?): "
            "drop these firms or fix their price data"
        )
    if excluded:
        warnings.warn(
            "excluded from the event study (too few estimation observations): "
            + "; ".join(f"{f}: {why}" for f, why in excluded.items()),
            EventStudyWarning,
            stacklevel=2,
        )
    if not keep.any():
        raise EventStudyError(
            f"no firm has {min_obs} valid estimation returns in window {est}: lower "
            "min_estimation_obs, lengthen the data, or move the estimation window"
        )
    YE[:, ~keep] = np.nan
    YS[:, ~keep] = np.nan

    fit = _fit(YE[None], XE[None], YS[None], XS[None], model)
    fit = {key: (v[0] if isinstance(v, np.ndarray) else v) for key, v in fit.items()}
    return EventStudyResult(
        returns=returns,
        market=market,
        event_date=t0,
        estimation_window=est,
        event_windows=tuple(wins),
        span=span,
        model=model,
        min_estimation_obs=min_obs,
        firms=firms,
        xnames=xnames,
        excluded=excluded,
        dates_estimation=index[eidx],
        dates_span=index[sidx],
        YS=YS,
        XS=XS,
        fit=fit,
    )


# =========================================================================== results
def _cached(fn):
    """A read-only property computed once per instance (stored in ``self._cache``)."""
    name = fn.__name__

    def getter(self):
        try:
            return self._cache[name]
        except KeyError:
            value = self._cache[name] = fn(self)
            return value

    getter.__doc__ = fn.__doc__
    getter.__name__ = name
    return property(getter)


def _fmt(x, spec=".4f"):
    return "" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, spec)


class EventStudyResult:
    """Results of :func:`event_study`: abnormal returns, cumulative returns and the test battery.

    Built by :func:`event_study` (or :func:`from_json`), never directly. Every property is
    read-only; tables are computed on first access and cached on the instance. Each
    instance holds the inputs of its own study only.
    """

    def __init__(self, *, returns, market, event_date, estimation_window, event_windows, span, model,
                 min_estimation_obs, firms, xnames, excluded, dates_estimation, dates_span, YS, XS, fit):
        self._returns = returns
        self._market = market
        self._event_date = event_date
        self._estimation_window = estimation_window
        self._event_windows = event_windows
        self._span = span
        self._model = model
        self._min_obs = min_estimation_obs
        self._firms = firms
        self._xnames = xnames
        self._excluded = dict(excluded)
        self._dates_E = dates_estimation
        self._dates_S = dates_span
        self._YS = YS
        self._XS = XS
        self._fit = fit
        self._cache = {}
        self._kept_mask = np.array([f not in self._excluded for f in firms], dtype=bool)
        self._firm_index = pd.Index(firms, name="firm")

    # ------------------------------------------------------------------ configuration
    @property
    def event_date(self) -> pd.Timestamp:
        """Day 0, the event session."""
        return self._event_date

    @property
    def model(self) -> str:
        """The normal-return model."""
        return self._model

    @property
    def estimation_window(self) -> tuple[int, int]:
        """The estimation window in relative sessions (inclusive)."""
        return self._estimation_window

    @property
    def event_windows(self) -> tuple[tuple[int, int], ...]:
        """The event windows in relative sessions (inclusive)."""
        return self._event_windows

    @property
    def windows(self) -> list[str]:
        """The event-window labels, ``"(a,b)"``, in the order given."""
        return [window_label(w) for w in self._event_windows]

    @property
    def firms(self) -> list[str]:
        """Firms estimated (excluded firms removed)."""
        return [f for f in self._firms if f not in self._excluded]

    @property
    def excluded(self) -> dict[str, str]:
        """Firms dropped before estimation, with the reason."""
        return dict(self._excluded)

    @property
    def days(self) -> pd.Index:
        """Relative days of the event span (all windows)."""
        return pd.RangeIndex(self._span[0], self._span[1] + 1, name="day")

    @property
    def dates(self) -> pd.Series:
        """Session date of each relative day of the event span."""
        return pd.Series(self._dates_S, index=self.days, name="date")

    # ------------------------------------------------------------------ internals
    def _kept(self):
        return self._kept_mask

    def _frame(self, arr, index):
        keep = self._kept_mask
        return pd.DataFrame(np.asarray(arr)[:, keep], index=index, columns=self._firm_index[keep])

    def _rows(self):
        s0 = self._span[0]
        wins = list(self._event_windows)
        days = [(d, d) for d in range(self._span[0], self._span[1] + 1)]
        rows = [(a - s0, b - s0) for a, b in wins + days]
        L = [b - a + 1 for a, b in wins + days]
        return wins, days, rows, L

    @_cached
    def _computed(self):
        """The full battery over windows and days (internal)."""
        wins, days, rows, L = self._rows()
        fit = {k: (v[None] if isinstance(v, np.ndarray) else v) for k, v in self._fit.items()}
        out, extra = _battery(fit, rows, L)
        out = {k: tuple(np.asarray(a)[0] for a in v) for k, v in out.items()}
        extra = {k: np.asarray(v)[0] for k, v in extra.items()}
        return out, extra, wins, days

    def _tidy(self, which):
        out, extra, wins, days = self._computed
        W = len(wins)
        sel = slice(0, W) if which == "windows" else slice(W, None)
        labels = [window_label(w) for w in (wins if which == "windows" else days)]
        nt = len(TESTS)
        data = {
            "window": np.repeat(np.array(labels, dtype=object), nt),
            "test": np.tile(np.array(TESTS, dtype=object), len(labels)),
            "statistic": np.stack([out[t][0][sel] for t in TESTS], axis=1).ravel().astype(float),
            "p_value": np.stack([out[t][1][sel] for t in TESTS], axis=1).ravel().astype(float),
            "n": np.stack([out[t][2][sel] for t in TESTS], axis=1).ravel().astype(np.int64),
        }
        if which == "days":
            data["day"] = np.repeat(np.array([d for d, _ in days], dtype=np.int64), nt)
        return pd.DataFrame(data)

    # ------------------------------------------------------------------ abnormal returns
    @_cached
    def ar(self) -> pd.DataFrame:
        """Abnormal returns, relative day x firm, over the span of all event windows."""
        return self._frame(self._fit["ARS"], self.days)

    @_cached
    def sar(self) -> pd.DataFrame:
        """Standardized abnormal returns AR/s_it (prediction-error corrected), day x firm."""
        f = self._fit
        return self._frame(f["ARS"] / np.sqrt(f["sigma2"][None, :] * (1.0 + f["h"])), self.days)

    @_cached
    def ar_estimation(self) -> pd.DataFrame:
        """Estimation-window residuals, relative day x firm (what the tests' null is built from)."""
        idx = pd.RangeIndex(self._estimation_window[0], self._estimation_window[1] + 1, name="day")
        return self._frame(self._fit["ARE"], idx)

    @_cached
    def normal_returns(self) -> pd.DataFrame:
        """Model-implied normal returns over the event span, day x firm (R - AR)."""
        return self._frame(self._YS - self._fit["ARS"], self.days)

    @_cached
    def aar(self) -> pd.Series:
        """Average abnormal return per relative day (mean over the firms observed that day)."""
        return self.ar.mean(axis=1).rename("aar")

    @_cached
    def n_per_day(self) -> pd.Series:
        """Number of firms with an abnormal return on each relative day."""
        return self.ar.notna().sum(axis=1).rename("n")

    @_cached
    def car(self) -> pd.DataFrame:
        """Cumulative abnormal returns, window label x firm (NaN if a firm misses a day of the window)."""
        _, extra, wins, _ = self._computed
        W = len(wins)
        return self._frame(extra["CAR"][:, :W].T, pd.Index(self.windows, name="window")).loc[:, self.firms]

    @_cached
    def caar(self) -> pd.Series:
        """Cumulative average abnormal return per window label (mean CAR of the window's firms)."""
        _, extra, wins, _ = self._computed
        return pd.Series(extra["CAAR"][: len(wins)], index=pd.Index(self.windows, name="window"), name="caar")

    @_cached
    def caar_path(self) -> pd.Series:
        """Cumulated AAR over the event span, from its first day (the CAAR path)."""
        return self.aar.cumsum().rename("caar")

    def caar_band(self, level: float = 0.95) -> pd.DataFrame:
        """Confidence band of :attr:`caar_path`: ±t(m-1)·sd_A·√(days cumulated), Brown-Warner sd_A."""
        sd, m = self._aar_sd()
        q = t_quantile(0.5 + level / 2.0, m - 1)
        half = q * sd * np.sqrt(np.arange(1, len(self.days) + 1))
        path = self.caar_path
        return pd.DataFrame({"lower": path - half, "upper": path + half}, index=self.days)

    def _aar_sd(self):
        A = self.ar_estimation.mean(axis=1).dropna()
        return float(A.std(ddof=1)), len(A)

    @_cached
    def bhar(self) -> pd.DataFrame:
        """Buy-and-hold abnormal returns Π(1+R) - Π(1+R̂) per window label x firm."""
        R = self._YS
        Rhat = R - self._fit["ARS"]
        s0 = self._span[0]
        out = np.full((len(self._event_windows), len(self._firms)), np.nan)
        for i, (a, b) in enumerate(self._event_windows):
            r, rh = R[a - s0 : b - s0 + 1], Rhat[a - s0 : b - s0 + 1]
            ok = np.isfinite(r).all(axis=0) & np.isfinite(rh).all(axis=0)
            out[i] = np.where(ok, np.prod(1 + r, axis=0) - np.prod(1 + rh, axis=0), np.nan)
        return self._frame(out, pd.Index(self.windows, name="window"))

    # ------------------------------------------------------------------ estimation
    @_cached
    def params(self) -> pd.DataFrame:
        """Per firm: alpha, beta(s), sigma, m (estimation obs used) and R² of the normal-return model."""
        f = self._fit
        cols = {"alpha": f["alpha"]}
        if self._model == "market_adjusted":
            cols["beta"] = f["beta"][:, 0]
        elif self._model == "market":
            cols["beta"] = f["beta"][:, 0]
        elif self._model == "factor":
            for j, name in enumerate(self._xnames):
                cols[f"beta_{name}"] = f["beta"][:, j]
        cols["sigma"] = np.sqrt(f["sigma2"])
        cols["m"] = f["m"].astype(int)
        cols["r2"] = f["r2"]
        df = pd.DataFrame(cols, index=pd.Index(self._firms, name="firm"))
        return df.loc[self._kept()]

    @_cached
    def firm_tests(self) -> pd.DataFrame:
        """Per firm and window: CAR, its exact std error, t = CAR/se and p from t(m - k)."""
        f = self._fit
        s0 = self._span[0]
        m, k = f["m"], f["k"]
        keep = self._kept_mask
        firms = np.array(self._firms, dtype=object)[keep]
        cols = {k: [] for k in ("window", "firm", "car", "std_error", "statistic", "p_value", "df")}
        for a, b in self._event_windows:
            L = b - a + 1
            ars = f["ARS"][a - s0 : b - s0 + 1]
            car = np.where(np.isfinite(ars).all(axis=0), ars.sum(axis=0), np.nan)
            if self._model == "market_adjusted":
                q = np.zeros(len(self._firms))
            else:
                q = L**2 / m
                if f["xbar"] is not None and f["xbar"].shape[-1] > 0:
                    x = self._XS[a - s0 : b - s0 + 1]  # (L,F)
                    c = x.sum(axis=0)[None, :] - L * f["xbar"]  # (N,F)
                    q = q + np.einsum("nf,nfh,nh->n", c, f["Sinv"], c)
            se = np.sqrt(f["sigma2"] * (L + q))
            t = car / se
            p = _p_t(t, m - k)
            for key, val in (("window", np.full(keep.sum(), window_label((a, b)), dtype=object)), ("firm", firms),
                             ("car", car[keep]), ("std_error", se[keep]), ("statistic", t[keep]),
                             ("p_value", p[keep]), ("df", (m[keep] - k).astype(np.int64))):
                cols[key].append(val)
        return pd.DataFrame({key: np.concatenate(v) for key, v in cols.items()})

    # ------------------------------------------------------------------ tests
    @_cached
    def tests(self) -> pd.DataFrame:
        """The battery, tidy: one row per (window, test); columns window, test, statistic, p_value, n."""
        return self._tidy("windows")

    @_cached
    def daily_tests(self) -> pd.DataFrame:
        """The battery on each day of the span (one-day windows), columns of :attr:`tests` plus ``day``."""
        return self._tidy("days")

    @_cached
    def mean_residual_correlation(self) -> pd.Series:
        """r̄ (Kolari-Pynnönen) of each window's firm set."""
        _, extra, wins, _ = self._computed
        return pd.Series(extra["rbar"][: len(wins)], index=pd.Index(self.windows, name="window"), name="rbar")

    # ------------------------------------------------------------------ output
    def to_frame(self) -> pd.DataFrame:
        """:attr:`tests` with the event date, model and window CAAR: one row per (window, test)."""
        df = self.tests.copy()
        df.insert(0, "event_date", self._event_date)
        df.insert(1, "model", self._model)
        df["caar"] = df["window"].map(self.caar)
        return df

    def pivot(self, value: str = "statistic") -> pd.DataFrame:
        """:attr:`tests` as a window x test table of ``value`` ("statistic", "p_value" or "n")."""
        t = self.tests.pivot(index="window", columns="test", values=value)
        return t.loc[self.windows, list(TESTS)]

    def summary(self) -> str:
        """A text table: the setup, CAAR per window and every test's statistic and p-value."""
        lines = [
            f"Event study: day 0 = {self._event_date.date()}, model = {self._model}, "
            f"estimation window {self._estimation_window}",
            f"Firms ({len(self.firms)}): {', '.join(self.firms)}",
        ]
        if self._excluded:
            lines.append("Excluded: " + "; ".join(f"{k} ({v})" for k, v in self._excluded.items()))
        lines.append("")
        cw = 12
        head = f"{'window':<10}{'CAAR':>{cw}}{'n':>4}  " + "".join(f"{w:>{cw}}" for w in self.windows)
        lines.append("CAAR by window")
        lines.append(f"{'':<10}" + "".join(f"{w:>{cw}}" for w in self.windows))
        lines.append(f"{'CAAR':<10}" + "".join(f"{_fmt(self.caar[w], '.4%'):>{cw}}" for w in self.windows))
        del head
        lines.append("")
        lines.append(f"{'test':<20}{'window':>9}{'statistic':>12}{'p-value':>10}{'n':>5}")
        lines.append("-" * 56)
        for r in self.tests.itertuples(index=False):
            lines.append(f"{r.test:<20}{r.window:>9}{_fmt(r.statistic):>12}{_fmt(r.p_value):>10}{r.n:>5}")
        lines.append("")
        lines.append("p: two-sided; t tests t(N-1) (crude: t(m-1)); z tests N(0,1); wilcoxon exact "
                     "for n<=50; placebo empirical. With N = 4-6 firms the placebo p is the honest one.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (f"<EventStudyResult {self._event_date.date()} model={self._model} "
                f"firms={len(self.firms)} windows={self.windows}>")

    def _repr_html_(self) -> str:
        stat = self.pivot("statistic")
        p = self.pivot("p_value")
        tab = stat.map(lambda v: _fmt(v, ".3f")) + " (" + p.map(lambda v: _fmt(v, ".3f")) + ")"
        tab.insert(0, "CAAR", self.caar.map(lambda v: _fmt(v, ".3%")))
        head = (f"<p><b>Event study</b>: day 0 = {self._event_date.date()}, model = {self._model}, "
                f"{len(self.firms)} firms; statistic (p-value)</p>")
        return head + tab.to_html()

    def plot(self, ax=None, level: float = 0.95, **kwargs):
        """The CAAR path with a confidence band (see :func:`analysis.plots.plot_caar`); returns the Figure."""
        from .plots import plot_caar

        return plot_caar(self, ax=ax, level=level, **kwargs)

    # ------------------------------------------------------------------ JSON
    def to_json(self, path=None) -> str:
        """JSON with the inputs (enough to rebuild the result) and the main tables; see :func:`from_json`."""
        pos = self._returns.index.get_loc(self._event_date)
        lo = min(self._estimation_window[0], self._span[0])
        hi = max(self._estimation_window[1], self._span[1])
        rows = self._returns.iloc[pos + lo : pos + hi + 1]
        doc = {
            "schema": JSON_SCHEMA,
            "config": {
                "event_date": self._event_date.isoformat(),
                "estimation_window": list(self._estimation_window),
                "event_windows": [list(w) for w in self._event_windows],
                "model": self._model,
                "min_estimation_obs": self._min_obs,
            },
            "inputs": {
                "dates": [d.isoformat() for d in rows.index],
                "returns": {str(c): _floats(rows[c]) for c in rows.columns},
                "market": _market_json(self._market, rows.index),
            },
            "results": {
                "excluded": self._excluded,
                "params": _table_json(self.params.reset_index()),
                "caar": {k: _f(v) for k, v in self.caar.items()},
                "car": _table_json(self.car.reset_index()),
                "tests": _table_json(self.tests),
                "daily_tests": _table_json(self.daily_tests),
            },
        }
        text = json.dumps(doc, allow_nan=False)
        if path is not None:
            from pathlib import Path

            Path(path).write_text(text)
        return text

    @classmethod
    def from_json(cls, text) -> "EventStudyResult":
        """Rebuild a result from :meth:`to_json` output (a string, or a path to a file)."""
        return from_json(text)


def _f(v):
    v = float(v)
    return v if math.isfinite(v) else None


def _floats(s):
    return [_f(v) for v in np.asarray(s, dtype=float)]


def _table_json(df):
    out = {}
    for c in df.columns:
        col = df[c]
        if pd.api.types.is_float_dtype(col):
            out[str(c)] = _floats(col)
        elif pd.api.types.is_integer_dtype(col):
            out[str(c)] = [int(v) for v in col]
        else:
            out[str(c)] = [str(v) for v in col]
    return out


def _market_json(market, index):
    if market is None:
        return None
    if isinstance(market, pd.Series):
        return {"kind": "series", "name": None if market.name is None else str(market.name),
                "values": _floats(market.reindex(index))}
    frame = market.reindex(index)
    return {"kind": "frame", "columns": {str(c): _floats(frame[c]) for c in frame.columns}}


def from_json(text) -> EventStudyResult:
    """Rebuild an :class:`EventStudyResult` from :meth:`EventStudyResult.to_json` output.

    The stored inputs are re-estimated (deterministically), so every property of the
    rebuilt result equals the original's.
    """
    if not isinstance(text, str) or not text.lstrip().startswith("{"):
        from pathlib import Path

        text = Path(text).read_text()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventStudyError(f"not event-study JSON: {exc}") from None
    if doc.get("schema") != JSON_SCHEMA:
        raise EventStudyError(f"unknown event-study JSON schema {doc.get('schema')!r}: expected {JSON_SCHEMA!r}")
    cfg, inp = doc["config"], doc["inputs"]
    idx = pd.DatetimeIndex(pd.to_datetime(inp["dates"]), name="date")
    nan = lambda vs: [np.nan if v is None else v for v in vs]  # noqa: E731
    returns = pd.DataFrame({c: nan(v) for c, v in inp["returns"].items()}, index=idx, dtype=float)
    returns.columns.name = "ticker"
    mk = inp["market"]
    if mk is None:
        market = None
    elif mk["kind"] == "series":
        market = pd.Series(nan(mk["values"]), index=idx, name=mk["name"], dtype=float)
    else:
        market = pd.DataFrame({c: nan(v) for c, v in mk["columns"].items()}, index=idx, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EventStudyWarning)
        return event_study(
            returns, market, cfg["event_date"],
            estimation_window=tuple(cfg["estimation_window"]),
            event_windows=tuple(tuple(w) for w in cfg["event_windows"]),
            model=cfg["model"], min_estimation_obs=cfg["min_estimation_obs"],
        )


# =========================================================================== groups
class GroupComparison:
    """Treated minus control: the equal-weight long-short portfolio of abnormal returns.

    ``LS_t = mean_{treated} AR_t - mean_{control} AR_t`` (each mean over the group's firms
    observed that day), on the estimation window and the event span. Per window:
    ``diff = Σ_{t∈w} LS_t = caar_treated - caar_control`` (each group CAAR being its
    equal-weight portfolio CAR), the Brown-Warner (1985) crude-dependence t
    ``diff / (sd(LS over estimation, n-1)·√L)`` with p from t(m - 1), and the placebo p
    of ``diff`` against every same-length pseudo-event in the estimation window,
    ``(1 + #{|pseudo| ≥ |diff|}) / (1 + #pseudo)`` -- the honest test for a handful of
    firms. Both tests are portfolio-level, so the firms' cross-correlation is absorbed.
    """

    def __init__(self, *, event_date, treated, control, table, path, sd, m, windows):
        self._event_date = event_date
        self._treated = list(treated)
        self._control = list(control)
        self._table = table
        self._path = path
        self._sd = sd
        self._m = m
        self._windows = windows

    @property
    def event_date(self) -> pd.Timestamp:
        """Day 0 of the underlying study."""
        return self._event_date

    @property
    def treated(self) -> list[str]:
        """Treated firms used."""
        return list(self._treated)

    @property
    def control(self) -> list[str]:
        """Control firms used."""
        return list(self._control)

    @property
    def table(self) -> pd.DataFrame:
        """One row per window (see :meth:`to_frame`)."""
        return self._table.copy()

    @property
    def caar_path(self) -> pd.DataFrame:
        """Cumulated daily portfolio ARs over the span: columns treated, control, diff."""
        return self._path.copy()

    def caar_band(self, level: float = 0.95) -> pd.DataFrame:
        """Band of the ``diff`` path: ±t(m-1)·sd(LS)·√(days cumulated)."""
        q = t_quantile(0.5 + level / 2.0, self._m - 1)
        half = q * self._sd * np.sqrt(np.arange(1, len(self._path) + 1))
        d = self._path["diff"]
        return pd.DataFrame({"lower": d - half, "upper": d + half}, index=self._path.index)

    def to_frame(self) -> pd.DataFrame:
        """Columns window, caar_treated, caar_control, diff, t_crude_dependence, p_crude_dependence, p_placebo, n_treated, n_control."""
        return self._table.copy()

    def summary(self) -> str:
        """A text table of the group CAARs, their difference and its tests."""
        lines = [
            f"Treated minus control, day 0 = {self._event_date.date()}",
            f"treated: {', '.join(self._treated)}; control: {', '.join(self._control)}",
            "",
            f"{'window':<9}{'treated':>10}{'control':>10}{'diff':>10}{'t_crude':>9}{'p_crude':>9}{'p_placebo':>10}",
        ]
        for r in self._table.itertuples(index=False):
            lines.append(
                f"{r.window:<9}{_fmt(r.caar_treated, '.3%'):>10}{_fmt(r.caar_control, '.3%'):>10}"
                f"{_fmt(r.diff, '.3%'):>10}{_fmt(r.t_crude_dependence, '.3f'):>9}"
                f"{_fmt(r.p_crude_dependence, '.3f'):>9}{_fmt(r.p_placebo, '.3f'):>10}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return self._table.to_html(index=False)

    def plot(self, ax=None, level: float = 0.95, **kwargs):
        """The two group CAAR paths and their difference with a band; returns the Figure."""
        from .plots import plot_caar

        return plot_caar(self, ax=ax, level=level, **kwargs)


def compare_groups(res: EventStudyResult, treated, control) -> GroupComparison:
    """Test treated minus control CAAR with the long-short portfolio; see :class:`GroupComparison`.

    Firms excluded from ``res`` are dropped from their group (a warning names them);
    unknown firms, overlapping groups or an empty group raise :class:`EventStudyError`.
    """
    treated, control = list(treated), list(control)
    known = set(res._firms)
    unknown = [f for f in treated + control if f not in known]
    if unknown:
        raise EventStudyError(f"firms {unknown} are not in the event study (its firms: {res._firms})")
    both = sorted(set(treated) & set(control))
    if both:
        raise EventStudyError(f"firms {both} are in both groups: put each firm in one group")
    dropped = [f for f in treated + control if f in res._excluded]
    if dropped:
        warnings.warn(f"compare_groups: {dropped} were excluded from the study and are dropped", EventStudyWarning,
                      stacklevel=2)
    treated = [f for f in treated if f not in res._excluded]
    control = [f for f in control if f not in res._excluded]
    if not treated or not control:
        raise EventStudyError(
            f"an empty group after exclusions (treated={treated}, control={control}): give at least one "
            "estimated firm per group"
        )
    ARE, AR = res.ar_estimation, res.ar
    gE = ARE[treated].mean(axis=1) - ARE[control].mean(axis=1)
    gS_t, gS_c = AR[treated].mean(axis=1), AR[control].mean(axis=1)
    ls = gS_t - gS_c
    E = gE.dropna().to_numpy()
    m = len(E)
    sd = float(E.std(ddof=1))
    csE = np.concatenate([[0.0], np.cumsum(np.nan_to_num(gE.to_numpy()))])
    cnE = np.concatenate([[0], np.cumsum(gE.notna().to_numpy())])
    recs = []
    for a, b in res.event_windows:
        L = b - a + 1
        sl = slice(a, b)
        ct, cc, d = gS_t.loc[sl].sum(min_count=L), gS_c.loc[sl].sum(min_count=L), ls.loc[sl].sum(min_count=L)
        t = d / (sd * math.sqrt(L))
        p_crude = p_t(t, m - 1)
        S = csE[L:] - csE[:-L]
        ok = (cnE[L:] - cnE[:-L]) == L
        p_pl = (1 + int(((np.abs(S) >= abs(d)) & ok).sum())) / (1 + int(ok.sum())) if np.isfinite(d) else np.nan
        n_t = int(AR.loc[sl, treated].notna().all(axis=0).sum())
        n_c = int(AR.loc[sl, control].notna().all(axis=0).sum())
        recs.append((window_label((a, b)), ct, cc, d, t, p_crude, p_pl, n_t, n_c))
    table = pd.DataFrame.from_records(recs, columns=[
        "window", "caar_treated", "caar_control", "diff", "t_crude_dependence", "p_crude_dependence",
        "p_placebo", "n_treated", "n_control"])
    path = pd.DataFrame({"treated": gS_t.cumsum(), "control": gS_c.cumsum(), "diff": ls.cumsum()}, index=AR.index)
    return GroupComparison(event_date=res.event_date, treated=treated, control=control, table=table,
                           path=path, sd=sd, m=m, windows=res.windows)
