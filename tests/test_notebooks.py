"""The three notebooks, executed through the report runner on the offline snapshot.

The default December 2025 suite runs once for the module (it is the slow part: three
kernels). The tests then check the published numbers against the library computed
directly in this process, so a notebook that silently drifted from ``analysis`` fails.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from analysis import cli, config

RUN_PREFIX = "2025-12-13_us-potash-easing-2025_"


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    """``potash-impact report --offline --jobs 2`` into a private reports folder, with a private cache."""
    base = tmp_path_factory.mktemp("suite")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POTASH_IMPACT_CACHE", str(base / "cache"))
        mp.setenv("POTASH_IMPACT_OFFLINE", "1")
        mp.delenv("POTASH_IMPACT_DATA", raising=False)
        code = cli.main(["report", "--offline", "--jobs", "2", "--out", str(base / "reports"), "--quiet"])
    runs = [d for d in (base / "reports").iterdir() if d.name.startswith(RUN_PREFIX)]
    assert len(runs) == 1
    run = runs[0]
    return {
        "code": code,
        "out": base / "reports",
        "dir": run,
        "manifest": json.loads((run / "manifest.json").read_text()),
        "results": json.loads((run / "results.json").read_text()),
    }


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


def test_suite_runs_clean(suite):
    assert suite["code"] == 0
    m = suite["manifest"]
    assert m["status"] == "ok"
    assert [n["name"] for n in m["notebooks"]] == ["event_study", "potash_prices", "event_catalog"]
    assert all(n["status"] == "ok" and n["duration_s"] > 0 and n["html"] for n in m["notebooks"])


def test_event_study_results_match_the_engine(suite, direct):
    es = suite["results"]["event_study"]
    assert es["session"] == "2025-12-15"
    assert es["event"]["event_id"] == "us-potash-easing-2025"
    assert es["universe"] == {"treated": ["NTR", "MOS", "IPI", "ICL"], "control": ["CF", "LXU"], "benchmark": "SPY"}
    res = direct["treated"]
    key = es["key"]
    assert key["window"] == "(0,1)" and key["test"] == "placebo" and key["n"] == 4
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
    assert {"ofac-gl13-2025", "mosaic-k3-fatality-2025", "mosaic-brazil-idle-2025"} <= {
        c["event_id"] for c in es["confounders"]}
    assert "-4.34%" in es["conclusion"] and "placebo" in es["conclusion"]
    assert es["vintage"].startswith("curated snapshot")


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


def test_run_directory_holds_every_artifact(suite):
    d = suite["dir"]
    for nb in ("event_study", "potash_prices", "event_catalog"):
        assert (d / f"{nb}.ipynb").is_file() and (d / f"{nb}.html").is_file()
        executed = nbformat.read(d / f"{nb}.ipynb", as_version=4)
        assert executed.metadata["papermill"]["parameters"]["output_dir"]  # injected by the runner
        assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code")
    for fig in ("event_study_caar", "potash_prices_prices", "potash_prices_sensitivity", "potash_prices_event_path",
                "event_catalog_forest"):
        png = d / "figures" / f"{fig}.png"
        assert png.is_file() and png.read_bytes()[:4] == b"\x89PNG"
    tests_csv = pd.read_csv(d / "tables" / "event_study_tests.csv")
    assert {"window", "test", "statistic", "p_value", "n", "caar"} <= set(tests_csv.columns)
    assert len(tests_csv) == 50


def test_html_is_self_contained_with_code_hidden_and_the_key_table(suite):
    html = (suite["dir"] / "event_study.html").read_text()
    assert "<script src=" not in html  # no CDN: opens offline
    assert html.count("data:image/png;base64,") >= 1  # the CAAR plot, embedded
    assert "resolve_from(globals())" not in html and "rec.table(" not in html  # code hidden
    for needle in ("bmp_kp", "patell_z_kp", "t_crude_dependence", "placebo", "caar_treated", "p_placebo",
                   "2025-12-15", "-4.34%"):
        assert needle in html, needle
    assert "statistic (p-value); shaded: dependence-robust tests" in html


def test_manifest_records_provenance(suite):
    m = suite["manifest"]
    assert m["run_id"] == suite["dir"].name and m["session"] == "2025-12-15"
    assert m["params"]["event"] == "us-potash-easing-2025" and m["params"]["offline"] is True
    assert m["data"]["offline"] is True and m["data"]["snapshot_vintage"].startswith("curated snapshot")
    assert {c["ticker"] for c in m["data"]["coverage"]} == {"NTR", "MOS", "IPI", "ICL", "CF", "LXU", "SPY"}
    assert m["data"]["commodity_vintage"]
    assert m["packages"]["papermill"] and m["packages"]["pandas"] and m["packages"]["potash-impact"]
    assert "commit" in m["git"] and m["started"] <= m["finished"]
    assert Path(m["kernel"]["python"]).resolve() == Path(sys.executable).resolve()  # the venv's kernel
    assert m["key"]["caar_treated"] == suite["results"]["event_study"]["key"]["caar_treated"]


def test_index_lists_the_run(suite):
    html = (suite["out"] / "index.html").read_text()
    assert suite["dir"].name in html and "us-potash-easing-2025" in html
    assert "-4.34%" in html and 'class="ok"' in html
    assert f'href="{suite["dir"].name}/event_study.html"' in html


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
    (run,) = [d for d in out.iterdir() if d.name.startswith(RUN_PREFIX)]
    m = json.loads((run / "manifest.json").read_text())
    assert m["status"] == "failed"
    err = m["notebooks"][0]["error"]
    assert "DataValidationError" in err and "NTR" in err and "2025-06-02" in err
    partial = nbformat.read(run / "event_study.ipynb", as_version=4)
    assert "papermill-error-cell-tag" in partial.cells[0].metadata.get("tags", [])
    assert 'class="failed"' in (out / "index.html").read_text()
