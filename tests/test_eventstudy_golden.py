"""Golden numbers: the December 2025 case on the bundled snapshot, pinned.

The formulas are proven elsewhere (statsmodels and the plain loops of
``tests/_es_reference.py``); this file pins the *published* numbers of the case -- the
ones in the README and the issue notes -- so a change of convention, data or alignment
cannot slip through unnoticed. Regenerate (after a deliberate change) by printing
``res.tests`` for the set-up below, and say why in the commit.

Several were checked by hand: (0,0) t_cross_sectional from the four CARs
(-1.60%, -4.99%, -1.79%, -1.69%) is 2*mean/sd = -3.05; Patell Z = sum SAR / sqrt(4*238/236);
the KP factor sqrt((1-r)/(1+3r)) at r = 0.4654 is 0.4724, so -2.264 -> -1.069; the exact
Wilcoxon p with W+ = 0 and n = 4 is 2/16 = 0.125.
"""

from __future__ import annotations

import pytest

import analysis

GOLDEN = {  # window: {test: (statistic, p_value)}
    "(0,0)": {
        "t_cross_sectional": (-3.048196, 0.055507), "t_crude_dependence": (-1.43385, 0.152922),
        "patell_z": (-2.264014, 0.023573), "patell_z_kp": (-1.069397, 0.284891),
        "bmp": (-3.084366, 0.053951), "bmp_kp": (-1.456887, 0.241191),
        "corrado_rank": (-1.627549, 0.103621), "generalized_sign": (-1.942493, 0.052077),
        "wilcoxon": (0.0, 0.125), "placebo": (-0.02518, 0.149378),
    },
    "(0,1)": {
        "t_cross_sectional": (-2.133501, 0.122604), "t_crude_dependence": (-1.745818, 0.082128),
        "patell_z": (-2.705576, 0.006819), "patell_z_kp": (-1.277967, 0.201261),
        "bmp": (-2.129305, 0.123092), "bmp_kp": (-1.005768, 0.388624),
        "corrado_rank": (-1.817295, 0.069172), "generalized_sign": (-1.942493, 0.052077),
        "wilcoxon": (0.0, 0.125), "placebo": (-0.043358, 0.0625),
    },
    "(-1,1)": {
        "t_cross_sectional": (-1.366719, 0.265127), "t_crude_dependence": (-0.698659, 0.485445),
        "patell_z": (-0.923505, 0.355744), "patell_z_kp": (-0.436214, 0.662682),
        "bmp": (-1.112109, 0.347192), "bmp_kp": (-0.5253, 0.635725),
        "corrado_rank": (-0.748206, 0.454336), "generalized_sign": (-0.942067, 0.346158),
        "wilcoxon": (2.0, 0.375), "placebo": (-0.021251, 0.447699),
    },
}


@pytest.fixture(scope="module")
def returns():
    return analysis.load_returns(["NTR", "MOS", "IPI", "ICL", "CF", "LXU", "SPY"], offline=True)


@pytest.fixture(scope="module")
def producers(returns):
    day0 = analysis.align_event("2025-12-13 11:49")
    return analysis.event_study(returns[["NTR", "MOS", "IPI", "ICL"]], returns["SPY"], day0)


def test_december_battery_is_pinned(producers):
    assert producers.event_date == analysis.align_event("2025-12-13 11:49")
    tests = producers.tests.set_index(["window", "test"])
    for window, rows in GOLDEN.items():
        for test, (stat, p) in rows.items():
            got = tests.loc[(window, test)]
            assert got["statistic"] == pytest.approx(stat, abs=1e-6), (window, test)
            assert got["p_value"] == pytest.approx(p, abs=1e-6), (window, test)
            assert got["n"] == 4
    assert producers.caar.to_dict() == pytest.approx(
        {"(-1,1)": -0.02125091, "(0,0)": -0.02518001, "(0,1)": -0.04335767, "(0,5)": -0.02344925, "(-5,5)": 0.02969248},
        abs=1e-7)
    assert producers.mean_residual_correlation.iloc[0] == pytest.approx(0.465389, abs=1e-6)


def test_december_producers_minus_nitrogen_is_pinned(returns):
    res = analysis.event_study(returns[["NTR", "MOS", "IPI", "ICL", "CF", "LXU"]], returns["SPY"], "2025-12-15")
    cg = analysis.compare_groups(res, ["NTR", "MOS", "IPI", "ICL"], ["CF", "LXU"]).to_frame().set_index("window")
    expected = {  # diff, t_crude_dependence, p_crude_dependence, p_placebo
        "(0,0)": (-0.022835, -1.340312, 0.181417, 0.153527),
        "(0,1)": (-0.029749, -1.234672, 0.218165, 0.2125),
        "(-1,1)": (-0.015062, -0.510411, 0.610234, 0.577406),
    }
    for w, vals in expected.items():
        got = cg.loc[w, ["diff", "t_crude_dependence", "p_crude_dependence", "p_placebo"]].to_numpy(dtype=float)
        assert got == pytest.approx(vals, abs=1e-6), w
        assert (cg.loc[w, "n_treated"], cg.loc[w, "n_control"]) == (4, 2)
