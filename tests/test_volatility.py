"""Event-induced volatility (issue 12): the χ² test of mean SAR², its placebo, calibration and power.

Real-data tests use the December 2025 producers on the bundled snapshot and an
independent plain computation (statsmodels OLS and its influence measures, scipy's χ²).
Simulation tests use SYNTHETIC market-model data, run through :func:`event_study` itself
(a panel of many independent firms, split into groups of N that play the role of
events); seeds are fixed, bands binomial: |rate - size| <= 3.5·sqrt(size(1-size)/G).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import analysis
from analysis.distributions import p_chi2_upper
from analysis.errors import EventStudyError
from analysis.eventstudy import event_study
from analysis.eventstudy.volatility import _volatility_arrays, event_volatility, studentized_residuals, volatility_table

PRODUCERS = ["NTR", "MOS", "IPI", "ICL"]
DAY0 = "2025-12-15"


@pytest.fixture(scope="module")
def returns():
    return analysis.load_returns(PRODUCERS + ["CF", "LXU", "SPY"], offline=True)


@pytest.fixture(scope="module")
def res(returns):
    return event_study(returns[PRODUCERS], returns["SPY"], DAY0)


def _reference(returns, firms, day0=DAY0, est=(-250, -11), day=0):
    """Plain per-firm computation: statsmodels OLS, leverage from (X'X)^-1, internal studentization."""
    sm = pytest.importorskip("statsmodels.api")
    from statsmodels.stats.outliers_influence import OLSInfluence

    idx = returns.index
    pos = idx.get_loc(pd.Timestamp(day0))
    rows = idx[pos + est[0] : pos + est[1] + 1]
    q, r2 = {}, {}
    for f in firms:
        y = returns.loc[rows, f]
        x = returns.loc[rows, "SPY"]
        ok = y.notna() & x.notna()
        X = sm.add_constant(x[ok].to_numpy())
        fit = sm.OLS(y[ok].to_numpy(), X).fit()
        m = int(ok.sum())
        s2 = fit.ssr / (m - 2)
        d = idx[pos + day]
        x0 = np.array([1.0, returns.loc[d, "SPY"]])
        h0 = float(x0 @ np.linalg.inv(X.T @ X) @ x0)
        sar = (returns.loc[d, f] - float(x0 @ fit.params)) / math.sqrt(s2 * (1 + h0))
        q[f] = sar**2 * (m - 4) / (m - 2)
        stud = pd.Series(np.nan, index=rows)
        stud[ok.to_numpy()] = OLSInfluence(fit).resid_studentized_internal
        r2[f] = stud**2
    return q, pd.DataFrame(r2)


def test_p_chi2_upper_equals_scipy():
    x = np.array([0.5, 3.0, 9.49, 20.0])
    df = np.array([1, 4, 4, 8])
    np.testing.assert_allclose(p_chi2_upper(x, df), stats.chi2.sf(x, df), rtol=1e-13)


def test_day0_equals_plain_computation(returns, res):
    q, r2 = _reference(returns, PRODUCERS)
    v = event_volatility(res)
    N = len(PRODUCERS)
    mean = sum(q.values()) / N
    assert v.loc[0, "n"] == N and v.loc[0, "df"] == N
    assert v.loc[0, "mean_sar2"] == pytest.approx(mean, abs=1e-12)
    assert v.loc[0, "statistic"] == pytest.approx(N * mean, abs=1e-11)
    assert v.loc[0, "p_value"] == pytest.approx(stats.chi2.sf(N * mean, N), abs=1e-12)
    pseudo = r2.mean(axis=1)  # every producer observed on every estimation day
    hits = int((pseudo >= mean).sum())
    assert v.loc[0, "n_placebo"] == len(pseudo) == 240
    assert v.loc[0, "p_placebo"] == pytest.approx((1 + hits) / (1 + len(pseudo)), abs=1e-15)
    # the published December 2025 figures
    assert v.loc[0, "mean_sar2"] == pytest.approx(1.685539, abs=1e-6)
    assert v.loc[0, "p_value"] == pytest.approx(0.150158, abs=1e-6)
    assert v.loc[0, "p_placebo"] == pytest.approx(40 / 241, abs=1e-12)


def test_studentized_residuals_equal_statsmodels(returns, res):
    _, r2 = _reference(returns, PRODUCERS)
    s = studentized_residuals(res)
    np.testing.assert_allclose(s.to_numpy() ** 2, r2.to_numpy(), rtol=1e-10, atol=1e-12)


def test_windows_and_days_agree(returns, res):
    days = event_volatility(res)
    wins = event_volatility(res, windows=[(0, 0), (0, 1), (-1, 1)])
    for c in ("mean_sar2", "statistic", "p_value", "p_placebo"):
        assert wins.loc["(0,0)", c] == days.loc[0, c]
    # (0,1) by hand: all 8 values, χ²(8); placebo over pairs of consecutive estimation days
    q0, r2 = _reference(returns, PRODUCERS, day=0)
    q1, _ = _reference(returns, PRODUCERS, day=1)
    mean = (sum(q0.values()) + sum(q1.values())) / 8
    assert wins.loc["(0,1)", "mean_sar2"] == pytest.approx(mean, abs=1e-12)
    assert wins.loc["(0,1)", "df"] == 8
    assert wins.loc["(0,1)", "p_value"] == pytest.approx(stats.chi2.sf(8 * mean, 8), abs=1e-12)
    d = r2.mean(axis=1).to_numpy()
    pseudo = (d[1:] + d[:-1]) / 2
    assert wins.loc["(0,1)", "n_placebo"] == 239
    assert wins.loc["(0,1)", "p_placebo"] == pytest.approx((1 + (pseudo >= mean).sum()) / 240, abs=1e-15)


def test_firm_subset_equals_study_of_the_subset(returns):
    both = event_study(returns[PRODUCERS + ["CF", "LXU"]], returns["SPY"], DAY0)
    alone = event_study(returns[PRODUCERS], returns["SPY"], DAY0)
    pd.testing.assert_frame_equal(event_volatility(both, firms=PRODUCERS), event_volatility(alone),
                                  check_exact=False, rtol=1e-12, atol=1e-12)


def test_constant_mean_and_volume_measures(returns):
    res = event_study(returns[PRODUCERS], None, DAY0, model="constant_mean")
    s = studentized_residuals(res)
    # constant mean: h = 1/m, so Σ r² = (m - 1)/(1 - 1/m) = m exactly for each firm
    np.testing.assert_allclose((s**2).sum(), res.params["m"].astype(float), rtol=1e-12)
    v = event_volatility(res)
    q = res.sar.loc[0] ** 2 * (res.params["m"] - 3) / (res.params["m"] - 1)
    assert v.loc[0, "mean_sar2"] == pytest.approx(float(q.mean()), abs=1e-12)


def test_missing_firm_day_shrinks_the_day_set(returns):
    r = returns[PRODUCERS + ["SPY"]].copy()
    r.loc[pd.Timestamp(DAY0), "IPI"] = np.nan
    res = event_study(r[PRODUCERS], r["SPY"], DAY0)
    v = event_volatility(res, windows=[(0, 0), (0, 1), (1, 1)])
    assert v.loc["(0,0)", "n"] == 3 and v.loc["(0,1)", "n"] == 3 and v.loc["(1,1)", "n"] == 4
    assert v.loc["(0,1)", "df"] == 6
    full = event_volatility(event_study(returns[["NTR", "MOS", "ICL"]], returns["SPY"], DAY0), windows=[(0, 1)])
    assert v.loc["(0,1)", "mean_sar2"] == pytest.approx(full.loc["(0,1)", "mean_sar2"], abs=1e-12)


def test_bad_input_is_refused(res):
    with pytest.raises(EventStudyError, match="CF"):
        event_volatility(res, firms=["NTR", "CF"])
    with pytest.raises(EventStudyError, match=r"\(0,9\)|outside"):
        event_volatility(res, windows=[(0, 9)])
    sar = pd.DataFrame({"A": [1.0]}, index=pd.Index([0], name="day"))
    with pytest.raises(EventStudyError, match="ν"):
        volatility_table(sar, pd.Series({"A": 2.0}))
    with pytest.raises(EventStudyError, match="A"):
        volatility_table(sar, pd.Series({"B": 100.0}))


# =========================================================================== simulation (SYNTHETIC)
TE, N_FIRMS, GROUPS, CALLS = 240, 4, 500, 4  # 2,000 simulated events of 4 firms


def _synthetic_panel(seed, n_firms, var_day0=1.0, rho=0.0):
    """SYNTHETIC market-model returns: TE estimation days, span (-1, 1), independent (or equicorrelated) errors."""
    rng = np.random.default_rng(seed)
    T = TE + 10 + 3
    x = rng.normal(0.0004, 0.01, T)
    beta = rng.uniform(0.5, 1.5, n_firms)
    sig = rng.uniform(0.01, 0.03, n_firms)
    u = rng.standard_normal((T, n_firms))
    if rho:
        groups = n_firms // N_FIRMS
        common = np.repeat(rng.standard_normal((T, groups)), N_FIRMS, axis=1)  # shared within each group of 4
        u = math.sqrt(rho) * common + math.sqrt(1 - rho) * u
    day0 = TE + 10 + 1
    u[day0] *= math.sqrt(var_day0)
    y = beta * x[:, None] + sig * u
    idx = pd.bdate_range("2020-01-01", periods=T, name="date")
    firms = [f"S{i:05d}" for i in range(n_firms)]
    return pd.DataFrame(y, index=idx, columns=firms), pd.Series(x, index=idx, name="MKT"), idx[day0]


def _simulate(var_day0=1.0, rho=0.0, seed0=0):
    """p (χ²) and p_placebo of day 0 for GROUPS*CALLS simulated events, via event_study and the array core."""
    ps, pps = [], []
    for c in range(CALLS):
        Y, x, day0 = _synthetic_panel(1000 * seed0 + c, GROUPS * N_FIRMS, var_day0, rho)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = event_study(Y, x, day0, estimation_window=(-TE - 10, -11), event_windows=((-1, 1),))
        dof = (res.params["m"] - 2).to_numpy(dtype=float)
        Q = (res.sar.to_numpy() ** 2 * (dof - 2) / dof).reshape(3, GROUPS, N_FIRMS).transpose(1, 0, 2)
        R2 = (studentized_residuals(res).to_numpy() ** 2).reshape(-1, GROUPS, N_FIRMS).transpose(1, 0, 2)
        out = _volatility_arrays(Q, R2, [(1, 1)])
        ps.append(out["p_value"][:, 0])
        pps.append(out["p_placebo"][:, 0])
        if c == 0:  # the batch is the public path: group 7 alone through event_volatility
            g = list(res.firms[7 * N_FIRMS : 8 * N_FIRMS])
            v = event_volatility(res, firms=g)
            assert v.loc[0, "p_value"] == pytest.approx(out["p_value"][7, 0], abs=1e-14)
            assert v.loc[0, "p_placebo"] == pytest.approx(out["p_placebo"][7, 0], abs=1e-14)
    return np.concatenate(ps), np.concatenate(pps)


def _band(size, n, z=3.5):
    return z * math.sqrt(size * (1 - size) / n)


@pytest.fixture(scope="module")
def null_sim():
    return _simulate()


def test_chi2_calibrated_under_h0(null_sim):
    p, pp = null_sim
    G = len(p)
    assert G == GROUPS * CALLS == 2000
    for level in (0.05, 0.10):
        assert abs((p < level).mean() - level) <= _band(level, G), (level, (p < level).mean())
    # the placebo's exact size at 5%: p = (1 + hits)/241 < 0.05  <=>  hits <= 11, i.e. 12/241
    size = 12 / 241
    assert abs((pp < 0.05).mean() - size) <= _band(size, G)


def test_power_under_fourfold_event_day_variance():
    """Event-day variance x4, N = 4 firms: χ² power 0.657 (theory 0.668), placebo power 0.654 (2,000 events)."""
    p, pp = _simulate(var_day0=4.0, seed0=7)
    G = len(p)
    theory = stats.chi2.sf(stats.chi2.ppf(0.95, N_FIRMS) / 4.0, N_FIRMS)  # 4·mean_sar2 ~ 4·χ²(N)/N
    power = (p < 0.05).mean()
    assert theory == pytest.approx(0.668, abs=0.001)
    assert abs(power - theory) <= _band(theory, G), power
    assert (pp < 0.05).mean() > 0.5


def test_cross_correlation_breaks_chi2_not_placebo():
    """Equicorrelated firms (ρ = 0.8): the χ² test rejects 10% at 5% (measured 0.1045); the placebo keeps its size."""
    p, pp = _simulate(rho=0.8, seed0=3)
    G = len(p)
    assert (p < 0.05).mean() > 0.05 + _band(0.05, G)
    assert abs((pp < 0.05).mean() - 12 / 241) <= _band(12 / 241, G)
