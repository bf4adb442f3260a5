"""Event alignment on exchange calendars: weekends, holidays, after close, early close, DST."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.calendars import (
    align_event,
    exchange_sessions,
    nearest_session,
    relative_sessions,
    session_position,
    window_sessions,
)
from analysis.errors import AlignmentError

T = pd.Timestamp


@pytest.mark.parametrize(
    "when, expected",
    [
        ("2025-12-13 11:49", "2025-12-15"),  # the case: Saturday, UTC
        ("2025-12-13", "2025-12-15"),  # bare Saturday date
        ("2025-12-12", "2025-12-12"),  # bare session date: that session
        ("2025-12-12 13:00", "2025-12-12"),  # 08:00 ET, before the open -> same day
        ("2025-12-12 15:00", "2025-12-12"),  # 10:00 ET, intraday
        ("2025-12-12 21:30", "2025-12-15"),  # 16:30 ET, after the close -> next session
        ("2025-12-25", "2025-12-26"),  # Christmas holiday
        ("2025-07-04 14:00", "2025-07-07"),  # Independence Day (Friday) -> Monday
        ("2025-11-28 18:30", "2025-12-01"),  # 13:30 ET, after the 13:00 early close
        ("2025-11-28 17:30", "2025-11-28"),  # 12:30 ET, before the early close
        ("2025-07-01 19:30", "2025-07-01"),  # 15:30 EDT (summer time), intraday
        ("2025-07-01 20:30", "2025-07-02"),  # 16:30 EDT, after the close
        ("2021-12-02 17:41", "2021-12-02"),  # catalog: BPC designation, intraday
        ("2022-04-01 05:01", "2022-04-01"),  # catalog: GL 5 expiry, before the open
        (pd.Timestamp("2025-12-13 06:49", tz="America/New_York"), "2025-12-15"),  # tz-aware input
    ],
)
def test_align_next(when, expected):
    assert align_event(when) == T(expected)


def test_policies_previous_and_error():
    assert align_event("2025-12-13 11:49", policy="previous") == T("2025-12-12")
    assert align_event("2025-12-12 21:30", policy="previous") == T("2025-12-12")
    assert align_event("2025-12-12 15:00", policy="error") == T("2025-12-12")
    assert align_event("2025-12-12", policy="error") == T("2025-12-12")
    with pytest.raises(AlignmentError, match="'2025-12-13 11:49' is not inside an XNYS session and policy='error'"):
        align_event("2025-12-13 11:49", policy="error")
    with pytest.raises(AlignmentError, match="unknown alignment policy 'nearest'"):
        align_event("2025-12-13", policy="nearest")


def test_other_exchanges():
    # Boxing Day: TSX and XETRA closed, NYSE open
    assert align_event("2025-12-26", "XNYS") == T("2025-12-26")
    assert align_event("2025-12-26", "XTSE") == T("2025-12-29")
    assert align_event("2025-12-26", "XETR") == T("2025-12-29")
    with pytest.raises(AlignmentError, match="unknown exchange calendar 'XNOPE'"):
        align_event("2025-12-12", "XNOPE")


def test_bad_and_out_of_range_times():
    with pytest.raises(AlignmentError, match="malformed event time '2025-13-45'"):
        align_event("2025-13-45")
    with pytest.raises(AlignmentError, match="outside the XNYS calendar"):
        align_event("1990-01-02")
    sessions = exchange_sessions("2020-06-01", "2026-09-15")
    with pytest.raises(AlignmentError, match=r"aligns to 2026-12-01, outside the data \(2020-06-01 to 2026-09-15\)"):
        align_event("2026-11-30 22:00", sessions=sessions)
    holey = sessions.drop(T("2025-12-15"))
    with pytest.raises(AlignmentError, match="2025-12-15, a session missing from the data: nearest data session is 2025-12-16"):
        align_event("2025-12-13 11:49", sessions=holey)


def test_windows_count_sessions_not_days():
    sessions = exchange_sessions("2025-11-01", "2026-01-31")
    assert len(sessions) == 61  # Nov 19 (Thanksgiving), Dec 22 (Christmas), Jan 20 (New Year, MLK day)
    w = window_sessions(sessions, "2025-12-24", (-1, 2))
    # Dec 25 is a holiday: +1 is Dec 26, +2 is Dec 29
    assert list(w.strftime("%m-%d")) == ["12-23", "12-24", "12-26", "12-29"]
    rel = relative_sessions(sessions, "2025-12-15")
    assert rel[T("2025-12-15")] == 0 and rel[T("2025-12-12")] == -1 and rel[T("2025-12-08")] == -5
    with pytest.raises(AlignmentError, match=r"window \(-250,-11\) around 2025-12-15 runs past the data: 29 sessions before and 31 after"):
        window_sessions(sessions, "2025-12-15", (-250, -11))
    with pytest.raises(AlignmentError, match="reversed"):
        window_sessions(sessions, "2025-12-15", (2, 1))


def test_session_lookup_errors_suggest_nearest():
    sessions = exchange_sessions("2025-12-01", "2025-12-31")
    assert session_position(sessions, "2025-12-15") == 10
    with pytest.raises(AlignmentError, match="2025-12-13 is not a session in the data; nearest session is 2025-12-12"):
        session_position(sessions, "2025-12-13")
    assert nearest_session(sessions, "2025-12-14") == T("2025-12-15")
    with pytest.raises(AlignmentError, match="duplicate session 2025-12-02"):
        session_position(sessions.append(pd.DatetimeIndex(["2025-12-02"])), "2025-12-15")


def test_unknown_calendar_name_is_an_alignment_error():
    from analysis.calendars import get_calendar

    with pytest.raises(AlignmentError, match=r"unknown exchange calendar 'XNYZ': use a MIC code such as XNYS"):
        get_calendar("XNYZ")


def test_other_calendar_failures_are_not_reported_as_unknown_names(monkeypatch):
    import exchange_calendars as xcals

    from analysis.calendars import get_calendar

    def broken(name, start=None):
        raise RuntimeError("calendar data file damaged")

    get_calendar.cache_clear()
    monkeypatch.setattr(xcals, "get_calendar", broken)
    try:
        with pytest.raises(RuntimeError, match="calendar data file damaged"):
            get_calendar("XNYS")
    finally:
        monkeypatch.undo()
        get_calendar.cache_clear()


def test_calendar_starting_after_2000_warns_naming_the_cause():
    from analysis.calendars import get_calendar

    get_calendar.cache_clear()
    with pytest.warns(UserWarning, match=r"calendar AIXK: cannot start at 2000-01-03 \(The earliest date .* AIXK"):
        cal = get_calendar("AIXK")
    assert cal.first_session == T("2017-01-04")
    get_calendar.cache_clear()
