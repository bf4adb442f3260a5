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
* **Readers apart.** The file readers live in :mod:`analysis.case_files` (UTF-8 text, CSV
  rows with their lines, ISO dates, known moves) and :mod:`analysis.case_settings`
  (``case.toml``); this module assembles, caches and looks up. Their public names are
  importable from here too.
* **Functions take a Case.** Library functions accept ``case=`` (or, for
  compatibility, ``data_dir=``) and call :func:`as_case` once at their edge.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import config
# the readers' public names stay importable from analysis.case (re-exported)
from .case_files import KNOWN_MOVES_COLUMNS, READS, _load_known_moves, is_iso_date, parse_iso_date, read_csv_lines
from .case_settings import (
    BAD_DATA_POLICIES,
    SIGNED_KINDS,
    CaseSettings,
    _cross_check,
    _parse_settings,
    _settings_from,
    toml_error_position,
)
from .errors import CaseError
from .ids import check_ticker

EVENTS_FILE = "events.csv"
UNIVERSE_FILE = "universe.csv"
SETTINGS_FILE = "case.toml"
KNOWN_MOVES_FILE = "known_moves.csv"
COMMODITY_FILE = "commodity_prices.csv"
PRICES_DIR = "prices"
#: Where price files are looked up, in order: the case's own, then the peer set (optional).
PRICE_DIRS = (PRICES_DIR, "peers/prices")

_CACHE_SIZE = 16
_cache: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()


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
