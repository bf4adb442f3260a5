"""potash-impact: how commodity news moves markets.

``import analysis`` gives the whole public API; submodules load on first use so the
import is cheap (the CLI and the report runner start fast).

=====================  ==========================================================
module                 concern
=====================  ==========================================================
``analysis.data``      snapshot, Parquet cache, yfinance, validation, total returns
``analysis.calendars`` exchange sessions and event alignment
``analysis.catalog``   event catalog, universe, case settings (all data, no code)
``analysis.eventstudy`` the event-study engine: models, abnormal returns, tests
``analysis.commodity_data`` commodity series of a case: loading and validation
``analysis.pink_sheet`` the World Bank Pink Sheet: parse, download, refresh the cache
``analysis.sensitivity`` monthly returns, HAC OLS, equity-commodity sensitivity
``analysis.commodity_events`` the event-aligned commodity path
``analysis.catalog_study`` the engine run over every catalog event
``analysis.plots``     matplotlib figures (one thing each, return the Figure)
``analysis.report``    papermill report runner
``analysis.cli``       the ``potash-impact`` command
=====================  ==========================================================
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    # data
    "load_prices": "data",
    "load_returns": "data",
    "total_returns": "data",
    "validate_prices": "data",
    "coverage": "data",
    "refresh": "data",
    "check_quality": "quality",
    # calendars
    "align_event": "calendars",
    "window_sessions": "calendars",
    # catalog
    "load_events": "catalog",
    "load_universe": "catalog",
    "load_case": "catalog",
    "get_event": "catalog",
    "group_tickers": "catalog",
    "align_events": "catalog",
    "confounders_in_window": "catalog",
    "Case": "case",
    "as_case": "case",
    # engine
    "event_study": "eventstudy",
    "compare_groups": "eventstudy",
    "EventStudyResult": "eventstudy",
    "GroupComparison": "eventstudy",
    "portfolio_sd": "eventstudy",
    # windows
    "window_label": "windows",
    "parse_window": "windows",
    "window_rows": "windows",
    # commodities
    "potash_prices": "commodity_data",
    "commodity_prices": "commodity_data",
    "load_commodity_prices": "commodity_data",
    "potash_sensitivity": "sensitivity",
    "commodity_sensitivity": "sensitivity",
    "event_potash_path": "commodity_events",
    "event_commodity_path": "commodity_events",
    "commodity_event_table": "commodity_events",
    # volume and volatility (issue 12)
    "volume_study": "volume",
    "log_volume": "volume",
    "load_volumes": "volume",
    "event_volatility": "eventstudy.volatility",
    # cross-section (issue 13)
    "placebo_in_space": "crosssection",
    "screen": "crosssection",
    "synthetic_control": "crosssection",
    "cross_section_returns": "crosssection_suite",
    "cross_section_study": "crosssection_suite",
    # specification curve (issue 11)
    "specification_curve": "robustness",
    # notebook side: records, notes, generated prose
    "Recorder": "recorder",
    "KeyNumbers": "recorder",
    "capture_notes": "recorder",
    "conclusion": "narrative",
    # presentation (issue 14): display tables, the Key findings box, the catalog's conclusion
    "display_table": "present", "key_findings": "findings", "catalog_conclusion": "narrative",
    # report runner
    "plan_run": "runner",
    "run_reports": "runner",
    "build_index": "index",
    "recover": "publish",
    # catalog-wide
    "study_catalog": "catalog_study",
    # errors
    "PotashImpactError": "errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"analysis.{mod}"), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
