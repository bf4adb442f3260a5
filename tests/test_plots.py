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


# --------------------------------------------------------------------------- one palette and width (issue 14)
def _hex(c):
    return mcolors.to_hex(c)


@pytest.fixture(scope="module")
def cross_returns():
    from analysis.crosssection_suite import cross_section_returns

    tickers = ["NTR", "MOS", "IPI", "ICL", "CF", "LXU", "XLB", "KO", "PG", "XOM", "DOW", "LIN", "CAT", "JPM", "DE",
               "CP"]
    return cross_section_returns(tickers, offline=True)


def _source_text(fig):
    return fig._supxlabel.get_text() if fig._supxlabel is not None else ""


def test_screen_colours_each_firm_by_its_role(cross_returns):
    from analysis.crosssection_plots import plot_screen
    from analysis.screening import screen

    r, m = cross_returns
    scr = screen(r, m, "2025-12-15")
    fig = plot_screen(scr, source="daily price returns")
    ax = fig.axes[0]
    expected = {"NTR": "treated", "MOS": "treated", "IPI": "treated", "ICL": "treated", "CF": "control",
                "LXU": "control", "XLB": "benchmark", "KO": "donors", "PG": "donors", "XOM": "donors", "DOW": "donors",
                "LIN": "donors", "CAT": "donors", "JPM": "donors"}
    firms = [t.get_text() for t in ax.get_xticklabels()]
    assert sorted(firms) == sorted(scr.table["firm"]) and len(ax.patches) == len(firms)
    got = {f: _hex(p.get_facecolor()) for f, p in zip(firms, ax.patches)}
    for f, role in expected.items():
        assert got[f] == plots.GROUP_COLORS[role], f
    # the two spillover groups (agribusiness DE, rail CP) take the first two EXTRA_COLORS, in order of appearance
    spill = sorted(["DE", "CP"], key=firms.index)
    assert [got[f] for f in spill] == [plots.EXTRA_COLORS["spillover 1"], plots.EXTRA_COLORS["spillover 2"]]
    roles = [plots.GROUP_COLORS[x] for x in ("treated", "control", "benchmark", "donors")]
    assert len({got["DE"], got["CP"], *roles}) == 6
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:4] == ["treated: potash producer", "control: nitrogen control", "benchmark: benchmark",
                          "donors: " + ", ".join(dict.fromkeys(g for f, g in zip(scr.table["firm"], scr.table["group"])
                                                              if expected.get(f) == "donors"))]
    assert set(legend[4:]) == {"agribusiness", "rail"}
    # the run's own treated/control override the case's groups
    fig2 = plot_screen(scr, treated=["CF", "LXU"], control=["NTR"])
    got2 = {t.get_text(): _hex(p.get_facecolor()) for t, p in zip(fig2.axes[0].get_xticklabels(), fig2.axes[0].patches)}
    assert got2["CF"] == got2["LXU"] == plots.GROUP_COLORS["treated"] and got2["NTR"] == plots.GROUP_COLORS["control"]
    assert fig.get_size_inches()[0] == plots.FIGSIZE[0]
    assert ax.get_title().startswith("Who moved on 2025-12-15") and "ranked" in ax.get_title()
    assert ax.get_ylabel() == "CAR over days (0,1) (%)" and ax.get_xlabel() == "firm (ticker), ranked by CAR"
    assert _source_text(fig) == "Source: daily price returns"


def test_in_space_histogram_colours_width_and_labels(cross_returns):
    from analysis.crosssection import placebo_in_space

    r, m = cross_returns
    res = placebo_in_space(r, m, "2025-12-15", statistic="scar")
    fig = res.plot(source="Source: test data")
    ax = fig.axes[0]
    assert {_hex(p.get_facecolor()) for p in ax.patches} == {plots.GROUP_COLORS["donors"]}
    t, mirror = ax.lines
    assert _hex(t.get_color()) == _hex(mirror.get_color()) == plots.GROUP_COLORS["treated"]
    assert t.get_xdata()[0] == pytest.approx(res.statistic) and mirror.get_xdata()[0] == pytest.approx(-res.statistic)
    assert ax.get_xlabel() == "mean SCAR of a portfolio over days (0,1) (standard deviations)"
    assert ax.get_ylabel() == "portfolios (count)"
    assert "treated firms' mean SCAR over days (0,1) after 2025-12-15" in ax.get_title().replace("\n", " ")
    assert fig.get_size_inches()[0] == plots.FIGSIZE[0] and _source_text(fig) == "Source: test data"
    diff = placebo_in_space(r, m, "2025-12-15", control=["CF", "LXU"], statistic="car")
    ax2 = diff.plot().axes[0]
    assert _hex(ax2.lines[0].get_color()) == plots.GROUP_COLORS["difference"]
    assert ax2.get_xlabel() == "CAAR (treated - control) of a portfolio over days (0,1) (%)"
    assert ax2.get_title().startswith("The treated minus the control firms' CAAR")


