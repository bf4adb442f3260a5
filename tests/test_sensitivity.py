"""analysis.sensitivity: monthly returns, HAC OLS for many firms at once, rolling betas, the sensitivity result.

References: statsmodels OLS (``cov_type="HAC"``) and numpy ``lstsq`` on the real monthly
data, plain compounding of the CSV closes; simulated (SYNTHETIC) data only for the HAC
algebra across lags.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import sensitivity as se
from analysis.errors import CatalogError

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"
UREA_CASE = HERE / "fixtures" / "urea_case"


# --------------------------------------------------------------------------- monthly returns
def _daily_total_returns(ticker):
    raw = pd.read_csv(DATA / "prices" / f"{ticker}.csv", parse_dates=["date"]).set_index("date")
    return (raw["close"] + raw["dividend"].fillna(0.0)) / raw["close"].shift(1) - 1


def test_monthly_returns_compound_complete_months_only():
    m = se.load_monthly_returns(["NTR", "LXU"], offline=True)
    r = _daily_total_returns("NTR")
    dec = r.loc["2025-12-01":"2025-12-31"]
    assert m.loc["2025-12", "NTR"] == pytest.approx(np.prod(1 + dec.to_numpy()) - 1, abs=1e-13)
    # NTR data start 2020-06-01: June 2020 lacks the first session's return -> NaN
    assert np.isnan(m.loc["2020-06", "NTR"]) and np.isfinite(m.loc["2020-07", "NTR"])
    # 2026-09 ends on the 15th -> incomplete
    assert np.isnan(m.loc["2026-09", "NTR"])
    # LXU starts 2024-11-01: its first complete month is 2024-12
    assert m["LXU"].first_valid_index() == pd.Period("2024-12", "M")


# --------------------------------------------------------------------------- sensitivity
@pytest.fixture(scope="module")
def sens():
    return se.potash_sensitivity(offline=True)


def test_default_tickers_from_the_case():
    assert se.default_sensitivity_tickers(offline=True) == ["NTR", "MOS", "IPI", "ICL", "CF", "LXU"]
    # the peers (CTVA, DE, ... in data/peers/prices) have no dividend data: not in a total-return model
    assert se.default_sensitivity_tickers(offline=False) == ["NTR", "MOS", "IPI", "ICL", "CF", "LXU"]
    # another case: its treated and control groups, and neither its market nor its sector ETF
    assert se.default_sensitivity_tickers(offline=True, data_dir=UREA_CASE) == ["CF", "LXU", "NTR", "MOS"]


def test_sensitivity_equals_statsmodels_on_real_data(sens):
    sm = pytest.importorskip("statsmodels.api")
    d = sens.data
    tab = sens.to_frame().set_index("ticker")
    assert list(tab.columns[:9]) == [
        "group", "beta_potash", "se_potash", "t_potash", "p_potash", "beta_market", "se_market", "r2", "nobs",
    ]
    for t in sens.tickers:
        s = d[["potash_chg", "SPY", t]].dropna()
        X = sm.add_constant(s[["potash_chg", "SPY"]].to_numpy())
        y = s[t].to_numpy()
        L = int(np.floor(4 * (len(y) / 100) ** (2 / 9)))
        ref = sm.OLS(y, X).fit(cov_type="HAC", cov_kwds={"maxlags": L}, use_t=True)
        np.testing.assert_allclose(sens.params.loc[t].to_numpy(), ref.params, rtol=0, atol=1e-10)
        np.testing.assert_allclose(np.linalg.lstsq(X, y, rcond=None)[0], sens.params.loc[t].to_numpy(), atol=1e-10)
        np.testing.assert_allclose(sens.std_errors.loc[t].to_numpy(), ref.bse, rtol=1e-9)
        np.testing.assert_allclose(sens.pvalues.loc[t].to_numpy(), ref.pvalues, rtol=1e-8)
        assert tab.loc[t, "r2"] == pytest.approx(ref.rsquared, abs=1e-12)
        assert tab.loc[t, "nobs"] == len(y) and sens.hac_lags[t] == L
    # the honest sample sizes: 2020-07..2026-06 for the long histories, LXU from 2024-12
    assert tab.loc["NTR", "nobs"] == 72 and tab.loc["LXU", "nobs"] == 19
    assert tab.loc["NTR", "group"] == "potash producer" and tab.loc["CF", "group"] == "nitrogen control"


def test_sensitivity_snapshot_numbers(sens):
    tab = sens.to_frame().set_index("ticker")
    # regression guard on the snapshot (values from statsmodels, see the test above)
    assert tab.loc["ICL", "beta_potash"] == pytest.approx(0.2101, abs=5e-4)
    assert tab.loc["NTR", "beta_potash"] == pytest.approx(0.2320, abs=5e-4)
    assert tab.loc["MOS", "beta_market"] == pytest.approx(1.002, abs=5e-3)
    assert "LXU has only 19 months" in sens.summary()


def test_conf_int_is_t_quantile_times_se(sens):
    from scipy import stats

    ci = sens.conf_int(0.90).loc["MOS"]
    b, s, n = sens.params.loc["MOS", "potash"], sens.std_errors.loc["MOS", "potash"], sens.nobs["MOS"]
    q = stats.t.ppf(0.95, n - 3)
    assert ci["lower"] == pytest.approx(b - q * s, abs=1e-12) and ci["upper"] == pytest.approx(b + q * s, abs=1e-12)


def test_the_commodity_comes_from_the_case(tmp_path):
    """The urea fixture case regresses on urea, and its tables say urea, never potash."""
    s = se.commodity_sensitivity(offline=True, data_dir=UREA_CASE, rolling=0)
    assert s.series == "urea" and s.coef_names == ("const", "urea", "market")
    tab = s.to_frame()
    assert "beta_urea" in tab.columns and not any("potash" in c for c in tab.columns)
    assert tab.attrs["series"] == "urea" and s.summary().startswith("Urea sensitivity")
    # the same numbers as an explicit series= on the bundled case, on the fixture's months
    px = pd.read_csv(UREA_CASE / "commodity_prices.csv").set_index("month")["urea"]
    dp = px.pct_change()
    cf = s.data["CF"].dropna()
    y = cf.to_numpy()
    X = np.column_stack([np.ones(len(cf)), dp.loc[[str(m) for m in cf.index]].to_numpy(), s.data.loc[cf.index, "SPY"]])
    np.testing.assert_allclose(s.params.loc["CF"].to_numpy(), np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-10)


def test_a_broken_universe_is_an_error_not_blank_groups(tmp_path):
    case = tmp_path / "case"
    shutil.copytree(DATA, case, ignore=shutil.ignore_patterns("peers"))
    uni = case / "universe.csv"
    uni.write_text(uni.read_text().replace("ticker,name", "tick,name", 1))
    with pytest.raises(CatalogError, match="universe.csv"):
        se.potash_sensitivity(["NTR", "CF"], offline=True, data_dir=case)


def test_rolling_betas_equal_window_lstsq(sens):
    d = sens.data
    last = d.index[-1]
    win = d.loc[last - 35 : last]
    assert len(win) == 36
    X = np.column_stack([np.ones(36), win["potash_chg"], win["SPY"]])
    b = np.linalg.lstsq(X, win["MOS"].to_numpy(), rcond=None)[0]
    assert sens.rolling.loc[last, ("potash", "MOS")] == pytest.approx(b[1], abs=1e-10)
    assert sens.rolling.loc[last, ("market", "MOS")] == pytest.approx(b[2], abs=1e-10)
    # LXU never has 36 months: all NaN, not a silently shorter window
    assert sens.rolling["potash"]["LXU"].isna().all()
    assert sens.rolling["potash"]["NTR"].first_valid_index() == d.index[35]


@pytest.mark.parametrize("lags", [0, 1, 5])
def test_hac_vectorized_matches_statsmodels_per_firm(lags):
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(7)  # SYNTHETIC data: the HAC algebra across lags
    T, n = 120, 4
    X = np.column_stack([np.ones(T), rng.normal(size=T), rng.normal(size=T)])
    e = rng.normal(size=(T, n))
    e[1:] += 0.6 * e[:-1]  # autocorrelated errors
    y = X @ rng.normal(size=(3, n)) + e
    y[:30, 2] = np.nan  # a firm with a shorter (contiguous) sample
    est = se.ols_hac(y, X, lags=lags)
    for i in range(n):
        ok = np.isfinite(y[:, i])
        ref = sm.OLS(y[ok, i], X[ok]).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
        np.testing.assert_allclose(est["params"][i], ref.params, atol=1e-12)
        np.testing.assert_allclose(est["cov"][i], ref.cov_params(), rtol=1e-10, atol=1e-15)
        assert est["nobs"][i] == ok.sum()


def test_hac_default_lag_rule():
    assert se.default_hac_lags([72, 19, 100, 250]).tolist() == [3, 2, 4, 4]
