"""The World Bank Pink Sheet: parse its monthly workbook, download it, and refresh the commodity cache.

The Pink Sheet is the World Bank's monthly commodity price release
(``CMO-Historical-Data-Monthly.xlsx``, sheet ``Monthly Prices``): a few title rows (one of
them ``Updated on <date>``, which becomes the vintage), a header row with the series names,
a units row, then one row per month dated ``YYYYMmm``, with ``…`` for a missing value.
:func:`parse_pink_sheet` reads the fertilizer series (:data:`PINK_SHEET_COLUMNS`);
:func:`refresh_commodities` downloads the workbook, parses and validates it and writes the
cache that :func:`analysis.commodity_data.load_commodity_prices` reads first.

Nothing is written unless every step succeeds: the download (:class:`NetworkError`), the
parse (:class:`DataError`), a potash column, and at least as many months as the cache
already holds (a shorter file is taken as a partial download). The write goes through
:func:`analysis._io.atomic_write_bytes` (temporary file in the same folder, fsync,
:func:`os.replace`), so the cache is the old file or the complete new one.
"""

from __future__ import annotations

import http.client
import io
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from . import config
from ._io import atomic_write_bytes
from .commodity_data import SERIES, _finish, _read_cache, commodity_cache_path, validate_commodities
from .errors import DataError, NetworkError

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

    Parameters
    ----------
    path_or_buffer : path, file-like or bytes
        The workbook.
    sheet : str
        The sheet name.

    Returns
    -------
    DataFrame
        As :func:`load_commodity_prices`: ``PeriodIndex`` ``month`` x the fertilizer
        columns found; ``attrs["vintage"]`` is the "Updated on" date (ISO) when the
        sheet states one.

    Raises
    ------
    DataError
        Not a workbook, or the sheet, the header row, the potash column or the monthly
        rows are missing.

    Examples
    --------
    >>> parse_pink_sheet(b"<html>moved</html>")
    Traceback (most recent call last):
    ...
    analysis.errors.DataError: Pink Sheet: not a readable .xlsx workbook (BadZipFile: File is not a zip file)
    """
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if isinstance(path_or_buffer, (bytes, bytearray)):
        path_or_buffer = io.BytesIO(path_or_buffer)
    try:
        wb = load_workbook(path_or_buffer, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, OSError, KeyError, ValueError, EOFError) as exc:
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
    """Write a validated commodity frame to the cache atomically (:func:`analysis._io.atomic_write_bytes`).

    Parameters
    ----------
    frame : DataFrame
        As :func:`load_commodity_prices` returns; ``attrs["vintage"]`` is stored.
    cache_dir : path, optional
        See :func:`analysis.config.cache_dir`.

    Returns
    -------
    pathlib.Path
        :func:`commodity_cache_path`.

    Raises
    ------
    DataError
        The frame fails :func:`validate_commodities`.
    WriteError
        The OS refused the write; the previous cache file is intact.

    Examples
    --------
    >>> import tempfile
    >>> from analysis.commodity_data import potash_prices
    >>> p = write_commodity_cache(potash_prices("2025-11", "2026-02"), tempfile.mkdtemp())
    >>> p.name
    'commodity_prices.parquet'
    """
    validate_commodities(frame, where="commodity frame to cache", primary=None)
    out = frame.copy()
    out.attrs = {}
    out.insert(0, "month", out.index.astype(str))
    out["vintage"] = frame.attrs.get("vintage", "unknown")
    buf = io.BytesIO()
    out.reset_index(drop=True).to_parquet(buf, index=False)
    return atomic_write_bytes(commodity_cache_path(cache_dir), buf.getvalue())


#: What a failed download raises: URLError/HTTPError/timeouts are OSError; a bad URL is ValueError;
#: a connection cut mid-body is an http.client.HTTPException (IncompleteRead).
_DOWNLOAD_ERRORS = (OSError, ValueError, http.client.HTTPException)


def refresh_commodities(url: str | None = None, cache_dir=None, offline: bool | None = None, *, timeout: float = 60.0) -> pd.DataFrame:
    """Download the World Bank monthly workbook, parse, validate and update the cache atomically.

    Nothing is written unless every step succeeds: the download (:class:`NetworkError`
    otherwise, also when offline), the parse (:class:`DataError`), a potash column,
    and at least as many potash months as the cache already holds (a shorter file is
    taken as a partial download and refused).

    Parameters
    ----------
    url : str, optional
        The workbook's link; default ``$POTASH_IMPACT_PINK_SHEET_URL``, else
        :data:`PINK_SHEET_URL`.
    cache_dir : path, optional
        See :func:`analysis.config.cache_dir`.
    offline : bool, optional
        See :func:`analysis.config.is_offline`.
    timeout : float
        Seconds for the download.

    Returns
    -------
    DataFrame
        The new frame (``attrs["source"] == "cache"``).

    Raises
    ------
    NetworkError
        Offline, the download failed or came back empty.
    DataError
        Not a Pink Sheet workbook, or fewer months than the cache holds.
    WriteError
        The cache could not be written (the previous one is intact).

    Examples
    --------
    >>> refresh_commodities(offline=True)
    Traceback (most recent call last):
    ...
    analysis.errors.NetworkError: refresh_commodities needs the network but offline mode is on: use the bundled series
    """
    if config.is_offline(offline):
        raise NetworkError("refresh_commodities needs the network but offline mode is on: use the bundled series")
    url = url or os.environ.get("POTASH_IMPACT_PINK_SHEET_URL") or PINK_SHEET_URL
    try:
        payload = _download(url, timeout)
    except _DOWNLOAD_ERRORS as exc:
        raise NetworkError(
            f"download of the Pink Sheet from {url} failed ({type(exc).__name__}: {exc}); "
            f"check the network or pass the current link as url= (see worldbank.org/en/research/commodity-markets)"
        ) from exc
    if not payload:
        raise NetworkError(f"the Pink Sheet download from {url} came back empty: the cache is unchanged")
    new = parse_pink_sheet(payload)
    if new.attrs.get("vintage") in (None, "unknown"):
        new.attrs["vintage"] = f"downloaded {pd.Timestamp.now(tz='UTC').date()}"
    old = _read_cache(cache_dir, "potash")
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


__all__ = [
    "PINK_SHEET_URL",
    "PINK_SHEET_SHEET",
    "PINK_SHEET_COLUMNS",
    "parse_pink_sheet",
    "refresh_commodities",
    "write_commodity_cache",
]
