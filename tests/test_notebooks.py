"""The three notebooks, executed through the report runner, on two cases.

* the bundled potash case (``data/``), with the CLI's defaults: the December 2025 suite;
* the second case in ``tests/fixtures/urea_case`` (nitrogen producers against potash
  producers, urea, the 2026 Strait of Hormuz closure), selected only through
  ``POTASH_IMPACT_DATA`` with **no parameter given**: the notebooks must produce that
  case's report, proving they hard-code nothing of the potash case.

Each suite runs once for the module (this file's three notebooks, three kernels each: the
slow part; the other notebooks of ``params.NOTEBOOKS`` have their own tests). The tests then
check the published numbers against the library computed directly in this process, so a
notebook that silently drifted from ``analysis`` fails.
"""

from __future__ import annotations

import ast
import hashlib
import json
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from analysis import cli, config, params

HERE = Path(__file__).resolve().parent
NOTEBOOK_DIR = HERE.parent / "notebooks"
FIXTURE = HERE / "fixtures" / "urea_case"
NOTEBOOKS = ("event_study", "potash_prices", "event_catalog")
RUN_PREFIX = "2025-12-13_us-potash-easing-2025_"
UREA_PREFIX = "2026-02-28_iran-hormuz-2026_"


def _run_suite(base: Path, prefix: str, data: Path | None, argv: list[str]) -> dict:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POTASH_IMPACT_CACHE", str(base / "cache"))
        mp.setenv("POTASH_IMPACT_OFFLINE", "1")
        if data is None:
            mp.delenv("POTASH_IMPACT_DATA", raising=False)
        else:
            mp.setenv("POTASH_IMPACT_DATA", str(data))
        code = cli.main(["report", *argv, "--notebooks", *NOTEBOOKS, "--jobs", "2", "--out", str(base / "reports"),
                         "--quiet"])
    runs = [d for d in (base / "reports").iterdir() if d.name.startswith(prefix)]
    assert len(runs) == 1, sorted(p.name for p in (base / "reports").iterdir())
    run = runs[0]
    return {
        "code": code,
        "out": base / "reports",
        "dir": run,
        "manifest": json.loads((run / "manifest.json").read_text()),
        "results": json.loads((run / "results.json").read_text()),
        "html": {nb: (run / f"{nb}.html").read_text() for nb in NOTEBOOKS if (run / f"{nb}.html").is_file()},
        "ipynb": {nb: nbformat.read(run / f"{nb}.ipynb", as_version=4) for nb in NOTEBOOKS
                  if (run / f"{nb}.ipynb").is_file()},
    }


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    """``potash-impact report --offline`` on the bundled case (this file's three notebooks), into a private folder."""
    return _run_suite(tmp_path_factory.mktemp("suite"), RUN_PREFIX, None, ["--offline"])


@pytest.fixture(scope="module")
def urea(tmp_path_factory):
    """``POTASH_IMPACT_DATA=tests/fixtures/urea_case potash-impact report``: no parameter at all (three notebooks)."""
    return _run_suite(tmp_path_factory.mktemp("urea"), UREA_PREFIX, FIXTURE, [])


@pytest.fixture(scope="module")
def direct():
    """The default study computed here, without any notebook."""
    from analysis.data import load_returns
    from analysis.eventstudy import compare_groups, event_study

    treated, control = ["NTR", "MOS", "IPI", "ICL"], ["CF", "LXU"]
    r = load_returns(treated + control + ["SPY"], offline=True)
    res = event_study(r[treated], r["SPY"], "2025-12-15")
    both = event_study(r[treated + control], r["SPY"], "2025-12-15")
    return {"treated": res, "groups": compare_groups(both, treated, control).to_frame()}


# --------------------------------------------------------------------------- helpers
class _Scan(HTMLParser):
    """Elements of an nbconvert page: stderr output blocks and embedded images."""

    def __init__(self):
        super().__init__()
        self.stderr = 0
        self.images = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("data-mime-type") == "application/vnd.jupyter.stderr" or "output_stderr" in (a.get("class") or ""):
            self.stderr += 1
        if tag == "img" and (a.get("src") or "").startswith("data:image/png;base64,"):
            self.images += 1


