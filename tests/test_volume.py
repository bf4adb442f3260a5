"""Abnormal log volume (issue 12): one code path with the returns engine, hand computations, the seam.

Real data: the bundled snapshot (December 2025: day 0 = Mon 2025-12-15). The hand
computations read the price files with the ``csv`` module and compute with ``math``
(``log1p``, ``fsum``): nothing is shared with the engine or the loader.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.errors import DataError, EventStudyError
from analysis.eventstudy import event_study
from analysis.volume import (
    MEASURE,
    load_volumes,
    log_volume,
    seam_check,
    volatility_summary,
    volume_key_numbers,
    volume_sentence,
    volume_study,
    volume_tests,
)
from analysis.volume_catalog import catalog_volume, kind_difference, volume_by_kind

DATA = Path(__file__).resolve().parent.parent / "data" / "prices"
FIRMS = ["NTR", "MOS", "IPI", "ICL", "CF", "LXU"]
PRODUCERS = ["NTR", "MOS", "IPI", "ICL"]
DAY0 = "2025-12-15"


@pytest.fixture(scope="module")
def volumes():
    return load_volumes(FIRMS + ["SPY"], offline=True)


def _csv_volumes(ticker):
    with open(DATA / f"{ticker}.csv", newline="") as fh:
        return {r["date"]: float(r["volume"]) for r in csv.DictReader(fh) if r["volume"] != ""}


def _hand_day0(model):
    """Day-0 abnormal log volume per firm from the CSV files: plain loops, math.fsum."""
    spy = _csv_volumes("SPY")
    sessions = sorted(spy)  # SPY has every NYSE session of the snapshot (SOURCES.md)
    p0 = sessions.index(DAY0)
    est = sessions[p0 - 250 : p0 - 10]  # relative days -250 .. -11
    assert len(est) == 240
    out = {}
    for f in FIRMS:
        vol = _csv_volumes(f)
        days = [d for d in est if d in vol]
        y = [math.log1p(vol[d]) for d in days]
        y0 = math.log1p(vol[DAY0])
        if model == "mean":
            out[f] = y0 - math.fsum(y) / len(y)
        else:
            x = [math.log1p(spy[d]) for d in days]
            xb, yb = math.fsum(x) / len(x), math.fsum(y) / len(y)
            beta = math.fsum((a - xb) * (b - yb) for a, b in zip(x, y)) / math.fsum((a - xb) ** 2 for a in x)
            alpha = yb - beta * xb
            out[f] = y0 - alpha - beta * math.log1p(spy[DAY0])
    return out


# --------------------------------------------------------------------------- log_volume
def test_log_volume_values_zero_and_missing():
    idx = pd.DatetimeIndex(["2025-12-12", "2025-12-15", "2025-12-16"], name="date")
    v = pd.DataFrame({"A": [0.0, 99.0, np.nan], "B": [1e6, 2276183.0, 5.0]}, index=idx)
    lv = log_volume(v)
    assert lv.loc["2025-12-12", "A"] == 0.0  # zero volume stays in the sample
    assert lv.loc["2025-12-15", "A"] == pytest.approx(math.log(100.0), abs=1e-15)
    assert np.isnan(lv.loc["2025-12-16", "A"])  # missing stays missing
    assert lv.loc["2025-12-15", "B"] == math.log1p(2276183.0)
    s = log_volume(v["B"])
    assert isinstance(s, pd.Series) and s.name == "B" and s.iloc[0] == math.log1p(1e6)


@pytest.mark.parametrize("bad, match", [(-1.0, "B on 2025-12-15 is -1.0"), (np.inf, "B on 2025-12-15 is inf")])
def test_log_volume_refuses_negative_and_infinite(bad, match):
    idx = pd.DatetimeIndex(["2025-12-12", "2025-12-15"], name="date")
    v = pd.DataFrame({"A": [1.0, 2.0], "B": [3.0, bad]}, index=idx)
    with pytest.raises(DataError, match=match):
        log_volume(v)


def test_log_volume_refuses_text_and_non_frames():
    with pytest.raises(DataError, match="non-numeric volume columns"):
        log_volume(pd.DataFrame({"A": ["1", "2"]}))
    with pytest.raises(DataError, match="list"):
        log_volume([1, 2])


def test_load_volumes_reads_the_snapshot(volumes):
    assert volumes.loc["2025-12-12", "NTR"] == 2276183.0  # Nasdaq mirror (SOURCES.md example)
    assert volumes.loc["2025-12-15", "MOS"] == 13114200.0
    assert volumes["LXU"].first_valid_index() == pd.Timestamp("2024-11-01")  # NaN before the listing


# --------------------------------------------------------------------------- hand computations
@pytest.mark.parametrize("model", ["mean", "market"])
def test_day0_abnormal_log_volume_equals_hand_computation(volumes, model):
    res = volume_study(volumes[FIRMS], volumes["SPY"], DAY0, model=model)
    hand = _hand_day0(model)
    for f in FIRMS:
        assert res.ar.loc[0, f] == pytest.approx(hand[f], abs=1e-12), f
    if model == "mean":  # published figure: NTR day-0 volume about exp(0.84) = 2.3 times its estimation mean
        assert res.ar.loc[0, "NTR"] == pytest.approx(0.839232, abs=1e-6)


def test_mean_model_uses_h_equal_one_over_m(volumes):
    res = volume_study(volumes[PRODUCERS], None, DAY0, model="mean")
    p = res.params
    s = p["sigma"] * np.sqrt(1.0 + 1.0 / p["m"])
    np.testing.assert_allclose(res.sar.loc[0], res.ar.loc[0] / s, rtol=1e-13)


# --------------------------------------------------------------------------- one code path
@pytest.mark.parametrize("model, engine_model", [("mean", "constant_mean"), ("market", "market")])
def test_every_statistic_equals_the_returns_engine_on_log_volume(volumes, model, engine_model):
    res = volume_study(volumes[FIRMS], volumes["SPY"], DAY0, model=model)
    market = log_volume(volumes["SPY"]) if model == "market" else None
    ref = event_study(log_volume(volumes[FIRMS]), market, DAY0, model=engine_model)
    assert res.measure == MEASURE and ref.measure == "return" and res.model == engine_model
    for name in ("ar", "sar", "car", "params", "ar_estimation", "tests", "daily_tests", "firm_tests", "volatility"):
        pd.testing.assert_frame_equal(getattr(res, name), getattr(ref, name), check_exact=True, obj=name)
    pd.testing.assert_series_equal(res.caar, ref.caar, check_exact=True)


def test_measure_in_summary_and_json_round_trip(volumes):
    res = volume_study(volumes[PRODUCERS], volumes["SPY"], DAY0, model="market")
    assert "log volume" in res.summary().splitlines()[0]
    back = type(res).from_json(res.to_json())
    assert back.measure == MEASURE
    pd.testing.assert_frame_equal(back.tests, res.tests)


def test_missing_volume_follows_the_firm_set_rule(volumes):
    v = volumes[PRODUCERS].copy()
    v.loc[pd.Timestamp("2025-12-16"), "IPI"] = np.nan  # day +1
    res = volume_study(v, None, DAY0)
    t = res.tests.set_index(["window", "test"])
    assert t.loc[("(0,0)", "placebo"), "n"] == 4
    assert t.loc[("(0,1)", "placebo"), "n"] == 3
    three = volume_study(volumes[["NTR", "MOS", "ICL"]], None, DAY0)
    assert res.caar["(0,1)"] == pytest.approx(three.caar["(0,1)"], abs=1e-12)


def test_volume_study_refuses_bad_input(volumes):
    with pytest.raises(EventStudyError, match="unknown volume model 'raw'"):
        volume_study(volumes[PRODUCERS], None, DAY0, model="raw")
    with pytest.raises(EventStudyError, match="needs market_volume"):
        volume_study(volumes[PRODUCERS], None, DAY0, model="market")
    with pytest.raises(EventStudyError, match="Series"):
        volume_study(volumes[PRODUCERS], volumes[["SPY"]], DAY0, model="market")
    bad = volumes[PRODUCERS].copy()
    bad.loc[pd.Timestamp("2025-11-03"), "MOS"] = -5.0
    with pytest.raises(DataError, match="MOS on 2025-11-03"):
        volume_study(bad, None, DAY0)


# --------------------------------------------------------------------------- key numbers and prose
@pytest.fixture(scope="module")
def december(volumes):
    from analysis import load_returns

    r = load_returns(PRODUCERS + ["SPY"], offline=True)
    rr = event_study(r[PRODUCERS], r["SPY"], DAY0)
    vr = volume_study(volumes[PRODUCERS], None, DAY0)
    return vr, rr


def test_key_numbers_come_from_the_results(december):
    vr, rr = december
    k = volume_key_numbers(vr, "(0,1)", rr)
    t = vr.tests.set_index(["window", "test"])
    assert k["caar"] == vr.caar["(0,1)"]
    assert k["p_rank"] == t.loc[("(0,1)", "corrado_rank"), "p_value"]
    assert k["p_placebo"] == t.loc[("(0,1)", "placebo"), "p_value"]
    assert k["p_volatility_day0"] == rr.volatility.loc[0, "p_value"]
    assert k["p_placebo_volatility_day0"] == rr.volatility.loc[0, "p_placebo"]
    assert k["p_volatility_volume_day0"] == vr.volatility.loc[0, "p_value"]
    assert k["firms"] == PRODUCERS and k["n"] == 4 and k["n_volatility_day0"] == 4
    # the December 2025 answers (mean model, producers)
    assert k["caar"] == pytest.approx(1.038268, abs=1e-6)
    assert k["p_rank"] == pytest.approx(0.018182, abs=1e-6)
    assert k["p_placebo"] == pytest.approx(14 / 240, abs=1e-12)
    assert k["p_volatility_day0"] == pytest.approx(0.150158, abs=1e-6)
    with pytest.raises(EventStudyError, match=r"\(0,2\)"):
        volume_key_numbers(vr, (0, 2))


KEY = {"window": "(0,1)", "n": 4, "caar": 1.0, "p_rank": 0.01, "p_placebo": 0.2}


@pytest.mark.parametrize("p_rank, p_placebo, verdict", [
    (0.01, 0.02, "both reject no change at 5%"),
    (0.01, 0.20, "the rank test rejects no change at 5% but the placebo does not"),
    (0.30, 0.04, "the placebo rejects no change at 5% but the rank test does not"),
    (0.30, 0.20, "neither rejects no change at 5%"),
    (float("nan"), 0.04, "only the placebo is available and it rejects at 5%"),
    (0.30, None, "only the rank test is available and it does not reject at 5%"),
    (None, float("nan"), "no test is available"),
])
def test_sentence_volume_branches(p_rank, p_placebo, verdict):
    s = volume_sentence({**KEY, "p_rank": p_rank, "p_placebo": p_placebo})
    assert s.endswith(verdict + ".")
    assert "(4 firms)" in s and "above its normal level" in s
    assert "+1.00 in total, +0.50 a day, i.e. about 1.65 times normal" in s


def test_sentence_direction_alpha_and_missing_caar():
    assert "below its normal level" in volume_sentence({**KEY, "caar": -0.4})
    assert "0.67 times normal" in volume_sentence({**KEY, "caar": -0.8})
    s = volume_sentence({**KEY, "p_rank": 0.03, "p_placebo": 0.03}, alpha=0.01)
    assert s.endswith("neither rejects no change at 1%.")
    s = volume_sentence({**KEY, "caar": float("nan")}, group="the producers")
    assert s == "Over (0,1), the abnormal log volume of the producers (4 firms) could not be measured (no CAAR)."
    assert "(1 firm)" in volume_sentence({**KEY, "n": 1})
    assert "of the treated firms (NTR, MOS) was" in volume_sentence({**KEY, "n": 2, "firms": ["NTR", "MOS"]})


@pytest.mark.parametrize("pv, pp, verdict", [
    (0.01, 0.02, "both reject ordinary volatility at 5%"),
    (0.01, 0.30, "the χ² test rejects ordinary volatility at 5% but the placebo does not"),
    (0.15, 0.17, "neither rejects ordinary volatility at 5%"),
])
def test_sentence_volatility_branches(pv, pp, verdict):
    s = volume_sentence({**KEY, "p_volatility_day0": pv, "p_placebo_volatility_day0": pp, "mean_sar2_day0": 1.69})
    assert s.endswith(f"Day-0 return volatility: mean squared standardized abnormal return 1.69 against 1 expected; "
                      f"χ² p = {pv:.3f}, placebo p = {pp:.3f}: {verdict}.")


def test_sentence_on_december(december):
    vr, rr = december
    s = volume_sentence(volume_key_numbers(vr, "(0,1)", rr), group="the potash producers")
    assert s.startswith("Over (0,1), the trading volume of the potash producers (NTR, MOS, IPI, ICL) was above its normal level "
                        "(abnormal log volume +1.04 in total, +0.52 a day, i.e. about 1.68 times normal); "
                        "rank test p = 0.018, placebo p = 0.058: the rank test rejects no change at 5% but the "
                        "placebo does not.")


def test_volume_tests_put_rank_and_placebo_first(december):
    vr, _ = december
    t = volume_tests(vr)
    assert len(t) == len(vr.tests)
    for w in vr.windows:
        names = t.loc[t["window"] == w, "test"].tolist()
        assert names[:2] == ["corrado_rank", "placebo"]
        assert sorted(names) == sorted(vr.tests.loc[vr.tests["window"] == w, "test"])
    assert t["window"].drop_duplicates().tolist() == vr.windows
    merged = t.merge(vr.tests, on=["window", "test"], suffixes=("", "_ref"))
    assert (merged["p_value"].fillna(-1) == merged["p_value_ref"].fillna(-1)).all()


def test_volatility_summary_stacks_both_measures(december):
    vr, rr = december
    v = volatility_summary(rr, vr)
    assert v["measure"].drop_duplicates().tolist() == ["return", "log volume"]
    day0 = v[v["day"] == 0].set_index("measure")
    assert day0.loc["return", "p_value"] == rr.volatility.loc[0, "p_value"]
    assert day0.loc["log volume", "p_placebo"] == vr.volatility.loc[0, "p_placebo"]
    # December 2025, producers, day 0: log-volume volatility chi-square p 0.0153, placebo 12/241
    assert day0.loc["log volume", "p_value"] == pytest.approx(0.015290, abs=1e-6)
    assert day0.loc["log volume", "p_placebo"] == pytest.approx(12 / 241, abs=1e-12)
    with pytest.raises(EventStudyError, match="give a returns study"):
        volatility_summary()


# --------------------------------------------------------------------------- the catalog
def test_catalog_volume_equals_direct_studies(volumes):
    from analysis.catalog_study import study_catalog

    study = study_catalog(["us-potash-easing-2025"], offline=True)
    wins = study.settings["event_windows"]
    t = catalog_volume(study.results, study.comparisons, wins, volumes=volumes)
    res = study.results["us-potash-easing-2025"]
    treated = study.comparisons["us-potash-easing-2025"].treated
    direct = volume_study(volumes[treated], None, res.event_date, res.estimation_window, wins)
    row = t[(t["event_id"] == "us-potash-easing-2025") & (t["window"] == "(0,1)")].iloc[0]
    assert row["volume_caar"] == direct.caar["(0,1)"]
    tt = direct.tests.set_index(["window", "test"])
    assert row["volume_p_rank"] == tt.loc[("(0,1)", "corrado_rank"), "p_value"]
    assert row["volume_p_placebo"] == tt.loc[("(0,1)", "placebo"), "p_value"]
    from analysis.eventstudy.volatility import event_volatility

    assert row["volatility_p_day0"] == event_volatility(res, firms=treated).loc[0, "p_value"]
    assert pd.isna(row["volume_note"])
    # study_catalog carries the same columns (its one call site)
    crow = study.to_frame("(0,1)").set_index("event_id").loc["us-potash-easing-2025"]
    for c in ("volume_caar", "volume_p_rank", "volume_p_placebo", "volatility_p_day0", "volatility_p_placebo_day0"):
        assert crow[c] == row[c], c
    # a ticker without volume is refused loudly, per event, not silently
    t2 = catalog_volume(study.results, study.comparisons, wins, volumes=volumes.drop(columns="IPI"))
    assert t2["volume_caar"].isna().all()
    assert t2["volume_note"].str.contains("no volume for IPI").all()


def test_volume_by_kind_counts_lead_events_only():
    """SYNTHETIC catalog rows: two easing leads, one member, one tightening lead, one event not covered."""
    t = pd.DataFrame({
        "event_id": ["e1", "e2", "e3", "t1", "t2"],
        "kind": ["easing", "easing", "easing", "tightening", "tightening"],
        "cluster_lead": ["e1", "e1", "e3", "t1", "t2"],
        "status": ["ok", "ok", "ok", "ok", "insufficient data"],
        "window": ["(0,1)"] * 5,
        "volume_caar": [0.4, 9.0, -0.2, 1.0, np.nan],
        "volume_p_placebo": [0.01, 0.01, 0.5, 0.03, np.nan],
        "volatility_p_placebo_day0": [0.2, 0.01, 0.04, 0.5, np.nan],
    })
    k = volume_by_kind(t).set_index("kind")
    assert k.loc["easing", "n_votes"] == 2 and k.loc["easing", "voters"] == "e1, e3"
    assert k.loc["easing", "mean_volume_caar"] == pytest.approx(0.1, abs=1e-15)
    assert k.loc["easing", "share_positive"] == 0.5 and k.loc["easing", "share_placebo_reject"] == 0.5
    assert k.loc["easing", "share_volatility_reject"] == 0.5
    assert k.loc["tightening", "n_votes"] == 1 and k.loc["tightening", "mean_volume_caar"] == 1.0
    with pytest.raises(DataError, match="volume_caar"):
        volume_by_kind(t.drop(columns="volume_caar"))


def test_kind_difference_exact_permutation_against_a_loop():
    """SYNTHETIC lead events: 5 tightening, 3 easing; the p counts all C(8,3) = 56 relabellings."""
    import itertools

    vals = {"t1": 0.9, "t2": 1.4, "t3": 0.2, "t4": 2.6, "t5": 0.7, "e1": 0.1, "e2": -0.3, "e3": 0.8}
    t = pd.DataFrame({"event_id": list(vals), "cluster_lead": list(vals), "status": "ok", "window": "(0,1)",
                      "kind": ["tightening"] * 5 + ["easing"] * 3, "volume_caar": list(vals.values())})
    k = kind_difference(t)
    x = list(vals.values())
    d = sum(x[:5]) / 5 - sum(x[5:]) / 3
    count = 0
    for a in itertools.combinations(range(8), 5):
        da = sum(x[i] for i in a) / 5 - sum(x[i] for i in range(8) if i not in a) / 3
        count += abs(da) >= abs(d) - 1e-12
    assert k["diff"] == pytest.approx(d, abs=1e-15)
    assert k["splits"] == 56 and k["exact"] and k["n"] == (5, 3)
    assert k["p_permutation"] == count / 56
    with pytest.raises(DataError, match="confounder"):
        kind_difference(t, kinds=("tightening", "confounder"))


# --------------------------------------------------------------------------- the seam (snapshot)
def test_seam_creates_no_level_break_in_log_volume():
    s = seam_check()
    # the tickers whose volume source changes at 2025-09-29 from rounded (Yahoo) to unrounded (Nasdaq)
    assert sorted(s.index) == ["CF", "ICL", "MOS", "NTR", "SPY"]
    assert (s["share_rounded_before"] == 1.0).all()
    assert (s["mean_diff"].abs() < 1e-5).all()  # measured: at most 1.7e-6 (NTR)
    assert (s["max_abs_diff"] < 2e-4).all()  # measured: at most 1.5e-4 (ICL)
    assert (s["ratio"] < 1e-4).all()  # against a daily noise of 0.20 .. 0.35 in log volume
    assert (s["noise"] > 0.15).all()
    # the observed level change across the seam is ordinary: at least 1 date in 5 has a larger one
    assert (s["jump_share"] > 0.2).all()


def test_seam_mean_diff_equals_hand_computation():
    vol = _csv_volumes("NTR")
    with open(DATA / "NTR.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["date"] > "2025-09-29" and r["source"].startswith("nasdaq")]
    d = [math.log1p(float(r["volume"])) - math.log1p(round(float(r["volume"]), -2)) for r in rows]
    s = seam_check(["NTR"])
    assert s.loc["NTR", "n_after"] == len(d) == 240
    assert s.loc["NTR", "mean_diff"] == pytest.approx(math.fsum(d) / len(d), abs=1e-15)
    assert s.loc["NTR", "max_abs_diff"] == pytest.approx(max(abs(x) for x in d), abs=1e-15)
    assert vol["2025-09-29"] % 100 == 0
