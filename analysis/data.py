"""Prices from three places (cache, bundled snapshot, yfinance), validated, and total returns.

Sources, tried in this order by ``source="auto"``:

1. **cache** -- Parquet files ``<cache>/prices/<TICKER>.parquet`` written by earlier live
   downloads (:func:`analysis.config.cache_dir`: ``$POTASH_IMPACT_CACHE`` or
   ``~/.cache/potash-impact``). Used when it covers the requested span.
2. **snapshot** -- the real offline data bundled in ``<data>/prices/<TICKER>.csv``
   (columns ``date,close,volume,dividend,split,source``; see ``data/README.md``). Online,
   a span the snapshot does not reach goes on to yfinance; offline, the snapshot's part
   of the span is returned.
3. **yfinance** -- live, with ``auto_adjust=False, actions=True`` so raw (split-adjusted,
   not dividend-adjusted) ``Close``, ``Dividends`` and ``Stock Splits`` come back. Never
   tried when ``offline=True`` or ``POTASH_IMPACT_OFFLINE=1``.

Why Parquet (pyarrow) for the cache: typed columns and dates round-trip exactly, reads
are fast, and a half-written file is detectable (it fails to open), so a corrupt cache
is treated as a miss rather than silently mis-parsed. Writes are atomic (temporary file
in the same folder, then :func:`os.replace`), and an empty or failed download never
touches an existing cache file.

Total returns are computed here from close and dividends, ``r_t = (close_t + div_t) /
close_{t-1} - 1``, with yfinance's convention that ``Close`` and ``Dividends`` are already
split-adjusted -- never from a vendor's adjusted-close column, whose vintage is unknown.

The frame returned by :func:`load_prices` has MultiIndex columns ``(field, ticker)`` --
the same layout as ``yf.download`` -- with lower-case fields ``close, dividend, split,
volume`` (plus ``open, high, low`` where a live source supplied them), a ``DatetimeIndex``
named ``date`` and, in ``.attrs``, where each ticker came from and the data vintage.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from . import config
from .calendars import DEFAULT_EXCHANGE, exchange_sessions
from .errors import DataError, DataValidationError, NetworkError, NotInSnapshotError

SOURCES = ("auto", "cache", "snapshot", "yfinance")
REQUIRED_COLUMNS = ("close", "dividend", "split")
FIELDS = ("open", "high", "low", "close", "volume", "dividend", "split")
DEFAULT_MAX_GAP = 5

# yfinance 1.x column names -> ours
_YF_FIELDS = {
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Adj Close": "adj_close",
    "Volume": "volume",
    "Dividends": "dividend",
    "Stock Splits": "split",
}


# --------------------------------------------------------------------------- dates
def parse_date(value, name: str = "date") -> pd.Timestamp | None:
    """A ``Timestamp`` from a date-like value, ``None`` passes through; malformed -> DataError naming it."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise DataError(f"malformed {name} {value!r}: use YYYY-MM-DD") from None
    if pd.isna(ts):
        raise DataError(f"malformed {name} {value!r}: use YYYY-MM-DD")
    return ts.tz_localize(None) if ts.tz is not None else ts


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


# --------------------------------------------------------------------------- snapshot
def snapshot_dir(data_dir=None) -> Path:
    """Folder of the bundled per-ticker CSV files."""
    return config.data_dir(data_dir) / "prices"


def snapshot_tickers(data_dir=None) -> list[str]:
    """Tickers present in the bundled snapshot."""
    d = snapshot_dir(data_dir)
    return sorted(p.stem for p in d.glob("*.csv")) if d.is_dir() else []


def read_snapshot(ticker: str, data_dir=None) -> pd.DataFrame:
    """One ticker from the snapshot: ``DatetimeIndex`` ``date`` x ``close, volume, dividend, split, source``."""
    path = snapshot_dir(data_dir) / f"{ticker}.csv"
    if not path.is_file():
        raise NotInSnapshotError(_not_in_snapshot_msg(ticker, data_dir))
    df = pd.read_csv(path, parse_dates=["date"], dtype={"source": str}).set_index("date")
    df.index = pd.DatetimeIndex(df.index, name="date")
    df.attrs["source"] = "snapshot"
    return df


