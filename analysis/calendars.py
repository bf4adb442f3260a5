"""Trading calendars and event alignment.

An announcement is a point in time; markets react in *sessions*. This module maps the
former to the latter per listing exchange, with `exchange_calendars`_ (maintained,
covers 50+ exchanges with holidays and early closes; hand-written holiday lists are
the classic source of off-by-one event days).

Alignment rule (``policy="next"``, the default): the event session is the first
session that could react.

* a timestamp *during* a session, or *before the open* of a session day -> that session;
* a timestamp *after the close* (or on a weekend/holiday) -> the next session;
* a bare date (time unknown) that is a session -> that session (the news may have been
  intraday); a bare date that is not a session -> the next session.

``policy="previous"`` takes the last session at or before the timestamp instead, and
``policy="error"`` refuses any timestamp that is not inside a session (or any date that
is not a session), so ambiguous cases must be resolved by hand.

Naive timestamps with a time of day are read as **UTC** (the catalog's ``time_utc``).

Windows are then counted in sessions relative to the aligned session, never in
calendar days: see :func:`relative_sessions` and :func:`window_sessions`.

.. _exchange_calendars: https://github.com/gerrymanoim/exchange_calendars
"""

from __future__ import annotations

import datetime as _dt
from functools import lru_cache

import numpy as np
import pandas as pd

from .errors import AlignmentError, DataError
from .windows import window_sessions  # noqa: F401  (the one implementation; re-exported here)

POLICIES = ("next", "previous", "error")
DEFAULT_EXCHANGE = "XNYS"
_CAL_START = "2000-01-03"


@lru_cache(maxsize=16)
def get_calendar(exchange: str = DEFAULT_EXCHANGE):
    """The ``exchange_calendars`` calendar for a MIC code (``XNYS``, ``XTSE``, ``XETR``, ``XOSL``...), cached.

    Parameters
    ----------
    exchange : str
        A calendar name or alias known to exchange_calendars.

    Returns
    -------
    exchange_calendars.ExchangeCalendar
        Sessions from 2000-01-03, or from the calendar's own first supported date when it
        starts later (a warning names the cause).

    Raises
    ------
    AlignmentError
        ``exchange`` is not a calendar name (only that: any other failure of
        exchange_calendars propagates with its own message).

    Examples
    --------
    >>> get_calendar("XNYS").name
    'XNYS'
    """
    import exchange_calendars as xcals

    try:
        return xcals.get_calendar(exchange, start=_CAL_START)
    except xcals.errors.InvalidCalendarName as exc:
        names = ", ".join(sorted(n for n in xcals.get_calendar_names(include_aliases=False) if n.startswith("X"))[:12])
        raise AlignmentError(
            f"unknown exchange calendar {exchange!r}: use a MIC code such as XNYS, XTSE, XETR, XOSL "
            f"(available include {names}, ...)"
        ) from exc
    except ValueError as exc:  # documented fallback: a calendar whose history starts after 2000
        import warnings

        warnings.warn(
            f"calendar {exchange}: cannot start at {_CAL_START} ({exc}); using the calendar's own range",
            UserWarning,
            stacklevel=2,
        )
        return xcals.get_calendar(exchange)


def parse_date(value, name: str = "date", error: type[Exception] = DataError) -> pd.Timestamp | None:
    """A ``Timestamp`` from a date-like value; ``None`` or ``""`` passes through as None.

    Parameters
    ----------
    value : date-like, str or None
    name : str
        What the value is, for the message (``start``, ``end``, ``event_date``).
    error : type of Exception
        What to raise on a value that is not a date (default
        :class:`~analysis.errors.DataError`; the engine passes ``EventStudyError``).

    Returns
    -------
    pandas.Timestamp or None
        Time-zone naive.

    Raises
    ------
    error
        ``value`` does not parse (the message names it and says ``use YYYY-MM-DD``).

    Examples
    --------
    >>> parse_date("2025-12-15"), parse_date(None)
    (Timestamp('2025-12-15 00:00:00'), None)
    """
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise error(f"malformed {name} {value!r}: use YYYY-MM-DD") from None
    if pd.isna(ts):
        raise error(f"malformed {name} {value!r}: use YYYY-MM-DD")
    return ts.tz_localize(None) if ts.tz is not None else ts


