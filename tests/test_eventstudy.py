"""The event-study engine against statsmodels and a plain loop reference, the real case and bad inputs."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from analysis.calendars import align_event
from analysis.data import load_returns
from analysis.errors import EventStudyError
from analysis.eventstudy import (
    TESTS,
    EventStudyResult,
    EventStudyWarning,
    compare_groups,
    event_study,
    from_json,
)

from _es_reference import reference

TOL = dict(rtol=1e-10, atol=1e-12)
PRODUCERS = ["NTR", "MOS", "IPI", "ICL"]
NITROGEN = ["CF", "LXU"]
EVENT = pd.Timestamp("2025-12-15")


@pytest.fixture(scope="module")
def real():
    r = load_returns(PRODUCERS + NITROGEN + ["SPY"], offline=True)
    return r.drop(columns="SPY"), r["SPY"]


@pytest.fixture(scope="module")
def res_real(real):
    r, spy = real
    return event_study(r[PRODUCERS + ["CF"]], spy, EVENT)


def synthetic_panel(T=400, N=7, seed=3, nan_frac=0.05):
    """SYNTHETIC returns with scattered NaNs (also inside the event span) and a market with gaps."""
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2021-01-04", periods=T, name="date")
    mkt = pd.Series(rng.normal(0.0003, 0.011, T), index=idx, name="mkt")
    beta = rng.uniform(0.3, 1.6, N)
    Y = rng.normal(0, 0.0005, N) + np.outer(mkt.to_numpy(), beta) + rng.standard_t(5, (T, N)) * rng.uniform(0.01, 0.03, N)
    Y[rng.random((T, N)) < nan_frac] = np.nan
    Y[300, 2] = np.nan  # day 0 missing for one firm
    Y[303, 4] = np.nan  # a day of (0,5) missing for another
    mkt.iloc[[20, 140, 222]] = np.nan
    return pd.DataFrame(Y, index=idx, columns=[f"syn{i}" for i in range(N)]), mkt


def assert_matches_reference(res, ref):
    """Every statistic, p-value and n of the engine equals the loop reference."""
    assert res.firms == ref["firms"]
    for lab, tests in ref["tests"].items():
        got = res.tests[res.tests.window == lab].set_index("test")
        for t in TESTS:
            s, p, n = tests[t]
            np.testing.assert_allclose(got.loc[t, "statistic"], s, **TOL, err_msg=f"{lab} {t}")
            np.testing.assert_allclose(got.loc[t, "p_value"], p, **TOL, err_msg=f"{lab} {t} p")
            assert got.loc[t, "n"] == n, (lab, t)
        np.testing.assert_allclose(res.caar[lab], ref["caar"][lab], **TOL)
        for f, c in ref["car"][lab].items():
            np.testing.assert_allclose(res.car.loc[lab, f], c, **TOL)
    for day, tests in ref["daily"].items():
        got = res.daily_tests[res.daily_tests.day == day].set_index("test")
        for t in TESTS:
            s, p, n = tests[t]
            np.testing.assert_allclose(got.loc[t, "statistic"], s, **TOL, err_msg=f"day {day} {t}")
            np.testing.assert_allclose(got.loc[t, "p_value"], p, **TOL, err_msg=f"day {day} {t} p")
            assert got.loc[t, "n"] == n
    for f in ref["firms"]:
        for d, v in ref["ARS"][f].items():
            np.testing.assert_allclose(res.ar.loc[d, f], v, **TOL)
            np.testing.assert_allclose(res.sar.loc[d, f], ref["SARS"][f][d], **TOL)
        est = pd.Series(ref["ARE"][f])
        np.testing.assert_allclose(res.ar_estimation[f].to_numpy(), est.to_numpy(), **TOL)


# --------------------------------------------------------------------------- regressions
def test_market_model_equals_statsmodels_on_real_returns(real, res_real):
    r, spy = real
    pos = r.index.get_loc(EVENT)
    est = slice(pos - 250, pos - 10)
    for f in PRODUCERS + ["CF"]:
        d = pd.concat([r[f], spy], axis=1).iloc[est].dropna()
        ols = sm.OLS(d[f].to_numpy(), sm.add_constant(d["SPY"].to_numpy())).fit()
        p = res_real.params.loc[f]
        np.testing.assert_allclose(p["alpha"], ols.params[0], rtol=1e-10)
        np.testing.assert_allclose(p["beta"], ols.params[1], rtol=1e-10)
        np.testing.assert_allclose(p["sigma"], math.sqrt(ols.ssr / (ols.nobs - 2)), rtol=1e-10)
        np.testing.assert_allclose(p["sigma"], math.sqrt(ols.scale), rtol=1e-10)
        np.testing.assert_allclose(p["r2"], ols.rsquared, rtol=1e-10)
        assert p["m"] == ols.nobs == 240
        # prediction-error sd = statsmodels' standard error of a new observation
        x0 = spy.loc[EVENT]
        pred = ols.get_prediction(np.array([[1.0, x0]]))
        se_obs = math.sqrt(pred.se_mean[0] ** 2 + ols.scale)
        np.testing.assert_allclose(res_real.ar.loc[0, f] / res_real.sar.loc[0, f], se_obs, rtol=1e-10)


@pytest.mark.parametrize("model", ["constant_mean", "market_adjusted", "factor"])
def test_other_models_equal_statsmodels(real, model):
    r, spy = real
    pos = r.index.get_loc(EVENT)
    if model == "factor":
        xlb = load_returns(["XLB"], offline=True)["XLB"]
        market = pd.concat([spy, xlb], axis=1)
    else:
        market = spy
    res = event_study(r[PRODUCERS], market, EVENT, model=model)
    for f in PRODUCERS:
        d = pd.concat([r[f], market], axis=1).iloc[pos - 250 : pos - 10].dropna()
        y = d[f].to_numpy()
        if model == "constant_mean":
            ols = sm.OLS(y, np.ones(len(y))).fit()
            np.testing.assert_allclose(res.params.loc[f, "alpha"], ols.params[0], rtol=1e-10)
            np.testing.assert_allclose(res.params.loc[f, "sigma"], math.sqrt(ols.scale), rtol=1e-10)
        elif model == "market_adjusted":
            e = y - d["SPY"].to_numpy()
            np.testing.assert_allclose(res.params.loc[f, "sigma"], math.sqrt((e**2).sum() / len(e)), rtol=1e-10)
            np.testing.assert_allclose(res.ar.loc[0, f], r.loc[EVENT, f] - spy.loc[EVENT], rtol=1e-12)
        else:
            ols = sm.OLS(y, sm.add_constant(d[["SPY", "XLB"]].to_numpy())).fit()
            np.testing.assert_allclose(res.params.loc[f, ["alpha", "beta_SPY", "beta_XLB"]].to_numpy(float),
                                       ols.params, rtol=1e-9, atol=1e-13)
            np.testing.assert_allclose(res.params.loc[f, "r2"], ols.rsquared, rtol=1e-10)
            np.testing.assert_allclose(res.params.loc[f, "sigma"], math.sqrt(ols.scale), rtol=1e-10)


# --------------------------------------------------------------------------- loop reference
def test_every_statistic_equals_loop_reference_real(real, res_real):
    r, spy = real
    ref = reference(r[PRODUCERS + ["CF"]], spy, EVENT)
    assert_matches_reference(res_real, ref)


@pytest.mark.parametrize("scar", ["exact", "sum"])
@pytest.mark.parametrize("model", ["market", "constant_mean", "market_adjusted", "factor"])
def test_every_statistic_equals_loop_reference_synthetic_with_nans(model, scar):
    ret, mkt = synthetic_panel()
    market = mkt
    if model == "factor":
        rng = np.random.default_rng(11)
        market = pd.DataFrame({"mkt": mkt, "f2": rng.normal(0, 0.005, len(mkt))}, index=mkt.index)
    kw = dict(estimation_window=(-200, -11), event_windows=((-1, 1), (0, 0), (0, 1), (0, 5), (-5, 5)),
              model=model, min_estimation_obs=150)
    res = event_study(ret, market, ret.index[300], scar=scar, **kw)
    ref = reference(ret, market, ret.index[300], scar=scar, **kw)
    assert res.scar == scar
    # N per day counts the firms with an AR that day (the missing day-0 return of syn2 shows)
    expected = [sum(math.isfinite(ref["ARS"][f][d]) for f in ref["firms"]) for d in range(-5, 6)]
    assert res.n_per_day.tolist() == expected and expected[5] < len(res.firms)
    complete = sum(all(math.isfinite(ref["ARS"][f][d]) for d in range(0, 6)) for f in ref["firms"])
    assert res.tests.set_index(["window", "test"]).loc[("(0,5)", "bmp"), "n"] == complete < expected[5]
    assert_matches_reference(res, ref)


def test_wilcoxon_matches_scipy_and_large_n_path():
    rng = np.random.default_rng(8)
    idx = pd.bdate_range("2020-01-01", periods=300, name="date")
    mkt = pd.Series(rng.normal(0, 0.01, 300), index=idx)
    for N in (7, 60):  # exact and normal-approximation branches
        ret = pd.DataFrame(rng.normal(0, 0.02, (300, N)) + 0.8 * mkt.to_numpy()[:, None], index=idx,
                           columns=[f"s{i}" for i in range(N)])
        ret.iloc[280, : N // 2] += 0.02  # SYNTHETIC shock
        res = event_study(ret, mkt, idx[280])
        for lab in res.windows:
            car = res.car.loc[lab].to_numpy()
            sp = stats.wilcoxon(car, method="exact" if N <= 50 else "approx")
            w = res.tests.set_index(["window", "test"]).loc[(lab, "wilcoxon")]
            ranks = stats.rankdata(np.abs(car))
            assert w["statistic"] == pytest.approx(ranks[car > 0].sum(), rel=1e-12)
            np.testing.assert_allclose(w["p_value"], sp.pvalue, rtol=1e-10)


def test_pairwise_correlation_matches_pandas(real, res_real):
    """r-bar of the KP adjustment = the mean off-diagonal of pandas' pairwise-complete corr."""
    c = res_real.ar_estimation.corr().to_numpy()
    n = c.shape[0]
    rbar = (c.sum() - np.trace(c)) / (n * (n - 1))
    np.testing.assert_allclose(res_real.mean_residual_correlation["(0,0)"], rbar, **TOL)


