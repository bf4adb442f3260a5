"""Commodity series, the Pink Sheet parser/refresh, monthly returns and the potash sensitivity.

References: statsmodels OLS (``cov_type="HAC"``) and numpy ``lstsq`` on the real monthly
data; the parser on a workbook built here with openpyxl in the published layout.
No test touches the network: the download function is stubbed.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from analysis import commodities as cm
from analysis.errors import DataError, NetworkError

sm = pytest.importorskip("statsmodels.api")


# --------------------------------------------------------------------------- fixtures
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


# --------------------------------------------------------------------------- loader
def test_bundled_loader_shape_values_and_vintage():
    df = cm.load_commodity_prices()
    assert isinstance(df.index, pd.PeriodIndex) and df.index.freqstr == "M" and df.index.name == "month"
    assert list(df.columns) == list(cm.SERIES)
    assert all(dt == np.float64 for dt in df.dtypes)
    assert str(df.index[0]) == "2020-01" and str(df.index[-1]) == "2026-06" and len(df) == 78
    assert df.loc["2025-11", "potash"] == 353.75
    assert df.loc["2025-12", "potash"] == 358.33
    assert df.loc["2026-01", "potash"] == 366.0
    assert df.loc["2026-02", "potash"] == 372.5
    assert df.attrs["source"] == "bundled"
    assert "2026-05-04" in df.attrs["vintage"] and "rounded copy" in df.attrs["vintage"]
    # the published-figure check of SOURCES.md: potash 2025 annual average 347.5
    assert df.loc["2025-01":"2025-12", "potash"].mean() == pytest.approx(347.5, abs=0.05)


def test_potash_prices_tidy_and_sliced():
    df = cm.potash_prices("2025-11", "2026-02")
    assert list(df.columns) == ["potash", "urea", "dap", "tsp", "phosphate_rock"]
    assert [str(p) for p in df.index] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert df["potash"].tolist() == [353.75, 358.33, 366.0, 372.5]
    with pytest.raises(DataError, match="start 2026-03 is after end 2026-01"):
        cm.potash_prices("2026-03", "2026-01")
    with pytest.raises(DataError, match="malformed start month 'soon'"):
        cm.potash_prices("soon")
    with pytest.raises(DataError, match="no commodity prices between 2030-01"):
        cm.potash_prices("2030-01")
    with pytest.raises(DataError, match="unknown commodity source 'web'"):
        cm.load_commodity_prices(source="web")


def test_missing_bundled_file_names_the_fix(tmp_path):
    with pytest.raises(DataError, match="commodity_prices.csv"):
        cm.load_commodity_prices(tmp_path)


# --------------------------------------------------------------------------- parser
def test_parse_pink_sheet_fixture():
    df = cm.parse_pink_sheet(pink_sheet_bytes())
    assert list(df.columns) == ["potash", "urea", "dap", "tsp", "phosphate_rock"]
    assert [str(p) for p in df.index] == ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02"]
    assert df["potash"].tolist() == [352.0, 353.75, 358.33, 366.0, 372.5]
    assert df["dap"].tolist() == [754.0, 708.25, 627.5, 619.2, 626.5]
    assert np.isnan(df.loc["2025-12", "urea"])  # the '…' cell
    assert df.loc["2026-01", "urea"] == 415.4  # 'Urea ' with a trailing space is matched
    assert df.attrs["vintage"] == "2026-05-04"
    assert df.index.name == "month" and df.index.freqstr == "M"


def test_parse_pink_sheet_errors():
    with pytest.raises(DataError, match="Potassium chloride"):
        cm.parse_pink_sheet(pink_sheet_bytes(potash=False))
    with pytest.raises(DataError, match="not a readable .xlsx"):
        cm.parse_pink_sheet(b"<html>not found</html>")
    with pytest.raises(DataError, match="no sheet 'Annual Prices'"):
        cm.parse_pink_sheet(pink_sheet_bytes(), sheet="Annual Prices")


# --------------------------------------------------------------------------- refresh
def test_refresh_writes_cache_and_auto_prefers_it(monkeypatch, _isolate):
    calls = []
    monkeypatch.setattr(cm, "_download", lambda url, timeout=60.0: calls.append(url) or pink_sheet_bytes())
    new = cm.refresh_commodities(url="https://example.invalid/CMO.xlsx", offline=False)
    assert calls == ["https://example.invalid/CMO.xlsx"]
    path = cm.commodity_cache_path()
    assert path.is_file() and str(path).startswith(str(_isolate))
    assert new["potash"].tolist() == [352.0, 353.75, 358.33, 366.0, 372.5]
    got = cm.load_commodity_prices()
    assert got.attrs["source"] == "cache" and got.attrs["vintage"] == "2026-05-04"
    pd.testing.assert_frame_equal(got, new, check_like=False, check_freq=False)
    assert cm.load_commodity_prices(source="bundled").attrs["source"] == "bundled"
    # no temporary files left behind
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


@pytest.mark.parametrize(
    "download, error",
    [
        (lambda url, timeout=60.0: (_ for _ in ()).throw(OSError("connection refused")), NetworkError),
        (lambda url, timeout=60.0: b"", NetworkError),
        (lambda url, timeout=60.0: b"PK\x03\x04 truncated", DataError),
        (lambda url, timeout=60.0: pink_sheet_bytes(potash=False), DataError),
        (lambda url, timeout=60.0: pink_sheet_bytes(months=("2025M10", "2025M11")), DataError),  # partial
    ],
    ids=["download-error", "empty", "corrupt", "no-potash", "fewer-months"],
)
def test_failed_refresh_leaves_cache_untouched(monkeypatch, download, error):
    monkeypatch.setattr(cm, "_download", lambda url, timeout=60.0: pink_sheet_bytes())
    cm.refresh_commodities(offline=False)
    path = cm.commodity_cache_path()
    before = path.read_bytes()
    monkeypatch.setattr(cm, "_download", download)
    with pytest.raises(error):
        cm.refresh_commodities(offline=False)
    assert path.read_bytes() == before
    assert cm.load_commodity_prices()["potash"].tolist() == [352.0, 353.75, 358.33, 366.0, 372.5]


def test_refresh_offline_never_downloads(monkeypatch):
    monkeypatch.setattr(cm, "_download", lambda *a, **k: pytest.fail("downloaded while offline"))
    with pytest.raises(NetworkError, match="offline"):
        cm.refresh_commodities(offline=True)
    assert not cm.commodity_cache_path().exists()


def test_corrupt_cache_warns_and_falls_back():
    path = cm.commodity_cache_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not parquet")
    with pytest.warns(UserWarning, match="unreadable"):
        df = cm.load_commodity_prices()
    assert df.attrs["source"] == "bundled"


# --------------------------------------------------------------------------- monthly returns
def _daily_total_returns(ticker):
    raw = pd.read_csv(f"data/prices/{ticker}.csv", parse_dates=["date"]).set_index("date")
    return (raw["close"] + raw["dividend"]) / raw["close"].shift(1) - 1


def test_monthly_returns_compound_complete_months_only():
    m = cm.load_monthly_returns(["NTR", "LXU"], offline=True)
    r = _daily_total_returns("NTR")
    dec = r.loc["2025-12-01":"2025-12-31"]
    assert m.loc["2025-12", "NTR"] == pytest.approx(np.prod(1 + dec.to_numpy()) - 1, abs=1e-13)
    # NTR data start 2020-06-01: June 2020 lacks the first session's return -> NaN
    assert np.isnan(m.loc["2020-06", "NTR"]) and np.isfinite(m.loc["2020-07", "NTR"])
    # 2026-09 ends on the 15th -> incomplete
    assert np.isnan(m.loc["2026-09", "NTR"])
    # LXU starts 2024-11-01: its first complete month is 2024-12
    assert m["LXU"].first_valid_index() == pd.Period("2024-12", "M")


# --------------------------------------------------------------------------- sensitivity
@pytest.fixture(scope="module")
def sens():
    return cm.potash_sensitivity(offline=True)


def test_default_tickers_from_the_case():
    assert cm.default_sensitivity_tickers(offline=True) == ["NTR", "MOS", "IPI", "ICL", "CF", "LXU"]
    assert cm.default_sensitivity_tickers(offline=False) == ["NTR", "MOS", "IPI", "ICL", "CF", "LXU", "CTVA"]


def test_sensitivity_equals_statsmodels_on_real_data(sens):
    d = sens.data
    tab = sens.to_frame().set_index("ticker")
    assert list(tab.columns[:9]) == [
        "group", "beta_potash", "se_potash", "t_potash", "p_potash", "beta_market", "se_market", "r2", "nobs",
    ]
    for t in sens.tickers:
        s = d[["potash_chg", "SPY", t]].dropna()
        X = sm.add_constant(s[["potash_chg", "SPY"]].to_numpy())
        y = s[t].to_numpy()
        L = int(np.floor(4 * (len(y) / 100) ** (2 / 9)))
        ref = sm.OLS(y, X).fit(cov_type="HAC", cov_kwds={"maxlags": L}, use_t=True)
        np.testing.assert_allclose(sens.params.loc[t].to_numpy(), ref.params, rtol=0, atol=1e-10)
        np.testing.assert_allclose(np.linalg.lstsq(X, y, rcond=None)[0], sens.params.loc[t].to_numpy(), atol=1e-10)
        np.testing.assert_allclose(sens.std_errors.loc[t].to_numpy(), ref.bse, rtol=1e-9)
        np.testing.assert_allclose(sens.pvalues.loc[t].to_numpy(), ref.pvalues, rtol=1e-8)
        assert tab.loc[t, "r2"] == pytest.approx(ref.rsquared, abs=1e-12)
        assert tab.loc[t, "nobs"] == len(y) and sens.hac_lags[t] == L
    # the honest sample sizes: 2020-07..2026-06 for the long histories, LXU from 2024-12
    assert tab.loc["NTR", "nobs"] == 72 and tab.loc["LXU", "nobs"] == 19
    assert tab.loc["NTR", "group"] == "potash producer" and tab.loc["CF", "group"] == "nitrogen control"


def test_sensitivity_snapshot_numbers(sens):
    tab = sens.to_frame().set_index("ticker")
    # regression guard on the snapshot (values from statsmodels, see the test above)
    assert tab.loc["ICL", "beta_potash"] == pytest.approx(0.2101, abs=5e-4)
    assert tab.loc["NTR", "beta_potash"] == pytest.approx(0.2320, abs=5e-4)
    assert tab.loc["MOS", "beta_market"] == pytest.approx(1.002, abs=5e-3)
    assert "LXU has only 19 months" in sens.summary()


def test_rolling_betas_equal_window_lstsq(sens):
    d = sens.data
    last = d.index[-1]
    win = d.loc[last - 35 : last]
    assert len(win) == 36
    X = np.column_stack([np.ones(36), win["potash_chg"], win["SPY"]])
    b = np.linalg.lstsq(X, win["MOS"].to_numpy(), rcond=None)[0]
    assert sens.rolling.loc[last, ("potash", "MOS")] == pytest.approx(b[1], abs=1e-10)
    assert sens.rolling.loc[last, ("market", "MOS")] == pytest.approx(b[2], abs=1e-10)
    # LXU never has 36 months: all NaN, not a silently shorter window
    assert sens.rolling["potash"]["LXU"].isna().all()
    assert sens.rolling["potash"]["NTR"].first_valid_index() == d.index[35]


@pytest.mark.parametrize("lags", [0, 1, 5])
def test_hac_vectorized_matches_statsmodels_per_firm(lags):
    rng = np.random.default_rng(7)
    T, n = 120, 4
    X = np.column_stack([np.ones(T), rng.normal(size=T), rng.normal(size=T)])
    e = rng.normal(size=(T, n))
    e[1:] += 0.6 * e[:-1]  # autocorrelated errors
    y = X @ rng.normal(size=(3, n)) + e
    y[:30, 2] = np.nan  # a firm with a shorter (contiguous) sample
    est = cm.ols_hac(y, X, lags=lags)
    for i in range(n):
        ok = np.isfinite(y[:, i])
        ref = sm.OLS(y[ok, i], X[ok]).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
        np.testing.assert_allclose(est["params"][i], ref.params, atol=1e-12)
        np.testing.assert_allclose(est["cov"][i], ref.cov_params(), rtol=1e-10, atol=1e-15)
        assert est["nobs"][i] == ok.sum()


def test_hac_default_lag_rule():
    assert cm.default_hac_lags([72, 19, 100, 250]).tolist() == [3, 2, 4, 4]


# --------------------------------------------------------------------------- event paths
def test_event_potash_path_december_2025_honest():
    p = cm.event_potash_path("us-potash-easing-2025", months_after=2)
    t = p.to_frame()
    assert [str(m) for m in t["month"]] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert t["price"].tolist() == [353.75, 358.33, 366.0, 372.5]
    assert p.bracket["before_month"] == pd.Period("2025-11", "M") and p.bracket["event_month"] == pd.Period("2025-12", "M")
    assert t.loc[1, "change_pct"] == pytest.approx((358.33 / 353.75 - 1) * 100, abs=1e-12)
    assert t.loc[3, "cum_change_pct"] == pytest.approx((372.5 / 353.75 - 1) * 100, abs=1e-12)
    # z-score and percentile against the monthly changes outside the path
    chg = cm.load_commodity_prices()["potash"].pct_change() * 100
    hist = chg.drop(index=[pd.Period(m, "M") for m in ("2025-11", "2025-12", "2026-01", "2026-02")]).dropna()
    assert t.loc[1, "z"] == pytest.approx((t.loc[1, "change_pct"] - hist.mean()) / hist.std(), abs=1e-12)
    assert t.loc[1, "percentile"] == pytest.approx(100 * (hist <= t.loc[1, "change_pct"]).mean(), abs=1e-12)
    assert "kept rising" in p.verdict and "NOT the direction" in p.verdict
    assert "no daily benchmark" in p.summary()


def test_event_potash_path_by_date_and_errors():
    p = cm.event_potash_path("2025-12-13", months_after=1)
    assert p.bracket["event_price"] == 358.33 and p.kind == "adhoc" and p.expected_sign is None
    with pytest.raises(DataError, match="no observation yet for the event month 2026-07"):
        cm.event_potash_path("2026-07-03")


def test_potash_event_table_covers_catalog():
    tab = cm.potash_event_table()
    assert len(tab) == 24 and (tab["status"] == "ok").all()
    row = tab.set_index("event_id").loc["us-potash-easing-2025"]
    assert row["before_price"] == 353.75 and row["event_price"] == 358.33
    assert row["chg_next_pct"] == pytest.approx((366.0 / 353.75 - 1) * 100, abs=1e-12)
