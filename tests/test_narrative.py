"""Generated prose, sample notes and the key-numbers contract, on real engine output.

Every branch of :func:`analysis.narrative.conclusion` is driven by the real December 2025
battery (the four potash producers on the bundled snapshot) and the real December 2021
study, where LXU has no data and is excluded. The significance level is chosen from the
real p-values so that each branch (agree, disagree, mixed, none, no robust test, a
missing p-value) is reached; the expected sentence is then checked name by name.
"""

from __future__ import annotations

import inspect
import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from analysis import narrative, present, recorder
from analysis.errors import ReportError
from analysis.narrative import ROBUST_TESTS, conclusion

TREATED = ["NTR", "MOS", "IPI", "ICL"]
CONTROL = ["CF", "LXU"]
EVENT = {"event_id": "us-potash-easing-2025", "timestamp": "2025-12-13 11:49", "kind": "easing",
         "title": "US envoy says the US is lifting sanctions on Belarusian potash"}


@pytest.fixture(scope="module")
def real():
    """The December 2025 and December 2021 studies on the bundled snapshot (no network)."""
    from analysis.catalog import confounders_in_window, load_events
    from analysis.data import load_returns
    from analysis.eventstudy import compare_groups, event_study

    r = load_returns(TREATED + CONTROL + ["SPY"], offline=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dec25 = event_study(r[TREATED], r["SPY"], "2025-12-15")
        both25 = event_study(r[TREATED + CONTROL], r["SPY"], "2025-12-15")
        both21 = event_study(r[TREATED + CONTROL], r["SPY"], "2021-12-08")
        treated21 = event_study(r[TREATED], r["SPY"], "2021-12-08")
        comp25 = compare_groups(both25, TREATED, CONTROL).to_frame()
        comp21 = compare_groups(both21, TREATED, CONTROL).to_frame()
    conf = confounders_in_window(load_events(), r.index, "2025-12-15", (0, 1), exclude=(EVENT["event_id"],))
    return {"tests": dec25.to_frame(), "comp": comp25, "both21": both21, "tests21": treated21.to_frame(),
            "comp21": comp21, "confounders": conf}


def p_of(tests, window):
    t = tests[tests["window"] == window]
    return dict(zip(t["test"], t["p_value"]))


def say(real, *, window="(0,1)", main="placebo", alpha=0.05, tests=None, **kw):
    kw.setdefault("comparison", real["comp"])
    return conclusion(event=EVENT, session="2025-12-15", tests=real["tests"] if tests is None else tests,
                      window=window, main_test=main, treated=TREATED, control=CONTROL, alpha=alpha, **kw)


def robust_ps(tests, window, main):
    return {k: v for k, v in p_of(tests, window).items() if k in ROBUST_TESTS and k != main}


# --------------------------------------------------------------------------- agreement branches
def test_agree_only_when_main_and_every_robust_test_reject(real):
    ps = p_of(real["tests"], "(0,1)")
    alpha = max(ps[k] for k in ROBUST_TESTS) * 1.01  # every robust test, main included, rejects
    text = say(real, alpha=alpha)
    assert "The other dependence-robust tests agree: each rejects at the" in text
    for k, v in robust_ps(real["tests"], "(0,1)", "placebo").items():
        assert f"{narrative.TEST_NAMES[k]} p = {v:.3f}" in text  # the tests named as in the report's tables


def test_none_rejects_and_main_does_not_is_not_called_agreement(real):
    ps = p_of(real["tests"], "(0,1)")
    alpha = min(ps[k] for k in ROBUST_TESTS) * 0.99  # nothing rejects
    text = say(real, alpha=alpha)
    assert "agree" not in text
    assert "No other dependence-robust test rejects at the" in text and "level either" in text


def test_main_rejects_alone_disagrees_and_names_the_level(real):
    """Finding 8 of issue 8: a naive main test rejecting while the robust ones do not."""
    ps = p_of(real["tests"], "(0,1)")
    assert ps["patell_z"] < 0.05 < min(ps[k] for k in ROBUST_TESTS)  # the real December 2025 pattern
    text = say(real, main="patell_z", alpha=0.05)
    assert "agree:" not in text and "tests agree" not in text
    assert "None of the other dependence-robust tests rejects at the 5% level" in text
    assert "so the Patell Z test's rejection is not confirmed" in text
    assert "Patell Z (KP) p = " in text and "placebo p = " in text


def test_mixed_names_which_tests_do_not_reject(real):
    main = "placebo"
    others = robust_ps(real["tests"], "(0,1)", main)
    ordered = sorted(others.values())
    alpha = (ordered[0] + ordered[1]) / 2  # the smallest robust p rejects, the others do not
    assert real["tests"].query("window == '(0,1)' and test == @main")["p_value"].iloc[0] < alpha
    text = say(real, main=main, alpha=alpha)
    assert "do not all agree" in text
    rejecting = [k for k, v in others.items() if v < alpha]
    keeping = [k for k, v in others.items() if v >= alpha]
    assert len(rejecting) == 1 and len(keeping) == 2
    head, _, tail = text.partition("do not all agree: ")
    names = narrative.TEST_NAMES
    assert tail.startswith(names[rejecting[0]] + " rejects at the")
    assert (", " + " and ".join(names[k] for k in keeping) + " do not (") in tail


def test_every_robust_test_rejects_but_the_main_test_does_not(real):
    """A real window where the main test's p exceeds every robust p: (-5,5) with Corrado's rank test."""
    ps = p_of(real["tests"], "(-5,5)")
    top = max(ps[k] for k in ROBUST_TESTS)
    assert ps["corrado_rank"] > top
    alpha = (top + ps["corrado_rank"]) / 2
    text = say(real, window="(-5,5)", main="corrado_rank", alpha=alpha)
    assert "Every other dependence-robust test rejects at the" in text
    assert "although the Corrado rank test does not" in text and "tests agree" not in text


def test_no_robust_test_available(real):
    tests = real["tests"][~real["tests"]["test"].isin(ROBUST_TESTS)]
    text = say(real, main="patell_z", tests=tests)
    assert "No other dependence-robust test is available for this window, so the Patell Z test stands alone." in text


def test_missing_robust_p_value_is_named_and_never_counts_as_rejecting(real):
    ps = p_of(real["tests"], "(0,1)")
    alpha = max(ps[k] for k in ROBUST_TESTS) * 1.01  # would be "agree" with every p present
    tests = real["tests"].copy()
    tests.loc[(tests["window"] == "(0,1)") & (tests["test"] == "bmp_kp"), "p_value"] = np.nan
    text = say(real, alpha=alpha, tests=tests)
    assert "tests agree" not in text and "do not all agree" in text
    assert "BMP (KP) p = n/a" in text and "BMP (KP) gives no p-value" in text


def test_missing_main_p_value_cannot_be_judged(real):
    tests = real["tests"].copy()
    tests.loc[(tests["window"] == "(0,1)") & (tests["test"] == "placebo"), "p_value"] = np.nan
    text = say(real, tests=tests, expected_sign=-1)
    assert "By the placebo test (p = n/a) this move cannot be judged (no p-value)." in text
    assert "Of the other dependence-robust tests" in text
    assert "without a p-value the move cannot be judged" in text


# --------------------------------------------------------------------------- alpha
def test_alpha_is_a_parameter_not_a_constant(real):
    at5, at10 = say(real, alpha=0.05), say(real, alpha=0.10)
    assert "only weakly distinguishable from ordinary moves (below 10% but not 5%)" in at5
    assert "is distinguishable from ordinary moves at the 10% level" in at10
    assert "0.05" not in inspect.getsource(conclusion) and "0.05" not in inspect.getsource(narrative.robust_agreement)
    assert "0.05" not in inspect.getsource(narrative._strength)


@pytest.mark.parametrize("alpha", [0, 1, 1.5, -0.1, True, "0.05"])
def test_alpha_outside_zero_one_is_refused(real, alpha):
    with pytest.raises(ReportError, match="alpha"):
        say(real, alpha=alpha)


# --------------------------------------------------------------------------- sample, sign, confounders
def test_excluded_firms_are_named_with_their_reason(real):
    excl = real["both21"].excluded
    reasons = narrative.excluded_in(excl, "(0,1)")
    assert list(reasons) == ["LXU"]  # LXU's snapshot starts 2024-11-01
    text = conclusion(event=EVENT, session="2021-12-08", tests=real["tests21"], window="(0,1)", main_test="placebo",
                      treated=TREATED, control=CONTROL, comparison=real["comp21"], excluded=excl)
    assert f"control: CF (LXU excluded: {reasons['LXU']})" in text
    assert "Against the control firms (CF), whose CAAR" in text and "(CF, LXU)" not in text
    assert "the 4 treated firms (NTR, MOS, IPI, ICL)" in text


def test_an_unstated_exclusion_is_refused(real):
    """The comparison used one control firm; naming two without the excluded frame is refused."""
    with pytest.raises(ReportError, match="n_control = 1 .* 2 control firms are named"):
        conclusion(event=EVENT, session="2021-12-08", tests=real["tests21"], window="(0,1)", main_test="placebo",
                   treated=TREATED, control=CONTROL, comparison=real["comp21"])
    with pytest.raises(ReportError, match="n = 4 treated firms over \\(0,1\\) but 3 are named"):
        say(real, excluded={"IPI": "a reason the test table does not reflect"})


def test_expected_sign_matches_and_opposes(real):
    caar = real["tests"].query("window == '(0,1)'")["caar"].iloc[0]
    assert caar < 0
    down = say(real, expected_sign=-1)
    assert "The sign matches what an easing event suggests for the treated firms (down), but the move is within " \
           "ordinary variation." in down
    up = say(real, expected_sign=1, main="patell_z")  # patell_z rejects at 5%: no caveat
    assert "The sign is opposite to what an easing event suggests for the treated firms (up)." in up
    assert "The sign" not in say(real)  # no expected sign, no sentence


def test_confounders_in_the_window_are_named(real):
    conf = real["confounders"]
    assert {"ofac-gl13-2025", "mosaic-k3-fatality-2025", "mosaic-brazil-idle-2025"} <= set(conf["event_id"])
    text = say(real, confounders=conf)
    assert "ofac-gl13-2025 (day 0)" in text and "mosaic-brazil-idle-2025 (day 1)" in text
    assert "these numbers cannot separate the event from them" in text
    assert "cannot separate" not in say(real)


def test_numbers_in_the_text_are_the_engine_numbers(real):
    t = real["tests"].query("window == '(0,1)'").set_index("test")
    c = real["comp"].set_index("window").loc["(0,1)"]
    text = say(real)
    assert f"return of {t.loc['placebo', 'caar'] * 100:+.2f}% over days (0,1)" in text
    assert f"(p = {t.loc['placebo', 'p_value']:.3f})" in text
    assert f"whose CAAR was {c['caar_control'] * 100:+.2f}%, the difference is {c['diff'] * 100:+.2f}%" in text


# --------------------------------------------------------------------------- notes and escaping
def test_excluded_records_read_frames_and_dicts():
    rows = pd.DataFrame({"firm": ["IPI", "IPI", "LXU"], "window": ["(0,5)", "(-5,5)", None],
                         "reason": ["no data after 2026-08-13"] * 2 + ["no data before 2024-11-01"]})
    assert narrative.excluded_in(rows, "(0,1)") == {"LXU": "no data before 2024-11-01"}
    assert narrative.excluded_in(rows, "(0,5)") == {"IPI": "no data after 2026-08-13", "LXU": "no data before 2024-11-01"}
    assert narrative.describe_group(["MOS", "IPI"], rows, "(-5,5)") == "MOS (IPI excluded: no data after 2026-08-13)"
    assert narrative.describe_group(["IPI"], rows, "(0,5)") == "no firm (IPI excluded: no data after 2026-08-13)"
    with pytest.raises(ReportError, match="missing reason"):
        narrative.excluded_records(pd.DataFrame({"firm": ["X"]}))


def test_markup_from_data_is_escaped():
    bad = "<img src=x onerror=alert('XSS')> [x](javascript:alert(1))"
    md = narrative.md_escape(bad)
    assert "<" not in md and ">" not in md and "](" not in md and "\\[x\\]" in md
    box = present.notes_html([bad, {"category": "EventStudyWarning", "text": "<script>x</script>"}])
    assert "<img" not in box and "<script>" not in box and "&lt;script&gt;" in box
    assert present.text_html("a < b") == "<p>a &lt; b</p>"
    with pytest.raises(ReportError):
        present.text_html("x", tag="p onclick=alert(1)")


def test_capture_notes_keeps_sample_notes_and_sets_library_warnings_apart(tmp_path):
    rec = recorder.Recorder(tmp_path, "nb")
    before = warnings.filters[:]
    with rec.capture():
        warnings.warn("LXU excluded: no data before 2024-11-01")
        warnings.warn("LXU excluded: no data before 2024-11-01")  # once
        np.mean(np.array([]))  # numpy's RuntimeWarning: a note the reader sees
        warnings.warn("Series.values is deprecated", FutureWarning)
    assert warnings.filters == before  # the warning state is restored
    assert rec.notes[:2] == ["LXU excluded: no data before 2024-11-01", "Mean of empty slice"]
    assert {n["category"] for n in rec.results["notes"][1:]} == {"RuntimeWarning"}
    assert [w["category"] for w in rec.results["library_warnings"]] == ["FutureWarning"]
    rec.note("hand-written note")
    saved = json.loads(rec.save().read_text())
    assert [n["text"] for n in saved["notes"]][-1] == "hand-written note"
    with pytest.raises(ZeroDivisionError), rec.capture():
        warnings.warn("raised before a failure")
        1 / 0
    assert "raised before a failure" in rec.notes  # kept even when the block fails


# --------------------------------------------------------------------------- key numbers
def test_key_numbers_contract_from_the_engine(real):
    key = recorder.key_numbers(real["tests21"], "(0,1)", "placebo", real["comp21"], treated=TREATED,
                               control=CONTROL, excluded=real["both21"].excluded)
    t = real["tests21"].query("window == '(0,1)' and test == 'placebo'").iloc[0]
    c = real["comp21"].set_index("window").loc["(0,1)"]
    assert key.n == 4 and key.n_control == 1
    assert key.caar_treated == pytest.approx(t["caar"], rel=1e-15) and key.p_value == t["p_value"]
    assert key.diff == pytest.approx(c["diff"], rel=1e-15)
    assert len(key.excluded) == 1 and key.excluded[0].startswith("LXU: ")
    d = key.to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert recorder.KeyNumbers.from_dict(d) == key
    assert recorder.KeyNumbers.from_results({"potash_prices": {"key": {"series": "potash"}},
                                             "event_study": {"key": d}}) == key
    assert recorder.KeyNumbers.from_results({"potash_prices": {"key": {}}}) is None
    with pytest.raises(ReportError, match="missing p_value, n"):
        recorder.KeyNumbers.from_dict({"window": "(0,1)", "test": "placebo", "caar_treated": 0.1})
    with pytest.raises(ReportError, match="no 'nosuch' row"):
        recorder.key_numbers(real["tests"], "(0,1)", "nosuch")


def test_key_numbers_nan_becomes_null(real):
    tests = real["tests"].copy()
    tests.loc[(tests["window"] == "(0,1)") & (tests["test"] == "placebo"), "p_value"] = np.nan
    key = recorder.key_numbers(tests, "(0,1)", "placebo", real["comp"])
    assert key.p_value is None and key.to_dict()["p_value"] is None
    assert math.isfinite(key.caar_treated) and key.n_control == 2 and key.excluded == ()
