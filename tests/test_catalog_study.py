"""The catalog-wide study on the real snapshot: coverage, insufficient-data rows, overlaps, signs.

Reference values come from calling the engine directly on the same returns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import catalog_study as cs
from analysis.catalog import load_events
from analysis.data import load_returns
from analysis.eventstudy import compare_groups, event_study

TICKERS = ["NTR", "MOS", "IPI", "ICL", "CF", "LXU", "SPY"]
TREATED, CONTROL = ["NTR", "MOS", "IPI", "ICL"], ["CF", "LXU"]


@pytest.fixture(scope="module")
def returns():
    # the snapshot explicitly: a module fixture runs outside the per-test cache isolation
    return load_returns(TICKERS, offline=True, source="snapshot")


@pytest.fixture(scope="module")
def study(returns):
    return cs.study_catalog(offline=True, returns=returns)


def test_every_catalog_event_has_a_row_per_window(study):
    n = len(load_events())
    t = study.to_frame()
    assert n == 24 and study.n_events == 24
    assert len(t) == 24 * 4 and list(dict.fromkeys(t["window"])) == ["(-1,1)", "(0,0)", "(0,1)", "(0,5)"]
    assert study.settings["event_windows"] == cs.CATALOG_WINDOWS == ((-1, 1), (0, 0), (0, 1), (0, 5))
    one = study.to_frame("(0,1)")
    assert list(one["event_id"]) == list(load_events()["event_id"])
    assert (one["status"] == "ok").all() and study.n_covered == 24
    assert study.insufficient().empty
    # every estimated number is present and finite, every n within the group sizes
    num = ["caar_treated", "caar_control", "diff", "t_crude_dependence", "p_crude_dependence", "p_placebo",
           "se_treated", "se_diff", "ci_low", "ci_high"]
    assert np.isfinite(t[num].to_numpy(dtype=float)).all()
    assert t["n_treated"].between(1, 4).all() and t["n_control"].between(1, 2).all()
    assert ((t["p_placebo"] > 0) & (t["p_placebo"] <= 1)).all()
    np.testing.assert_allclose(t["diff"], t["caar_treated"] - t["caar_control"], atol=1e-15)
    assert (t["ci_low"] < t["diff"]).all() and (t["diff"] < t["ci_high"]).all()


def test_default_run_loads_data_itself():
    s = cs.study_catalog(offline=True)
    assert s.settings["treated"] == TREATED and s.settings["control"] == CONTROL and s.settings["market"] == "SPY"
    assert s.n_covered == 24


def test_december_2025_equals_the_engine(study, returns):
    res = event_study(returns[TREATED + CONTROL], returns["SPY"], "2025-12-15", estimation_window=(-250, -11),
                      event_windows=((-1, 1), (0, 0), (0, 1), (0, 5)), model="market", min_estimation_obs=120)
    ref = compare_groups(res, TREATED, CONTROL).to_frame().set_index("window")
    t = study.to_frame().set_index(["event_id", "window"])
    for eid in ("us-potash-easing-2025", "ofac-gl13-2025"):  # same session, same numbers, two rows
        for w in ref.index:
            row = t.loc[(eid, w)]
            for c in ("caar_treated", "caar_control", "diff", "t_crude_dependence", "p_crude_dependence", "p_placebo"):
                assert row[c] == pytest.approx(ref.loc[w, c], abs=1e-14), (eid, w, c)
            assert row["n_treated"] == 4 and row["n_control"] == 2
            assert row["session"] == pd.Timestamp("2025-12-15")
    r = t.loc[("us-potash-easing-2025", "(0,1)")]
    # the CI is diff +- t(m-1) * se, with se = diff / t (Brown-Warner crude dependence)
    assert r["se_diff"] == pytest.approx(r["diff"] / r["t_crude_dependence"], rel=1e-12)
    m = int((res.ar_estimation[TREATED].mean(axis=1) - res.ar_estimation[CONTROL].mean(axis=1)).notna().sum())
    q = stats.t.ppf(0.975, m - 1)
    assert r["ci_low"] == pytest.approx(r["diff"] - q * r["se_diff"], abs=1e-14)
    assert r["p_crude_dependence"] == pytest.approx(2 * stats.t.sf(abs(r["t_crude_dependence"]), m - 1), rel=1e-10)
    # snapshot values reported in the note
    assert r["caar_treated"] == pytest.approx(-0.0434, abs=5e-5)
    assert r["diff"] == pytest.approx(-0.0297, abs=5e-5)


def test_early_events_use_cf_alone_as_control(study):
    t = study.to_frame("(0,1)").set_index("event_id")
    early = t[pd.to_datetime(t["session"]) < "2024-11-01"]
    assert len(early) == 11
    assert (early["n_control"] == 1).all() and (early["control"] == "CF").all()
    assert early["reason"].str.contains("LXU \\(0 valid estimation returns").all()
    late = t[pd.to_datetime(t["session"]) >= "2025-01-01"]
    assert (late["n_control"] == 2).all() and (late["n_treated"] == 4).all()


def test_uncovered_events_are_insufficient_rows_with_reasons(returns):
    short = returns.loc["2021-03-01":"2026-03-20"]
    s = cs.study_catalog(offline=True, returns=short)
    t = s.to_frame("(0,1)").set_index("event_id")
    assert len(t) == 24  # nothing dropped
    ins = s.insufficient().set_index("event_id")
    # June/August 2021: the data now starts too late for 120 estimation sessions
    for eid in ("eu-sectoral-agreed-2021", "eu-sectoral-adopted-2021", "us-belaruskali-designated-2021"):
        assert ins.loc[eid, "status"] == cs.INSUFFICIENT
        assert "< min_estimation_obs=120" in ins.loc[eid, "reason"] and "data starts" in ins.loc[eid, "reason"]
        assert np.isnan(t.loc[eid, "diff"])
    # December 2021: truncated estimation window, still >= 120 sessions
    assert t.loc["us-bpc-designated-2021", "status"] == "ok"
    assert "truncated" in t.loc["us-bpc-designated-2021", "reason"]
    lo = int(t.loc["us-bpc-designated-2021", "estimation_window"].strip("()").split(",")[0])
    assert -250 < lo <= -120
    # March 2026: the (0,5) window runs past the data's end
    assert ins.loc["us-delisting-2026", "status"] == cs.INSUFFICIENT
    assert "event windows need days -1..5" in ins.loc["us-delisting-2026", "reason"]
    assert s.n_covered == 24 - len(ins)
    # one insufficient row per window per event, still carrying its confounder flags and cluster
    full = s.to_frame()
    assert (full["event_id"] == "us-delisting-2026").sum() == 4
    sc = s.sign_consistency("(0,1)").set_index("kind")
    assert sc.loc["easing", "n_covered"] == 4 and sc.loc["easing", "n_catalog"] == 5


def test_control_group_without_history_is_insufficient(returns):
    s = cs.study_catalog(offline=True, returns=returns, control=["LXU"])
    t = s.to_frame("(0,1)").set_index("event_id")
    assert t.loc["eu-belaruskali-2022", "status"] == cs.INSUFFICIENT
    assert "no control firm has 120 estimation returns" in t.loc["eu-belaruskali-2022", "reason"]
    assert t.loc["us-potash-easing-2025", "status"] == "ok" and t.loc["us-potash-easing-2025", "n_control"] == 1


def test_one_failing_event_never_stops_the_run(returns, monkeypatch):
    import analysis.eventstudy as es

    real = es.compare_groups

    def flaky(res, treated, control):
        if res.event_date == pd.Timestamp("2022-03-02"):
            raise ValueError("boom")
        return real(res, treated=treated, control=control)

    monkeypatch.setattr(es, "compare_groups", flaky)
    s = cs.study_catalog(offline=True, returns=returns)
    t = s.to_frame("(0,1)").set_index("event_id")
    assert t.loc["eu-belaruskali-2022", "status"] == "error"
    assert t.loc["eu-belaruskali-2022", "reason"] == "ValueError: boom"
    assert s.n_covered == 23
    assert list(s.insufficient()["event_id"]) == ["eu-belaruskali-2022"]


def test_overlaps_are_clusters_not_merged(study):
    cl = study.clusters
    multi = cl[cl["size"] > 1].set_index("lead")["members"].to_dict()
    assert multi == {
        "eu-sectoral-agreed-2021": "eu-sectoral-agreed-2021, eu-sectoral-adopted-2021",
        "us-bpc-designated-2021": "us-bpc-designated-2021, us-belaruskali-effective-2021",
        "lt-rail-board-vote-2022": "lt-rail-board-vote-2022, lt-transit-halted-2022",
        "us-potash-easing-2025": "us-potash-easing-2025, ofac-gl13-2025",
    }
    t = study.to_frame("(0,1)").set_index("event_id")
    assert t.loc["us-potash-easing-2025", "cluster"] == t.loc["ofac-gl13-2025", "cluster"]
    assert t.loc["ofac-gl13-2025", "cluster_lead"] == "us-potash-easing-2025"
    assert t.loc["ofac-gl13-2025", "cluster_size"] == 2
    # confounders are flagged, never linked: the K3 fatality (same session) is its own cluster
    assert t.loc["mosaic-k3-fatality-2025", "cluster_size"] == 1
    assert t["cluster"].nunique() == 20


def test_find_clusters_chains_and_skips_unlinked_kinds():
    sessions = pd.bdate_range("2025-01-01", periods=60)
    ev = pd.DataFrame({
        "event_id": ["a", "b", "c", "x", "d"],
        "kind": ["easing", "easing", "tightening", "confounder", "easing"],
        "session": [sessions[10], sessions[15], sessions[21], sessions[12], sessions[40]],
    })
    out = cs.find_clusters(ev, sessions, (-1, 5), kinds=["easing", "tightening"]).set_index("event_id")
    # a (9..15) overlaps b (14..20), b overlaps c (20..26): one chain; d alone; x not linked
    assert out.loc["a", "cluster"] == out.loc["b", "cluster"] == out.loc["c", "cluster"]
    assert out.loc["c", "cluster_lead"] == "a" and out.loc["a", "cluster_size"] == 3
    assert out.loc["x", "cluster_size"] == 1 and out.loc["x", "cluster"] != out.loc["a", "cluster"]
    assert out.loc["d", "cluster_size"] == 1


def test_sign_consistency_one_vote_per_cluster(study):
    sc = study.sign_consistency("(0,1)").set_index("kind")
    assert sc.loc["easing", "expected_sign"] == -1 and sc.loc["tightening", "expected_sign"] == 1
    assert sc.loc["easing", "n_catalog"] == 5 and sc.loc["easing", "n_covered"] == 5 and sc.loc["easing", "n_votes"] == 4
    assert sc.loc["tightening", "n_catalog"] == 11 and sc.loc["tightening", "n_votes"] == 8
    assert "ofac-gl13-2025" not in sc.loc["easing", "voters"]
    t = study.to_frame("(0,1)").set_index("event_id")
    leads = ["kellogg-minsk-2025", "belavia-relief-2025", "us-potash-easing-2025", "us-delisting-2026"]
    assert sc.loc["easing", "voters"] == ", ".join(leads)
    ct = t.loc[leads, "caar_treated"].astype(float)
    assert sc.loc["easing", "mean_caar_treated"] == pytest.approx(ct.mean(), abs=1e-15)
    assert sc.loc["easing", "share_expected_treated"] == pytest.approx((ct < 0).mean())
    d = t.loc[leads, "diff"].astype(float)
    assert sc.loc["easing", "share_expected_diff"] == pytest.approx((d < 0).mean())
    assert len(study.sign_consistency()) == 2 * 4


def test_confounders_flagged_per_window(study):
    t = study.to_frame().set_index(["event_id", "window"])
    assert t.loc[("us-potash-easing-2025", "(0,0)"), "confounders"] == "mosaic-k3-fatality-2025"
    assert t.loc[("us-potash-easing-2025", "(0,1)"), "confounders"] == "mosaic-k3-fatality-2025; mosaic-brazil-idle-2025"
    assert t.loc[("us-potash-easing-2025", "(0,0)"), "other_events"] == "ofac-gl13-2025"
    assert "fomc-cut-2025-12 (-3)" in t.loc[("us-potash-easing-2025", "(0,1)"), "confounders_nearby"]
    assert t.loc[("eu-extends-potash-2026", "(0,5)"), "confounders"] == "iran-hormuz-2026"
    assert pd.isna(t.loc[("eu-extends-potash-2026", "(0,1)"), "confounders"])


def test_summary_and_paths(study):
    text = study.summary("(0,1)")
    assert "24 of 24 catalog events covered" in text and "us-potash-easing-2025, ofac-gl13-2025" in text
    paths = study.caar_paths(["us-potash-easing-2025"])
    assert list(paths.columns) == ["event_id", "day", "treated", "control", "diff"]
    assert list(paths["day"]) == list(range(-1, 6))
    comp = study.comparisons["us-potash-easing-2025"]
    np.testing.assert_allclose(paths["diff"].to_numpy(), comp.caar_path["diff"].to_numpy())
    with pytest.raises(Exception, match="unknown window"):
        study.to_frame("(0,9)")


def test_window_past_a_firms_data_is_named_in_the_reason(returns):
    """Finding 5 of issue 8: IPI's data ending on day +2 of December 2025 shrinks (0,5) to 3 producers, and says so."""
    cut = returns.copy()
    cut.loc["2025-12-18":, "IPI"] = float("nan")
    s = cs.study_catalog(["us-potash-easing-2025"], offline=True, returns=cut)
    t = s.to_frame().set_index("window")
    assert t["n_treated"].tolist() == [4, 4, 4, 3]
    assert t.loc["(0,5)", "reason"] == (
        "IPI left out of (0,5) (window runs past the firm's data (last return 2025-12-17))")
    res = s.results["us-potash-easing-2025"]
    assert res.firm_sets["(0,5)"] == ["NTR", "MOS", "ICL", "CF", "LXU"]
    # the (0,5) CAAR is the mean CAR of the three producers observed on every day of the window
    np.testing.assert_allclose(t.loc["(0,5)", "caar_treated"], res.car.loc["(0,5)", ["NTR", "MOS", "ICL"]].mean(),
                               rtol=1e-12)
