"""Normal-return models: OLS fits of every firm at once, residuals, prediction errors and leverages.

Notation as in :mod:`analysis.eventstudy`. Arrays carry a leading batch axis G (events)
so the calibration tests can run thousands of simulated events in one call;
:func:`analysis.eventstudy.event_study` uses G = 1. Shapes: ``YE`` (G, Te, N) estimation
returns, ``XE`` (G, Te, F) regressors, ``YS``/``XS`` the event span.

Each firm's fit uses its own NaN mask (a day is valid when the firm's return and every
regressor are finite). The per-firm normal equations are solved in centred form,
``β = S_xx⁻¹ S_xy``, ``α = ȳ - x̄'β``, for all firms in one batched ``numpy.linalg``
call: no Python loop over firms. σ̂² = SSR / (m - k) (MacKinlay 1997, eq. 8 and 9).
"""

from __future__ import annotations

import numpy as np

from ..errors import EventStudyError

#: The normal-return models, see :mod:`analysis.eventstudy`.
MODELS = ("constant_mean", "market_adjusted", "market", "factor")
#: Firms per block of the fit: the (Te, firms, F) intermediates of a block stay in cache,
#: so the time grows linearly with the number of firms.
FIT_BLOCK = 512


def _fit(YE, XE, YS, XS, model, block=FIT_BLOCK):
    """Estimate the normal-return model for every firm at once.

    Returns a dict of arrays: alpha (G,N), beta (G,N,F), sigma2, m, k, r2, ARE (G,Te,N)
    estimation residuals, ARS (G,Ts,N) event-span prediction errors, h (G,Ts,N)
    leverages, and what the per-firm CAR variance needs (xbar, Sinv). Firms are fitted
    in blocks of ``block`` (each firm's fit is independent of the others').
    """
    N = YE.shape[2]
    if N <= block:
        return _fit_block(YE, XE, YS, XS, model)
    parts = [_fit_block(YE[..., i : i + block], XE, YS[..., i : i + block], XS, model) for i in range(0, N, block)]
    out = {}
    for key, v in parts[0].items():
        if key in ("k", "XS"):
            out[key] = v
        elif v is None:
            out[key] = None
        else:
            axis = {"ARE": 2, "ARS": 2, "h": 2}.get(key, 1)
            out[key] = np.concatenate([p[key] for p in parts], axis=axis)
    return out


def _fit_block(YE, XE, YS, XS, model):
    """:func:`_fit` on one block of firms."""
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
    out.update(alpha=alpha, beta=beta, sigma2=sigma2, m=m, k=k, r2=r2, ARE=ARE, ARS=ARS, h=h, XS=XS)
    return out


def car_variance_factor(fit, rows, L):
    """``L + 1'X_w(X_i'X_i)⁻¹X_w'1`` for every firm and row: the CAR's prediction-error variance over σ̂_i².

    The variance of a firm's CAR over a window of ``L`` prediction errors is
    σ̂_i²·(L + 1'X_w(X'X)⁻¹X_w'1) (MacKinlay 1997, eq. 15), X_w the window's regressor
    rows with the constant. In centred form the quadratic term is ``L²/m_i + c'S_xx⁻¹c``
    with ``c = Σ_{t∈w} x_t - L·x̄_i``; it is ``L²/m_i`` for the constant-mean model and 0
    for the market-adjusted model (nothing estimated).

    Parameters
    ----------
    fit : dict
        A fit of :func:`_fit` with a leading group axis: ``m`` (G, N) estimation
        observations, ``k`` parameters per firm, and for factor models ``xbar``, ``Sinv``
        and the event-span regressors ``XS``.
    rows : sequence of (int, int)
        Each window's first and last row in the event span (inclusive).
    L : sequence of int
        Each window's length, ``i1 - i0 + 1``.

    Returns
    -------
    ndarray
        (G, N, R): the factor per group, firm and window.

    Examples
    --------
    >>> import numpy as np
    >>> fit = {"m": np.array([[100.0, 50.0]]), "k": 1, "xbar": None}  # constant mean: L + L²/m
    >>> car_variance_factor(fit, [(5, 6)], [2]).round(6).tolist()
    [[[2.04], [2.08]]]
    """
    m = fit["m"]
    G, N = m.shape
    Lf = np.asarray(L, dtype=float)
    R = len(rows)
    if fit["k"] == 0:
        return np.broadcast_to(Lf, (G, N, R)).copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        q = Lf[None, None, :] ** 2 / m[:, :, None]
        xbar = fit["xbar"]
        if xbar is not None and xbar.shape[-1] > 0:
            X0 = np.where(np.isfinite(fit["XS"]), fit["XS"], 0.0)  # days with a missing regressor are masked later
            cs = np.concatenate([np.zeros_like(X0[:, :1]), np.cumsum(X0, axis=1)], axis=1)
            i0 = np.array([r[0] for r in rows])
            i1 = np.array([r[1] for r in rows]) + 1
            S = cs[:, i1] - cs[:, i0]  # (G,R,F)
            c = S[:, None, :, :] - Lf[None, None, :, None] * xbar[:, :, None, :]  # (G,N,R,F)
            q = q + np.einsum("gnrf,gnfh,gnrh->gnr", c, fit["Sinv"], c)
    return Lf[None, None, :] + q


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