# --------------------------------------------------------------------------- real case
def test_real_case_alignment_and_event_day_returns(real):
    assert align_event("2025-12-13") == EVENT
    r, _ = real
    assert r.loc[EVENT, "NTR"] == pytest.approx(61.85 / 62.84 - 1, abs=1e-15)
    assert r.loc[EVENT, "MOS"] == pytest.approx(24.86 / 26.21 - 1, abs=1e-15)
    assert r.loc[EVENT, "ICL"] == pytest.approx(4.98 / 5.07 - 1, abs=1e-15)


def test_real_case_ars_are_returns_minus_statsmodels_fit(real, res_real):
    r, spy = real
    pos = r.index.get_loc(EVENT)
    for f in PRODUCERS:
        d = pd.concat([r[f], spy], axis=1).iloc[pos - 250 : pos - 10].dropna()
        ols = sm.OLS(d[f].to_numpy(), sm.add_constant(d["SPY"].to_numpy())).fit()
        for day in range(-5, 6):
            t = r.index[pos + day]
            normal = ols.predict(np.array([[1.0, spy.loc[t]]]))[0]
            np.testing.assert_allclose(res_real.ar.loc[day, f], r.loc[t, f] - normal, rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(res_real.normal_returns.loc[day, f], normal, rtol=1e-10)
    assert res_real.ar.loc[0, "NTR"] == pytest.approx(61.85 / 62.84 - 1 - res_real.normal_returns.loc[0, "NTR"])
    assert (res_real.dates.loc[0]) == EVENT


def test_real_case_producers_minus_nitrogen(real):
    r, spy = real
    res = event_study(r, spy, EVENT)
    assert res.params.loc["LXU", "m"] == 240 and "LXU" in res.firms
    cg = compare_groups(res, PRODUCERS, NITROGEN)
    tab = cg.to_frame().set_index("window")
    assert list(cg.to_frame().columns) == ["window", "caar_treated", "caar_control", "diff", "t_crude_dependence",
                                           "p_crude_dependence", "p_placebo", "n_treated", "n_control"]
    prod = event_study(r[PRODUCERS], spy, EVENT)
    for lab in prod.windows:
        np.testing.assert_allclose(tab.loc[lab, "caar_treated"], prod.caar[lab], **TOL)
        np.testing.assert_allclose(tab.loc[lab, "diff"], tab.loc[lab, "caar_treated"] - tab.loc[lab, "caar_control"],
                                   **TOL)
    # by hand: the long-short AR series
    ls_e = res.ar_estimation[PRODUCERS].mean(axis=1) - res.ar_estimation[NITROGEN].mean(axis=1)
    ls = res.ar[PRODUCERS].mean(axis=1) - res.ar[NITROGEN].mean(axis=1)
    sd, m = ls_e.std(ddof=1), ls_e.notna().sum()
    d = ls.loc[0:1].sum()
    t = d / (sd * math.sqrt(2))
    np.testing.assert_allclose(tab.loc["(0,1)", "t_crude_dependence"], t, **TOL)
    np.testing.assert_allclose(tab.loc["(0,1)", "p_crude_dependence"], 2 * stats.t.sf(abs(t), m - 1), **TOL)
    pseudo = [ls_e.iloc[i : i + 2].sum() for i in range(len(ls_e) - 1)]
    assert tab.loc["(0,1)", "p_placebo"] == (1 + sum(abs(s) >= abs(d) for s in pseudo)) / (1 + len(pseudo))
    assert tab.loc["(0,0)", "n_treated"] == 4 and tab.loc["(0,0)", "n_control"] == 2
    assert "treated" in cg.summary()


# --------------------------------------------------------------------------- the results object
def test_result_properties_and_shapes(real, res_real):
    res = res_real
    assert list(res.tests.columns) == ["window", "test", "statistic", "p_value", "n"]
    assert list(res.daily_tests.columns) == ["window", "test", "statistic", "p_value", "n", "day"]
    assert len(res.tests) == 5 * len(TESTS) and set(res.tests.test) == set(TESTS)
    assert list(res.ar.index) == list(range(-5, 6)) and list(res.ar.columns) == PRODUCERS + ["CF"]
    assert list(res.car.index) == ["(-1,1)", "(0,0)", "(0,1)", "(0,5)", "(-5,5)"]
    assert list(res.params.columns) == ["alpha", "beta", "sigma", "m", "r2"]
    assert res.n_per_day.eq(5).all()
    # AAR and CAR against the loop reference's ARs (statsmodels fits), not the engine's own frames
    ref = reference(real[0][PRODUCERS + ["CF"]], real[1], EVENT)
    for d in range(-5, 6):
        np.testing.assert_allclose(res.aar.loc[d], sum(ref["ARS"][f][d] for f in ref["firms"]) / 5, **TOL)
    np.testing.assert_allclose(res.car.loc["(0,1)"].to_numpy(),
                               [ref["ARS"][f][0] + ref["ARS"][f][1] for f in ref["firms"]], **TOL)
    np.testing.assert_allclose(res.caar_path.loc[5], ref["caar"]["(-5,5)"], **TOL)
    assert res.path_firms == PRODUCERS + ["CF"] and res.excluded.empty
    assert res.firm_sets["(0,1)"] == PRODUCERS + ["CF"]
    # daily row for day 0 == window (0,0), except Corrado (the daily rows rank over the whole daily span)
    d0 = res.daily_tests[res.daily_tests.day == 0].drop(columns="day").reset_index(drop=True)
    w0 = res.tests[res.tests.window == "(0,0)"].reset_index(drop=True)
    same = d0["test"] != "corrado_rank"
    pd.testing.assert_frame_equal(d0[same], w0[same])
    assert d0.loc[~same, "statistic"].iloc[0] != w0.loc[~same, "statistic"].iloc[0]
    # BHAR by hand
    r = (res.ar + res.normal_returns).loc[0:1]
    bh = (1 + r).prod() - (1 + res.normal_returns.loc[0:1]).prod()
    np.testing.assert_allclose(res.bhar.loc["(0,1)"], bh, **TOL)
    # per-firm t: exact CAR variance (MacKinlay eq. 15) by hand for one firm
    ft = res.firm_tests.set_index(["window", "firm"])
    assert ft.loc[("(0,0)", "NTR"), "std_error"] == pytest.approx(res.ar.loc[0, "NTR"] / res.sar.loc[0, "NTR"], rel=1e-12)
    for name in ("ar", "car", "tests", "params", "caar"):
        with pytest.raises(AttributeError):
            setattr(res, name, None)
    assert res.tests is res.tests  # cached


def test_firm_tests_match_statsmodels_prediction_covariance(real, res_real):
    r, spy = real
    pos = r.index.get_loc(EVENT)
    d = pd.concat([r["MOS"], spy], axis=1).iloc[pos - 250 : pos - 10].dropna()
    ols = sm.OLS(d["MOS"].to_numpy(), sm.add_constant(d["SPY"].to_numpy())).fit()
    Xw = sm.add_constant(spy.iloc[pos - 1 : pos + 2].to_numpy())
    V = ols.scale * (np.eye(3) + Xw @ np.linalg.inv(ols.model.exog.T @ ols.model.exog) @ Xw.T)
    se = math.sqrt(V.sum())
    row = res_real.firm_tests.set_index(["window", "firm"]).loc[("(-1,1)", "MOS")]
    np.testing.assert_allclose(row["std_error"], se, rtol=1e-10)
    np.testing.assert_allclose(row["p_value"], 2 * stats.t.sf(abs(row["car"] / se), 238), rtol=1e-10)


def test_json_round_trip(res_real, tmp_path):
    text = res_real.to_json()
    json.loads(text)  # strict JSON (no NaN tokens)
    back = EventStudyResult.from_json(text)
    for name in ("ar", "car", "params", "tests", "daily_tests", "bhar", "firm_tests", "sar"):
        pd.testing.assert_frame_equal(getattr(back, name), getattr(res_real, name), check_exact=True)
    pd.testing.assert_series_equal(back.caar, res_real.caar, check_exact=True)
    assert back.event_date == res_real.event_date and back.model == "market"
    p = tmp_path / "res.json"
    res_real.to_json(p)
    pd.testing.assert_frame_equal(from_json(p).tests, res_real.tests, check_exact=True)
    with pytest.raises(EventStudyError, match="schema"):
        from_json('{"schema": "other"}')


def test_summary_html_frame_plot(res_real):
    """Every output format shows the same numbers as the tables."""
    s = res_real.summary()
    lines = s.splitlines()
    assert lines[0] == "Event study: day 0 = 2025-12-15, model = market, estimation window (-250, -11)"
    assert lines[1] == "Firms (5): NTR, MOS, IPI, ICL, CF"
    t = res_real.tests.set_index(["window", "test"])
    for (w, test), row in t.iterrows():  # every test row printed with its own statistic, p and n
        want = f"{test:<20}{w:>9}{row.statistic:>12.4f}{row.p_value:>10.4f}{int(row.n):>5}"
        assert want in lines, want
    caar_line = [ln for ln in lines if ln.startswith("CAAR  ")][0]
    assert caar_line.split() == ["CAAR"] + [f"{v:.4%}" for v in res_real.caar]
    html = res_real._repr_html_()
    p01 = t.loc[("(0,1)", "placebo"), "p_value"]
    assert f"{t.loc[('(0,1)', 'placebo'), 'statistic']:.3f} ({p01:.3f})" in html
    f = res_real.to_frame().set_index(["window", "test"])
    np.testing.assert_array_equal(f["caar"].to_numpy(), [res_real.caar[w] for w, _ in f.index])
    assert (f["event_date"] == EVENT).all() and (f["model"] == "market").all()
    pv = res_real.pivot("p_value")
    assert pv.loc["(0,1)", "placebo"] == p01 and list(pv.columns) == list(TESTS)
    import matplotlib

    matplotlib.use("Agg")
    fig = res_real.plot()
    (line,) = [ln for ln in fig.axes[0].lines if ln.get_label().startswith("CAAR (")]
    np.testing.assert_allclose(line.get_ydata(), res_real.caar_path.to_numpy() * 100, rtol=1e-12)


def test_no_shared_state_between_studies(real):
    r, spy = real
    a = event_study(r[["NTR"]], spy, EVENT)
    b = event_study(r[["MOS", "ICL"]], spy, "2025-06-16")
    assert a.firms == ["NTR"] and b.firms == ["MOS", "ICL"]
    assert a.event_date == EVENT and b.event_date == pd.Timestamp("2025-06-16")
    assert not set(vars(EventStudyResult)) & {"_returns", "_cache", "_fit"}


# --------------------------------------------------------------------------- bad inputs
@pytest.fixture()
def syn():
    return synthetic_panel(nan_frac=0.0)


def test_event_date_not_a_session_suggests_nearest(syn):
    ret, mkt = syn
    with pytest.raises(EventStudyError, match=r"2021-12-11 is not a session.*nearest session is 2021-12-10"):
        event_study(ret, mkt, "2021-12-11")
    with pytest.raises(EventStudyError, match=r"^malformed event_date '2021-13-01': use YYYY-MM-DD$"):
        event_study(ret, mkt, "2021-13-01")
    for missing in (None, "", "  "):
        with pytest.raises(EventStudyError, match=r"^event_date is required"):
            event_study(ret, mkt, missing)


def test_duplicate_dates(syn):
    ret, mkt = syn
    dup = pd.concat([ret, ret.iloc[[5]]]).sort_index()
    with pytest.raises(EventStudyError, match=r"duplicate date 2021-01-11"):
        event_study(dup, mkt, ret.index[300])


def test_estimation_window_overlapping_event_windows(syn):
    ret, mkt = syn
    with pytest.raises(EventStudyError, match=r"overlaps the event windows"):
        event_study(ret, mkt, ret.index[300], estimation_window=(-200, -3))


def test_windows_past_the_data(syn):
    ret, mkt = syn
    with pytest.raises(EventStudyError, match=r"runs? past|hold .* sessions before and 4 after"):
        event_study(ret, mkt, ret.index[-5])
    with pytest.raises(EventStudyError, match=r"100 sessions before"):
        event_study(ret, mkt, ret.index[100])


def test_constant_returns_and_zero_variance_market(syn):
    ret, mkt = syn
    bad = ret.copy()
    bad["syn3"] = 0.0
    with pytest.raises(EventStudyError, match=r"constant returns .*syn3"):
        event_study(bad, mkt, ret.index[300])
    flat = pd.Series(0.001, index=mkt.index)
    with pytest.raises(EventStudyError, match=r"market .* constant|zero variance"):
        event_study(ret, flat, ret.index[300])


def test_too_few_observations_excluded_with_warning(syn):
    ret, mkt = syn
    short = ret.copy()
    short.iloc[:250, 1] = np.nan  # syn1 has ~50 estimation obs
    with pytest.warns(EventStudyWarning, match=r"syn1: \d+ valid estimation returns < min_estimation_obs=120"):
        res = event_study(short, mkt, ret.index[300])
    assert "syn1" not in res.firms and "syn1" in res.excluded_from_estimation
    ex = res.excluded[res.excluded.firm == "syn1"]
    assert list(ex["window"]) == res.windows and set(ex["code"]) == {"estimation"}
    assert ex["reason"].iloc[0] == ("40 valid estimation returns < min_estimation_obs=120; first valid estimation "
                                    "return 2021-12-20")
    assert res.excluded.set_index(["firm", "window"]).loc[("syn4", "(0,5)"), "reason"] == "no return on day +3 (2022-03-03)"
    assert "syn1" not in res.ar.columns and len(res.params) == ret.shape[1] - 1
    all_short = ret.copy()
    all_short.iloc[:250] = np.nan
    with pytest.raises(EventStudyError, match="no firm has"), warnings.catch_warnings():
        warnings.simplefilter("ignore", EventStudyWarning)
        event_study(all_short, mkt, ret.index[300])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(model="capm"), "unknown model 'capm'"),
        (dict(event_windows=((2, 1),)), "reversed"),
        (dict(min_estimation_obs=3), "too small"),
        (dict(estimation_window=(-100, -11), min_estimation_obs=120), "fewer than min_estimation_obs"),
    ],
)
def test_bad_arguments(syn, kwargs, match):
    ret, mkt = syn
    with pytest.raises(EventStudyError, match=match):
        event_study(ret, mkt, ret.index[300], **kwargs)


