"""Plots: content checks (labels, number of series/markers, plotted data == inputs, band == null band)."""

from __future__ import annotations

import matplotlib
import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import plots
from analysis.catalog import load_events
from analysis.catalog_study import study_catalog
from analysis.commodities import load_commodity_prices, potash_sensitivity
from analysis.data import load_returns
from analysis.eventstudy import compare_groups, event_study


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def study():
    r = load_returns(["NTR", "MOS", "IPI", "ICL", "CF", "LXU", "SPY"], offline=True, source="snapshot")
    return study_catalog(offline=True, returns=r)


def _band_edges(ax):
    """Upper and lower edge of the (one) fill_between polygon, by x."""
    (poly,) = ax.collections
    v = poly.get_paths()[0].vertices
    xs = np.unique(v[:, 0])
    return xs, np.array([v[v[:, 0] == x, 1].max() for x in xs]), np.array([v[v[:, 0] == x, 1].min() for x in xs])


def test_plot_caar_draws_the_null_band_around_zero():
    r = load_returns(["NTR", "MOS", "IPI", "ICL", "CF", "LXU", "SPY"], offline=True, source="snapshot")
    res = event_study(r.drop(columns="SPY"), r["SPY"], "2025-12-15")
    cg = compare_groups(res, ["NTR", "MOS", "IPI", "ICL"], ["CF", "LXU"])
    # hand computation: 0 +- t_{m-1}(0.975) * sd(long-short AR over the estimation window) * sqrt(k)
    E = res.ar_estimation
    ls = E[["NTR", "MOS", "IPI", "ICL"]].mean(axis=1) - E[["CF", "LXU"]].mean(axis=1)
    half = stats.t.ppf(0.975, len(ls) - 1) * ls.std(ddof=1) * np.sqrt(np.arange(1, 12)) * 100
    fig = plots.plot_caar(cg)
    ax = fig.axes[0]
    xs, hi, lo = _band_edges(ax)
    np.testing.assert_array_equal(xs, np.arange(-5, 6))
    np.testing.assert_allclose(hi, half, rtol=1e-10)
    np.testing.assert_allclose(lo, -half, rtol=1e-10)
    (diff,) = [ln for ln in ax.lines if ln.get_label() == "treated - control"]
    np.testing.assert_allclose(diff.get_ydata(), cg.caar_path["diff"].to_numpy() * 100, rtol=1e-12)
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["treated CAAR (NTR, MOS, IPI, ICL)", "control CAAR (CF, LXU)", "treated - control",
                      "95% null band (H0: no abnormal return)"]
    assert "firms observed on every day -5..+5" in ax.get_xlabel()
    # one study: the band of the producers' own CAAR path
    fig2 = plots.plot_caar(event_study(r[["NTR", "MOS"]], r["SPY"], "2025-12-15"), level=0.9)
    A = res.ar_estimation[["NTR", "MOS"]].mean(axis=1)
    _, hi2, _ = _band_edges(fig2.axes[0])
    np.testing.assert_allclose(hi2, stats.t.ppf(0.95, len(A) - 1) * A.std(ddof=1) * np.sqrt(np.arange(1, 12)) * 100,
                               rtol=1e-10)


def test_plot_commodity_prices_lines_and_event_markers():
    prices = load_commodity_prices(source="bundled")
    events = load_events()
    fig = plots.plot_commodity_prices(prices, events, series=["potash", "urea"])
    ax = fig.axes[0]
    series = [ln for ln in ax.lines if ln.get_gid() is None]
    markers = [ln for ln in ax.lines if str(ln.get_gid()).startswith("event:")]
    assert [ln.get_label() for ln in series] == ["potash", "urea"]
    np.testing.assert_array_equal(series[0].get_ydata(), prices["potash"].to_numpy())
    np.testing.assert_array_equal(series[1].get_ydata(), prices["urea"].to_numpy())
    x = pd.DatetimeIndex(matplotlib.dates.num2date(series[0].get_xdata(orig=False))).tz_localize(None)
    assert x[0] == pd.Timestamp("2020-01-15") and len(x) == len(prices)
    assert len(markers) == len(events) == 24
    by_id = {ln.get_gid()[6:]: ln for ln in markers}
    assert mcolors.to_hex(by_id["us-potash-easing-2025"].get_color()) == mcolors.to_hex(plots.KIND_COLORS["easing"])
    assert mcolors.to_hex(by_id["eu-belaruskali-2022"].get_color()) == mcolors.to_hex(plots.KIND_COLORS["tightening"])
    assert mcolors.to_hex(by_id["fomc-cut-2025-12"].get_color()) == mcolors.to_hex(plots.KIND_COLORS["confounder"])
    assert pd.Timestamp(by_id["us-potash-easing-2025"].get_xdata()[0]) == pd.Timestamp("2025-12-13")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["potash", "urea", "tightening event", "confounder event", "easing event"]
    assert "per metric tonne" in ax.get_ylabel() and "month" in ax.get_xlabel()
    # default: every series, no events
    fig2 = plots.plot_commodity_prices(prices)
    assert len(fig2.axes[0].lines) == 5
    with pytest.raises(ValueError, match="potassium"):
        plots.plot_commodity_prices(prices, series="potassium")


