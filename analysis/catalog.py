"""The case as data: the event catalog, the universe of listings and the case settings.

A case is a data folder (see :mod:`analysis.config`) holding

* ``events.csv`` -- ``event_id, date, time_utc, kind, scope, title, confidence, source_url``;
  ``kind`` is one of ``easing``, ``tightening``, ``confounder``;
* ``universe.csv`` -- ``ticker, name, exchange, calendar, currency, group, benchmark``;
  ``calendar`` is the exchange_calendars MIC used for alignment;
* ``case.toml`` -- which group is treated, which is the control, the market proxy, the
  primary commodity series and the default event.

Nothing here knows about potash: a new case is a new folder with the same three files.
"""

from __future__ import annotations

import tomllib

import pandas as pd

from . import config
from .calendars import align_event, get_calendar
from .errors import AlignmentError, CatalogError
from .windows import window_rows

KINDS = ("easing", "tightening", "confounder")
EVENT_COLUMNS = ("event_id", "date", "time_utc", "kind", "scope", "title", "confidence", "source_url")
UNIVERSE_COLUMNS = ("ticker", "name", "exchange", "calendar", "currency", "group", "benchmark")
GROUPS = ("potash producer", "nitrogen control", "ag-chem", "benchmark")


def load_case(data_dir=None) -> dict:
    """The ``[case]`` table of ``case.toml`` (empty dict if the folder has none)."""
    path = config.data_dir(data_dir) / "case.toml"
    if not path.is_file():
        return {}
    with open(path, "rb") as fh:
        return tomllib.load(fh).get("case", {})


def validate_events(events: pd.DataFrame) -> pd.DataFrame:
    """Check the catalog: columns present, ids unique, dates valid, kinds known, times HH:MM."""
    missing = [c for c in EVENT_COLUMNS if c not in events.columns]
    if missing:
        raise CatalogError(f"events.csv: missing column(s) {', '.join(missing)}")
    ids = events["event_id"]
    if ids.isna().any() or (ids.astype(str).str.strip() == "").any():
        raise CatalogError(f"events.csv: empty event_id on row {int(ids.isna().to_numpy().argmax()) + 2}")
    dup = ids[ids.duplicated()]
    if len(dup):
        raise CatalogError(f"events.csv: duplicate event_id {dup.iloc[0]!r}: ids must be unique")
    for eid, d, t, k in zip(ids, events["date"], events["time_utc"], events["kind"]):
        try:
            pd.Timestamp(str(d))
            if pd.isna(pd.Timestamp(str(d))):
                raise ValueError
        except (ValueError, TypeError):
            raise CatalogError(f"events.csv: event {eid!r} has invalid date {d!r}: use YYYY-MM-DD") from None
        if isinstance(t, str) and t.strip():
            try:
                pd.Timestamp(f"{d} {t}")
            except (ValueError, TypeError):
                raise CatalogError(f"events.csv: event {eid!r} has invalid time_utc {t!r}: use HH:MM") from None
        if k not in KINDS:
            raise CatalogError(f"events.csv: event {eid!r} has kind {k!r}: use one of {', '.join(KINDS)}")
    return events


def load_events(data_dir=None) -> pd.DataFrame:
    """The validated event catalog, sorted by time, with a UTC ``timestamp`` column added.

    ``timestamp`` is ``date + time_utc`` where the time is known, else the bare date
    (naive), which :func:`~analysis.calendars.align_event` reads as "time unknown".
    """
    path = config.data_dir(data_dir) / "events.csv"
    if not path.is_file():
        raise CatalogError(f"no event catalog at {path}: a case folder needs events.csv")
    ev = pd.read_csv(path, dtype=str, keep_default_na=False)
    ev = ev.replace({"": None})
    validate_events(ev)
    ev["date"] = pd.to_datetime(ev["date"])
    ev["timestamp"] = [
        f"{d.date()} {t}" if isinstance(t, str) and t else str(d.date()) for d, t in zip(ev["date"], ev["time_utc"])
    ]
    return ev.sort_values(["date", "time_utc"], na_position="first", kind="stable").reset_index(drop=True)


