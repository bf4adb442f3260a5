"""analysis.ids: one pattern per identifier kind; refusals name the value and where it came from."""

from __future__ import annotations

import pytest

from analysis import ids
from analysis.errors import IdentifierError, ParameterError


@pytest.mark.parametrize("value", ["us-potash-easing-2025", "ofac-gl13-2025", "a", "0.x_y-z", "a" * 64])
def test_event_ids_accepted(value):
    assert ids.check_event_id(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "a/../../../../ESCAPED",
        "<img src=x onerror=alert('XSS-ID')>",
        "Upper-Case",
        "-leading-dash",
        ".hidden",
        "..",
        "a b",
        "a" * 65,
        "",
        "abc\n",  # '$' would admit the trailing newline
        "caf\u00e9",
    ],
)
def test_event_ids_refused_with_value_and_place(value):
    with pytest.raises(IdentifierError) as ei:
        ids.check_event_id(value, "events.csv:7")
    msg = str(ei.value)
    assert msg.startswith("events.csv:7: invalid event id ")
    assert repr(value)[:40] in msg
    assert "\n" not in msg
    assert isinstance(ei.value, ParameterError)  # the CLI maps it to exit 2


@pytest.mark.parametrize("value", ["NTR", "NTR.TO", "BRK-B", "^GSPC", "CL=F", "SDF.DE", "X" * 32])
def test_tickers_accepted(value):
    assert ids.check_ticker(value) == value


@pytest.mark.parametrize("value", ["../evil", "a/b", "..", ".NTR", "<b>", "NTR ", "X" * 33, "", "NTR\n", "N\\T"])
def test_tickers_refused(value):
    with pytest.raises(IdentifierError, match=r"^universe\.csv:4: invalid ticker "):
        ids.check_ticker(value, "universe.csv:4")


def test_non_text_values_are_refused_with_the_type():
    with pytest.raises(IdentifierError, match=r"^events\.csv:2: event id must be text, got None \(NoneType\)"):
        ids.check_event_id(None, "events.csv:2")
    with pytest.raises(IdentifierError, match=r"ticker must be text, got 12 \(int\)"):
        ids.check_ticker(12)


@pytest.mark.parametrize("value", ["potash producer", "nitrogen control", "ag-chem", "benchmark", "Group 2.b"])
def test_groups_accepted(value):
    assert ids.check_group(value) == value


@pytest.mark.parametrize("value", ["potash  producer", "potash producer ", " lead", "a/b", "<g>", "", "g" * 65])
def test_groups_refused(value):
    with pytest.raises(IdentifierError, match=r"^case\.toml:9 key treated_group: invalid group name "):
        ids.check_group(value, "case.toml:9 key treated_group")


@pytest.mark.parametrize("value", ["event_study", "potash_prices", "event-catalog.v2"])
def test_names_accepted(value):
    assert ids.check_name(value) == value


@pytest.mark.parametrize("value", ["../event_study", "/tmp/event_study", "event study", ".ipynb_checkpoints", ""])
def test_names_refused(value):
    with pytest.raises(IdentifierError, match=r"invalid name "):
        ids.check_name(value, "schedule.toml:3")


def test_patterns_are_safe_with_match_too():
    # callers that use .match instead of the check functions must not admit a trailing newline
    for rx, ok in [(ids.EVENT_ID_RE, "abc"), (ids.TICKER_RE, "NTR"), (ids.NAME_RE, "nb"), (ids.GROUP_RE, "g g")]:
        assert rx.match(ok) and not rx.match(ok + "\n")


def test_long_values_are_shortened_in_the_message():
    with pytest.raises(IdentifierError) as ei:
        ids.check_ticker("<" * 500, "universe.csv:3")
    assert len(str(ei.value)) < 260 and "..." in str(ei.value)