def scan(html: str) -> _Scan:
    s = _Scan()
    s.feed(html)
    return s


def outputs(nb, kind: str) -> list:
    """Every output of a given mime type (or stream name) in an executed notebook, in order."""
    found = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            if o.get("output_type") == "stream" and o.get("name") == kind:
                found.append(o["text"])
            elif kind in o.get("data", {}):
                found.append(o["data"][kind])
    return found


# --------------------------------------------------------------------------- the notebooks as files
def test_parameter_cells_hold_every_parameter_and_default_to_none():
    """No notebook hard-codes a case: each parameter is None and resolves through analysis.params."""
    for name in NOTEBOOKS:
        nb = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, name
        values = {t.id: ast.literal_eval(n.value) for n in ast.parse(tagged[0].source).body for t in n.targets}
        assert list(values) == list(params.SCHEMA), name
        assert set(values.values()) == {None}, name
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), f"{name}: outputs not stripped"
        source = "\n".join(c.source for c in code)
        for literal in ("potash producer", "nitrogen control", "us-potash-easing-2025", '"SPY"', "NTR", "0.05"):
            assert literal not in source, f"{name} hard-codes {literal}"
        assert "warnings.catch_warnings" not in source and "print(" not in source


def test_fixture_case_is_cut_from_the_snapshot():
    """Every price row of the fixture is a byte-for-byte row of data/prices; events differ only in kind."""
    data = config.REPO_DIR / "data"
    for csv in sorted((FIXTURE / "prices").glob("*.csv")):
        mine = csv.read_bytes().splitlines(keepends=True)
        theirs = (data / "prices" / csv.name).read_bytes().splitlines(keepends=True)
        assert mine[0] == theirs[0]
        start = theirs.index(mine[1])
        assert theirs[start:start + len(mine) - 1] == mine[1:], csv.name  # one contiguous run of rows
    assert (FIXTURE / "commodity_prices.csv").read_bytes() == (data / "commodity_prices.csv").read_bytes()
    known = (data / "known_moves.csv").read_bytes().splitlines(keepends=True)
    assert set((FIXTURE / "known_moves.csv").read_bytes().splitlines(keepends=True)) <= set(known)
    ours = pd.read_csv(FIXTURE / "events.csv", dtype=str, keep_default_na=False).set_index("event_id")
    full = pd.read_csv(data / "events.csv", dtype=str, keep_default_na=False).set_index("event_id").loc[ours.index]
    pd.testing.assert_frame_equal(ours.drop(columns="kind"), full.drop(columns="kind"))
    manifest = json.loads((FIXTURE / "snapshot.json").read_text())
    for rel, sha in manifest["sha256"].items():
        assert hashlib.sha256((FIXTURE / rel).read_bytes()).hexdigest() == sha, rel
    assert "TEST FIXTURE" in (FIXTURE / "README.md").read_text()


# --------------------------------------------------------------------------- the potash suite
def test_suite_runs_clean(suite):
    assert suite["code"] == 0
    m = suite["manifest"]
    assert m["status"] == "ok"
    assert [n["name"] for n in m["notebooks"]] == list(NOTEBOOKS)
    assert all(n["status"] == "ok" and n["duration_s"] > 0 and n["html"] for n in m["notebooks"])


