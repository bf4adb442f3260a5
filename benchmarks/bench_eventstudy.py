"""Benchmark the vectorized event-study engine against a naive per-firm statsmodels loop.

Run: ``python benchmarks/bench_eventstudy.py [--repeat 5]``. All data are SYNTHETIC
(seeded market-model returns). Cases:

* 1,000 firms x 1 event, every test (windows and daily battery, per-firm tests, BHAR);
* 100 events x 50 firms, every test, one :func:`event_study` call per event;

and, on the same data, a naive loop: one ``statsmodels`` OLS per firm, ARs and SARs by
prediction, then the window battery with pandas/scipy. Targets (issue 3): 1,000 firms
with every test < 100 ms, and >= 50x faster than the loop.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from analysis.eventstudy import DEFAULT_WINDOWS, event_study

EST = (-250, -11)


def synthetic_panel(n_firms, n_days, seed=0):
    """SYNTHETIC sessions x firms returns and a market series (market model, t(5) noise)."""
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2015-01-02", periods=n_days, name="date")
    mkt = pd.Series(rng.normal(0.0004, 0.01, n_days), index=idx, name="synthetic_market")
    beta = rng.uniform(0.4, 1.6, n_firms)
    noise = rng.standard_t(5, (n_days, n_firms)) * rng.uniform(0.01, 0.03, n_firms)
    ret = pd.DataFrame(np.outer(mkt.to_numpy(), beta) + noise, index=idx,
                       columns=[f"synthetic_{i:04d}" for i in range(n_firms)])
    return ret, mkt


def engine_all(ret, mkt, date):
    res = event_study(ret, mkt, date)
    res.tests, res.daily_tests, res.firm_tests, res.bhar, res.car, res.caar  # noqa: B018 (force every table)
    return res


def naive_loop(ret, mkt, date, windows=DEFAULT_WINDOWS):
    """Per-firm statsmodels OLS and a straightforward battery -- the slow way."""
    pos = ret.index.get_loc(date)
    s0, s1 = min(a for a, _ in windows), max(b for _, b in windows)
    est = slice(pos + EST[0], pos + EST[1] + 1)
    span = slice(pos + s0, pos + s1 + 1)
    ARE, ARS, SARS, m = {}, {}, {}, {}
    for f in ret.columns:
        d = pd.concat([ret[f], mkt], axis=1).iloc[est].dropna()
        X = sm.add_constant(d.iloc[:, 1].to_numpy())
        ols = sm.OLS(d.iloc[:, 0].to_numpy(), X).fit()
        m[f] = ols.nobs
        ARE[f] = pd.Series(ols.resid, index=d.index)
        xs = sm.add_constant(mkt.iloc[span].to_numpy(), has_constant="add")
        pred = ols.get_prediction(xs)
        ar = ret[f].iloc[span].to_numpy() - pred.predicted_mean
        ARS[f] = ar
        SARS[f] = ar / np.sqrt(pred.se_mean**2 + ols.scale)
    ARE, ARS, SARS = pd.DataFrame(ARE), pd.DataFrame(ARS, index=range(s0, s1 + 1)), pd.DataFrame(SARS, index=range(s0, s1 + 1))
    N = ret.shape[1]
    corr = ARE.corr().to_numpy()
    rbar = (corr.sum() - N) / (N * (N - 1))
    ranks = pd.concat([ARE.set_axis(range(len(ARE))), ARS.set_axis(range(len(ARE), len(ARE) + len(ARS)))]).rank()
    U = ranks - (ranks.count() + 1) / 2
    SK = math.sqrt((U.mean(axis=1) ** 2).mean())
    A = ARE.mean(axis=1)
    out = []
    for a, b in list(windows) + [(d, d) for d in range(s0, s1 + 1)]:
        L = b - a + 1
        car = ARS.loc[a:b].sum()
        scar = SARS.loc[a:b].sum() / math.sqrt(L)
        t = math.sqrt(N) * car.mean() / car.std()
        crude = car.mean() / (A.std() * math.sqrt(L))
        z = scar.sum() / math.sqrt(sum((mi - 2) / (mi - 4) for mi in m.values()))
        bmp = math.sqrt(N) * scar.mean() / scar.std()
        adj = math.sqrt((1 - rbar) / (1 + (N - 1) * rbar))
        corrado = U.iloc[len(ARE) + a - s0 : len(ARE) + b - s0 + 1].mean(axis=1).mean() * math.sqrt(L) / SK
        ph = (ARE > 0).sum().sum() / ARE.count().sum()
        sign = ((car > 0).sum() - N * ph) / math.sqrt(N * ph * (1 - ph))
        wil = stats.wilcoxon(car.to_numpy())
        pseudo = A.rolling(L).sum().dropna()
        plac = (1 + (pseudo.abs() >= abs(car.mean())).sum()) / (1 + len(pseudo))
        out.append((t, crude, z, z * adj, bmp, bmp * adj, corrado, sign, wil.pvalue, plac))
    return out


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="timing repeats (best is reported)")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")

    rows = []
    ret, mkt = synthetic_panel(1000, 300, seed=1)
    date = ret.index[280]
    engine_all(ret, mkt, date)  # warm-up
    t_engine = best_of(lambda: engine_all(ret, mkt, date), args.repeat)
    t_naive = best_of(lambda: naive_loop(ret, mkt, date), 1)
    rows.append(("1,000 firms x 1 event", t_engine, t_naive))

    ret2, mkt2 = synthetic_panel(50, 2600, seed=2)
    dates = ret2.index[300:2580:23][:100]

    def many():
        for d in dates:
            engine_all(ret2, mkt2, d)

    def many_naive():
        for d in dates:
            naive_loop(ret2, mkt2, d)

    t_engine2 = best_of(many, max(1, args.repeat // 2))
    t_naive2 = best_of(many_naive, 1)
    rows.append(("100 events x 50 firms", t_engine2, t_naive2))

    print(f"{'case (synthetic data)':<24}{'engine, all tests':>20}{'naive statsmodels loop':>25}{'speed-up':>10}")
    print("-" * 79)
    for name, te, tn in rows:
        print(f"{name:<24}{te * 1e3:>17.1f} ms{tn * 1e3:>22.0f} ms{tn / te:>9.0f}x")
    print()
    print(f"target: 1,000 firms < 100 ms -> {'met' if rows[0][1] < 0.1 else 'MISSED'}; "
          f">= 50x the loop -> {'met' if rows[0][2] / rows[0][1] >= 50 else 'MISSED'}")
    return rows


if __name__ == "__main__":
    main()
