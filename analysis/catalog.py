"""The case as data: the event catalog, the universe of listings and the case settings.

A case is a data folder (see :mod:`analysis.config`), loaded once into an
:class:`analysis.case.Case`; this module holds the rules on its tables and the lookups:

* ``events.csv`` -- ``event_id, date, time_utc, kind, scope, title, confidence, source_url``;
  ``kind`` is one of ``easing``, ``tightening``, ``confounder``; ``date`` is
  ``YYYY-MM-DD``, ``time_utc`` ``HH:MM`` (24-hour, UTC) or empty ("time unknown");
  ``source_url`` an ``http(s)://`` address;
* ``universe.csv`` -- ``ticker, name, exchange, calendar, currency, group, benchmark``;
  ``calendar`` is the exchange_calendars MIC used for alignment;
* ``case.toml`` -- which group is treated, which is the control, the market proxy, the
  primary commodity series and the default event (:class:`analysis.case.CaseSettings`).

Every function that reads the case accepts ``case=`` (a :class:`~analysis.case.Case`) or,
as before, ``data_dir=``; frames passed explicitly (``events=``, ``universe=``) are used as
given. Validation errors name the file and the line. Nothing here knows about potash: a
new case is a new folder with the same files.
"""

from __future__ import annotations

import re

import pandas as pd

from .calendars import align_event, get_calendar
from .errors import AlignmentError, CaseError, CatalogError
from .ids import check_event_id, check_group, check_ticker
from .windows import window_rows

KINDS = ("easing", "tightening", "confounder")
EVENT_COLUMNS = ("event_id", "date", "time_utc", "kind", "scope", "title", "confidence", "source_url")
UNIVERSE_COLUMNS = ("ticker", "name", "exchange", "calendar", "currency", "group", "benchmark")
GROUPS = ("potash producer", "nitrogen control", "ag-chem", "benchmark")
_TIME_RE = re.compile(r"\A([01]\d|2[0-3]):[0-5]\d\Z")
_URL_RE = re.compile(r"\Ahttps?://\S+\Z", re.IGNORECASE)


def _case(case=None, data_dir=None):
    """The :class:`~analysis.case.Case` for ``case`` if given, else for ``data_dir``."""
    from .case import as_case

    return as_case(case if case is not None else data_dir)


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and v.strip() == "")


def _places(frame: pd.DataFrame, lines, source: str) -> list[str]:
    """``file:line`` of every row (a frame read by pandas: row i is on line i + 2)."""
    lines = list(lines) if lines is not None else [i + 2 for i in range(len(frame))]
    return [f"{source}:{n}" for n in lines]


# --------------------------------------------------------------------------- settings
def load_case(data_dir=None, *, case=None) -> dict:
    """The ``[case]`` table of ``case.toml`` as a plain dict (only the keys the file sets).

    Parameters
    ----------
    data_dir : str or path-like, optional
        The case folder (default: ``$POTASH_IMPACT_DATA``, else ``data/``).
    case : Case, optional
        An already loaded case (wins over ``data_dir``).

    Returns
    -------
    dict
        E.g. ``{"treated_group": "potash producer", "market": "SPY", ...}``; empty if the
        folder has no ``case.toml``.

    Raises
    ------
    CaseError
        ``case.toml`` is invalid (file, line and key named).

    Examples
    --------
    >>> load_case()["expected_sign"]
    {'tightening': 1, 'easing': -1}
    """
    return _case(case, data_dir).settings.to_dict()


