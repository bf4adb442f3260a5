"""A small SYNTHETIC workbook in the World Bank ``CMO-Historical-Data-Monthly.xlsx`` layout.

The fertilizer values are the published 2025-10..2026-02 Pink Sheet numbers; the other
columns (crude oil, coal, aluminum) are invented filler so the parser has to find its
columns among others, as in the real ~70-column sheet. Used by the parser, refresh and
CLI tests; no test downloads anything.
"""

from __future__ import annotations

import io


def pink_sheet_bytes(months=("2025M10", "2025M11", "2025M12", "2026M01", "2026M02"), potash=True, updated="Updated on May 04, 2026"):
    """A small workbook in the real CMO-Historical-Data-Monthly.xlsx 'Monthly Prices' layout."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "AFOSHEET"  # the real file has other sheets first
    ws = wb.create_sheet("Monthly Prices")
    ws.append(["World Bank Commodity Price Data (The Pink Sheet)"])
    ws.append(["Monthly prices in nominal US dollars, 1960 to present"])
    ws.append(["(monthly series are available only in nominal US dollar terms)"])
    ws.append([updated])
    header = [None, "Crude oil, average", "Coal, Australian", "Phosphate rock", "DAP", "TSP", "Urea "]
    header += ["Potassium chloride **"] if potash else []
    header += ["Aluminum"]
    ws.append(header)
    units = [None, "($/bbl)", "($/mt)", "($/mt)", "($/mt)", "($/mt)", "($/mt)"] + (["($/mt)"] if potash else []) + ["($/mt)"]
    ws.append(units)
    vals = {
        "2025M10": [60.1, 105.0, 152.5, 754.0, 658.5, 394.4, 352.0, 2790.0],
        "2025M11": [59.0, 110.0, 152.5, 708.25, 636.25, 409.25, 353.75, 2850.0],
        "2025M12": [58.0, 108.0, 152.5, 627.5, 538.5, "…", 358.33, 2900.0],
        "2026M01": [61.0, 107.0, 152.5, 619.2, 529.2, 415.4, 366.0, 3000.0],
        "2026M02": [62.0, 109.0, 152.5, 626.5, 536.25, 472.0, 372.5, 3050.0],
    }
    for m in months:
        row = list(vals[m])
        if not potash:
            row.pop(6)
        ws.append([m] + row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
