"""Relative-day windows: the one implementation of their labels, defaults, parsing and arithmetic.

Every module that counts sessions around an event (the engine, the catalog study, the
confounder lookup, the parameter checks of the report runner) uses this module, so a
window means the same thing everywhere and the data's edges are handled by one rule.

Notation
--------
Relative days are sessions counted from the event session (day 0); a window is an
inclusive pair ``(a, b)`` of relative days with ``a <= b``, of length ``L = b - a + 1``,
labelled ``"(a,b)"`` (:func:`window_label`). The *span* (hull) of several windows is
``(min a, max b)`` (:func:`window_span`). Positions are 0-based row numbers in a
session index of ``n`` rows; the event session sits at row ``pos``.

The rule at the data's edges
----------------------------
A window that needs a row before row 0 or after row ``n - 1`` is an error:
:class:`~analysis.errors.WindowRangeError`, naming the window, the event and how many
sessions are available on each side. A caller that *wants* clipping says so with
``clip=True`` (documented at its call site, e.g.
:func:`analysis.catalog.confounders_in_window`, which looks for catalog events near the
edges of the data, and the catalog study, which truncates the estimation window to the
start of the data and says so in its notes). No caller clips silently.

Defaults
--------
:data:`DEFAULT_WINDOWS` are the engine's five event windows, ``(-1,1), (0,0), (0,1),
(0,5), (-5,5)``; :data:`DEFAULT_ESTIMATION_WINDOW` is ``(-250, -11)``: about one trading
year ending two weeks before the event, so that pre-event leakage does not enter the
normal-return model (MacKinlay 1997, "Event studies in economics and finance", JEL 35).

This module imports nothing heavy at import time (pandas only inside
:func:`window_sessions`), so the command line can validate windows cheaply.
"""

from __future__ import annotations

import numbers

from .errors import WindowError, WindowRangeError

__all__ = [
    "DEFAULT_ESTIMATION_WINDOW",
    "DEFAULT_WINDOWS",
    "check_estimation_window",
    "parse_window",
    "parse_windows",
    "window_label",
    "window_length",
    "window_rows",
    "window_sessions",
    "window_span",
]

#: The engine's default event windows, in this order (labels ``"(-1,1)"``, ``"(0,0)"``, ...).
DEFAULT_WINDOWS: tuple[tuple[int, int], ...] = ((-1, 1), (0, 0), (0, 1), (0, 5), (-5, 5))
#: The default estimation window, relative sessions inclusive.
DEFAULT_ESTIMATION_WINDOW: tuple[int, int] = (-250, -11)


def window_label(window) -> str:
    """The label of a relative window.

    Parameters
    ----------
    window : (int, int) or str
        A window ``(a, b)``, or a label (returned normalized).

    Returns
    -------
    str
        ``"(a,b)"``, no spaces.

    Examples
    --------
    >>> window_label((0, 1))
    '(0,1)'
    >>> window_label([-5, 5])
    '(-5,5)'
    """
    if isinstance(window, tuple) and len(window) == 2 and all(type(v) is int for v in window) and window[0] <= window[1]:
        return f"({window[0]},{window[1]})"  # the common case, already valid
    a, b = parse_window(window)
    return f"({a},{b})"


def _fail(name, raw, reason) -> WindowError:
    """A WindowError whose message names the window; ``.reason`` is the bare reason (for callers' own wording)."""
    exc = WindowError(f"{name} {raw!r}: {reason}")
    exc.reason = reason
    return exc


def _int(v, window, name):
    why = f"{v!r} is not an integer; expected a window (start, end) of two integers, e.g. (0, 1)"
    if isinstance(v, bool) or not isinstance(v, (numbers.Integral, numbers.Real, str)):
        raise _fail(name, window, why)
    try:
        f = float(v)
    except ValueError:
        raise _fail(name, window, why) from None
    if f != f or f in (float("inf"), float("-inf")) or f != int(f):
        raise _fail(name, window, why)
    return int(f)


