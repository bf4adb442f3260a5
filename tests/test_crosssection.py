"""analysis.crosssection, analysis.synthetic, analysis.crosssection_suite: the in-space placebo, the screen,
the synthetic control and the catalog's in-space p.

References: per-firm OLS written as plain loops over the CSV-derived returns (numpy lstsq),
brute-force enumeration of donor portfolios with itertools, a direct scipy.optimize solve of
the synthetic-control problem. Simulated data are SYNTHETIC and named so.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.crosssection import (
    firm_cars,
    in_space_p,
    n_portfolios_possible,
    placebo_in_space,
    portfolio_draws,
    screen,
)
from analysis.crosssection_suite import catalog_in_space, cross_section_returns, cross_section_study
from analysis.errors import DataError
from analysis.synthetic import simplex_weights, synthetic_control

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"
DAY0 = pd.Timestamp("2025-12-15")
PRODUCERS = ["NTR", "MOS", "IPI", "ICL"]
NITROGEN = ["CF", "LXU"]


@pytest.fixture(scope="module")
def panel():
    return cross_section_returns(offline=True)


def _price_returns_from_csv(ticker):
    folder = DATA / "prices" if (DATA / "prices" / f"{ticker}.csv").is_file() else DATA / "peers" / "prices"
    raw = pd.read_csv(folder / f"{ticker}.csv", parse_dates=["date"]).set_index("date")["close"]
    return raw / raw.shift(1) - 1


def _loop_car_scar(y: pd.Series, m: pd.Series, day0, window=(0, 1), est=(-250, -11)):
    """Independent reference: one firm's market-model CAR and exact SCAR, written out."""
    idx = m.index
    pos = idx.get_loc(day0)
    e = slice(pos + est[0], pos + est[1] + 1)
    ye, me = y.iloc[e].to_numpy(), m.iloc[e].to_numpy()
    ok = np.isfinite(ye) & np.isfinite(me)
    ye, me = ye[ok], me[ok]
    T = len(ye)
    X = np.column_stack([np.ones(T), me])
    a, b = np.linalg.lstsq(X, ye, rcond=None)[0]
    s2 = np.sum((ye - a - b * me) ** 2) / (T - 2)
    w = slice(pos + window[0], pos + window[1] + 1)
    yw, mw = y.iloc[w].to_numpy(), m.iloc[w].to_numpy()
    L = len(yw)
    car = float(np.sum(yw - a - b * mw))
    sxx = np.sum((me - me.mean()) ** 2)
    var = s2 * (L + L**2 / T + (mw.sum() - L * me.mean()) ** 2 / sxx)
    return car, car / math.sqrt(var)


# --------------------------------------------------------------------------- data on one basis
def test_every_firm_is_on_the_price_basis_and_the_spinoff_day_is_missing(panel):
    r, m = panel
    assert m.name == "SPY" and "SPY" not in r.columns and "XLB" not in r.columns
    assert set(r.attrs["price_only"]) >= set(PRODUCERS + ["HON", "SQM"])
    # NTR paid 0.545 on 2025-12-31: the price return ignores it (the total return would not)
    ntr = _price_returns_from_csv("NTR")
    assert r.loc["2025-12-31", "NTR"] == pytest.approx(ntr.loc["2025-12-31"], abs=1e-15)
    assert r.loc["2025-12-31", "NTR"] == pytest.approx(61.72 / 62.48 - 1, abs=1e-12)  # not (61.72 + 0.545) / 62.48 - 1
    assert np.isnan(r.loc["2026-06-29", "HON"]) and "spin-off" in r.attrs["blanked"]["HON"]["2026-06-29"]
    np.testing.assert_allclose(r["SQM"].dropna().to_numpy(), _price_returns_from_csv("SQM").dropna().to_numpy(), atol=1e-15)


# --------------------------------------------------------------------------- firm statistics
def test_firm_cars_equal_a_per_firm_loop(panel):
    r, m = panel
    cars = firm_cars(r[PRODUCERS + ["KO", "DOW"]], m, DAY0)
    for f in PRODUCERS + ["KO", "DOW"]:
        car, scar = _loop_car_scar(r[f], m, DAY0)
        assert cars.loc[f, "car"] == pytest.approx(car, abs=1e-13)
        assert cars.loc[f, "scar"] == pytest.approx(scar, rel=1e-10)