def test_event_study_results_match_the_engine(suite, direct):
    es = suite["results"]["event_study"]
    assert es["session"] == "2025-12-15"
    assert es["event"]["event_id"] == "us-potash-easing-2025"
    assert es["universe"] == {"treated": ["NTR", "MOS", "IPI", "ICL"], "control": ["CF", "LXU"], "benchmark": "SPY"}
    res = direct["treated"]
    key = es["key"]
    assert key["window"] == "(0,1)" and key["test"] == "placebo" and key["n"] == 4 and key["n_control"] == 2
    assert key["excluded"] == []
    assert key["caar_treated"] == pytest.approx(res.caar["(0,1)"], rel=1e-12)
    assert key["p_value"] == pytest.approx(
        res.tests.query("window == '(0,1)' and test == 'placebo'")["p_value"].iloc[0], rel=1e-12)
    assert es["caar"] == pytest.approx(res.caar.to_dict(), rel=1e-12)
    tests = pd.DataFrame(es["tests"])
    merged = tests.merge(res.tests, on=["window", "test"], suffixes=("", "_direct"))
    assert len(merged) == 50  # 5 windows x 10 tests
    np.testing.assert_allclose(merged["p_value"], merged["p_value_direct"], rtol=1e-10)
    groups = pd.DataFrame(es["groups"]).set_index("window")
    want = direct["groups"].set_index("window")
    np.testing.assert_allclose(groups["diff"], want["diff"], rtol=1e-12)
    assert key["diff"] == pytest.approx(want.loc["(0,1)", "diff"], rel=1e-12)
    assert {"ofac-gl13-2025", "mosaic-k3-fatality-2025", "mosaic-brazil-idle-2025"} <= {
        c["event_id"] for c in es["confounders"]}
    assert "-4.34%" in es["conclusion"] and "placebo" in es["conclusion"]
    assert "(NTR, MOS, IPI, ICL)" in es["conclusion"] and "Against the control firms (CF, LXU)" in es["conclusion"]
    assert es["vintage"].startswith("curated snapshot")
    assert es["notes"] == []  # every requested firm used: the notes box says so


def test_event_study_records_volume_and_volatility(suite):
    """results.json: main-window abnormal log volume, its rank and placebo p, day-0 volatility p (issue 12)."""
    from analysis.volume import load_volumes, volume_study

    es = suite["results"]["event_study"]
    v = es["volume"]
    treated = ["NTR", "MOS", "IPI", "ICL"]
    vr = volume_study(load_volumes(treated, offline=True)[treated], None, "2025-12-15")
    t = vr.tests.set_index(["window", "test"])
    assert v["window"] == "(0,1)" and v["firms"] == treated and v["measure"] == "log volume"
    assert v["caar"] == pytest.approx(vr.caar["(0,1)"], rel=1e-12)
    assert v["p_rank"] == pytest.approx(t.loc[("(0,1)", "corrado_rank"), "p_value"], rel=1e-12)
    assert v["p_placebo"] == pytest.approx(t.loc[("(0,1)", "placebo"), "p_value"], rel=1e-12)
    assert v["p_volatility_day0"] == pytest.approx(0.150158, abs=1e-6)
    assert es["volume_sentence"].startswith("Over (0,1), the trading volume of the treated firms (NTR, MOS, IPI, ICL)")
    assert "Volume and volatility" in suite["html"]["event_study"]


def test_potash_results_match_commodities(suite):
    from analysis.commodities import event_potash_path, potash_sensitivity

    pp = suite["results"]["potash_prices"]
    path = event_potash_path("us-potash-easing-2025", months_after=3)
    got = pd.DataFrame(pp["path"])
    assert list(got["month"]) == [str(m) for m in path.to_frame()["month"]]
    np.testing.assert_allclose(got["price"], path.to_frame()["price"])
    assert pp["verdict"] == path.verdict
    sens = potash_sensitivity(["NTR", "MOS", "IPI", "ICL", "CF", "LXU"], market="SPY", offline=True).to_frame()
    np.testing.assert_allclose(pd.DataFrame(pp["sensitivity"])["beta_potash"], sens["beta_potash"], rtol=1e-10)
    assert pp["key"]["cum_change_pct"] == pytest.approx(path.to_frame()["cum_change_pct"].iloc[-1])
    assert pp["key"]["series"] == "potash"
    short = sens.loc[sens["nobs"] < 36, "ticker"].tolist()
    assert short == ["LXU"]  # LXU's snapshot starts 2024-11: its betas rest on a short history
    assert [n["text"].split(" ")[0] for n in pp["notes"]] == short


