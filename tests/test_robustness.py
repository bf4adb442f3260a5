"""The specification curve (analysis.robustness) against direct engine calls, the frame, and simulation.

Rows are checked against ``event_study`` + ``compare_groups`` called directly with the
row's own specification (one event window, only the row's firms) to 1e-12. The null
test is checked for calibration on SYNTHETIC returns with no event effect.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.errors import InsufficientDataError, ParameterError
from analysis.eventstudy import EventStudyWarning, compare_groups, event_study
from analysis.robustness import (
    COLUMNS,
    DEFAULT_EVENT_WINDOWS,
    curve_from_returns,
    curve_sentence,
    specification_curve,
)

TOL = 1e-12
NUMS = ["caar_treated", "caar_control", "diff", "t_crude_dependence", "p_crude_dependence", "p_placebo"]


@pytest.fixture(scope="module")
def isolated(tmp_path_factory):
    """Module-scoped twin of conftest's isolation: a private empty cache, no env case, offline."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POTASH_IMPACT_CACHE", str(tmp_path_factory.mktemp("robust-cache")))
        mp.delenv("POTASH_IMPACT_DATA", raising=False)
        mp.setenv("POTASH_IMPACT_OFFLINE", "1")
        yield mp


@pytest.fixture(scope="module")
def dec2025(isolated):
    """The default grid on the bundled December 2025 event."""
    return specification_curve(offline=True)


@pytest.fixture(scope="module")
def early2021(isolated):
    """A 2021 event: 500 sessions of history do not exist, and LXU has no data yet."""
    return specification_curve("eu-sectoral-agreed-2021", offline=True, estimation_windows=((-250, -11), (-500, -11)),
                               event_windows=((0, 1),), models=("market", "constant_mean"))


def _min_obs(est_label):
    a, b = (int(v) for v in est_label.strip("()").split(","))
    return min(120, (b - a + 1) // 2)


def _direct(sc, row, requested_treated=None, requested_control=None):
    """event_study + compare_groups with exactly this row's specification."""
    r = sc._inputs.returns
    treated = list(requested_treated or row["treated"])
    control = list(requested_control or row["control"])
    est = tuple(int(v) for v in row["estimation_window"].strip("()").split(","))
    win = tuple(int(v) for v in row["event_window"].strip("()").split(","))
    model, bench = row["model"], row["benchmark"]
    market = None if model == "constant_mean" else (r[bench.split("+")] if model == "factor" else r[bench])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EventStudyWarning)
        res = event_study(r[treated + control], market, sc.session, est, [win], model, _min_obs(row["estimation_window"]))
        return compare_groups(res, treated, control)


def _assert_row_equals(row, cg):
    t = cg.to_frame().iloc[0]
    for c in NUMS:
        assert abs(float(row[c]) - float(t[c])) <= TOL, (c, row[c], t[c])
    assert (int(row["n_treated"]), int(row["n_control"])) == (int(t["n_treated"]), int(t["n_control"]))
    assert list(row["treated"]) == cg.treated and list(row["control"]) == cg.control


# --------------------------------------------------------------------------- rows vs direct calls
def test_sample_of_rows_equals_direct_event_study_and_compare_groups(dec2025):
    f = dec2025.to_frame()
    rng = np.random.default_rng(11)
    sample = list(rng.choice(len(f), size=14, replace=False))
    loo = f.index[f["n_treated"] == 3]
    sample += [int(loo[0]), int(loo[-1])]  # leave-one-out rows at both ends of the grid
    for model in ("factor", "constant_mean", "market_adjusted"):
        sample.append(int(f.index[f["model"] == model][-1]))
    for i in sample:
        row = f.loc[i]
        assert row["status"] == "ok"
        _assert_row_equals(row, _direct(dec2025, row))


def test_insufficient_and_excluded_rows_2021(early2021):
    f = early2021.to_frame()
    bad = f[f["estimation_window"] == "(-500,-11)"]
    assert len(bad) and (bad["status"] == "insufficient data").all()
    assert bad["reason"].str.len().gt(0).all() and bad[NUMS].isna().all().all()
    assert (bad["n_treated"] == 0).all()
    row = bad.iloc[0]
    with pytest.raises(InsufficientDataError):
        _direct(early2021, row)
    # the rows that ran use CF alone as control, and say why LXU is not there
    good = f[f["status"] == "ok"]
    assert len(good) == 3 * 5  # market on SPY and on XLB, constant mean; (-250,-11); five treated sets
    assert all(c == ("CF",) for c in good["control"]) and good["reason"].str.startswith("LXU excluded:").all()
    for _, row in good.iloc[[0, 3, 7]].iterrows():
        drop = [x for x in early2021.treated if x not in row["treated"]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EventStudyWarning)
            cg = _direct(early2021, row, [x for x in early2021.treated if x not in drop], early2021.control)
        _assert_row_equals(row, cg)