# --------------------------------------------------------------------------- the placebo in space
def test_placebo_p_equals_brute_force_enumeration(panel):
    r, m = panel
    donors = ["AAPL", "KO", "JPM", "XOM", "DOW", "LIN", "PG", "CAT"]
    res = placebo_in_space(r, m, DAY0, treated=["MOS", "IPI", "ICL"], donors=donors, n_portfolios=100,
                           statistic="scar")
    assert res.exact and res.n_portfolios == math.comb(8, 3) == 56
    vals = {f: _loop_car_scar(r[f], m, DAY0)[1] for f in donors + ["MOS", "IPI", "ICL"]}
    t = (vals["MOS"] + vals["IPI"] + vals["ICL"]) / 3
    count = 0
    for comb in itertools.combinations(donors, 3):
        x = (vals[comb[0]] + vals[comb[1]] + vals[comb[2]]) / 3
        if abs(x) >= abs(t):
            count += 1
    assert res.statistic == pytest.approx(t, rel=1e-10)
    assert res.p_value == (1 + count) / (1 + 56)
    assert "all 56 of 56 donor portfolios" in res.summary()


def test_difference_p_equals_brute_force_over_ordered_pairs(panel):
    r, m = panel
    donors = ["AAPL", "KO", "JPM", "XOM", "DOW", "LIN"]
    res = placebo_in_space(r, m, DAY0, treated=["MOS", "NTR"], control=["CF"], donors=donors, n_portfolios=1000)
    assert res.exact and res.n_portfolios == math.comb(6, 2) * 4 == 60
    car = {f: _loop_car_scar(r[f], m, DAY0)[0] for f in donors + ["MOS", "NTR", "CF"]}
    t = (car["MOS"] + car["NTR"]) / 2 - car["CF"]
    dist = []
    for pair in itertools.combinations(donors, 2):
        for c in donors:
            if c not in pair:
                dist.append((car[pair[0]] + car[pair[1]]) / 2 - car[c])
    count = sum(abs(x) >= abs(t) for x in dist)
    assert res.statistic == pytest.approx(t, abs=1e-13)
    assert res.p_value == pytest.approx((1 + count) / 61, abs=1e-15)
    np.testing.assert_allclose(np.sort(res.distribution.to_numpy()), np.sort(dist), atol=1e-14)


def test_switch_to_exact_enumeration_and_random_draws():
    P, Q, exact = portfolio_draws(10, 4, 210)
    assert exact and Q is None and P.shape == (210, 4)
    assert len({tuple(row) for row in P}) == 210  # every 4-subset of 10 once
    P, Q, exact = portfolio_draws(10, 4, 209, seed=3)
    assert not exact and P.shape == (209, 4)
    P, _, _ = portfolio_draws(50, 4, 20_000, seed=1)
    assert all(len(set(row)) == 4 for row in P[:2000])  # without replacement within a portfolio
    freq = np.bincount(P.ravel(), minlength=50) / P.shape[0]
    assert np.abs(freq - 4 / 50).max() < 0.01  # each donor in about k/n of the portfolios
    P, Q, exact = portfolio_draws(6, 2, 60, k_control=1)
    assert exact and {tuple(p) + tuple(q) for p, q in zip(P, Q)} == {
        (a, b, c) for a, b in itertools.combinations(range(6), 2) for c in range(6) if c not in (a, b)}
    assert n_portfolios_possible(40, 4) == 91390 and n_portfolios_possible(40, 4, 2) == 91390 * math.comb(36, 2)
    with pytest.raises(DataError, match="3 donors cannot fill a portfolio of 4"):
        portfolio_draws(3, 4, 10)


def test_in_space_p_formula():
    assert in_space_p(0.05, [0.01, -0.06, 0.02, 0.05]) == (1 + 2) / 5
    assert in_space_p(-1.0, np.zeros(99)) == 1 / 100


def test_bad_input_is_named(panel):
    r, m = panel
    with pytest.raises(DataError, match="unknown statistic 'bhar'"):
        placebo_in_space(r, m, DAY0, statistic="bhar")
    with pytest.raises(DataError, match="'ZZZ' is neither a column of returns nor a universe group"):
        placebo_in_space(r, m, DAY0, treated=["ZZZ"])


def test_a_firm_without_the_event_days_is_dropped_and_named(panel):
    r, m = panel
    r2 = r.copy()
    r2.loc["2025-12-16", "KO"] = np.nan
    res = placebo_in_space(r2, m, DAY0, donors=["KO", "PG", "JPM", "XOM", "DOW", "LIN", "CAT"], n_portfolios=100)
    assert "KO" not in res.donors and res.dropped.to_dict("records") == [
        {"firm": "KO", "role": "donor", "reason": "no return on every session of (0,1)"}]
    assert "note: KO (donor) dropped: no return on every session of (0,1)" in res.summary()


