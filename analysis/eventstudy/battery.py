"""The test battery on arrays: every test of :mod:`analysis.eventstudy` for every window at once.

Pure numpy on the arrays of :mod:`analysis.eventstudy.models` (leading batch axis G).
The statistics, their conventions and citations are documented in the package
docstring (:mod:`analysis.eventstudy`); this module holds their vectorized form and the
helpers they share (window sums by cumulative sums, averaged ranks, pairwise
correlations, the exact Wilcoxon null distribution).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..distributions import p_norm, p_t

#: The test names, in the order of :attr:`EventStudyResult.tests`.
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
_WILCOXON_EXACT_MAX = 50


def portfolio_sd(series) -> tuple[float, int]:
    """Brown-Warner (1985) crude-dependence sd of a portfolio's daily abnormal return.

    Parameters
    ----------
    series : Series or array
        The portfolio's abnormal return on each estimation-window day (NaN: no firm
        observed that day; dropped).

    Returns
    -------
    (float, int)
        The sample standard deviation (n - 1 degrees of freedom) of the valid days and
        their number ``m``; a k-day CAAR then has standard error ``sd * sqrt(k)`` and its
        t statistic ``m - 1`` degrees of freedom.

    Examples
    --------
    >>> sd, m = portfolio_sd([0.01, -0.01, 0.02, float("nan")])
    >>> round(sd, 6), m
    (0.015275, 3)
    """
    a = np.asarray(series, dtype=float)
    a = a[np.isfinite(a)]
    m = int(a.size)
    return (float(a.std(ddof=1)) if m > 1 else float("nan")), m


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


def _mask_groups(Pf):
    """For each batch g, the distinct firm masks of P's columns and the rows using each."""
    groups = []
    for g in range(Pf.shape[0]):
        seen = {}
        M = Pf[g].T > 0  # (R, N)
        for r in range(M.shape[0]):
            seen.setdefault(np.packbits(M[r]).tobytes(), (M[r], []))[1].append(r)
        groups.append([(m, np.array(rs)) for m, rs in seen.values()])
    return groups


def _mask_sums(A, groups, sl=slice(None)):
    """``Σ_i A[g, ..., i]·P[g, i, r]`` for every row r, P given by :func:`_mask_groups`.

    ``A`` (G, ..., n) holds the firms ``sl`` of P; returns (G, ..., R). Rows sharing a
    firm mask share one reduction (usually all rows use every firm): a plain sum over
    the contiguous firm axis, no BLAS call.
    """
    R = sum(len(rs) for _, rs in groups[0])
    out = np.empty(A.shape[:-1] + (R,))
    for g, grp in enumerate(groups):
        for mask, rs in grp:
            m = mask[sl]
            if m.all():
                red = A[g].sum(axis=-1)
            elif not m.any():
                red = np.zeros(A.shape[1:-1])
            else:
                red = A[g][..., m].sum(axis=-1)
            out[g][..., rs] = red[..., None]
    return out