def test_catalog_results_match_the_catalog_study(suite):
    from analysis.catalog_study import study_catalog

    ec = suite["results"]["event_catalog"]
    study = study_catalog(offline=True, event_windows=((-1, 1), (0, 0), (0, 1), (0, 5), (-5, 5)))
    assert ec["key"]["n_events"] == study.n_events == 24
    want = study.sign_consistency("(0,1)")
    got = pd.DataFrame(ec["sign_consistency"])
    assert list(got["kind"]) == list(want["kind"])
    np.testing.assert_allclose(got["share_expected_treated"], want["share_expected_treated"])
    assert len(ec["events"]) == 24


def test_catalog_header_states_the_firms_each_event_used(suite):
    """Finding 4 of issue 8: no "control CF, LXU" for the 2021-2022 events, where LXU has no data."""
    ec = suite["results"]["event_catalog"]
    events = pd.DataFrame(ec["events"]).set_index("event_id")
    assert events.loc["us-bpc-designated-2021", "control"] == "CF"
    assert events.loc["us-potash-easing-2025", "control"] == "CF, LXU"
    header = next(t for t in outputs(suite["ipynb"]["event_catalog"], "text/markdown") if "catalog events covered" in t)
    lines = header.splitlines()
    lone = next(ln for ln in lines if "control CF \\(LXU excluded" in ln)
    full = next(ln for ln in lines if "control CF, LXU:" in ln)
    assert "us-bpc-designated-2021" in lone and "us-bpc-designated-2021" not in full
    assert "us-potash-easing-2025" in full
    n_lone = int(lone.split("): ")[-1].split(" event")[0])
    assert n_lone == int((events["control"] == "CF").sum())
    assert any(n["text"].startswith("us-bpc-designated-2021: LXU excluded from every window") for n in ec["notes"])


def test_no_raw_warning_text_and_one_notes_box_per_page(suite, urea):
    for run in (suite, urea):
        for nb in NOTEBOOKS:
            assert outputs(run["ipynb"][nb], "stderr") == [], nb
            page = run["html"][nb]
            assert scan(page).stderr == 0, nb
            assert "Warning:" not in page and "warnings.warn" not in page, nb
            assert page.count('class="sample-notes"') == 1, nb


def test_each_figure_appears_exactly_once(suite):
    expected = {"event_study": 2, "potash_prices": 3, "event_catalog": 1}  # event_study: CAAR and volume paths
    for nb, n in expected.items():
        assert len(outputs(suite["ipynb"][nb], "image/png")) == n, nb
        assert scan(suite["html"][nb]).images == n, nb


def test_caar_caption_reads_the_null_band(suite):
    assert "a path outside the grey band is unusual at 5%" in suite["html"]["event_study"]
    assert "inside the band is within ordinary variation" not in suite["html"]["event_study"]


def test_run_directory_holds_every_artifact(suite):
    d = suite["dir"]
    for nb in NOTEBOOKS:
        assert (d / f"{nb}.ipynb").is_file() and (d / f"{nb}.html").is_file()
        executed = suite["ipynb"][nb]
        assert executed.metadata["papermill"]["parameters"]["output_dir"]  # injected by the runner
        assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code")
    for fig in ("event_study_caar", "event_study_volume_path", "potash_prices_prices", "potash_prices_sensitivity", "potash_prices_event_path",
                "event_catalog_forest"):
        png = d / "figures" / f"{fig}.png"
        assert png.is_file() and png.read_bytes()[:4] == b"\x89PNG"
    tests_csv = pd.read_csv(d / "tables" / "event_study_tests.csv")
    assert {"window", "test", "statistic", "p_value", "n", "caar"} <= set(tests_csv.columns)
    assert len(tests_csv) == 50


