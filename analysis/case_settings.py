"""The case's settings: ``case.toml``'s ``[case]`` table, parsed, type-checked and cross-checked.

:class:`CaseSettings` is what :attr:`analysis.case.Case.settings` holds. The file has one
table, ``[case]``, with the keys listed in :class:`CaseSettings`; any other table or key is
refused.

Conventions
-----------
* **Name the line and the key.** Every error is a :class:`~analysis.errors.CaseError`
  ``"<file>:<line> key <key>: ..."``; the line is found in the text (:func:`_key_line`,
  also for dotted keys and inline tables), and a TOML syntax error gives its line and
  column (:func:`toml_error_position`, which smooths over Python 3.11-3.14).
* **Types first, existence second.** :func:`_settings_from` checks each value's type and
  identifier pattern (:mod:`analysis.ids`); :func:`_cross_check`, run once the events and
  the universe are read, checks that the groups, tickers and default event exist.
"""

from __future__ import annotations

import datetime as _dt
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

from .case_files import _DATE_RE, _read_text, parse_iso_date
from .errors import CaseError
from .ids import check_event_id, check_group, check_name, check_ticker

if TYPE_CHECKING:
    import pandas as pd

BAD_DATA_POLICIES = ("error", "exclude")
SIGNED_KINDS = ("easing", "tightening")


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
    >>> from analysis.case import Case
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


__all__ = ["CaseSettings", "toml_error_position", "BAD_DATA_POLICIES", "SIGNED_KINDS"]
