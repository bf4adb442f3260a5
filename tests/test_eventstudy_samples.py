"""Samples and conventions of the engine (issue 8): one firm-set rule, stated exclusions, window
independence, the daily span, the exact SCAR and the null band.

Each number is checked against an independent computation: the plain loops of
``tests/_es_reference.py`` (statsmodels fits), scipy, or a hand computation written here.
The data are the real snapshot with deliberately injected gaps (named in each test).
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.data import load_returns
from analysis.errors import EventStudyError, InsufficientDataError, WindowError
from analysis.eventstudy import TESTS, EventStudyWarning, compare_groups, event_study, from_json

from _es_reference import reference, reference_groups

TOL = dict(rtol=1e-10, atol=1e-12)
PRODUCERS = ["NTR", "MOS", "IPI", "ICL"]
NITROGEN = ["CF", "LXU"]
EVENT = pd.Timestamp("2025-12-15")
WINDOWS = ((-1, 1), (0, 0), (0, 1), (0, 5), (-5, 5))


@pytest.fixture(scope="module")
def real():
    r = load_returns(PRODUCERS + NITROGEN + ["SPY"], offline=True, source="snapshot")
    return r.drop(columns="SPY"), r["SPY"]


def day(r, d):
    """The session d days after the event, in the returns' index."""
    return r.index[r.index.get_loc(EVENT) + d]


def assert_groups_equal_reference(cg, ref_groups):
    tab = cg.to_frame().set_index("window")
    for w, row in ref_groups["windows"].items():
        for col, v in row.items():
            np.testing.assert_allclose(tab.loc[w, col], v, **TOL, err_msg=f"{w} {col}")
    for d, (t, c, dd) in ref_groups["path"].items():
        np.testing.assert_allclose(cg.caar_path.loc[d].to_numpy(), [t, c, dd], **TOL)
    band = cg.caar_band(0.95)
    np.testing.assert_allclose(band["upper"].to_numpy(), [ref_groups["band"][d] for d in band.index], **TOL)


# --------------------------------------------------------------------------- finding 6: one firm-set rule
def test_one_firm_missing_one_event_day_uses_one_firm_set_everywhere(real):
    """MOS's return on day +1 set to NaN: every CAAR, group CAAR, path and n drop MOS from the windows with day +1."""
    r, spy = real
    r = r.copy()
    r.loc[day(r, 1), "MOS"] = np.nan
    res = event_study(r, spy, EVENT)
    prod = event_study(r[PRODUCERS], spy, EVENT)
    cg = compare_groups(res, PRODUCERS, NITROGEN)
    tab = cg.to_frame().set_index("window")
    for w in prod.windows:
        np.testing.assert_allclose(tab.loc[w, "caar_treated"], prod.caar[w], **TOL)  # two definitions agree
    assert tab["n_treated"].tolist() == [3, 4, 3, 3, 3]
    assert prod.tests.set_index(["window", "test"]).loc[("(0,1)", "bmp"), "n"] == 3
    # the path is drawn on the firms observed on every day of (-5,5), and ends at CAAR(-5,5)
    assert prod.path_firms == ["NTR", "IPI", "ICL"]
    np.testing.assert_allclose(prod.caar_path.loc[5], prod.caar["(-5,5)"], **TOL)
    np.testing.assert_allclose(cg.caar_path.loc[5, "treated"], tab.loc["(-5,5)", "caar_treated"], **TOL)
    # ... against the independent loops
    ref = reference(r, spy, EVENT)
    assert_groups_equal_reference(cg, reference_groups(ref, PRODUCERS, NITROGEN, WINDOWS))
    ex = res.excluded
    assert ex[["firm", "window", "code"]].values.tolist() == [
        ["MOS", w, "missing_day"] for w in ("(-1,1)", "(0,1)", "(0,5)", "(-5,5)")]
    assert set(ex["reason"]) == {"no return on day +1 (2025-12-16)"}
    assert cg.excluded.equals(ex)
    assert "MOS excluded from (-1,1), (0,1), (0,5), (-5,5): no return on day +1 (2025-12-16)" in res.summary()


