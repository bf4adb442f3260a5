"""Null calibration, cross-correlation and power of the test battery on SYNTHETIC data.

2,000 simulated cross-sections per cell, market model, estimation window of 240 days,
event span (-1, 1); rows (0,0) and (-1,1). The events run as one batch through the
engine's array core (``_fit`` / ``_battery``, the code :func:`event_study` runs with a
batch of one -- checked in ``test_batch_core_equals_event_study``). Seeds are fixed, so
the tests are deterministic; the bands are binomial: |rate - size| <= 3.5·sqrt(size(1-size)/G).
"""

from __future__ import annotations

import functools

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.eventstudy import TESTS, _battery, _fit, _wilcoxon_cdf, event_study

G = 2000
TE = 240
ROWS, LENS = [(1, 1), (0, 2)], [1, 3]  # (0,0) and (-1,1) inside span (-1,1)
PARAMETRIC = ["t_cross_sectional", "t_crude_dependence", "patell_z", "patell_z_kp", "bmp", "bmp_kp"]


def synthetic_events(G, N, dist="normal", rho=0.0, shift=0.0, seed=0):
    """SYNTHETIC market-model returns for G events x (TE + 3) days x N firms."""
    rng = np.random.default_rng(seed)
    T = TE + 3
    x = rng.normal(0.0004, 0.01, (G, T, 1))
    alpha = rng.normal(0, 0.0005, (G, 1, N))
    beta = rng.uniform(0.5, 1.5, (G, 1, N))
    sig = rng.uniform(0.01, 0.03, (G, 1, N))

    def draw(shape):
        if dist == "normal":
            return rng.standard_normal(shape)
        return rng.standard_t(4, shape) / math.sqrt(2.0)  # unit variance t(4)

    u = draw((G, T, N))
    if rho:
        u = math.sqrt(rho) * draw((G, T, 1)) + math.sqrt(1 - rho) * u  # equicorrelated residuals
    Y = alpha + beta * x + sig * u
    Y[:, TE + 1, :] += shift  # day 0
    return Y[:, :TE], x[:, :TE], Y[:, TE:], x[:, TE:]