def test_missing_event_day_follows_one_firm_set_rule(isolated):
    """A firm without a return on day +3 leaves only the (0,5) set, as in compare_groups (one firm-set rule)."""
    sc0 = specification_curve(offline=True, models=("market",), benchmarks=("SPY",),
                              estimation_windows=((-250, -11),), leave_one_out=False)
    r = sc0._inputs.returns.copy()
    pos = r.index.get_loc(sc0.session)
    r.iloc[pos + 3, r.columns.get_loc("MOS")] = np.nan
    sc = curve_from_returns(r, sc0.session, sc0.treated, sc0.control, market="SPY", models=("market",),
                            benchmarks=("SPY",), estimation_windows=((-250, -11),), leave_one_out=False)
    f = sc.to_frame().set_index("event_window")
    assert f.loc["(0,5)", "treated"] == ("NTR", "IPI", "ICL") and f.loc["(0,5)", "n_treated"] == 3
    assert f.loc["(0,5)", "reason"].startswith("MOS excluded: ") and "2025-12-18" in f.loc["(0,5)", "reason"]
    assert f.loc["(0,1)", "treated"] == ("NTR", "MOS", "IPI", "ICL") and f.loc["(0,1)", "reason"] == ""
    for w in ("(0,1)", "(0,5)"):
        row = f.loc[w].copy()
        row["event_window"] = w
        cg = _direct(sc, row, sc.treated, sc.control)
        t = cg.to_frame().iloc[0]
        for c in NUMS:
            assert abs(float(row[c]) - float(t[c])) <= TOL, (w, c)
        assert (row["n_treated"], row["n_control"]) == (t["n_treated"], t["n_control"])


def test_baseline_is_the_notebook_default_study(dec2025):
    """The baseline row equals the event_study notebook's study (5 windows, all firms) and the README numbers."""
    r = dec2025._inputs.returns
    firms = dec2025.treated + dec2025.control
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EventStudyWarning)
        res = event_study(r[firms], r["SPY"], dec2025.session, (-250, -11), ((-1, 1), (0, 0), (0, 1), (0, 5), (-5, 5)),
                          "market", 120)
    cg = compare_groups(res, dec2025.treated, dec2025.control).to_frame().set_index("window").loc["(0,1)"]
    b = dec2025.baseline
    assert (b["model"], b["benchmark"], b["estimation_window"], b["event_window"]) == \
        ("market", "SPY", "(-250,-11)", "(0,1)")
    for c in NUMS:
        assert abs(b[c] - cg[c]) <= TOL
    assert round(b["diff"], 4) == -0.0297 and round(b["p_crude_dependence"], 2) == 0.22
    assert round(b["p_placebo"], 2) == 0.21


# --------------------------------------------------------------------------- the frame and its summary
def test_frame_columns_grid_and_duplicates(dec2025):
    f = dec2025.to_frame()
    assert tuple(f.columns) == COLUMNS
    # 4 treated sets + the full set; market and market_adjusted twice (SPY, XLB), the others once
    counts = f["model"].value_counts().to_dict()
    assert counts == {"market": 120, "market_adjusted": 120, "constant_mean": 60, "factor": 60}
    assert set(f.loc[f["model"] == "constant_mean", "benchmark"]) == {"none"}
    assert set(f.loc[f["model"] == "factor", "benchmark"]) == {"SPY+XLB"}
    key = ["model", "benchmark", "estimation_window", "event_window", "treated", "control"]
    assert not f.duplicated(key).any()
    assert set(f["event_window"]) == {f"({a},{b})" for a, b in DEFAULT_EVENT_WINDOWS}


