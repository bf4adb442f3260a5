"""Event-induced volatility: were the event days unusually volatile for these firms, whatever the sign?

A shock that traders disagree about can move variance without moving the mean. Boehmer,
Musumeci & Poulsen (1991, "Event-study methodology under conditions of event-induced
variance", JFE 30) showed that the event itself often raises the variance of abnormal
returns, which biases the classic mean tests; this module turns that variance into the
question, on the standardized abnormal values of any measure the engine studies
(returns, log volume: :func:`analysis.volume.volume_study`).

Notation
--------
``SAR_it`` is the engine's standardized abnormal value of firm *i* on relative day *t*
(prediction-error corrected, :attr:`analysis.eventstudy.EventStudyResult.sar`),
``m_i`` the firm's estimation observations, ``k`` the model's parameters and
``ν_i = m_i - k``. ``e_is`` are the estimation-window residuals, ``σ̂_i² = Σe²/ν_i`` and
``h_is`` their leverages, ``x_s'(X'X)⁻¹x_s``.

The χ² test (one row per event day: :func:`event_volatility`, ``res.volatility``)
---------------------------------------------------------------------------------
Under H0 (normal, homoskedastic, serially and cross-sectionally independent abnormal
values) SAR_it is Student t(ν_i) (Patell 1976, JAR 14), of variance ν_i/(ν_i - 2): the
same small-sample factor (m - k)/(m - k - 2) the Patell Z divides by. It is applied
here by scaling every squared SAR::

    q_it = SAR_it² · (ν_i - 2)/ν_i,      E[q_it] = 1 exactly under H0.

``mean_sar2`` is the mean of q_it over the N firms observed that day (the firm-set rule
of the engine: a window's firms are those observed on every day of it), ``statistic``
is ``Q = N·mean_sar2`` and ``p_value = P(χ²(N) ≥ Q)``: χ²(N) is the sum of squares of N
unit-variance normals. The p-value is **upper-tail** (one-sided): the alternative is
more variance, not less. q_it is exactly F(1, ν_i)·(ν_i - 2)/ν_i rather than χ²(1); with
ν ≈ 238 the χ²(N) reference is accurate (``tests/test_volatility.py`` checks the
rejection rate by simulation).

The χ² reference assumes independent firms and normal tails. Real firms in one industry
are cross-correlated (the December 2025 producers' mean residual correlation is 0.47)
and daily returns are fat-tailed, and both make the χ² test reject too often. Hence:

``p_placebo``
    The same statistic on every pseudo-event day *s* of the estimation window, built
    from the internally studentized residuals ``r_is = e_is/(σ̂_i·√(1 - h_is))``, whose
    square also has expectation exactly 1 under H0 (Cook & Weisberg 1982, *Residuals and
    Influence in Regression*, §2.2). The pseudo statistic of day *s* is the mean of r_is²
    over the day's firm set (the firms of that set observed on *s*, as the engine's AAR);
    ``p_placebo = (1 + #{pseudo ≥ mean_sar2}) / (1 + #pseudo)``. It keeps the firms'
    cross-correlation and their tails, so **with a handful of firms it is the honest
    test**, as the CAAR placebo is for the mean. Its resolution is 1/(1 + #pseudo).

Windows (:func:`event_volatility` with ``windows=``)
----------------------------------------------------
For a window of L days and the N firms observed on all of them, ``mean_sar2`` is the
mean of the N·L values q_it, ``Q = N·L·mean_sar2`` against χ²(N·L) (SARs of different
days treated as independent, which ignores the shared estimation error of order 1/m),
and the placebo compares it with the mean of r² over every run of L consecutive
estimation days. One-day windows ``(d,d)`` give exactly the day rows.

Everything is computed on arrays with a leading batch axis (:func:`_volatility_arrays`)
so the calibration tests run thousands of simulated events in one call.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..distributions import p_chi2_upper
from ..errors import EventStudyError

__all__ = ["VOLATILITY_COLUMNS", "event_volatility", "studentized_residuals", "volatility_table"]

VOLATILITY_COLUMNS = ["n", "mean_sar2", "statistic", "df", "p_value", "p_placebo", "n_placebo"]


# =========================================================================== array core
def _volatility_arrays(Q, R2, rows):
    """The χ² and placebo statistics for every row of every batch member.

    Q : (G, Ts, N) scaled squared SARs of the event span (NaN where missing);
    R2 : (G, Te, N) squared studentized estimation residuals (NaN where missing);
    rows : list of (i0, i1) inclusive index pairs into the span.
    Returns a dict of (G, R) arrays: n, mean_sar2, statistic, df, p_value, p_placebo, n_placebo.
    """
    Q = np.asarray(Q, dtype=float)
    R2 = np.asarray(R2, dtype=float)
    G, _, N = Q.shape
    Te = R2.shape[1]
    R = len(rows)
    out = {k: np.full((G, R), np.nan) for k in VOLATILITY_COLUMNS}
    finE = np.isfinite(R2)
    R20 = np.where(finE, R2, 0.0)
    for j, (i0, i1) in enumerate(rows):
        L = i1 - i0 + 1
        block = Q[:, i0 : i1 + 1, :]  # (G,L,N)
        P = np.isfinite(block).all(axis=1)  # (G,N): the window's firm set
        n = P.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            total = np.where(P[:, None, :], block, 0.0).sum(axis=(1, 2))
            mean = total / (n * L)
            df = n * L
            Pf = P.astype(float)
            # pseudo-event days: mean r² over the set's firms observed that day (the AAR rule)
            daily = np.einsum("gtn,gn->gt", R20, Pf) / np.einsum("gtn,gn->gt", finE.astype(float), Pf)  # (G,Te)
        if L <= Te:
            ok = np.isfinite(daily)
            d0 = np.where(ok, daily, 0.0)
            cs = np.concatenate([np.zeros((G, 1)), np.cumsum(d0, axis=1)], axis=1)
            cn = np.concatenate([np.zeros((G, 1), dtype=int), np.cumsum(ok, axis=1)], axis=1)
            pseudo = (cs[:, L:] - cs[:, :-L]) / L
            full = (cn[:, L:] - cn[:, :-L]) == L
            hits = ((pseudo >= mean[:, None]) & full).sum(axis=1)
            npse = full.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                pp = np.where(npse > 0, (1.0 + hits) / (1.0 + npse), np.nan)
        else:
            pp, npse = np.full(G, np.nan), np.zeros(G, dtype=int)
        valid = n > 0
        out["n"][:, j] = n
        out["df"][:, j] = df
        out["mean_sar2"][:, j] = np.where(valid, mean, np.nan)
        out["statistic"][:, j] = np.where(valid, total, np.nan)
        out["p_value"][:, j] = np.where(valid, p_chi2_upper(total, np.where(valid, df, 1)), np.nan)
        out["p_placebo"][:, j] = np.where(valid, pp, np.nan)
        out["n_placebo"][:, j] = npse
    return out


# =========================================================================== frames
def volatility_table(sar: pd.DataFrame, dof: pd.Series, residuals: pd.DataFrame | None = None,
                     windows=None) -> pd.DataFrame:
    """The event-induced volatility tests from standardized abnormal values (see the module docstring).

    Parameters
    ----------
    sar : DataFrame
        Relative day x firm standardized abnormal values SAR_it over the event span.
    dof : Series
        Firm -> ν_i = m_i - k, the residual degrees of freedom of its normal model (> 2).
    residuals : DataFrame, optional
        Estimation day x firm internally studentized residuals r_is (E[r²] = 1 under H0),
        for ``p_placebo``; None leaves ``p_placebo`` NaN.
    windows : sequence of (int, int), optional
        Relative windows (inclusive). Default: one row per day of ``sar``.

    Returns
    -------
    DataFrame
        Indexed by ``day`` (or ``window`` labels ``"(a,b)"``): n, mean_sar2, statistic
        (N·L·mean_sar2), df (N·L), p_value (upper tail of χ²(df)), p_placebo, n_placebo.

    Raises
    ------
    EventStudyError
        A firm of ``sar`` without degrees of freedom, ν <= 2, or a window outside the span.

    Examples
    --------
    >>> import pandas as pd
    >>> sar = pd.DataFrame({"A": [1.0, 2.0], "B": [-1.0, 0.5]}, index=pd.Index([0, 1], name="day"))
    >>> t = volatility_table(sar, pd.Series({"A": 100, "B": 100}))
    >>> round(float(t.loc[0, "mean_sar2"]), 4), int(t.loc[0, "df"])
    (0.98, 2)
    """
    firms = list(sar.columns)
    dof = pd.Series(dof, dtype=float).reindex(firms)
    if dof.isna().any():
        raise EventStudyError(f"no degrees of freedom for firms {list(dof.index[dof.isna()])}: pass dof for every SAR column")
    if (dof <= 2).any():
        raise EventStudyError(
            f"degrees of freedom <= 2 for {list(dof.index[dof <= 2])}: the SAR variance factor ν/(ν-2) needs ν > 2"
        )
    days = list(sar.index)
    if windows is None:
        wins = [(d, d) for d in days]
    else:
        wins = [(int(a), int(b)) for a, b in windows]
    pos = {d: i for i, d in enumerate(days)}
    bad = [w for w in wins if w[0] not in pos or w[1] not in pos or w[0] > w[1]]
    if bad:
        raise EventStudyError(f"windows {bad} are outside the event span {days[0]}..{days[-1]}: use days inside it")
    rows = [(pos[a], pos[b]) for a, b in wins]
    Q = sar.to_numpy(dtype=float) ** 2 * ((dof - 2.0) / dof).to_numpy()[None, :]
    if residuals is None:
        R2 = np.full((0, len(firms)), np.nan)
    else:
        R2 = residuals.reindex(columns=firms).to_numpy(dtype=float) ** 2
    out = _volatility_arrays(Q[None], R2[None], rows)
    frame = pd.DataFrame({k: out[k][0] for k in VOLATILITY_COLUMNS})
    for c in ("n", "df", "n_placebo"):
        frame[c] = frame[c].astype(np.int64)
    if windows is None:
        frame.index = pd.Index(days, name="day")
    else:
        frame.index = pd.Index([f"({a},{b})" for a, b in wins], name="window")
    return frame


def _estimation_leverage(res) -> np.ndarray:
    """h_is = x_s'(X_i'X_i)⁻¹x_s on the estimation days, (Te, N) for all firms of the study."""
    f = res._fit
    m = np.asarray(f["m"], dtype=float)
    Te = np.asarray(f["ARE"]).shape[0]
    if f.get("xbar") is None:  # market-adjusted: nothing estimated
        return np.zeros((Te, len(m)))
    h = np.broadcast_to(1.0 / np.where(m > 0, m, np.nan), (Te, len(m))).copy()
    xbar = np.asarray(f["xbar"])
    if xbar.shape[-1] > 0:
        market = res._market
        frame = market.to_frame() if isinstance(market, pd.Series) else market
        X = frame.reindex(res._dates_E).to_numpy(dtype=float)  # (Te, F), the rows the fit used
        xc = X[:, None, :] - xbar[None, :, :]
        h = h + np.einsum("tnf,nfh,tnh->tn", xc, np.asarray(f["Sinv"]), xc)
    return h


def studentized_residuals(res) -> pd.DataFrame:
    """Internally studentized estimation residuals ``e_is / (σ̂_i·√(1 - h_is))`` of an event study.

    Under the null their squares have expectation exactly 1 (Cook & Weisberg 1982), the
    same as the scaled squared SARs of the event days, which makes them the pseudo-events
    of ``p_placebo``.

    Parameters
    ----------
    res : EventStudyResult

    Returns
    -------
    DataFrame
        Estimation relative day x firm (excluded firms dropped), NaN where the residual is.

    Examples
    --------
    >>> import analysis
    >>> r = analysis.load_returns(["NTR", "MOS", "SPY"], "2024-11-01", "2026-01-30", offline=True)
    >>> res = analysis.event_study(r[["NTR", "MOS"]], r["SPY"], "2025-12-15")
    >>> studentized_residuals(res).shape
    (240, 2)
    """
    f = res._fit
    h = _estimation_leverage(res)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.asarray(f["ARE"]) / np.sqrt(np.asarray(f["sigma2"])[None, :] * (1.0 - h))
    return res._frame(r, res.ar_estimation.index)


def event_volatility(res, firms=None, windows=None) -> pd.DataFrame:
    """Event-induced volatility of an event study: the χ² test and its placebo per day (or window).

    Parameters
    ----------
    res : EventStudyResult
        Any measure the engine studied (returns, log volume).
    firms : list of str, optional
        A subset of ``res.firms`` (each firm's SARs depend on its own fit only, so a
        subset is the same as a study of those firms). Default: every estimated firm.
    windows : sequence of (int, int), optional
        Relative windows inside the event span; default one row per event day.

    Returns
    -------
    DataFrame
        See :func:`volatility_table`.

    Raises
    ------
    EventStudyError
        Unknown firms, or windows outside the span.

    Examples
    --------
    >>> import analysis
    >>> r = analysis.load_returns(["NTR", "MOS", "IPI", "ICL", "SPY"], "2024-11-01", "2026-01-30", offline=True)
    >>> res = analysis.event_study(r.drop(columns="SPY"), r["SPY"], "2025-12-15")
    >>> v = event_volatility(res)
    >>> int(v.loc[0, "n"]), int(v.loc[0, "df"])
    (4, 4)
    """
    used = res.firms
    if firms is None:
        firms = used
    firms = list(firms)
    unknown = [f for f in firms if f not in used]
    if unknown:
        raise EventStudyError(f"firms {unknown} are not estimated in this study (its firms: {used})")
    if not firms:
        raise EventStudyError("no firms given: pass at least one estimated firm")
    k = res._fit["k"]
    dof = res.params["m"].astype(float) - k
    with np.errstate(invalid="ignore", divide="ignore"):  # excluded firms (m = 0) are NaN, then dropped
        sar = res.sar[firms]
    return volatility_table(sar, dof[firms], studentized_residuals(res)[firms], windows=windows)
