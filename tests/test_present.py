"""Issue 14: the presentation layer (analysis.present), the Key findings box (analysis.findings),
the catalog's conclusion (analysis.narrative) and the self-explaining figures (analysis.plots).

Display values are checked against numbers computed here independently (``f"{x * 100:.2f}%"``
on the engine's own output, plain counts, scipy's binomial test); the CSV and ``results.json``
keep full precision.
"""

from __future__ import annotations

import json
import math
import re
import struct

import matplotlib
import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import findings, narrative, plots, present
from analysis.errors import ReportError
from analysis.recorder import Recorder

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def dec2021():
    """December 2021 (us-bpc-designated-2021): LXU has no data yet, so the engine excludes it."""
    from analysis.data import load_returns
    from analysis.eventstudy import compare_groups, event_study

    from analysis.eventstudy import EventStudyWarning

    treated, control = ["NTR", "MOS", "IPI", "ICL"], ["CF", "LXU"]
    r = load_returns(treated + control + ["SPY"], offline=True)
    with pytest.warns(EventStudyWarning, match="LXU"):  # the engine says it drops LXU ...
        out = {m: event_study(r[treated + control], r["SPY"], "2021-12-02", model=m)
               for m in ("market", "market_adjusted", "constant_mean")}
        out["groups"] = compare_groups(out["market"], treated, control)
    out["firms"] = treated + control
    return out