def test_calibration_under_no_effect():
    """SYNTHETIC: 23 firms with iid market-model returns and no event; p is about uniform."""
    rng = np.random.default_rng(20261201)
    reps, n_firms, T = 200, 23, 140
    idx = pd.bdate_range("2024-01-01", periods=T)
    ps = {"car": [], "scar": []}
    for _ in range(reps):
        mk = pd.Series(rng.normal(0, 0.01, T), index=idx, name="MKT")
        vol = rng.uniform(0.005, 0.03, n_firms)  # heterogeneous volatility, as in the real donor pool
        ret = pd.DataFrame(0.9 * mk.to_numpy()[:, None] + rng.normal(0, 1, (T, n_firms)) * vol, index=idx,
                           columns=[f"F{i}" for i in range(n_firms)])
        cars = firm_cars(ret, mk, idx[120], (0, 1), (-110, -11), min_estimation_obs=60)
        for stat in ps:
            res = placebo_in_space(ret, mk, idx[120], treated=["F0", "F1", "F2"], donors=list(ret.columns[3:]),
                                   n_portfolios=500, seed=int(rng.integers(1 << 30)), statistic=stat, cars=cars)
            ps[stat].append(res.p_value)
    from scipy.stats import binom

    hi = binom.ppf(0.999, reps, 0.05)  # a correct test rejects more often than this once in 1,000 runs
    for stat, p in ps.items():
        p = np.asarray(p)
        assert (p <= 0.05).sum() <= hi, stat
        assert binom.ppf(0.001, reps, 0.5) <= (p <= 0.5).sum() <= binom.ppf(0.999, reps, 0.5), stat


# --------------------------------------------------------------------------- the screen
def test_screen_percentiles_groups_and_order(panel):
    r, m = panel
    s = screen(r, m, DAY0, n_portfolios=2000)
    t = s.table
    assert list(t["car"]) == sorted(t["car"], reverse=True) and len(t) == 56
    x = t["car"].to_numpy()
    assert t.loc[3, "pct_car"] == pytest.approx(100 * np.mean(x <= x[3]), abs=1e-12)
    g = s.groups.set_index("group")
    assert g.loc["potash producer", "caar"] == pytest.approx(t[t["group"] == "potash producer"]["car"].mean(), abs=1e-15)
    assert g.loc["rail", "n"] == 3 and g.loc["chemicals", "n"] == 16
    # a group is compared with the donor pool without its own members
    assert g.loc["chemicals", "n_donors"] == 24 and np.isnan(g.loc["broad market", "p_scar"])
    assert "fewer than its 24 firms" in g.loc["broad market", "note"]
    assert s.bottom(1)["firm"].item() == "MOS" and s.top(1)["firm"].item() == "HON"


# --------------------------------------------------------------------------- synthetic control
def _direct_weights(X, y):
    """The same problem solved directly by scipy.optimize (SLSQP, scaled objective, tight tolerance)."""
    from scipy.optimize import minimize

    n = X.shape[1]
    H, f = X.T @ X, X.T @ y
    s = np.mean(np.diag(H))
    res = minimize(lambda w: 0.5 * w @ (H / s) @ w - (f / s) @ w, np.full(n, 1 / n), jac=lambda w: (H / s) @ w - f / s,
                   method="SLSQP", bounds=[(0, None)] * n, options={"ftol": 1e-16, "maxiter": 5000},
                   constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1, "jac": lambda w: np.ones(n)}])
    return res.x


def test_simplex_weights_match_a_direct_scipy_solve(panel):
    r, _ = panel
    rows = r.loc["2024-12-09":"2025-11-28"]
    donors = ["AAPL", "KO", "JPM", "XOM", "DOW", "LIN", "PG", "CAT", "NEM", "MSFT", "UNP", "DE"]
    rows = rows[PRODUCERS + donors].dropna()
    X, y = rows[donors].to_numpy(), rows[PRODUCERS].mean(axis=1).to_numpy()
    w = simplex_weights(X, y)
    np.testing.assert_allclose(w, _direct_weights(X, y), atol=1e-8)
    assert w.min() >= 0 and w.sum() == pytest.approx(1.0, abs=1e-14)
    rng = np.random.default_rng(5)  # SYNTHETIC: 50 donors, a sparse true combination plus noise
    X = rng.normal(0, 0.015, (240, 50))
    y = X[:, [3, 7, 20]] @ np.array([0.5, 0.3, 0.2]) + rng.normal(0, 0.005, 240)
    w = simplex_weights(X, y)
    np.testing.assert_allclose(w, _direct_weights(X, y), atol=1e-8)
    assert w.min() >= 0 and w.sum() == pytest.approx(1.0, abs=1e-14)


