"""Synthetic control for one event date, with in-space inference (Abadie, Diamond & Hainmueller 2010).

Notation and method
-------------------
Relative days as in :mod:`analysis.windows`. ``y_t`` is the treated portfolio's daily
return (the equal-weighted mean of the treated firms' price returns), ``X_t`` the donors'
returns. The weights solve

    min_w ||y_pre - X_pre w||²   subject to   w_j >= 0,  sum_j w_j = 1,

over the estimation window (the pre-period, default ``(-250, -11)``): the convex hull
restriction of Abadie, Diamond & Hainmueller (2010, JASA 105, eq. 1-2), with the
pre-event outcome path itself as the predictors and the identity as ``V`` (the outcome is
a daily return, so lagged outcomes are the natural predictors). The synthetic return is
``X w`` and the gap ``y - X w``, reported from the first pre day to the last post day.
``RMSPE_pre`` and ``RMSPE_post`` are the root mean squared gaps over the estimation window
and the post window (default ``(0, 5)``); the statistic is ``RMSPE_post / RMSPE_pre``.

In-space inference (ADH 2010, sec. 2.4): each donor in turn is treated as if treated and
fitted on the other donors (the treated firms never serve as donors), giving a ratio per
donor; ``p = (1 + #{ratio_j >= ratio_T}) / (1 + n)``, the rank of the treated ratio among
all ``n + 1`` ratios.

The solver (:func:`simplex_weights`)
------------------------------------
scipy's ``nnls`` on the problem with the equality appended as a heavily weighted row
finds the support; the exact solution on that support then comes from the KKT system
``[X_S'X_S 1; 1' 0] [w_S; λ] = [X_S'y; 1]`` (Lawson & Hanson 1974, ch. 23, active-set
refinement). The result is accepted only if it passes the optimality conditions
(``w >= 0``, ``sum w = 1``, ``X_j'(y - X w) <= λ`` for every donor, equality on the
support); otherwise SLSQP (scipy) solves the problem directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .case import as_case
from .errors import DataError
from .windows import DEFAULT_ESTIMATION_WINDOW, parse_window, window_label, window_rows

_KKT_TOL = 1e-9


# --------------------------------------------------------------------------- the solver
def _kkt_ok(H, f, w, tol=_KKT_TOL) -> bool:
    """Optimality of ``w`` for min ½w'Hw - f'w on the simplex (scaled so that H has unit mean diagonal)."""
    if (w < -tol).any() or abs(w.sum() - 1.0) > tol:
        return False
    g = H @ w - f  # gradient; optimal iff g_j = -λ on the support and g_j >= -λ off it
    on = w > tol
    if not on.any():
        return False
    lam = -float(np.mean(g[on]))
    return bool(np.all(np.abs(g[on] + lam) <= tol * (1 + abs(lam))) and np.all(g[~on] + lam >= -tol * (1 + abs(lam))))


def _slsqp(H, f) -> np.ndarray:
    from scipy.optimize import minimize

    n = len(f)
    res = minimize(lambda w: 0.5 * w @ H @ w - f @ w, np.full(n, 1.0 / n), jac=lambda w: H @ w - f, method="SLSQP",
                   bounds=[(0.0, None)] * n, options={"ftol": 1e-16, "maxiter": 2000},
                   constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones(n)}])
    w = np.clip(res.x, 0.0, None)
    return w / w.sum()


def simplex_weights(X, y) -> np.ndarray:
    """Non-negative weights summing to one that minimize ``||y - X w||²``.

    Parameters
    ----------
    X : (T, n) array
        Donor series (no NaN).
    y : (T,) array
        The series to track.

    Returns
    -------
    ndarray
        ``(n,)`` weights, exact to machine precision on their support.

    Raises
    ------
    DataError
        NaN in ``X`` or ``y``, or no donor.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> simplex_weights(X, np.array([0.25, 0.75, 1.0])).round(12).tolist()
    [0.25, 0.75]
    """
    from scipy.optimize import nnls

    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or X.shape[1] == 0:
        raise DataError("synthetic control: no donor series")
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise DataError("synthetic control: missing values in the pre-period: drop the donor or the day")
    n = X.shape[1]
    # einsum, not BLAS: for these small Gram matrices a threaded dgemm only adds thread start-up and contention
    H, f = np.einsum("ti,tj->ij", X, X), np.einsum("ti,t->i", X, y)
    scale = float(np.mean(np.diag(H))) or 1.0
    H, f = H / scale, f / scale
    M = 1e4 * np.sqrt(scale)
    w0, _ = nnls(np.vstack([X, np.full((1, n), M)]), np.append(y, M), maxiter=50 * n)
    S = list(np.flatnonzero(w0 > 0))
    for _ in range(4 * n):
        if not S:
            break
        k = len(S)
        K = np.zeros((k + 1, k + 1))
        K[:k, :k], K[:k, k], K[k, :k] = H[np.ix_(S, S)], 1.0, 1.0
        try:
            sol = np.linalg.solve(K, np.append(f[S], 1.0))
        except np.linalg.LinAlgError:
            break
        if (sol[:k] <= 0).any():
            S.pop(int(np.argmin(sol[:k])))
            continue
        w = np.zeros(n)
        w[S] = sol[:k]
        mu = H @ w - f + sol[k]
        off = np.setdiff1d(np.arange(n), S)
        if off.size == 0 or mu[off].min() >= -_KKT_TOL * (1 + abs(sol[k])):
            if _kkt_ok(H, f, w):
                return w
            break
        S.append(int(off[np.argmin(mu[off])]))
    return _slsqp(H, f)


# --------------------------------------------------------------------------- the result
@dataclass(frozen=True, eq=False)
class SyntheticControl:
    """Result of :func:`synthetic_control`.

    Attributes
    ----------
    weights : Series
        Donor -> weight (non-negative, sum 1), largest first.
    gap : Series
        Relative day -> treated minus synthetic return.
    treated_path, synthetic_path : Series
        Relative day -> the treated portfolio's and the synthetic return.
    rmspe_pre, rmspe_post, ratio : float
        Root mean squared gap before and after, and post/pre.
    p_value : float
        In-space p: ``(1 + #{ratio_j >= ratio}) / (1 + n)``.
    placebo_ratios : Series
        Donor -> its ratio when treated as if treated.
    placebo_gaps : DataFrame
        Relative day x donor: each placebo's gap.
    treated, donors : tuple of str
    dropped : DataFrame
        firm, role, reason for every firm asked for and not used.
    estimation_window, post : str
    event_date : Timestamp

    Examples
    --------
    >>> from analysis.crosssection_suite import cross_section_returns
    >>> r, m = cross_section_returns(["NTR", "MOS", "IPI", "ICL", "KO", "PG", "XOM", "DOW", "LIN", "CAT", "JPM", "AAPL"],
    ...                              offline=True)
    >>> sc = synthetic_control(r, "2025-12-15")
    >>> sc.treated, round(float(sc.weights.sum()), 12), sc.weights.index[0]
    (('NTR', 'MOS', 'IPI', 'ICL'), 1.0, 'LIN')
    """

    weights: pd.Series
    gap: pd.Series = field(repr=False)
    treated_path: pd.Series = field(repr=False)
    synthetic_path: pd.Series = field(repr=False)
    rmspe_pre: float
    rmspe_post: float
    ratio: float
    p_value: float
    placebo_ratios: pd.Series = field(repr=False)
    placebo_gaps: pd.DataFrame = field(repr=False)
    treated: tuple
    donors: tuple
    dropped: pd.DataFrame = field(repr=False)
    estimation_window: str = ""
    post: str = ""
    event_date: pd.Timestamp | None = None

    def to_frame(self) -> pd.DataFrame:
        """Relative day x (treated, synthetic, gap, period)."""
        period = np.where(self.gap.index < 0, "pre", "post")
        return pd.DataFrame({"treated": self.treated_path, "synthetic": self.synthetic_path, "gap": self.gap,
                             "period": period})

    def weights_frame(self, tol: float = 1e-6) -> pd.DataFrame:
        """The donors with a weight above ``tol``: donor, weight (largest first)."""
        return self.weights[self.weights > tol].rename_axis("donor").reset_index()

    def to_dict(self) -> dict:
        """JSON-able key numbers (for ``results.json``)."""
        w = self.weights[self.weights > 0]
        return {"p_value": self.p_value, "ratio": self.ratio, "rmspe_pre": self.rmspe_pre, "rmspe_post": self.rmspe_post,
                "weights": {k: float(v) for k, v in w.items()}, "n_donors": len(self.donors),
                "treated": list(self.treated), "post": self.post}

    def summary(self, n: int = 8) -> str:
        """Text: the weights, the fit, the post/pre ratio and its in-space p."""
        w = self.weights[self.weights > 1e-6].head(n)
        lines = [
            f"Synthetic control for {', '.join(self.treated)} on {self.event_date.date()} "
            f"(pre {self.estimation_window}, post {self.post}, {len(self.donors)} donors)",
            "weights: " + ", ".join(f"{k} {v:.3f}" for k, v in w.items())
            + (f" (+{int((self.weights > 1e-6).sum()) - len(w)} more)" if (self.weights > 1e-6).sum() > len(w) else ""),
            f"RMSPE pre {100 * self.rmspe_pre:.3f}%, post {100 * self.rmspe_post:.3f}%, ratio {self.ratio:.2f}; "
            f"in-space p = {self.p_value:.4f} (rank among {len(self.placebo_ratios) + 1})",
            f"post-window gap (cumulated): {100 * self.gap[self.gap.index >= 0].sum():+.2f}%",
        ]
        lines += [f"note: {r.firm} ({r.role}) dropped: {r.reason}" for r in self.dropped.itertuples()]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, **kw):
        """Treated against synthetic, and the gap with the donors' placebo gaps in grey; returns the Figure."""
        from .crosssection_plots import plot_synthetic

        return plot_synthetic(self, **kw)


def _rmspe(g: np.ndarray) -> float:
    return float(np.sqrt(np.mean(g**2)))


def synthetic_control(returns, event_date, treated=None, donors=None, estimation_window=DEFAULT_ESTIMATION_WINDOW,
                      post=(0, 5), *, case=None) -> SyntheticControl:
    """The treated portfolio against a convex combination of donors fitted before the event, with in-space p.

    Parameters
    ----------
    returns : DataFrame
        Sessions x firms, price returns.
    event_date : date-like
        Day 0, a session of ``returns.index``.
    treated, donors : list of str, optional
        Tickers or universe group names; defaults as
        :func:`analysis.crosssection.placebo_in_space`. A firm with a missing return in the
        pre or post window is dropped and named.
    estimation_window, post : (int, int)
        The fit period and the post period (relative sessions, inclusive).
    case : Case or path, optional

    Returns
    -------
    SyntheticControl

    Raises
    ------
    DataError
        No treated firm or fewer than two donors with complete data.

    Examples
    --------
    >>> from analysis.crosssection_suite import cross_section_returns
    >>> r, m = cross_section_returns(["NTR", "MOS", "IPI", "ICL", "KO", "PG", "XOM", "DOW", "LIN", "CAT", "JPM", "AAPL"],
    ...                              offline=True)
    >>> sc = synthetic_control(r, "2025-12-15")  # the producers against 8 donors
    >>> round(float(sc.weights.sum()), 12), len(sc.placebo_ratios), round(sc.p_value, 4)
    (1.0, 8, 0.8889)
    """
    from .crosssection import _default_donors, _default_treated, _dropped_frame, _members

    case = as_case(case)
    cols = list(returns.columns)
    treated = _members(treated, cols, case, "treated") if treated is not None else _default_treated(case, cols)
    donors = _members(donors, cols, case, "donors") if donors is not None else _default_donors(case, cols)
    donors = [d for d in donors if d not in treated]
    est, post = parse_window(estimation_window), parse_window(post)
    if est[1] >= post[0]:
        raise DataError(f"estimation window {window_label(est)} must end before the post window {window_label(post)}")
    idx = pd.DatetimeIndex(returns.index)
    day0 = pd.Timestamp(event_date)
    pos = int(idx.get_indexer([day0])[0])
    if pos < 0:
        raise DataError(f"{day0.date()} is not a session of the returns: align it first (analysis.align_event)")
    a, _ = window_rows(pos, est, len(idx), around=str(day0.date()))
    c, d = window_rows(pos, post, len(idx), around=str(day0.date()))
    pre_rows, post_rows = np.arange(a, pos + est[1] + 1), np.arange(c, d)
    rows = np.concatenate([pre_rows, post_rows])
    Y = returns.iloc[rows].to_numpy(dtype=float)
    complete = np.isfinite(Y).all(axis=0)
    dropped = [(f, "treated" if f in treated else "donor", "missing return(s) in the pre or post window")
               for f, ok in zip(cols, complete) if not ok and f in set(treated) | set(donors)]
    ok = {f for f, good in zip(cols, complete) if good}
    treated_k, donors_k = [f for f in treated if f in ok], [f for f in donors if f in ok]
    if not treated_k or len(donors_k) < 2:
        raise DataError(f"synthetic control needs a treated firm and two donors with complete data "
                        f"(have {len(treated_k)} and {len(donors_k)})")
    span = np.arange(a, d)
    R = returns.iloc[span]
    y_all = R[treated_k].to_numpy(float).mean(axis=1)
    X_all = R[donors_k].to_numpy(float)
    rel = pd.Index(span - pos, name="day")
    is_pre = np.isin(span, pre_rows)
    is_post = np.isin(span, post_rows)

    def fit(y, X):
        w = simplex_weights(X[is_pre], y[is_pre])
        g = y - X @ w
        g_pre, g_post = g[is_pre], g[is_post]
        return w, g, _rmspe(g_pre), _rmspe(g_post)

    # rows between the windows (days -10..-1 by default) may hold NaN: they are shown, not fitted
    Xf = X_all
    w, g, r_pre, r_post = fit(y_all, Xf)
    ratios, gaps = {}, {}
    for j, name in enumerate(donors_k):
        others = [i for i in range(len(donors_k)) if i != j]
        _, gj, pj, qj = fit(Xf[:, j], Xf[:, others])
        ratios[name], gaps[name] = qj / pj, gj
    ratio = r_post / r_pre
    pr = pd.Series(ratios, name="ratio")
    p = float((1 + np.count_nonzero(pr.to_numpy() >= ratio * (1 - 1e-12))) / (1 + len(pr)))
    weights = pd.Series(w, index=pd.Index(donors_k, name="donor"), name="weight").sort_values(ascending=False, kind="stable")
    return SyntheticControl(
        weights=weights, gap=pd.Series(g, index=rel, name="gap"), treated_path=pd.Series(y_all, index=rel, name="treated"),
        synthetic_path=pd.Series(Xf @ w, index=rel, name="synthetic"), rmspe_pre=r_pre, rmspe_post=r_post, ratio=ratio,
        p_value=p, placebo_ratios=pr, placebo_gaps=pd.DataFrame(gaps, index=rel), treated=tuple(treated_k),
        donors=tuple(donors_k), dropped=_dropped_frame(dropped), estimation_window=window_label(est),
        post=window_label(post), event_date=day0,
    )


__all__ = ["simplex_weights", "synthetic_control", "SyntheticControl"]
