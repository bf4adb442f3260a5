"""Fertilizer prices (World Bank Pink Sheet) and the link between the equities and potash.

What the data is, and what it cannot do
---------------------------------------
The commodity series are the World Bank's *Pink Sheet* monthly averages in nominal
US dollars per metric tonne: potassium chloride (``potash``), ``urea``, ``dap``,
``tsp`` and ``phosphate_rock``. **No daily potash benchmark is publicly available.**
A monthly average blurs a single-day event: the average of the event month mixes the
days before and after the news, so the cleanest before/after comparison is the month
before the event against the first full month after it. :func:`event_potash_path`
therefore always reports which monthly observations bracket an event.

Sources, in the order ``source="auto"`` tries them
--------------------------------------------------
1. **cache** -- ``<cache>/commodities/commodity_prices.parquet``, written only by
   :func:`refresh_commodities` (download of the World Bank's
   ``CMO-Historical-Data-Monthly.xlsx``, parsed by :func:`parse_pink_sheet`). Writes
   are atomic (temporary file + :func:`os.replace`); a failed or partial refresh
   (download error, parse error, no potash column, fewer months than the cache
   already holds) raises and leaves the cache untouched.
2. **bundled** -- ``<data>/commodity_prices.csv`` (columns ``month`` (YYYY-MM), the
   series, ``vintage``), see ``data/COMMODITIES.md`` for provenance.

Equity-potash sensitivity
-------------------------
:func:`potash_sensitivity` regresses each firm's monthly total return on the monthly
fractional change of the potash price and the market's monthly total return::

    r_it = a_i + b_i * dP_t / P_{t-1} + c_i * r_mt + e_it

by OLS, firm by firm (each firm on its own complete months). Monthly total returns
compound the daily total returns of :func:`analysis.data.load_returns`; a month counts
only if the firm has a return on every exchange session of that month (so the first
and last, partial, months of a price history are dropped rather than understated).

Standard errors are Newey-West (1987) HAC, implemented here in numpy and vectorized
over firms: Bartlett kernel ``w_j = 1 - j/(L+1)``, default lag
``L = floor(4 (T/100)^(2/9))`` (Newey-West 1994 rule of thumb, the textbook default,
e.g. Stock & Watson), no small-sample correction -- identical to statsmodels
``OLS(...).fit(cov_type="HAC", cov_kwds={"maxlags": L})``. p-values use Student's t
with ``T - k`` degrees of freedom (statsmodels' ``use_t=True``), which is more
conservative than the normal at the short samples here (LXU has under two years).
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from . import config
from .distributions import p_t, t_quantile
from .errors import DataError, NetworkError

SERIES = ("potash", "urea", "dap", "tsp", "phosphate_rock")
SOURCES = ("auto", "cache", "bundled")
BUNDLED_FILE = "commodity_prices.csv"
CACHE_FILE = "commodity_prices.parquet"
PINK_SHEET_SHEET = "Monthly Prices"
#: The World Bank's monthly workbook. The path segment changes with each release; the
#: current link is on https://www.worldbank.org/en/research/commodity-markets ("Monthly
#: prices"). Override with ``$POTASH_IMPACT_PINK_SHEET_URL`` or ``url=``.
PINK_SHEET_URL = (
    "https://thedocs.worldbank.org/en/doc/18675f1d1639c7a34d463f59263ba0a2-0050012025/"
    "related/CMO-Historical-Data-Monthly.xlsx"
)
#: Pink Sheet column headers (normalized: lower case, letters only) -> our names.
PINK_SHEET_COLUMNS = {
    "potassiumchloride": "potash",
    "urea": "urea",
    "dap": "dap",
    "tsp": "tsp",
    "phosphaterock": "phosphate_rock",
}
_MONTH_RE = re.compile(r"^\s*(\d{4})\s*M\s*(\d{1,2})\s*$")
_UPDATED_RE = re.compile(r"updated\s+on\s+(.+)$", re.IGNORECASE)


# --------------------------------------------------------------------------- loading
def _bundled_path(data_dir=None) -> Path:
    return config.data_dir(data_dir) / BUNDLED_FILE


def commodity_cache_path(cache_dir=None) -> Path:
    """The Parquet file :func:`refresh_commodities` writes."""
    return config.cache_dir(cache_dir) / "commodities" / CACHE_FILE


def _finish(frame: pd.DataFrame, vintages: pd.Series, source: str, path: Path) -> pd.DataFrame:
    """PeriodIndex ``month``, float series columns, attrs (vintage, source, path)."""
    out = frame.astype(float)
    out.index = pd.PeriodIndex(out.index, freq="M", name="month")
    out.columns = pd.Index([str(c) for c in out.columns], name=None)
    out = out.sort_index()
    v = [str(x) for x in pd.unique(vintages.dropna().astype(str))]
    out.attrs = {"vintage": "; ".join(v) if v else "unknown", "source": source, "path": str(path)}
    return out


def _read_bundled(data_dir=None) -> pd.DataFrame:
    path = _bundled_path(data_dir)
    if not path.is_file():
        raise DataError(
            f"no commodity file at {path}: a case folder needs {BUNDLED_FILE} "
            f"(columns month, {', '.join(SERIES)}, vintage), or run refresh_commodities() online"
        )
    raw = pd.read_csv(path, dtype={"month": str, "vintage": str})
    if "month" not in raw.columns:
        raise DataError(f"{path}: no 'month' column (have {', '.join(map(str, raw.columns))}): use YYYY-MM months")
    try:
        months = pd.PeriodIndex(raw["month"], freq="M")
    except (ValueError, TypeError) as exc:
        raise DataError(f"{path}: malformed month value ({exc}): use YYYY-MM") from None
    vint = raw["vintage"] if "vintage" in raw.columns else pd.Series(dtype=str)
    values = raw.drop(columns=[c for c in ("month", "vintage") if c in raw.columns])
    values.index = months
    return validate_commodities(_finish(values, vint, "bundled", path), where=str(path))


def _read_cache(cache_dir=None) -> pd.DataFrame | None:
    path = commodity_cache_path(cache_dir)
    if not path.is_file():
        return None
    try:
        raw = pd.read_parquet(path)
        months = pd.PeriodIndex(raw["month"].astype(str), freq="M")
        vint = raw["vintage"] if "vintage" in raw.columns else pd.Series(dtype=str)
        values = raw.drop(columns=[c for c in ("month", "vintage") if c in raw.columns])
        values.index = months
        return validate_commodities(_finish(values, vint, "cache", path), where=str(path))
    except Exception as exc:  # a truncated Parquet raises several types
        warnings.warn(
            f"commodity cache {path} is unreadable ({type(exc).__name__}: {exc}); using the bundled file. "
            f"It is left in place and replaced by the next successful refresh_commodities().",
            UserWarning,
            stacklevel=3,
        )
        return None


def validate_commodities(frame: pd.DataFrame, *, where: str = "commodity prices", primary: str = "potash") -> pd.DataFrame:
    """Check a commodity frame: the primary series present and non-empty, months unique and increasing, prices positive."""
    if primary not in frame.columns:
        raise DataError(
            f"{where}: no {primary!r} column (have {', '.join(map(str, frame.columns))}): "
            f"the primary commodity series is required"
        )
    if frame[primary].notna().sum() == 0:
        raise DataError(f"{where}: the {primary!r} column has no values")
    idx = frame.index
    if idx.has_duplicates:
        raise DataError(f"{where}: duplicate month {idx[idx.duplicated()][0]}: keep one row per month")
    if not idx.is_monotonic_increasing:
        raise DataError(f"{where}: months are not in increasing order")
    vals = frame.to_numpy(dtype=float)
    bad = ~np.isnan(vals) & ~(vals > 0)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(f"{where}: non-positive price {vals[r, c]!r} for {frame.columns[c]} in {idx[r]}")
    return frame


def load_commodity_prices(data_dir=None, *, cache_dir=None, source: str = "auto") -> pd.DataFrame:
    """Monthly commodity prices: ``PeriodIndex`` (freq M, named ``month``) x float series columns.

    Parameters
    ----------
    data_dir, cache_dir : path, optional
        See :mod:`analysis.config`.
    source : {"auto", "cache", "bundled"}
        ``auto`` = the refreshed cache if present (and readable), else the bundled CSV.

    Returns
    -------
    DataFrame
        ``attrs["vintage"]`` names the data vintage(s), ``attrs["source"]`` where the
        frame came from (``cache`` or ``bundled``), ``attrs["path"]`` the file.
    """
    if source not in SOURCES:
        raise DataError(f"unknown commodity source {source!r}: use one of {', '.join(SOURCES)}")
    if source in ("auto", "cache"):
        cached = _read_cache(cache_dir)
        if cached is not None:
            return cached
        if source == "cache":
            raise DataError(
                f"no commodity cache at {commodity_cache_path(cache_dir)}: run refresh_commodities() "
                f"online, or use source='bundled'"
            )
    return _read_bundled(data_dir)


def potash_prices(start=None, end=None, **kw) -> pd.DataFrame:
    """Tidy monthly fertilizer prices from ``start`` to ``end`` (months, inclusive), for researchers.

    Exactly the columns ``potash, urea, dap, tsp, phosphate_rock`` ($/mt, nominal,
    monthly averages; NaN where the source has no value), ``PeriodIndex`` named
    ``month``. Keyword arguments go to :func:`load_commodity_prices`.
    """
    df = load_commodity_prices(**kw)
    out = df.reindex(columns=list(SERIES))
    s = None if start is None else _to_period(start, "start")
    e = None if end is None else _to_period(end, "end")
    if s is not None and e is not None and s > e:
        raise DataError(f"start {s} is after end {e}")
    out = out.loc[s:e]
    if len(out) == 0:
        raise DataError(
            f"no commodity prices between {s or '...'} and {e or '...'} "
            f"(the data covers {df.index[0]} to {df.index[-1]})"
        )
    out.attrs = dict(df.attrs)
    return out


def _to_period(value, name: str) -> pd.Period:
    try:
        p = pd.Period(value, freq="M")
    except (ValueError, TypeError):
        raise DataError(f"malformed {name} month {value!r}: use YYYY-MM") from None
    if pd.isna(p):
        raise DataError(f"malformed {name} month {value!r}: use YYYY-MM")
    return p


# --------------------------------------------------------------------------- Pink Sheet
def _norm_header(value) -> str:
    return re.sub(r"[^a-z]", "", str(value).lower())


def _cell_float(value) -> float:
    if value is None:
        return np.nan
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    s = str(value).strip().replace(",", "")
    if s in ("", "…", "...", "..", "-", "–", "—", "n.a.", "na", "NA"):
        return np.nan
    try:
        return float(s)
    except ValueError:
        raise DataError(f"Pink Sheet: unreadable price cell {value!r}: expected a number or '…'") from None


def parse_pink_sheet(path_or_buffer, *, sheet: str = PINK_SHEET_SHEET) -> pd.DataFrame:
    """Parse the World Bank ``CMO-Historical-Data-Monthly.xlsx`` ``Monthly Prices`` sheet.

    The layout, as published: a few title rows (one of them ``Updated on <date>``), a
    header row with the series names (``Potassium chloride **``, ``Urea``, ``DAP``,
    ``TSP``, ``Phosphate rock`` among ~70 others), a units row (``($/mt)``), then one
    row per month with the date in the first column as ``YYYYMmm`` (``2025M12``) and
    ``…`` where a value is missing.

    Returns our frame (as :func:`load_commodity_prices`): ``PeriodIndex`` ``month`` x
    the fertilizer columns found; ``attrs["vintage"]`` is the "Updated on" date
    (ISO) when the sheet states one. Raises :class:`DataError` if the sheet, the
    header row, the potash column or the monthly rows are missing.
    """
    from openpyxl import load_workbook

    if isinstance(path_or_buffer, (bytes, bytearray)):
        path_or_buffer = io.BytesIO(path_or_buffer)
    try:
        wb = load_workbook(path_or_buffer, read_only=True, data_only=True)
    except Exception as exc:
        raise DataError(f"Pink Sheet: not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from exc
    try:
        if sheet not in wb.sheetnames:
            raise DataError(f"Pink Sheet: no sheet {sheet!r} (sheets: {', '.join(wb.sheetnames)})")
        rows = [tuple(r) for r in wb[sheet].iter_rows(values_only=True)]
    finally:
        wb.close()

    vintage = None
    header_i = None
    for i, row in enumerate(rows):
        cells = [c for c in row if c is not None]
        for c in cells:
            m = _UPDATED_RE.search(str(c).strip())
            if m and vintage is None:
                try:
                    vintage = str(pd.Timestamp(m.group(1).strip()).date())
                except (ValueError, TypeError):
                    vintage = m.group(1).strip()
        if any(_norm_header(c) in PINK_SHEET_COLUMNS for c in cells) and header_i is None:
            header_i = i
            break
    if header_i is None:
        raise DataError(
            f"Pink Sheet: no header row naming 'Potassium chloride' in sheet {sheet!r}: the layout changed"
        )
    header = rows[header_i]
    cols = {}
    for j, name in enumerate(header):
        key = _norm_header(name) if name is not None else ""
        if key in PINK_SHEET_COLUMNS and PINK_SHEET_COLUMNS[key] not in cols.values():
            cols[j] = PINK_SHEET_COLUMNS[key]
    if "potash" not in cols.values():
        raise DataError("Pink Sheet: no 'Potassium chloride' column in the header row: cannot refresh potash")

    months, data = [], []
    for row in rows[header_i + 1 :]:
        if not row or row[0] is None:
            continue
        m = _MONTH_RE.match(str(row[0]))
        if not m:
            continue  # the units row, notes
        y, mo = int(m.group(1)), int(m.group(2))
        if not 1 <= mo <= 12:
            raise DataError(f"Pink Sheet: bad month {row[0]!r}: expected YYYYMmm with mm in 01..12")
        months.append(pd.Period(year=y, month=mo, freq="M"))
        data.append([_cell_float(row[j]) if j < len(row) else np.nan for j in cols])
    if not months:
        raise DataError("Pink Sheet: no monthly rows (dates like 2025M12) below the header row")
    frame = pd.DataFrame(data, index=pd.PeriodIndex(months, freq="M", name="month"), columns=list(cols.values()))
    frame = frame.reindex(columns=[s for s in SERIES if s in frame.columns])
    frame = frame.dropna(how="all")
    out = _finish(frame, pd.Series([vintage] if vintage else [], dtype=object), "pink-sheet", Path("<workbook>"))
    return validate_commodities(out, where="Pink Sheet")


def _download(url: str, timeout: float = 60.0) -> bytes:
    """The one place that touches the network for commodities (tests stub it)."""
    import urllib.request

    req = urllib.request.Request(url, headers={"User-Agent": "potash-impact (research)"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (https URL from config)
        return resp.read()


def write_commodity_cache(frame: pd.DataFrame, cache_dir=None) -> Path:
    """Write a validated commodity frame to the cache atomically (temporary file + rename)."""
    validate_commodities(frame, where="commodity frame to cache")
    path = commodity_cache_path(cache_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = frame.copy()
    out.attrs = {}
    out.insert(0, "month", out.index.astype(str))
    out["vintage"] = frame.attrs.get("vintage", "unknown")
    out = out.reset_index(drop=True)
    fd, tmp = tempfile.mkstemp(prefix=".commodities.", suffix=".parquet.tmp", dir=path.parent)
    os.close(fd)
    try:
        out.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def refresh_commodities(url: str | None = None, cache_dir=None, offline: bool | None = None, *, timeout: float = 60.0) -> pd.DataFrame:
    """Download the World Bank monthly workbook, parse, validate and update the cache atomically.

    Nothing is written unless every step succeeds: the download (:class:`NetworkError`
    otherwise, also when offline), the parse (:class:`DataError`), a potash column,
    and at least as many months as the cache already holds (a shorter file is taken
    as a partial download and refused). Returns the new frame.
    """
    if config.is_offline(offline):
        raise NetworkError("refresh_commodities needs the network but offline mode is on: use the bundled series")
    url = url or os.environ.get("POTASH_IMPACT_PINK_SHEET_URL") or PINK_SHEET_URL
    try:
        payload = _download(url, timeout)
    except Exception as exc:
        raise NetworkError(
            f"download of the Pink Sheet from {url} failed ({type(exc).__name__}: {exc}); "
            f"check the network or pass the current link as url= (see worldbank.org/en/research/commodity-markets)"
        ) from exc
    if not payload:
        raise NetworkError(f"the Pink Sheet download from {url} came back empty: the cache is unchanged")
    new = parse_pink_sheet(payload)
    if new.attrs.get("vintage") in (None, "unknown"):
        new.attrs["vintage"] = f"downloaded {pd.Timestamp.now(tz='UTC').date()}"
    old = _read_cache(cache_dir)
    if old is not None:
        n_new, n_old = int(new["potash"].notna().sum()), int(old["potash"].notna().sum())
        if n_new < n_old:
            raise DataError(
                f"refreshed Pink Sheet has {n_new} potash months, fewer than the {n_old} already cached "
                f"(a partial download?): the cache is unchanged"
            )
    write_commodity_cache(new, cache_dir)
    new.attrs["source"] = "cache"
    new.attrs["path"] = str(commodity_cache_path(cache_dir))
    return new


# --------------------------------------------------------------------------- monthly returns
def monthly_returns(daily: pd.DataFrame, *, exchange: str = "XNYS") -> pd.DataFrame:
    """Compound daily total returns (dates x tickers) to calendar-month total returns.

    ``R_m = prod(1 + r_d) - 1`` over the sessions of the month. A ticker's month is
    kept only if it has a return on **every** ``exchange`` session of that month, so a
    price history that starts or ends mid-month does not produce a short month
    (NaN instead). Returns a frame with a ``PeriodIndex`` ``month``.
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
    """Monthly total returns of ``tickers``: :func:`monthly_returns` of :func:`analysis.data.load_returns`."""
    from .data import load_returns

    daily = load_returns(list(tickers), offline=offline, data_dir=data_dir)
    return monthly_returns(daily, exchange=exchange)


