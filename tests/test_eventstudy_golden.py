"""Golden numbers: the December 2025 case on the bundled snapshot, pinned.

The numbers live in ``tests/fixtures/golden_december2025.json``, written by
``tools/make_golden.py`` from the INDEPENDENT loop reference (``tests/_es_reference.py``:
plain loops, statsmodels OLS, scipy distributions), never from the engine. This file
checks the engine against them, so a change of convention, data or alignment cannot
slip through unnoticed. After a deliberate change, regenerate with
``.venv/bin/python tools/make_golden.py`` and say why in the commit.

A few numbers are also pinned here as literals, checked by hand, so that the fixture
itself cannot drift unnoticed: (0,0) t_cross_sectional from the four CARs (-1.60%,
-4.99%, -1.79%, -1.69%) is 2*mean/sd = -3.05; Patell Z = sum SAR / sqrt(4*238/236); the
KP factor sqrt((1-r)/(1+3r)) at r = 0.4654 is 0.4724, so -2.264 -> -1.069; the exact
Wilcoxon p with W+ = 0 and n = 4 is 2/16 = 0.125; the placebo p of CAAR(0,1) = -4.34% is
15/240 = 0.0625.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import analysis

GOLDEN = json.loads((Path(__file__).parent / "fixtures" / "golden_december2025.json").read_text())
CASE = GOLDEN["case"]
TOL = dict(rel=1e-9, abs=1e-12)


@pytest.fixture(scope="module")
def returns():
    return analysis.load_returns(CASE["treated"] + CASE["control"] + [CASE["market"]], offline=True,
                                 source="snapshot")


@pytest.fixture(scope="module")
def producers(returns):
    day0 = analysis.align_event(CASE["event"])
    return analysis.event_study(returns[CASE["treated"]], returns[CASE["market"]], day0,
                                estimation_window=tuple(CASE["estimation_window"]),
                                event_windows=[tuple(w) for w in CASE["event_windows"]])


def test_fixture_conventions_are_the_engine_defaults(producers):
    conv = GOLDEN["conventions"]
    assert producers.scar == conv["scar"] and producers.model == conv["model"]
    assert str(producers.event_date.date()) == CASE["session"] == "2025-12-15"


def test_december_battery_equals_the_golden_file(producers):
    gold = GOLDEN["producers"]
    assert producers.firms == gold["firms"]
    tests = producers.tests.set_index(["window", "test"])
    for window, rows in gold["tests"].items():
        for test, (stat, p, n) in rows.items():
            got = tests.loc[(window, test)]
            assert got["statistic"] == pytest.approx(stat, **TOL), (window, test)
            assert got["p_value"] == pytest.approx(p, **TOL), (window, test)
            assert got["n"] == n == 4
    daily = producers.daily_tests.set_index(["day", "test"])
    for day, rows in gold["daily"].items():
        for test, (stat, p, n) in rows.items():
            got = daily.loc[(int(day), test)]
            assert got["statistic"] == pytest.approx(stat, **TOL), (day, test)
            assert got["p_value"] == pytest.approx(p, **TOL), (day, test)
    assert producers.caar.to_dict() == pytest.approx(gold["caar"], **TOL)
    for window, cars in gold["car"].items():
        assert producers.car.loc[window].to_dict() == pytest.approx(cars, **TOL)
    assert producers.mean_residual_correlation.to_dict() == pytest.approx(gold["rbar"], **TOL)


def test_december_producers_minus_nitrogen_equals_the_golden_file(returns):
    gold = GOLDEN["producers_minus_nitrogen"]
    res = analysis.event_study(returns[CASE["treated"] + CASE["control"]], returns[CASE["market"]], CASE["session"])
    cg = analysis.compare_groups(res, CASE["treated"], CASE["control"])
    tab = cg.to_frame().set_index("window")
    for window, row in gold["windows"].items():
        for col, v in row.items():
            assert tab.loc[window, col] == pytest.approx(v, **TOL), (window, col)
    path = cg.caar_path
    for day, (t, c, d) in gold["path"].items():
        assert path.loc[int(day)].tolist() == pytest.approx([t, c, d], **TOL)
    band = cg.caar_band(0.95)
    np.testing.assert_allclose(band["upper"].to_numpy(), [gold["band"][str(d)] for d in band.index], rtol=1e-9)
    np.testing.assert_allclose(band["lower"].to_numpy(), -band["upper"].to_numpy())


def test_published_numbers_pinned_by_hand(producers):
    """The README's December 2025 numbers (rounded as published)."""
    t = producers.tests.set_index(["window", "test"])
    assert producers.caar["(0,1)"] == pytest.approx(-0.0434, abs=5e-5)
    assert t.loc[("(0,0)", "t_cross_sectional"), "statistic"] == pytest.approx(-3.048196, abs=1e-6)
    assert t.loc[("(0,0)", "patell_z"), "statistic"] == pytest.approx(-2.264014, abs=1e-6)  # scar: L = 1, unchanged
    assert t.loc[("(0,0)", "patell_z_kp"), "statistic"] == pytest.approx(-1.069397, abs=1e-6)
    assert t.loc[("(0,0)", "wilcoxon"), "p_value"] == 0.125
    assert t.loc[("(0,1)", "placebo"), "p_value"] == 15 / 240
    assert t.loc[("(0,1)", "t_crude_dependence"), "p_value"] == pytest.approx(0.08, abs=5e-3)
    assert t.loc[("(0,1)", "patell_z"), "p_value"] == pytest.approx(0.0069, abs=5e-5)
    assert t.loc[("(0,1)", "bmp_kp"), "p_value"] == pytest.approx(0.39, abs=5e-3)
    assert producers.mean_residual_correlation.iloc[0] == pytest.approx(0.465389, abs=1e-6)