def _not_in_snapshot_msg(ticker: str, data_dir=None) -> str:
    have = ", ".join(snapshot_tickers(data_dir)) or "none"
    return (
        f"{ticker} is not in the offline snapshot (it has: {have}); "
        f"only the live yfinance path can fetch it: run without --offline on a machine with network"
    )


# --------------------------------------------------------------------------- cache
def cache_path(ticker: str, cache_dir=None) -> Path:
    """Parquet file of one ticker in the cache."""
    return config.cache_dir(cache_dir) / "prices" / f"{ticker}.parquet"


def read_cache(ticker: str, cache_dir=None) -> pd.DataFrame | None:
    """A cached ticker, or ``None`` on a miss. A corrupt file warns and counts as a miss (it is not deleted)."""
    path = cache_path(ticker, cache_dir)
    if not path.is_file():
        return None
    try:
        df = pd.read_parquet(path)
        if "date" in df.columns:
            df = df.set_index("date")
        df.index = pd.DatetimeIndex(df.index, name="date")
        if len(df) == 0 or "close" not in df.columns:
            raise ValueError("empty or without a close column")
    except Exception as exc:  # pyarrow raises several types on truncated files
        warnings.warn(
            f"{ticker}: cache file {path} is unreadable ({type(exc).__name__}: {exc}); ignoring it. "
            f"It is left in place and replaced by the next successful refresh.",
            UserWarning,
            stacklevel=2,
        )
        return None
    df.attrs["source"] = "cache"
    return df