def test_firms_missing_estimation_days_group_caars_equal_loops(real):
    """Scattered estimation-window gaps (CF 30 days, NTR 10 days, LXU 5 days): the long-short series uses the firms
    observed each day, and every group number equals the loop reference."""
    r, spy = real
    r = r.copy()
    pos = r.index.get_loc(EVENT)
    rng = np.random.default_rng(4)
    for f, k in (("CF", 30), ("NTR", 10), ("LXU", 5)):
        r.iloc[pos - 250 + rng.choice(240, k, replace=False), r.columns.get_loc(f)] = np.nan
    res = event_study(r, spy, EVENT)
    assert res.params.loc["CF", "m"] == 210 and res.excluded.empty
    cg = compare_groups(res, PRODUCERS, NITROGEN)
    ref = reference(r, spy, EVENT)
    assert_groups_equal_reference(cg, reference_groups(ref, PRODUCERS, NITROGEN, WINDOWS))


def test_window_past_a_firms_data_is_stated(real):
    """IPI's data ends on day +2 (as IPI and LXU ending 2026-08-13 around an August 2026 event)."""
    r, spy = real
    r = r.copy()
    r.loc[day(r, 3):, "IPI"] = np.nan
    res = event_study(r[PRODUCERS], spy, EVENT)
    ex = res.excluded.set_index("window")
    assert list(ex.index) == ["(0,5)", "(-5,5)"] and set(ex["code"]) == {"past_data"}
    assert set(ex["reason"]) == {"window runs past the firm's data (last return 2025-12-17)"}
    assert res.firm_sets["(0,1)"] == PRODUCERS and res.firm_sets["(0,5)"] == ["NTR", "MOS", "ICL"]
    t = res.tests.set_index(["window", "test"])
    assert t.loc[("(0,5)", "placebo"), "n"] == 3 and t.loc[("(0,1)", "placebo"), "n"] == 4
    # a firm with a gap that resumes later is a missing day, not "past the data"
    r2 = r.copy()
    r2.loc[day(r2, 3), "NTR"] = np.nan
    res2 = event_study(r2[["NTR", "MOS"]], spy, EVENT)
    assert set(res2.excluded["code"]) == {"missing_day"}