def _parse_when(when) -> tuple[pd.Timestamp, bool]:
    """Return (timestamp in UTC or naive date, has_time)."""
    if isinstance(when, pd.Timestamp):
        ts = when
    elif isinstance(when, (_dt.datetime, _dt.date, np.datetime64)):
        ts = pd.Timestamp(when)
    elif isinstance(when, str):
        try:
            ts = pd.Timestamp(when.strip())
        except (ValueError, TypeError) as exc:
            raise AlignmentError(
                f"malformed event time {when!r}: use YYYY-MM-DD or 'YYYY-MM-DD HH:MM' (UTC)"
            ) from exc
    else:
        raise AlignmentError(f"cannot read an event time from {when!r} ({type(when).__name__})")
    if ts is pd.NaT or pd.isna(ts):
        raise AlignmentError(f"missing event time {when!r}: give a date such as 2025-12-13")
    has_time = ts.tz is not None or (ts.hour, ts.minute, ts.second, ts.microsecond) != (0, 0, 0, 0)
    if isinstance(when, str) and (":" in when or "T" in when):
        has_time = True  # "2025-12-15 00:00" is an explicit midnight, not a bare date
    if has_time:
        ts = ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")
    return ts, has_time


def align_event(
    when,
    exchange: str = DEFAULT_EXCHANGE,
    policy: str = "next",
    *,
    sessions: pd.DatetimeIndex | None = None,
) -> pd.Timestamp:
    """Map an event time to the session that first could react to it.

    Parameters
    ----------
    when : str, datetime, date or Timestamp
        The announcement. A naive value with a time of day is taken as UTC; a bare date
        means "time unknown, that day".
    exchange : str
        MIC code of the listing exchange (``XNYS`` for the US names).
    policy : {"next", "previous", "error"}
        See the module docstring.
    sessions : DatetimeIndex, optional
        The sessions the data actually has. If given, the aligned session must be
        among them, else :class:`~analysis.errors.AlignmentError` names the data's span.

    Returns
    -------
    pandas.Timestamp
        The session label (naive, midnight).

    Examples
    --------
    >>> align_event("2025-12-13 11:49")          # Saturday, UTC
    Timestamp('2025-12-15 00:00:00')
    """
    if policy not in POLICIES:
        raise AlignmentError(f"unknown alignment policy {policy!r}: use one of {', '.join(POLICIES)}")
    ts, has_time = _parse_when(when)
    cal = get_calendar(exchange)
    first, last = cal.first_session, cal.last_session
    day = ts.tz_convert(None).normalize() if has_time else ts.normalize()
    if day < first or day > last:
        raise AlignmentError(
            f"event time {when!r} is outside the {exchange} calendar ({first.date()} to {last.date()})"
        )
    direction = {"next": "next", "previous": "previous", "error": "none"}[policy]
    try:
        if has_time:
            session = cal.minute_to_session(ts, direction=direction)
        else:
            session = cal.date_to_session(day, direction=direction)
    except ValueError as exc:
        raise AlignmentError(
            f"event time {when!r} is not inside an {exchange} session and policy='error': "
            f"use policy='next' (first session that can react) or 'previous'"
        ) from exc
    session = pd.Timestamp(session).tz_localize(None) if pd.Timestamp(session).tz else pd.Timestamp(session)
    if sessions is not None:
        sessions = pd.DatetimeIndex(sessions)
        if len(sessions) == 0:
            raise AlignmentError("no sessions in the data to align to")
        if session not in sessions:
            if session < sessions[0] or session > sessions[-1]:
                raise AlignmentError(
                    f"event {when!r} aligns to {session.date()}, outside the data "
                    f"({sessions[0].date()} to {sessions[-1].date()}): load a longer price history"
                )
            raise AlignmentError(
                f"event {when!r} aligns to {session.date()}, a session missing from the data: "
                f"nearest data session is {nearest_session(sessions, session).date()}"
            )
    return session