def rows(styler) -> list[list[str]]:
    """The rendered table as text rows (header row first), tags stripped, entities unescaped."""
    import html as _html

    page = styler.to_html()
    out = []
    for tr in re.findall(r"<tr>(.*?)</tr>", page, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)
        out.append([_html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return out


def caption(styler) -> str:
    import html as _html

    found = re.findall(r"<caption>(.*?)</caption>", styler.to_html(), re.S)
    return _html.unescape(found[0].replace("<br>", "\n")) if found else ""


# --------------------------------------------------------------------------- headers and values
def test_headers_in_words_never_an_underscore(dec2021):
    assert present.header("caar_treated") == "CAAR treated"
    assert present.header("p_crude_dependence") == "p (crude dependence)"
    assert present.header("cum_change_pct") == "cumulative change"
    assert present.header("beta_urea") == "beta (urea)" and present.header("se_urea") == "SE (urea)"
    assert present.header("t_cross_sectional") == "t (cross-sectional)"
    names = set(dec2021["market"].to_frame().columns) | set(dec2021["groups"].to_frame().columns)
    names |= set(dec2021["market"].params.columns) | {"volume_p_rank", "share_expected_diff", "first_session", "x__y_"}
    for n in names:
        assert "_" not in present.header(n), n


@pytest.mark.parametrize("value,kind,text", [
    (-0.043358, "pct", "-4.34%"), (0.0, "pct", "0.00%"), (-0.00004, "pct", "0.00%"), (-0.0000001, "stat", "0.00"),
    (-0.004, "stat", "0.00"), (-0.006, "stat", "-0.01"), (0.0004, "p", "< 0.001"), (0.001, "p", "0.001"),
    (0.06253, "p", "0.063"), (1.0, "p", "1.000"), (float("nan"), "pct", "–"), (None, "text", "–"),
    (pd.NA, "int", "–"), (float("inf"), "stat", "–"), (240, "int", "240"), (4.0, "int", "4"), (0.625, "share", "62%"),
    (1.2946996, "pct_points", "1.29%"), (pd.Timestamp("2021-06-21"), "date", "2021-06-21"),
    (pd.Timestamp("2025-12-13 11:49"), "date", "2025-12-13 11:49"), (True, "bool", "yes"), ("a<b", "text", "a<b"),
])
def test_format_value(value, kind, text):
    assert present.format_value(value, kind) == text


def test_column_kinds_of_real_tables(dec2021):
    fit = dec2021["market"].params.reset_index()
    assert {c: present.column_kind(c, fit[c]) for c in fit.columns} == {
        "firm": "text", "alpha": "pct", "beta": "stat", "sigma": "pct", "m": "int", "r2": "stat"}
    g = dec2021["groups"].to_frame()
    assert [present.column_kind(c, g[c]) for c in g.columns] == [
        "text", "pct", "pct", "pct", "stat", "p", "p", "int", "int"]
    assert present.column_kind("volume_caar") == "stat" and present.column_kind("mean_scar_treated") == "stat"
    assert present.column_kind("pct_car") == "stat" and present.column_kind("se_potash") == "stat"
    assert present.column_kind("se_diff") == "pct" and present.column_kind("session", pd.Series(
        pd.to_datetime(["2021-06-21"]))) == "date"


# --------------------------------------------------------------------------- display_table
def test_display_rounds_only_the_display(dec2021, tmp_path):
    """The shown CAARs are the engine's numbers rounded here; the CSV keeps every digit."""
    g = dec2021["groups"].to_frame()
    shown = rows(present.display_table(g))
    assert shown[0][:4] == ["window", "CAAR treated", "CAAR control", "treated − control"]
    for got, (_, r) in zip(shown[1:], g.iterrows()):
        assert got[1] == f"{r['caar_treated'] * 100:.2f}%".replace("-0.00%", "0.00%")
        assert got[5] == (f"{r['p_crude_dependence']:.3f}" if r["p_crude_dependence"] >= 0.001 else "< 0.001")
        assert got[7] == str(int(r["n_treated"]))
    rec = Recorder(tmp_path, "x")
    rec.table("groups", g)
    back = pd.read_csv(tmp_path / "tables" / "x_groups.csv")
    np.testing.assert_array_equal(back["caar_treated"].to_numpy(), g["caar_treated"].to_numpy())  # full precision


def test_columns_that_do_not_apply_to_the_model_are_dropped(dec2021):
    for model, gone, kept in (("market", [], ["alpha", "beta", "residual sd", "estimation returns", "R²"]),
                              ("market_adjusted", ["alpha", "beta", "R²"], ["residual sd", "estimation returns"]),
                              ("constant_mean", ["beta", "R²"], ["alpha", "residual sd", "estimation returns"])):
        res = dec2021[model]
        styler = present.display_table(res.params, model=model, excluded=res, firms=dec2021["firms"])
        head = rows(styler)[0]
        assert head == ["firm"] + kept, model
        note = caption(styler)
        assert (present.MODEL_NOTES[model] in note) if gone else ("R²" not in note), model
        assert "nan" not in " ".join(" ".join(r) for r in rows(styler)).lower()


def test_an_excluded_firm_gets_dashes_and_the_engines_reason(dec2021):
    res = dec2021["market"]
    assert "LXU" not in res.car.columns  # the engine leaves it out ...
    styler = present.display_table(res.car, kind="pct", excluded=res, firms=dec2021["firms"])
    table = rows(styler)
    assert table[0] == ["window"] + dec2021["firms"]  # ... the display puts it back, every cell '–'
    assert [r[-1] for r in table[1:]] == ["–"] * len(res.windows)
    assert table[1][1] == f"{res.car.iloc[0]['NTR'] * 100:.2f}%"
    (note,) = [n for n in res.sample_notes() if n.startswith("LXU")]
    assert caption(styler) == f"–: {note}"  # the same sentence as the engine's sample note


def test_missing_values_say_why_and_unnamed_indexes_are_hidden():
    t = pd.DataFrame({"event_id": ["a", "b"], "caar_treated": [0.01, np.nan], "confounders": [np.nan, "x"]},
                     index=[3, 7])
    styler = present.display_table(t, missing={"caar_treated": "not covered", "confounders": "none in the window"})
    assert rows(styler)[0] == ["event", "CAAR treated", "confounders"]  # no 3, 7 index column
    assert rows(styler)[2][1] == "–" and caption(styler) == "–: not covered\nnone in the window"
    generic = caption(present.display_table(t))
    assert generic == "–: no value for CAAR treated, confounders"
    named = pd.DataFrame({"x": [1.0]}, index=pd.Index(["(0,1)"], name="window"))
    assert rows(present.display_table(named))[0] == ["window", "x"]


def test_everything_is_escaped_and_titles_wrap():
    evil = "<script>alert(1)</script>" + " long title" * 10
    t = pd.DataFrame({"title": [evil], "<b>col</b>": [1.0]})
    page = present.display_table(t, caption="a < b").to_html()
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;col&lt;/b&gt;" in page
    assert "a &lt; b" in page
    assert "white-space: normal" in page and "min-width: 16em" in page  # a long text column wraps
    assert evil.replace("<", "&lt;").replace(">", "&gt;") in page  # never cut


def test_an_empty_table_of_any_dtype_renders_its_headers():
    empty = pd.DataFrame({"first_session": pd.to_datetime([]), "members": pd.Series([], dtype=str),
                          "size": pd.Series([], dtype="int64"), "p_value": pd.Series([], dtype=float)})
    styler = present.display_table(empty)
    assert rows(styler) == [["first session", "members", "size", "p-value"]] and caption(styler) == ""


def test_code_identifiers_and_gradient():
    t = pd.DataFrame({"parameter": ["estimation_window"], "value": ["[-250, -11]"]})
    page = present.display_table(t, kinds={"parameter": "code"}).to_html()
    assert "<code>estimation_window</code>" in page
    grid = pd.DataFrame({"NTR": [0.05, -0.05]}, index=pd.Index([0, 1], name="day"))
    page = present.display_table(grid, kind="pct", gradient=("RdBu", -0.06, 0.06)).to_html()
    assert page.count("background-color") >= 2 and ">5.00%<" in page and ">0<" in page  # day stays an integer
    with pytest.raises(ReportError, match="duplicate"):
        present.display_table(pd.DataFrame([[1, 2]], columns=["a", "a"]))


def test_test_grid_names_tests_in_words_and_formats_p(dec2021):
    t = dec2021["market"].tests.copy()
    t.loc[(t["window"] == "(0,0)") & (t["test"] == "wilcoxon"), ["statistic", "p_value"]] = np.nan
    t.loc[(t["window"] == "(0,1)") & (t["test"] == "patell_z"), "p_value"] = 0.0002
    styler = present.highlight_tests(t)
    table = rows(styler)
    assert table[0] == ["window"] + [present.TEST_NAMES[x] for x in dict.fromkeys(t["test"])]
    row = dict(zip(table[0], table[[r[0] for r in table].index("(0,1)")]))
    assert row["Patell Z"].endswith("(< 0.001)")
    caar = dec2021["market"].caar["(0,1)"]
    assert row["placebo"].startswith(f"{caar * 100:.2f}%")
    assert dict(zip(table[0], table[[r[0] for r in table].index("(0,0)")]))["Wilcoxon signed rank"] == "–"
    assert "–: the test gives no value" in caption(styler)
    assert "font-weight: bold" in styler.to_html()
    assert rows(present.highlight_tests(t, percent=False))[3][-1].startswith(f"{caar:.2f} (")


# --------------------------------------------------------------------------- the Key findings box
def test_commodity_source_in_words():
    assert findings.commodity_source("2026-05-04; after 2026-06 (rounded copy)") == (
        "World Bank Pink Sheet, May 2026 release; later months from the June 2026 release")
    assert findings.commodity_source("2026-11-03") == "World Bank Pink Sheet, November 2026 release"
    assert findings.commodity_source("downloaded 2026-12-01") == "World Bank Pink Sheet, download of 2026-12-01"
    assert findings.commodity_source(None) == "World Bank Pink Sheet (release not recorded)"
    text = findings.data_vintage()
    assert text.startswith("Share prices: curated snapshot, prices to 2026-09-15.") and "May 2026 release" in text
    assert "(2 series from the cache" in findings.data_vintage(sources={"A": "snapshot", "B": "cache", "C": "cache"})


def _es_results(**extra):
    key = {"window": "(0,1)", "test": "placebo", "caar_treated": -0.0433578, "p_value": 0.0625, "n": 4,
           "n_control": 2, "caar_control": -0.0136, "diff": -0.0297, "p_placebo_diff": 0.2125, "excluded": []}
    return {"notebook": "event_study", "conclusion": "On <b>x</b>, the CAAR was -4.34%.", "key": key, "notes": [],
            "data_vintage": "Share prices: curated snapshot.", **extra}


def test_key_findings_of_each_notebook():
    box = findings.key_findings(_es_results(volume={"window": "(0,1)", "caar": 1.0381, "p_rank": 0.0178,
                                                    "p_volatility_day0": 0.1502, "mean_sar2_day0": 1.69}))
    assert [(r["value"], r["evidence"]) for r in box["numbers"]] == [
        ("-4.34%", "p = 0.062 (placebo)"), ("-1.36%", "the comparison group"), ("-2.97%", "p = 0.212 (placebo)"),
        ("1.04", "p = 0.018 (Corrado rank)"), ("1.69", "p = 0.150 (chi-square)")]
    cat = findings.key_findings({"notebook": "event_catalog", "conclusion": "C.", "key": {
        "n_events": 24, "n_covered": 24, "alpha": 0.05, "n_placebo_significant": 5, "sign_consistency": [
            {"kind": "tightening", "n_votes": 8, "share_expected_treated": 0.75, "share_expected_diff": 0.625}]}})
    assert [r["value"] for r in cat["numbers"]] == ["24 of 24", "6 of 8 votes", "5 of 8 votes"]
    assert cat["numbers"][1]["evidence"] == f"p = {stats.binomtest(6, 8).pvalue:.3f} (sign test)"
    rob = findings.key_findings({"notebook": "robustness", "conclusion": "R.", "key": {
        "n_specifications": 360, "n_ok": 358, "median_diff": -0.0137, "p_null_median": 0.439,
        "share_significant": 0.0, "p_null_share": 1.0}})
    assert [r["value"] for r in rob["numbers"]] == ["358 of 360", "-1.37%", "0%"]
    cs = findings.key_findings({"notebook": "cross_section", "sentence": "S.", "key": {"available": False}})
    assert cs["conclusion"] == "S." and cs["numbers"] == []
    cs = findings.key_findings({"notebook": "cross_section", "conclusion": "S.", "key": {
        "window": "(0,1)", "mean_scar_treated": -1.3557, "p_in_space": 0.0004, "caar_treated": -0.04324,
        "p_in_space_car": 0.0001, "p_in_space_diff": 0.1516, "n_donors": 40, "p_synthetic": 0.634}})
    assert [(r["value"], r["evidence"]) for r in cs["numbers"]] == [  # each number with its own statistic's p
        ("-1.36", "p < 0.001 (in space, SCAR), 40 donors"), ("-4.32%", "p < 0.001 (in space, raw CAR), 40 donors"),
        ("mean SCAR difference", "p = 0.152 (in space, SCAR)"), ("placebo in space", "p = 0.634 (synthetic)")]
    other = findings.key_findings({"notebook": "mine", "verdict": "V.", "notes": [{"text": "n1"}, "n1", "n2"]})
    assert other == {"conclusion": "V.", "numbers": [], "notes": ["n1", "n2"], "vintage": None}


def test_key_findings_html_is_escaped_and_lists_a_few_notes():
    notes = [{"text": f"note <{i}>"} for i in range(findings.MAX_NOTES + 3)]
    page = findings.key_findings_html(_es_results(notes=notes))
    assert page.startswith('<div class="key-findings"') and page.count("<h2>Key findings</h2>") == 1
    assert "On &lt;b&gt;x&lt;/b&gt;" in page and "<b>x" not in page
    assert "note &lt;0&gt;" in page and f"note &lt;{findings.MAX_NOTES}&gt;" not in page
    assert "and 3 more: see the Sample notes box" in page
    assert "<td" in page and "p = 0.062 (placebo)" in page and "Share prices: curated snapshot." in page
    pending = findings.key_findings_html(_es_results(), pending=True)
    assert "once it has finished computing" in pending and "-4.34%" not in pending


def test_recorder_shows_the_box_and_every_save_refreshes_it(monkeypatch, tmp_path):
    shown = []

    class Handle:
        def update(self, obj):
            shown.append(("update", obj.data))

    def fake_display(obj, display_id=None):
        shown.append(("display", obj.data))
        return Handle()

    import IPython.display

    monkeypatch.setattr(IPython.display, "display", fake_display)
    rec = Recorder(tmp_path, "event_study")
    rec.save()
    assert shown == []  # no box asked for: nothing displayed
    rec.key_findings("Share prices: curated snapshot.")
    assert shown[0][0] == "display" and "once it has finished computing" in shown[0][1]
    for k, v in _es_results().items():
        if k != "notebook":
            rec[k] = v
    rec.save()
    assert shown[-1][0] == "update" and "-4.34%" in shown[-1][1] and "curated snapshot" in shown[-1][1]
    saved = json.loads((tmp_path / "results" / "event_study.json").read_text())
    assert saved["data_vintage"] == "Share prices: curated snapshot." and saved["key"]["p_value"] == 0.0625
    Recorder(None, "x").save()  # without an output_dir nothing is written, and nothing breaks


# --------------------------------------------------------------------------- key numbers and the catalog's conclusion
def test_sign_test_p_against_scipy():
    for n in range(1, 13):
        for k in range(n + 1):
            assert narrative.sign_test_p(k, n) == pytest.approx(stats.binomtest(k, n).pvalue, rel=1e-12), (k, n)
    for bad in ((5, 4), (-1, 3), (1, 0), (1.5, 3), (True, 2)):
        with pytest.raises(ReportError):
            narrative.sign_test_p(*bad)


def _cons(*rows_):
    return pd.DataFrame(rows_, columns=["kind", "expected_sign", "n_votes", "share_expected_treated",
                                        "share_expected_diff"])


def test_catalog_conclusion_each_branch():
    cc = narrative.catalog_conclusion
    none = cc(_cons(), window="(0,1)", n_events=7, n_covered=0)
    assert none.startswith("None of the 7 catalog events is covered") and "coin" not in none
    text = cc(_cons(("tightening", 1, 8, 0.75, 0.625), ("easing", -1, 4, 1.0, 0.5)), window="(0,1)",
              n_events=24, n_covered=24)
    assert text.startswith("All 24 catalog events are covered by the data")
    assert "moved the expected way (up) in 6 of 8 votes: not distinguishable from a coin flip (sign test p = 0.289)" in text
    assert "(down) in 4 of 4 votes: every time, but with 4 votes even that is not distinguishable" in text
    assert "in 2 of 4: an even split, exactly what a coin flip gives (sign test p = 1.000)" in text
    assert text.endswith("not as a test of each event.")
    strong = cc(_cons(("tightening", 1, 10, 1.0, 0.0)), window="(0,1)", n_events=12, n_covered=11)
    assert strong.startswith("Of the 12 catalog events, 11 are covered")
    assert "in 10 of 10 votes: more often than a coin flip would give at the 5% level (sign test p = 0.002)" in strong
    assert "in 0 of 10: less often than a coin flip would give at the 5% level" in strong
    never = cc(_cons(("easing", -1, 3, 0.0, 1 / 3)), window="(0,1)", n_events=3, n_covered=3)
    assert "in 0 of 3 votes: never, but with 3 votes even that" in never
    single = cc(_cons(("easing", -1, 1, 1.0, 0.0)), window="(0,1)", n_events=1, n_covered=1)
    assert "in 1 of 1 vote: a single vote, which cannot be told from a coin flip (sign test p = 1.000)" in single
    zero = cc(_cons(("easing", -1, 0, float("nan"), float("nan"))), window="(0,1)", n_events=2, n_covered=1)
    assert "No easing event is covered, so there is no easing vote." in zero
    table = pd.DataFrame({"status": ["ok", "ok", "ok", "insufficient data"], "p_placebo": [0.01, 0.2, 0.04, np.nan]})
    counted = cc(_cons(("easing", -1, 3, 2 / 3, 1 / 3)), window="(0,1)", n_events=4, n_covered=3, table=table)
    assert ("Event by event, 2 of 3 covered events have a treated-minus-control placebo p below 5% (about 0.2 would "
            "by chance alone)") in counted
    table.loc[0, "p_placebo"] = 0.5
    one = cc(_cons(("easing", -1, 3, 2 / 3, 1 / 3)), window="(0,1)", n_events=4, n_covered=3, table=table)
    assert "Event by event, 1 of 3 covered events has a treated-minus-control placebo p" in one
    with pytest.raises(ReportError, match="whole number"):
        cc(_cons(("easing", -1, 3, 0.5, 0.5)), window="(0,1)", n_events=3, n_covered=3)
    with pytest.raises(ReportError, match="alpha"):
        cc(_cons(), window="(0,1)", n_events=1, n_covered=1, alpha=1.5)


def test_catalog_and_commodity_key_numbers_count_directly():
    from analysis.catalog_study import study_catalog
    from analysis.commodities import event_potash_path, potash_sensitivity

    study = study_catalog(offline=True)
    key = findings.catalog_key_numbers(study, "(0,1)")
    t = study.to_frame("(0,1)")
    assert key["n_placebo_significant"] == sum(1 for _, r in t.iterrows() if r["status"] == "ok" and r["p_placebo"] < 0.05)
    treated = ["NTR", "MOS", "IPI", "ICL"]
    sens = potash_sensitivity(treated + ["CF"], market="SPY", offline=True)
    ck = findings.commodity_key_numbers(event_potash_path("us-potash-easing-2025"), sens, treated)
    frame = sens.to_frame().set_index("ticker")
    assert ck["n_beta_treated"] == 4
    assert ck["n_beta_significant"] == sum(frame.loc[x, "p_potash"] < 0.05 for x in treated)
    assert ck["mean_beta_treated"] == pytest.approx(frame.loc[treated, "beta_potash"].mean())


# --------------------------------------------------------------------------- figures
def test_price_chart_numbers_every_event_in_range_and_marks_the_break():
    from analysis.catalog import load_events
    from analysis.commodity_data import load_commodity_notes, load_commodity_prices

    prices = load_commodity_prices(source="bundled")
    events = load_events().query("kind != 'confounder'")
    notes = load_commodity_notes()  # data/commodity_notes.csv: the break is case data
    part = prices.loc[pd.Period("2023-06", "M"):]
    fig = plots.plot_commodity_prices(part, events, notes=notes)
    ax = fig.axes[0]
    in_range = events[(pd.to_datetime(events["date"]) >= pd.Timestamp("2023-06-01"))]
    labels = [t for t in ax.texts if str(t.get_gid()).startswith("event-label:")]
    assert len(labels) == len(in_range) == 6  # the 2025-2026 news only
    key = plots.event_legend(events, part)
    assert [t.get_text() for t in labels] == [str(n) for n in key["no"]]
    assert [t.get_gid()[12:] for t in labels] == list(key["event_id"])
    assert list(key["date"].astype(str)) == sorted(in_range["date"].astype(str))
    (brk,) = [t for t in ax.texts if str(t.get_gid()).startswith("break:")]
    assert brk.get_gid() == "break:phosphate_rock:2023-12" and "level break" in brk.get_text()
    assert "347.5 to 152.5" in brk.get_text().replace("\n", " ")
    assert ax.get_title() == "Monthly fertilizer prices and the catalog's events (numbered)"
    assert ax.get_ylabel() == "US$ per metric tonne (nominal)" and "month" in ax.get_xlabel()
    assert fig.get_supxlabel() == ("Source: World Bank Pink Sheet, May 2026 release; later months from the June "
                                   "2026 release")
    assert tuple(fig.get_size_inches()) == plots.FIGSIZE
    # no phosphate rock drawn, or a span after the break: no annotation
    for fig2 in (plots.plot_commodity_prices(prices, series="potash", notes=notes), plots.plot_commodity_prices(prices),
                 plots.plot_commodity_prices(prices.loc[pd.Period("2024-06", "M"):], notes=notes)):
        assert not [t for t in fig2.axes[0].texts if str(t.get_gid()).startswith("break:")]
    one = plots.plot_commodity_prices(part, events[events["event_id"] == "us-potash-easing-2025"])
    assert [t.get_text() for t in one.axes[0].texts if str(t.get_gid()).startswith("event-label:")] == [
        "us-potash-easing-2025"]


def test_caar_figure_palette_title_labels_and_source(dec2021):
    fig = plots.plot_caar(dec2021["groups"], source="daily total returns, curated snapshot")
    ax = fig.axes[0]
    colors = {ln.get_label(): mcolors.to_hex(ln.get_color()) for ln in ax.lines if not ln.get_label().startswith("_")}
    assert colors == {"treated CAAR (NTR, MOS, IPI, ICL)": plots.GROUP_COLORS["treated"],
                      "control CAAR (CF)": plots.GROUP_COLORS["control"],
                      "treated - control": plots.GROUP_COLORS["difference"]}
    assert ax.get_title() == "Cumulative abnormal return around 2021-12-02"
    assert ax.get_ylabel() == "cumulative abnormal return (%)"
    assert ax.get_xlabel().startswith("trading day relative to the event (day 0 = 2021-12-02)")
    assert fig.get_supxlabel() == "Source: daily total returns, curated snapshot"
    long = plots.plot_caar(dec2021["groups"], title="x " * 60).axes[0].get_title()
    assert "\n" in long and long.replace("\n", " ").split() == ["x"] * 60  # wrapped, never cut


def test_caar_figure_of_another_measure_says_so():
    from analysis.volume import load_volumes, volume_study

    treated = ["NTR", "MOS", "IPI", "ICL"]
    v = volume_study(load_volumes(treated, offline=True)[treated], None, "2025-12-15")
    ax = plots.plot_caar(v).axes[0]
    assert ax.get_ylabel() == "cumulative abnormal log volume"  # not a percent
    assert "95% null band (H0: no abnormal log volume)" in ax.get_legend_handles_labels()[1]
    (path,) = [ln for ln in ax.lines if ln.get_marker() == "o"]
    np.testing.assert_allclose(path.get_ydata(), v.caar_path.to_numpy())


def test_sensitivity_bars_take_the_role_colours():
    table = pd.DataFrame({"ticker": ["CF", "NTR", "LXU"], "group": ["nitrogen", "potash", "nitrogen"],
                          "beta_urea": [0.3, 0.1, 0.2], "se_urea": [0.1, 0.1, 0.1], "nobs": [60, 60, 60]})
    table.attrs["series"] = "urea"
    fig = plots.plot_sensitivity(table, treated=["CF", "LXU"], control=["NTR"], source="monthly returns")
    ax = fig.axes[0]
    bars = [mcolors.to_hex(b.get_facecolor()) for b in ax.patches if b.get_height() != 0]
    assert bars == [plots.GROUP_COLORS["treated"], plots.GROUP_COLORS["control"], plots.GROUP_COLORS["treated"]]
    legend = {t.get_text(): mcolors.to_hex(h.get_facecolor())
              for t, h in zip(ax.get_legend().get_texts(), ax.get_legend().legend_handles)}
    assert legend == {"nitrogen": plots.GROUP_COLORS["treated"], "potash": plots.GROUP_COLORS["control"]}
    assert ax.get_ylabel() == "beta on monthly urea price change"
    assert ax.get_title().startswith("How each firm's monthly return moves with the urea price")
    assert fig.get_supxlabel() == "Source: monthly returns"


def test_forest_and_group_panels_titles(tmp_path):
    from analysis.catalog_study import study_catalog

    study = study_catalog(offline=True)
    fig = plots.plot_forest(study.to_frame(), "(0,1)", source="x")
    ax = fig.axes[0]
    assert ax.get_title() == "Treated minus control CAAR per catalog event, window (0,1)"
    assert ax.get_xlabel() == "treated − control CAAR (0,1) (%), 95% CI"
    assert fig.get_size_inches()[0] == plots.FIGSIZE[0]
    rec = Recorder(tmp_path, "nb")
    rec.figure("forest", fig)
    data = (tmp_path / "figures" / "nb_forest.png").read_bytes()
    w, h = struct.unpack(">II", data[16:24])
    i = data.find(b"pHYs")
    assert w == 1200 and h == round(fig.get_size_inches()[1] * 150)
    assert round(struct.unpack(">I", data[i + 4:i + 8])[0] * 0.0254) == 150
    panels = plots.plot_group_caar(study, event_ids=["us-potash-easing-2025"])
    assert panels._suptitle.get_text() == "Treated and control CAAR around each catalog event"
    (line,) = [ln for ln in panels.axes[0].lines if ln.get_label() == "treated"]
    assert mcolors.to_hex(line.get_color()) == plots.GROUP_COLORS["treated"]
    assert not math.isnan(float(line.get_ydata()[0]))


def test_commodity_notes_are_case_data_with_file_line_errors(tmp_path):
    import shutil

    from analysis.commodity_data import load_commodity_notes
    from analysis.errors import DataError

    case = tmp_path / "case"
    shutil.copytree(__import__("analysis").config.data_dir(), case)
    notes = load_commodity_notes(case)
    assert notes.to_dict("records") == [{"series": "phosphate_rock", "month": pd.Period("2023-12", "M"),
                                         "kind": "level break", "note": "347.5 to 152.5 $/mt, flat after"}]
    (case / "commodity_notes.csv").write_text("series,month,kind,note\nurea,2026-3,spike,Hormuz\n")
    with pytest.raises(DataError, match=r"commodity_notes.csv:2: month '2026-3' is not YYYY-MM"):
        load_commodity_notes(case)
    (case / "commodity_notes.csv").write_text("series,month,note\n")
    with pytest.raises(DataError, match=r"commodity_notes.csv:1: expected the header series,month,kind,note"):
        load_commodity_notes(case)
    (case / "commodity_notes.csv").unlink()
    assert load_commodity_notes(case).empty  # no file: no notes