def test_html_is_self_contained_with_code_hidden_and_the_key_table(suite):
    html = suite["html"]["event_study"]
    assert "<script src=" not in html  # no CDN: opens offline
    assert scan(html).images == 2  # the CAAR and volume plots, embedded
    assert "resolve_from(globals())" not in html and "rec.table(" not in html  # code hidden
    for needle in ("BMP (KP)", "Patell Z (KP)", "t (crude dependence)", "placebo", "CAAR treated", "p (placebo)",
                   "2025-12-15", "-4.34%", "Sample notes", "Key findings"):
        assert needle in html, needle
    assert "statistic (p-value); shaded: dependence-robust tests" in html


def test_manifest_records_provenance(suite):
    m = suite["manifest"]
    assert m["run_id"] == suite["dir"].name and m["session"] == "2025-12-15"
    assert m["params"]["event"] == "us-potash-easing-2025" and m["params"]["offline"] is True
    assert m["data"]["offline"] is True and m["data"]["snapshot_vintage"].startswith("curated snapshot")
    assert {c["ticker"] for c in m["data"]["coverage"]} >= {"NTR", "MOS", "IPI", "ICL", "CF", "LXU", "SPY"}
    assert m["data"]["commodity_vintage"]
    assert m["packages"]["papermill"] and m["packages"]["pandas"] and m["packages"]["potash-impact"]
    assert "commit" in m["git"] and m["started"] <= m["finished"]
    assert Path(m["kernel"]["python"]).resolve() == Path(sys.executable).resolve()  # the venv's kernel
    assert m["key"]["caar_treated"] == suite["results"]["event_study"]["key"]["caar_treated"]
    assert m["key"]["n"] == 4


def test_index_lists_the_run(suite):
    html = (suite["out"] / "index.html").read_text()
    assert suite["dir"].name in html and "us-potash-easing-2025" in html
    assert "-4.34%" in html and 'class="ok"' in html
    assert f'href="{suite["dir"].name}/event_study.html"' in html


# --------------------------------------------------------------------------- the urea case
@pytest.fixture(scope="module")
def urea_direct():
    """The urea case's default study, computed here from the fixture folder."""
    from analysis.data import load_returns
    from analysis.eventstudy import compare_groups, event_study

    treated, control = ["CF", "LXU"], ["NTR", "MOS"]
    r = load_returns(treated + control + ["SPY"], offline=True, data_dir=str(FIXTURE))
    res = event_study(r[treated], r["SPY"], "2026-03-02")
    both = event_study(r[treated + control], r["SPY"], "2026-03-02")
    return {"treated": res, "groups": compare_groups(both, treated, control).to_frame()}


def test_urea_case_runs_with_no_parameter(urea):
    assert urea["code"] == 0 and urea["manifest"]["status"] == "ok"
    p = urea["manifest"]["params"]
    assert p["event"] == "iran-hormuz-2026"
    assert p["treated"] == "nitrogen producer" and p["control"] == "potash producer" and p["benchmark"] == "SPY"
    for nb in NOTEBOOKS:
        page = urea["html"][nb]
        assert "Gulf and Russian supply shocks and the US nitrogen producers" in page, nb
        assert "Belarusian potash sanctions" not in page, nb  # the potash case's title