def align_events(events: pd.DataFrame, exchange: str = "XNYS", policy: str = "next") -> pd.DataFrame:
    """``events`` with a ``session`` column: the first session of ``exchange`` that could react."""
    out = events.copy()
    out["session"] = [align_event(ts, exchange, policy) for ts in out["timestamp"]]
    return out


def get_event(event, events: pd.DataFrame | None = None, data_dir=None) -> dict:
    """An event by catalog id, or an ad-hoc event from a date / 'date time' string.

    Returns a dict with ``event_id, timestamp, kind, title`` (and the catalog columns).
    An unknown id that is not a date raises :class:`CatalogError` listing close ids.
    """
    if events is None:
        events = load_events(data_dir)
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


def validate_universe(universe: pd.DataFrame) -> pd.DataFrame:
    """Check the universe: columns present, tickers unique, calendars known, benchmarks listed."""
    missing = [c for c in UNIVERSE_COLUMNS if c not in universe.columns]
    if missing:
        raise CatalogError(f"universe.csv: missing column(s) {', '.join(missing)}")
    dup = universe["ticker"][universe["ticker"].duplicated()]
    if len(dup):
        raise CatalogError(f"universe.csv: duplicate ticker {dup.iloc[0]!r}")
    import exchange_calendars as xcals

    names = set(xcals.get_calendar_names(include_aliases=True))
    for t, cal in zip(universe["ticker"], universe["calendar"]):
        if cal in names:
            continue  # a known name: don't build the calendar (about 0.4 s each) just to validate it
        try:
            get_calendar(cal)
        except AlignmentError as exc:
            raise CatalogError(f"universe.csv: ticker {t!r}: {exc}") from None
    known = set(universe["ticker"])
    for t, b in zip(universe["ticker"], universe["benchmark"]):
        if isinstance(b, str) and b and b not in known:
            raise CatalogError(f"universe.csv: ticker {t!r} has benchmark {b!r}, which is not a listed ticker")
    return universe


def load_universe(data_dir=None) -> pd.DataFrame:
    """The validated universe with an ``offline`` column: True where the snapshot has the ticker."""
    path = config.data_dir(data_dir) / "universe.csv"
    if not path.is_file():
        raise CatalogError(f"no universe at {path}: a case folder needs universe.csv")
    uni = pd.read_csv(path, dtype=str, keep_default_na=False).replace({"": None})
    validate_universe(uni)
    snap = config.data_dir(data_dir) / "prices"
    uni["offline"] = [(snap / f"{t}.csv").is_file() for t in uni["ticker"]]
    return uni


def group_tickers(group: str, universe: pd.DataFrame | None = None, *, offline_only: bool = False, data_dir=None) -> list[str]:
    """Tickers of a universe group (e.g. ``"potash producer"``), optionally only those in the snapshot."""
    if universe is None:
        universe = load_universe(data_dir)
    groups = sorted(set(universe["group"]))
    if group not in groups:
        raise CatalogError(f"unknown group {group!r}: use one of {', '.join(groups)}")
    sel = universe[universe["group"] == group]
    if offline_only:
        sel = sel[sel["offline"]]
    return list(sel["ticker"])


def check_tickers(tickers, universe: pd.DataFrame | None = None, *, offline: bool = False, data_dir=None) -> list[str]:
    """Return ``tickers`` if all are in the universe (and, offline, in the snapshot); else a clear error."""
    if universe is None:
        universe = load_universe(data_dir)
    known = dict(zip(universe["ticker"], universe["offline"]))
    for t in tickers:
        if t not in known:
            raise CatalogError(f"unknown ticker {t!r}: not in universe.csv (known: {', '.join(known)})")
        if offline and not known[t]:
            raise CatalogError(
                f"{t} is not in the offline snapshot: only the live yfinance path can fetch it (drop --offline)"
            )
    return list(tickers)


def confounders_in_window(
    events: pd.DataFrame,
    sessions: pd.DatetimeIndex,
    event_session,
    window: tuple[int, int],
    *,
    exchange: str = "XNYS",
    exclude: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Catalog events (any kind) whose aligned session falls in ``window`` around ``event_session``.

    ``sessions`` is the trading-session index the window is counted on; the result has a
    ``day`` column (relative session). ``exclude`` drops ids (the event itself).
    """
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
