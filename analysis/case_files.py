"""Reading a case folder's files strictly: UTF-8 text, small CSVs with line numbers, ISO dates.

The readers behind :class:`analysis.case.Case` (which assembles and caches the case) and
:mod:`analysis.case_settings` (``case.toml``). Every error is a
:class:`~analysis.errors.CaseError` that names the file and the line.

Conventions
-----------
* **Text.** Files are read whole and decoded as UTF-8 (a BOM is accepted) by
  :func:`analysis._io.decode_utf8`; a bad byte names the line. Each read is counted in
  :data:`READS` (path -> count), so tests and benchmarks can check a case is read once.
* **CSV.** :func:`read_csv_lines` keeps every cell a string (empty -> None) and the line of
  every row; a row with the wrong number of fields, a duplicate or missing header column
  and a CSV syntax error are refused, never repaired.
* **Dates.** Case files use ``YYYY-MM-DD`` naming a real day (:func:`is_iso_date`,
  :func:`parse_iso_date`); user-facing arguments are read more leniently by
  :func:`analysis.calendars.parse_date`.
* **Known moves.** ``known_moves.csv`` (``ticker, date, reason``): accepted large moves for
  the data-quality gate; each ticker listed in the universe, each with a reason, no
  duplicates. An absent file means none.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import re
from collections import Counter
from pathlib import Path

import pandas as pd

from ._io import decode_utf8
from .errors import CaseError
from .ids import check_ticker

KNOWN_MOVES_COLUMNS = ("ticker", "date", "reason")

_DATE_RE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")
#: How many times each file was read from disk in this process (path -> count); tests and
#: benchmarks use it to check that a case is read once.
READS: Counter = Counter()


def _read_text(path: Path) -> str:
    """The file as UTF-8 text; a decoding error names the file, line and byte."""
    data = path.read_bytes()
    READS[str(path)] += 1
    return decode_utf8(data, path, CaseError)


def read_csv_lines(path: Path, required: tuple[str, ...] = ()) -> tuple[pd.DataFrame, list[int]]:
    """A small CSV file as strings (empty cell -> None), with the line number of every row.

    Parameters
    ----------
    path : Path
        The file (UTF-8).
    required : tuple of str
        Columns that must be in the header.

    Returns
    -------
    frame : DataFrame
        One object column per header field, rows in file order; blank lines skipped.
    lines : list of int
        The 1-based line on which each row starts.

    Raises
    ------
    CaseError
        Not UTF-8, empty, a duplicate or missing header column, a row with the wrong
        number of fields, or a CSV syntax error: each names the file and line.

    Examples
    --------
    >>> from analysis import config
    >>> frame, lines = read_csv_lines(config.data_dir() / "universe.csv", ("ticker",))
    >>> frame["ticker"].iloc[0], lines[0]
    ('NTR', 2)
    """
    text = _read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows, lines = [], []
    header = None
    last = 0
    try:
        for rec in reader:
            start, last = last + 1, reader.line_num
            if not rec or (len(rec) == 1 and rec[0].strip() == ""):
                continue
            if header is None:
                header = [h.strip() for h in rec]
                dup = [h for h in header if header.count(h) > 1]
                if dup:
                    raise CaseError(f"{path}:{start}: duplicate column {dup[0]!r} in the header")
                continue
            if len(rec) != len(header):
                raise CaseError(
                    f"{path}:{start}: {len(rec)} field(s), the header has {len(header)}: "
                    f"quote fields that contain commas, and check the line is complete"
                )
            rows.append([None if v == "" else v for v in rec])
            lines.append(start)
    except csv.Error as exc:
        raise CaseError(f"{path}:{reader.line_num}: CSV syntax error: {exc}") from None
    if header is None:
        raise CaseError(f"{path}: empty file: it needs a header line ({', '.join(required) or 'column names'})")
    missing = [c for c in required if c not in header]
    if missing:
        raise CaseError(f"{path}:1: missing column(s) {', '.join(missing)} (the header has {', '.join(header)})")
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    for c in frame.columns:  # as pandas reads strings: full columns get the str dtype, gappy ones stay object
        if len(frame) and frame[c].notna().all():
            frame[c] = frame[c].astype(str)
    return frame, lines


def is_iso_date(value) -> bool:
    """Whether ``value`` is a ``YYYY-MM-DD`` string naming a real day (not ``12/13/2025``, not ``2021-02-30``).

    The case files' strict date rule (user-facing arguments are read more leniently by
    :func:`analysis.calendars.parse_date`).

    Parameters
    ----------
    value : object
        Anything; only a str can pass.

    Returns
    -------
    bool

    Examples
    --------
    >>> [is_iso_date(v) for v in ("2025-12-15", "2021-02-30", "12/13/2025", 20251215)]
    [True, False, False, False]
    """
    if not isinstance(value, str) or not _DATE_RE.match(value):
        return False
    try:
        _dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def parse_iso_date(value, where: str, what: str = "date") -> pd.Timestamp:
    """``YYYY-MM-DD`` -> Timestamp; anything else -> :class:`CaseError` "<where>: invalid <what> <value>".

    Parameters
    ----------
    value : object
        The field as read from the file.
    where : str
        ``"<file>:<line>"`` (leads the message).
    what : str
        The field's name in the message.

    Returns
    -------
    Timestamp

    Raises
    ------
    CaseError
        ``value`` fails :func:`is_iso_date`.

    Examples
    --------
    >>> parse_iso_date("2025-12-15", "events.csv:3")
    Timestamp('2025-12-15 00:00:00')
    >>> parse_iso_date("2025-13-01", "events.csv:3")
    Traceback (most recent call last):
    ...
    analysis.errors.CaseError: events.csv:3: invalid date '2025-13-01': use YYYY-MM-DD (a real day)
    """
    if not is_iso_date(value):
        raise CaseError(f"{where}: invalid {what} {value!r}: use YYYY-MM-DD (a real day)")
    return pd.Timestamp(value)


def _load_known_moves(path: Path, universe: pd.DataFrame) -> tuple[pd.DataFrame, list[int]]:
    empty = pd.DataFrame({"ticker": pd.Series(dtype=object), "date": pd.Series(dtype="datetime64[ns]"),
                          "reason": pd.Series(dtype=object)})
    if not path.is_file():
        return empty, []
    frame, lines = read_csv_lines(path, KNOWN_MOVES_COLUMNS)
    listed = set(universe["ticker"])
    seen: dict = {}
    dates = []
    for t, d, why, line in zip(frame["ticker"], frame["date"], frame["reason"], lines):
        where = f"{path}:{line}"
        check_ticker(t, where)
        if t not in listed:
            raise CaseError(f"{where}: ticker {t!r} is not in universe.csv: list it there or drop the line")
        day = parse_iso_date(d, where)
        if why is None or not why.strip():
            raise CaseError(f"{where}: known move {t} {d} has no reason: say why the move is real (with its evidence)")
        if (t, day) in seen:
            raise CaseError(f"{where}: duplicate known move {t} {d} (first on line {seen[(t, day)]})")
        seen[(t, day)] = line
        dates.append(day)
    frame["date"] = pd.DatetimeIndex(dates, name=None) if dates else empty["date"]
    return (frame if len(frame) else empty), lines


__all__ = ["read_csv_lines", "is_iso_date", "parse_iso_date", "READS", "KNOWN_MOVES_COLUMNS"]