def test_urea_event_study_matches_the_engine(urea, urea_direct):
    es = urea["results"]["event_study"]
    assert es["session"] == "2026-03-02" and es["event"]["event_id"] == "iran-hormuz-2026"
    assert es["universe"] == {"treated": ["CF", "LXU"], "control": ["NTR", "MOS"], "benchmark": "SPY"}
    res = urea_direct["treated"]
    key = es["key"]
    assert key["n"] == 2 and key["n_control"] == 2 and key["window"] == "(0,1)"
    assert key["caar_treated"] == pytest.approx(res.caar["(0,1)"], rel=1e-12)
    assert key["p_value"] == pytest.approx(
        res.tests.query("window == '(0,1)' and test == 'placebo'")["p_value"].iloc[0], rel=1e-12)
    want = urea_direct["groups"].set_index("window")
    got = pd.DataFrame(es["groups"]).set_index("window")
    np.testing.assert_allclose(got["diff"], want["diff"], rtol=1e-12)
    np.testing.assert_allclose(got["caar_control"], want["caar_control"], rtol=1e-12)
    assert urea["manifest"]["key"]["caar_treated"] == key["caar_treated"]
    assert "eu-extends-potash-2026" in {c["event_id"] for c in es["confounders"]}  # day -2
    text = es["conclusion"]
    assert "Strait of Hormuz" in text and "the 2 treated firms (CF, LXU)" in text
    assert "Against the control firms (NTR, MOS)" in text
    sign = "matches" if key["caar_treated"] > 0 else "is opposite to"
    assert f"The sign {sign} what a tightening event suggests for the treated firms (up)" in text


def test_urea_commodity_notebook_follows_the_case_commodity(urea):
    from analysis.commodities import event_potash_path, potash_sensitivity

    pp = urea["results"]["potash_prices"]
    assert pp["key"]["series"] == "urea" and pp["key"]["event_month"] == "2026-02"
    path = event_potash_path("iran-hormuz-2026", months_after=3, data_dir=str(FIXTURE))
    assert path.series == "urea"
    np.testing.assert_allclose(pd.DataFrame(pp["path"])["price"], path.to_frame()["price"])
    assert pp["key"]["cum_change_pct"] == pytest.approx(path.to_frame()["cum_change_pct"].dropna().iloc[-1])
    sens = potash_sensitivity(["CF", "LXU", "NTR", "MOS"], market="SPY", offline=True, data_dir=str(FIXTURE))
    table = sens.to_frame()
    np.testing.assert_allclose(pd.DataFrame(pp["sensitivity"])["beta_urea"], table["beta_urea"], rtol=1e-10)
    assert pp["key"]["mean_beta_treated"] == pytest.approx(table.loc[table["ticker"].isin(["CF", "LXU"]), "beta_urea"].mean())
    assert len(pp["notes"]) == 4  # 19 months each: every beta is flagged as imprecise


def test_urea_catalog_matches_the_catalog_study(urea):
    from analysis.catalog_study import study_catalog

    ec = urea["results"]["event_catalog"]
    study = study_catalog(offline=True, data_dir=str(FIXTURE))
    assert ec["key"]["n_events"] == study.n_events == 8
    assert ec["key"]["n_covered"] == study.n_covered
    got = pd.DataFrame(ec["events"]).set_index("event_id")
    want = study.to_frame("(0,1)").set_index("event_id")
    np.testing.assert_allclose(got["diff"].astype(float), want.loc[got.index, "diff"].astype(float), rtol=1e-12)
    assert set(got["control"].dropna()) == {"NTR, MOS"}


# --------------------------------------------------------------------------- a failing kernel
def test_corrupt_data_fails_the_notebook_with_its_error_cell(tmp_path, capsys):
    """A parameter set that passes validation but breaks in the kernel: a case folder whose NTR
    prices hold a negative close inside the estimation window."""
    case = tmp_path / "case"
    shutil.copytree(config.data_dir(), case)
    csv = case / "prices" / "NTR.csv"
    lines = csv.read_text().splitlines()
    i = next(k for k, ln in enumerate(lines) if ln.startswith("2025-06-02"))
    cells = lines[i].split(",")
    cells[1] = "-1.0"
    lines[i] = ",".join(cells)
    csv.write_text("\n".join(lines) + "\n")
    out = tmp_path / "reports"
    code = cli.main(["report", "--offline", "--notebooks", "event_study", "--data-dir", str(case), "--out", str(out),
                     "--quiet"])
    printed = capsys.readouterr().out
    assert code == 1 and "failed" in printed
    (run,) = [d for d in (out / "_failed").iterdir() if d.name.startswith(RUN_PREFIX)]  # failed runs go there
    m = json.loads((run / "manifest.json").read_text())
    assert m["status"] == "failed"
    err = m["notebooks"][0]["error"]
    assert "DataValidationError" in err and "NTR" in err and "2025-06-02" in err
    partial = nbformat.read(run / "event_study.ipynb", as_version=4)
    assert "papermill-error-cell-tag" in partial.cells[0].metadata.get("tags", [])
    assert 'class="failed"' in (out / "index.html").read_text()