def test_plot_group_caar_panels(study):
    ids = ["us-potash-easing-2025", "eu-belaruskali-2022"]
    fig = plots.plot_group_caar(study, event_ids=ids)
    visible = [a for a in fig.axes if a.get_visible()]
    assert len(visible) == 2
    paths = study.caar_paths(ids)
    for ax, eid in zip(visible, ids):
        assert ax.get_title() == eid
        data = [ln for ln in ax.lines if ln.get_label() in ("treated", "control")]
        assert len(data) == 2
        p = paths[paths["event_id"] == eid]
        np.testing.assert_allclose(data[0].get_ydata(), p["treated"].to_numpy() * 100)
        np.testing.assert_allclose(data[1].get_ydata(), p["control"].to_numpy() * 100)
        np.testing.assert_array_equal(data[0].get_xdata(), np.arange(-1, 6))
        assert ax.get_xlabel() == "trading day" and ax.get_ylabel() == "CAAR (%)"
    # from a tidy frame, every covered event gets a panel
    fig_all = plots.plot_group_caar(study.caar_paths(), ncols=5)
    assert sum(a.get_visible() for a in fig_all.axes) == 24


def test_plot_sensitivity_bars_equal_betas():
    tab = potash_sensitivity(offline=True).to_frame()
    fig = plots.plot_sensitivity(tab)
    ax = fig.axes[0]
    bars = [p for p in ax.patches if p.get_height() != 0 or p.get_width() != 0]
    assert len(bars) == len(tab) == 6
    np.testing.assert_allclose([b.get_height() for b in bars], tab["beta_potash"].to_numpy(), atol=1e-12)
    # error bars: t(nobs-3) quantile times the HAC se
    segs = ax.collections[0].get_segments()
    half = np.array([abs(s[1][1] - s[0][1]) / 2 for s in segs])
    q = stats.t.ppf(0.975, tab["nobs"].to_numpy() - 3)
    np.testing.assert_allclose(half, q * tab["se_potash"].to_numpy(), rtol=1e-10)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(tab["ticker"])
    assert ax.get_ylabel() == "beta on monthly potash price change"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["potash producer", "nitrogen control"]
    assert "n=19" in [t.get_text() for t in ax.texts]


def test_plot_forest_points_and_intervals(study):
    table = study.to_frame()
    fig = plots.plot_forest(table, window="(0,1)")
    ax = fig.axes[0]
    t = table[table["window"] == "(0,1)"].reset_index(drop=True)
    pts = [ln for ln in ax.lines if ln.get_marker() == "o"]
    assert len(pts) == 24
    np.testing.assert_allclose([ln.get_xdata()[0] for ln in pts], t["diff"].to_numpy(dtype=float) * 100)
    # first event at the top
    assert [ln.get_ydata()[0] for ln in pts] == list(np.arange(24)[::-1].astype(float))
    # CI segments
    segs = [c.get_segments()[0] for c in ax.collections]
    np.testing.assert_allclose([s[0][0] for s in segs], t["ci_low"].to_numpy(dtype=float) * 100, rtol=1e-10)
    np.testing.assert_allclose([s[1][0] for s in segs], t["ci_high"].to_numpy(dtype=float) * 100, rtol=1e-10)
    labels = [x.get_text() for x in ax.get_yticklabels()]
    assert labels[0].startswith("eu-sectoral-agreed-2021 [") and "ofac-gl13-2025 [" in labels[18]
    assert "(0,1)" in ax.get_xlabel() and "CI" in ax.get_xlabel()
    assert {x.get_text() for x in ax.get_legend().get_texts()} == {"tightening", "confounder", "easing"}


def test_plot_forest_marks_insufficient_rows(study):
    table = study.to_frame().copy()
    table.loc[table["event_id"] == "us-delisting-2026", "status"] = "insufficient data"
    fig = plots.plot_forest(table, window="(0,0)", value="caar_treated")
    ax = fig.axes[0]
    assert len([ln for ln in ax.lines if ln.get_marker() == "o"]) == 23
    assert [t.get_text() for t in ax.texts] == ["insufficient data"]
    assert "treated CAAR (0,0)" in ax.get_xlabel()
    fig2 = study.plot("(0,5)")
    assert "window (0,5)" in fig2.axes[0].get_title()


def test_event_potash_path_plot_draws_the_window_and_one_marker():
    from analysis import commodities

    prices = commodities.load_commodity_prices()
    path = commodities.event_potash_path("us-potash-easing-2025", months_after=3)
    fig = path.plot(prices)
    ax = fig.axes[0]
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == "potash"]
    expected = prices.loc[pd.Period("2024-12", "M") : pd.Period("2026-03", "M"), "potash"].to_numpy()
    np.testing.assert_array_equal(line.get_ydata(), expected)
    assert expected[12] == 358.33 and expected[13] == 366.0  # Dec 2025, Jan 2026
    markers = [ln for ln in ax.get_lines() if str(ln.get_gid()).startswith("event:")]
    assert [m.get_gid() for m in markers] == ["event:us-potash-easing-2025"]
    assert ax.get_title() == "potash around us-potash-easing-2025 (monthly averages)"
