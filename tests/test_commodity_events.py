"""analysis.commodity_events: the event-aligned commodity path and the per-event table, on the real series.

References: the CSV values and plain pandas arithmetic (pct_change, mean, sd, share <=).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis import commodity_events as ce
from analysis.errors import DataError

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"
UREA_CASE = HERE / "fixtures" / "urea_case"


def _series(name, root=DATA):
    raw = pd.read_csv(root / "commodity_prices.csv")
    return pd.Series(raw[name].to_numpy(float), index=pd.PeriodIndex(raw["month"], freq="M"))


def test_event_path_december_2025_honest():
    p = ce.event_potash_path("us-potash-easing-2025", months_after=2)
    t = p.to_frame()
    assert [str(m) for m in t["month"]] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert t["price"].tolist() == [353.75, 358.33, 366.0, 372.5]
    assert p.bracket["before_month"] == pd.Period("2025-11", "M") and p.bracket["event_month"] == pd.Period("2025-12", "M")
    assert t.loc[1, "change_pct"] == pytest.approx((358.33 / 353.75 - 1) * 100, abs=1e-12)
    assert t.loc[3, "cum_change_pct"] == pytest.approx((372.5 / 353.75 - 1) * 100, abs=1e-12)
    # z-score and percentile against the monthly changes outside the path
    chg = _series("potash").pct_change() * 100
    hist = chg.drop(index=[pd.Period(m, "M") for m in ("2025-11", "2025-12", "2026-01", "2026-02")]).dropna()
    assert t.loc[1, "z"] == pytest.approx((t.loc[1, "change_pct"] - hist.mean()) / hist.std(), abs=1e-12)
    assert t.loc[1, "percentile"] == pytest.approx(100 * (hist <= t.loc[1, "change_pct"]).mean(), abs=1e-12)
    assert p.hist_n == len(hist) == 73  # 78 months, 77 changes, 4 in the path
    assert "kept rising" in p.verdict and "NOT the direction" in p.verdict
    assert "no daily benchmark" in p.summary()


def test_event_path_by_date_and_errors():
    p = ce.event_commodity_path("2025-12-13", months_after=1)
    assert p.bracket["event_price"] == 358.33 and p.kind == "adhoc" and p.expected_sign is None
    with pytest.raises(DataError, match="no observation yet for the event month 2026-07"):
        ce.event_commodity_path("2026-07-03")
    with pytest.raises(DataError, match="unknown commodity series 'sulphur'"):
        ce.event_commodity_path("2025-12-13", series="sulphur")


def test_the_series_comes_from_the_case():
    """The urea fixture case follows urea around its default event (the Strait of Hormuz, 2026-02-28)."""
    p = ce.event_commodity_path("iran-hormuz-2026", months_after=2, data_dir=UREA_CASE)
    urea = _series("urea", UREA_CASE)
    assert p.series == "urea" and p.kind == "tightening" and p.expected_sign == 1
    # the event is Sat 2026-02-28: February is the event month, January the month wholly before
    assert p.to_frame()["price"].tolist() == urea.loc["2026-01":"2026-04"].tolist() == [415.4, 472.0, 725.63, 856.88]
    assert p.bracket["event_month"] == pd.Period("2026-02", "M")
    assert p.verdict.startswith("urea ")


def test_event_table_covers_catalog():
    tab = ce.potash_event_table()
    assert len(tab) == 24 and (tab["status"] == "ok").all()
    row = tab.set_index("event_id").loc["us-potash-easing-2025"]
    assert row["before_price"] == 353.75 and row["event_price"] == 358.33
    assert row["chg_next_pct"] == pytest.approx((366.0 / 353.75 - 1) * 100, abs=1e-12)
    assert row["chg_end_pct"] == pytest.approx((_series("potash")[pd.Period("2026-03", "M")] / 353.75 - 1) * 100, abs=1e-12)
    assert tab.attrs["series"] == "potash"


def test_event_table_names_the_reason_for_an_event_without_data():
    ev = pd.DataFrame([{"event_id": "late-2026", "date": "2026-07-03", "kind": "easing"}])
    tab = ce.commodity_event_table(ev)
    assert tab.loc[0, "status"].startswith("potash has no observation yet for the event month 2026-07 of late-2026")


def test_verdict_every_branch():
    """Each branch of CommodityEventPath.verdict on the real December path and on edited copies of it."""
    import dataclasses

    p = ce.event_potash_path("us-potash-easing-2025", months_after=2)
    t = p.to_frame()
    assert p.verdict == ("potash kept rising after the easing event of 2025-12-13 (2025-11 353.75, 2025-12 358.33, "
                         "2026-01 366.00, 2026-02 372.50; +5.3% from 2025-11 to 2026-02); "
                         "that is NOT the direction the event kind suggests")

    def edited(prices, sign=-1):
        tt = t.copy()
        tt["price"] = prices
        tt["change_pct"] = tt["price"].pct_change() * 100
        tt["cum_change_pct"] = (tt["price"] / tt["price"].iloc[0] - 1) * 100
        return dataclasses.replace(p, table=tt, expected_sign=sign)

    falling = edited([400.0, 390.0, 380.0, 370.0])
    assert "kept falling" in falling.verdict and "-7.5% from 2025-11 to 2026-02" in falling.verdict
    assert falling.verdict.endswith("; that is the direction the event kind suggests")
    mixed = edited([400.0, 410.0, 390.0, 400.0])
    assert "was mixed" in mixed.verdict and mixed.verdict.endswith("no net change, so no direction to compare with the event kind")
    assert edited([400.0, 390.0, 380.0, 370.0], sign=None).verdict.endswith("to 2026-02)")
    empty = edited([400.0, None, None, None])
    assert empty.verdict == "potash: no monthly observation after 2025-12-13 yet"
