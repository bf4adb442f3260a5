"""Prices from three places (cache, bundled snapshot, yfinance), gated, validated, and returns.

Sources, combined by ``source="auto"``:

1. **snapshot** -- the real offline data of the case: ``<data>/prices/<TICKER>.csv`` and,
   for the peers cross-section, ``<data>/peers/prices/<TICKER>.csv`` (columns
   ``date,close,volume,dividend,split,source``; see ``data/README.md``), read strictly
   (:func:`analysis.quality.read_price_csv`: a truncated file or an incomplete row is an
   error naming the file and line).
2. **cache** -- Parquet files of earlier live downloads (:mod:`analysis.data_cache`). The
   cache and the snapshot are merged by date (the union; a validated cache value wins on
   a date both hold), so a partial cache never shrinks a ticker's coverage, and an
   unusable cache file is skipped with one warning.
3. **yfinance** -- live (:mod:`analysis.data_live`), only online and only when cache and
   snapshot together do not cover the requested span; the download is merged on top and
   into the cache. A failed cache write warns (naming the path) and loses nothing.

Every assembled series passes the data-quality gate (:mod:`analysis.quality`) before it
is returned: a bad tick raises :class:`~analysis.errors.DataQualityError`, or, with
``on_bad_data = "exclude"`` in ``case.toml``, the firm's columns are set to missing and
``.attrs["excluded"]`` records ``{ticker: reason}``.

Returns (total returns; price returns where a dividend is unknown; spin-off days blanked)
are computed in :mod:`analysis.returns`, re-exported here (``load_returns``,
``total_returns``).

The frame returned by :func:`load_prices` has MultiIndex columns ``(field, ticker)`` --
the same layout as ``yf.download`` -- with lower-case fields ``close, dividend, split,
volume`` (plus ``open, high, low`` where a live source supplied them), a ``DatetimeIndex``
named ``date``, and JSON-able ``.attrs``: ``sources`` (ticker -> ``snapshot``, ``cache``,
``yfinance`` or a ``+``-joined mix), ``vintage`` (ticker -> last date), ``excluded``
(ticker -> reason) and ``quality`` (the gate's findings inside the span, as dicts).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from . import config
from .calendars import DEFAULT_EXCHANGE, exchange_sessions, parse_date  # noqa: F401 (parse_date re-exported)
from .data_cache import cache_path, merge_into_cache, read_cache, write_cache
from .data_live import OFFLINE_HINT, download, parse_yfinance, refresh
from .data_snapshot import (  # noqa: F401 (re-exported: analysis.data.read_snapshot etc.)
    _not_in_snapshot_msg,
    price_dirs,
    read_snapshot,
    snapshot_dir,
    snapshot_path,
    snapshot_tickers,
    snapshot_vintage,
)
from .errors import DataError, DataValidationError, NetworkError, NotInSnapshotError

SOURCES = ("auto", "cache", "snapshot", "yfinance")
REQUIRED_COLUMNS = ("close", "dividend", "split")
FIELDS = ("open", "high", "low", "close", "volume", "dividend", "split")
DEFAULT_MAX_GAP = 5
_ORIGINS = ("yfinance", "cache", "snapshot")  # priority on a date several sources hold


# --------------------------------------------------------------------------- validation
def validate_prices(
    frame: pd.DataFrame,
    ticker: str,
    *,
    max_gap: int | None = DEFAULT_MAX_GAP,
    exchange: str = DEFAULT_EXCHANGE,
) -> pd.DataFrame:
    """Check one ticker's price frame and return it unchanged.

    Checks, each failure a :class:`~analysis.errors.DataValidationError` naming the
    ticker and the date:

    * the required columns ``close, dividend, split`` are present;
    * dates are unique and strictly increasing;
    * closes are positive (and finite), dividends non-negative, split ratios positive;
    * ``low <= open, close <= high`` where OHLC columns are present (live data);
    * no run of more than ``max_gap`` consecutive exchange sessions is missing (or has a
      NaN close). Shorter gaps are reported with a :class:`UserWarning`, never silently.
      ``max_gap=None`` skips the calendar check.

    Parameters
    ----------
    frame : DataFrame
        One ticker: ``DatetimeIndex`` x ``close, dividend, split`` (and OHLC if known).
    ticker : str
        For messages.
    max_gap : int or None
        Longest tolerated run of missing sessions.
    exchange : str
        The calendar (MIC) of the gap check.

    Returns
    -------
    DataFrame
        ``frame``, unchanged.

    Raises
    ------
    DataValidationError
        A check failed (ticker and date named).

    Examples
    --------
    >>> ntr = read_snapshot("NTR")
    >>> validate_prices(ntr, "NTR", max_gap=0) is ntr
    True
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{ticker}: required column(s) {', '.join(missing)} missing (have {', '.join(map(str, frame.columns))})"
        )
    if len(frame) == 0:
        raise DataValidationError(f"{ticker}: no rows")
    idx = pd.DatetimeIndex(frame.index)
    dup = idx[idx.duplicated()]
    if len(dup):
        raise DataValidationError(f"{ticker}: duplicate date {dup[0].date()}: keep one row per session")
    if not idx.is_monotonic_increasing:
        bad = int(np.argmax(np.diff(idx.asi8) < 0)) + 1
        raise DataValidationError(
            f"{ticker}: dates not increasing at {idx[bad].date()} (after {idx[bad - 1].date()}): sort by date"
        )
    close = frame["close"].to_numpy(dtype=float)
    present = ~np.isnan(close)
    bad = present & ~(np.isfinite(close) & (close > 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise DataValidationError(f"{ticker}: non-positive close {float(close[i])} on {idx[i].date()}")
    div = frame["dividend"].to_numpy(dtype=float)
    if (div < 0).any():
        i = int(np.argmax(div < 0))
        raise DataValidationError(f"{ticker}: negative dividend {float(div[i])} on {idx[i].date()}")
    spl = frame["split"].to_numpy(dtype=float)
    if (spl <= 0).any():
        i = int(np.argmax(spl <= 0))
        raise DataValidationError(f"{ticker}: non-positive split ratio {float(spl[i])} on {idx[i].date()}")
    if {"open", "high", "low"} <= set(frame.columns):
        o, h, lo = (frame[c].to_numpy(dtype=float) for c in ("open", "high", "low"))
        tol = 1e-6 * np.nanmax(np.abs(h)) if np.isfinite(h).any() else 0.0
        with np.errstate(invalid="ignore"):
            bad = (lo > h + tol) | (o > h + tol) | (close > h + tol) | (o < lo - tol) | (close < lo - tol)
        bad &= ~(np.isnan(o) | np.isnan(h) | np.isnan(lo) | np.isnan(close))
        if bad.any():
            i = int(np.argmax(bad))
            raise DataValidationError(
                f"{ticker}: inconsistent OHLC on {idx[i].date()} "
                f"(open {o[i]}, high {h[i]}, low {lo[i]}, close {close[i]}): need low <= open, close <= high"
            )
    if max_gap is not None:
        _check_gaps(idx[present], ticker, max_gap, exchange)
    return frame


def _check_gaps(idx: pd.DatetimeIndex, ticker: str, max_gap: int, exchange: str) -> None:
    if len(idx) < 2:
        return
    expected = exchange_sessions(idx[0], idx[-1], exchange)
    if len(expected) == 0:
        return
    have = expected.isin(idx)
    if have.all():
        return
    # runs of consecutive missing sessions
    miss = ~have
    edges = np.diff(np.concatenate([[0], miss.astype(int), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    lengths = ends - starts
    worst = int(np.argmax(lengths))
    if lengths[worst] > max_gap:
        raise DataValidationError(
            f"{ticker}: {lengths[worst]} consecutive {exchange} sessions missing from "
            f"{expected[starts[worst]].date()} to {expected[ends[worst] - 1].date()} "
            f"(max_gap={max_gap}): refresh the data or raise max_gap"
        )
    warnings.warn(
        f"{ticker}: {int(miss.sum())} {exchange} session(s) missing, first {expected[starts[0]].date()}",
        UserWarning,
        stacklevel=3,
    )




# --------------------------------------------------------------------------- the gate
def _policy(data_dir, on_bad_data=None) -> dict:
    from .quality import case_policy

    pol = case_policy(data_dir)
    if on_bad_data is not None:
        from .quality import ON_BAD_DATA

        if on_bad_data not in ON_BAD_DATA:
            raise DataError(f"on_bad_data={on_bad_data!r}: use one of {', '.join(ON_BAD_DATA)}")
        pol = {**pol, "on_bad_data": on_bad_data}
    return pol


def _gate(df: pd.DataFrame, ticker: str, pol: dict) -> tuple[list[dict], str | None]:
    """Run the gate on an assembled frame (``_origin`` column: index into ``_ORIGINS``).

    Returns the findings as dicts and the exclusion reason (None unless excluded); raises
    :class:`DataQualityError` naming the file of the flagged row under ``error``.
    """
    from .quality import _gate_rows, records

    files = dict(df.attrs.get("files", {}))
    files.setdefault("snapshot", df.attrs.get("path", "the snapshot"))
    files.setdefault("yfinance", "the yfinance download")

    def where(day):
        origin = _ORIGINS[int(df["_origin"].get(day, 2))]
        return files.get(origin, origin)

    rows, reason = _gate_rows(df, ticker, known_moves=pol["known_moves"], on_bad_data=pol["on_bad_data"], where=where,
                              known_moves_path=pol["known_moves_path"], protected=pol["protected"])
    return records(rows), reason


def _label(origin: pd.Series) -> str:
    """``snapshot``, ``cache``, ``yfinance`` or a ``+``-joined mix, from an ``_origin`` column."""
    return "+".join(_ORIGINS[int(i)] for i in np.unique(origin.to_numpy()))


def _merge(parts: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    """Union by date of ``(origin, frame)`` parts in priority order; an ``_origin`` column says who won."""
    out, files = None, {}
    for origin, df in parts:
        df = df.copy()
        df["_origin"] = _ORIGINS.index(origin)
        files[origin] = df.attrs.get("path", origin)
        out = df if out is None else out.combine_first(df)[out.columns.union(df.columns, sort=False)]
    out = out.sort_index()
    out.attrs = {"files": files}
    return out


def _local_parts(ticker, source, data_dir, cache_dir) -> list[tuple[str, pd.DataFrame]]:
    parts = []
    if source in ("auto", "cache"):
        cached = read_cache(ticker, cache_dir, data_dir=data_dir)
        if cached is not None:
            parts.append(("cache", cached))
    if source in ("auto", "snapshot") and snapshot_path(ticker, data_dir) is not None:
        parts.append(("snapshot", read_snapshot(ticker, data_dir, check=False)))
    return parts


def local_prices(ticker: str, *, data_dir=None, cache_dir=None, check: bool = True) -> tuple[pd.DataFrame | None, str]:
    """Cache and snapshot of one ticker merged by date (cache wins), gated; never the network.

    Parameters
    ----------
    ticker : str
    data_dir, cache_dir : path-like, optional
    check : bool
        Run the quality gate (the case's policy).

    Returns
    -------
    (DataFrame or None, str)
        The merged frame (None when neither source has the ticker) and its source label.

    Raises
    ------
    DataQualityError
        The merged series fails the gate under ``on_bad_data = "error"``.

    Examples
    --------
    >>> df, src = local_prices("NTR")
    >>> src, len(df) >= 1581
    ('snapshot', True)
    """
    parts = _local_parts(ticker, "auto", data_dir, cache_dir)
    if not parts:
        return None, "none"
    df = _merge(parts)
    if check:
        df.attrs["quality"], reason = _gate(df, ticker, _policy(data_dir))
        if reason:
            df.attrs["excluded"] = reason
    label = _label(df["_origin"])
    out = df.drop(columns="_origin")
    out.attrs = dict(df.attrs)
    return out, label


# --------------------------------------------------------------------------- loading
def _covers(df: pd.DataFrame, start, end) -> bool:
    if df is None or len(df) == 0:
        return False
    return (start is None or df.index[0] <= start) and (end is None or df.index[-1] >= end - pd.Timedelta(days=4))


def _unknown(ticker, source, data_dir, universe_tickers) -> DataError:
    if source == "cache":
        return DataError(f"{ticker}: not in the cache {cache_path(ticker)}: run `potash-impact data --refresh`")
    if universe_tickers is not None and ticker not in universe_tickers:
        return DataError(
            f"unknown ticker {ticker!r}: not in the snapshot ({', '.join(snapshot_tickers(data_dir))}) "
            f"nor in universe.csv; check the spelling"
        )
    return NotInSnapshotError(_not_in_snapshot_msg(ticker, data_dir))


def load_prices(
    tickers,
    start=None,
    end=None,
    *,
    source: str = "auto",
    offline: bool | None = None,
    data_dir=None,
    cache_dir=None,
    validate: bool = True,
    max_gap: int | None = DEFAULT_MAX_GAP,
    check: bool = True,
    on_bad_data: str | None = None,
) -> pd.DataFrame:
    """Daily prices of ``tickers`` from ``start`` to ``end`` (inclusive), gated and validated.

    Parameters
    ----------
    tickers : str or list of str
    start, end : date-like, optional
    source : {"auto", "cache", "snapshot", "yfinance"}
        ``auto`` = cache and snapshot merged by date (cache wins), plus a live yfinance
        download (written to the cache) when, online, they do not cover the span.
    offline : bool, optional
        Never touch the network. Default: ``$POTASH_IMPACT_OFFLINE``.
    data_dir, cache_dir : path, optional
        See :mod:`analysis.config`.
    validate : bool
        Run :func:`validate_prices` on each ticker's span (dates, positivity, gaps).
    max_gap : int or None
        Longest run of missing sessions tolerated by the validation.
    check : bool
        Run the data-quality gate (:mod:`analysis.quality`) on each ticker's series.
    on_bad_data : {"error", "exclude"}, optional
        Override ``case.toml``'s policy for gate errors.

    Returns
    -------
    DataFrame
        MultiIndex columns ``(field, ticker)``; ``.attrs``: ``sources``, ``vintage``,
        ``excluded`` (ticker -> reason; the ticker's columns are all missing),
        ``quality`` (findings inside the span, as dicts).

    Raises
    ------
    DataQualityError
        A series fails the gate (ticker, date, value, rule and file named).
    DataError, NotInSnapshotError, NetworkError
        Bad arguments, unknown tickers, no data in the span, a failed download.

    Examples
    --------
    >>> p = load_prices(["NTR", "MOS"], "2025-12-12", "2025-12-15", offline=True)
    >>> p["close"].values.tolist()
    [[62.84, 26.21], [61.85, 24.86]]
    """
    return _load_prices(tickers, start, end, None, source=source, offline=offline, data_dir=data_dir,
                        cache_dir=cache_dir, validate=validate, max_gap=max_gap, check=check, on_bad_data=on_bad_data)


def _load_prices(tickers, start, end, need_start, *, source, offline, data_dir, cache_dir, validate, max_gap,
                 check, on_bad_data) -> pd.DataFrame:
    """:func:`load_prices`; ``need_start`` (default ``start``) is the first date the caller must have."""
    from .ids import check_ticker

    if isinstance(tickers, str):
        tickers = [tickers]
    tickers = list(dict.fromkeys(str(t).strip() for t in tickers))
    if not tickers or any(not t for t in tickers):
        raise DataError(f"no tickers given ({tickers!r}): pass e.g. ['NTR', 'SPY']")
    for t in tickers:
        check_ticker(t, "tickers")
    if source not in SOURCES:
        raise DataError(f"unknown source {source!r}: use one of {', '.join(SOURCES)}")
    start, end = parse_date(start, "start"), parse_date(end, "end")
    if start is not None and end is not None and start > end:
        raise DataError(f"start {start.date()} is after end {end.date()}")
    need = need_start if need_start is not None else start
    offline = config.is_offline(offline)
    pol = _policy(data_dir, on_bad_data)
    universe_tickers, calendars = None, {}
    from .case import as_case, is_case_folder

    if is_case_folder(data_dir):  # a folder of price files alone has no universe: no unknown-ticker check
        universe = as_case(data_dir).universe
        universe_tickers = set(universe["ticker"])
        calendars = dict(zip(universe["ticker"], universe["calendar"]))

    frames: dict[str, pd.DataFrame] = {}
    local: dict[str, list] = {}
    live = []
    for t in tickers:
        parts = [] if source == "yfinance" else _local_parts(t, source, data_dir, cache_dir)
        merged = _merge(parts) if parts else None
        if merged is not None and (source in ("cache", "snapshot") or offline or _covers(merged, need, end)):
            frames[t] = merged
        elif source in ("cache", "snapshot") or offline:
            if source == "yfinance":
                raise NetworkError(f"{t}: source='yfinance' needs the network but offline mode is on")
            raise _unknown(t, source, data_dir, universe_tickers)
        else:
            live.append(t)
            local[t] = parts
    if live:
        got = download(live, start, end, data_dir=data_dir, check=check)
        for t, new in got.items():
            exchange = calendars.get(t, DEFAULT_EXCHANGE)
            if validate:
                validate_prices(new, t, max_gap=max_gap, exchange=exchange)
            if not new.attrs.get("excluded"):
                cached = dict(local[t]).get("cache")
                try:
                    merge_into_cache(t, new, cache_dir, max_gap=max_gap if validate else None, exchange=exchange,
                                     old=cached)
                except OSError as exc:  # WriteError: a read-only or full cache must not lose the download
                    warnings.warn(f"{t}: the download is used but not cached: {exc}", UserWarning, stacklevel=2)
            frames[t] = _merge([("yfinance", new), *local[t]])

    sliced, sources, excluded, findings = {}, {}, {}, []
    for t in tickers:
        df = frames[t]
        quality, reason = _gate(df, t, pol) if check else ([], None)
        s = df.loc[start:end] if (start is not None or end is not None) else df
        label = _label(s["_origin"]) or _label(df["_origin"])
        sources[t] = label
        if len(s) == 0:
            raise DataError(
                f"{t}: no data between {start.date() if start is not None else '...'} and "
                f"{end.date() if end is not None else '...'} ({label} covers "
                f"{df.index[0].date()} to {df.index[-1].date()})"
            )
        if reason:
            excluded[t] = reason
        elif validate:
            validate_prices(s, t, max_gap=max_gap, exchange=calendars.get(t, DEFAULT_EXCHANGE))
        lo, hi = str(s.index[0].date()), str(s.index[-1].date())
        findings += [f for f in quality if lo <= f["date"] <= hi]
        sliced[t] = s

    fields = [f for f in FIELDS if any(f in s.columns for s in sliced.values())]
    per = {t: s.reindex(columns=fields).astype(float) for t, s in sliced.items()}  # one alignment, not one per field
    wide = pd.concat(per, axis=1, names=["ticker", "field"]).swaplevel(axis=1)
    wide = wide.reindex(columns=pd.MultiIndex.from_product([fields, list(sliced)], names=["field", "ticker"]))
    wide.index = pd.DatetimeIndex(wide.index, name="date")
    wide = wide.sort_index()
    for t in excluded:
        wide.loc[:, [(f, t) for f in fields]] = np.nan
    wide.attrs = {
        "sources": sources,
        "vintage": {t: str(s.index[-1].date()) for t, s in sliced.items()},
        "excluded": excluded,
        "quality": findings,
    }
    return wide


# --------------------------------------------------------------------------- coverage
def _coverage_row(ticker: str, source: str, df: pd.DataFrame) -> dict:
    return {
        "ticker": ticker,
        "source": source,
        "first": df.index[0].date(),
        "last": df.index[-1].date(),
        "rows": int(len(df)),
        "dividends": int((df["dividend"].fillna(0) > 0).sum()) if "dividend" in df else 0,
    }


def coverage(data_dir=None, cache_dir=None, tickers=None) -> pd.DataFrame:
    """One row per ticker and source (snapshot, cache): first and last date, rows, dividend count.

    Parameters
    ----------
    data_dir, cache_dir : path-like, optional
        The case folder and the cache.
    tickers : iterable of str, optional
        Only these tickers' files are read (default: every ticker of the snapshot and
        the cache); the rows keep the order of the unfiltered table.

    Returns
    -------
    DataFrame
        ``ticker, source, first, last, rows, dividends``; the peers' dividends count as 0
        (unknown).

    Examples
    --------
    >>> cov = coverage()
    >>> cov.set_index("ticker").loc["NTR", ["rows", "dividends"]].tolist()
    [1581, 25]
    >>> coverage(tickers=["SPY", "NTR"])["ticker"].tolist()
    ['NTR', 'SPY']
    """
    from .ids import TICKER_RE

    want = None if tickers is None else {str(t) for t in tickers}
    rows = [_coverage_row(t, "snapshot", read_snapshot(t, data_dir, check=False)) for t in snapshot_tickers(data_dir)
            if want is None or t in want]
    cdir = config.cache_dir(cache_dir) / "prices"
    if cdir.is_dir():
        for p in sorted(cdir.glob("*.parquet")):
            if want is not None and p.stem not in want:
                continue
            df = read_cache(p.stem, cache_dir, check=False) if TICKER_RE.match(p.stem) else None
            if df is not None:
                rows.append(_coverage_row(p.stem, "cache", df))
    return pd.DataFrame(rows, columns=["ticker", "source", "first", "last", "rows", "dividends"])


# re-exported: the returns half of the data layer lives in analysis.returns
from .returns import corporate_actions, load_returns, price_only_tickers, total_returns, unreflected_spinoffs  # noqa: E402,F401

__all__ = [
    "load_prices",
    "load_returns",
    "local_prices",
    "total_returns",
    "validate_prices",
    "read_snapshot",
    "snapshot_tickers",
    "snapshot_path",
    "price_dirs",
    "corporate_actions",
    "price_only_tickers",
    "read_cache",
    "write_cache",
    "cache_path",
    "parse_yfinance",
    "download",
    "refresh",
    "merge_into_cache",
    "coverage",
    "snapshot_vintage",
    "parse_date",
    "OFFLINE_HINT",
]