# --------------------------------------------------------------------------- events
def validate_events(events: pd.DataFrame, *, lines=None, source: str = "events.csv") -> pd.DataFrame:
    """Check the catalog; return it unchanged.

    Columns present; ids valid (:func:`analysis.ids.check_event_id`) and unique; dates
    ``YYYY-MM-DD``; times ``HH:MM``; kinds known; source URLs ``http(s)://``.

    Parameters
    ----------
    events : DataFrame
        The catalog as strings.
    lines : sequence of int, optional
        The file line of each row (default: row i on line i + 2).
    source : str
        The file name used in messages.

    Returns
    -------
    DataFrame
        ``events``.

    Raises
    ------
    CaseError
        A missing column, an empty or duplicate id, a bad date, time, kind or URL, naming
        ``source:line`` and the value.
    IdentifierError
        An id that breaks the event-id pattern.

    Examples
    --------
    >>> validate_events(pd.DataFrame([["a-1", "2025-12-13", "11:49", "easing", "US", "t", "high",
    ...     "https://example.org"]], columns=EVENT_COLUMNS))["event_id"].tolist()
    ['a-1']
    """
    from .case import is_iso_date

    missing = [c for c in EVENT_COLUMNS if c not in events.columns]
    if missing:
        raise CaseError(f"{source}: missing column(s) {', '.join(missing)}")
    first: dict = {}
    cols = [events[c] for c in ("event_id", "date", "time_utc", "kind", "source_url")]
    for where, eid, d, t, k, url in zip(_places(events, lines, source), *cols):
        if _blank(eid):
            raise CaseError(f"{where}: empty event_id: every event needs an id")
        check_event_id(eid, where)
        if eid in first:
            raise CaseError(f"{where}: duplicate event_id {eid!r} (first on {first[eid]}): ids must be unique")
        first[eid] = where
        if not is_iso_date(d):
            raise CaseError(f"{where}: event {eid!r} has invalid date {d!r}: use YYYY-MM-DD (a real day)")
        if not _blank(t) and not (isinstance(t, str) and _TIME_RE.match(t)):
            raise CaseError(f"{where}: event {eid!r} has invalid time_utc {t!r}: use HH:MM (24-hour, UTC) or leave empty")
        if k not in KINDS:
            raise CaseError(f"{where}: event {eid!r} has kind {k!r}: use one of {', '.join(KINDS)}")
        if not _blank(url) and not (isinstance(url, str) and _URL_RE.match(url)):
            raise CaseError(f"{where}: event {eid!r} has source_url {url!r}: use an http:// or https:// address")
    return events


def load_events(data_dir=None, *, case=None) -> pd.DataFrame:
    """The validated event catalog, sorted by time, with a ``timestamp`` column added.

    ``timestamp`` is ``date + time_utc`` where the time is known, else the bare date
    (naive), which :func:`~analysis.calendars.align_event` reads as "time unknown".

    Parameters
    ----------
    data_dir : str or path-like, optional
        The case folder.
    case : Case, optional
        An already loaded case (wins over ``data_dir``).

    Returns
    -------
    DataFrame
        A copy of :attr:`analysis.case.Case.events`.

    Raises
    ------
    CaseError, IdentifierError
        The case folder is invalid (file and line named).

    Examples
    --------
    >>> load_events().set_index("event_id").loc["us-potash-easing-2025", "timestamp"]
    '2025-12-13 11:49'
    """
    return _case(case, data_dir).events


def align_events(events: pd.DataFrame, exchange: str = "XNYS", policy: str = "next") -> pd.DataFrame:
    """``events`` with a ``session`` column: the first session of ``exchange`` that could react.

    Parameters
    ----------
    events : DataFrame
        A catalog with a ``timestamp`` column (:func:`load_events`).
    exchange : str
        exchange_calendars name.
    policy : {"next", "previous", "error"}
        See :func:`analysis.calendars.align_event`.

    Returns
    -------
    DataFrame
        A copy with ``session`` added.

    Examples
    --------
    >>> align_events(load_events()).set_index("event_id").loc["iran-hormuz-2026", "session"]
    Timestamp('2026-03-02 00:00:00')
    """
    out = events.copy()
    out["session"] = [align_event(ts, exchange, policy) for ts in out["timestamp"]]
    return out