def test_summary_counts_match_the_frame(dec2025, early2021):
    for sc in (dec2025, early2021):
        f, s = sc.to_frame(), sc.stats
        ok = f[f["status"] == "ok"]
        assert s["n_specifications"] == len(f) and s["n_ok"] == len(ok)
        assert s["n_insufficient"] == int((f["status"] == "insufficient data").sum())
        d = np.sort(ok["diff"].to_numpy())
        n = len(d)
        assert s["median_diff"] == pytest.approx((d[(n - 1) // 2] + d[n // 2]) / 2, abs=1e-15)
        q = lambda p: d[int(math.floor(p * (n - 1)))] + (p * (n - 1) % 1) * (d[min(int(math.floor(p * (n - 1))) + 1, n - 1)] - d[int(math.floor(p * (n - 1)))])  # noqa: E731
        assert s["diff_q25"] == pytest.approx(q(0.25), abs=1e-15) and s["diff_q75"] == pytest.approx(q(0.75), abs=1e-15)
        assert s["share_expected_sign"] == sum(1 for v in d if np.sign(v) == sc.expected_sign) / n
        assert s["share_crude_significant"] == sum(ok["p_crude_dependence"] < 0.05) / n
        assert s["share_placebo_significant"] == sum(ok["p_placebo"] < 0.05) / n
    assert dec2025.expected_sign == -1 and early2021.expected_sign == 1
    s = early2021.stats
    ok = early2021.to_frame().query("status == 'ok'")
    assert s["share_expected_sign"] == (ok["diff"] > 0).mean()
    assert s["share_significant"] == ((ok["p_placebo"] < 0.05) & (ok["diff"] > 0)).mean()
    text = dec2025.summary()
    assert "360 (360 ran, 0 insufficient data)" in text and f"{dec2025.stats['median_diff']:+.3%}" in text


def test_influence_against_the_frame(dec2025):
    f = dec2025.to_frame().query("status == 'ok'")
    inf = dec2025.influence()
    full = f[f["treated"].map(len) == 4]["diff"].median()
    assert list(inf["firm"]) != [] and set(inf["firm"]) == set(dec2025.treated)
    for _, r in inf.iterrows():
        sub = f[f["treated"].map(lambda t, firm=r["firm"]: len(t) == 3 and firm not in t)]["diff"]
        assert r["n_specifications"] == len(sub) == 72
        assert r["median_diff_without"] == sub.median() and r["median_diff_with"] == full
        assert r["shift"] == pytest.approx(sub.median() - full, abs=1e-15)
    assert list(inf["shift"].abs()) == sorted(inf["shift"].abs(), reverse=True)


def test_plot_points_are_the_sorted_estimates(dec2025):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = dec2025.plot()
    try:
        top, bottom = fig.axes[:2]
        line = next(ln for ln in top.get_lines() if ln.get_gid() == "estimates")
        ok = dec2025.to_frame().query("status == 'ok'")
        np.testing.assert_array_equal(line.get_ydata(), np.sort(ok["diff"].to_numpy(), kind="stable"))
        np.testing.assert_array_equal(line.get_xdata(), np.arange(len(ok)))
        dots = sum(len(c.get_offsets()) for c in bottom.collections)
        assert dots == 5 * len(ok)  # one dot per choice (model, benchmark, windows, treated set)
        assert any(ln.get_label() == "baseline" for ln in top.get_lines())
    finally:
        plt.close(fig)


# --------------------------------------------------------------------------- bad input
def test_bad_input_is_refused(dec2025, isolated):
    r = dec2025._inputs.returns
    kw = dict(market="SPY", estimation_windows=((-250, -11),), event_windows=((0, 1),), models=("market",))
    with pytest.raises(ParameterError, match="unknown model 'ols'"):
        curve_from_returns(r, dec2025.session, ["NTR"], ["CF"], **{**kw, "models": ("ols",)})
    with pytest.raises(ParameterError, match="sector distinct from the market"):
        curve_from_returns(r, dec2025.session, ["NTR"], ["CF"], **{**kw, "models": ("factor",)})
    with pytest.raises(ParameterError, match="one group"):
        curve_from_returns(r, dec2025.session, ["NTR", "CF"], ["CF"], **kw)
    with pytest.raises(ParameterError, match="must end before"):
        curve_from_returns(r, dec2025.session, ["NTR"], ["CF"], **{**kw, "estimation_windows": ((-20, 0),)})
    with pytest.raises(ParameterError, match="not a specification of the grid"):
        curve_from_returns(r, dec2025.session, ["NTR"], ["CF"], baseline={"model": "market_adjusted"}, **kw)
    assert curve_from_returns(r, dec2025.session, ["NTR"], ["CF"], **{**kw, "event_windows": ((0, 0),)}).baseline is None
    with pytest.raises(ParameterError, match="no column"):
        curve_from_returns(r, dec2025.session, ["NTR", "XYZ"], ["CF"], **kw)
    with pytest.raises(ParameterError, match="not a session"):
        curve_from_returns(r, "2025-12-13", ["NTR"], ["CF"], **kw)
    with pytest.raises(ParameterError, match="treated"):
        specification_curve(treated="no such group", offline=True)
    sc = curve_from_returns(r, dec2025.session, ["NTR", "MOS"], ["CF"], leave_one_out=False, **kw)
    with pytest.raises(ParameterError, match="leave_one_out=True"):
        sc.influence()
    with pytest.raises(InsufficientDataError, match="no session without news"):
        specification_curve("eu-sectoral-agreed-2021", offline=True, models=("market",),
                            estimation_windows=((-250, -11),), event_windows=((0, 1),)).null_test(10)


# --------------------------------------------------------------------------- the joint null test
def test_null_test_on_the_bundled_event(dec2025):
    nt = dec2025.null_test(12, seed=3)
    s = nt.stats
    assert s["n_placebo"] == 12 and s["median_diff"] == dec2025.stats["median_diff"]
    null = nt.null
    # every pseudo-event's event span ends before the earliest estimation window of the event
    pos = {d: i for i, d in enumerate(dec2025._inputs.returns.index)}
    p0 = pos[dec2025.session]
    assert all(pos[d] + 5 < p0 - 500 for d in null["session"]) and all(pos[d] >= 500 for d in null["session"])
    n = len(null)
    assert nt.p_median == (1 + (null["median_diff"].abs() >= abs(s["median_diff"])).sum()) / (1 + n)
    assert nt.p_share == (1 + (null["share_significant"] >= s["share_significant"]).sum()) / (1 + n)
    assert any(note.startswith("LXU: not used at 12 of 12") for note in nt.notes)
    # a pseudo-event's median is the median of that session's own grid, computed directly
    first = null.iloc[0]
    sc1 = curve_from_returns(dec2025._inputs.returns, first["session"], dec2025.treated, dec2025.control,
                             market="SPY", sector="XLB")
    assert first["median_diff"] == pytest.approx(sc1.stats["median_diff"], abs=1e-14)
    assert first["n_specifications"] == sc1.stats["n_ok"]


def _synthetic(seed, T=240, day0=230):
    """SYNTHETIC returns with no event effect: a market factor, 3 treated and 2 control firms."""
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2010-01-04", periods=T)
    m = rng.normal(0, 0.01, T)
    firms = {f: 0.0002 + rng.uniform(0.5, 1.5) * m + rng.normal(0, 0.02, T) for f in ("T1", "T2", "T3", "C1", "C2")}
    return pd.DataFrame({**firms, "M": m}, index=idx), idx[day0]


def test_null_test_is_calibrated_without_an_event_effect():
    """On SYNTHETIC no-effect data the empirical p-values are about uniform: binomial bounds at 5% and 50%."""
    reps, n_pl = 40, 19
    pm, ps = [], []
    for seed in range(reps):
        r, day0 = _synthetic(seed)
        sc = curve_from_returns(r, day0, ["T1", "T2", "T3"], ["C1", "C2"], market="M", models=("market",),
                                estimation_windows=((-60, -11),), event_windows=((0, 0), (0, 1)),
                                leave_one_out=False, expected_sign=-1)
        nt = sc.null_test(n_pl, seed=seed)
        assert nt.n_placebo == n_pl
        pm.append(nt.p_median)
        ps.append(nt.p_share)
    pm, ps = np.array(pm), np.array(ps)
    # P(p <= 0.05) = 1/20 exactly under exchangeability: 40 draws, P(X >= 7) < 0.004
    assert (pm <= 0.05).sum() <= 6 and (ps <= 0.05).sum() <= 6
    # and not degenerate: P(p_median <= 0.5) = 10/20; P(X <= 10 or X >= 30 | 40, 0.5) < 0.003
    assert 11 <= (pm <= 0.5).sum() <= 29
    assert set(np.round(pm * (n_pl + 1)).astype(int)) <= set(range(1, n_pl + 2))


# --------------------------------------------------------------------------- prose
def _stats(**kw):
    base = {"n_specifications": 10, "n_ok": 8, "n_insufficient": 2, "median_diff": -0.0137, "diff_q25": -0.0255,
            "diff_q75": 0.0059, "expected_sign": -1, "share_expected_sign": 0.71, "share_crude_significant": 0.0,
            "share_placebo_significant": 0.125, "alpha": 0.05}
    return {**base, **kw}


def test_sentence_branches():
    assert curve_sentence(_stats(n_ok=0)) == ("None of the 10 specifications could be estimated: the data are "
                                              "insufficient for all of them.")
    t = curve_sentence(_stats())
    assert t.startswith("Across 8 specifications (2 more lacked the data), the median treated-minus-control "
                        "difference is -1.37% (interquartile range -2.55% to +0.59%).")
    assert "71% of them have the expected sign (down)." in t
    assert "12% are significant at 0.05 by the placebo test and 0% by the crude-dependence t test." in t
    assert "pseudo-event" not in t and "Dropping" not in t
    t = curve_sentence(_stats(n_ok=10, expected_sign=None))
    assert "Across 10 specifications, the median" in t and "no expected sign" in t
    null = {"n_placebo": 200, "p_median": 0.41, "p_share": 1.0}
    assert "by neither is the curve as a whole unusual" in curve_sentence(_stats(), null=null)
    assert "p = 0.410" in curve_sentence(_stats(), null=null)
    assert "by both, the curve as a whole is unusual" in curve_sentence(_stats(), null={**null, "p_median": 0.01,
                                                                                       "p_share": 0.02})
    mixed = curve_sentence(_stats(), null={**null, "p_median": 0.01})
    assert "only the median is unusual at 0.05, so the evidence of the curve as a whole is mixed" in mixed
    assert "only the share is unusual" in curve_sentence(_stats(), null={**null, "p_share": 0.01})
    assert "could not run" in curve_sentence(_stats(), null_missing=True)
    assert "could not run" not in curve_sentence(_stats(), null=null, null_missing=True)
    inf = pd.DataFrame({"firm": ["MOS"], "n_specifications": [72], "median_diff_without": [0.004],
                        "median_diff_with": [-0.0175], "shift": [0.0215], "sign_flips": [True]})
    t = curve_sentence(_stats(), influence=inf)
    assert t.endswith("Dropping MOS moves the median most: over the same specifications, from -1.75% with every treated firm to +0.40% without MOS, reversing its sign.")
    t = curve_sentence(_stats(), influence=inf.assign(median_diff_without=-0.004, sign_flips=False))
    assert t.endswith("Dropping MOS moves the median most: over the same specifications, from -1.75% with every treated firm to -0.40% without MOS.")
    assert "Dropping" not in curve_sentence(_stats(), influence=inf.assign(n_specifications=0))


# --------------------------------------------------------------------------- report helpers
def test_report_grid_puts_the_run_into_the_grid(isolated):
    from analysis.robustness_report import report_grid

    run = {"model": "market_adjusted", "benchmark": "XLB", "estimation_window": [-200, -11], "main_window": [0, 3],
           "min_estimation_obs": 120}
    g = report_grid(run)
    assert g["models"] == ("market", "market_adjusted", "constant_mean", "factor")
    assert g["benchmarks"] == ("SPY", "XLB") and g["estimation_windows"][-1] == (-200, -11)
    assert g["event_windows"][-1] == (0, 3) and g["min_estimation_obs"] is None
    flat = report_grid({**run, "min_estimation_obs": 150})
    assert flat["min_estimation_obs"] == 150 and (-120, -11) not in flat["estimation_windows"]


def test_key_and_tables_read_the_same_numbers(dec2025):
    from analysis.robustness_report import curve_key, specifications_table, summary_table

    nt = dec2025.null_test(3, seed=1)
    key = curve_key(dec2025, nt)
    s = dec2025.stats
    assert key["median_diff"] == s["median_diff"] and key["share_significant"] == s["share_significant"]
    assert (key["p_null_median"], key["p_null_share"], key["n_placebo"]) == (nt.p_median, nt.p_share, 3)
    tab = summary_table(dec2025, nt).set_index("Quantity")["Value"]
    assert tab["Specifications"] == "360 (360 ran, 0 without the data)"
    assert tab["Median difference"] == f"{s['median_diff'] * 100:+.2f}%"
    assert tab["Null test p, median difference"] == f"{nt.p_median:.3f}"
    spec = specifications_table(dec2025.to_frame())
    assert spec.loc[0, "treated"] == "NTR, MOS, IPI, ICL" and spec.loc[0, "control"] == "CF, LXU"
    assert list(dec2025.choices()["Count"]) == [4, 4, 3, 4, 5]
