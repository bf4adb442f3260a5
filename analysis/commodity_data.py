"""Commodity price series of a case: loading and validation of the bundled file and the refreshed cache.

What the data is, and what it cannot do
---------------------------------------
A case's commodity series are monthly prices in one CSV, ``<case>/commodity_prices.csv``:
a ``month`` column (``YYYY-MM``), one column per series and a ``vintage`` column naming
the release each row comes from. Which column is the case's *primary* series is data,
not code: ``commodity = "..."`` in ``case.toml`` (:attr:`analysis.case.Case.settings`).

For the bundled potash case the series are the World Bank's *Pink Sheet* monthly
averages in nominal US dollars per metric tonne: potassium chloride (``potash``),
``urea``, ``dap``, ``tsp`` and ``phosphate_rock`` (provenance: ``data/COMMODITIES.md``).
**No daily potash benchmark is publicly available.** A monthly average blurs a
single-day event: the average of the event month mixes the days before and after the
news, so the cleanest before/after comparison is the month before the event against
the first full month after it (:mod:`analysis.commodity_events`).

Sources, in the order ``source="auto"`` tries them
--------------------------------------------------
1. **cache** -- ``<cache>/commodities/commodity_prices.parquet``, written only by
   :func:`analysis.pink_sheet.refresh_commodities` (the World Bank's
   ``CMO-Historical-Data-Monthly.xlsx``, downloaded, parsed and written atomically; a
   failed or partial refresh leaves the cache untouched). An unreadable cache is the one
   documented fallback: a warning names the file and the cause, and the bundled CSV serves.
2. **bundled** -- ``<case>/commodity_prices.csv``. A malformed file is an error naming
   the file and the line (an empty file, a row with a decimal comma such as ``12,5``,
   a text price, a bad month).

The frame every loader returns
------------------------------
``PeriodIndex`` (freq ``M``, named ``month``) x float series columns, months unique and
increasing, prices positive (NaN where the source has no value). ``attrs["vintage"]``
lists the vintages, ``attrs["source"]`` is ``cache``, ``bundled`` or ``pink-sheet`` and
``attrs["path"]`` the file.
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from . import config
from ._io import decode_utf8
from .case import as_case
from .errors import DataError

#: The fertilizer series of the World Bank Pink Sheet, in the order of :func:`potash_prices`.
SERIES = ("potash", "urea", "dap", "tsp", "phosphate_rock")
SOURCES = ("auto", "cache", "bundled")
BUNDLED_FILE = "commodity_prices.csv"
CACHE_FILE = "commodity_prices.parquet"
_CSV_MONTH_RE = re.compile(r"^\s*(\d{4})-(\d{2})\s*$")
_FIELDS_RE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_META_COLUMNS = ("month", "vintage")


# --------------------------------------------------------------------------- the case's settings
def primary_series(data_dir=None) -> str | None:
    """The case's primary commodity column: ``commodity`` of ``case.toml``, or None if it names none.

    Parameters
    ----------
    data_dir : path or Case, optional
        The case (see :func:`analysis.case.as_case`).

    Returns
    -------
    str or None

    Examples
    --------
    >>> primary_series()
    'potash'
    """
    value = as_case(data_dir).settings.get("commodity")
    return str(value) if value else None


def resolve_series(series: str | None, data_dir=None) -> str:
    """``series`` if given, else the case's primary commodity; a clear error if neither exists.

    Parameters
    ----------
    series : str or None
        A column of ``commodity_prices.csv``, or None for the case's ``commodity``.
    data_dir : path-like or Case, optional
        The case.

    Returns
    -------
    str

    Raises
    ------
    DataError
        No ``series`` given and ``case.toml`` names no ``commodity``.

    Examples
    --------
    >>> resolve_series(None), resolve_series("urea")
    ('potash', 'urea')
    """
    if series:
        return str(series)
    primary = primary_series(data_dir)
    if primary is None:
        raise DataError(
            f"{as_case(data_dir).root / 'case.toml'}: no 'commodity' setting: name the primary column of "
            f"{BUNDLED_FILE} there (commodity = \"...\") or pass series="
        )
    return primary


# --------------------------------------------------------------------------- loading
def _bundled_path(data_dir=None) -> Path:
    return as_case(data_dir).root / BUNDLED_FILE


def commodity_cache_path(cache_dir=None) -> Path:
    """The Parquet file :func:`refresh_commodities` writes.

    Parameters
    ----------
    cache_dir : path, optional
        See :func:`analysis.config.cache_dir`.

    Returns
    -------
    pathlib.Path
        ``<cache>/commodities/commodity_prices.parquet`` (it may not exist).

    Examples
    --------
    >>> commodity_cache_path("/tmp/c").as_posix()
    '/tmp/c/commodities/commodity_prices.parquet'
    """
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


def _read_csv_text(path: Path) -> pd.DataFrame:
    """The CSV as text cells (missing = NaN), or a :class:`DataError` naming the file and line."""
    text = decode_utf8(path.read_bytes(), path)
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{path}: the file is empty: it needs a header row (month, <series>..., vintage) and one row per month"
        ) from None
    except pd.errors.ParserError as exc:
        m = _FIELDS_RE.search(str(exc))
        if m:
            want, line, got = m.groups()
            raise DataError(
                f"{path}:{line}: {got} fields where the header has {want}: a decimal comma (write 12.5, not 12,5) "
                f"or an unquoted comma in a text field"
            ) from None
        raise DataError(f"{path}: not a readable CSV file ({str(exc).strip()})") from None


def _parse_bundled(raw: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, pd.Series]:
    """Months and float values from the text cells, each bad cell named by file, line and column."""
    if "month" not in raw.columns:
        raise DataError(f"{path}: no 'month' column (have {', '.join(map(str, raw.columns))}): use YYYY-MM months")
    lines = pd.Series(np.arange(len(raw)) + 2, index=raw.index)  # the header is line 1; blank lines kept
    blank = raw.isna().all(axis=1)
    raw, lines = raw[~blank], lines[~blank]
    months = []
    for line, value in zip(lines, raw["month"]):
        m = _CSV_MONTH_RE.match(str(value)) if isinstance(value, str) else None
        if m is None or not 1 <= int(m.group(2)) <= 12:
            raise DataError(f"{path}:{line}: month {value!r} is not a YYYY-MM month (e.g. 2025-12)")
        months.append(pd.Period(year=int(m.group(1)), month=int(m.group(2)), freq="M"))
    values = raw.drop(columns=[c for c in _META_COLUMNS if c in raw.columns])
    out = {}
    for col in values.columns:
        text = values[col]
        num = pd.to_numeric(text.str.strip(), errors="coerce")
        bad = num.isna() & text.notna() & (text.str.strip() != "")
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise DataError(
                f"{path}:{int(lines.iloc[i])}: {col} = {text.iloc[i]!r} is not a number: write prices with a "
                f"decimal point (12.5) and leave a missing month empty"
            )
        out[col] = num.to_numpy(dtype=float)
    frame = pd.DataFrame(out, index=pd.PeriodIndex(months, freq="M", name="month"), columns=list(values.columns))
    vint = raw["vintage"] if "vintage" in raw.columns else pd.Series(dtype=str)
    return frame, vint


def _read_bundled(data_dir=None) -> pd.DataFrame:
    path = _bundled_path(data_dir)
    if not path.is_file():
        raise DataError(
            f"no commodity file at {path}: a case folder needs {BUNDLED_FILE} "
            f"(columns month, <series>..., vintage), or run refresh_commodities() online"
        )
    frame, vint = _parse_bundled(_read_csv_text(path), path)
    if len(frame) == 0:
        raise DataError(f"{path}: a header but no monthly rows: add one row per month")
    return validate_commodities(
        _finish(frame, vint, "bundled", path), where=str(path), primary=primary_series(data_dir)
    )


#: What an unreadable cache file raises (pyarrow's errors subclass these or ArrowException).
def _cache_errors() -> tuple:
    import pyarrow

    return (OSError, ValueError, KeyError, TypeError, pyarrow.ArrowException)


def _read_cache(cache_dir=None, primary: str | None = None) -> pd.DataFrame | None:
    path = commodity_cache_path(cache_dir)
    if not path.is_file():
        return None
    try:
        raw = pd.read_parquet(path)
        months = pd.PeriodIndex(raw["month"].astype(str), freq="M")
        vint = raw["vintage"] if "vintage" in raw.columns else pd.Series(dtype=str)
        values = raw.drop(columns=[c for c in _META_COLUMNS if c in raw.columns])
        values.index = months
        return validate_commodities(_finish(values, vint, "cache", path), where=str(path), primary=primary)
    except _cache_errors() as exc:  # documented fallback: warn, naming the cause; the bundled file serves
        warnings.warn(
            f"commodity cache {path} is unreadable ({type(exc).__name__}: {exc}); using the bundled file. "
            f"It is left in place and replaced by the next successful refresh_commodities().",
            UserWarning,
            stacklevel=3,
        )
        return None


def validate_commodities(frame: pd.DataFrame, *, where: str = "commodity prices", primary: str | None = "potash") -> pd.DataFrame:
    """Check a commodity frame: months unique and increasing, prices positive, the primary series present.

    Parameters
    ----------
    frame : DataFrame
        ``PeriodIndex`` months x float series.
    where : str
        Names the source in error messages (a file path).
    primary : str or None
        The column that must be present with at least one value (the case's
        ``commodity``). None: at least one column must have a value.

    Returns
    -------
    DataFrame
        ``frame`` itself.

    Raises
    ------
    DataError
        Naming ``where`` and the offending month, column or value.

    Examples
    --------
    >>> f = pd.DataFrame({"potash": [350.0, 0.0]}, index=pd.period_range("2025-11", periods=2, freq="M"))
    >>> validate_commodities(f)
    Traceback (most recent call last):
    ...
    analysis.errors.DataError: commodity prices: non-positive price 0.0 for potash in 2025-12
    """
    if primary is not None:
        if primary not in frame.columns:
            raise DataError(
                f"{where}: no {primary!r} column (have {', '.join(map(str, frame.columns))}): "
                f"the primary commodity series is required"
            )
        if frame[primary].notna().sum() == 0:
            raise DataError(f"{where}: the {primary!r} column has no values")
    elif frame.shape[1] == 0 or frame.notna().sum().sum() == 0:
        raise DataError(f"{where}: no commodity series with values")
    idx = frame.index
    if idx.has_duplicates:
        raise DataError(f"{where}: duplicate month {idx[idx.duplicated()][0]}: keep one row per month")
    if not idx.is_monotonic_increasing:
        raise DataError(f"{where}: months are not in increasing order")
    vals = frame.to_numpy(dtype=float)
    bad = ~np.isnan(vals) & ~(vals > 0)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(f"{where}: non-positive price {float(vals[r, c])!r} for {frame.columns[c]} in {idx[r]}")
    return frame


def load_commodity_prices(data_dir=None, *, cache_dir=None, source: str = "auto") -> pd.DataFrame:
    """Monthly commodity prices of a case: ``PeriodIndex`` (freq M, named ``month``) x float series.

    Parameters
    ----------
    data_dir : path or Case, optional
        The case (see :func:`analysis.case.as_case`).
    cache_dir : path, optional
        See :func:`analysis.config.cache_dir`.
    source : {"auto", "cache", "bundled"}
        ``auto`` = the refreshed cache if present (and readable), else the bundled CSV.

    Returns
    -------
    DataFrame
        ``attrs["vintage"]`` names the data vintage(s), ``attrs["source"]`` where the
        frame came from (``cache`` or ``bundled``), ``attrs["path"]`` the file.

    Raises
    ------
    DataError
        Unknown ``source``; no cache with ``source="cache"``; a missing or malformed
        bundled file (the message names the file and line).

    Examples
    --------
    >>> px = load_commodity_prices(source="bundled")
    >>> float(px.loc["2025-12", "potash"]), px.attrs["source"]
    (358.33, 'bundled')
    """
    if source not in SOURCES:
        raise DataError(f"unknown commodity source {source!r}: use one of {', '.join(SOURCES)}")
    if source in ("auto", "cache"):
        cached = _read_cache(cache_dir, primary_series(data_dir))
        if cached is not None:
            return cached
        if source == "cache":
            raise DataError(
                f"no commodity cache at {commodity_cache_path(cache_dir)}: run refresh_commodities() "
                f"online, or use source='bundled'"
            )
    return _read_bundled(data_dir)


def commodity_prices(start=None, end=None, *, columns=None, **kw) -> pd.DataFrame:
    """Monthly commodity prices from ``start`` to ``end`` (months, inclusive), for researchers.

    Parameters
    ----------
    start, end : month-like, optional
        ``"2025-09"``, a date or a Period; None = the data's first / last month.
    columns : list of str, optional
        The columns to return, in this order (NaN for a column the data lacks). Default:
        every series of the case's file.
    **kw
        Passed to :func:`load_commodity_prices` (``data_dir``, ``cache_dir``, ``source``).

    Returns
    -------
    DataFrame
        ``PeriodIndex`` named ``month`` x series, with the loader's ``attrs``.

    Raises
    ------
    DataError
        A malformed month, ``start`` after ``end``, or no month in the range.

    Examples
    --------
    >>> commodity_prices("2025-11", "2026-02")["potash"].tolist()
    [353.75, 358.33, 366.0, 372.5]
    """
    df = load_commodity_prices(**kw)
    out = df if columns is None else df.reindex(columns=list(columns))
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


def potash_prices(start=None, end=None, **kw) -> pd.DataFrame:
    """Tidy monthly fertilizer prices from ``start`` to ``end`` (months, inclusive), for researchers.

    :func:`commodity_prices` with exactly the columns ``potash, urea, dap, tsp,
    phosphate_rock`` ($/mt, nominal, monthly averages; NaN where the source has no value).

    Parameters
    ----------
    start, end : month-like, optional
        Inclusive limits.
    **kw
        Passed to :func:`load_commodity_prices`.

    Returns
    -------
    DataFrame
        ``PeriodIndex`` named ``month`` x the five fertilizer series.

    Raises
    ------
    DataError
        As :func:`commodity_prices`.

    Examples
    --------
    >>> potash_prices("2025-11", "2025-12")["potash"].tolist()
    [353.75, 358.33]
    """
    return commodity_prices(start, end, columns=SERIES, **kw)


def _to_period(value, name: str) -> pd.Period:
    try:
        p = pd.Period(value, freq="M")
    except (ValueError, TypeError):
        raise DataError(f"malformed {name} month {value!r}: use YYYY-MM") from None
    if pd.isna(p):
        raise DataError(f"malformed {name} month {value!r}: use YYYY-MM")
    return p


#: The refresh side (the World Bank workbook: parse, download, write the cache) lives in
#: :mod:`analysis.pink_sheet`; these names stay reachable from here.
_PINK_SHEET_NAMES = ("parse_pink_sheet", "refresh_commodities", "write_commodity_cache", "PINK_SHEET_URL",
                     "PINK_SHEET_SHEET", "PINK_SHEET_COLUMNS")


def __getattr__(name: str):
    if name in _PINK_SHEET_NAMES:
        from . import pink_sheet

        return getattr(pink_sheet, name)
    raise AttributeError(f"module 'analysis.commodity_data' has no attribute {name!r}")


__all__ = [
    "SERIES",
    "load_commodity_notes",
    "primary_series",
    "resolve_series",
    "load_commodity_prices",
    "commodity_prices",
    "potash_prices",
    "validate_commodities",
    "commodity_cache_path",
]


#: the columns of a case's ``commodity_notes.csv``
NOTE_COLUMNS = ("series", "month", "kind", "note")


def load_commodity_notes(data_dir=None) -> pd.DataFrame:
    """Documented breaks and caveats of the case's commodity series (``commodity_notes.csv``), for the charts.

    Parameters
    ----------
    data_dir : str, path-like or Case, optional
        The case folder (default: ``$POTASH_IMPACT_DATA`` or the bundled ``data/``).

    Returns
    -------
    pandas.DataFrame
        ``series, month (Period M), kind, note``, one row per note; empty when the case
        has no ``commodity_notes.csv``.

    Raises
    ------
    DataError
        Wrong header, an empty field or a month that is not ``YYYY-MM``, naming the file and line.

    Examples
    --------
    >>> load_commodity_notes()[["series", "kind"]].values.tolist()
    [['phosphate_rock', 'level break']]
    """
    import csv

    path = config.data_dir(data_dir) / "commodity_notes.csv"
    empty = pd.DataFrame({"series": pd.Series(dtype=str), "month": pd.PeriodIndex([], freq="M"),
                          "kind": pd.Series(dtype=str), "note": pd.Series(dtype=str)})
    if not path.is_file():
        return empty
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    if not rows or tuple(c.strip() for c in rows[0]) != NOTE_COLUMNS:
        raise DataError(f"{path}:1: expected the header {','.join(NOTE_COLUMNS)}")
    out = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(NOTE_COLUMNS) or not all(c.strip() for c in row):
            raise DataError(f"{path}:{line}: expected 4 non-empty fields ({','.join(NOTE_COLUMNS)}), got {row!r}")
        series, month, kind, note = (c.strip() for c in row)
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
            raise DataError(f"{path}:{line}: month {month!r} is not YYYY-MM")
        out.append({"series": series, "month": pd.Period(month, "M"), "kind": kind, "note": note})
    return pd.DataFrame(out) if out else empty