def _corrado(ARE, ARS, rows, Pf, ranked=None, block=256):
    """Corrado rank statistic of every row, and its S(K).

    ``ranked[r] = (s0, s1)`` (indices into the event span) are the event days row r ranks
    together with the estimation window: the row's own days for a window (Cowan 1992,
    the default when ``ranked`` is None), so a window's statistic never depends on the
    other rows; the whole daily span for the daily rows (Corrado 1989). ``Pf`` (G,N,R)
    is each row's firm set. Returns (z, SK), each (G,R).

    No ranking per row: with the estimation values ranked once, the centred rank of a
    value in the estimation window plus a set w of event days is
    ``U = K_E - (T_E + 1)/2 + ½·Σ_{x∈w} sign(e - x)`` for an estimation value e and
    ``U = ½·Σ_{e∈E} sign(x - e) + ½·Σ_{x'∈w} sign(x - x')`` for an event value x (ties
    averaged, missing values count 0), which is exactly the average rank minus
    (T + 1)/2, a half-integer, so every sum below is exact in any order. The signs
    are computed once for all rows, in blocks of firms that stay in cache.
    """
    G, Te, N = ARE.shape
    R = len(rows)
    ranked = list(rows) if ranked is None else [tuple(r) for r in ranked]
    lo, hi = min(a for a, _ in ranked), max(b for _, b in ranked)
    D = hi - lo + 1
    C = np.zeros((D, R))
    for r, (a, b) in enumerate(ranked):
        C[a - lo : b - lo + 1, r] = 1.0
    ME = np.isfinite(ARE)
    X = ARS[:, lo : hi + 1, :]
    MX = np.isfinite(X)
    UE0 = np.where(ME, _rank_avg(ARE, axis=1) - (ME.sum(axis=1)[:, None, :] + 1) / 2.0, 0.0)
    groups = _mask_groups(Pf)
    numE = _mask_sums(UE0, groups)  # (G,Te,R)
    denE = _mask_sums(ME.astype(float), groups)
    B = np.empty((G, D, N))  # Σ_t sign(x_j - e_t) over estimation days t
    for j0 in range(0, N, block):
        sl = slice(j0, min(j0 + block, N))
        # sign(e - x) = [e > x] - [e < x], both False (0) when either value is missing
        gt = np.greater(ARE[:, :, None, sl], X[:, None, :, sl])  # (G,Te,D,b) booleans
        lt = np.less(ARE[:, :, None, sl], X[:, None, :, sl])
        sg = gt.view(np.int8) - lt.view(np.int8)  # small integers: every sum below is exact
        B[:, :, sl] = -sg.sum(axis=1, dtype=np.int32)
        numE += 0.5 * np.einsum("gtdr,dr->gtr", _mask_sums(sg, groups, sl), C)
    dX = X[:, :, None, :] - X[:, None, :, :]  # (G,D,D,N)
    pair = np.greater(dX, 0).astype(float) - np.less(dX, 0)  # sign(x_j - x_j'), 0 if missing
    own = np.zeros((D, R))  # the row's own days, inside its ranked days
    for r, (i0, i1) in enumerate(rows):
        own[i0 - lo : i1 - lo + 1, r] = 1.0
    MXf = MX.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        UbE = numE / denE  # (G,Te,R)
        # event day j of row r: ½·Σ_t sign(x_j - e_t) + ½·Σ_{j' ranked by r} sign(x_j - x_j')
        US = np.where(MX[:, :, None, :], 0.5 * B[:, :, None, :] + 0.5 * np.einsum("gjkn,kr->gjrn", pair, C), 0.0)
        UbS = np.einsum("gjrn,gnr->gjr", US, Pf) / np.einsum("gjn,gnr->gjr", MXf, Pf)  # (G,D,R)
        UbS = np.where(C[None] > 0, UbS, np.nan)  # only the row's ranked days
        TK = np.isfinite(UbE).sum(axis=1) + np.isfinite(UbS).sum(axis=1)
        SK = np.sqrt((np.nansum(UbE**2, axis=1) + np.nansum(UbS**2, axis=1)) / TK)
        usum = np.nansum(np.where(own[None] > 0, UbS, np.nan), axis=1)
        L = own.sum(axis=0)
        z = usum / (np.sqrt(L)[None, :] * SK)
    return z, SK


SCARS = ("exact", "sum")


