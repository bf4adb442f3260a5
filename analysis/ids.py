"""Identifier rules: event ids, tickers, group names and notebook names.

Identifiers travel: an event id becomes part of a run id, hence a folder name under
``reports/``; a ticker names ``<case>/prices/<TICKER>.csv`` and a cache file; both end up
in HTML. So each kind has one pattern, checked where the value enters (a line of
``events.csv``, a parameter, a schedule), and a value that breaks it is refused with an
:class:`~analysis.errors.IdentifierError` naming the value and where it came from
(``file:line``), before it can reach a path or a page.

=============  ==========================================  =================================
kind           pattern (whole string)                      admits
=============  ==========================================  =================================
event id       ``[a-z0-9][a-z0-9._-]{0,63}``               ``us-potash-easing-2025``
ticker         ``[A-Za-z0-9^][A-Za-z0-9.^=_-]{0,31}``      ``BRK-B``, ``NTR.TO``, ``^GSPC``, ``CL=F``
group          ``[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}``        ``potash producer``, ``ag-chem``
               (no trailing or doubled space)
name           ``[A-Za-z0-9][A-Za-z0-9._-]{0,63}``         ``event_study`` (notebook names)
=============  ==========================================  =================================

None of the patterns admits ``/``, ``\\``, ``<``, ``>``, quotes or control characters, and
each must start with a letter or digit (``^`` also for tickers), so ``..``, ``../evil``
and hidden names (``.x``) are impossible. Matching uses :func:`re.fullmatch`: a trailing
newline is not silently accepted: the patterns end in ``\\Z``, not ``$`` (which admits
one), so ``.match`` is as safe as ``fullmatch``.

Stdlib only, so code reachable from ``import analysis.cli`` may use it.
"""

from __future__ import annotations

import re

from .errors import IdentifierError

EVENT_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}\Z")
TICKER_RE = re.compile(r"^[A-Za-z0-9^][A-Za-z0-9.^=_-]{0,31}\Z")
GROUP_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]| (?! )){0,63}\Z")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")

_HOWTO = {
    "event id": "use 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit",
    "ticker": "use 1-32 letters, digits, '.', '^', '=', '_' or '-', starting with a letter, digit or '^' (e.g. NTR.TO, BRK-B, ^GSPC)",
    "group name": "use 1-64 letters, digits, single spaces, '.', '_' or '-', starting with a letter or digit",
    "name": "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
}


def _shown(value) -> str:
    """``repr`` of the offending value, shortened to keep the message on one line."""
    r = repr(value)
    return r if len(r) <= 80 else r[:77] + "..."


def _check(value, pattern: re.Pattern, kind: str, where: str | None) -> str:
    prefix = f"{where}: " if where else ""
    if not isinstance(value, str):
        raise IdentifierError(f"{prefix}{kind} must be text, got {_shown(value)} ({type(value).__name__}): {_HOWTO[kind]}")
    if pattern.fullmatch(value) is None or (pattern is GROUP_RE and value.endswith(" ")):
        raise IdentifierError(f"{prefix}invalid {kind} {_shown(value)}: {_HOWTO[kind]}")
    return value


def check_event_id(value, where: str | None = None) -> str:
    """Return ``value`` if it is a valid event id, else raise.

    Parameters
    ----------
    value : str
        The candidate id.
    where : str, optional
        Where it came from, e.g. ``"events.csv:5"`` or ``"parameter event"``; leads the message.

    Returns
    -------
    str
        ``value``, unchanged.

    Raises
    ------
    IdentifierError
        ``value`` is not a str or does not match :data:`EVENT_ID_RE`.

    Examples
    --------
    >>> check_event_id("us-potash-easing-2025")
    'us-potash-easing-2025'
    >>> check_event_id("a/../x", "events.csv:3")
    Traceback (most recent call last):
    ...
    analysis.errors.IdentifierError: events.csv:3: invalid event id 'a/../x': use 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit
    """
    return _check(value, EVENT_ID_RE, "event id", where)


def check_ticker(value, where: str | None = None) -> str:
    """Return ``value`` if it is a valid ticker (:data:`TICKER_RE`), else raise.

    Parameters
    ----------
    value : str
        The candidate ticker.
    where : str, optional
        Where it came from, e.g. ``"universe.csv:4"``.

    Returns
    -------
    str
        ``value``, unchanged.

    Raises
    ------
    IdentifierError
        ``value`` is not a str or does not match :data:`TICKER_RE` (``../evil`` does not).

    Examples
    --------
    >>> [check_ticker(t) for t in ("BRK-B", "NTR.TO", "^GSPC")]
    ['BRK-B', 'NTR.TO', '^GSPC']
    """
    return _check(value, TICKER_RE, "ticker", where)


def check_group(value, where: str | None = None) -> str:
    """Return ``value`` if it is a valid universe group name (:data:`GROUP_RE`), else raise.

    Group names may hold single inner spaces (``"potash producer"``).

    Parameters
    ----------
    value : str
        The candidate group name.
    where : str, optional
        Where it came from, e.g. ``"universe.csv:2"`` or ``"case.toml:9 key treated_group"``.

    Returns
    -------
    str
        ``value``, unchanged.

    Raises
    ------
    IdentifierError
        ``value`` is not a str or does not match.

    Examples
    --------
    >>> check_group("potash producer")
    'potash producer'
    """
    return _check(value, GROUP_RE, "group name", where)


def check_name(value, where: str | None = None) -> str:
    """Return ``value`` if it is a valid file-safe name (notebook names, case names), else raise.

    Parameters
    ----------
    value : str
        The candidate name, without folder or suffix (``event_study``, not
        ``notebooks/event_study.ipynb``).
    where : str, optional
        Where it came from, e.g. ``"schedule.toml:7"``.

    Returns
    -------
    str
        ``value``, unchanged.

    Raises
    ------
    IdentifierError
        ``value`` is not a str or does not match :data:`NAME_RE`.

    Examples
    --------
    >>> check_name("event_study")
    'event_study'
    """
    return _check(value, NAME_RE, "name", where)


__all__ = [
    "EVENT_ID_RE",
    "TICKER_RE",
    "GROUP_RE",
    "NAME_RE",
    "check_event_id",
    "check_ticker",
    "check_group",
    "check_name",
]
