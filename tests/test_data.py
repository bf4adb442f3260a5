"""Data layer: snapshot, total returns, validation, cache and the (stubbed) yfinance path."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from analysis import config, data
from analysis.errors import DataError, DataValidationError, NetworkError, NotInSnapshotError
from conftest import synthetic_yf_frame

DATA = config.data_dir()


# ----------------------------------------------------------------------------- snapshot
def test_snapshot_files_match_recorded_checksums():
    manifest = json.loads((DATA / "snapshot.json").read_text())
    listed = {str(p.relative_to(DATA)) for p in [*DATA.glob("prices/*.csv"), *DATA.glob("peers/prices/*.csv"),
                                                 *DATA.glob("peers/*.csv")]}
    listed |= {"commodity_prices.csv", "corporate_actions.csv", "events.csv", "known_moves.csv"}
    assert set(manifest["sha256"]) == listed
    assert len(listed) == 8 + 4 + 50 + 4  # prices, case csv files, peers' prices, peers' csv files
    for rel, digest in manifest["sha256"].items():
        assert hashlib.sha256((DATA / rel).read_bytes()).hexdigest() == digest, rel
    assert manifest["coverage"]["peers/HON"] == {"first": "2024-06-03", "last": "2026-09-15", "rows": 573}
    assert "9999999 -> 70661900" in manifest["refreshed"]["prices/SPY.csv"]


def test_snapshot_equals_shared_source_when_available():
    shared = config.REPO_DIR.parent / "shared" / "data"
    if not shared.is_dir():
        pytest.skip("../shared/data not beside this checkout")
    pairs = [(p, DATA / "prices" / p.name) for p in shared.glob("prices/*.csv")]
    pairs += [(p, DATA / p.relative_to(shared)) for p in shared.glob("peers/**/*") if p.is_file()]
    pairs += [(shared / n, DATA / n) for n in ("events.csv", "corporate_actions.csv", "SOURCES.md")]
    assert len(pairs) == 8 + 56 + 3
    for src, copy in pairs:
        assert copy.read_bytes() == src.read_bytes(), copy
    # the corrected SPY bar of 2026-04-17 (issue 12/13): the placeholder volume is gone, the close unchanged
    spy = data.read_snapshot("SPY")
    assert spy.loc["2026-04-17", "volume"] == 70661900 and spy.loc["2026-04-17", "close"] == 710.14
    assert not (spy["volume"] == 9999999).any()


def test_known_closes_from_sources_md():
    p = data.load_prices(["NTR", "MOS", "ICL"], "2025-12-12", "2025-12-15", offline=True)
    assert list(p.index.strftime("%Y-%m-%d")) == ["2025-12-12", "2025-12-15"]
    assert p["close"].loc["2025-12-12"].tolist() == [62.84, 26.21, 5.07]
    assert p["close"].loc["2025-12-15"].tolist() == [61.85, 24.86, 4.98]
    assert p.attrs["sources"] == {"NTR": "snapshot", "MOS": "snapshot", "ICL": "snapshot"}
    assert p.columns.names == ["field", "ticker"]


def test_total_return_on_ntr_ex_dividend_day_by_hand():
    r = data.load_returns(["NTR"], "2025-09-29", "2025-10-01", offline=True)["NTR"]
    # NTR closed 57.75 on 2025-09-29 and 58.71 on 2025-09-30, ex-dividend 0.545
    assert r.loc["2025-09-30"] == pytest.approx((58.71 + 0.545) / 57.75 - 1, abs=1e-15)
    assert r.loc["2025-09-29"] == pytest.approx(57.75 / 58.82 - 1, abs=1e-15)  # an ordinary day: closes only


def test_total_returns_against_independent_computation():
    raw = pd.read_csv(DATA / "prices" / "MOS.csv", parse_dates=["date"], index_col="date")
    expected = []
    for i in range(1, len(raw)):
        expected.append((raw["close"].iat[i] + raw["dividend"].iat[i]) / raw["close"].iat[i - 1] - 1)
    got = data.total_returns(data.load_prices("MOS", offline=True))["MOS"]
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=0, atol=1e-15)
    assert got.index[0] == raw.index[1]
    # dividend days differ from price returns by exactly dividend / previous close
    div_days = raw.index[raw["dividend"] > 0][1:]
    price_only = raw["close"].pct_change()
    np.testing.assert_allclose(
        (got - price_only.loc[got.index]).loc[div_days],
        (raw["dividend"] / raw["close"].shift(1)).loc[div_days],
        atol=1e-15,
    )


def test_xlb_split_day_is_not_a_crash():
    r = data.load_returns(["XLB"], "2025-12-01", "2025-12-10", offline=True)["XLB"]
    assert abs(r.loc["2025-12-05"]) < 0.05  # closes already on the post-split basis


def test_load_prices_slicing_and_errors():
    p = data.load_prices("SPY", "2025-12-20", "2025-12-31", offline=True)
    assert p.index[0] == pd.Timestamp("2025-12-22") and p.index[-1] == pd.Timestamp("2025-12-31")
    with pytest.raises(DataError, match=r"malformed start '2025-13-01'"):
        data.load_prices("SPY", "2025-13-01", offline=True)
    with pytest.raises(DataError, match="start 2025-12-31 is after end 2025-12-01"):
        data.load_prices("SPY", "2025-12-31", "2025-12-01", offline=True)
    with pytest.raises(DataError, match=r"LXU: no data between 2021-01-01 and 2021-12-31 \(snapshot covers 2024-11-01"):
        data.load_prices("LXU", "2021-01-01", "2021-12-31", offline=True)
    with pytest.raises(DataError, match="unknown source 'web'"):
        data.load_prices("SPY", source="web")
    with pytest.raises(DataError, match="no tickers"):
        data.load_prices([])


def test_live_only_listing_offline_is_a_clear_error():
    with pytest.raises(NotInSnapshotError, match=r"NTR\.TO is not in the offline snapshot"):
        data.load_prices(["NTR", "NTR.TO"], offline=True)
    with pytest.raises(DataError, match="unknown ticker 'NOPE'"):
        data.load_prices(["NOPE"], offline=True)


def test_offline_env_var_blocks_network(monkeypatch, yf_stub):
    calls = yf_stub(synthetic_yf_frame(["SDF.DE"]))
    monkeypatch.setenv("POTASH_IMPACT_OFFLINE", "1")
    with pytest.raises(NotInSnapshotError):
        data.load_prices(["SDF.DE"])
    assert calls == []


# ----------------------------------------------------------------------------- validation
def _frame(**over):
    idx = pd.DatetimeIndex(["2025-12-01", "2025-12-02", "2025-12-03"], name="date")
    df = pd.DataFrame({"close": [10.0, 11.0, 12.0], "dividend": 0.0, "split": 1.0}, index=idx)
    for k, v in over.items():
        df[k] = v
    return df


def test_validation_errors_name_ticker_and_date():
    with pytest.raises(DataValidationError, match="XYZ: required column.*dividend"):
        data.validate_prices(_frame().drop(columns="dividend"), "XYZ")
    dup = _frame()
    dup.index = pd.DatetimeIndex(["2025-12-01", "2025-12-02", "2025-12-02"])
    with pytest.raises(DataValidationError, match="XYZ: duplicate date 2025-12-02"):
        data.validate_prices(dup, "XYZ")
    rev = _frame()
    rev.index = pd.DatetimeIndex(["2025-12-01", "2025-12-03", "2025-12-02"])
    with pytest.raises(DataValidationError, match="XYZ: dates not increasing at 2025-12-02"):
        data.validate_prices(rev, "XYZ")
    with pytest.raises(DataValidationError, match=r"XYZ: non-positive close -1\.0 on 2025-12-02"):
        data.validate_prices(_frame(close=[10.0, -1.0, 12.0]), "XYZ")
    with pytest.raises(DataValidationError, match=r"XYZ: negative dividend"):
        data.validate_prices(_frame(dividend=[0.0, 0.0, -0.1]), "XYZ")
    bad_ohlc = _frame(open=[10.0, 11.0, 12.0], high=[10.5, 10.9, 12.5], low=[9.5, 10.5, 11.5])
    with pytest.raises(DataValidationError, match="XYZ: inconsistent OHLC on 2025-12-02"):
        data.validate_prices(bad_ohlc, "XYZ")
    ok = _frame(open=[10.0, 11.0, 12.0], high=[10.5, 11.5, 12.5], low=[9.5, 10.5, 11.5])
    assert data.validate_prices(ok, "XYZ") is ok


def test_gap_detection_on_the_exchange_calendar():
    full = data.read_snapshot("NTR")
    # drop 7 consecutive sessions -> error naming the first and last missing session
    holey = full.drop(full.loc["2025-12-01":"2025-12-09"].index)
    with pytest.raises(DataValidationError, match="NTR: 7 consecutive XNYS sessions missing from 2025-12-01 to 2025-12-09"):
        data.validate_prices(holey, "NTR", max_gap=5)
    # a short gap warns, never silently
    short = full.drop(full.loc["2025-12-01":"2025-12-02"].index)
    with pytest.warns(UserWarning, match="NTR: 2 XNYS session.* missing, first 2025-12-01"):
        data.validate_prices(short, "NTR", max_gap=5)
    # holidays are not gaps: the real file has none
    data.validate_prices(full, "NTR", max_gap=0)


# ----------------------------------------------------------------------------- yfinance + cache
def test_parse_yfinance_true_shape_values():
    raw = synthetic_yf_frame(["SDF.DE", "YAR.OL"], periods=5)
    got = data.parse_yfinance(raw, ["SDF.DE", "YAR.OL"])
    assert set(got) == {"SDF.DE", "YAR.OL"}
    np.testing.assert_array_equal(got["YAR.OL"]["close"].to_numpy(), raw[("Close", "YAR.OL")].to_numpy())
    np.testing.assert_array_equal(got["SDF.DE"]["high"].to_numpy(), raw[("High", "SDF.DE")].to_numpy())
    assert (got["SDF.DE"]["split"] == 1.0).all()  # yfinance's 0 means "no split"
    # group_by="ticker" layout and the flat single-ticker layout give the same frame
    swapped = raw.swaplevel(axis=1)
    pd.testing.assert_frame_equal(data.parse_yfinance(swapped, ["SDF.DE", "YAR.OL"])["YAR.OL"], got["YAR.OL"])
    flat = raw.xs("YAR.OL", axis=1, level="Ticker")
    pd.testing.assert_frame_equal(data.parse_yfinance(flat, ["YAR.OL"])["YAR.OL"], got["YAR.OL"])


def test_cache_miss_downloads_with_raw_prices_and_actions_then_hits(yf_stub):
    raw = synthetic_yf_frame(["SDF.DE", "YAR.OL"], periods=8)
    calls = yf_stub(raw)
    p = data.load_prices(["SDF.DE", "YAR.OL"], "2025-12-01", "2025-12-10", validate=False)
    assert len(calls) == 1
    assert calls[0]["auto_adjust"] is False and calls[0]["actions"] is True
    assert calls[0]["end"] == "2025-12-11"  # yfinance's end is exclusive
    assert p.attrs["sources"] == {"SDF.DE": "yfinance", "YAR.OL": "yfinance"}
    np.testing.assert_array_equal(p[("close", "SDF.DE")].to_numpy(), raw[("Close", "SDF.DE")].to_numpy())
    assert data.cache_path("SDF.DE").is_file()
    # second call: cache hit, no download
    p2 = data.load_prices(["SDF.DE"], "2025-12-01", "2025-12-10", validate=False)
    assert len(calls) == 1
    assert p2.attrs["sources"] == {"SDF.DE": "cache"}
    np.testing.assert_allclose(p2[("close", "SDF.DE")].to_numpy(), raw[("Close", "SDF.DE")].to_numpy())


def test_empty_download_raises_one_line_error_and_keeps_cache(yf_stub):
    yf_stub(synthetic_yf_frame(["YAR.OL"], periods=8))
    data.load_prices(["YAR.OL"], "2025-12-01", "2025-12-10", validate=False)
    before = data.cache_path("YAR.OL").read_bytes()
    yf_stub(pd.DataFrame())  # yfinance's answer when the network is down
    with pytest.raises(NetworkError) as err:
        data.refresh(["YAR.OL"], "2025-12-01", "2025-12-31")
    msg = str(err.value)
    assert "\n" not in msg and "YAR.OL" in msg and "--offline" in msg
    assert data.cache_path("YAR.OL").read_bytes() == before
    assert not list(data.cache_path("YAR.OL").parent.glob("*.tmp"))


def test_partial_download_names_the_failed_ticker(yf_stub):
    yf_stub(synthetic_yf_frame(["SDF.DE", "YAR.OL"], empty=("YAR.OL",)))
    with pytest.raises(NetworkError, match=r"no data for YAR\.OL"):
        data.load_prices(["SDF.DE", "YAR.OL"], "2025-12-01", "2025-12-12", validate=False)
    assert not data.cache_path("YAR.OL").exists()


def test_download_exception_is_a_network_error(yf_stub):
    def boom(tickers, **kw):
        raise ConnectionError("Failed to resolve 'query2.finance.yahoo.com'")

    yf_stub(boom)
    with pytest.raises(NetworkError, match=r"download of YAR.OL failed.*--offline"):
        data.load_prices(["YAR.OL"])


def test_corrupt_cache_is_a_miss_and_is_not_deleted(yf_stub):
    path = data.cache_path("YAR.OL")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PAR1 this is not parquet")
    raw = synthetic_yf_frame(["YAR.OL"], periods=6)
    calls = yf_stub(raw)
    with pytest.warns(UserWarning, match=r"YAR\.OL: cache file .*YAR\.OL\.parquet is skipped: unreadable"):
        p = data.load_prices(["YAR.OL"], "2025-12-01", "2025-12-08", validate=False)
    assert len(calls) == 1 and p.attrs["sources"] == {"YAR.OL": "yfinance"}
    # the successful download replaced it atomically with a readable file holding the downloaded closes
    cached = data.read_cache("YAR.OL", check=False)
    want = raw[("Close", "YAR.OL")]
    assert list(cached.index) == list(want.index)
    np.testing.assert_array_equal(cached["close"].to_numpy(), want.to_numpy())


def test_refresh_merges_and_prefers_new_rows(yf_stub):
    first = synthetic_yf_frame(["YAR.OL"], start="2025-12-01", periods=5, seed=1)
    yf_stub(first)
    data.refresh(["YAR.OL"], "2025-12-01", "2025-12-05", max_gap=None)
    second = synthetic_yf_frame(["YAR.OL"], start="2025-12-04", periods=5, seed=2)
    yf_stub(second)
    table = data.refresh(["YAR.OL"], "2025-12-04", "2025-12-10", max_gap=None)
    cached = data.read_cache("YAR.OL")
    assert table["rows"].tolist() == [8] and len(cached) == 8
    assert cached.loc["2025-12-01", "close"] == first[("Close", "YAR.OL")].iloc[0]
    assert cached.loc["2025-12-04", "close"] == second[("Close", "YAR.OL")].iloc[0]


def test_write_cache_refuses_empty_and_leaves_no_temp_files(tmp_path):
    with pytest.raises(DataError, match="refusing to write an empty frame"):
        data.write_cache("NTR", pd.DataFrame({"close": []}), tmp_path)
    assert not any(tmp_path.rglob("*"))  # nothing created
    data.write_cache("NTR", data.read_snapshot("NTR"), tmp_path)
    assert [p.name for p in (tmp_path / "prices").iterdir()] == ["NTR.parquet"]
    back = data.read_cache("NTR", tmp_path)
    np.testing.assert_array_equal(back["close"].to_numpy(), data.read_snapshot("NTR")["close"].to_numpy())


def test_coverage_lists_snapshot_and_cache(yf_stub):
    yf_stub(synthetic_yf_frame(["YAR.OL"], periods=4))
    data.refresh(["YAR.OL"], "2025-12-01", "2025-12-04", max_gap=None)
    cov = data.coverage()
    snap = cov[cov["source"] == "snapshot"].set_index("ticker")
    assert snap.loc["NTR", "rows"] == 1581 and str(snap.loc["LXU", "first"]) == "2024-11-01"
    assert snap.loc["NTR", "dividends"] == 25
    assert cov[cov["source"] == "cache"]["ticker"].tolist() == ["YAR.OL"]


def test_auto_goes_live_only_for_a_span_the_snapshot_does_not_reach(yf_stub):
    calls = yf_stub(synthetic_yf_frame(["NTR"], start="2026-09-01", periods=30))
    inside = data.load_prices(["NTR"], "2025-12-01", "2025-12-31")
    assert inside.attrs["sources"] == {"NTR": "snapshot"} and calls == []
    offline = data.load_prices(["NTR"], "2026-09-01", "2026-10-12", offline=True)
    assert offline.attrs["sources"] == {"NTR": "snapshot"} and offline.index[-1] == pd.Timestamp("2026-09-15")
    assert calls == []
    beyond = data.load_prices(["NTR"], "2026-09-01", "2026-10-12", validate=False)
    assert beyond.attrs["sources"] == {"NTR": "yfinance"} and len(calls) == 1
    # the download is now cached, so the same span comes from the cache, online or not
    again = data.load_prices(["NTR"], "2026-09-01", "2026-10-12", offline=True, validate=False)
    assert again.attrs["sources"] == {"NTR": "cache"} and len(calls) == 1


def test_live_download_merges_into_the_cache_never_shrinks_it(yf_stub):
    yf_stub(synthetic_yf_frame(["YAR.OL"], start="2025-11-03", periods=20, seed=3))
    data.refresh(["YAR.OL"], "2025-11-03", "2025-11-28", max_gap=None)
    assert len(data.read_cache("YAR.OL")) == 20
    later = synthetic_yf_frame(["YAR.OL"], start="2025-12-15", periods=5, seed=4)
    yf_stub(later)
    got = data.load_prices(["YAR.OL"], "2025-12-15", "2025-12-19", validate=False)
    assert got.attrs["sources"] == {"YAR.OL": "yfinance"}
    cached = data.read_cache("YAR.OL")
    assert len(cached) == 25 and cached.index[0] == pd.Timestamp("2025-11-03")
    assert cached.loc["2025-12-19", "close"] == later[("Close", "YAR.OL")].iloc[-1]
