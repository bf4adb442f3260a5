"""The report runner's mechanics on tiny notebooks, and parameter validation (no kernel).

The real notebooks run once in ``test_notebooks.py``; here a two-cell notebook stands in
for them so that failures, locks, timeouts and publishing are fast to exercise. Its
behaviour is steered by environment variables the kernel inherits: ``TINY_FAIL`` makes
it raise, ``TINY_SLEEP`` makes it wait.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from analysis import cli, params, report, runner
from analysis.errors import ParameterError
from _runner_helpers import write_notebook


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A notebook folder with ``tiny.ipynb``, a reports folder, and offline mode on."""
    nbdir = tmp_path / "nbs"
    nbdir.mkdir()
    write_notebook(nbdir / "tiny.ipynb")
    monkeypatch.setenv("POTASH_IMPACT_OFFLINE", "1")
    monkeypatch.delenv("TINY_FAIL", raising=False)
    monkeypatch.delenv("TINY_SLEEP", raising=False)
    return {"nbdir": nbdir, "out": tmp_path / "reports"}


def run_tiny(capsys, tiny, *extra):
    code = cli.main(["report", "--offline", "--notebook-dir", str(tiny["nbdir"]), "--notebooks", "tiny",
                     "--out", str(tiny["out"]), "--quiet", *extra])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def only_run_dir(out: Path) -> Path:
    dirs = [d for d in out.iterdir() if d.is_dir() and not d.name.startswith((".", "_"))]
    assert len(dirs) == 1, dirs
    return dirs[0]


# --------------------------------------------------------------------------- parameters
def test_notebooks_have_one_parameters_cell_with_every_parameter_unset():
    """The notebooks are generic over cases: each parameter is None and resolves from case.toml."""
    for name in params.NOTEBOOKS:
        nb = nbformat.read(report.NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, name
        values = {t.id: ast.literal_eval(n.value) for n in ast.parse(tagged[0].source).body
                  for t in n.targets}
        assert sorted(values) == sorted(params.SCHEMA), name
        assert all(v is None for v in values.values()), name
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), f"{name}: outputs not stripped"


def test_unset_parameters_resolve_to_the_case_defaults(tmp_path):
    unset = params.validate(dict.fromkeys(params.SCHEMA))
    assert unset == params.validate(params.defaults())
    assert (unset["event"], unset["treated"], unset["control"], unset["benchmark"], unset["commodity"]) == (
        "us-potash-easing-2025", "potash producer", "nitrogen control", "SPY", "potash")
    fixture = Path(__file__).parent / "fixtures" / "urea_case"
    other = params.validate({**dict.fromkeys(params.SCHEMA), "data_dir": str(fixture)})
    assert (other["event"], other["treated"], other["commodity"]) == (
        "iran-hormuz-2026", "nitrogen producer", "urea")


