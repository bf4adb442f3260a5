"""Equity-commodity sensitivity: monthly total returns, HAC OLS for many firms at once, rolling betas.

Model
-----
:func:`commodity_sensitivity` regresses each firm's monthly total return on the monthly
fractional change of the case's commodity price (``commodity`` in ``case.toml``; potash
for the bundled case) and the market's monthly total return::

    r_it = a_i + b_i * dP_t / P_{t-1} + c_i * r_mt + e_it

by OLS, firm by firm (each firm on its own complete months), solved for all firms at
once in numpy (:func:`ols_hac`). Monthly total returns compound the daily total returns
of :func:`analysis.data.load_returns`; a month counts only if the firm has a return on
every exchange session of that month (:func:`monthly_returns`), so the first and last,
partial, months of a price history are dropped rather than understated.

Standard errors
---------------
Newey-West (1987) HAC, implemented here in numpy and vectorized over firms: Bartlett
kernel ``w_j = 1 - j/(L+1)``, default lag ``L = floor(4 (T/100)^(2/9))`` (Newey-West
1994 rule of thumb, the textbook default, e.g. Stock & Watson), no small-sample
correction -- identical to statsmodels
``OLS(...).fit(cov_type="HAC", cov_kwds={"maxlags": L})``. p-values use Student's t
with ``T - k`` degrees of freedom (statsmodels' ``use_t=True``), which is more
conservative than the normal at the short samples here (LXU has under two years).

Rolling betas
-------------
:func:`rolling_ols`: the coefficients on the ``window`` months ending at each month; a
window with any missing month is NaN, never silently shorter.

Length: monthly returns, the HAC regression, rolling betas and the result object are one
estimation, and of the module's 623 lines 274 are code and 299 docstrings (the conventions
above and every public name's numpydoc sections).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from .case import as_case
from .distributions import p_t, t_quantile
from .errors import DataError


# --------------------------------------------------------------------------- monthly returns
def monthly_returns(daily: pd.DataFrame, *, exchange: str = "XNYS") -> pd.DataFrame:
    """Compound daily total returns (dates x tickers) to calendar-month total returns.

    ``R_m = prod(1 + r_d) - 1`` over the sessions of the month. A ticker's month is
    kept only if it has a return on **every** ``exchange`` session of that month, so a
    price history that starts or ends mid-month does not produce a short month (NaN
    instead).

    Parameters
    ----------
    daily : DataFrame
        Dates x tickers, simple daily returns.
    exchange : str
        The exchange_calendars MIC whose sessions define a complete month.

    Returns
    -------
    DataFrame
        ``PeriodIndex`` named ``month`` x tickers.

    Examples
    --------
    >>> d = pd.DataFrame({"X": [0.01, 0.02]}, index=pd.to_datetime(["2025-12-30", "2025-12-31"]))
    >>> bool(np.isnan(monthly_returns(d).loc["2025-12", "X"]))  # 2 of December's 22 sessions: incomplete
    True
    """
    from .calendars import exchange_sessions

    daily = daily.sort_index()
    idx = pd.DatetimeIndex(daily.index)
    sessions = exchange_sessions(idx[0].replace(day=1), (idx[-1] + pd.offsets.MonthEnd(0)), exchange)
    need = pd.Series(1, index=sessions).groupby(sessions.to_period("M")).size()
    per = idx.to_period("M")
    logs = np.log1p(daily.astype(float))
    comp = np.expm1(logs.groupby(per).sum(min_count=1))
    have = daily.notna().groupby(per).sum()
    want = need.reindex(comp.index).fillna(0).to_numpy()[:, None]
    comp = comp.where(have.to_numpy() >= want)
    comp.index = pd.PeriodIndex(comp.index, freq="M", name="month")
    comp.columns.name = "ticker"
    return comp


def load_monthly_returns(tickers, *, offline: bool | None = None, data_dir=None, exchange: str = "XNYS") -> pd.DataFrame:
    """Monthly total returns of ``tickers``: :func:`monthly_returns` of :func:`analysis.data.load_returns`.

    Parameters
    ----------
    tickers : list of str
        Universe tickers.
    offline : bool, optional
        See :func:`analysis.config.is_offline`.
    data_dir : path or Case, optional
        The case.
    exchange : str
        Calendar of complete months.

    Returns
    -------
    DataFrame
        ``PeriodIndex`` ``month`` x tickers.

    Examples
    --------
    >>> m = load_monthly_returns(["NTR"], offline=True)
    >>> round(float(m.loc["2025-12", "NTR"]), 4)
    0.0704
    """
    from .data import load_returns

    daily = load_returns(list(tickers), offline=offline, data_dir=as_case(data_dir).data_dir)
    return monthly_returns(daily, exchange=exchange)


# --------------------------------------------------------------------------- OLS + HAC
def default_hac_lags(nobs) -> np.ndarray:
    """Newey-West (1994) rule of thumb ``floor(4 (T/100)^(2/9))``, elementwise.

    Parameters
    ----------
    nobs : int or array of int
        Sample sizes T.

    Returns
    -------
    ndarray of int

    Examples
    --------
    >>> default_hac_lags([72, 19, 100, 250]).tolist()
    [3, 2, 4, 4]
    """
    t = np.asarray(nobs, dtype=float)
    return np.floor(4.0 * (t / 100.0) ** (2.0 / 9.0)).astype(int)


def ols_hac(y: np.ndarray, X: np.ndarray, mask: np.ndarray | None = None, lags=None) -> dict:
    """OLS with Newey-West HAC covariance for many firms at once, in numpy.

    Parameters
    ----------
    y : (T, n) array
        One column per firm.
    X : (T, k) array or (n, T, k) array
        Regressors (with the constant), shared or per firm.
    mask : (T, n) bool array, optional
        Which observations each firm uses (default: rows where y and X are finite).
        Firm ``i`` is estimated on its own rows only; rows outside the mask are zeroed,
        which for a contiguous sample is exactly the regression on that sample. Lags
        are counted in calendar periods (time index ``t``), so an interior gap is
        not closed up.
    lags : int, array of n ints, or None
        HAC truncation lag ``L`` per firm; ``None`` = :func:`default_hac_lags` of each
        firm's ``T``.

    Returns
    -------
    dict
        ``params`` (n, k), ``cov`` (n, k, k), ``resid`` (T, n, NaN outside the mask),
        ``nobs`` (n,), ``lags`` (n,), ``rsquared`` (n,) (centred).

    Raises
    ------
    DataError
        A firm with no more observations than coefficients, or a negative lag.

    Notes
    -----
    ``cov = (X'X)^-1 S (X'X)^-1`` with
    ``S = sum_t g_t g_t' + sum_{j=1}^{L} (1 - j/(L+1)) sum_t (g_t g_{t-j}' + g_{t-j} g_t')``
    and ``g_t = x_t e_t``: Newey & West (1987), Bartlett kernel, no small-sample
    factor -- statsmodels' ``cov_type="HAC"`` with its default ``use_correction=False``.

    Examples
    --------
    >>> X = np.column_stack([np.ones(5), np.arange(5.0)])
    >>> ols_hac(2 + 3 * np.arange(5.0)[:, None], X, lags=0)["params"].round(12).tolist()
    [[2.0, 3.0]]
    """
    y = np.asarray(y, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    T, n = y.shape
    X = np.asarray(X, dtype=float)
    X3 = np.broadcast_to(X, (n,) + X.shape) if X.ndim == 2 else X  # (n, T, k)
    k = X3.shape[2]
    finite = np.isfinite(y).T & np.isfinite(X3).all(axis=2)  # (n, T)
    m = finite if mask is None else (np.asarray(mask, bool).T & finite)
    nobs = m.sum(axis=1)
    if (nobs <= k).any():
        bad = int(np.argmax(nobs <= k))
        raise DataError(f"firm #{bad} has {int(nobs[bad])} observations for {k} coefficients: need more than {k}")
    Xm = np.where(m[:, :, None], np.nan_to_num(X3), 0.0)  # (n, T, k)
    ym = np.where(m, np.nan_to_num(y.T), 0.0)  # (n, T)
    xtx = np.einsum("itk,itl->ikl", Xm, Xm)
    xty = np.einsum("itk,it->ik", Xm, ym)
    params = np.linalg.solve(xtx, xty[:, :, None])[:, :, 0]  # (n, k)
    e = np.where(m, ym - np.einsum("itk,ik->it", Xm, params), 0.0)  # (n, T)
    g = Xm * e[:, :, None]  # (n, T, k)
    L = default_hac_lags(nobs) if lags is None else np.broadcast_to(np.asarray(lags, dtype=int), (n,)).copy()
    if (L < 0).any():
        raise DataError(f"HAC lags must be >= 0, got {L.tolist()}")
    S = np.einsum("itk,itl->ikl", g, g)
    for j in range(1, int(L.max(initial=0)) + 1):
        w = np.where(j <= L, 1.0 - j / (L + 1.0), 0.0)  # (n,)
        G = np.einsum("itk,itl->ikl", g[:, j:], g[:, :-j])
        S += w[:, None, None] * (G + np.transpose(G, (0, 2, 1)))
    inv = np.linalg.inv(xtx)
    cov = inv @ S @ inv
    ybar = np.where(m, ym, 0.0).sum(axis=1) / nobs
    tss = (np.where(m, ym - ybar[:, None], 0.0) ** 2).sum(axis=1)
    rss = (e**2).sum(axis=1)
    resid = np.where(m, e, np.nan).T
    return {"params": params, "cov": cov, "resid": resid, "nobs": nobs, "lags": L, "rsquared": 1.0 - rss / tss}


def rolling_ols(y: np.ndarray, X: np.ndarray, window: int) -> np.ndarray:
    """Rolling-window OLS coefficients ``(T, n, k)``: row ``t`` uses the ``window`` periods ending at ``t``.

    Parameters
    ----------
    y : (T, n) array
        One column per firm.
    X : (T, k) array
        Shared regressors (with the constant).
    window : int
        Window length in periods.

    Returns
    -------
    ndarray
        ``(T, n, k)``; NaN until a firm has ``window`` complete observations in the
        window (a window with any missing period is NaN, never silently shorter).

    Examples
    --------
    >>> X = np.column_stack([np.ones(4), np.arange(4.0)])
    >>> rolling_ols(1 + 2 * np.arange(4.0)[:, None], X, 3)[2, 0].round(12).tolist()
    [1.0, 2.0]
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    T, n = y.shape
    k = X.shape[1]
    out = np.full((T, n, k), np.nan)
    ok = np.isfinite(y) & np.isfinite(X).all(axis=1)[:, None]  # (T, n)
    for t in range(window - 1, T):
        sl = slice(t - window + 1, t + 1)
        full = ok[sl].all(axis=0)
        if not full.any():
            continue
        Xs = X[sl]
        coef, *_ = np.linalg.lstsq(Xs, np.where(full, y[sl], 0.0), rcond=None)  # (k, n)
        out[t, full] = coef.T[full]
    return out