def nearest_session(sessions: pd.DatetimeIndex, when) -> pd.Timestamp:
    """The session in ``sessions`` closest to ``when`` (ties go to the later one).

    Parameters
    ----------
    sessions : DatetimeIndex
        Sorted session labels (naive).
    when : date-like
        Any date or timestamp, a session or not.

    Returns
    -------
    Timestamp
        A member of ``sessions``; the first or last one when ``when`` lies outside them.

    Examples
    --------
    >>> s = exchange_sessions("2025-12-10", "2025-12-19")
    >>> str(nearest_session(s, "2025-12-13").date()), str(nearest_session(s, "2025-12-14").date())
    ('2025-12-12', '2025-12-15')
    """
    sessions = pd.DatetimeIndex(sessions)
    t = pd.Timestamp(when)
    pos = int(np.clip(sessions.searchsorted(t), 0, len(sessions) - 1))
    if pos > 0 and abs(sessions[pos - 1] - t) < abs(sessions[pos] - t):
        pos -= 1
    return sessions[pos]


def session_position(sessions: pd.DatetimeIndex, session) -> int:
    """Position of ``session`` in ``sessions``; a clear error with the nearest session if absent.

    Parameters
    ----------
    sessions : DatetimeIndex
        Session labels (naive), without duplicates.
    session : date-like
        The session to find.

    Returns
    -------
    int
        Its 0-based position.

    Raises
    ------
    AlignmentError
        ``session`` is not in ``sessions`` (the nearest session is named), or
        ``sessions`` holds a duplicate date.

    Examples
    --------
    >>> s = exchange_sessions("2025-12-10", "2025-12-19")
    >>> session_position(s, "2025-12-15")
    3
    >>> session_position(s, "2025-12-13")
    Traceback (most recent call last):
    ...
    analysis.errors.AlignmentError: 2025-12-13 is not a session in the data; nearest session is 2025-12-12 (align the event with align_event first)
    """
    sessions = pd.DatetimeIndex(sessions)
    t = pd.Timestamp(session)
    if not sessions.is_unique:
        dup = sessions[sessions.duplicated()][0]
        raise AlignmentError(f"duplicate session {dup.date()} in the index: de-duplicate the data first")
    try:
        return int(sessions.get_loc(t))
    except KeyError:
        raise AlignmentError(
            f"{t.date()} is not a session in the data; nearest session is "
            f"{nearest_session(sessions, t).date()} (align the event with align_event first)"
        ) from None


def relative_sessions(sessions: pd.DatetimeIndex, event_session) -> pd.Series:
    """Relative day (0 = event session) of every session, as an integer Series indexed by session.

    Parameters
    ----------
    sessions : DatetimeIndex
        Session labels (naive).
    event_session : date-like
        Day 0; must be one of ``sessions``.

    Returns
    -------
    Series
        Named ``day``: session -> ``position - position of event_session``.

    Raises
    ------
    AlignmentError
        As :func:`session_position`.

    Examples
    --------
    >>> relative_sessions(exchange_sessions("2025-12-10", "2025-12-19"), "2025-12-15").tolist()
    [-3, -2, -1, 0, 1, 2, 3, 4]
    """
    sessions = pd.DatetimeIndex(sessions)
    pos = session_position(sessions, event_session)
    return pd.Series(np.arange(len(sessions)) - pos, index=sessions, name="day")


def exchange_sessions(start, end, exchange: str = DEFAULT_EXCHANGE) -> pd.DatetimeIndex:
    """All sessions of ``exchange`` from ``start`` to ``end`` inclusive (naive labels).

    Parameters
    ----------
    start, end : date-like
        Inclusive bounds; clipped to the range the calendar covers.
    exchange : str
        An exchange_calendars name (``"XNYS"``, ``"XETR"``, ...).

    Returns
    -------
    DatetimeIndex
        Named ``date``; empty when the bounds leave nothing.

    Examples
    --------
    >>> list(exchange_sessions("2025-12-22", "2025-12-31", "XETR").strftime("%m-%d"))
    ['12-22', '12-23', '12-29', '12-30']
    """
    cal = get_calendar(exchange)
    s = max(pd.Timestamp(start), cal.first_session)
    e = min(pd.Timestamp(end), cal.last_session)
    if s > e:
        return pd.DatetimeIndex([], name="date")
    out = cal.sessions_in_range(s, e)
    out = out.tz_localize(None) if out.tz is not None else out
    return pd.DatetimeIndex(out, name="date")
