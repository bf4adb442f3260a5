"""The examples in the docstrings of the engine, the windows and the catalog study run offline on the snapshot."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "analysis.windows",
    "analysis.eventstudy",
    "analysis.eventstudy.battery",
    "analysis.eventstudy.groups",
    "analysis.eventstudy.models",
    "analysis.eventstudy.results",
    "analysis.eventstudy.serialize",
    "analysis.catalog_study",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, monkeypatch):
    monkeypatch.setenv("POTASH_IMPACT_OFFLINE", "1")
    mod = importlib.import_module(name)
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert res.failed == 0, f"{res.failed} of {res.attempted} examples failed in {name}"


def test_public_engine_names_have_numpydoc_sections():
    import analysis.eventstudy as es
    import analysis.windows as w

    for fn in (es.event_study, es.compare_groups, es.portfolio_sd, w.parse_window, w.window_rows, w.window_sessions):
        doc = fn.__doc__ or ""
        for section in ("Parameters", "Returns", "Examples"):
            assert section in doc, (fn.__name__, section)
    for cls in (es.EventStudyResult, es.GroupComparison):
        assert "Examples" in (cls.__doc__ or ""), cls.__name__
