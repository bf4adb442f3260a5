"""The docstring examples of the commodity and cross-section modules run offline on the snapshot, and
every public name they export from ``analysis`` has the numpydoc sections."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "analysis.commodity_data",
    "analysis.pink_sheet",
    "analysis.sensitivity",
    "analysis.commodity_events",
    "analysis.commodities",
    "analysis.crosssection",
    "analysis.screening",
    "analysis.synthetic",
    "analysis.crosssection_suite",
    "analysis.crosssection_plots",
]
EXPORTED = ["potash_prices", "commodity_prices", "load_commodity_prices", "potash_sensitivity", "commodity_sensitivity",
            "event_potash_path", "event_commodity_path", "commodity_event_table", "placebo_in_space", "screen",
            "synthetic_control", "cross_section_returns", "cross_section_study"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, monkeypatch):
    monkeypatch.setenv("POTASH_IMPACT_OFFLINE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    mod = importlib.import_module(name)
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert res.failed == 0, f"{res.failed} of {res.attempted} examples failed in {name}"


@pytest.mark.parametrize("name", EXPORTED)
def test_exported_names_have_numpydoc_sections(name):
    import analysis

    doc = getattr(analysis, name).__doc__ or ""
    for section in ("Parameters", "Returns", "Examples"):
        assert f"\n    {section}\n    ---" in doc, (name, section)
    assert "doctest: +SKIP" not in doc, name