# --------------------------------------------------------------------------- OLS + HAC
def default_hac_lags(nobs) -> np.ndarray:
    """Newey-West (1994) rule of thumb ``floor(4 (T/100)^(2/9))``, elementwise."""
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
    dict with ``params`` (n, k), ``cov`` (n, k, k), ``resid`` (T, n, NaN outside the
    mask), ``nobs`` (n,), ``lags`` (n,), ``rsquared`` (n,) (centred).

    Notes
    -----
    ``cov = (X'X)^-1 S (X'X)^-1`` with
    ``S = sum_t g_t g_t' + sum_{j=1}^{L} (1 - j/(L+1)) sum_t (g_t g_{t-j}' + g_{t-j} g_t')``
    and ``g_t = x_t e_t``: Newey & West (1987), Bartlett kernel, no small-sample
    factor -- statsmodels' ``cov_type="HAC"`` with its default ``use_correction=False``.
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

    NaN until a firm has ``window`` complete observations in the window (a window
    with any missing month is NaN, never silently shorter).
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


# --------------------------------------------------------------------------- sensitivity
def _universe_groups(tickers, data_dir=None) -> dict:
    from .catalog import load_universe

    try:
        uni = load_universe(data_dir)
    except Exception:
        return {t: "" for t in tickers}
    g = dict(zip(uni["ticker"], uni["group"]))
    return {t: g.get(t, "") for t in tickers}