def run_batch(N, seed=0, chunk=500, **kw):
    """p-values (G, 2) per test and the estimated p-hat of the sign test."""
    ps = {t: [] for t in TESTS}
    phat = []
    for c in range(G // chunk):
        YE, XE, YS, XS = synthetic_events(chunk, N, seed=100_000 * seed + 1000 * N + c, **kw)
        fit = _fit(YE, XE, YS, XS, "market")
        out, extra = _battery(fit, ROWS, LENS)
        for t in TESTS:
            ps[t].append(out[t][1])
        phat.append(extra["phat"])
    return {t: np.concatenate(v) for t, v in ps.items()}, np.concatenate(phat)


def band(size, n=G, z=3.5):
    return z * math.sqrt(size * (1 - size) / n)


def sign_test_size(N, phat, level=0.05):
    """Exact size of the generalized sign test: P(reject) with w ~ Bin(N, 1/2), averaged over events."""
    w = np.arange(N + 1)
    pw = stats.binom.pmf(w, N, 0.5)
    z = (w[None, :] - N * phat[:, None]) / np.sqrt(N * phat[:, None] * (1 - phat[:, None]))
    rej = 2 * stats.norm.sf(np.abs(z)) < level
    return float((rej * pw[None, :]).sum(axis=1).mean())


def wilcoxon_size(N, level=0.05):
    """Exact size of the exact two-sided Wilcoxon test at ``level`` (discrete)."""
    cdf = _wilcoxon_cdf(N)
    pmf = np.diff(np.concatenate([[0.0], cdf]))
    hi = 1 - np.concatenate([[0.0], cdf[:-1]])
    p = np.minimum(1, 2 * np.minimum(cdf, hi))
    return float(pmf[p <= level].sum()) if N <= 50 else level


@functools.lru_cache(maxsize=None)
def _null_batch(N, dist):
    """One simulated cell, computed once per test session and shared by the tests below."""
    return run_batch(N, dist=dist)


@pytest.fixture(scope="module", params=[(5, "normal"), (5, "t4"), (50, "normal"), (50, "t4")],
                ids=lambda p: f"N{p[0]}-{p[1]}")
def null_cell(request):
    N, dist = request.param
    ps, phat = _null_batch(N, dist)
    return N, dist, ps, phat


def test_null_rejection_rates(null_cell):
    """Each test's 5% rejection rate sits within binomial error of its theoretical size."""
    N, dist, ps, phat = null_cell
    rates = {t: (ps[t] < 0.05).mean(axis=0) for t in TESTS}
    # exact or asymptotically exact at these N
    calibrated = ["t_crude_dependence", "patell_z", "patell_z_kp", "corrado_rank", "placebo"]
    if N == 50:
        calibrated += ["t_cross_sectional", "bmp", "bmp_kp"]
    elif dist == "normal":
        calibrated += ["bmp", "bmp_kp"]  # iid SCARs ~ scaled t(m-2): the t(N-1) test is (near) exact
    for t in calibrated:
        for r in rates[t]:
            assert abs(r - 0.05) <= band(0.05), (t, N, dist, rates[t])
    # t tests on heterogeneous-variance (or fat-tailed) symmetric data are conservative (Efron 1969)
    if N == 5:
        for t in ["t_cross_sectional"] + (["bmp", "bmp_kp"] if dist == "t4" else []):
            assert np.all(rates[t] <= 0.05 + band(0.05)), (t, rates[t])
    # discrete tests: compare with their exact size
    size_sign = sign_test_size(N, phat[:, 0])
    for r in rates["generalized_sign"]:
        assert abs(r - size_sign) <= band(size_sign), (N, dist, r, size_sign)
    size_w = wilcoxon_size(N)
    for r in rates["wilcoxon"]:
        assert abs(r - size_w) <= band(max(size_w, 1e-3)), (N, dist, r, size_w)
    if N == 5:
        assert size_w == 0.0  # min exact p is 2/32 > 0.05: the 5% Wilcoxon cannot reject with 5 firms


def test_p_values_uniform_under_null():
    """Continuous-statistic p-values are ~U(0,1) under H0 (KS test), not just at 5%: N=50, normal."""
    ps, _ = _null_batch(50, "normal")
    for t in ["t_cross_sectional", "t_crude_dependence", "patell_z", "bmp", "bmp_kp", "corrado_rank"]:
        assert stats.kstest(ps[t][:, 0], "uniform").pvalue > 0.001, t


def test_cross_correlation_bmp_over_rejects_kp_does_not():
    """Equicorrelated residuals (rho = 0.5, N = 50): naive BMP over-rejects, BMP-KP holds its size."""
    ps, _ = run_batch(50, seed=1, rho=0.5)
    bmp = (ps["bmp"] < 0.05).mean(axis=0)
    kp = (ps["bmp_kp"] < 0.05).mean(axis=0)
    assert np.all(bmp > 0.5), bmp  # massively over-rejects
    assert np.all(np.abs(kp - 0.05) <= band(0.05)), kp
    # the portfolio-based crude-dependence t and the placebo also absorb the correlation
    for t in ("t_crude_dependence", "placebo"):
        r = (ps[t] < 0.05).mean(axis=0)
        assert np.all(np.abs(r - 0.05) <= band(0.05)), (t, r)


def test_power_minus_three_percent_day0():
    """An injected -3% abnormal return on day 0, N = 50: every parametric test rejects, negatively."""
    YE, XE, YS, XS = synthetic_events(200, 50, shift=-0.03, seed=99)
    out, extra = _battery(_fit(YE, XE, YS, XS, "market"), ROWS, LENS)
    for t in PARAMETRIC:
        stat, p, _ = out[t]
        assert np.all(p[:, 0] < 0.05), (t, (p[:, 0] < 0.05).mean())
        assert np.all(stat[:, 0] < 0)
    assert np.all(extra["CAAR"][:, 0] < 0)
    # the nonparametric tests have power too
    for t in ("corrado_rank", "generalized_sign", "wilcoxon", "placebo"):
        assert (out[t][1][:, 0] < 0.05).mean() > 0.9, t


def test_batch_core_equals_event_study():
    """The batched array core the calibration uses gives event_study's numbers exactly."""
    YE, XE, YS, XS = synthetic_events(3, 6, seed=5)
    out, _ = _battery(_fit(YE, XE, YS, XS, "market"), ROWS, LENS)
    idx = pd.bdate_range("2020-01-01", periods=TE + 3 + 10, name="date")  # 10 unused days -11..-2
    for g in range(3):
        Y = np.concatenate([YE[g], np.full((10, 6), np.nan), YS[g]])
        X = np.concatenate([XE[g, :, 0], np.full(10, np.nan), XS[g, :, 0]])
        ret = pd.DataFrame(Y, index=idx, columns=[f"s{i}" for i in range(6)])
        mkt = pd.Series(X, index=idx)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = event_study(ret, mkt, idx[TE + 11], estimation_window=(-TE - 11, -12),
                              event_windows=((0, 0), (-1, 1)))
        for t in TESTS:
            got = res.tests.set_index(["window", "test"]).loc[[("(0,0)", t), ("(-1,1)", t)], "statistic"].to_numpy()
            np.testing.assert_array_equal(got, out[t][0][g])