def test_in_space_p_by_hand_on_five_donors():
    """SYNTHETIC: a treated series that tracks two donors before day 0 and jumps after it."""
    rng = np.random.default_rng(11)
    T = 280
    idx = pd.bdate_range("2025-01-01", periods=T)
    X = rng.normal(0, 0.01, (T, 5))
    y = 0.6 * X[:, 0] + 0.4 * X[:, 1] + rng.normal(0, 0.002, T)
    day0 = 260
    y[day0 : day0 + 6] += 0.03
    ret = pd.DataFrame(np.column_stack([y, X]), index=idx, columns=["T", "D1", "D2", "D3", "D4", "D5"])
    sc = synthetic_control(ret, idx[day0], ["T"], ["D1", "D2", "D3", "D4", "D5"])
    pre, post = np.arange(day0 - 250, day0 - 10), np.arange(day0, day0 + 6)

    def ratio(target, pool):
        w = _direct_weights(pool[pre], target[pre])
        g = target - pool @ w
        return np.sqrt(np.mean(g[post] ** 2)) / np.sqrt(np.mean(g[pre] ** 2))

    r_t = ratio(y, X)
    r_d = [ratio(X[:, j], np.delete(X, j, axis=1)) for j in range(5)]
    assert sc.ratio == pytest.approx(r_t, rel=1e-6)
    np.testing.assert_allclose(sc.placebo_ratios.to_numpy(), r_d, rtol=1e-6)
    assert sc.p_value == (1 + sum(x >= r_t for x in r_d)) / 6 == 1 / 6
    assert sc.weights.index[:2].tolist() == ["D1", "D2"] and sc.weights.sum() == pytest.approx(1.0, abs=1e-14)


# --------------------------------------------------------------------------- December 2025, real numbers
@pytest.fixture(scope="module")
def december(panel):
    r, m = panel
    return cross_section_study("us-potash-easing-2025", returns=r, market=m)


def test_december_2025_numbers_against_an_independent_computation(panel, december):
    r, m = panel
    donors = december.placebo[("treated", "scar")].donors
    assert len(donors) == 40 and set(donors) <= set(r.columns)
    ref = {f: _loop_car_scar(r[f], m, DAY0) for f in PRODUCERS + NITROGEN + list(donors)}
    caar = np.mean([ref[f][0] for f in PRODUCERS])
    mscar = np.mean([ref[f][1] for f in PRODUCERS])
    assert december.placebo[("treated", "car")].statistic == pytest.approx(caar, abs=1e-13)
    assert december.placebo[("treated", "scar")].statistic == pytest.approx(mscar, rel=1e-10)
    assert caar == pytest.approx(-0.04324, abs=5e-6) and mscar == pytest.approx(-1.3557, abs=5e-5)
    # the exact in-space p over all C(40, 4) = 91,390 portfolios, by brute force
    v = np.array([ref[f][1] for f in donors])
    combs = np.array(list(itertools.combinations(range(40), 4)))
    exact_p = (1 + np.sum(np.abs(v[combs].mean(axis=1)) >= abs(mscar))) / (1 + len(combs))
    p = december.placebo[("treated", "scar")].p_value
    assert abs(p - exact_p) <= 4 * math.sqrt(exact_p * (1 - exact_p) / 10_000) + 1e-4
    key = december.key_numbers()
    assert key["p_in_space"] == p and key["n_donors"] == 40 and not key["exact"]
    assert "potash producer group's move over (0,1)" in december.sentence()


def test_sentence_every_branch_says_no_more_than_the_numbers(december):
    """Each branch of CrossSection.sentence() on the real December result and on variants of it."""
    import dataclasses

    full = december.sentence()
    t = december.placebo[("treated", "scar")]
    d = december.placebo[("diff", "scar")]
    assert f"in-space p = {t.p_value:.4f} standardized" in full and "was unusual at the 5% level" in full
    assert f"in-space p = {d.p_value:.3f} (not unusual at the 5% level)" in full
    assert "Largest CARs over (0,1): " in full and "MOS -10.4%" in full
    assert f"ranks with in-space p = {december.synthetic.p_value:.3f}." in full
    # no control group: no difference sentence
    no_diff = dataclasses.replace(december, placebo={k: v for k, v in december.placebo.items() if k[0] != "diff"})
    assert " minus " not in no_diff.sentence() and "Largest CARs" in no_diff.sentence()
    # no synthetic control: the sentence stops after the screen
    no_sc = dataclasses.replace(december, synthetic=None, synthetic_error="too few donors")
    assert no_sc.sentence().endswith("No synthetic control: too few donors.") and "RMSPE" not in no_sc.sentence()
    # a treated move that is not unusual in space
    calm = dataclasses.replace(december, placebo={**december.placebo,
                                                   ("treated", "scar"): dataclasses.replace(t, p_value=0.4)})
    assert "was not unusual at the 5% level" in calm.sentence() and "p = 0.400 standardized" in calm.sentence()
    # no cross-section at all
    none = dataclasses.replace(december, placebo={}, reason="the case lists no donor groups")
    assert not none.available
    assert none.sentence() == "No cross-section for us-potash-easing-2025: the case lists no donor groups."