def default_sensitivity_tickers(*, market: str | None = None, offline: bool | None = None, data_dir=None) -> list[str]:
    """The firms of the sensitivity table, read from the case (no tickers in code).

    The treated and control groups of ``case.toml``, then every other non-benchmark
    group of ``universe.csv`` (the comparison firms, e.g. ``ag-chem``), restricted to
    listings on the market proxy's calendar (a CAD or EUR listing against SPY would
    mix currencies and trading days). Offline, only tickers in the snapshot.
    """
    from .catalog import load_case, load_universe

    case = load_case(data_dir)
    uni = load_universe(data_dir)
    market = market or case.get("market", "SPY")
    cal = dict(zip(uni["ticker"], uni["calendar"])).get(market, "XNYS")
    groups = [case.get("treated_group"), case.get("control_group")]
    groups = [g for g in groups if g] + [
        g for g in dict.fromkeys(uni["group"]) if g not in groups and g != "benchmark"
    ]
    sel = uni[uni["group"].isin(groups) & (uni["calendar"] == cal) & (uni["ticker"] != market)]
    if config.is_offline(offline):
        sel = sel[sel["offline"]]
    order = {g: i for i, g in enumerate(groups)}
    sel = sel.assign(_o=sel["group"].map(order)).sort_values("_o", kind="stable")
    return list(sel["ticker"])


