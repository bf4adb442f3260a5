"""Event catalog, universe and case settings: loading, validation, lookups."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from analysis import catalog, config
from analysis.calendars import exchange_sessions
from analysis.errors import CatalogError


def test_catalog_loads_24_valid_events():
    ev = catalog.load_events()
    assert len(ev) == 24 and ev["event_id"].is_unique
    assert ev["kind"].value_counts().to_dict() == {"tightening": 11, "confounder": 8, "easing": 5}
    row = ev.set_index("event_id").loc["us-potash-easing-2025"]
    assert row["timestamp"] == "2025-12-13 11:49" and row["kind"] == "easing"
    assert ev["date"].is_monotonic_increasing


def test_aligned_sessions_of_the_december_cluster():
    ev = catalog.align_events(catalog.load_events()).set_index("event_id")["session"]
    assert ev["us-potash-easing-2025"] == pd.Timestamp("2025-12-15")
    assert ev["ofac-gl13-2025"] == pd.Timestamp("2025-12-15")
    assert ev["iran-hormuz-2026"] == pd.Timestamp("2026-03-02")  # Saturday -> Monday
    assert ev["kellogg-minsk-2025"] == pd.Timestamp("2025-06-23")


def _case_copy(tmp_path):
    dst = tmp_path / "case"
    shutil.copytree(config.data_dir(), dst)
    return dst


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda df: pd.concat([df, df.iloc[[0]]]), "duplicate event_id 'eu-sectoral-agreed-2021'"),
        (lambda df: df.assign(kind=df["kind"].where(df.index != 3, "rumour")), "has kind 'rumour'"),
        (lambda df: df.assign(date=df["date"].where(df.index != 2, "2021-02-30")), "has invalid date '2021-02-30'"),
        (lambda df: df.assign(time_utc=df["time_utc"].where(df.index != 3, "25:99")), "invalid time_utc '25:99'"),
        (lambda df: df.drop(columns="kind"), "missing column"),
    ],
)
def test_catalog_validation(tmp_path, edit, message):
    case = _case_copy(tmp_path)
    df = pd.read_csv(case / "events.csv", dtype=str, keep_default_na=False)
    edit(df).to_csv(case / "events.csv", index=False)
    with pytest.raises(CatalogError, match=message):
        catalog.load_events(case)


def test_get_event_by_id_date_and_typo():
    ev = catalog.load_events()
    assert catalog.get_event("ofac-gl13-2025", ev)["title"].startswith("OFAC issues Belarus General License 13")
    adhoc = catalog.get_event("2025-12-13 11:49", ev)
    assert adhoc["event_id"] == "adhoc-20251213-1149" and adhoc["timestamp"] == "2025-12-13 11:49"
    with pytest.raises(CatalogError, match="unknown event 'us-potash-easing-2052'.*did you mean us-potash-easing-2025"):
        catalog.get_event("us-potash-easing-2052", ev)


def test_universe_groups_and_offline_flags():
    uni = catalog.load_universe()
    assert catalog.group_tickers("potash producer", uni) == ["NTR", "MOS", "IPI", "ICL", "NTR.TO", "SDF.DE"]
    assert catalog.group_tickers("potash producer", uni, offline_only=True) == ["NTR", "MOS", "IPI", "ICL"]
    assert catalog.group_tickers("nitrogen control", uni, offline_only=True) == ["CF", "LXU"]
    live_only = set(uni.loc[~uni["offline"], "ticker"])
    assert {"NTR.TO", "SDF.DE", "YAR.OL"} <= live_only
    assert uni.set_index("ticker").loc["SDF.DE", ["exchange", "calendar", "currency"]].tolist() == ["XETRA", "XETR", "EUR"]
    with pytest.raises(CatalogError, match="unknown group 'potash'"):
        catalog.group_tickers("potash", uni)
    with pytest.raises(CatalogError, match="YAR.OL is not in the offline snapshot"):
        catalog.check_tickers(["NTR", "YAR.OL"], uni, offline=True)
    with pytest.raises(CatalogError, match="unknown ticker 'NTRX'"):
        catalog.check_tickers(["NTRX"], uni)


def test_universe_validation(tmp_path):
    case = _case_copy(tmp_path)
    uni = pd.read_csv(case / "universe.csv", dtype=str, keep_default_na=False)
    uni.loc[0, "benchmark"] = "VOO"
    uni.to_csv(case / "universe.csv", index=False)
    with pytest.raises(CatalogError, match="ticker 'NTR' has benchmark 'VOO', which is not a listed ticker"):
        catalog.load_universe(case)


def test_case_settings_are_data():
    case = catalog.load_case()
    assert case["treated_group"] == "potash producer" and case["control_group"] == "nitrogen control"
    assert case["default_event"] == "us-potash-easing-2025" and case["market"] == "SPY"
    assert case["expected_sign"] == {"tightening": 1, "easing": -1}


def test_confounders_inside_the_december_window():
    ev = catalog.load_events()
    sessions = exchange_sessions("2025-11-01", "2026-01-31")
    got = catalog.confounders_in_window(ev, sessions, "2025-12-15", (-5, 5), exclude=("us-potash-easing-2025",))
    assert dict(zip(got["event_id"], got["day"])) == {
        "us-canada-fert-tariff-threat-2025": -5,
        "fomc-cut-2025-12": -3,
        "acron-strike-2025": -2,
        "ofac-gl13-2025": 0,
        "mosaic-k3-fatality-2025": 0,
        "mosaic-brazil-idle-2025": 1,
    }
    narrow = catalog.confounders_in_window(ev, sessions, "2025-12-15", (0, 1), exclude=("us-potash-easing-2025",))
    assert len(narrow) == 3