def test_test_names_match_the_engine():
    from analysis.eventstudy import TESTS

    assert params.TESTS == TESTS


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--event", "us-potash-easing-2052"], "parameter event: unknown event 'us-potash-easing-2052' (did you mean"),
        (["--event", "2025-02-30"], "parameter event: unknown event '2025-02-30'"),
        (["-p", "model=garch"], "parameter model='garch': use one of market"),
        (["-p", "estimation_window=[-11,-250]"], "parameter estimation_window=[-11, -250]: reversed window"),
        (["-p", "estimation_window=[-250,0]"], "must end before the earliest event window starts"),
        (["-p", "estimation_window=[-100,-11]"], "has 90 sessions, fewer than min_estimation_obs=120"),
        (["-p", "event_windows=[[0,1],[0,1]]", "-p", "main_window=[0,1]"], "a window is listed twice"),
        (["-p", "main_window=[0,3]"], "parameter main_window=[0, 3]: must be one of event_windows"),
        (["-p", "treated=[NTR,ZZZ]"], "unknown ticker 'ZZZ'"),
        (["-p", "treated=[NTR.TO]"], "NTR.TO is not in the offline snapshot"),
        (["-p", "benchmark=QQQ"], "parameter benchmark='QQQ': unknown ticker"),
        (["-p", "min_estimation_obs=many"], "parameter min_estimation_obs='many': expected an integer"),
        (["-p", "colour=red"], "unknown parameter 'colour'"),
        (["-p", "novalue"], "write name=value"),
        (["--event", "2020-07-01"], "needs 250 sessions before 2020-07-01 but SPY has 22"),
        (["--event", "2026-09-14"], "runs past the data (SPY ends 2026-09-15)"),
        (["--notebooks", "nosuch"], "unknown notebook 'nosuch'"),
        (["-p", "exchange=XXXX"], "parameter exchange: unknown exchange calendar 'XXXX'"),
        (["-p", "data_dir=/nonexistent"], "is not a case folder"),
    ],
)
def test_bad_parameters_fail_before_any_kernel(argv, needle, capsys, tmp_path):
    out = tmp_path / "reports"
    code = cli.main(["report", "--offline", "--out", str(out), *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and needle in err, err
    assert not out.exists()  # nothing started, nothing written


def test_params_file_and_overrides(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("event: 2025-12-13 11:49\nmodel: market_adjusted\ntreated: [NTR, MOS]\nevent_windows: [[0, 1]]\n"
                 "main_window: [0, 1]\n")
    raw = params.load_params_file(f)
    assert raw["event"] == "2025-12-13 11:49" and raw["treated"] == ["NTR", "MOS"]
    raw.update(params.parse_assignments(["model=constant_mean", "offline=true", "event=2025-12-13"]))
    assert raw["event"] == "2025-12-13" and raw["offline"] is True  # YAML dates stay strings
    p = params.validate(raw)
    assert p["model"] == "constant_mean" and p["event_windows"] == [[0, 1]]
    r = params.resolve(**p)
    assert str(r["session"].date()) == "2025-12-15" and r["treated_tickers"] == ["NTR", "MOS"]
    assert r["event_record"]["event_id"] == "adhoc-20251213"
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n")
    with pytest.raises(ParameterError, match="expected a mapping"):
        params.load_params_file(bad)


def test_group_defaults_follow_the_event_calendar():
    r = params.resolve(offline=False)
    assert r["treated_tickers"] == ["NTR", "MOS", "IPI", "ICL"]  # NTR.TO, SDF.DE trade on other calendars
    assert r["control_tickers"] == ["CF", "LXU"] and r["tickers"][-1] == "SPY"


def test_run_id_is_event_date_id_and_a_stable_hash():
    a = report.plan_run({"offline": True})
    b = report.plan_run({"offline": False})
    c = report.plan_run({"offline": True, "model": "market_adjusted"})
    d = report.plan_run({"offline": True}, ["event_study"])
    assert a.run_id.startswith("2025-12-13_us-potash-easing-2025_") and len(a.run_id.rsplit("_", 1)[1]) == 7
    assert a.run_id == b.run_id  # offline changes how, not what
    assert len({a.run_id, c.run_id, d.run_id}) == 3
    adhoc = report.plan_run({"event": "2025-12-13 11:49", "offline": True})
    assert adhoc.run_id.startswith("2025-12-13_adhoc-20251213-1149_")


def test_two_case_folders_with_one_event_and_parameters_get_different_run_ids(tmp_path, monkeypatch):
    """A copied case with the same event id and parameters must not share (and so replace) the
    bundled case's report; the copy's id is stable and names the same event."""
    import shutil

    copy = tmp_path / "case"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data", copy)
    bundled = report.plan_run({"offline": True}, ["event_study"])
    other = report.plan_run({"offline": True, "data_dir": str(copy)}, ["event_study"])
    monkeypatch.setenv("POTASH_IMPACT_DATA", str(copy))
    via_env = report.plan_run({"offline": True}, ["event_study"])
    assert bundled.run_id.rsplit("_", 1)[0] == other.run_id.rsplit("_", 1)[0] == "2025-12-13_us-potash-easing-2025"
    assert bundled.run_id != other.run_id
    assert via_env.run_id != bundled.run_id


def test_all_events_and_schedule_plan_runs(tmp_path):
    parser = cli.build_parser()
    ns = parser.parse_args(["report", "--offline", "--all-events", "--notebooks", "event_study"])
    runs = report.build_runs(ns)
    from analysis.catalog import load_events

    news = load_events().query("kind != 'confounder'")["event_id"].tolist()
    assert [r.params["event"] for r in runs] == news and len(news) == 16  # easing + tightening events
    assert all(r.notebooks == ("event_study",) for r in runs)
    sched = tmp_path / "schedule.toml"
    sched.write_text('[defaults]\nmodel = "market"\n\n[[job]]\nevent = "us-potash-easing-2025"\n\n'
                     '[[job]]\nevent = "eu-extends-potash-2026"\nnotebooks = ["event_study"]\nmodel = "market_adjusted"\n')
    ns = parser.parse_args(["report", "--offline", "--schedule", str(sched)])
    runs = report.build_runs(ns)
    assert [r.params["event"] for r in runs] == ["us-potash-easing-2025", "eu-extends-potash-2026"]
    assert runs[0].notebooks == params.NOTEBOOKS and runs[1].params["model"] == "market_adjusted"
    sched.write_text('[[job]]\nevent = "eu-extends-potash-2026"\nmodel = "arima"\n')
    with pytest.raises(ParameterError, match="model='arima'"):
        report.build_runs(parser.parse_args(["report", "--offline", "--schedule", str(sched)]))


# --------------------------------------------------------------------------- notebook-side helpers
def test_recorder_without_output_dir_writes_nothing(tmp_path, monkeypatch):
    import pandas as pd

    monkeypatch.chdir(tmp_path)
    rec = report.Recorder(None, "x")
    df = pd.DataFrame({"a": [1.0, float("nan")]})
    assert rec.table("t", df) is df and rec.save() is None
    rec["when"] = pd.Timestamp("2025-12-15")
    assert rec["when"] == "2025-12-15" and list(tmp_path.iterdir()) == []
    rec = report.Recorder(tmp_path / "run", "x")
    rec.table("t", df)
    rec["v"] = df["a"]
    path = rec.save()
    assert json.loads(path.read_text())["v"] == {"0": 1.0, "1": None}
    assert (tmp_path / "run" / "tables" / "x_t.csv").is_file()


def test_conclusion_follows_the_numbers():
    import pandas as pd

    tests = pd.DataFrame({
        "window": ["(0,1)"] * 3, "test": ["placebo", "bmp_kp", "t_crude_dependence"],
        "statistic": [-0.04, -1.0, -1.5], "p_value": [0.40, 0.31, 0.2], "n": [4, 4, 4], "caar": [-0.04] * 3,
    })
    ev = {"event_id": "e1", "timestamp": "2025-12-13 11:49", "kind": "easing", "title": "Easing"}
    text = report.conclusion(event=ev, session="2025-12-15", tests=tests, window="(0,1)", main_test="placebo",
                             treated=["NTR", "MOS", "IPI", "ICL"], expected_sign=-1)
    assert "-4.00%" in text and "p = 0.400" in text and "not distinguishable" in text
    assert "matches what an easing event suggests" in text and "within ordinary variation" in text
    strong = tests.assign(p_value=[0.004, 0.01, 0.02])
    text = report.conclusion(event=ev, session="2025-12-15", tests=strong, window="(0,1)", main_test="placebo",
                             treated=["NTR", "MOS", "IPI", "ICL"], expected_sign=1)
    assert "clearly distinguishable" in text and "is opposite to" in text


def test_kernel_is_this_environment():
    assert Path(report.kernel_python()).parent.resolve() == Path(sys.executable).parent.resolve()


# --------------------------------------------------------------------------- runner on tiny notebooks
def test_failure_keeps_the_earlier_good_report(tiny, capsys, monkeypatch):
    code, out, _ = run_tiny(capsys, tiny)
    assert code == 0 and "tiny" in out
    good = only_run_dir(tiny["out"])
    manifest = json.loads((good / "manifest.json").read_text())
    assert manifest["status"] == "ok" and manifest["notebooks"][0]["status"] == "ok"
    before = {p.name: p.read_bytes() for p in good.iterdir() if p.is_file()}

    monkeypatch.setenv("TINY_FAIL", "1")
    code, out, _ = run_tiny(capsys, tiny)
    assert code == 1 and "failed" in out and "deliberate failure" in out
    assert only_run_dir(tiny["out"]) == good
    assert {p.name: p.read_bytes() for p in good.iterdir() if p.is_file()} == before  # untouched
    (failed,) = list((tiny["out"] / report.FAILED_DIR).iterdir())
    assert failed.name.startswith(good.name + "_")
    fm = json.loads((failed / "manifest.json").read_text())
    assert fm["status"] == "failed" and fm["notebooks"][0]["status"] == "failed"
    assert "RuntimeError: deliberate failure" in fm["notebooks"][0]["error"]
    partial = nbformat.read(failed / "tiny.ipynb", as_version=4)
    assert "papermill-error-cell-tag" in partial.cells[0].metadata.get("tags", [])
    assert (failed / "tiny.html").is_file()
    index = (tiny["out"] / "index.html").read_text()
    assert index.count("<tr>") == 3 and 'class="failed"' in index and 'class="ok"' in index
    assert "-1.23%" in index and f"{report.FAILED_DIR}/{failed.name}/tiny.html" in index
    assert not list((tiny["out"] / ".staging").iterdir())


def test_first_failure_goes_to_failed_and_a_later_success_is_published(tiny, capsys, monkeypatch):
    monkeypatch.setenv("TINY_FAIL", "1")
    code, _, _ = run_tiny(capsys, tiny)
    assert code == 1
    assert not [d for d in tiny["out"].iterdir() if d.is_dir() and not d.name.startswith((".", "_"))]
    (failed,) = list((tiny["out"] / report.FAILED_DIR).iterdir())
    assert json.loads((failed / "manifest.json").read_text())["status"] == "failed"
    monkeypatch.delenv("TINY_FAIL")
    code, _, _ = run_tiny(capsys, tiny)
    run_dir = only_run_dir(tiny["out"])
    assert failed.name.startswith(run_dir.name + "_")
    assert code == 0 and json.loads((run_dir / "manifest.json").read_text())["status"] == "ok"
    assert json.loads((run_dir / "results.json").read_text())["tiny"]["event"] == "us-potash-easing-2025"
    assert not (tiny["out"] / ".trash").exists() or not list((tiny["out"] / ".trash").iterdir())


def test_timeout_stops_the_notebook(tiny, capsys, monkeypatch):
    monkeypatch.setenv("TINY_SLEEP", "60")
    code, out, _ = run_tiny(capsys, tiny, "--timeout", "3")
    assert code == 1
    (failed,) = list((tiny["out"] / report.FAILED_DIR).iterdir())
    m = json.loads((failed / "manifest.json").read_text())
    nb = m["notebooks"][0]
    assert nb["status"] == "failed" and "--timeout" in nb["error"]
    assert nb["duration_s"] < 60  # not a speed check: unkilled, the notebook sleeps 60 s
    partial = nbformat.read(failed / "tiny.ipynb", as_version=4)
    assert "Execution stopped" in partial.cells[0].source


def test_held_lock_skips_the_run(tiny, capsys):
    run = report.plan_run({"offline": True}, ["tiny"], notebook_dir=tiny["nbdir"])
    with report.run_lock(tiny["out"], run.run_id) as got:
        assert got
        code, out, _ = run_tiny(capsys, tiny)
    assert code == 1 and "locked" in out
    assert not (tiny["out"] / run.run_id).exists()


def test_concurrent_runs_on_one_id_do_not_corrupt_each_other(tiny):
    env = dict(os.environ, TINY_SLEEP="8", POTASH_IMPACT_OFFLINE="1")  # long enough to overlap under CI load
    cmd = [sys.executable, "-m", "analysis.cli", "report", "--offline", "--notebook-dir", str(tiny["nbdir"]),
           "--notebooks", "tiny", "--out", str(tiny["out"]), "--quiet"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 1], results  # one ran, the other found the lock and skipped
    assert any("locked" in out for out, _ in results)
    run_dir = only_run_dir(tiny["out"])
    m = json.loads((run_dir / "manifest.json").read_text())
    assert m["status"] == "ok" and json.loads((run_dir / "results.json").read_text())["tiny"]["key"]
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "manifest.json", "results", "results.json", "tiny.html", "tiny.ipynb"]
    assert not list((tiny["out"] / ".staging").iterdir())


def test_kernel_start_failures_are_retried_cell_errors_are_not(tmp_path, monkeypatch):
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    calls = []

    def flaky(src, dst, **kw):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")
        Path(dst).write_text(Path(src).read_text())

    src = tmp_path / "a.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("hi")]), src)
    task = {"src": str(src), "dst": str(tmp_path / "b.ipynb"), "html": str(tmp_path / "b.html"), "params": {},
            "retries": 2, "timeout": 10}
    monkeypatch.setattr(runner.time, "sleep", lambda s: None)
    monkeypatch.setattr(pm, "execute_notebook", flaky)
    res = report.execute_notebook(task)
    assert res["status"] == "ok" and res["attempts"] == 2 and res["html"]

    def cell_error(src, dst, **kw):
        calls.append(1)
        raise PapermillExecutionError(0, 1, "x", "ValueError", "bad", [])

    calls.clear()
    monkeypatch.setattr(pm, "execute_notebook", cell_error)
    res = report.execute_notebook(task)
    assert res["status"] == "failed" and res["attempts"] == 1 and "ValueError: bad" in res["error"]

    def never(src, dst, **kw):
        calls.append(1)
        raise RuntimeError("Kernel didn't respond in 60 seconds")

    calls.clear()
    task["dst"] = str(tmp_path / "c.ipynb")
    monkeypatch.setattr(pm, "execute_notebook", never)
    res = report.execute_notebook(task)
    assert res["status"] == "failed" and len(calls) == 3 and "did not start after 3 attempt(s)" in res["error"]


def test_index_lists_runs_newest_first(tmp_path):
    for i, (status, caar) in enumerate([("ok", -0.0434), ("failed", None)]):
        d = tmp_path / f"run{i}"
        d.mkdir()
        (d / "manifest.json").write_text(json.dumps({
            "run_id": f"run{i}", "status": status, "started": f"2026-01-0{i + 1}T00:00:00+00:00",
            "event": {"event_id": "us-potash-easing-2025", "timestamp": "2025-12-13 11:49", "title": "t"},
            "session": "2025-12-15", "notebooks": [{"name": "event_study", "status": status, "html": True}],
            "key": {} if caar is None else {"caar_treated": caar, "window": "(0,1)", "test": "placebo",
                                            "p_value": 0.0625}}))
    html = report.build_index(tmp_path).read_text()
    assert html.index("run1") < html.index("run0")
    assert "-4.34%" in html and "0.062" in html and 'href="run0/event_study.html"' in html


def test_online_run_refreshes_first_and_records_it(tiny, capsys, monkeypatch, yf_stub, tmp_path):
    from conftest import synthetic_yf_frame

    def noisy(tickers, **kw):
        print("synthetic download noise")
        return synthetic_yf_frame(list(tickers), start="2024-11-01", periods=300)

    calls = yf_stub(noisy)
    refreshed = report.refresh_data([report.plan_run({"offline": False}, ["tiny"], notebook_dir=tiny["nbdir"])])
    assert calls and set(calls[0]["tickers"]) == {"NTR", "MOS", "IPI", "ICL", "CF", "LXU", "SPY"}
    assert refreshed["prices"] and "commodities_error" in refreshed  # the Pink Sheet download cannot reach out
    assert refreshed["status"] == "partial"
    assert "synthetic download noise" in refreshed["output"]  # kept for the manifest, not printed
    assert "synthetic download noise" not in "".join(capsys.readouterr())

    monkeypatch.setenv("POTASH_IMPACT_CACHE", str(tmp_path / "fresh-cache"))  # not the synthetic prices above
    monkeypatch.delenv("POTASH_IMPACT_OFFLINE")
    monkeypatch.setattr(runner, "refresh_data", lambda runs: {"status": "ok", "at": "stub", "runs": len(runs)})
    code = cli.main(["report", "--notebook-dir", str(tiny["nbdir"]), "--notebooks", "tiny", "--out",
                     str(tiny["out"]), "--quiet"])
    err = capsys.readouterr().err
    assert code == 0 and "refreshing data for 1 run(s)" in err, err
    assert "online: data vintage" in err and "(plus the refreshed cache)" in err and "warning" not in err
    m = json.loads((only_run_dir(tiny["out"]) / "manifest.json").read_text())
    assert m["data"]["offline"] is False and m["data"]["refresh"] == {"status": "ok", "at": "stub", "runs": 1}


def test_planning_a_report_reads_each_file_of_the_case_once(tmp_path, monkeypatch):
    """issue 10: the case is loaded once and passed down (no file of it read twice)."""
    import builtins
    import collections

    from analysis import case as case_mod

    data = tmp_path / "case"
    import shutil

    shutil.copytree(Path(__file__).parent.parent / "data", data)
    case_mod.clear_cache()
    root = str(data.resolve())
    opened = collections.Counter()
    real_open, real_os_open = builtins.open, os.open

    def counting_open(file, *a, **k):
        if isinstance(file, (str, os.PathLike)) and os.path.realpath(os.fspath(file)).startswith(root + os.sep):
            opened[os.path.relpath(os.path.realpath(os.fspath(file)), root)] += 1
        return real_open(file, *a, **k)

    def counting_os_open(path, *a, **k):
        if isinstance(path, (str, os.PathLike)) and os.path.realpath(os.fspath(path)).startswith(root + os.sep):
            opened[os.path.relpath(os.path.realpath(os.fspath(path)), root)] += 1
        return real_os_open(path, *a, **k)

    import io

    monkeypatch.setattr(builtins, "open", counting_open)
    monkeypatch.setattr(io, "open", counting_open)  # pathlib's read_text/read_bytes
    monkeypatch.setattr(os, "open", counting_os_open)
    run = runner.plan_run({"offline": True, "data_dir": str(data)}, ["event_study", "potash_prices"])
    monkeypatch.undo()
    assert run.run_id.startswith("2025-12-13_us-potash-easing-2025_") and run.tickers[-1] == "SPY"
    assert {"case.toml", "events.csv", "universe.csv", "prices/SPY.csv", "prices/NTR.csv"} <= set(opened), opened
    assert max(opened.values()) == 1, {k: v for k, v in opened.items() if v > 1}


def test_a_run_changes_no_process_wide_state(tiny, capsys):
    """issue 10: import shortcuts and the kernel's environment stay in the worker processes."""
    from tqdm import tqdm

    env, interval = dict(os.environ), tqdm.monitor_interval
    had = "rfc3987_syntax" in sys.modules
    code, _, _ = run_tiny(capsys, tiny)
    assert code == 0
    assert dict(os.environ) == env and tqdm.monitor_interval == interval
    assert ("rfc3987_syntax" in sys.modules) == had and sys.modules.get("rfc3987_syntax", 0) is not None


def test_a_caller_script_without_a_main_guard_runs_once(tiny, tmp_path):
    """Workers are forked from a fork server; they must not re-run the calling script."""
    log = tmp_path / "ran.log"
    script = tmp_path / "caller.py"
    script.write_text(
        "from analysis import cli\n"
        f"open({str(log)!r}, 'a').write('ran\\n')\n"
        f"code = cli.main(['report', '--offline', '--quiet', '--notebook-dir', {str(tiny['nbdir'])!r}, "
        f"'--notebooks', 'tiny', '--out', {str(tiny['out'])!r}])\n"
        "raise SystemExit(code)\n")
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         env=dict(os.environ, POTASH_IMPACT_OFFLINE="1"))
    assert res.returncode == 0, res.stderr[-2000:]
    assert log.read_text() == "ran\n"
    assert json.loads((only_run_dir(tiny["out"]) / "manifest.json").read_text())["status"] == "ok"


@pytest.mark.parametrize("how", ["env", "option"])
def test_a_relative_case_folder_means_the_same_folder_in_the_kernel(how, tiny, capsys, monkeypatch, tmp_path):
    """Kernels start in the notebook's folder: a relative POTASH_IMPACT_DATA or --data-dir must not
    change meaning there."""
    import shutil

    shutil.copytree(Path(__file__).parent / "fixtures" / "urea_case", tmp_path / "work" / "mycase")
    monkeypatch.chdir(tmp_path / "work")
    src = ("from analysis import config\nfrom analysis.recorder import Recorder\n"
           "rec = Recorder(output_dir, 'tiny')\nrec['case'] = str(config.data_dir(data_dir))\nrec.save()")
    nb = nbformat.read(tiny["nbdir"] / "tiny.ipynb", as_version=4)
    nb.cells[1].source = src
    nbformat.write(nb, tiny["nbdir"] / "tiny.ipynb")
    extra = []
    if how == "env":
        monkeypatch.setenv("POTASH_IMPACT_DATA", "mycase")
    else:
        extra = ["--data-dir", "mycase"]
    code, _, err = run_tiny(capsys, tiny, *extra)
    assert code == 0, err
    run = only_run_dir(tiny["out"])
    assert "_iran-hormuz-2026_" in run.name  # the fixture case's default event
    got = json.loads((run / "results.json").read_text())["tiny"]["case"]
    assert got == str((tmp_path / "work" / "mycase").resolve())
