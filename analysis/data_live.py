"""Live prices from yfinance: download, parse, gate, and refresh the cache.

yfinance is called with ``auto_adjust=False, actions=True``, so raw (split-adjusted, not
dividend-adjusted) ``Close``, ``Dividends`` and ``Stock Splits`` come back -- the
convention of the bundled snapshot. Every download is checked by the data-quality gate
(:mod:`analysis.quality`) before it is used or cached. Never called when
``offline=True`` or ``POTASH_IMPACT_OFFLINE=1``.
"""

from __future__ import annotations

import warnings

import pandas as pd

from .errors import DataError, NetworkError

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

OFFLINE_HINT = "no network? pass offline=True (CLI: --offline, or POTASH_IMPACT_OFFLINE=1) to use the bundled snapshot"


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

    Parameters
    ----------
    raw : DataFrame
        yfinance 1.x's shapes: MultiIndex columns ``(Price, Ticker)`` (the default,
        ``group_by="column"``), ``(Ticker, Price)`` (``group_by="ticker"``), or flat
        columns for a single ticker.
    tickers : list of str

    Returns
    -------
    dict
        ``{ticker: frame}`` with ``close, dividend, split, volume`` (and ``open, high,
        low, adj_close``), ``source = "yfinance"``. Tickers whose closes are all missing
        are left out (yfinance's signal that their download failed).

    Raises
    ------
    DataError
        Flat columns for more than one ticker.

    Examples
    --------
    >>> idx = pd.DatetimeIndex(["2025-12-12", "2025-12-15"], name="Date")  # a SYNTHETIC two-row download
    >>> raw = pd.DataFrame({("Close", "NTR"): [62.84, 61.85], ("Dividends", "NTR"): [0.0, 0.0],
    ...                     ("Stock Splits", "NTR"): [0.0, 0.0], ("Volume", "NTR"): [1e6, 2e6]}, index=idx)
    >>> parse_yfinance(raw, ["NTR"])["NTR"][["close", "split"]].values.tolist()
    [[62.84, 1.0], [61.85, 1.0]]
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


def download(tickers, start=None, end=None, *, data_dir=None, check: bool = True) -> dict[str, pd.DataFrame]:
    """Download ``tickers`` from yfinance, each checked by the data-quality gate.

    Parameters
    ----------
    tickers : list of str
    start, end : date-like, optional
        Inclusive.
    data_dir : path-like, optional
        The case whose ``known_moves.csv`` and ``on_bad_data`` apply.
    check : bool
        Run the gate. Under ``on_bad_data = "exclude"`` a flagged frame carries
        ``attrs["excluded"]`` (its reason) instead of raising.

    Returns
    -------
    dict
        ``{ticker: frame}``; ``attrs["quality"]`` lists each frame's findings.

    Raises
    ------
    NetworkError
        The download failed, or came back empty for some ticker (named).
    DataQualityError
        A downloaded series fails the gate (ticker, date, value, rule named).

    Examples
    --------
    >>> got = download(["SDF.DE"], "2025-12-01", "2025-12-31")  # doctest: +SKIP
    """
    tickers = list(tickers)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # yfinance's own noise; failures surface below
            raw = _yf_download(tickers, start, end)
    except Exception as exc:  # yfinance raises many things when offline
        raise NetworkError(f"download of {', '.join(tickers)} failed ({type(exc).__name__}: {exc}); {OFFLINE_HINT}") from exc
    got = parse_yfinance(raw, tickers)
    empty = [t for t in tickers if t not in got]
    if empty:
        raise NetworkError(
            f"yfinance returned no data for {', '.join(empty)} (network unreachable or unknown symbol); {OFFLINE_HINT}"
        )
    if check:
        from . import quality

        pol = quality.case_policy(data_dir)
        for t, df in got.items():
            found, reason = quality.gate(df, t, known_moves=pol["known_moves"], on_bad_data=pol["on_bad_data"],
                                         where="the yfinance download", known_moves_path=pol["known_moves_path"],
                                         protected=pol["protected"])
            df.attrs["quality"] = quality.findings_records(found)
            if reason:
                df.attrs["excluded"] = reason
    return got


def refresh(tickers, start=None, end=None, *, cache_dir=None, max_gap: int | None = 5, data_dir=None) -> pd.DataFrame:
    """Download ``tickers`` and merge them into the cache, atomically per ticker.

    Nothing is written unless the download for that ticker is non-empty, validates and
    passes the gate; new rows take precedence over cached ones on the same date.

    Parameters
    ----------
    tickers : list of str
    start, end : date-like, optional
    cache_dir, data_dir : path-like, optional
    max_gap : int or None
        See :func:`analysis.data.validate_prices`.

    Returns
    -------
    DataFrame
        Coverage of what was written: ``ticker, source, first, last, rows, dividends``.

    Raises
    ------
    NetworkError, DataQualityError
        As :func:`download`.
    WriteError
        The cache could not be written (the path and the OS error are named).

    Examples
    --------
    >>> refresh(["NTR", "SPY"], "2026-09-01")  # doctest: +SKIP
    """
    from .data import _coverage_row
    from .data_cache import merge_into_cache

    got = download(tickers, start, end, data_dir=data_dir)
    rows = []
    for t, new in got.items():
        if new.attrs.get("excluded"):
            warnings.warn(f"{t}: not cached: {new.attrs['excluded']}", UserWarning, stacklevel=2)
            continue
        merged = merge_into_cache(t, new, cache_dir, max_gap=max_gap)
        rows.append(_coverage_row(t, "cache", merged))
    return pd.DataFrame(rows, columns=["ticker", "source", "first", "last", "rows", "dividends"])


__all__ = ["parse_yfinance", "download", "refresh", "OFFLINE_HINT"]