# --------------------------------------------------------------------------- the firms of a case
def _universe_groups(tickers, case) -> dict:
    """Ticker -> universe group ("" for a ticker the universe does not list)."""
    g = dict(zip(case.universe["ticker"], case.universe["group"]))
    return {t: g.get(t) or "" for t in tickers}


def default_sensitivity_tickers(*, market: str | None = None, offline: bool | None = None, data_dir=None) -> list[str]:
    """The firms of the sensitivity table, read from the case (no tickers in code).

    The treated and control groups of ``case.toml``, then every other group of
    ``universe.csv`` (the comparison firms, e.g. ``ag-chem``) except the benchmark
    groups (``benchmark`` and the groups of the case's ``market`` and ``sector``
    tickers), restricted to
    listings on the market proxy's calendar (a CAD or EUR listing against SPY would
    mix currencies and trading days). Offline, only tickers in the snapshot. Tickers
    whose price file has no dividend data (the peers panel: dividends unknown) are left
    out: the model is on total returns.

    Parameters
    ----------
    market : str, optional
        The market proxy; default the case's ``market``.
    offline : bool, optional
        See :func:`analysis.config.is_offline`.
    data_dir : path or Case, optional
        The case.

    Returns
    -------
    list of str

    Examples
    --------
    >>> default_sensitivity_tickers(offline=True)
    ['NTR', 'MOS', 'IPI', 'ICL', 'CF', 'LXU']
    """
    from . import config
    from .data import price_only_tickers

    case = as_case(data_dir)
    settings, uni = case.settings, case.universe
    market = market or settings.get("market", "SPY")
    cal = dict(zip(uni["ticker"], uni["calendar"])).get(market, "XNYS")
    group_of = dict(zip(uni["ticker"], uni["group"]))
    benchmarks = {"benchmark"} | {group_of.get(settings.get(k)) for k in ("market", "sector")} | {group_of.get(market)}
    groups = [settings.get("treated_group"), settings.get("control_group")]
    groups = [g for g in groups if g] + [
        g for g in dict.fromkeys(uni["group"]) if g not in groups and g not in benchmarks
    ]
    offline_only = config.is_offline(offline)
    cands = [t for g in groups for t in case.group(g, exchange=cal, offline_only=offline_only) if t != market]
    unknown = set(price_only_tickers(cands, data_dir=case.data_dir))
    return [t for t in cands if t not in unknown]


