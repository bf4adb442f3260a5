"""An independent, deliberately plain implementation of the event-study formulas.

Written from the conventions in issue 3 / the ``analysis.eventstudy`` docstring, one firm
and one day at a time with Python loops, statsmodels OLS for the regressions and
``math``/``scipy.stats`` for distributions -- no code shared with the engine. The tests
compare the engine with it to 1e-10. Slow on purpose; use it on small panels only.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats


def _finite(v):
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def fit_firm(y, X, model):
    """Fit one firm on its valid estimation rows. y: list, X: list of regressor tuples.

    Returns dict(alpha, beta(list), sigma2, m, k, r2, predict(x) -> normal return,
    h(x) -> leverage, resid(list aligned with y, NaN where invalid)).
    """
    rows = [i for i in range(len(y)) if _finite(y[i]) and all(_finite(v) for v in X[i])]
    m = len(rows)
    yv = np.array([y[i] for i in rows])
    if model == "market_adjusted":
        resid = {i: y[i] - X[i][0] for i in rows}
        ssr = sum(e * e for e in resid.values())
        return dict(alpha=0.0, beta=[1.0], sigma2=ssr / m, m=m, k=0, r2=float("nan"),
                    predict=lambda x: x[0], h=lambda x: 0.0,
                    resid=[resid.get(i, float("nan")) for i in range(len(y))])
    F = 0 if model == "constant_mean" else len(X[0])
    D = np.array([[1.0] + [float(v) for v in X[i][:F]] for i in rows])
    ols = sm.OLS(yv, D).fit()
    b = ols.params
    XtX_inv = np.linalg.inv(D.T @ D)
    k = 1 + F
    resid = {i: y[i] - float(D[j] @ b) for j, i in enumerate(rows)}

    def predict(x):
        return float(b[0] + sum(b[1 + f] * x[f] for f in range(F)))

    def h(x):
        d = np.array([1.0] + [float(v) for v in x[:F]])
        return float(d @ XtX_inv @ d)

    return dict(alpha=float(b[0]), beta=[float(v) for v in b[1:]], sigma2=ols.ssr / (m - k), m=m, k=k,
                r2=float(ols.rsquared), predict=predict, h=h, XtX_inv=XtX_inv, ols=ols,
                resid=[resid.get(i, float("nan")) for i in range(len(y))])


def mean(xs):
    return sum(xs) / len(xs)


def sd(xs):
    mu = mean(xs)
    return math.sqrt(sum((x - mu) ** 2 for x in xs) / (len(xs) - 1))


def avg_ranks(values):
    """Ranks 1..n of a list, ties averaged."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for q in range(i, j + 1):
            ranks[order[q]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def pearson(a, b):
    pairs = [(x, y) for x, y in zip(a, b) if _finite(x) and _finite(y)]
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    mx, my = mean(xs), mean(ys)
    num = sum((x - mx) * (y - my) for x, y in pairs)
    return num / math.sqrt(sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys))


def wilcoxon_exact_p(wplus, n):
    """Two-sided exact p by enumerating all 2^n sign patterns (n small)."""
    total = n * (n + 1) / 2
    le = ge = 0
    for signs in itertools.product((0, 1), repeat=n):
        w = sum(r + 1 for r, s in enumerate(signs) if s)
        le += w <= wplus + 1e-9
        ge += w >= wplus - 1e-9
    del total
    return min(1.0, 2 * min(le, ge) / 2**n)