def test_synthetic_control_figure_colours_and_width(cross_returns):
    from analysis.synthetic import synthetic_control

    r, _ = cross_returns
    sc = synthetic_control(r, "2025-12-15", donors=["KO", "PG", "XOM", "DOW", "LIN", "CAT", "JPM"])
    fig = sc.plot(source="Source: test data")
    a1, a2 = fig.axes
    treated, synth = a1.lines[:2]
    assert _hex(treated.get_color()) == plots.GROUP_COLORS["treated"]
    assert _hex(synth.get_color()) == plots.GROUP_COLORS["benchmark"]
    gaps = [ln for ln in a2.lines if len(ln.get_xdata()) > 2]
    assert {_hex(ln.get_color()) for ln in gaps[:-1]} == {plots.GROUP_COLORS["donors"]} and len(gaps) - 1 == 7
    assert _hex(gaps[-1].get_color()) == plots.GROUP_COLORS["difference"]
    assert fig.get_size_inches()[0] == plots.FIGSIZE[0] and fig.get_size_inches()[1] > plots.FIGSIZE[1]
    assert a2.get_xlabel() == "trading day relative to the event (day 0 = 2025-12-15)"
    assert a1.get_ylabel().endswith("(%)") and a2.get_ylabel() == "gap: treated - synthetic (%)"
    assert "a synthetic control (a weighted mix of a pool of 7 donor firms)" in fig._suptitle.get_text().replace("\n", " ")
    assert _source_text(fig) == "Source: test data"


def test_specification_curve_and_null_figures_follow_the_palette():
    from analysis.robustness import specification_curve

    sc = specification_curve(offline=True, models=("market",), estimation_windows=((-250, -11),),
                             event_windows=((0, 1),))
    fig = sc.plot(source="Source: test data")
    top, bottom = fig.axes[:2]
    est = next(ln for ln in top.get_lines() if ln.get_gid() == "estimates")
    assert _hex(est.get_color()) == plots.GROUP_COLORS["difference"]
    sig = next(ln for ln in top.get_lines() if ln.get_label().startswith("placebo p <"))
    assert _hex(sig.get_color()) == plots.EXTRA_COLORS["highlight"]
    assert fig.get_size_inches()[0] == plots.FIGSIZE[0]
    assert top.get_title().replace("\n", " ").startswith("The treated-minus-control CAAR difference under 10 "
                                                          "specifications")
    assert top.get_ylabel() == "CAAR difference,\ntreated - control (%)"
    assert bottom.get_xlabel().startswith("specification (sorted by the difference)")
    assert _source_text(fig) == "Source: test data"
    null = sc.null_test(5)
    nfig = null.plot(source="Source: test data")
    assert nfig.get_size_inches()[0] == plots.FIGSIZE[0]
    for ax, xlabel in zip(nfig.axes, ["median CAAR difference (%)", "share of significant specifications (%)"]):
        assert ax.get_xlabel() == xlabel
        (event,) = ax.lines
        assert _hex(event.get_color()) == plots.EXTRA_COLORS["highlight"]
    assert nfig.axes[0].get_ylabel() == "pseudo-events (count)"
    assert "against 5 days without news" in nfig._suptitle.get_text().replace("\n", " ")


def test_every_notebook_opens_with_the_key_findings_box():
    """Title cell, parameters, then the cell that shows the box: before any other text, as in every notebook."""
    from pathlib import Path

    import nbformat

    from analysis.params import NOTEBOOKS

    root = Path(__file__).resolve().parents[1] / "notebooks"
    for name in ("robustness", "cross_section", "event_study", "potash_prices", "event_catalog"):
        assert name in NOTEBOOKS
        cells = nbformat.read(root / f"{name}.ipynb", 4).cells
        first = next(i for i, c in enumerate(cells) if "rec.key_findings(" in c.source)
        text = [i for i, c in enumerate(cells) if c.cell_type == "markdown"]
        assert text[0] == 0 and cells[0].source.startswith("# ") and "\n" not in cells[0].source.strip(), name
        assert text[1] > first, name
        assert all(c.cell_type == "code" and not c.outputs for c in cells[1:first + 1]), name
