"""The fault matrix of issue 8: each of its ten findings, tried as a new user would, is a test.

Every fault is injected into a COPY of the bundled case folder (``tmp_path``), never into
``data/``. The outcome is always one of two: a one-line error with exit code 2 naming the
file / ticker / date (before any kernel starts), or a result that states the exclusion.
Never a report marked ``ok`` with a wrong number. Full report runs are slow (~15 s), so
only findings 1 (exclusion path) and 4 (2021 event with LXU missing) run one each.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis import cli, config, data, narrative
from analysis.errors import DataQualityError

DATA = config.data_dir()
TREATED = ["NTR", "MOS", "IPI", "ICL"]
CONTROL = ["CF", "LXU"]
ALL = TREATED + CONTROL + ["SPY"]


@pytest.fixture
def case(tmp_path):
    """A copy of the bundled case folder, to damage."""
    dst = tmp_path / "case"
    shutil.copytree(DATA, dst)
    return dst


def scale_close(folder, ticker, day, factor):
    path = folder / "prices" / f"{ticker}.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    i = df.index[df["date"] == day][0]
    df.loc[i, "close"] = f"{float(df.loc[i, 'close']) * factor:.4f}"
    df.to_csv(path, index=False)


def set_policy(folder, policy):
    toml = folder / "case.toml"
    text = toml.read_text()
    assert 'on_bad_data = "error"' in text
    toml.write_text(text.replace('on_bad_data = "error"', f'on_bad_data = "{policy}"'))


def report(capsys, tmp_path, *argv):
    """``potash-impact report --offline --out <tmp>/reports ...`` in process: (exit code, stderr, out folder)."""
    out = tmp_path / "reports"
    code = cli.main(["report", "--offline", "--out", str(out), "--quiet", *argv])
    return code, capsys.readouterr().err, out


def published(out):
    return [p for p in out.glob("*") if p.is_dir() and not p.name.startswith((".", "_"))] if out.exists() else []


def with_quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


# ----------------------------------------------------------------------------- 1. a bad tick
@pytest.mark.parametrize("day", ["2025-10-01", "2025-12-15"])  # inside the estimation window; day 0
def test_f1_bad_tick_is_refused_with_exit_2_before_any_kernel(case, capsys, tmp_path, day):
    scale_close(case, "IPI", day, 1000)
    code, err, out = report(capsys, tmp_path, "--data-dir", str(case))
    assert code == 2
    line = err.strip()
    assert "\n" not in line
    assert re.search(rf"IPI {day}: close \d+ jumps .*\(rule bad_tick_reversal\) in .*IPI\.csv", line), line
    assert published(out) == [] and not (out / ".staging").exists() or not any((out / ".staging").iterdir())


def test_f1_exclude_policy_library_names_the_firm_and_uses_the_others(case):
    scale_close(case, "IPI", "2025-10-01", 1000)
    set_policy(case, "exclude")
    r = data.load_returns(ALL, offline=True, data_dir=case)
    res = with_quiet(lambda: analysis.event_study(r[TREATED], r["SPY"], "2025-12-15"))
    ex = res.excluded
    assert set(ex.loc[ex["firm"] == "IPI", "code"]) == {"quality"}
    assert ex.loc[ex["firm"] == "IPI", "reason"].iloc[0] == "data quality: bad_tick_reversal on 2025-10-01 (value 29260)"
    assert res.tests.set_index(["window", "test"]).loc[("(0,1)", "placebo"), "n"] == 3
    # the CAAR is the 3 firms' own, by a plain loop on the real returns
    clean = data.load_returns(ALL, offline=True)
    ref = with_quiet(lambda: analysis.event_study(clean[["NTR", "MOS", "ICL"]], clean["SPY"], "2025-12-15"))
    assert res.caar["(0,1)"] == pytest.approx(ref.caar["(0,1)"], abs=1e-15)
    assert ref.caar["(0,1)"] == pytest.approx(sum(ref.car.loc["(0,1)", f] for f in ["NTR", "MOS", "ICL"]) / 3, abs=1e-15)


def test_f1_exclude_policy_report_states_the_exclusion(case, capsys, tmp_path):
    scale_close(case, "IPI", "2025-10-01", 1000)
    set_policy(case, "exclude")
    code, err, out = report(capsys, tmp_path, "--data-dir", str(case), "--notebooks", "event_study")
    assert code == 0, err
    (run,) = published(out)
    res = json.loads((run / "results.json").read_text())["event_study"]
    reason = "data quality: bad_tick_reversal on 2025-10-01 (value 29260)"
    assert {(e["firm"], e["code"]) for e in res["excluded"]} == {("IPI", "quality")}
    assert all(e["reason"] == reason for e in res["excluded"])
    assert f"(IPI excluded: {reason})" in res["conclusion"] and "the 3 treated firms (NTR, MOS, ICL)" in res["conclusion"]
    html = (run / "event_study.html").read_text()
    assert "Sample notes" in html and f"IPI excluded from every window: {reason}" in html
    assert "RuntimeWarning" not in html and "EventStudyWarning" not in html


# ----------------------------------------------------------------------------- 2. a firm disappears
def test_f2_truncated_csv_is_refused_naming_file_and_line(case, capsys, tmp_path):
    path = case / "prices" / "NTR.csv"
    path.write_bytes((DATA / "prices" / "NTR.csv").read_bytes()[:20000])  # head -c 20000 NTR.csv
    code, err, out = report(capsys, tmp_path, "--data-dir", str(case))
    assert code == 2 and published(out) == []
    assert re.search(r"NTR\.csv:325: last line '2021-09-10,62\.01' is incomplete .*truncated", err), err


def test_f2_deleted_price_file_is_not_a_silent_drop(case, capsys, tmp_path):
    (case / "prices" / "ICL.csv").unlink()
    code, err, out = report(capsys, tmp_path, "--data-dir", str(case))
    assert code == 2 and published(out) == []
    assert "ICL" in err and "ICL.csv" in err


# ----------------------------------------------------------------------------- 3. the cache
def test_f3_partial_cache_does_not_drop_ntr_from_december_2025():
    data.write_cache("NTR", data.read_snapshot("NTR").tail(30))
    r = data.load_returns(ALL, offline=True)
    assert r["NTR"].first_valid_index() == pd.Timestamp("2020-06-02")
    res = with_quiet(lambda: analysis.event_study(r[TREATED], r["SPY"], "2025-12-15"))
    assert res.excluded.empty and res.tests["n"].eq(4).all()
    assert res.caar["(0,1)"] == pytest.approx(-0.04335767, abs=1e-7)  # the README's -4.34%


def test_f3_cache_without_date_column_or_with_a_text_close_is_skipped_once():
    path = data.cache_path("NTR")
    path.parent.mkdir(parents=True, exist_ok=True)
    snap = data.read_snapshot("NTR")
    for frame, why in [(snap.reset_index(drop=True), "no date column"),
                       (snap.reset_index().assign(close=lambda d: d["close"].astype(str)), "column close holds")]:
        frame.to_parquet(path)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            p = data.load_prices(["NTR"], offline=True)
        msgs = [str(x.message) for x in w if "cache file" in str(x.message)]
        assert len(msgs) == 1 and str(path) in msgs[0] and why in msgs[0]
        assert p.index[0] == pd.Timestamp("2020-06-01") and p.index.min().year != 1970
        assert p.attrs["sources"] == {"NTR": "snapshot"}


# ----------------------------------------------------------------------------- 4. LXU before 2024-11
def test_f4_conclusion_names_only_the_firms_used():
    r = data.load_returns(ALL, offline=True)
    both = with_quiet(lambda: analysis.event_study(r[TREATED + CONTROL], r["SPY"], "2021-12-08"))
    treated = with_quiet(lambda: analysis.event_study(r[TREATED], r["SPY"], "2021-12-08"))
    comp = with_quiet(lambda: analysis.compare_groups(both, TREATED, CONTROL).to_frame())
    assert set(both.excluded["firm"]) == {"LXU"}
    text = narrative.conclusion(event={"event_id": "us-belaruskali-effective-2021", "timestamp": "2021-12-08 05:01",
                                       "kind": "tightening", "title": "GL 4 expires"},
                                session="2021-12-08", tests=treated.to_frame(), window="(0,1)", main_test="placebo",
                                treated=TREATED, control=CONTROL, comparison=comp, excluded=both.excluded)
    assert "(CF, LXU)" not in text
    assert re.search(r"control: CF \(LXU excluded: 0 valid estimation returns", text), text


def test_f4_report_of_a_2021_event_states_lxu_and_shows_no_raw_warning(capsys, tmp_path):
    code, err, out = report(capsys, tmp_path, "--event", "us-belaruskali-effective-2021", "--notebooks", "event_study")
    assert code == 0, err
    (run,) = published(out)
    res = json.loads((run / "results.json").read_text())["event_study"]
    assert {e["firm"] for e in res["excluded"]} == {"LXU"}
    assert "(CF, LXU)" not in res["conclusion"] and "LXU excluded" in res["conclusion"]
    html = (run / "event_study.html").read_text()
    assert "Sample notes" in html and "LXU" in html
    for raw in ("RuntimeWarning", "EventStudyWarning", "UserWarning", "warnings.warn"):
        assert raw not in html, raw


# ----------------------------------------------------------------------------- 5. windows past the data
def test_f5_windows_past_a_firms_last_date_are_stated():
    r = data.load_returns(ALL, offline=True)
    res = with_quiet(lambda: analysis.event_study(r[TREATED + CONTROL], r["SPY"], "2026-08-12"))
    past = res.excluded[res.excluded["code"] == "past_data"]
    assert set(past["firm"]) == {"IPI", "LXU"}  # both end 2026-08-13
    assert set(past["window"]) == {"(0,5)", "(-5,5)"}
    n = res.tests.groupby("window")["n"].first()
    assert n["(0,1)"] == 6 and n["(0,5)"] == 4 and n["(-5,5)"] == 4
    assert np.isfinite(res.caar).all()


# ----------------------------------------------------------------------------- 6. one firm-set rule
def test_f6_caar_group_comparison_and_path_use_one_firm_set():
    r = data.load_returns(ALL, offline=True)
    r.loc["2025-12-15", "MOS"] = np.nan  # one firm misses the event day
    res = with_quiet(lambda: analysis.event_study(r[TREATED + CONTROL], r["SPY"], "2025-12-15"))
    comp = with_quiet(lambda: analysis.compare_groups(res, TREATED, CONTROL).to_frame().set_index("window"))
    ar = res.ar
    for w in ["(0,0)", "(0,1)", "(-1,1)"]:
        a, b = (int(x) for x in w.strip("()").split(","))
        used = [f for f in TREATED if ar.loc[a:b, f].notna().all()]
        assert used == ["NTR", "IPI", "ICL"]
        loop = sum(sum(ar.loc[d, f] for d in range(a, b + 1)) for f in used) / len(used)
        assert comp.loc[w, "caar_treated"] == pytest.approx(loop, abs=1e-15)
        assert comp.loc[w, "n_treated"] == 3
    assert res.caar_path.iloc[-1] == pytest.approx(res.caar["(-5,5)"], abs=1e-15)


# ----------------------------------------------------------------------------- 7. window independence
def test_f7_a_windows_statistics_do_not_depend_on_the_other_windows():
    r = data.load_returns(ALL, offline=True)
    one = with_quiet(lambda: analysis.event_study(r[TREATED], r["SPY"], "2025-12-15", event_windows=[(-1, 1)]))
    three = with_quiet(lambda: analysis.event_study(r[TREATED], r["SPY"], "2025-12-15",
                                                    event_windows=[(-1, 1), (0, 5), (-5, 5)]))
    a = one.tests[one.tests["window"] == "(-1,1)"].set_index("test")
    b = three.tests[three.tests["window"] == "(-1,1)"].set_index("test")
    assert list(a.index) == list(b.index) and "corrado_rank" in a.index
    np.testing.assert_allclose(a[["statistic", "p_value"]].to_numpy(dtype=float),
                               b[["statistic", "p_value"]].to_numpy(dtype=float), rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- 8. "agree"
def test_f8_agree_only_when_every_robust_test_rejects():
    r = data.load_returns(ALL, offline=True)
    res = with_quiet(lambda: analysis.event_study(r[TREATED], r["SPY"], "2025-12-15"))
    tests = res.to_frame().copy()
    w = tests["window"] == "(0,1)"
    forced = {"placebo": 0.01, "bmp_kp": 0.03, "t_crude_dependence": 0.30, "patell_z_kp": 0.40}  # the finding
    for name, p in forced.items():
        tests.loc[w & (tests["test"] == name), "p_value"] = p
    text = narrative.conclusion(event={"event_id": "us-potash-easing-2025", "timestamp": "2025-12-13 11:49",
                                       "kind": "easing", "title": "US lifts potash sanctions"},
                                session="2025-12-15", tests=tests, window="(0,1)", main_test="placebo",
                                treated=TREATED)
    assert "tests agree" not in text
    assert "do not all agree" in text and "BMP (KP) rejects" in text


# ----------------------------------------------------------------------------- 9. the CAAR band
def test_f9_caar_band_is_a_null_band_around_zero_not_the_path():
    r = data.load_returns(ALL, offline=True)
    res = with_quiet(lambda: analysis.event_study(r[TREATED], r["SPY"], "2025-12-15"))
    band = res.caar_band()
    np.testing.assert_allclose(band["lower"].to_numpy(), -band["upper"].to_numpy(), atol=0)
    assert not np.allclose((band["upper"] + band["lower"]) / 2, res.caar_path.to_numpy())
    # hand computation: Brown-Warner sd of the mean estimation AR, t quantile, sqrt(k)
    from scipy import stats

    est = res.ar_estimation[res.path_firms].mean(axis=1).dropna()
    sd = float(np.std(est - est.mean(), ddof=1))
    q = stats.t.ppf(0.975, len(est) - 1)
    k = np.arange(1, len(band) + 1)
    np.testing.assert_allclose(band["upper"].to_numpy(), q * sd * np.sqrt(k), rtol=1e-10)
    # the event-window returns do not move the band
    r2 = r.copy()
    r2.loc["2025-12-15", "MOS"] += 0.2
    res2 = with_quiet(lambda: analysis.event_study(r2[TREATED], r2["SPY"], "2025-12-15"))
    pd.testing.assert_frame_equal(res2.caar_band(), band)


# ----------------------------------------------------------------------------- 10. the README
def test_f10_readme_snippet_runs_verbatim_without_network_or_env(monkeypatch):
    import os

    assert "POTASH_IMPACT_OFFLINE" not in os.environ and "POTASH_IMPACT_DATA" not in os.environ
    block = re.search(r"^```python\n(.*?)^```", (config.REPO_DIR / "README.md").read_text(), flags=re.S | re.M).group(1)
    assert "load_returns" in block
    ns: dict = {}
    exec(compile(block, "README.md", "exec"), ns)  # conftest fails any network use
    assert math.isfinite(ns["res"].caar["(0,1)"])