def find_event(event, events: pd.DataFrame) -> dict:
    """An event of the ``events`` frame by id, or an ad-hoc event from a date string (see :func:`get_event`).

    Parameters
    ----------
    event : str or date-like
        A catalog ``event_id``, or a date ``YYYY-MM-DD[ HH:MM]`` (UTC) for an event the
        catalog does not hold.
    events : DataFrame
        The catalog (:func:`load_events`).

    Returns
    -------
    dict
        The catalog row; for a date, a record with ``event_id`` ``adhoc-YYYYMMDD[-HHMM]``,
        ``kind`` ``"adhoc"`` and the time as ``time_utc``.

    Raises
    ------
    CatalogError
        Neither an id nor a date (close ids are suggested).

    Examples
    --------
    >>> ev = load_events()
    >>> find_event("ofac-gl13-2025", ev)["kind"]
    'easing'
    >>> {k: find_event("2025-12-13 11:49", ev)[k] for k in ("event_id", "kind", "time_utc")}
    {'event_id': 'adhoc-20251213-1149', 'kind': 'adhoc', 'time_utc': '11:49'}
    """
    key = str(event).strip()
    hit = events[events["event_id"] == key]
    if len(hit):
        return hit.iloc[0].to_dict()
    try:
        ts = pd.Timestamp(key)
        if pd.isna(ts):
            raise ValueError
    except (ValueError, TypeError):
        import difflib

        close = difflib.get_close_matches(key, list(events["event_id"]), n=3, cutoff=0.4)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise CatalogError(
            f"unknown event {key!r}{hint}: give a catalog id (`potash-impact events`) or a date YYYY-MM-DD[ HH:MM]"
        ) from None
    return {
        "event_id": f"adhoc-{ts:%Y%m%d}" + (f"-{ts:%H%M}" if (ts.hour, ts.minute) != (0, 0) else ""),
        "date": ts.normalize(),
        "time_utc": f"{ts:%H:%M}" if (ts.hour, ts.minute) != (0, 0) else None,
        "timestamp": key,
        "kind": "adhoc",
        "scope": None,
        "title": f"ad-hoc event at {key}",
        "confidence": None,
        "source_url": None,
    }


def get_event(event, events: pd.DataFrame | None = None, data_dir=None, *, case=None) -> dict:
    """An event by catalog id, or an ad-hoc event from a date / 'date time' string.

    Parameters
    ----------
    event : str
        A catalog ``event_id`` or ``YYYY-MM-DD[ HH:MM]`` (UTC).
    events : DataFrame, optional
        The catalog to search (default: the case's).
    data_dir : str or path-like, optional
        The case folder, when neither ``events`` nor ``case`` is given.
    case : Case, optional
        An already loaded case.

    Returns
    -------
    dict
        ``event_id, timestamp, kind, title`` and the other catalog columns.

    Raises
    ------
    CatalogError
        An unknown id that is not a date; the message lists close ids.

    Examples
    --------
    >>> get_event("ofac-gl13-2025")["kind"]
    'easing'
    """
    if events is None:
        return _case(case, data_dir).event(event)
    return find_event(event, events)


