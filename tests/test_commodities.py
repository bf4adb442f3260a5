"""analysis.commodities, the compatibility shim: every old name still works, with the same signature.

The computations are tested where they live: tests/test_commodity_data.py,
tests/test_sensitivity.py and tests/test_commodity_events.py.
"""

from __future__ import annotations

import inspect

import pytest
from _pink_sheet import pink_sheet_bytes  # noqa: F401  (tests/test_cli.py imports it from here)

import analysis
from analysis import commodities as cm
from analysis import commodity_data, commodity_events, pink_sheet, sensitivity

OLD_NAMES = {
    commodity_data: ["SERIES", "load_commodity_prices", "potash_prices", "validate_commodities", "commodity_cache_path"],
    pink_sheet: ["parse_pink_sheet", "refresh_commodities", "write_commodity_cache"],
    sensitivity: ["monthly_returns", "load_monthly_returns", "ols_hac", "rolling_ols", "default_hac_lags",
                  "default_sensitivity_tickers", "potash_sensitivity", "PotashSensitivity"],
    commodity_events: ["event_potash_path", "EventPotashPath", "potash_event_table"],
}


@pytest.mark.parametrize("home, name", [(m, n) for m, names in OLD_NAMES.items() for n in names])
def test_every_old_name_is_the_new_object(home, name):
    assert getattr(cm, name) is getattr(home, name)
    assert name in cm.__all__


def test_potash_aliases_are_the_generic_functions_with_the_old_signatures():
    assert cm.potash_sensitivity is sensitivity.commodity_sensitivity
    assert cm.PotashSensitivity is sensitivity.CommoditySensitivity
    assert cm.event_potash_path is commodity_events.event_commodity_path
    assert cm.EventPotashPath is commodity_events.CommodityEventPath
    assert cm.potash_event_table is commodity_events.commodity_event_table
    assert str(inspect.signature(cm.potash_prices)).startswith("(start=None, end=None, **kw)")
    assert list(inspect.signature(cm.event_potash_path).parameters) == [
        "event", "months_after", "series", "data_dir", "prices", "cache_dir"]
    assert list(inspect.signature(cm.potash_sensitivity).parameters) == [
        "tickers", "market", "series", "start", "end", "hac_lags", "rolling", "data_dir", "offline", "cache_dir"]


def test_package_level_names():
    assert analysis.potash_prices("2025-12", "2025-12")["potash"].tolist() == [358.33]
    assert analysis.load_commodity_prices is commodity_data.load_commodity_prices
    assert analysis.potash_sensitivity is sensitivity.commodity_sensitivity
    assert analysis.event_potash_path is commodity_events.event_commodity_path


def test_shim_names_are_the_defining_modules_objects(monkeypatch):
    """The shim re-exports objects (no copies): patching the defining module reaches a refresh called through it."""
    assert cm.refresh_commodities is pink_sheet.refresh_commodities and cm._download is pink_sheet._download
    monkeypatch.setattr(pink_sheet, "_download", lambda url, timeout=60.0: pink_sheet_bytes())
    new = cm.refresh_commodities(offline=False)
    assert new["potash"].tolist() == [352.0, 353.75, 358.33, 366.0, 372.5]
    assert commodity_data.refresh_commodities is pink_sheet.refresh_commodities