def write_cache(ticker: str, frame: pd.DataFrame, cache_dir=None) -> Path:
    """Write one ticker atomically (temporary file + rename). Refuses an empty frame."""
    if frame is None or len(frame) == 0 or frame["close"].notna().sum() == 0:
        raise DataError(f"{ticker}: refusing to write an empty frame to the cache (the existing file is kept)")
    path = cache_path(ticker, cache_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = frame.copy()
    out.index.name = "date"
    fd, tmp = tempfile.mkstemp(prefix=f".{ticker}.", suffix=".parquet.tmp", dir=path.parent)
    os.close(fd)
    try:
        out.reset_index().to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


# --------------------------------------------------------------------------- yfinance
def _yf_download(tickers, start, end):
    """The one place that calls yfinance (tests stub ``yfinance.download``)."""
    import yfinance as yf

    return yf.download(
        list(tickers),
        start=None if start is None else pd.Timestamp(start).strftime("%Y-%m-%d"),
        # yfinance's end is exclusive
        end=None if end is None else (pd.Timestamp(end) + pd.Timedelta(days=1)).strftime("%Y-%m-%d"),
        auto_adjust=False,
        actions=True,
        group_by="column",
        progress=False,
        threads=False,
        multi_level_index=True,
    )


def parse_yfinance(raw: pd.DataFrame, tickers) -> dict[str, pd.DataFrame]:
    """Split a ``yf.download`` frame into one frame per ticker in our column names.

    Accepts yfinance 1.x's shapes: MultiIndex columns ``(Price, Ticker)`` (the default,
    ``group_by="column"``), ``(Ticker, Price)`` (``group_by="ticker"``), and flat columns
    for a single ticker. Tickers whose closes are all missing are left out (yfinance's
    signal that their download failed).
    """
    out: dict[str, pd.DataFrame] = {}
    if raw is None or len(raw) == 0:
        return out
    tickers = list(tickers)
    cols = raw.columns
    if isinstance(cols, pd.MultiIndex):
        lvl0 = set(map(str, cols.get_level_values(0)))
        price_level = 0 if "Close" in lvl0 else 1
        ticker_level = 1 - price_level
        present = list(dict.fromkeys(map(str, cols.get_level_values(ticker_level))))
        per = {t: raw.xs(t, axis=1, level=ticker_level) for t in present}
    else:
        if len(tickers) != 1:
            raise DataError(f"yfinance returned flat columns for {len(tickers)} tickers: cannot tell them apart")
        per = {tickers[0]: raw}
    for t, df in per.items():
        df = df.rename(columns=lambda c: _YF_FIELDS.get(str(c), str(c)))
        df = df[[c for c in _YF_FIELDS.values() if c in df.columns]].astype(float)
        if "close" not in df.columns or df["close"].notna().sum() == 0:
            continue
        idx = pd.DatetimeIndex(df.index)
        if idx.tz is not None:
            idx = idx.tz_localize(None)
        df.index = pd.DatetimeIndex(idx.normalize(), name="date")
        df = df[df["close"].notna()]
        df["dividend"] = df["dividend"].fillna(0.0) if "dividend" in df else 0.0
        split = df["split"].fillna(0.0) if "split" in df else pd.Series(0.0, index=df.index)
        df["split"] = split.where(split > 0, 1.0)  # yfinance writes 0 for "no split"
        df["source"] = "yfinance"
        out[t] = df
    return out


def download(tickers, start=None, end=None) -> dict[str, pd.DataFrame]:
    """Download ``tickers`` from yfinance; :class:`NetworkError` for every ticker that came back empty."""
    tickers = list(tickers)
    try:
        raw = _yf_download(tickers, start, end)
    except Exception as exc:  # yfinance raises many things when offline
        raise NetworkError(
            f"download of {', '.join(tickers)} failed ({type(exc).__name__}: {exc}); "
            f"no network? use --offline for the bundled snapshot"
        ) from exc
    got = parse_yfinance(raw, tickers)
    empty = [t for t in tickers if t not in got]
    if empty:
        raise NetworkError(
            f"yfinance returned no data for {', '.join(empty)} (network unreachable or unknown symbol); "
            f"use --offline for the bundled snapshot"
        )
    return got


def refresh(tickers, start=None, end=None, *, cache_dir=None, max_gap: int | None = DEFAULT_MAX_GAP) -> pd.DataFrame:
    """Download ``tickers`` and merge them into the cache, atomically per ticker.

    Nothing is written unless the download for that ticker is non-empty and validates;
    new rows take precedence over cached ones on the same date. Returns a coverage
    table of what was written.
    """
    got = download(tickers, start, end)
    rows = []
    for t, new in got.items():
        merged = merge_into_cache(t, new, cache_dir, max_gap=max_gap)
        rows.append(_coverage_row(t, "cache", merged))
    return pd.DataFrame(rows)


def merge_into_cache(ticker: str, new: pd.DataFrame, cache_dir=None, *, max_gap: int | None = DEFAULT_MAX_GAP,
                     exchange: str = DEFAULT_EXCHANGE) -> pd.DataFrame:
    """Merge a downloaded frame into the cached one (new rows win), validate, write atomically.

    The cache only grows: a download covering a shorter span never drops cached dates.
    ``max_gap=None`` skips the validation (for callers that validated already).
    """
    old = read_cache(ticker, cache_dir)
    merged = new if old is None else new.combine_first(old)[new.columns.union(old.columns, sort=False)]
    merged = merged.sort_index()
    if max_gap is not None:
        validate_prices(merged, ticker, max_gap=max_gap, exchange=exchange)
    merged.attrs = {}
    write_cache(ticker, merged, cache_dir)
    return merged


# --------------------------------------------------------------------------- loading
def _covers(df: pd.DataFrame, start, end) -> bool:
    if df is None or len(df) == 0:
        return False
    return (start is None or df.index[0] <= start) and (end is None or df.index[-1] >= end - pd.Timedelta(days=4))


def _load_one(ticker, start, end, source, offline, data_dir, cache_dir, universe_tickers):
    if source in ("auto", "cache"):
        cached = read_cache(ticker, cache_dir)
        if cached is not None and (source == "cache" or _covers(cached, start, end)):
            return cached, "cache"
        if source == "cache":
            raise DataError(f"{ticker}: not in the cache {cache_path(ticker, cache_dir)}: run `potash-impact data --refresh`")
    if source in ("auto", "snapshot"):
        if (snapshot_dir(data_dir) / f"{ticker}.csv").is_file():
            snap = read_snapshot(ticker, data_dir)
            # online, "auto" goes live for a span the snapshot does not reach; offline it uses what is there
            if source == "snapshot" or offline or _covers(snap, start, end):
                return snap, "snapshot"
            return None, "yfinance"
        if source == "snapshot" or offline:
            if universe_tickers is not None and ticker not in universe_tickers:
                raise DataError(
                    f"unknown ticker {ticker!r}: not in the snapshot ({', '.join(snapshot_tickers(data_dir))}) "
                    f"nor in universe.csv; check the spelling"
                )
            raise NotInSnapshotError(_not_in_snapshot_msg(ticker, data_dir))
    if offline:
        raise NetworkError(f"{ticker}: source='yfinance' needs the network but offline mode is on")
    return None, "yfinance"


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
) -> pd.DataFrame:
    """Daily prices of ``tickers`` from ``start`` to ``end`` (inclusive).

    Parameters
    ----------
    tickers : str or list of str
    start, end : date-like, optional
    source : {"auto", "cache", "snapshot", "yfinance"}
        ``auto`` = cache if it covers the span, else the bundled snapshot, else a live
        yfinance download (written to the cache).
    offline : bool, optional
        Never touch the network. Default: ``$POTASH_IMPACT_OFFLINE``.
    data_dir, cache_dir : path, optional
        See :mod:`analysis.config`.
    validate : bool
        Run :func:`validate_prices` on each ticker.

    Returns
    -------
    DataFrame
        MultiIndex columns ``(field, ticker)``; ``.attrs["sources"]`` maps each ticker to
        where it came from, ``.attrs["vintage"]`` to its last date.
    """
    if isinstance(tickers, str):
        tickers = [tickers]
    tickers = list(dict.fromkeys(str(t).strip() for t in tickers))
    if not tickers or any(not t for t in tickers):
        raise DataError(f"no tickers given ({tickers!r}): pass e.g. ['NTR', 'SPY']")
    if source not in SOURCES:
        raise DataError(f"unknown source {source!r}: use one of {', '.join(SOURCES)}")
    start, end = parse_date(start, "start"), parse_date(end, "end")
    if start is not None and end is not None and start > end:
        raise DataError(f"start {start.date()} is after end {end.date()}")
    offline = config.is_offline(offline)
    try:
        from .catalog import load_universe

        universe = load_universe(data_dir)
        universe_tickers = set(universe["ticker"])
        calendars = dict(zip(universe["ticker"], universe["calendar"]))
    except Exception:
        universe_tickers, calendars = None, {}

    frames: dict[str, pd.DataFrame] = {}
    sources: dict[str, str] = {}
    live = []
    for t in tickers:
        df, src = _load_one(t, start, end, source, offline, data_dir, cache_dir, universe_tickers)
        if df is None:
            live.append(t)
        else:
            frames[t], sources[t] = df, src
    if live:
        got = download(live, start, end)
        for t, df in got.items():
            exchange = calendars.get(t, DEFAULT_EXCHANGE)
            if validate:
                validate_prices(df, t, max_gap=max_gap, exchange=exchange)
            merge_into_cache(t, df, cache_dir, max_gap=max_gap if validate else None, exchange=exchange)
            frames[t], sources[t] = df, "yfinance"

    sliced = {}
    for t in tickers:
        df = frames[t]
        if validate and sources[t] != "yfinance":  # downloads were validated before caching
            validate_prices(df, t, max_gap=max_gap, exchange=calendars.get(t, DEFAULT_EXCHANGE))
        s = df.loc[start:end] if (start is not None or end is not None) else df
        if len(s) == 0:
            raise DataError(
                f"{t}: no data between {start.date() if start is not None else '...'} and "
                f"{end.date() if end is not None else '...'} ({sources[t]} covers "
                f"{df.index[0].date()} to {df.index[-1].date()})"
            )
        sliced[t] = s

    fields = [f for f in FIELDS if any(f in s.columns for s in sliced.values())]
    wide = pd.concat(
        {f: pd.DataFrame({t: s[f] if f in s.columns else np.nan for t, s in sliced.items()}) for f in fields},
        axis=1,
        names=["field", "ticker"],
    )
    wide.index = pd.DatetimeIndex(wide.index, name="date")
    wide = wide.sort_index()
    wide.attrs["sources"] = sources
    wide.attrs["vintage"] = {t: str(s.index[-1].date()) for t, s in sliced.items()}
    return wide


