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
above. Assigning an attribute here (``monkeypatch.setattr(commodities, "_download", f)``)
sets it in the module that defines it, so the functions there see it.
"""

from __future__ import annotations

import sys
import types

from . import commodity_data, commodity_events, pink_sheet, sensitivity
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

_HOMES = (commodity_data, pink_sheet, sensitivity, commodity_events)


class _Shim(types.ModuleType):
    """Forward attribute assignment to the module that defines the name."""

    def __setattr__(self, name, value):
        for home in _HOMES:
            if name in vars(home):
                setattr(home, name, value)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Shim

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