# --------------------------------------------------------------------------- hostile text from a case
class _Markup(HTMLParser):
    """Live markup carrying the marker: script bodies and on* attributes."""

    def __init__(self, marker: str):
        super().__init__()
        self.marker, self.in_script, self.hits = marker, False, []

    def handle_starttag(self, tag, attrs):
        self.in_script = tag == "script"
        for name, value in attrs:
            if name.lower().startswith("on") and self.marker in (value or ""):
                self.hits.append(f"<{tag} {name}=...>")
        if tag == "img" and any(n == "src" and v == "x" for n, v in attrs):
            self.hits.append("<img src=x>")

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = False

    def handle_data(self, data):
        if self.in_script and self.marker in data:
            self.hits.append("<script>" + data[:40])


def test_titles_and_names_from_a_case_never_become_markup(tmp_path):
    """Issue 9: free text of a case folder (an event title, a firm name) is escaped in every table,
    header, conclusion and note of the event-study and catalog pages."""
    case = tmp_path / "case"
    shutil.copytree(FIXTURE, case)
    evil = "<script>alert('XSS-T')</script><img src=x onerror=alert('XSS-T')>"
    events = (case / "events.csv").read_text().replace(
        "US and Israel strike Iran; Strait of Hormuz declared closed", f"Hormuz {evil}")
    assert evil in events
    (case / "events.csv").write_text(events)
    uni = (case / "universe.csv").read_text().replace("CF Industries Holdings", f"CF {evil}")
    (case / "universe.csv").write_text(uni)
    out = tmp_path / "reports"
    code = cli.main(["report", "--offline", "--notebooks", "event_study", "event_catalog", "--data-dir", str(case),
                     "--out", str(out), "--quiet"])
    assert code == 0
    (run,) = [d for d in out.iterdir() if d.name.startswith(UREA_PREFIX)]
    for page in [run / "event_study.html", run / "event_catalog.html", out / "index.html"]:
        text = page.read_text()
        scanner = _Markup("XSS-T")
        scanner.feed(text)
        assert scanner.hits == [], (page.name, scanner.hits)
    html = (run / "event_study.html").read_text()
    assert "&lt;script&gt;alert(&#x27;XSS-T&#x27;)" in html or "&lt;script&gt;alert('XSS-T')" in html


def test_an_excluded_firm_is_stated_in_conclusion_notes_and_key(tmp_path):
    """Issue 8, finding 4: the December 2021 report names CF alone as the control and says why LXU is out."""
    out = tmp_path / "reports"
    code = cli.main(["report", "--offline", "--event", "us-bpc-designated-2021", "--notebooks", "event_study",
                     "--out", str(out), "--quiet"])
    assert code == 0
    (run,) = [d for d in out.iterdir() if d.name.startswith("2021-12-02_us-bpc-designated-2021_")]
    es = json.loads((run / "results.json").read_text())["event_study"]
    text = es["conclusion"]
    assert "Against the control firms (CF), whose CAAR" in text and "(CF, LXU)" not in text
    assert "control: CF (LXU excluded: " in text
    assert es["key"]["n"] == 4 and es["key"]["n_control"] == 1 and es["key"]["excluded"][0].startswith("LXU: ")
    assert any(n["text"].startswith("LXU excluded from every window") for n in es["notes"])
    assert {r["firm"] for r in es["excluded"]} == {"LXU"}
    html = (run / "event_study.html").read_text()
    assert "LXU excluded from every window" in html and scan(html).stderr == 0
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["key"]["n_control"] == 1