def total_returns(prices: pd.DataFrame) -> pd.DataFrame:
    """Simple daily total returns ``(close_t + dividend_t) / close_{t-1} - 1``, dates x tickers.

    ``prices`` is a :func:`load_prices` frame (MultiIndex ``(field, ticker)``) or one
    ticker's frame with ``close`` and ``dividend`` columns. The close is split-adjusted
    and the dividend is on the same basis (yfinance's ``auto_adjust=False`` convention),
    so no split factor is applied. A return next to a missing close is NaN; the first
    row (no previous close) is dropped.
    """
    if isinstance(prices.columns, pd.MultiIndex):
        close, div = prices["close"], prices["dividend"].fillna(0.0)
    else:
        close, div = prices[["close"]], prices[["dividend"]].fillna(0.0).rename(columns={"dividend": "close"})
    prev = close.shift(1)
    r = (close + div) / prev - 1.0
    r = r.iloc[1:]
    r.columns.name = "ticker"
    r.index.name = "date"
    r.attrs = dict(prices.attrs)
    return r


def load_returns(tickers, start=None, end=None, **kwargs) -> pd.DataFrame:
    """Total returns of ``tickers``: :func:`total_returns` of :func:`load_prices` (same keyword arguments).

    ``start`` is the first *return* date; one extra session before it is loaded for the
    previous close.
    """
    s = parse_date(start, "start")
    pad = None if s is None else s - pd.Timedelta(days=10)
    r = total_returns(load_prices(tickers, pad, end, **kwargs))
    return r.loc[s:] if s is not None else r


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