@dataclass(frozen=True, eq=False)
class PotashSensitivity:
    """Results of :func:`potash_sensitivity` (a container; the estimation lives in :func:`ols_hac`).

    Coefficient order: ``const``, ``potash`` (the series' monthly fractional change),
    ``market`` (the market's monthly total return).
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
        """Confidence bounds of the potash beta (t with ``nobs - 3`` df)."""
        q = t_quantile(0.5 + level / 2, (self._nobs - len(self.coef_names)).astype(float))
        b, se = self.params[self.series].to_numpy(), self.std_errors[self.series].to_numpy()
        return pd.DataFrame({"lower": b - q * se, "upper": b + q * se}, index=pd.Index(self.tickers, name="ticker"))

    def to_frame(self) -> pd.DataFrame:
        """One row per firm: ticker, group, beta/se/t/p of the potash change, beta/se of the market, r2, nobs."""
        s, mk = self.series, "market"
        p, se, t, pv = self.params, self.std_errors, self.tstats, self.pvalues
        first = self.data.apply(lambda c: c.first_valid_index())
        return pd.DataFrame(
            {
                "ticker": list(self.tickers),
                "group": [self.groups.get(x, "") for x in self.tickers],
                "beta_potash": p[s].to_numpy(),
                "se_potash": se[s].to_numpy(),
                "t_potash": t[s].to_numpy(),
                "p_potash": pv[s].to_numpy(),
                "beta_market": p[mk].to_numpy(),
                "se_market": se[mk].to_numpy(),
                "r2": self._rsquared,
                "nobs": self._nobs.astype(int),
                "hac_lags": self._lags.astype(int),
                "first_month": [str(first.get(x)) for x in self.tickers],
            }
        )

    def summary(self) -> str:
        """A text table of :meth:`to_frame` with the model and the conventions."""
        df = self.to_frame()
        lines = [
            f"Potash sensitivity: monthly total return ~ const + {self.series} %chg + {self.market} return (OLS)",
            "HAC (Newey-West, Bartlett) standard errors; p-values Student t, df = nobs - 3",
            f"{'ticker':<7}{'group':<18}{'beta_pot':>9}{'se':>8}{'t':>7}{'p':>7}{'beta_mkt':>9}{'se':>7}{'R2':>6}{'nobs':>5}{'L':>3}",
        ]
        for r in df.itertuples():
            lines.append(
                f"{r.ticker:<7}{r.group[:17]:<18}{r.beta_potash:9.3f}{r.se_potash:8.3f}{r.t_potash:7.2f}"
                f"{r.p_potash:7.3f}{r.beta_market:9.3f}{r.se_market:7.3f}{r.r2:6.2f}{r.nobs:5d}{r.hac_lags:3d}"
            )
        short = df[df["nobs"] < 36]
        for r in short.itertuples():
            lines.append(f"note: {r.ticker} has only {r.nobs} months (from {r.first_month}); its betas are imprecise")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, **kw):
        """Bar chart of the potash betas with HAC error bars (:func:`analysis.plots.plot_sensitivity`)."""
        from .plots import plot_sensitivity

        return plot_sensitivity(self.to_frame(), **kw)


def potash_sensitivity(
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
) -> PotashSensitivity:
    """Regress each firm's monthly total return on the monthly % change of potash and the market.

    Parameters
    ----------
    tickers : list of str, optional
        Default :func:`default_sensitivity_tickers` (treated + control groups of the
        case, plus comparison groups, in the snapshot when offline).
    market : str
        Market proxy, default the case's ``market`` (SPY).
    series : str
        Commodity column, default the case's ``commodity`` (potash).
    start, end : month-like, optional
        Sample limits (inclusive).
    hac_lags : int, optional
        Newey-West lag; default ``floor(4 (T/100)^(2/9))`` per firm.
    rolling : int
        Rolling-window length in months for :attr:`PotashSensitivity.rolling`.

    Returns
    -------
    PotashSensitivity
    """
    from .catalog import load_case

    case = load_case(data_dir)
    market = market or case.get("market", "SPY")
    series = series or case.get("commodity", "potash")
    if tickers is None:
        tickers = default_sensitivity_tickers(market=market, offline=offline, data_dir=data_dir)
    elif isinstance(tickers, str):
        tickers = [tickers]
    tickers = [t for t in dict.fromkeys(tickers) if t != market]
    if not tickers:
        raise DataError("no tickers for the sensitivity regression: pass e.g. ['NTR', 'CF']")
    prices = load_commodity_prices(data_dir, cache_dir=cache_dir)
    if series not in prices.columns:
        raise DataError(f"unknown commodity series {series!r}: use one of {', '.join(prices.columns)}")
    dp = prices[series].pct_change(fill_method=None)
    rets = load_monthly_returns(tickers + [market], offline=offline, data_dir=data_dir)
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
    return PotashSensitivity(
        tickers=tuple(tickers),
        groups=_universe_groups(tickers, data_dir),
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


# --------------------------------------------------------------------------- event paths
@dataclass(frozen=True, eq=False)
class EventPotashPath:
    """The commodity path around one event (see :func:`event_potash_path`)."""

    event_id: str
    kind: str
    event_date: pd.Timestamp
    series: str
    table: pd.DataFrame
    bracket: dict
    expected_sign: int | None
    hist_mean: float
    hist_std: float
    hist_n: int

    def to_frame(self) -> pd.DataFrame:
        """Months from the one before the event to ``months_after`` after, with change, z and percentile."""
        return self.table

    @property
    def verdict(self) -> str:
        """One honest sentence: did the series move the way the event kind suggests?"""
        t = self.table[self.table["offset"] >= 0]
        chg = t["change_pct"].dropna()
        if len(chg) == 0:
            return f"{self.series}: no monthly observation after {self.event_date.date()} yet"
        ups, downs = int((chg > 0).sum()), int((chg < 0).sum())
        path = ", ".join(f"{p} {v:.2f}" for p, v in zip(self.table["month"], self.table["price"]) if pd.notna(v))
        move = (
            "kept rising" if downs == 0 and ups > 0 else "kept falling" if ups == 0 and downs > 0 else "was mixed"
        )
        t = self.table.dropna(subset=["cum_change_pct"])
        last_month, last_cum = t["month"].iloc[-1], float(t["cum_change_pct"].iloc[-1])
        s = (
            f"{self.series} {move} after the {self.kind} event of {self.event_date.date()} "
            f"({path}; {last_cum:+.1f}% from {self.bracket['before_month']} to {last_month})"
        )
        if self.expected_sign:
            d = int(np.sign(last_cum))
            s += (
                "; that is the direction the event kind suggests"
                if d == self.expected_sign
                else "; that is NOT the direction the event kind suggests"
            )
        return s

    def summary(self) -> str:
        """Text: the bracketing observations, the path with z-scores and percentiles, and the verdict."""
        b = self.bracket
        lines = [
            f"{self.series} around {self.event_id} ({self.kind}, {self.event_date.date()}): monthly averages, "
            f"no daily benchmark exists",
            f"bracketing observations: {b['before_month']} = {b['before_price']:.2f} (last month wholly before) and "
            f"{b['event_month']} = {b['event_price']:.2f} (the event month: its average mixes days before and after)",
            f"historical monthly changes: mean {self.hist_mean:+.2f}%, sd {self.hist_std:.2f}%, n = {self.hist_n}",
            f"{'month':<9}{'offset':>7}{'price':>9}{'chg %':>8}{'z':>7}{'pctile':>8}{'cum %':>8}",
        ]
        for r in self.table.itertuples():
            lines.append(
                f"{str(r.month):<9}{r.offset:>7d}{r.price:9.2f}{r.change_pct:8.2f}{r.z:7.2f}{r.percentile:8.1f}{r.cum_change_pct:8.2f}"
            )
        lines.append(self.verdict)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, prices: pd.DataFrame, months_before: int = 12, **kw):
        """The series from ``months_before`` months before the event month to the end of the path,
        with the event marked (:func:`analysis.plots.plot_commodity_prices`); returns the Figure.

        ``prices`` is the :func:`load_commodity_prices` frame the path was computed from.
        """
        from .plots import plot_commodity_prices

        m0 = pd.Period(self.event_date, "M")
        window = prices.loc[m0 - months_before : self.table["month"].max()]
        marker = pd.DataFrame([{"event_id": self.event_id, "date": self.event_date, "kind": self.kind}])
        kw.setdefault("title", f"{self.series} around {self.event_id} (monthly averages)")
        return plot_commodity_prices(window, marker, series=self.series, **kw)


def _event_record(event, data_dir=None) -> dict:
    """A catalog record (dict) from an event id, a date-like, or a record already."""
    from .catalog import get_event

    if isinstance(event, dict):
        return event
    if hasattr(event, "year") and not isinstance(event, str):  # date, datetime, Timestamp
        event = str(pd.Timestamp(event).date())
    return get_event(event, data_dir=data_dir)


def event_potash_path(event, months_after: int = 3, *, series: str | None = None, data_dir=None, prices: pd.DataFrame | None = None, cache_dir=None) -> EventPotashPath:
    """The monthly change of the commodity in the event month and the ``months_after`` following.

    Each change is compared with the historical distribution of monthly changes of the
    same series (all months of the data except the months of this path): z-score
    ``(x - mean) / sd`` (sd with ddof=1) and percentile (share of historical changes
    ``<= x``, in %). The table starts with the month before the event (offset -1, the
    last average wholly before the news); offset 0 is the event month, whose average
    mixes days before and after. ``cum_change_pct`` is measured from the month before.

    ``event`` is a catalog id or a date (``YYYY-MM-DD``).
    """
    from .catalog import load_case

    case = load_case(data_dir)
    series = series or case.get("commodity", "potash")
    rec = _event_record(event, data_dir)
    when = pd.Timestamp(rec.get("date") if rec.get("date") is not None else rec["timestamp"]).tz_localize(None).normalize()
    px = load_commodity_prices(data_dir, cache_dir=cache_dir) if prices is None else prices
    if series not in px.columns:
        raise DataError(f"unknown commodity series {series!r}: use one of {', '.join(px.columns)}")
    s = px[series].dropna()
    m0 = when.to_period("M")
    before = m0 - 1
    if before not in s.index:
        raise DataError(
            f"{series} has no observation for {before}, the month before {rec['event_id']} "
            f"(data covers {s.index[0]} to {s.index[-1]})"
        )
    if m0 not in s.index:
        raise DataError(
            f"{series} has no observation yet for the event month {m0} of {rec['event_id']} "
            f"(data ends {s.index[-1]}): refresh_commodities() when the World Bank publishes it"
        )
    chg = s.pct_change(fill_method=None) * 100.0
    months = [m0 + k for k in range(-1, int(months_after) + 1)]
    hist = chg.drop(index=[m for m in months if m in chg.index]).dropna()
    mu, sd = float(hist.mean()), float(hist.std(ddof=1))
    hv = np.sort(hist.to_numpy())
    rows = []
    for k, m in zip(range(-1, int(months_after) + 1), months):
        p = float(s.get(m, np.nan))
        c = float(chg.get(m, np.nan))
        rows.append(
            {
                "month": m,
                "offset": k,
                "price": p,
                "change_pct": c,
                "z": (c - mu) / sd if np.isfinite(c) else np.nan,
                "percentile": 100.0 * np.searchsorted(hv, c, side="right") / len(hv) if np.isfinite(c) else np.nan,
                "cum_change_pct": (p / float(s[before]) - 1.0) * 100.0 if k >= 0 and np.isfinite(p) else np.nan,
            }
        )
    table = pd.DataFrame(rows)
    table["month"] = pd.PeriodIndex(table["month"], freq="M")
    table.attrs = {"vintage": px.attrs.get("vintage")}
    sign = (case.get("expected_sign") or {}).get(rec.get("kind"))
    return EventPotashPath(
        event_id=str(rec["event_id"]),
        kind=str(rec.get("kind")),
        event_date=when,
        series=series,
        table=table,
        bracket={
            "before_month": before,
            "before_price": float(s[before]),
            "event_month": m0,
            "event_price": float(s[m0]),
        },
        expected_sign=None if sign is None else int(sign),
        hist_mean=mu,
        hist_std=sd,
        hist_n=int(len(hist)),
    )


def potash_event_table(events=None, months_after: int = 3, *, series: str | None = None, data_dir=None, cache_dir=None) -> pd.DataFrame:
    """:func:`event_potash_path` for every catalog event: one row per event.

    Columns: event_id, kind, date, before_month, before_price, event_month, event_price,
    chg_event_pct (event month vs month before) and its z / percentile,
    chg_next_pct (first full month after vs month before), chg_end_pct (to
    ``months_after``), n_after (months available), status (``ok`` or the reason).
    """
    from .catalog import load_case, load_events

    case = load_case(data_dir)
    series = series or case.get("commodity", "potash")
    ev = load_events(data_dir) if events is None else events
    px = load_commodity_prices(data_dir, cache_dir=cache_dir)
    rows = []
    for rec in ev.to_dict("records"):
        base = {"event_id": rec["event_id"], "kind": rec["kind"], "date": pd.Timestamp(rec["date"]).date()}
        try:
            p = event_potash_path(rec, months_after, series=series, data_dir=data_dir, prices=px)
        except DataError as exc:
            rows.append({**base, "status": str(exc)})
            continue
        t = p.table.set_index("offset")
        after = t.loc[t.index >= 1, "cum_change_pct"].dropna()
        rows.append(
            {
                **base,
                "before_month": str(p.bracket["before_month"]),
                "before_price": p.bracket["before_price"],
                "event_month": str(p.bracket["event_month"]),
                "event_price": p.bracket["event_price"],
                "chg_event_pct": t.loc[0, "change_pct"],
                "z_event": t.loc[0, "z"],
                "pctile_event": t.loc[0, "percentile"],
                "chg_next_pct": t.loc[1, "cum_change_pct"] if 1 in t.index else np.nan,
                "chg_end_pct": after.iloc[-1] if len(after) else np.nan,
                "n_after": int(len(after)),
                "status": "ok",
            }
        )
    out = pd.DataFrame(rows)
    out.attrs = {"series": series, "vintage": px.attrs.get("vintage")}
    return out


__all__ = [
    "SERIES",
    "load_commodity_prices",
    "potash_prices",
    "parse_pink_sheet",
    "refresh_commodities",
    "validate_commodities",
    "write_commodity_cache",
    "commodity_cache_path",
    "monthly_returns",
    "load_monthly_returns",
    "ols_hac",
    "rolling_ols",
    "default_hac_lags",
    "default_sensitivity_tickers",
    "potash_sensitivity",
    "PotashSensitivity",
    "event_potash_path",
    "EventPotashPath",
    "potash_event_table",
]