# --------------------------------------------------------------------------- universe
def validate_universe(universe: pd.DataFrame, *, lines=None, source: str = "universe.csv") -> pd.DataFrame:
    """Check the universe; return it unchanged.

    Columns present; tickers valid (:func:`analysis.ids.check_ticker`) and unique; group
    names valid; calendars known to exchange_calendars; benchmarks listed.

    Parameters
    ----------
    universe : DataFrame
        The universe as strings.
    lines : sequence of int, optional
        The file line of each row (default: row i on line i + 2).
    source : str
        The file name used in messages.

    Returns
    -------
    DataFrame
        ``universe``.

    Raises
    ------
    CaseError
        A missing column, duplicate ticker, unknown calendar or unlisted benchmark, naming
        ``source:line``.
    IdentifierError
        A ticker, benchmark or group name that breaks :mod:`analysis.ids` (``../evil``).

    Examples
    --------
    >>> validate_universe(load_universe())["ticker"].iloc[0]
    'NTR'
    """
    missing = [c for c in UNIVERSE_COLUMNS if c not in universe.columns]
    if missing:
        raise CaseError(f"{source}: missing column(s) {', '.join(missing)}")
    places = _places(universe, lines, source)
    first: dict = {}
    for where, t, g in zip(places, universe["ticker"], universe["group"]):
        check_ticker(t, f"{where} column ticker")
        if t in first:
            raise CaseError(f"{where}: duplicate ticker {t!r} (first on {first[t]})")
        first[t] = where
        check_group(g, f"{where} column group")
    import exchange_calendars as xcals

    names = set(xcals.get_calendar_names(include_aliases=True))
    for where, t, cal in zip(places, universe["ticker"], universe["calendar"]):
        if cal in names:
            continue  # a known name: don't build the calendar (about 0.4 s each) just to validate it
        try:
            get_calendar(cal)
        except AlignmentError as exc:
            raise CaseError(f"{where}: ticker {t!r}: {exc}") from None
    for where, t, b in zip(places, universe["ticker"], universe["benchmark"]):
        if _blank(b):
            continue
        check_ticker(b, f"{where} column benchmark")
        if b not in first:
            raise CaseError(f"{where}: ticker {t!r} has benchmark {b!r}, which is not a listed ticker")
    return universe


def load_universe(data_dir=None, *, case=None) -> pd.DataFrame:
    """The validated universe with an ``offline`` column: True where the case has the ticker's price file.

    Parameters
    ----------
    data_dir : str or path-like, optional
        The case folder.
    case : Case, optional
        An already loaded case (wins over ``data_dir``).

    Returns
    -------
    DataFrame
        A copy of :attr:`analysis.case.Case.universe`.

    Raises
    ------
    CaseError, IdentifierError
        The case folder is invalid (file and line named).

    Examples
    --------
    >>> load_universe().set_index("ticker").loc["SDF.DE", "calendar"]
    'XETR'
    """
    return _case(case, data_dir).universe


def _universe_of(universe, case, data_dir) -> pd.DataFrame:
    from .case import Case

    if isinstance(universe, Case):
        return universe._universe
    return _case(case, data_dir)._universe if universe is None else universe


def group_tickers(
    group: str,
    universe: pd.DataFrame | None = None,
    *,
    offline_only: bool = False,
    data_dir=None,
    case=None,
    exchange: str | None = None,
) -> list[str]:
    """Tickers of a universe group, in file order: the one rule for "this group's tickers on this calendar".

    Parameters
    ----------
    group : str
        A ``group`` of ``universe.csv`` (e.g. ``"potash producer"``).
    universe : DataFrame, optional
        The universe (default: the case's).
    offline_only : bool
        Only tickers with a price file in the case.
    data_dir : str or path-like, optional
        The case folder, when neither ``universe`` nor ``case`` is given.
    case : Case, optional
        An already loaded case.
    exchange : str, optional
        Only listings whose ``calendar`` is this exchange_calendars name.

    Returns
    -------
    list of str
        Possibly empty when ``exchange`` or ``offline_only`` filter every listing out.

    Raises
    ------
    CatalogError
        ``group`` is not a group of the universe.

    Examples
    --------
    >>> group_tickers("potash producer", offline_only=True)
    ['NTR', 'MOS', 'IPI', 'ICL']
    >>> group_tickers("potash producer", exchange="XETR")
    ['SDF.DE']
    """
    universe = _universe_of(universe, case, data_dir)
    groups = list(dict.fromkeys(universe["group"]))
    if group not in groups:
        raise CatalogError(f"unknown group {group!r}: use one of {', '.join(sorted(groups))}")
    keep = universe["group"] == group
    if exchange is not None:
        keep &= universe["calendar"] == exchange
    if offline_only:
        keep &= universe["offline"].astype(bool)
    return list(universe.loc[keep, "ticker"])