def test_december_2025_synthetic_control(december):
    sc = december.synthetic
    assert sc.weights.sum() == pytest.approx(1.0, abs=1e-12) and (sc.weights >= 0).all()
    assert len(sc.placebo_ratios) == 40 and 1 / 41 <= sc.p_value <= 1
    assert sc.gap.loc[0] == pytest.approx(sc.treated_path.loc[0] - sc.synthetic_path.loc[0], abs=1e-15)


# --------------------------------------------------------------------------- the catalog
def test_catalog_in_space_covers_only_events_inside_the_donors_data(panel, december):
    table = pd.DataFrame({
        "event_id": ["us-potash-easing-2025", "us-potash-easing-2025", "eu-sectoral-agreed-2021"],
        "session": [DAY0, DAY0, pd.Timestamp("2021-06-21")],
        "window": ["(0,1)", "(0,0)", "(0,1)"],
    })
    out = catalog_in_space(table, treated=PRODUCERS, control=NITROGEN, offline=True)
    assert out.loc[0, "in_space"] == "ok" and out.loc[0, "n_donors"] == 40
    assert out.loc[0, "p_in_space"] == december.placebo[("treated", "scar")].p_value
    assert out.loc[0, "p_in_space_diff"] == december.placebo[("diff", "scar")].p_value
    assert out.loc[1, "in_space"] == "ok" and out.loc[1, "p_in_space"] != out.loc[0, "p_in_space"]
    assert out.loc[2, "in_space"].startswith("not covered") and np.isnan(out.loc[2, "p_in_space"])


# --------------------------------------------------------------------------- the donor pool is data
def _case_copy(tmp_path, toml_line):
    import shutil

    dst = tmp_path / "case"
    shutil.copytree(DATA, dst)
    toml = dst / "case.toml"
    text = toml.read_text().replace('donor_groups = ["broad market", "chemicals"]', toml_line)
    toml.write_text(text)
    return dst, toml, text.splitlines().index(toml_line) + 1


def test_donor_groups_come_from_case_toml(tmp_path):
    from analysis.case import Case
    from analysis.crosssection import donor_groups

    assert donor_groups() == (["broad market", "chemicals"], ["broad market", "chemicals"])
    folder, _, _ = _case_copy(tmp_path, 'donor_groups = ["rail"]')
    case = Case.load(folder)
    assert donor_groups(case) == (["rail"], ["rail"])
    r = pd.DataFrame(0.0, index=pd.bdate_range("2025-01-01", periods=3), columns=["CP", "CNI", "UNP", "KO"])
    from analysis.crosssection import _default_donors

    assert _default_donors(case, list(r.columns)) == ["CP", "CNI", "UNP"]


@pytest.mark.parametrize("line, message", [
    ('donor_groups = ["railways"]', "group 'railways' is not in universe.csv"),
    ('donor_groups = "rail"', "invalid value 'rail': use a list of universe group names"),
    ('donor_groups = ["../x"]', "invalid group name '../x'"),
])
def test_bad_donor_groups_name_file_line_and_key(tmp_path, line, message):
    from analysis.case import Case
    from analysis.errors import CatalogError, ParameterError

    folder, toml, n = _case_copy(tmp_path, line)
    with pytest.raises((CatalogError, ParameterError)) as exc:
        Case.load(folder)
    assert f"{toml}:{n} key donor_groups" in str(exc.value) and message in str(exc.value)


def test_package_level_names_are_the_functions():
    """``analysis.screen`` is the function (no submodule of that name shadows it)."""
    import analysis
    import analysis.crosssection as xs
    import analysis.crosssection_suite as suite

    assert analysis.screen is xs.screen and callable(analysis.screen)
    assert analysis.placebo_in_space is xs.placebo_in_space and analysis.synthetic_control is xs.synthetic_control
    assert analysis.cross_section_study is suite.cross_section_study