def _battery(fit, rows, L, *, scar="exact", rank_span=None, ranked=None):
    """Every test on every row.

    ``rows``: list of (i0, i1) indices into the event span; ``L``: their lengths.
    ``scar``: the window standardizer of Patell and BMP, ``"exact"`` (CAR over its own
    prediction-error sd) or ``"sum"`` (ΣSAR/√L). Corrado's ranked event days per row
    (see :func:`_corrado`): ``ranked`` (one (s0, s1) per row), else ``rank_span`` for
    every row, else each row's own days.
    Returns dict test -> (statistic, p, n), each (G,R), plus CAAR, CAR (G,N,R), P, ...
    """
    from .models import car_variance_factor

    if scar not in SCARS:
        raise ValueError(f"scar must be one of {SCARS}, got {scar!r}")
    ARE, ARS, h, sigma2, m, k = fit["ARE"], fit["ARS"], fit["h"], fit["sigma2"], fit["m"], fit["k"]
    Lf = np.asarray(L, dtype=float)
    sqL = np.sqrt(Lf)
    CAR, cnt = _window_sums(ARS, rows)
    P = cnt == np.asarray(L)[None, None, :]
    Pf = P.astype(float)
    N = Pf.sum(axis=1)  # (G,R)
    CAR = np.where(P, CAR, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        if scar == "exact":
            V = car_variance_factor(fit, rows, L)  # (G,N,R): L + 1'X_w(X'X)^-1X_w'1
            SCAR = np.where(P, CAR / np.sqrt(sigma2[:, :, None] * V), np.nan)
        else:
            SARS = ARS / np.sqrt(sigma2[:, None, :] * (1.0 + h))
            SSUM, _ = _window_sums(SARS, rows)
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

        if ranked is None and rank_span is not None:
            ranked = [tuple(rank_span)] * len(rows)
        z_c, SK = _corrado(ARE, ARS, rows, Pf, ranked)
        out["corrado_rank"] = (z_c, p_norm(z_c), N)

        pos = np.einsum("gn,gnr->gr", (ARE > 0).sum(axis=1).astype(float), Pf)
        tot = np.einsum("gn,gnr->gr", ME.sum(axis=1).astype(float), Pf)
        phat = pos / tot
        w = np.where(P, CAR > 0, False).sum(axis=1)
        z_s = (w - N * phat) / np.sqrt(N * phat * (1 - phat))
        out["generalized_sign"] = (z_s, p_norm(z_s), N)

        W, pw, nw = _wilcoxon(CAR, P)
        out["wilcoxon"] = (W, pw, nw.astype(float))

        out["placebo"] = (CAAR, _placebo_p(A, CAAR, L), N)
    extra = dict(CAAR=CAAR, CAR=CAR, SCAR=SCAR, P=P, N=N, sdA=sdA, mA=mA, rbar=rbar, SK=SK, phat=phat, A=A)
    return out, extra


def _placebo_p(A, stat, L):
    """Empirical two-sided p of ``stat`` (G,R) against the sums of A (G,Te,R) over every L-day stretch.

    ``p = (1 + #{|S| >= |stat|}) / (1 + #stretches)``, stretches with a NaN day skipped.
    """
    G, Te, R = A.shape
    pp = np.full(stat.shape, np.nan)
    A0 = np.where(np.isfinite(A), A, 0.0)
    csA = np.concatenate([np.zeros_like(A0[:, :1]), np.cumsum(A0, axis=1)], axis=1)
    cnA = np.concatenate([np.zeros((G, 1, R), dtype=int), np.cumsum(np.isfinite(A), axis=1)], axis=1)
    for Lv in np.unique(L):
        cols = np.nonzero(np.asarray(L) == Lv)[0]
        if Lv > Te:
            continue
        S = csA[:, Lv:, :][:, :, cols] - csA[:, :-Lv, :][:, :, cols]  # (G,Te-L+1,c)
        ok = (cnA[:, Lv:, :][:, :, cols] - cnA[:, :-Lv, :][:, :, cols]) == Lv
        ev = np.abs(stat[:, cols])[:, None, :]
        hits = ((np.abs(S) >= ev) & ok).sum(axis=1)
        npse = ok.sum(axis=1)
        pp[:, cols] = (1.0 + hits) / (1.0 + npse)
    pp[~np.isfinite(stat)] = np.nan
    return pp