def coverage(data_dir=None, cache_dir=None) -> pd.DataFrame:
    """One row per ticker and source (snapshot, cache): first and last date, rows, dividend count."""
    rows = [_coverage_row(t, "snapshot", read_snapshot(t, data_dir)) for t in snapshot_tickers(data_dir)]
    cdir = config.cache_dir(cache_dir) / "prices"
    if cdir.is_dir():
        for p in sorted(cdir.glob("*.parquet")):
            df = read_cache(p.stem, cache_dir)
            if df is not None:
                rows.append(_coverage_row(p.stem, "cache", df))
    return pd.DataFrame(rows, columns=["ticker", "source", "first", "last", "rows", "dividends"])


def snapshot_vintage(data_dir=None) -> dict:
    """The snapshot's provenance record (``data/snapshot.json``): vintage and per-file checksums."""
    path = config.data_dir(data_dir) / "snapshot.json"
    if not path.is_file():
        return {"vintage": "unknown", "note": f"{path} not found"}
    return json.loads(path.read_text())


__all__ = [
    "load_prices",
    "load_returns",
    "total_returns",
    "validate_prices",
    "read_snapshot",
    "snapshot_tickers",
    "read_cache",
    "write_cache",
    "parse_yfinance",
    "download",
    "refresh",
    "merge_into_cache",
    "coverage",
    "snapshot_vintage",
    "parse_date",
]

