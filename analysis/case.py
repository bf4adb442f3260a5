"""One case = one data folder, loaded and validated once: the :class:`Case` object.

A case folder holds (see ``data/README.md``)

==========================  =================================================================
file                        read into
==========================  =================================================================
``case.toml``               :attr:`Case.settings` (:class:`CaseSettings`): groups, market,
                            commodity, default event, expected signs, ``on_bad_data``
``events.csv``              :attr:`Case.events`: the event catalog, sorted by time
``universe.csv``            :attr:`Case.universe`: listings and groups, plus an ``offline``
                            column (True where ``prices/<TICKER>.csv`` exists)
``known_moves.csv``         :attr:`Case.known_moves`: accepted large moves (``ticker, date,
                            reason``) for the data-quality gate; absent file = none
``prices/``                 :attr:`Case.prices_dir`: one CSV per ticker, read by
                            :mod:`analysis.data` (never here); ``peers/prices/``, when
                            present, holds more (:attr:`Case.price_dirs`)
``commodity_prices.csv``    :meth:`Case.commodity_prices`: loaded lazily by the commodity
                            loader (:mod:`analysis.commodities`)
==========================  =================================================================

Conventions
-----------
* **Resolution.** :meth:`Case.load` takes the folder from its argument, then
  ``$POTASH_IMPACT_DATA``, then the bundled ``data/`` (:func:`analysis.config.data_dir`).
* **Load once.** Loaded cases are cached per process by the resolved folder and the
  ``(mtime, size, inode)`` of each file (and of ``prices/``, whose listing sets the
  ``offline`` flags), so repeated loads cost a few ``stat`` calls and an edited file is
  re-read. A cached case is shared, so :attr:`Case.events`, :attr:`Case.universe` and
  :attr:`Case.known_moves` hand out copies: no caller can change another's case.
* **Validate at load, name the line.** Every error names the file and the line (and for
  ``case.toml`` the key): identifiers follow :mod:`analysis.ids` (a universe ticker
  ``../evil`` is refused, so no path is ever built from it), dates are ``YYYY-MM-DD``,
  times ``HH:MM`` (UTC), event kinds and group names must be known, every row must have
  as many fields as the header, and the files must be UTF-8. A case that loads is
  internally consistent: its default event, groups, market and sector exist.
* **Functions take a Case.** Library functions accept ``case=`` (or, for
  compatibility, ``data_dir=``) and call :func:`as_case` once at their edge.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import os
import re
import threading
import tomllib
from collections import Counter, OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

import pandas as pd

from . import config
from ._io import decode_utf8
from .errors import CaseError
from .ids import check_event_id, check_group, check_name, check_ticker

EVENTS_FILE = "events.csv"
UNIVERSE_FILE = "universe.csv"
SETTINGS_FILE = "case.toml"
KNOWN_MOVES_FILE = "known_moves.csv"
COMMODITY_FILE = "commodity_prices.csv"
PRICES_DIR = "prices"
#: Where price files are looked up, in order: the case's own, then the peer set (optional).
PRICE_DIRS = (PRICES_DIR, "peers/prices")
KNOWN_MOVES_COLUMNS = ("ticker", "date", "reason")
BAD_DATA_POLICIES = ("error", "exclude")
SIGNED_KINDS = ("easing", "tightening")

_DATE_RE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")
_CACHE_SIZE = 16
_cache: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()
#: How many times each file was read from disk in this process (path -> count); tests and
#: benchmarks use it to check that a case is read once.
READS: Counter = Counter()


# =========================================================================== settings
@dataclass(frozen=True, eq=False)
class CaseSettings(Mapping):
    """The ``[case]`` table of ``case.toml``, type-checked.

    Attributes are ``None`` where the file does not set them (``on_bad_data`` defaults to
    ``"error"``, ``expected_sign`` to ``{}``). As a read-only mapping it holds only the keys
    the file sets, so ``settings.get("market", "SPY")`` keeps the old dict behaviour.

    Attributes
    ----------
    name, title : str or None
        Short file-safe name (:func:`analysis.ids.check_name`) and human title.
    default_event : str or None
        A catalog event id (checked against ``events.csv``) or a ``YYYY-MM-DD`` date.
    commodity, commodity_label : str or None
        The primary column of ``commodity_prices.csv`` and its label.
    treated_group, control_group : str or None
        ``universe.csv`` groups (checked to exist).
    market, sector : str or None
        Tickers of the market proxy and an alternative benchmark (checked to be listed).
    expected_sign : dict
        ``{"easing": -1, "tightening": 1}``-style: kind -> +1 (up) or -1 (down).
    on_bad_data : {"error", "exclude"}
        What the data-quality gate does with a flagged firm: stop with an error, or
        exclude the firm and say so in the result.
    donor_groups : tuple of str
        Universe groups whose firms the news should not touch: the donor pool of
        :func:`analysis.crosssection.placebo_in_space` (checked to exist).

    Examples
    --------
    >>> settings = Case.load().settings
    >>> settings.market, settings.get("market"), settings.expected_sign
    ('SPY', 'SPY', {'tightening': 1, 'easing': -1})
    """

    name: str | None = None
    title: str | None = None
    default_event: str | None = None
    commodity: str | None = None
    commodity_label: str | None = None
    treated_group: str | None = None
    control_group: str | None = None
    market: str | None = None
    sector: str | None = None
    expected_sign: dict = field(default_factory=dict)
    on_bad_data: str = "error"
    donor_groups: tuple = ()  # issue 13 (COMMOD): universe groups of the in-space placebo's donor pool
    _set: tuple = field(default=(), repr=False)

    def __getitem__(self, key):
        if key not in self._set:
            raise KeyError(key)
        value = getattr(self, key)
        return dict(value) if isinstance(value, dict) else (list(value) if isinstance(value, tuple) else value)

    def __iter__(self):
        return iter(self._set)

    def __len__(self):
        return len(self._set)

    def to_dict(self) -> dict:
        """The keys the file sets, as a plain (copied) dict: what ``catalog.load_case`` returns."""
        return {k: self[k] for k in self._set}


_SETTING_NAMES = tuple(f.name for f in fields(CaseSettings) if not f.name.startswith("_"))


def toml_error_position(exc: tomllib.TOMLDecodeError) -> tuple[int | None, int | None, str]:
    """``(line, column, message without the position)`` of a TOML syntax error.

    Python 3.11-3.13 put the position only in the message text; 3.14 adds ``lineno``,
    ``colno`` and ``msg``. Used for ``case.toml`` and schedule files alike.

    Parameters
    ----------
    exc : tomllib.TOMLDecodeError

    Returns
    -------
    tuple
        ``(line or None, column or None, message)``.

    Examples
    --------
    >>> try:
    ...     tomllib.loads("a = 1\\nb = oops")
    ... except tomllib.TOMLDecodeError as exc:
    ...     toml_error_position(exc)
    (2, 5, 'Invalid value')
    """
    msg = str(exc)
    line, col = getattr(exc, "lineno", None), getattr(exc, "colno", None)
    m = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", msg)
    if m:
        line, col = line or int(m.group(1)), col or int(m.group(2))
        msg = msg[: m.start()]
    elif msg.endswith("(at end of document)"):
        msg = msg[: -len("(at end of document)")].rstrip()
    if isinstance(getattr(exc, "msg", None), str):  # Python >= 3.14 keeps the bare message
        msg = exc.msg
    return line, col, msg


def _key_line(text: str, key: str, table: str = "case") -> int | None:
    """First line of ``text`` that sets ``key`` of ``[table]`` (``key`` may be dotted, e.g. ``expected_sign.easing``).

    Finds ``key = ...``, ``[table.key]`` and, for a key inside an inline table, falls back to
    the line of its parent key (``expected_sign = { ... }``). None if not found.
    """
    parts = key.split(".")
    base = [table] if table else []
    current: list = []
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        header = re.match(r"\[\s*([^\]\[]+?)\s*\]", line)
        if header:
            current = [p.strip().strip("\"'") for p in header.group(1).split(".")]
            if current == base + parts:
                return n
            continue
        for split in range(len(parts)):
            if current != base + parts[:split]:
                continue
            pat = r"\s*\.\s*".join(rf"[\"']?{re.escape(p)}[\"']?" for p in parts[split:])
            if re.match(rf"{pat}\s*=", line):
                return n
    return _key_line(text, ".".join(parts[:-1]), table) if len(parts) > 1 else None


def _read_text(path: Path) -> str:
    """The file as UTF-8 text; a decoding error names the file, line and byte."""
    data = path.read_bytes()
    READS[str(path)] += 1
    return decode_utf8(data, path, CaseError)


def _parse_settings(path: Path) -> tuple[dict, str]:
    """Raw ``[case]`` table and the text of ``case.toml`` ({} if the file is absent)."""
    if not path.is_file():
        return {}, ""
    text = _read_text(path)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, col, msg = toml_error_position(exc)
        where = f"{path}:{line}" + (f":{col}" if col else "") if line else str(path)
        raise CaseError(f"{where}: invalid TOML: {msg}: fix the syntax (strings need quotes)") from None
    unknown = [k for k in doc if k != "case"]
    if unknown:
        k = unknown[0]
        raise CaseError(f"{path}:{_key_line(text, k, table='') or '?'}: unknown table or key {k!r}: a case.toml has only [case]")
    table = doc.get("case", {})
    if not isinstance(table, dict):
        raise CaseError(f"{path}:{_key_line(text, 'case', table='') or '?'}: 'case' must be a table: write [case]")
    return table, text


def _settings_from(table: dict, text: str, path: Path) -> CaseSettings:
    """Type-check the ``[case]`` table; every error names the file, the line and the key."""

    def where(key: str) -> str:
        return f"{path}:{_key_line(text, key) or '?'} key {key}"

    def fail(key: str, value, how: str):
        shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
        raise CaseError(f"{where(key)}: invalid value {shown}: {how}")

    out: dict = {}
    for key, value in table.items():
        if key not in _SETTING_NAMES:
            raise CaseError(f"{where(key)}: unknown key {key!r}: known keys are {', '.join(_SETTING_NAMES)}")
        if key == "expected_sign":
            if not isinstance(value, dict):
                fail(key, value, "use a table such as { tightening = 1, easing = -1 }")
            signs = {}
            for kind, sign in value.items():
                if kind not in SIGNED_KINDS:
                    raise CaseError(f"{where(key + '.' + kind)}: unknown event kind {kind!r}: use {', '.join(SIGNED_KINDS)}")
                if isinstance(sign, bool) or sign not in (1, -1) or not isinstance(sign, int):
                    fail(key + "." + kind, sign, "use 1 (expected up) or -1 (expected down)")
                signs[kind] = int(sign)
            out[key] = signs
            continue
        if key == "donor_groups":  # a list of group names (COMMOD, issue 13)
            if not isinstance(value, list) or not value or not all(isinstance(g, str) for g in value):
                fail(key, value, 'use a list of universe group names such as ["broad market", "chemicals"]')
            out[key] = tuple(check_group(g, where(key)) for g in value)
            continue
        if key == "default_event" and isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
            value = value.isoformat()  # TOML date, as YAML dates are accepted
        if not isinstance(value, str):
            fail(key, value, f"expected a string (in quotes), got {type(value).__name__}")
        if key == "on_bad_data" and value not in BAD_DATA_POLICIES:
            fail(key, value, f"use one of {', '.join(repr(p) for p in BAD_DATA_POLICIES)}")
        if key in ("name", "commodity"):
            check_name(value, where(key))
        elif key in ("treated_group", "control_group"):
            check_group(value, where(key))
        elif key in ("market", "sector"):
            check_ticker(value, where(key))
        elif key == "default_event" and not _DATE_RE.match(value):
            check_event_id(value, where(key))
        out[key] = value
    return CaseSettings(**out, _set=tuple(k for k in _SETTING_NAMES if k in out))


# =========================================================================== CSV files
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


# =========================================================================== the Case
@dataclass(frozen=True, eq=False)
class Case:
    """One case folder, loaded and validated once (build it with :meth:`Case.load` or :func:`as_case`).

    Attributes
    ----------
    root : pathlib.Path
        The resolved case folder.
    settings : CaseSettings
        ``case.toml``'s ``[case]`` table, type-checked and cross-checked.
    events : DataFrame
        The catalog (``events.csv``) sorted by time, ``date`` as datetime and a
        ``timestamp`` column (``"date time"`` where the UTC time is known, else the date).
    universe : DataFrame
        ``universe.csv`` plus a boolean ``offline`` column (the ticker has a price file).
    known_moves : DataFrame
        ``ticker, date, reason`` (plus any extra columns) of accepted large moves; empty
        if the folder has no ``known_moves.csv``.
    prices_dir : pathlib.Path
        ``<root>/prices``.
    price_dirs : tuple of pathlib.Path
        The existing price folders in lookup order: ``prices/``, then ``peers/prices/``.
    lines : dict
        Where each record came from: ``{"events": {event_id: line}, "universe": {ticker:
        line}}``, for error messages downstream.

    Examples
    --------
    >>> case = Case.load()
    >>> case.settings.treated_group, case.group("potash producer", "XNYS", offline_only=True)
    ('potash producer', ['NTR', 'MOS', 'IPI', 'ICL'])
    >>> case.event("ofac-gl13-2025")["timestamp"]
    '2025-12-15'
    """

    root: Path
    settings: CaseSettings
    _events: pd.DataFrame = field(repr=False)
    _universe: pd.DataFrame = field(repr=False)
    _known_moves: pd.DataFrame = field(repr=False)
    prices_dir: Path = field(repr=False)
    price_dirs: tuple = field(default=(), repr=False)
    lines: dict = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, data_dir=None, *, cache: bool = True) -> Case:
        """Load and validate the case folder: ``data_dir``, else ``$POTASH_IMPACT_DATA``, else ``data/``.

        Parameters
        ----------
        data_dir : str or path-like, optional
            The case folder.
        cache : bool
            Reuse a case already loaded in this process if none of its files changed.

        Returns
        -------
        Case

        Raises
        ------
        CaseError
            The folder is missing or lacks ``events.csv`` / ``universe.csv``, or a file is
            invalid: the message names the file, the line and (``case.toml``) the key.
        IdentifierError
            An event id, ticker or group name breaks :mod:`analysis.ids` (file and line named).

        Examples
        --------
        >>> Case.load() is Case.load()     # the second load only stats the files
        True
        """
        root = config.data_dir(data_dir)
        if not root.is_dir():
            raise CaseError(f"case folder {root} does not exist: pass --data-dir / data_dir= a copy of data/")
        key = (str(root), _fingerprint(root))
        if cache:
            with _cache_lock:
                hit = _cache.get(key)
                if hit is not None:
                    _cache.move_to_end(key)
                    return hit
        case = cls._read(root)
        if cache:
            with _cache_lock:
                _cache[key] = case
                while len(_cache) > _CACHE_SIZE:
                    _cache.popitem(last=False)
        return case

    @classmethod
    def _read(cls, root: Path) -> Case:
        from .catalog import EVENT_COLUMNS, UNIVERSE_COLUMNS, validate_events, validate_universe

        for name in (EVENTS_FILE, UNIVERSE_FILE):
            if not (root / name).is_file():
                what = "event catalog" if name == EVENTS_FILE else "universe"
                raise CaseError(f"no {what} at {root / name}: a case folder needs {EVENTS_FILE} and {UNIVERSE_FILE}")
        table, text = _parse_settings(root / SETTINGS_FILE)
        settings = _settings_from(table, text, root / SETTINGS_FILE)

        uni, uni_lines = read_csv_lines(root / UNIVERSE_FILE, UNIVERSE_COLUMNS)
        validate_universe(uni, lines=uni_lines, source=str(root / UNIVERSE_FILE))
        prices_dir = root / PRICES_DIR
        price_dirs = tuple(d for d in (root / p for p in PRICE_DIRS) if d.is_dir())
        # tickers are validated (no '/', no '..'), so these paths stay inside the price folders
        uni["offline"] = [any((d / f"{t}.csv").is_file() for d in price_dirs) for t in uni["ticker"]]

        ev, ev_lines = read_csv_lines(root / EVENTS_FILE, EVENT_COLUMNS)
        validate_events(ev, lines=ev_lines, source=str(root / EVENTS_FILE))
        lines = {"events": dict(zip(ev["event_id"], ev_lines)), "universe": dict(zip(uni["ticker"], uni_lines))}
        ev["date"] = pd.to_datetime(ev["date"])
        ev["timestamp"] = [
            f"{d.date()} {t}" if isinstance(t, str) and t else str(d.date()) for d, t in zip(ev["date"], ev["time_utc"])
        ]
        ev = ev.sort_values(["date", "time_utc"], na_position="first", kind="stable").reset_index(drop=True)

        _cross_check(settings, text, root / SETTINGS_FILE, ev, uni)
        moves, _ = _load_known_moves(root / KNOWN_MOVES_FILE, uni)
        return cls(root=root, settings=settings, _events=ev, _universe=uni, _known_moves=moves,
                   prices_dir=prices_dir, price_dirs=price_dirs, lines=lines)

    # ------------------------------------------------------------------ tables (copies: the case is shared)
    @property
    def events(self) -> pd.DataFrame:
        """The event catalog (a copy: a cached case is shared, so callers may edit what they get)."""
        return self._events.copy()

    @property
    def universe(self) -> pd.DataFrame:
        """The universe with its ``offline`` column (a copy)."""
        return self._universe.copy()

    @property
    def known_moves(self) -> pd.DataFrame:
        """Accepted large moves ``ticker, date, reason`` (a copy; empty without ``known_moves.csv``)."""
        return self._known_moves.copy()

    # ------------------------------------------------------------------ lookups
    @property
    def data_dir(self) -> str:
        """The folder as a string, for functions that still take ``data_dir=``."""
        return str(self.root)

    @property
    def commodity_path(self) -> Path:
        """``<root>/commodity_prices.csv`` (may be absent: the commodity loader says so)."""
        return self.root / COMMODITY_FILE

    @property
    def calendars(self) -> dict:
        """Ticker -> exchange_calendars name, from ``universe.csv``."""
        return dict(zip(self._universe["ticker"], self._universe["calendar"]))

    def event(self, id_or_date) -> dict:
        """An event by catalog id, or an ad-hoc event from ``YYYY-MM-DD[ HH:MM]``.

        Parameters
        ----------
        id_or_date : str
            A catalog ``event_id`` or a date / "date time" (UTC) string.

        Returns
        -------
        dict
            The catalog row (``event_id, date, time_utc, kind, scope, title, confidence,
            source_url, timestamp``); an ad-hoc event has ``kind="adhoc"`` and an id
            ``adhoc-YYYYMMDD[-HHMM]``.

        Raises
        ------
        CatalogError
            Neither a catalog id nor a date; lists close ids.

        Examples
        --------
        >>> Case.load().event("2025-12-13 11:49")["event_id"]
        'adhoc-20251213-1149'
        """
        from .catalog import find_event

        return find_event(id_or_date, self._events)

    def group(self, name: str, exchange: str | None = None, offline_only: bool = False) -> list[str]:
        """Tickers of universe group ``name``, in file order: the one "group on a calendar" rule.

        Parameters
        ----------
        name : str
            A ``group`` of ``universe.csv`` (e.g. ``"potash producer"``).
        exchange : str, optional
            Keep only listings whose ``calendar`` is this exchange_calendars name (a group
            studied on the XNYS calendar means its XNYS listings).
        offline_only : bool
            Keep only tickers with a price file in the case.

        Returns
        -------
        list of str
            Possibly empty (no listing on that calendar).

        Raises
        ------
        CatalogError
            ``name`` is not a group of the universe.

        Examples
        --------
        >>> Case.load().group("nitrogen control")
        ['CF', 'LXU', 'YAR.OL']
        """
        from .catalog import group_tickers

        return group_tickers(name, self._universe, offline_only=offline_only, exchange=exchange)

    def check_tickers(self, tickers, *, offline: bool = False) -> list[str]:
        """``tickers`` if each is in the universe (and, ``offline``, has a price file); else :class:`CatalogError`."""
        from .catalog import check_tickers

        return check_tickers(tickers, self._universe, offline=offline)

    def price_path(self, ticker: str) -> Path:
        """The price file of a valid ticker: the first of :attr:`price_dirs` that has it, else ``<root>/prices/<ticker>.csv``.

        Parameters
        ----------
        ticker : str
            Checked with :func:`analysis.ids.check_ticker` before any path is built.

        Returns
        -------
        pathlib.Path
            May not exist (the ticker is live-only).

        Raises
        ------
        IdentifierError
            ``ticker`` breaks the ticker pattern (``../evil``).

        Examples
        --------
        >>> Case.load().price_path("NTR").relative_to(config.data_dir()).as_posix()
        'prices/NTR.csv'
        """
        name = f"{check_ticker(ticker, 'ticker')}.csv"
        for d in self.price_dirs:
            if (d / name).is_file():
                return d / name
        return self.prices_dir / name

    def commodity_prices(self, **kwargs) -> pd.DataFrame:
        """The case's monthly commodity prices, loaded lazily by :func:`analysis.commodities.load_commodity_prices`.

        Parameters
        ----------
        **kwargs
            Passed on (``cache_dir``, ``source``).

        Returns
        -------
        DataFrame
            ``PeriodIndex`` month x series columns.

        Examples
        --------
        >>> float(Case.load().commodity_prices().loc["2025-12", "potash"])
        358.33
        """
        from .commodities import load_commodity_prices

        return load_commodity_prices(self.data_dir, **kwargs)


def _cross_check(settings: CaseSettings, text: str, path: Path, events: pd.DataFrame, universe: pd.DataFrame) -> None:
    """The settings refer to things that exist: groups, tickers, the default event."""

    def where(key):
        return f"{path}:{_key_line(text, key) or '?'} key {key}"

    groups = list(dict.fromkeys(universe["group"]))
    for key in ("treated_group", "control_group"):
        g = getattr(settings, key)
        if g is not None and g not in groups:
            raise CaseError(f"{where(key)}: group {g!r} is not in universe.csv (groups: {', '.join(groups)})")
    for g in settings.donor_groups:
        if g not in groups:
            raise CaseError(f"{where('donor_groups')}: group {g!r} is not in universe.csv (groups: {', '.join(groups)})")
    listed = set(universe["ticker"])
    for key in ("market", "sector"):
        t = getattr(settings, key)
        if t is not None and t not in listed:
            raise CaseError(f"{where(key)}: ticker {t!r} is not in universe.csv: list it there first")
    d = settings.default_event
    if d is not None and not _DATE_RE.match(d) and d not in set(events["event_id"]):
        import difflib

        close = difflib.get_close_matches(d, list(events["event_id"]), n=3, cutoff=0.4)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise CaseError(f"{where('default_event')}: event {d!r} is not in events.csv{hint}")
    if d is not None and _DATE_RE.match(d):
        parse_iso_date(d, where("default_event"), "default_event")


def _fingerprint(root: Path) -> tuple:
    """``(name, mtime_ns, size, inode)`` of every file a case reads (None where absent)."""
    out = []
    for name in (SETTINGS_FILE, EVENTS_FILE, UNIVERSE_FILE, KNOWN_MOVES_FILE, *PRICE_DIRS):
        try:
            st = os.stat(root / name)
            out.append((name, st.st_mtime_ns, st.st_size, st.st_ino))
        except FileNotFoundError:
            out.append((name, None))
    return tuple(out)


def is_case_folder(data_dir=None) -> bool:
    """Whether the folder (resolved as :meth:`Case.load` does) has ``events.csv`` and ``universe.csv``.

    The one test of "is this a case folder" (a folder of price files alone is not).

    Parameters
    ----------
    data_dir : str, path-like, Case or None

    Returns
    -------
    bool

    Examples
    --------
    >>> is_case_folder(), is_case_folder("/")
    (True, False)
    """
    if isinstance(data_dir, Case):
        return True
    root = config.data_dir(data_dir)
    return (root / EVENTS_FILE).is_file() and (root / UNIVERSE_FILE).is_file()


def as_case(case_or_data_dir=None) -> Case:
    """A :class:`Case` from a Case (returned as is), a folder path, or ``None`` (the default case).

    Every public function that takes ``case=`` or ``data_dir=`` calls this once at its edge.

    Parameters
    ----------
    case_or_data_dir : Case, str, path-like or None

    Returns
    -------
    Case

    Raises
    ------
    CaseError, IdentifierError
        As :meth:`Case.load`.

    Examples
    --------
    >>> c = as_case()
    >>> as_case(c) is c
    True
    """
    if isinstance(case_or_data_dir, Case):
        return case_or_data_dir
    return Case.load(case_or_data_dir)


def clear_cache() -> None:
    """Forget every loaded case (the next :meth:`Case.load` reads the files again).

    Returns
    -------
    None

    Examples
    --------
    >>> case = Case.load()
    >>> clear_cache()
    >>> Case.load() is case
    False
    """
    with _cache_lock:
        _cache.clear()


__all__ = ["Case", "CaseSettings", "as_case", "is_case_folder", "toml_error_position", "clear_cache", "read_csv_lines", "parse_iso_date", "is_iso_date", "READS"]
