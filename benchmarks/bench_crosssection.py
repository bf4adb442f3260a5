"""Benchmark the cross-section: donor portfolios by index sums, and the synthetic control with in-space inference.

Run: ``python benchmarks/bench_crosssection.py [--repeat 5]``. Cases (issue 13 targets):

* 10,000 random portfolios of 4 from 50 donors, as :func:`analysis.crosssection.placebo_in_space`
  computes them once the donors' CARs exist (draws + index sums + p): <= 0.2 s;
  beside it a plain Python loop over the same portfolios;
* the same through :func:`placebo_in_space` on the real December 2025 panel (one engine fit
  for 44 firms included);
* :func:`analysis.synthetic.synthetic_control` on the real panel (4 producers, 40 donors,
  41 fits for the in-space p) and on SYNTHETIC data with 50 donors: <= 2 s.

The real panel is the bundled snapshot (``cross_section_returns(offline=True)``); the
synthetic series are seeded and named so. Each figure is the median of ``--repeat`` runs
after one warm-up.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from analysis.crosssection import in_space_p, placebo_in_space, portfolio_draws
from analysis.crosssection_suite import cross_section_returns
from analysis.synthetic import synthetic_control

DAY0 = "2025-12-15"


def timed(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def portfolios_vectorized(v, k=4, n=10_000, seed=0):
    P, _, _ = portfolio_draws(len(v), k, n, seed)
    dist = v[P].sum(axis=1) / k
    return in_space_p(v[:k].mean(), dist)


def portfolios_loop(v, k=4, n=10_000, seed=0):
    rng = np.random.default_rng(seed)
    count = 0
    t = abs(sum(v[:k]) / k)
    for _ in range(n):
        idx = rng.choice(len(v), size=k, replace=False)
        count += abs(sum(v[i] for i in idx) / k) >= t
    return (1 + count) / (1 + n)


def synthetic_panel(n_donors=50, T=280, seed=0):
    """SYNTHETIC: donors with a common factor, a treated series built from three of them."""
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2025-01-01", periods=T)
    f = rng.normal(0, 0.01, T)
    X = f[:, None] * rng.uniform(0.5, 1.5, n_donors) + rng.normal(0, 0.012, (T, n_donors))
    y = X[:, :3] @ np.array([0.5, 0.3, 0.2]) + rng.normal(0, 0.004, T)
    cols = ["synthetic_treated"] + [f"synthetic_{i:02d}" for i in range(n_donors)]
    return pd.DataFrame(np.column_stack([y, X]), index=idx, columns=cols), idx[260]


def main(repeat=5):
    rng = np.random.default_rng(1)
    v = rng.normal(0, 0.02, 50)  # SYNTHETIC donor CARs
    r, m = cross_section_returns(offline=True)
    treated = ["NTR", "MOS", "IPI", "ICL"]
    real = r[treated + [c for c in r.columns if c not in treated]]
    syn, day = synthetic_panel()
    rows = [
        ("10,000 portfolios of 4 from 50 donors (draws + index sums + p)", timed(lambda: portfolios_vectorized(v), repeat),
         0.2, timed(lambda: portfolios_loop(v), 1)),
        ("placebo_in_space, real panel (engine fit of 44 firms + 10,000 portfolios)",
         timed(lambda: placebo_in_space(real, m, DAY0, treated=treated), repeat), None, None),
        ("synthetic_control, real panel (4 producers, 40 donors, 41 fits)",
         timed(lambda: synthetic_control(real, DAY0, treated), repeat), 2.0, None),
        ("synthetic_control, SYNTHETIC 50 donors (51 fits)",
         timed(lambda: synthetic_control(syn, day, ["synthetic_treated"], list(syn.columns[1:])), repeat), 2.0, None),
    ]
    print(f"{'case':<78}{'time (s)':>10}{'target':>9}{'loop (s)':>10}{'speed-up':>10}")
    for name, t, target, loop in rows:
        tgt = f"{target:.1f}" if target else "-"
        lp = f"{loop:.3f}" if loop else "-"
        su = f"{loop / t:.0f}x" if loop else "-"
        ok = "" if target is None else (" ok" if t <= target else " SLOW")
        print(f"{name:<78}{t:10.4f}{tgt:>9}{lp:>10}{su:>10}{ok}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    main(ap.parse_args().repeat)