def test_too_few_estimation_returns_and_quality_flags_are_stated(real):
    r, spy = real
    short = r.copy()
    short.loc[: day(r, -30), "LXU"] = np.nan  # LXU listed only 19 sessions before the estimation window ends
    with pytest.warns(EventStudyWarning, match="LXU: 19 valid estimation returns"):
        res = event_study(short, spy, EVENT, exclude={"IPI": "bad tick on 2025-10-01 (rule bad_tick_reversal)"})
    assert res.firms == ["NTR", "MOS", "ICL", "CF"]
    ex = res.excluded
    assert len(ex) == 2 * 5 and list(ex["window"][:2]) == ["(-1,1)", "(-1,1)"]
    by = ex.drop_duplicates("firm").set_index("firm")
    assert by.loc["IPI", "code"] == "quality" and by.loc["IPI", "reason"].startswith("bad tick on 2025-10-01")
    assert by.loc["LXU", "code"] == "estimation"
    assert by.loc["LXU", "reason"] == ("19 valid estimation returns < min_estimation_obs=120; first valid "
                                       "estimation return 2025-11-03")
    assert res.excluded_from_estimation["IPI"].startswith("bad tick")
    # the quality gate's attrs work like exclude=
    flagged = r.copy()
    flagged.attrs["excluded"] = {"IPI": "bad tick on 2025-10-01", "XYZ": "not a firm of this study"}
    res2 = event_study(flagged, spy, EVENT)
    assert "IPI" not in res2.firms and set(res2.excluded["code"]) == {"quality"}
    with pytest.raises(EventStudyError, match=r"exclude names firms \['XYZ'\]"):
        event_study(r, spy, EVENT, exclude={"XYZ": "typo"})
    with pytest.raises(InsufficientDataError, match="no firm has"):
        event_study(r[["NTR"]], spy, EVENT, exclude={"NTR": "flagged"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EventStudyWarning)
        cg = compare_groups(res, PRODUCERS, NITROGEN)
    assert cg.treated == ["NTR", "MOS", "ICL"] and cg.control == ["CF"]
    assert set(cg.excluded["firm"]) == {"IPI", "LXU"}
    with pytest.raises(InsufficientDataError, match="empty group"), warnings.catch_warnings():
        warnings.simplefilter("ignore", EventStudyWarning)
        compare_groups(res, ["NTR"], ["IPI"])


# --------------------------------------------------------------------------- finding 7: window independence
@pytest.mark.parametrize("nan", [False, True], ids=["clean", "with-gaps"])
def test_a_window_does_not_depend_on_the_other_windows(real, nan):
    r, spy = real
    r = r.copy()
    if nan:
        r.loc[day(r, 1), "MOS"] = np.nan
        r.loc[day(r, 4):, "IPI"] = np.nan
    alone = event_study(r, spy, EVENT, event_windows=[(-1, 1)]).tests.set_index("test")
    many = event_study(r, spy, EVENT, event_windows=[(-1, 1), (0, 5), (-5, 5)]).tests
    many = many[many.window == "(-1,1)"].set_index("test")
    for t in TESTS:
        np.testing.assert_allclose(many.loc[t, ["statistic", "p_value"]].to_numpy(float),
                                   alone.loc[t, ["statistic", "p_value"]].to_numpy(float), rtol=0, atol=1e-12,
                                   err_msg=t)
        assert many.loc[t, "n"] == alone.loc[t, "n"]


def test_corrado_window_statistic_by_hand(real):
    """Cowan (1992): rank each firm's ARs over the estimation window plus the window's own days (scipy rankdata)."""
    r, spy = real
    res = event_study(r[PRODUCERS], spy, EVENT)
    E, S = res.ar_estimation, res.ar
    a, b = -1, 1
    U = {}
    for f in PRODUCERS:
        x = np.concatenate([E[f].to_numpy(), S.loc[a:b, f].to_numpy()])
        U[f] = stats.rankdata(x) - (len(x) + 1) / 2
    ubar = np.mean([U[f] for f in PRODUCERS], axis=0)
    sk = math.sqrt(np.mean(ubar**2))
    z = math.sqrt(3) * ubar[-3:].mean() / sk
    got = res.tests.set_index(["window", "test"]).loc[("(-1,1)", "corrado_rank")]
    np.testing.assert_allclose(got["statistic"], z, **TOL)
    np.testing.assert_allclose(got["p_value"], 2 * stats.norm.sf(abs(z)), **TOL)


def test_daily_span_gives_daily_tests_without_a_window(real):
    r, spy = real
    kw = dict(event_windows=[(0, 1)], daily_span=(-2, 5))
    res = event_study(r[PRODUCERS], spy, EVENT, **kw)
    assert res.daily_span == (-2, 5) and list(res.days) == list(range(-2, 6))
    assert sorted(set(res.daily_tests["day"])) == list(range(-2, 6)) and res.windows == ["(0,1)"]
    ref = reference(r[PRODUCERS], spy, EVENT, **kw)
    for d, tests in ref["daily"].items():
        got = res.daily_tests[res.daily_tests.day == d].set_index("test")
        for t in TESTS:
            np.testing.assert_allclose(got.loc[t, ["statistic", "p_value"]].to_numpy(float), tests[t][:2], **TOL,
                                       err_msg=f"day {d} {t}")
    # daily statistics depend on the daily span only, not on the windows
    other = event_study(r[PRODUCERS], spy, EVENT, event_windows=[(-1, 1), (0, 0)], daily_span=(-2, 5))
    pd.testing.assert_frame_equal(other.daily_tests, res.daily_tests, check_exact=False, rtol=0, atol=1e-12)
    with pytest.raises(WindowError, match="overlaps"):
        event_study(r[PRODUCERS], spy, EVENT, daily_span=(-20, 5))


# --------------------------------------------------------------------------- the window standardizer
def test_exact_scar_patell_and_bmp_by_hand(real):
    """SCAR_i = CAR_i / sqrt(Var(CAR_i)) with Var from statsmodels' prediction covariance (MacKinlay 1997 eq. 15)."""
    import statsmodels.api as sm

    r, spy = real
    pos = r.index.get_loc(EVENT)
    res = event_study(r[PRODUCERS], spy, EVENT)
    scars, dfs = [], []
    for f in PRODUCERS:
        d = pd.concat([r[f], spy], axis=1).iloc[pos - 250 : pos - 10].dropna()
        ols = sm.OLS(d[f].to_numpy(), sm.add_constant(d["SPY"].to_numpy())).fit()
        Xw = sm.add_constant(spy.iloc[pos : pos + 2].to_numpy())
        V = ols.scale * np.eye(2) + Xw @ ols.cov_params() @ Xw.T
        car = float((r[f].iloc[pos : pos + 2].to_numpy() - Xw @ ols.params).sum())
        scars.append(car / math.sqrt(V.sum()))
        dfs.append(ols.df_resid)
    z = sum(scars) / math.sqrt(sum(v / (v - 2) for v in dfs))
    bmp = math.sqrt(4) * np.mean(scars) / np.std(scars, ddof=1)
    t = res.tests.set_index(["window", "test"])
    np.testing.assert_allclose(t.loc[("(0,1)", "patell_z"), "statistic"], z, **TOL)
    np.testing.assert_allclose(t.loc[("(0,1)", "bmp"), "statistic"], bmp, **TOL)
    # the per-firm t of firm_tests is the same standardized CAR
    ft = res.firm_tests.set_index(["window", "firm"])
    np.testing.assert_allclose([ft.loc[("(0,1)", f), "statistic"] for f in PRODUCERS], scars, **TOL)
    # scar="sum" is the mean of the SARs times sqrt(L): a different number on multi-day windows, the same on one day
    s = event_study(r[PRODUCERS], spy, EVENT, scar="sum").tests.set_index(["window", "test"])
    ssum = [(res.sar.loc[0, f] + res.sar.loc[1, f]) / math.sqrt(2) for f in PRODUCERS]
    np.testing.assert_allclose(s.loc[("(0,1)", "patell_z"), "statistic"],
                               sum(ssum) / math.sqrt(sum(v / (v - 2) for v in dfs)), **TOL)
    assert abs(s.loc[("(0,1)", "patell_z"), "statistic"] - z) > 1e-3
    np.testing.assert_allclose(s.loc[("(0,0)", "patell_z"), "statistic"], t.loc[("(0,0)", "patell_z"), "statistic"],
                               **TOL)
    with pytest.raises(EventStudyError, match="unknown scar"):
        event_study(r[PRODUCERS], spy, EVENT, scar="mean")


# --------------------------------------------------------------------------- the null band
def test_caar_band_is_the_null_band_by_hand(real):
    r, spy = real
    res = event_study(r[PRODUCERS], spy, EVENT)
    A = res.ar_estimation[PRODUCERS].mean(axis=1)
    half = stats.t.ppf(0.975, len(A) - 1) * A.std(ddof=1) * np.sqrt(np.arange(1, 12))
    band = res.caar_band(0.95)
    np.testing.assert_allclose(band["upper"].to_numpy(), half, **TOL)
    np.testing.assert_allclose(band["lower"].to_numpy(), -half, **TOL)
    assert list(band.index) == list(range(-5, 6))
    # the band is centred on zero, not on the path: the December path (+0.98% by day +1, from day -5) is inside it
    assert band.loc[1, "lower"] < -0.09 and res.caar_path.loc[1] == pytest.approx(0.0098, abs=1e-4)


# --------------------------------------------------------------------------- JSON
def test_json_round_trip_keeps_the_sample(real, tmp_path):
    r, spy = real
    r = r.copy()
    r.loc[day(r, 1), "MOS"] = np.nan
    res = event_study(r, spy, EVENT, daily_span=(-3, 3), scar="sum", exclude={"ICL": "flagged"})
    text = res.to_json()
    doc = json.loads(text)
    assert doc["schema"] == "potash-impact/event-study/2" and doc["config"]["scar"] == "sum"
    back = from_json(text)
    for name in ("excluded", "tests", "daily_tests", "car", "firm_tests"):
        pd.testing.assert_frame_equal(getattr(back, name), getattr(res, name), check_exact=True)
    assert back.daily_span == (-3, 3) and back.excluded_from_estimation == {"ICL": "flagged"}
    old = dict(doc, schema="potash-impact/event-study/1")
    with pytest.raises(EventStudyError, match="schema 1"):
        from_json(json.dumps(old))


def test_measure_label_and_caar_format(real):
    """A study of another measure (e.g. log volume) says so and does not print its CAAR as a percentage."""
    r, spy = real
    res = event_study(r[["NTR", "MOS"]], spy, EVENT, measure="log volume")
    lines = res.summary().splitlines()
    assert lines[0].startswith("Event study of abnormal log volume: day 0 = 2025-12-15")
    caar = [ln for ln in lines if ln.startswith("CAAR  ")][0].split()[1:]
    assert caar == [f"{v:.4f}" for v in res.caar]
    assert compare_groups(res, ["NTR"], ["MOS"]).measure == "log volume"
    assert from_json(res.to_json()).measure == "log volume"