def parse_window(value, *, name: str = "window") -> tuple[int, int]:
    """Read one window: a pair of integers, or a label such as ``"(0,1)"`` or ``"[0, 1]"``.

    Parameters
    ----------
    value : sequence of two integers, or str
        ``(a, b)``, ``[a, b]``, ``"(a,b)"``, ``"a,b"``. Integral floats (``1.0``) are
        accepted; booleans and fractions are not.
    name : str
        What the window is, for the error message (e.g. ``"estimation_window"``).

    Returns
    -------
    (int, int)

    Raises
    ------
    WindowError
        Not two integers, or reversed (``a > b``).

    Examples
    --------
    >>> parse_window("(0, 5)")
    (0, 5)
    >>> parse_window([-250, -11], name="estimation_window")
    (-250, -11)
    """
    raw = value
    if isinstance(value, str):
        value = [v.strip() for v in value.strip().strip("()[]").split(",")]
    try:
        pair = list(value)
    except TypeError:
        raise _fail(name, raw, "expected a window (start, end) of two integers, e.g. (0, 1)") from None
    if len(pair) != 2:
        raise _fail(name, raw, "expected a window (start, end) of two integers, e.g. (0, 1)")
    a, b = (_int(v, raw, name) for v in pair)
    if a > b:
        raise _fail(name, raw, f"reversed window: start {a} is after end {b}; give (start, end) with start <= end")
    return a, b


def parse_windows(values, *, name: str = "event_windows") -> tuple[tuple[int, int], ...]:
    """Read a non-empty list of distinct windows (see :func:`parse_window`).

    Parameters
    ----------
    values : sequence of windows
        E.g. ``((-1, 1), (0, 0))`` or ``[[0, 1]]``; a single pair ``(0, 1)`` is read as
        one window.
    name : str
        For the error message.

    Returns
    -------
    tuple of (int, int), in the order given

    Raises
    ------
    WindowError
        Empty, a malformed or reversed window, or a window listed twice.

    Examples
    --------
    >>> parse_windows([[0, 1], (-1, 1)])
    ((0, 1), (-1, 1))
    """
    if isinstance(values, str):
        values = [values]
    try:
        items = list(values)
    except TypeError:
        raise WindowError(f"{name} {values!r} is not a list of (start, end) windows") from None
    if len(items) == 2 and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in items):
        items = [items]
    if not items:
        raise WindowError(f"{name} is empty: give at least one (start, end) window")
    wins = tuple(parse_window(w, name=name) for w in items)
    seen = set()
    for w in wins:
        if w in seen:
            raise WindowError(f"{name}: window {window_label(w)} is listed twice; list each window once")
        seen.add(w)
    return wins


def window_length(window) -> int:
    """``L = b - a + 1``, the number of sessions in ``(a, b)``.

    Parameters
    ----------
    window : (int, int) or str
        A window, as :func:`parse_window` reads it.

    Returns
    -------
    int

    Raises
    ------
    WindowError
        Not a window.

    Examples
    --------
    >>> window_length((-5, 5))
    11
    """
    a, b = parse_window(window)
    return b - a + 1


def window_span(windows) -> tuple[int, int]:
    """The hull ``(min a, max b)`` of one or more windows.

    Parameters
    ----------
    windows : (int, int) or sequence of windows
        One window or several.

    Returns
    -------
    (int, int)

    Raises
    ------
    WindowError
        No window, or a malformed one.

    Examples
    --------
    >>> window_span([(-1, 1), (0, 5)])
    (-1, 5)
    >>> window_span((0, 1))
    (0, 1)
    """
    items = list(windows)
    if len(items) == 2 and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in items):
        items = [items]
    if not items:
        raise _fail("windows", windows, "expected at least one (start, end) window")
    wins = [parse_window(w, name="window") for w in items]
    return min(a for a, _ in wins), max(b for _, b in wins)