def test_bad_types_and_groups(syn):
    ret, mkt = syn
    with pytest.raises(EventStudyError, match="DatetimeIndex"):
        event_study(ret.reset_index(drop=True), mkt, 300)
    with pytest.raises(EventStudyError, match="needs a market"):
        event_study(ret, None, ret.index[300])
    with pytest.raises(EventStudyError, match="sort_index"):
        event_study(ret.iloc[::-1], mkt, ret.index[300])
    res = event_study(ret, mkt, ret.index[300])
    with pytest.raises(EventStudyError, match="not in the event study"):
        compare_groups(res, ["syn0", "XXX"], ["syn1"])
    with pytest.raises(EventStudyError, match="both groups"):
        compare_groups(res, ["syn0"], ["syn0", "syn1"])


def test_blocked_fit_and_corrado_equal_one_block():
    """The fit and Corrado's signs run in blocks of firms (for cache); the blocks change no number."""
    from analysis.eventstudy.battery import _corrado
    from analysis.eventstudy.models import _fit

    ret, mkt = synthetic_panel(N=11)
    Y, X = ret.to_numpy()[None], mkt.to_numpy()[None, :, None]
    args = (Y[:, 50:290], X[:, 50:290], Y[:, 295:306], X[:, 295:306], "market")
    one, blocked = _fit(*args, block=10**6), _fit(*args, block=3)
    for key, v in one.items():
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(blocked[key], v, err_msg=key)
    rows = [(4, 6), (5, 5), (0, 10)]
    P = np.isfinite(one["ARS"][:, 4:7]).all(axis=1)[..., None].repeat(3, axis=2).astype(float)
    z1, _ = _corrado(one["ARE"], one["ARS"], rows, P, block=10**6)
    z3, _ = _corrado(one["ARE"], one["ARS"], rows, P, block=2)
    np.testing.assert_array_equal(z1, z3)