def reference(returns, market, event_date, estimation_window=(-250, -11),
              event_windows=((-1, 1), (0, 0), (0, 1), (0, 5), (-5, 5)), model="market", min_estimation_obs=120,
              daily_span=None, scar="exact", corrado="window"):
    """Everything the engine reports, by loops. Returns a dict of plain structures.

    ``scar="exact"``: Patell/BMP standardize each CAR by sqrt(σ̂²·L + 1'X_w V X_w'1), V the
    statsmodels ``cov_params()`` (MacKinlay 1997 eq. 15); ``"sum"``: ΣSAR/√L.
    ``corrado="window"``: each window ranks the estimation days plus its own days (Cowan
    1992) and the daily rows rank the estimation days plus the whole ``daily_span``;
    ``"span"``: every row ranks the estimation days plus the whole span of the windows
    (the engine's convention before 2026-12).
    """
    idx = list(returns.index)
    pos = idx.index(pd.Timestamp(event_date))
    ea, eb = estimation_window
    if daily_span is None:
        daily_span = (min(a for a, _ in event_windows), max(b for _, b in event_windows))
    s0 = min([a for a, _ in event_windows] + [daily_span[0]])
    s1 = max([b for _, b in event_windows] + [daily_span[1]])
    est_days = list(range(ea, eb + 1))
    span_days = list(range(s0, s1 + 1))
    daily_days = list(range(daily_span[0], daily_span[1] + 1))
    win_span = (min(a for a, _ in event_windows), max(b for _, b in event_windows))
    if model == "constant_mean":
        xcols = []
    elif isinstance(market, pd.Series):
        xcols = [market.reindex(returns.index)]
    else:
        xcols = [market.reindex(returns.index)[c] for c in market.columns]

    def x_at(d):
        return tuple(float(c.iloc[pos + d]) for c in xcols)

    firms, fits, ARE, ARS, SARS = [], {}, {}, {}, {}
    for f in returns.columns:
        y = [float(returns[f].iloc[pos + d]) for d in est_days]
        X = [x_at(d) for d in est_days]
        nvalid = sum(1 for i in range(len(y)) if _finite(y[i]) and all(_finite(v) for v in X[i]))
        if nvalid < min_estimation_obs:
            continue
        firms.append(f)
        fit = fit_firm(y, X, model)
        fits[f] = fit
        ARE[f] = dict(zip(est_days, fit["resid"]))
        ARS[f], SARS[f] = {}, {}
        for d in span_days:
            r = float(returns[f].iloc[pos + d])
            x = x_at(d)
            if _finite(r) and all(_finite(v) for v in x):
                ar = r - fit["predict"](x)
                ARS[f][d] = ar
                SARS[f][d] = ar / math.sqrt(fit["sigma2"] * (1 + fit["h"](x)))
            else:
                ARS[f][d] = SARS[f][d] = float("nan")

    def centred_ranks(ranked_days):
        """Corrado's U_it per firm: ranks over the estimation days plus ``ranked_days``, centred."""
        U = {}
        for f in firms:
            days = [d for d in est_days + list(ranked_days) if _finite((ARE[f] | ARS[f])[d])]
            vals = [(ARE[f] | ARS[f])[d] for d in days]
            ranks = avg_ranks(vals)
            T = len(vals)
            U[f] = {d: r - (T + 1) / 2 for d, r in zip(days, ranks)}
        return U, list(ranked_days)

    def car_sd(f, wdays):
        """sd of a CAR of prediction errors over wdays: sqrt(σ̂²L + 1'X_w cov_params X_w'1)."""
        fit = fits[f]
        L = len(wdays)
        if model == "market_adjusted":
            return math.sqrt(fit["sigma2"] * L)
        F = len(fit["beta"])
        Xw = np.array([[1.0] + list(x_at(d)[:F]) for d in wdays])
        one = np.ones(L)
        V = np.asarray(fit["ols"].cov_params())
        return math.sqrt(fit["sigma2"] * L + float(one @ Xw @ V @ Xw.T @ one))

    def battery(a, b, ranked=None):
        L = b - a + 1
        wdays = list(range(a, b + 1))
        S = [f for f in firms if all(_finite(ARS[f][d]) for d in wdays)]
        N = len(S)
        car = {f: sum(ARS[f][d] for d in wdays) for f in S}
        if scar == "exact":
            scar_ = {f: car[f] / car_sd(f, wdays) for f in S}
        else:
            scar_ = {f: sum(SARS[f][d] for d in wdays) / math.sqrt(L) for f in S}
        U, rdays = ranked
        out = {}
        cars = [car[f] for f in S]
        caar = mean(cars)
        t = math.sqrt(N) * caar / sd(cars)
        out["t_cross_sectional"] = (t, 2 * stats.t.sf(abs(t), N - 1), N)
        # crude dependence
        A = []
        for d in est_days:
            v = [ARE[f][d] for f in S if _finite(ARE[f][d])]
            if v:
                A.append(mean(v))
        t = caar / (sd(A) * math.sqrt(L))
        out["t_crude_dependence"] = (t, 2 * stats.t.sf(abs(t), len(A) - 1), N)
        # Patell
        k = fits[S[0]]["k"]
        z = sum(scar_.values()) / math.sqrt(sum((fits[f]["m"] - k) / (fits[f]["m"] - k - 2) for f in S))
        out["patell_z"] = (z, 2 * stats.norm.sf(abs(z)), N)
        sc = [scar_[f] for f in S]
        bmp = math.sqrt(N) * mean(sc) / sd(sc)
        out["bmp"] = (bmp, 2 * stats.t.sf(abs(bmp), N - 1), N)
        cors = []
        for i, j in itertools.permutations(S, 2):
            cors.append(pearson([ARE[i][d] for d in est_days], [ARE[j][d] for d in est_days]))
        rbar = mean(cors)
        adj = math.sqrt((1 - rbar) / (1 + (N - 1) * rbar))
        out["patell_z_kp"] = (z * adj, 2 * stats.norm.sf(abs(z * adj)), N)
        out["bmp_kp"] = (bmp * adj, 2 * stats.t.sf(abs(bmp * adj), N - 1), N)
        rbars[(a, b)] = rbar
        # Corrado
        ubar = {}
        for d in est_days + rdays:
            v = [U[f][d] for f in S if d in U[f]]
            if v:
                ubar[d] = mean(v)
        SK = math.sqrt(sum(u * u for u in ubar.values()) / len(ubar))
        z = math.sqrt(L) * mean([ubar[d] for d in wdays]) / SK
        out["corrado_rank"] = (z, 2 * stats.norm.sf(abs(z)), N)
        # generalized sign
        pos_n = sum(1 for f in S for d in est_days if _finite(ARE[f][d]) and ARE[f][d] > 0)
        tot = sum(1 for f in S for d in est_days if _finite(ARE[f][d]))
        ph = pos_n / tot
        w = sum(1 for f in S if car[f] > 0)
        z = (w - N * ph) / math.sqrt(N * ph * (1 - ph))
        out["generalized_sign"] = (z, 2 * stats.norm.sf(abs(z)), N)
        # Wilcoxon
        nz = [c for c in cars if c != 0]
        ranks = avg_ranks([abs(c) for c in nz])
        W = sum(r for r, c in zip(ranks, nz) if c > 0)
        n = len(nz)
        if n <= 12:
            p = wilcoxon_exact_p(W, n)
        else:
            p = float(stats.wilcoxon(nz, method="exact" if n <= 50 else "approx").pvalue)
        out["wilcoxon"] = (W, p, n)
        # placebo: Σ of the row's AAR over every same-length stretch of the estimation window
        Ad = {}
        for d in est_days:
            v = [ARE[f][d] for f in S if _finite(ARE[f][d])]
            if v:
                Ad[d] = mean(v)
        hits = npse = 0
        for st in range(ea, eb - L + 2):
            stretch = list(range(st, st + L))
            if all(d in Ad for d in stretch):
                npse += 1
                hits += abs(sum(Ad[d] for d in stretch)) >= abs(caar)
        out["placebo"] = (caar, (1 + hits) / (1 + npse), N)
        return out, car, caar

    rbars = {}
    if corrado == "window":
        daily_ranks = centred_ranks(daily_days)
    else:
        daily_ranks = centred_ranks(range(win_span[0], win_span[1] + 1))
    tests, cars, caars = {}, {}, {}
    for a, b in event_windows:
        lab = f"({a},{b})"
        ranked = centred_ranks(range(a, b + 1)) if corrado == "window" else daily_ranks
        tests[lab], cars[lab], caars[lab] = battery(a, b, ranked)
    daily = {d: battery(d, d, daily_ranks)[0] for d in daily_days}
    return dict(firms=firms, fits=fits, ARE=ARE, ARS=ARS, SARS=SARS, tests=tests, daily=daily, car=cars, caar=caars,
                rbar={f"({a},{b})": rbars[(a, b)] for a, b in event_windows}, est_days=est_days, span_days=span_days)