def check_tickers(tickers, universe: pd.DataFrame | None = None, *, offline: bool = False, data_dir=None, case=None) -> list[str]:
    """Return ``tickers`` if all are in the universe (and, ``offline``, have a price file); else a clear error.

    Parameters
    ----------
    tickers : iterable of str
    universe : DataFrame, optional
        The universe (default: the case's).
    offline : bool
        Also require a price file in the case.
    data_dir : str or path-like, optional
    case : Case, optional

    Returns
    -------
    list of str

    Raises
    ------
    CatalogError
        The first unknown ticker, or one that only the live path can fetch.

    Examples
    --------
    >>> check_tickers(["NTR", "SPY"], offline=True)
    ['NTR', 'SPY']
    """
    universe = _universe_of(universe, case, data_dir)
    known = dict(zip(universe["ticker"], universe["offline"]))
    for t in tickers:
        if t not in known:
            raise CatalogError(f"unknown ticker {t!r}: not in universe.csv (known: {', '.join(known)})")
        if offline and not known[t]:
            raise CatalogError(
                f"{t} is not in the offline snapshot: only the live yfinance path can fetch it (drop --offline)"
            )
    return list(tickers)


# --------------------------------------------------------------------------- confounders
def confounders_in_window(
    events: pd.DataFrame | None,
    sessions: pd.DatetimeIndex,
    event_session,
    window: tuple[int, int],
    *,
    exchange: str = "XNYS",
    exclude: tuple[str, ...] = (),
    case=None,
) -> pd.DataFrame:
    """Catalog events (any kind) whose aligned session falls in ``window`` around ``event_session``.

    Parameters
    ----------
    events : DataFrame or None
        The catalog (``None``: the catalog of ``case``, or of the default case).
    sessions : DatetimeIndex
        The trading sessions the window is counted on. A window running past them is
        clipped to them (confounders are listed for the part of the window the data has).
    event_session : date-like
        Day 0; must be in ``sessions``.
    window : (int, int)
        Relative sessions, inclusive.
    exchange : str
        Calendar for aligning events without a ``session`` column.
    exclude : tuple of str
        Event ids to leave out (the event itself).
    case : Case, optional
        Used when ``events`` is None.

    Returns
    -------
    DataFrame
        The catalog rows with ``session`` and ``day`` (relative session) columns.

    Raises
    ------
    AlignmentError
        ``event_session`` is not in ``sessions``.

    Examples
    --------
    >>> from analysis.calendars import exchange_sessions
    >>> s = exchange_sessions("2025-11-01", "2026-01-31")
    >>> confounders_in_window(None, s, "2025-12-15", (0, 1), exclude=("us-potash-easing-2025",))["day"].tolist()
    [0, 0, 1]
    """
    from .case import Case

    if events is None or isinstance(events, Case):
        events = (events if isinstance(events, Case) else _case(case))._events
    sessions = pd.DatetimeIndex(sessions)
    ev = align_events(events, exchange) if "session" not in events.columns else events
    pos = sessions.get_indexer([pd.Timestamp(event_session)])[0]
    if pos < 0:
        raise AlignmentError(f"{pd.Timestamp(event_session).date()} is not in the session index")
    start, stop = window_rows(pos, window, len(sessions), clip=True)  # clip: look up to the data's edges
    lo, hi = (sessions[start], sessions[stop - 1]) if stop > start else (pd.Timestamp.max, pd.Timestamp.min)
    sel = ev[(ev["session"] >= lo) & (ev["session"] <= hi) & ~ev["event_id"].isin(exclude)].copy()
    sel["day"] = [int(sessions.get_indexer([s])[0]) - pos if s in sessions else None for s in sel["session"]]
    return sel.reset_index(drop=True)