# --------------------------------------------------------------------------- the result
@dataclass(frozen=True, eq=False)
class CommoditySensitivity:
    """Results of :func:`commodity_sensitivity` (a container; the estimation lives in :func:`ols_hac`).

    Coefficient order: ``const``, ``<series>`` (the series' monthly fractional change,
    e.g. ``potash``), ``market`` (the market's monthly total return). Tables name the
    commodity columns after the series (``beta_potash``, ``se_potash``, ...), so a
    column never carries another commodity's name. Built by :func:`commodity_sensitivity`.

    Attributes
    ----------
    tickers : tuple of str
        The firms regressed.
    groups : dict
        Ticker -> universe group.
    series, market : str
        The commodity column and the market ticker.
    params, std_errors, tstats, pvalues : DataFrame
        Tickers x (const, <series>, market): OLS coefficients, Newey-West HAC standard
        errors, t and p (Student t, ``nobs - 3`` df).
    rsquared, nobs, hac_lags : Series
        Per ticker.
    rolling : DataFrame
        Rolling betas (months x (coef, ticker)) over ``window`` months.

    Examples
    --------
    >>> s = commodity_sensitivity(["NTR", "CF"], offline=True)
    >>> s.series, s.params.columns.tolist(), round(float(s.params.loc["NTR", "potash"]), 3)
    ('potash', ['const', 'potash', 'market'], 0.232)
    """

    tickers: tuple
    groups: dict
    series: str
    market: str
    coef_names: tuple
    _params: np.ndarray
    _cov: np.ndarray
    _nobs: np.ndarray
    _lags: np.ndarray
    _rsquared: np.ndarray
    _rolling: pd.DataFrame
    data: pd.DataFrame = field(repr=False)
    window: int = 36

    def _frame(self, values) -> pd.DataFrame:
        return pd.DataFrame(values, index=pd.Index(self.tickers, name="ticker"), columns=list(self.coef_names))

    @property
    def params(self) -> pd.DataFrame:
        """OLS coefficients, tickers x (const, <series>, market)."""
        return self._frame(self._params)

    @property
    def std_errors(self) -> pd.DataFrame:
        """Newey-West HAC standard errors (Bartlett kernel, lags in :attr:`hac_lags`)."""
        return self._frame(np.sqrt(np.einsum("ikk->ik", self._cov)))

    @property
    def tstats(self) -> pd.DataFrame:
        """Coefficient / HAC standard error."""
        return self.params / self.std_errors

    @cached_property
    def pvalues(self) -> pd.DataFrame:
        """Two-sided p-values from Student's t with ``nobs - 3`` degrees of freedom."""
        df = (self._nobs - len(self.coef_names)).astype(float)[:, None]
        return self._frame(p_t(self.tstats.to_numpy(), df))

    @property
    def rsquared(self) -> pd.Series:
        """Centred R² per firm."""
        return pd.Series(self._rsquared, index=pd.Index(self.tickers, name="ticker"), name="r2")

    @property
    def nobs(self) -> pd.Series:
        """Months used per firm (complete months present for the firm, the market and the series)."""
        return pd.Series(self._nobs, index=pd.Index(self.tickers, name="ticker"), name="nobs")

    @property
    def hac_lags(self) -> pd.Series:
        """HAC truncation lag per firm."""
        return pd.Series(self._lags, index=pd.Index(self.tickers, name="ticker"), name="hac_lags")

    @property
    def rolling(self) -> pd.DataFrame:
        """Rolling betas: months x MultiIndex ``(coef, ticker)`` with coef in (<series>, market)."""
        return self._rolling

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Confidence bounds of the commodity beta (Student t with ``nobs - 3`` df).

        Parameters
        ----------
        level : float
            Coverage, e.g. 0.95.

        Returns
        -------
        DataFrame
            tickers x (lower, upper).
        """
        q = t_quantile(0.5 + level / 2, (self._nobs - len(self.coef_names)).astype(float))
        b, se = self.params[self.series].to_numpy(), self.std_errors[self.series].to_numpy()
        return pd.DataFrame({"lower": b - q * se, "upper": b + q * se}, index=pd.Index(self.tickers, name="ticker"))

    def to_frame(self) -> pd.DataFrame:
        """One row per firm: ticker, group, beta/se/t/p of the commodity change, beta/se of the market, r2, nobs.

        Returns
        -------
        DataFrame
            Columns ``ticker, group, beta_<series>, se_<series>, t_<series>, p_<series>,
            beta_market, se_market, r2, nobs, hac_lags, first_month``;
            ``attrs["series"]`` names the commodity.
        """
        s, mk = self.series, "market"
        p, se, t, pv = self.params, self.std_errors, self.tstats, self.pvalues
        first = self.data.apply(lambda c: c.first_valid_index())
        out = pd.DataFrame(
            {
                "ticker": list(self.tickers),
                "group": [self.groups.get(x, "") for x in self.tickers],
                f"beta_{s}": p[s].to_numpy(),
                f"se_{s}": se[s].to_numpy(),
                f"t_{s}": t[s].to_numpy(),
                f"p_{s}": pv[s].to_numpy(),
                "beta_market": p[mk].to_numpy(),
                "se_market": se[mk].to_numpy(),
                "r2": self._rsquared,
                "nobs": self._nobs.astype(int),
                "hac_lags": self._lags.astype(int),
                "first_month": [str(first.get(x)) for x in self.tickers],
            }
        )
        out.attrs = {"series": s, "market": self.market}
        return out

    def summary(self) -> str:
        """A text table of :meth:`to_frame` with the model and the conventions."""
        df = self.to_frame()
        s = self.series
        lines = [
            f"{s.capitalize()} sensitivity: monthly total return ~ const + {s} %chg + {self.market} return (OLS)",
            "HAC (Newey-West, Bartlett) standard errors; p-values Student t, df = nobs - 3",
            f"{'ticker':<7}{'group':<18}{'beta_' + s[:3]:>9}{'se':>8}{'t':>7}{'p':>7}{'beta_mkt':>9}{'se':>7}{'R2':>6}{'nobs':>5}{'L':>3}",
        ]
        for r in df.to_dict("records"):
            lines.append(
                f"{r['ticker']:<7}{r['group'][:17]:<18}{r['beta_' + s]:9.3f}{r['se_' + s]:8.3f}{r['t_' + s]:7.2f}"
                f"{r['p_' + s]:7.3f}{r['beta_market']:9.3f}{r['se_market']:7.3f}{r['r2']:6.2f}{r['nobs']:5d}{r['hac_lags']:3d}"
            )
        short = df[df["nobs"] < 36]
        for r in short.itertuples():
            lines.append(f"note: {r.ticker} has only {r.nobs} months (from {r.first_month}); its betas are imprecise")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, **kw):
        """Bar chart of the commodity betas with HAC error bars (:func:`analysis.plots.plot_sensitivity`).

        Returns
        -------
        matplotlib.figure.Figure
        """
        from .plots import plot_sensitivity

        return plot_sensitivity(self.to_frame(), **kw)


def commodity_sensitivity(
    tickers=None,
    *,
    market: str | None = None,
    series: str | None = None,
    start=None,
    end=None,
    hac_lags: int | None = None,
    rolling: int = 36,
    data_dir=None,
    offline: bool | None = None,
    cache_dir=None,
) -> CommoditySensitivity:
    """Regress each firm's monthly total return on the monthly % change of the commodity and the market.

    Parameters
    ----------
    tickers : list of str, optional
        Default :func:`default_sensitivity_tickers` (treated + control groups of the
        case, plus comparison groups, in the snapshot when offline).
    market : str, optional
        Market proxy, default the case's ``market``.
    series : str, optional
        Commodity column, default the case's ``commodity``.
    start, end : month-like, optional
        Sample limits (inclusive).
    hac_lags : int, optional
        Newey-West lag; default ``floor(4 (T/100)^(2/9))`` per firm.
    rolling : int
        Rolling-window length in months for :attr:`CommoditySensitivity.rolling`.
    data_dir : path or Case, optional
        The case.
    offline : bool, optional
        See :func:`analysis.config.is_offline`.
    cache_dir : path, optional
        The commodity cache.

    Returns
    -------
    CommoditySensitivity

    Raises
    ------
    DataError
        No tickers, an unknown series, too few months overall or for a firm.

    Examples
    --------
    >>> s = commodity_sensitivity(["NTR", "CF"], offline=True)
    >>> round(float(s.params.loc["NTR", "potash"]), 3), int(s.nobs["NTR"])
    (0.232, 72)
    """
    from .commodity_data import _to_period, load_commodity_prices, resolve_series

    case = as_case(data_dir)
    settings = case.settings
    market = market or settings.get("market", "SPY")
    series = resolve_series(series, case)
    if tickers is None:
        tickers = default_sensitivity_tickers(market=market, offline=offline, data_dir=case)
    elif isinstance(tickers, str):
        tickers = [tickers]
    tickers = [t for t in dict.fromkeys(tickers) if t != market]
    if not tickers:
        raise DataError("no tickers for the sensitivity regression: pass e.g. ['NTR', 'CF']")
    prices = load_commodity_prices(case, cache_dir=cache_dir)
    if series not in prices.columns:
        raise DataError(f"unknown commodity series {series!r}: use one of {', '.join(prices.columns)}")
    dp = prices[series].pct_change(fill_method=None)
    rets = load_monthly_returns(tickers + [market], offline=offline, data_dir=case)
    frame = pd.concat({"_dp": dp, **{t: rets[t] for t in tickers + [market]}}, axis=1, join="inner")
    if start is not None or end is not None:
        frame = frame.loc[None if start is None else _to_period(start, "start") : None if end is None else _to_period(end, "end")]
    frame = frame[frame["_dp"].notna() & frame[market].notna()]
    if len(frame) < 4:
        raise DataError(f"only {len(frame)} months with both {series} and {market}: widen start/end")
    X = np.column_stack([np.ones(len(frame)), frame["_dp"].to_numpy(float), frame[market].to_numpy(float)])
    Y = frame[tickers].to_numpy(float)
    short = [t for t, n in zip(tickers, np.isfinite(Y).sum(axis=0)) if n <= X.shape[1] + 1]
    if short:
        raise DataError(f"too few complete months for {', '.join(short)} in {frame.index[0]}..{frame.index[-1]}: drop them")
    est = ols_hac(Y, X, lags=hac_lags)
    roll = rolling_ols(Y, X, int(rolling)) if rolling else np.full((len(frame), len(tickers), 3), np.nan)
    rolled = pd.concat(
        {
            series: pd.DataFrame(roll[:, :, 1], index=frame.index, columns=tickers),
            "market": pd.DataFrame(roll[:, :, 2], index=frame.index, columns=tickers),
        },
        axis=1,
        names=["coef", "ticker"],
    )
    data = frame.rename(columns={"_dp": f"{series}_chg"})
    data.attrs = {"vintage": prices.attrs.get("vintage")}
    return CommoditySensitivity(
        tickers=tuple(tickers),
        groups=_universe_groups(tickers, case),
        series=series,
        market=market,
        coef_names=("const", series, "market"),
        _params=est["params"],
        _cov=est["cov"],
        _nobs=est["nobs"],
        _lags=est["lags"],
        _rsquared=est["rsquared"],
        _rolling=rolled,
        data=data,
        window=int(rolling),
    )


#: The potash-era names, kept working with the same signatures.
PotashSensitivity = CommoditySensitivity
potash_sensitivity = commodity_sensitivity

__all__ = [
    "monthly_returns",
    "load_monthly_returns",
    "ols_hac",
    "rolling_ols",
    "default_hac_lags",
    "default_sensitivity_tickers",
    "commodity_sensitivity",
    "CommoditySensitivity",
    "potash_sensitivity",
    "PotashSensitivity",
]