def check_estimation_window(estimation_window, windows, *, min_obs: int | None = None) -> tuple[int, int]:
    """Validate the estimation window against the event windows (it must end before they start).

    Parameters
    ----------
    estimation_window : (int, int)
    windows : sequence of (int, int)
        The event windows (and any daily span) the study reports.
    min_obs : int, optional
        If given, the estimation window must hold at least this many sessions.

    Returns
    -------
    (int, int)

    Raises
    ------
    WindowError
        Malformed, overlapping the event windows, or shorter than ``min_obs``.

    Examples
    --------
    >>> check_estimation_window((-250, -11), [(-5, 5)])
    (-250, -11)
    """
    ea, eb = parse_window(estimation_window, name="estimation_window")
    s0, s1 = window_span(windows)
    if ea <= s1 and s0 <= eb:
        raise WindowError(
            f"estimation window ({ea},{eb}) overlaps the event windows, which span ({s0},{s1}): "
            f"end the estimation window before day {s0}, e.g. ({ea},{s0 - 1 - 5})"
        )
    if min_obs is not None and eb - ea + 1 < min_obs:
        raise WindowError(
            f"estimation window ({ea},{eb}) has {eb - ea + 1} sessions, fewer than min_estimation_obs={min_obs}: "
            "lengthen the window or lower min_estimation_obs"
        )
    return ea, eb


def window_rows(pos: int, window, n: int, *, clip: bool = False, around=None) -> tuple[int, int]:
    """Rows ``[start, stop)`` of a relative window around row ``pos`` of an index of ``n`` rows.

    Parameters
    ----------
    pos : int
        Row of the event session (day 0).
    window : (int, int)
        Relative window, inclusive.
    n : int
        Number of rows in the index.
    clip : bool
        False (the rule): a window running past row 0 or row ``n - 1`` raises.
        True: clip it to the data (the result may then be shorter than the window, or
        empty with ``start == stop``); only where the caller documents why.
    around : str, optional
        How to name the event in the error message (e.g. its date).

    Returns
    -------
    (int, int)
        ``start, stop`` for ``iloc[start:stop]``; ``stop - start == L`` unless clipped.

    Raises
    ------
    WindowRangeError
        The window runs past the data (``clip=False``), naming how many sessions are
        available before and after the event.

    Examples
    --------
    >>> window_rows(300, (-250, -11), 400)
    (50, 290)
    >>> window_rows(3, (-5, 5), 400, clip=True)
    (0, 9)
    """
    a, b = parse_window(window)
    pos, n = int(pos), int(n)
    if not 0 <= pos < n:
        raise WindowRangeError(f"event row {pos} is outside the data's {n} rows")
    start, stop = pos + a, pos + b + 1
    if start < 0 or stop > n:
        if not clip:
            where = f" around {around}" if around is not None else ""
            raise WindowRangeError(
                f"window ({a},{b}){where} runs past the data: {pos} sessions before and {n - pos - 1} after "
                "are available"
            )
        start, stop = max(start, 0), min(stop, n)
        stop = max(stop, start)
    return start, stop


def window_sessions(sessions, event_session, window, *, clip: bool = False):
    """Sessions of a relative window ``(a, b)`` (inclusive, counted in sessions) around the event session.

    Parameters
    ----------
    sessions : DatetimeIndex
        The trading sessions to count on (unique, sorted).
    event_session : date-like
        Day 0; must be in ``sessions``.
    window : (int, int)
    clip : bool
        See :func:`window_rows`: False raises at the data's edges, True clips.

    Returns
    -------
    DatetimeIndex

    Raises
    ------
    AlignmentError
        ``event_session`` is not a session (the nearest one is named).
    WindowRangeError
        The window runs past the data and ``clip`` is False.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.bdate_range("2025-12-10", "2025-12-19")
    >>> [d.day for d in window_sessions(s, "2025-12-15", (-1, 1))]
    [12, 15, 16]
    """
    import pandas as pd

    from .calendars import session_position

    sessions = pd.DatetimeIndex(sessions)
    pos = session_position(sessions, event_session)
    start, stop = window_rows(pos, window, len(sessions), clip=clip, around=pd.Timestamp(event_session).date())
    return sessions[start:stop]
