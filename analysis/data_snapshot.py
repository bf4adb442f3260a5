"""The offline snapshot of a case: per-ticker CSV files, read strictly and memoized.

A case keeps its daily bars in ``<data>/prices/<TICKER>.csv`` and, for the peers
cross-section, ``<data>/peers/prices/<TICKER>.csv`` (:data:`analysis.case.PRICE_DIRS`, looked
up in that order). Columns ``date,close,volume,dividend,split,source`` (see
``data/README.md``). Each file is read by :func:`analysis.quality.read_price_csv`, which
refuses a truncated file or an incomplete row naming the file and line, and keeps an
empty dividend as *unknown* (NaN). Parsed files are memoized per process by path,
modification time, size and inode, so an edited file is read again.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pandas as pd

from . import config
from .errors import NotInSnapshotError

def price_dirs(data_dir=None) -> list[Path]:
    """The case's price folders, in lookup order: ``prices/``, then ``peers/prices/`` if present.

    Parameters
    ----------
    data_dir : path-like, optional
        The case folder (default :func:`analysis.config.data_dir`).

    Returns
    -------
    list of pathlib.Path
        The existing folders (``[<data>/prices]`` if none exists).

    Examples
    --------
    >>> [p.name for p in price_dirs()][:1]
    ['prices']
    """
    from .case import PRICE_DIRS  # the one list of price folders (Case.price_dirs uses it too)

    root = config.data_dir(data_dir)
    dirs = [root / p for p in PRICE_DIRS]
    return [d for d in dirs if d.is_dir()] or dirs[:1]


def snapshot_dir(data_dir=None) -> Path:
    """The case's main folder of per-ticker CSV files (``<data>/prices``).

    Parameters
    ----------
    data_dir : path-like, optional

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> snapshot_dir().name
    'prices'
    """
    return config.data_dir(data_dir) / "prices"


def snapshot_path(ticker: str, data_dir=None) -> Path | None:
    """The snapshot CSV of ``ticker`` (first of :func:`price_dirs` holding it), or None.

    Parameters
    ----------
    ticker : str
    data_dir : path-like, optional

    Returns
    -------
    pathlib.Path or None

    Raises
    ------
    IdentifierError
        ``ticker`` is not a valid ticker (``../evil`` never reaches the file system).

    Examples
    --------
    >>> snapshot_path("HON").parent.as_posix().endswith("peers/prices"), snapshot_path("NTR.TO")
    (True, None)
    """
    from .ids import check_ticker

    check_ticker(ticker, "ticker")
    for d in price_dirs(data_dir):
        if (d / f"{ticker}.csv").is_file():
            return d / f"{ticker}.csv"
    return None


def snapshot_tickers(data_dir=None) -> list[str]:
    """Tickers present in the case's snapshot (main prices and peers), sorted.

    Parameters
    ----------
    data_dir : path-like, optional

    Returns
    -------
    list of str

    Examples
    --------
    >>> len(snapshot_tickers()), snapshot_tickers()[:3]
    (58, ['AAPL', 'ADM', 'AGCO'])
    """
    from .ids import TICKER_RE

    return sorted({p.stem for d in price_dirs(data_dir) for p in d.glob("*.csv") if TICKER_RE.match(p.stem)})


@functools.lru_cache(maxsize=256)
def _parse_snapshot(path: str, ticker: str, stamp: tuple) -> pd.DataFrame:
    from .quality import read_price_csv

    return read_price_csv(path, ticker)


def read_snapshot(ticker: str, data_dir=None, *, check: bool = True) -> pd.DataFrame:
    """One ticker from the snapshot, read strictly and (``check``) through the quality gate.

    Parameters
    ----------
    ticker : str
    data_dir : path-like, optional
        The case folder.
    check : bool
        Run the gate with the case's ``known_moves.csv`` and ``on_bad_data``.

    Returns
    -------
    DataFrame
        ``DatetimeIndex`` ``date`` x ``close, volume, dividend, split, source``;
        ``attrs``: ``source`` ("snapshot"), ``path``, and with ``check`` ``quality``
        (findings) and, under ``on_bad_data = "exclude"``, ``excluded`` (the reason).

    Raises
    ------
    NotInSnapshotError
        No file for ``ticker``.
    DataQualityError, DataError
        A truncated or malformed file (file and line named), or a gate error.

    Examples
    --------
    >>> float(read_snapshot("MOS").loc["2025-12-15", "close"])
    24.86
    """
    path = snapshot_path(ticker, data_dir)
    if path is None:
        raise NotInSnapshotError(_not_in_snapshot_msg(ticker, data_dir))
    st = path.stat()
    df = _parse_snapshot(str(path), ticker, (st.st_mtime_ns, st.st_size, st.st_ino)).copy()
    df.attrs = {"source": "snapshot", "path": str(path)}
    if check:
        from .data import _ORIGINS, _gate, _policy

        df["_origin"] = _ORIGINS.index("snapshot")
        df.attrs["quality"], reason = _gate(df, ticker, _policy(data_dir))
        df = df.drop(columns="_origin")
        if reason:
            df.attrs["excluded"] = reason
    return df


def _not_in_snapshot_msg(ticker: str, data_dir=None) -> str:
    have = ", ".join(snapshot_tickers(data_dir)) or "none"
    return (
        f"{ticker} is not in the offline snapshot (it has: {have}); only the live yfinance path can fetch it: "
        f"run online (offline=False; CLI: without --offline) on a machine with network"
    )


def snapshot_vintage(data_dir=None) -> dict:
    """The snapshot's provenance record (``data/snapshot.json``): vintage and per-file checksums.

    Parameters
    ----------
    data_dir : path-like, optional

    Returns
    -------
    dict
        ``vintage``, ``copied_from``, ``copied_on``, ``refreshed``, ``coverage``,
        ``sha256``; ``{"vintage": "unknown", "note": ...}`` without the file.

    Examples
    --------
    >>> snapshot_vintage()["coverage"]["LXU"]["first"]
    '2024-11-01'
    """
    path = config.data_dir(data_dir) / "snapshot.json"
    if not path.is_file():
        return {"vintage": "unknown", "note": f"{path} not found"}
    return json.loads(path.read_text())


__all__ = ["price_dirs", "snapshot_dir", "snapshot_path", "snapshot_tickers", "read_snapshot", "snapshot_vintage"]