def reference_groups(ref, treated, control, event_windows, level=0.95):
    """Treated minus control by loops, under the one firm-set rule (independent of the engine).

    Per window: T, C = the group's firms with an AR on every day of the window; CAARs are
    mean CARs over T and C; LS_t on estimation day t = mean over T observed that day minus
    mean over C observed that day; the crude-dependence t and the placebo p of the diff.
    The path: firms with an AR on every day of the span, cumulated daily group means, and
    the null band 0 ± t_{m-1}(level)·sd(LS)·√k.
    """
    ARE, ARS, est_days, span_days = ref["ARE"], ref["ARS"], ref["est_days"], ref["span_days"]
    firms = ref["firms"]
    treated = [f for f in treated if f in firms]
    control = [f for f in control if f in firms]

    def ls_series(T, C):
        out = {}
        for d in est_days:
            vt = [ARE[f][d] for f in T if _finite(ARE[f][d])]
            vc = [ARE[f][d] for f in C if _finite(ARE[f][d])]
            if vt and vc:
                out[d] = mean(vt) - mean(vc)
        return out

    rows = {}
    for a, b in event_windows:
        L = b - a + 1
        wdays = list(range(a, b + 1))
        T = [f for f in treated if all(_finite(ARS[f][d]) for d in wdays)]
        C = [f for f in control if all(_finite(ARS[f][d]) for d in wdays)]
        ct = mean([sum(ARS[f][d] for d in wdays) for f in T])
        cc = mean([sum(ARS[f][d] for d in wdays) for f in C])
        diff = ct - cc
        ls = ls_series(T, C)
        vals = list(ls.values())
        t = diff / (sd(vals) * math.sqrt(L))
        p = 2 * stats.t.sf(abs(t), len(vals) - 1)
        hits = npse = 0
        for st in range(est_days[0], est_days[-1] - L + 2):
            stretch = list(range(st, st + L))
            if all(d in ls for d in stretch):
                npse += 1
                hits += abs(sum(ls[d] for d in stretch)) >= abs(diff)
        rows[f"({a},{b})"] = dict(caar_treated=ct, caar_control=cc, diff=diff, t_crude_dependence=t,
                                  p_crude_dependence=p, p_placebo=(1 + hits) / (1 + npse), n_treated=len(T),
                                  n_control=len(C))
    PT = [f for f in treated if all(_finite(ARS[f][d]) for d in span_days)]
    PC = [f for f in control if all(_finite(ARS[f][d]) for d in span_days)]
    path, acc = {}, [0.0, 0.0]
    for d in span_days:
        acc[0] += mean([ARS[f][d] for f in PT])
        acc[1] += mean([ARS[f][d] for f in PC])
        path[d] = (acc[0], acc[1], acc[0] - acc[1])
    vals = list(ls_series(PT, PC).values())
    q = stats.t.ppf(0.5 + level / 2, len(vals) - 1)
    band = {d: q * sd(vals) * math.sqrt(k + 1) for k, d in enumerate(span_days)}
    return dict(windows=rows, path=path, band=band, path_firms=(PT, PC))
