"""Compatibility shim: the old ``analysis.commodities`` names, now living in three modules.

==================================  ===============================================================
module                              holds
==================================  ===============================================================
:mod:`analysis.commodity_data`      series loading and validation (bundled file, cache)
:mod:`analysis.pink_sheet`          the World Bank workbook: parse, download, refresh the cache
:mod:`analysis.sensitivity`         monthly returns, HAC OLS, rolling betas, the sensitivity result
:mod:`analysis.commodity_events`    the event-aligned commodity path and the per-event table
==================================  ===============================================================

Every name this module had keeps working with the same signature (``potash_prices``,
``potash_sensitivity``, ``event_potash_path``, ...); new code imports from the modules
above. The names here are the defining modules' objects; to replace one (a test stubbing
``_download``), patch the module that defines it (:mod:`analysis.pink_sheet`).
"""

from __future__ import annotations

from .commodity_data import (  # noqa: F401
    BUNDLED_FILE,
    CACHE_FILE,
    SERIES,
    SOURCES,
    _read_cache,
    _to_period,
    commodity_cache_path,
    commodity_prices,
    load_commodity_prices,
    potash_prices,
    validate_commodities,
)
from .commodity_events import (  # noqa: F401
    CommodityEventPath,
    EventPotashPath,
    commodity_event_table,
    event_commodity_path,
    event_potash_path,
    potash_event_table,
)
from .pink_sheet import (  # noqa: F401
    PINK_SHEET_COLUMNS,
    PINK_SHEET_SHEET,
    PINK_SHEET_URL,
    _download,
    parse_pink_sheet,
    refresh_commodities,
    write_commodity_cache,
)
from .sensitivity import (  # noqa: F401
    CommoditySensitivity,
    PotashSensitivity,
    commodity_sensitivity,
    default_hac_lags,
    default_sensitivity_tickers,
    load_monthly_returns,
    monthly_returns,
    ols_hac,
    potash_sensitivity,
    rolling_ols,
)

__all__ = [
    "SERIES",
    "load_commodity_prices",
    "potash_prices",
    "parse_pink_sheet",
    "refresh_commodities",
    "validate_commodities",
    "write_commodity_cache",
    "commodity_cache_path",
    "monthly_returns",
    "load_monthly_returns",
    "ols_hac",
    "rolling_ols",
    "default_hac_lags",
    "default_sensitivity_tickers",
    "potash_sensitivity",
    "PotashSensitivity",
    "event_potash_path",
    "EventPotashPath",
    "potash_event_table",
]
