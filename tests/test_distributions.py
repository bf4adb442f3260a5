"""analysis.distributions equals scipy.stats (the reference) to floating-point precision."""

from __future__ import annotations

import numpy as np
from scipy import stats

from analysis.distributions import p_norm, p_t, t_quantile


def test_against_scipy_stats():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 3, 200)
    df = rng.integers(1, 300, 200).astype(float)
    np.testing.assert_allclose(p_t(x, df), 2 * stats.t.sf(np.abs(x), df), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(p_norm(x), 2 * stats.norm.sf(np.abs(x)), rtol=1e-12, atol=1e-300)
    q = rng.uniform(0.001, 0.999, 200)
    np.testing.assert_allclose(t_quantile(q, df), stats.t.ppf(q, df), rtol=1e-10)
    assert t_quantile(0.975, 239) == stats.t.ppf(0.975, 239)
    assert np.isnan(p_t(np.nan, 10))
