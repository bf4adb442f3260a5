"""The Parquet price cache: one validated file per ticker, written atomically, never trusted blindly.

``<cache>/prices/<TICKER>.parquet`` (:func:`analysis.config.cache_dir`:
``$POTASH_IMPACT_CACHE`` or ``~/.cache/potash-impact``) holds live downloads, merged so
the cache only grows. Rules:

* **Reading validates.** A file that cannot be read (truncated, no permission), has a bad
  schema (no ``date`` column or a non-date index, so never a 1970-01-01 index), a text
  close or volume, no rows, or fails the data-quality gate (:mod:`analysis.quality`) is
  skipped with **one** :class:`UserWarning` naming the file and the cause; the caller
  then serves the snapshot. The file is left in place for the next refresh to replace.
* **Writing is atomic** (:func:`analysis._io.atomic_write_bytes`): a reader sees the old
  or the new file, never a mixture; an empty frame is refused and the old file kept.
* **The cache never makes the data worse**: :func:`analysis.data.load_prices` merges the
  cache with the snapshot by date (the union; a validated cache value wins on a date both
  hold), so a partial cache cannot shrink a ticker's coverage.

Why Parquet (pyarrow): typed columns and dates round-trip exactly, and a half-written
file fails to open instead of being silently mis-parsed.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from . import config
from .errors import DataError, PotashImpactError

NUMERIC_FIELDS = ("open", "high", "low", "close", "adj_close", "volume", "dividend", "split")


def cache_path(ticker: str, cache_dir=None) -> Path:
    """The Parquet file of one ticker in the cache.

    Parameters
    ----------
    ticker : str
        Checked against :data:`analysis.ids.TICKER_RE`, so it cannot leave the folder.
    cache_dir : path-like, optional
        Default :func:`analysis.config.cache_dir`.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    IdentifierError
        ``ticker`` is not a valid ticker (``../evil``).

    Examples
    --------
    >>> cache_path("NTR", "/tmp/c").as_posix()
    '/tmp/c/prices/NTR.parquet'
    """
    from .ids import check_ticker

    check_ticker(ticker, "cache")
    return config.cache_dir(cache_dir) / "prices" / f"{ticker}.parquet"


def _schema_problem(df: pd.DataFrame) -> str | None:
    """Why a cached frame cannot be used, or None."""
    if not isinstance(df.index, pd.DatetimeIndex):
        return "no date column (the index would read as 1970-01-01 offsets)"
    if df.index.hasnans:
        return "missing dates"
    if len(df) == 0:
        return "no rows"
    if "close" not in df.columns:
        return f"no close column (has {', '.join(map(str, df.columns))})"
    for col in NUMERIC_FIELDS:
        if col in df.columns and not (pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col])):
            return f"column {col} holds {df[col].dtype} values, not numbers"
    close = df["close"].to_numpy(dtype=float)
    if not np.isfinite(close).any():
        return "no close values"
    if (close[np.isfinite(close)] <= 0).any():
        return "a non-positive close"
    if df.index.has_duplicates:
        return f"duplicate date {df.index[df.index.duplicated()][0].date()}"
    return None


def read_cache(ticker: str, cache_dir=None, *, check: bool = True, data_dir=None) -> pd.DataFrame | None:
    """A cached ticker, or ``None`` on a miss or an unusable file (one warning naming it).

    Parameters
    ----------
    ticker : str
    cache_dir : path-like, optional
    check : bool
        Also run the data-quality gate (:func:`analysis.quality.check`, with the case's
        ``known_moves.csv``); a file with an error-level finding is skipped with a warning.
    data_dir : path-like, optional
        The case whose accepted moves apply (default: the bundled case).

    Returns
    -------
    DataFrame or None
        ``DatetimeIndex`` ``date``, sorted; ``attrs["source"] = "cache"``,
        ``attrs["path"]`` the file.

    Examples
    --------
    >>> read_cache("NTR", "/nonexistent") is None
    True
    """
    path = cache_path(ticker, cache_dir)
    if not path.is_file():
        return None
    try:
        df = pd.read_parquet(path)
        if "date" in df.columns:
            if not pd.api.types.is_datetime64_any_dtype(df["date"]):
                raise _Skip(f"its date column holds {df['date'].dtype} values, not dates")
            df = df.set_index("date")
        if isinstance(df.index, pd.DatetimeIndex):
            df.index = pd.DatetimeIndex(df.index.tz_localize(None) if df.index.tz is not None else df.index, name="date")
        problem = _schema_problem(df)
        if problem:
            raise _Skip(problem)
        df = df.sort_index()
        if check:
            from . import quality

            pol = quality.case_policy(data_dir)
            found = quality.check(df, known_moves=pol["known_moves"], ticker=ticker)
            bad = found[found["severity"] == "error"]
            if len(bad):
                raise _Skip(f"it fails the data-quality gate: {bad['message'].iloc[0]}")
    except _Skip as exc:
        _warn(ticker, path, str(exc))
        return None
    except PotashImpactError:
        raise
    except Exception as exc:  # pyarrow raises several types on truncated files; PermissionError, ...
        _warn(ticker, path, f"unreadable ({type(exc).__name__}: {exc})")
        return None
    df.attrs = {"source": "cache", "path": str(path)}
    return df


class _Skip(Exception):
    """A cache file that is readable but unusable."""


def _warn(ticker, path, why) -> None:
    warnings.warn(
        f"{ticker}: cache file {path} is skipped: {why}; the snapshot (or, online, a fresh download) serves instead. "
        f"The file is left in place and replaced by the next successful refresh.",
        UserWarning,
        stacklevel=3,
    )


def write_cache(ticker: str, frame: pd.DataFrame, cache_dir=None) -> Path:
    """Write one ticker atomically (temporary file, fsync, rename).

    Parameters
    ----------
    ticker : str
    frame : DataFrame
        ``DatetimeIndex`` x fields; at least one close.
    cache_dir : path-like, optional

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    DataError
        The frame is empty (the existing file is kept).
    WriteError
        The OS refused the write (read-only folder, disk full); nothing is left behind.

    Examples
    --------
    >>> import tempfile
    >>> from analysis.data import read_snapshot
    >>> d = tempfile.mkdtemp()
    >>> write_cache("NTR", read_snapshot("NTR").tail(3), d).name
    'NTR.parquet'
    """
    from ._io import atomic_write_bytes

    if frame is None or len(frame) == 0 or "close" not in frame or frame["close"].notna().sum() == 0:
        raise DataError(f"{ticker}: refusing to write an empty frame to the cache (the existing file is kept)")
    path = cache_path(ticker, cache_dir)
    out = frame.copy()
    out.attrs = {}
    out.index.name = "date"
    atomic_write_bytes(path, out.reset_index().to_parquet(index=False))
    return path


def merge_into_cache(ticker: str, new: pd.DataFrame, cache_dir=None, *, max_gap: int | None = 5,
                     exchange: str = "XNYS", old=False) -> pd.DataFrame:
    """Merge a downloaded frame into the cached one (new rows win), validate, write atomically.

    The cache only grows: a download covering a shorter span never drops cached dates.

    Parameters
    ----------
    ticker : str
    new : DataFrame
        The download.
    cache_dir : path-like, optional
    max_gap : int or None
        Passed to :func:`analysis.data.validate_prices`; None skips the validation.
    exchange : str
        The calendar of the gap check.
    old : DataFrame or None, optional
        The cached frame if the caller has read it already (so a bad file warns once);
        default: read it here.

    Returns
    -------
    DataFrame
        What was written.

    Raises
    ------
    WriteError
        The write failed (the caller decides whether that loses anything).
    DataValidationError
        The merged frame fails validation; nothing is written.

    Examples
    --------
    >>> import tempfile
    >>> from analysis.data import read_snapshot
    >>> d, ntr = tempfile.mkdtemp(), read_snapshot("NTR")
    >>> _ = merge_into_cache("NTR", ntr.iloc[-10:], d, max_gap=None)
    >>> len(merge_into_cache("NTR", ntr.iloc[-30:-5], d, max_gap=None))  # the union: the cache only grows
    30
    """
    if old is False:
        old = read_cache(ticker, cache_dir, check=False)
    new = new.drop(columns=[c for c in new.columns if str(c).startswith("_")])
    merged = new if old is None else new.combine_first(old)[new.columns.union(old.columns, sort=False)]
    merged = merged.sort_index()
    if max_gap is not None:
        from .data import validate_prices

        validate_prices(merged, ticker, max_gap=max_gap, exchange=exchange)
    merged.attrs = {}
    write_cache(ticker, merged, cache_dir)
    return merged


__all__ = ["cache_path", "read_cache", "write_cache", "merge_into_cache"]
