"""Issue 9, safe to run unattended: script injection, escape from ``--out``, bounded typed input.

Each finding of the issue is one test here (crashes and resource failures are in
``test_crash.py``). Every hostile input is synthetic, built from a copy of the bundled
case. A run is either refused before any kernel starts (exit 2, one line naming the
file and line) or everything it writes is free of live script.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _runner_helpers import HOSTILE, count_images, scan_file, scan_html, scan_tree, write_notebook

from analysis import cli, config, params, publish, runner
from analysis.errors import ParameterError, ReportError

HERE = Path(__file__).parent


@pytest.fixture
def case(tmp_path):
    """A writable copy of the bundled case (synthetic edits are made to it per test)."""
    d = tmp_path / "case"
    shutil.copytree(config.data_dir(), d)
    return d


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    monkeypatch.setenv("POTASH_IMPACT_OFFLINE", "1")
    nbdir = tmp_path / "nbs"
    write_notebook(nbdir / "tiny.ipynb")
    return {"nbdir": nbdir, "out": tmp_path / "reports"}


def report(capsys, *argv):
    code = cli.main(["report", "--offline", "--quiet", *argv])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def refused(code, err, *needles):
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in err, (n, err)


def replace_line(path: Path, lineno: int, old: str, new: str) -> None:
    lines = path.read_text().splitlines()
    assert old in lines[lineno - 1]
    lines[lineno - 1] = lines[lineno - 1].replace(old, new, 1)
    path.write_text("\n".join(lines) + "\n")


# =========================================================================== script injection
def test_hostile_event_id_in_events_csv_is_refused_at_load(case, capsys, tmp_path):
    replace_line(case / "events.csv", 3, "eu-sectoral-adopted-2021", HOSTILE)
    out = tmp_path / "reports"
    code, _, err = report(capsys, "--data-dir", str(case), "--event", "us-potash-easing-2025", "--out", str(out))
    refused(code, err, "events.csv:3", "invalid event id")
    assert not out.exists()
    code = cli.main(["events", "--data-dir", str(case)])
    refused(code, capsys.readouterr().err, "events.csv:3")


def test_hostile_ticker_in_universe_csv_is_refused_at_load(case, capsys, tmp_path):
    lines = (case / "universe.csv").read_text().splitlines()
    lineno = next(i for i, ln in enumerate(lines, 1) if ln.startswith("LXU,"))
    replace_line(case / "universe.csv", lineno, "LXU,", HOSTILE.replace(",", "") + ",")
    (case / "prices" / "LXU.csv").rename(case / "prices" / "hostile.csv")
    out = tmp_path / "reports"
    code, _, err = report(capsys, "--data-dir", str(case), "--out", str(out))
    refused(code, err, f"universe.csv:{lineno}", "invalid ticker")
    assert not out.exists()


def test_highlight_tests_escapes_what_reaches_it():
    import pandas as pd

    from analysis.recorder import highlight_tests

    t = pd.DataFrame({"window": [HOSTILE], "test": [HOSTILE], "statistic": [-1.0], "p_value": [0.01]})
    html = highlight_tests(t).to_html()
    assert scan_html(html) == [] and "&lt;img src=x onerror=" in html
    # the scanner is not blind: the same frame through a plain Styler is live markup
    raw = t.style.to_html()
    assert ("on-attribute", "img", "onerror", "alert('XSS-ID')") in scan_html(raw)


def test_present_safe_style_escapes_cells_and_labels():
    import pandas as pd

    from analysis.present import safe_style

    df = pd.DataFrame({HOSTILE: [HOSTILE]}, index=[HOSTILE])
    html = safe_style(df).to_html()
    assert scan_html(html) == [] and html.count("&lt;img") == 3


def test_index_escapes_every_string_from_a_manifest(tmp_path):
    d = tmp_path / "2025-12-13_e1_0000000"
    d.mkdir()
    (d / "manifest.json").write_text(json.dumps({
        "run_id": d.name, "status": "failed", "started": "2026-01-01T00:00:00+00:00", "session": HOSTILE,
        "event": {"event_id": HOSTILE, "timestamp": "2025-12-13", "title": HOSTILE},
        "nondefault": {"model": HOSTILE}, "error": HOSTILE + "\nsecond line",
        "notebooks": [{"name": HOSTILE, "status": "failed", "html": True, "error": HOSTILE}],
        "key": {"caar_treated": -0.01, "window": HOSTILE, "test": HOSTILE, "p_value": 0.2, "n": 4}}))
    html = publish_index(tmp_path)
    assert scan_html(html) == []
    assert html.count("&lt;img src=x onerror=alert(&#39;XSS-ID&#39;)&gt;") >= 6
    assert "second line" not in html  # a failed row shows the first line of its error


def publish_index(out: Path) -> str:
    from analysis.index import build_index

    return build_index(out).read_text()


def test_a_hostile_string_inside_a_notebook_is_escaped_in_every_file_of_the_run(tiny, capsys):
    src = f"""import pandas as pd
from IPython.display import display
from analysis.recorder import Recorder, highlight_tests
from analysis.present import safe_style
bad = {HOSTILE!r}
rec = Recorder(output_dir, "tiny")
t = pd.DataFrame({{"window": [bad], "test": [bad], "statistic": [-1.0], "p_value": [0.01]}})
display(highlight_tests(t))
display(safe_style(pd.DataFrame({{"firm": [bad]}})))
rec.table("hostile", t)
rec["label"] = bad
rec.save()"""
    write_notebook(tiny["nbdir"] / "tiny.ipynb", src)
    code, _, err = report(capsys, "--notebook-dir", str(tiny["nbdir"]), "--notebooks", "tiny", "--out",
                          str(tiny["out"]))
    assert code == 0, err
    (run,) = [d for d in tiny["out"].iterdir() if d.is_dir() and not d.name.startswith((".", "_"))]
    html = (run / "tiny.html").read_text()
    assert "&lt;img src=x onerror=" in html  # displayed, as text
    assert scan_tree(tiny["out"], suffixes=(".html", ".ipynb")) == {}  # what a browser or JupyterLab renders
    assert json.loads((run / "results.json").read_text())["tiny"]["label"] == HOSTILE  # data stays data


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """event_study and event_catalog on the bundled case, through the runner."""
    base = tmp_path_factory.mktemp("real")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POTASH_IMPACT_CACHE", str(base / "cache"))
        mp.setenv("POTASH_IMPACT_OFFLINE", "1")
        mp.delenv("POTASH_IMPACT_DATA", raising=False)
        code = cli.main(["report", "--offline", "--quiet", "--jobs", "2", "--notebooks", "event_study",
                         "event_catalog", "--out", str(base / "reports")])
    (run,) = [d for d in (base / "reports").iterdir() if d.is_dir() and not d.name.startswith((".", "_"))]
    return {"code": code, "out": base / "reports", "dir": run}


def test_every_file_a_real_run_writes_is_free_of_script(real_run, tmp_path):
    import nbformat

    from analysis.execute import export_html

    assert real_run["code"] == 0
    # nbconvert's own template, for an empty notebook, is the only allowed source of script
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "empty.ipynb")
    baseline = scan_file(export_html(tmp_path / "empty.ipynb", tmp_path / "empty.html"))
    files = [p for p in real_run["out"].rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".html", ".ipynb", ".json", ".csv", ".png"}
    assert scan_tree(real_run["out"], baseline) == {}


def test_each_figure_appears_once_in_the_html(real_run):
    results = json.loads((real_run["dir"] / "results.json").read_text())
    for nb in ("event_study", "event_catalog"):
        html = (real_run["dir"] / f"{nb}.html").read_text()
        figures = results[nb]["figures"]
        assert figures, nb
        assert count_images(html) == len(figures), (nb, sorted(figures))


# =========================================================================== escape from --out
@pytest.mark.parametrize("event", ["a/../../../../ESCAPED", "../x", "<img src=x>", "A..B/C"])
def test_event_ids_with_path_or_markup_are_refused(event, capsys, tmp_path):
    out = tmp_path / "deep" / "reports"
    code, _, err = report(capsys, "--event", event, "--out", str(out))
    refused(code, err, "parameter event", "invalid event id")
    assert not (tmp_path / "deep").exists() and not (tmp_path / "ESCAPED").exists()


def test_event_id_with_path_parts_in_events_csv_is_refused(case, capsys, tmp_path):
    replace_line(case / "events.csv", 4, ",", ",", )
    lines = (case / "events.csv").read_text().splitlines()
    eid = lines[3].split(",")[0]
    replace_line(case / "events.csv", 4, eid, "a/../../../../ESCAPED")
    code, _, err = report(capsys, "--data-dir", str(case), "--out", str(tmp_path / "r"))
    refused(code, err, "events.csv:4")
    assert not (tmp_path / "ESCAPED").exists()


def test_universe_ticker_dotdot_is_refused(case, capsys, tmp_path):
    lines = (case / "universe.csv").read_text().splitlines()
    lineno = next(i for i, ln in enumerate(lines, 1) if ln.startswith("CF,"))
    replace_line(case / "universe.csv", lineno, "CF,", "../evil,")
    (case / "evil.csv").write_text((case / "prices" / "CF.csv").read_text())
    code, _, err = report(capsys, "--data-dir", str(case), "--out", str(tmp_path / "r"))
    refused(code, err, f"universe.csv:{lineno}", "'../evil'")
    code, _, err = report(capsys, "-p", "treated=[NTR,../evil]", "--out", str(tmp_path / "r"))
    refused(code, err, "parameter treated", "invalid ticker '../evil'")


def test_run_ids_and_paths_cannot_leave_the_reports_folder(tmp_path):
    with pytest.raises(ParameterError, match="invalid event id"):
        runner.run_id({"event": "x"}, ["event_study"], {"event_id": "a/../../x", "date": "2025-12-13"})
    for rid in ("../2025-12-13_x_0000000", "2025-12-13_x/../../y_0000000", "2025-12-13_x_000000g", ""):
        with pytest.raises(ReportError, match="invalid run id"):
            publish.check_run_id(rid)
    out = tmp_path / "reports"
    (out / "inside").mkdir(parents=True)
    assert publish.inside(out, out / "inside" / "x.json") == out / "inside" / "x.json"
    with pytest.raises(ReportError, match="outside the reports folder"):
        publish.inside(out, out / ".." / "x.json")
    (out / "link").symlink_to(tmp_path)  # a symlink out of the folder
    with pytest.raises(ReportError, match="outside the reports folder"):
        publish.inside(out, out / "link" / "x.json")
    with pytest.raises(ReportError, match="invalid run id"), publish.run_lock(out, "../../lock"):
        pass


def test_a_notebook_outside_notebooks_is_only_read(tiny, capsys, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    src = write_notebook(elsewhere / "event_study.ipynb")
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    code, out, err = report(capsys, "--notebooks", str(elsewhere / "event_study"), "--out", str(tiny["out"]))
    assert code == 0, err
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in elsewhere.iterdir()) == ["event_study.ipynb"]  # nothing written beside it
    (run,) = [d for d in tiny["out"].iterdir() if d.is_dir() and not d.name.startswith((".", "_"))]
    m = json.loads((run / "manifest.json").read_text())
    assert m["status"] == "ok" and m["notebooks"][0]["name"] == "event_study" and m["notebooks"][0]["html"]
    assert (run / "event_study.ipynb").is_file() and (run / "event_study.html").is_file()
    # the explicit path is part of the run id: it cannot replace the report of notebooks/event_study
    assert run.name != runner.plan_run({"offline": True}, ["event_study"]).run_id


@pytest.mark.parametrize("name, needle", [
    ("../event_study", "no such file"), (HOSTILE, "invalid name"), ("nosuch", "unknown notebook 'nosuch'"),
    ("event_study event_study", "already in the run"),
])
def test_bad_notebook_names_are_refused(name, needle, capsys, tmp_path):
    code, _, err = report(capsys, "--notebooks", *name.split(" ") if name.startswith("event") else [name],
                          "--out", str(tmp_path / "r"))
    refused(code, err, needle)


def test_schedule_notebook_lists_are_checked(capsys, tmp_path):
    sched = tmp_path / "s.toml"
    sched.write_text('[[job]]\nevent = "us-potash-easing-2025"\nnotebooks = ["../../etc/evil"]\n')
    code, _, err = report(capsys, "--schedule", str(sched), "--out", str(tmp_path / "r"))
    refused(code, err, "job 1", "no such file")
    sched.write_text(f'[[job]]\nnotebooks = ["{HOSTILE.replace(chr(39), "")}"]\n')
    code, _, err = report(capsys, "--schedule", str(sched), "--out", str(tmp_path / "r"))
    refused(code, err, "job 1", "invalid name")


# =========================================================================== bounded, typed input
def test_params_and_schedule_files_over_1_mib_are_refused(capsys, tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("model: market\n" + "#" * (1 << 20) + "\n")
    code, _, err = report(capsys, "--params", str(big), "--out", str(tmp_path / "r"))
    refused(code, err, "--params", "larger than the 1 MiB limit")
    sched = tmp_path / "big.toml"
    sched.write_text('[[job]]\nevent = "us-potash-easing-2025"\n' + "#" * (1 << 20) + "\n")
    code, _, err = report(capsys, "--schedule", str(sched), "--out", str(tmp_path / "r"))
    refused(code, err, "--schedule", "larger than the 1 MiB limit")


def test_yaml_alias_bomb_is_refused_without_expanding_it(capsys, tmp_path):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\nmodel: *a9\n")
    code, _, err = report(capsys, "--params", str(bomb), "--out", str(tmp_path / "r"))
    refused(code, err, "anchors and aliases", "line 1")
    with pytest.raises(ParameterError, match="anchors and aliases"):
        params.parse_assignments(["treated=&t [NTR, MOS]"])
    with pytest.raises(ParameterError, match="invalid YAML"):
        params.load_params_file(_write(tmp_path / "tag.yaml", "model: !!python/object/apply:os.system ['true']\n"))


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, needles", [
    ("job = [1, 2]\n", ["job 1", "expected a table"]),
    ('[defaults]\nnotebooks = 5\n\n[[job]]\nevent = "us-potash-easing-2025"\n', ["[defaults]", "notebooks = 5"]),
    ('[[job]]\nnotebooks = [1]\n', ["job 1", "notebooks = [1]"]),
    ('[[job]]\ncolour = "red"\n', ["job 1", "unknown parameter 'colour'"]),
    ('[[job]]\nmodel = { a = 1 }\n', ["job 1", "a table is not a parameter value"]),
    ('[[job]]\nmodel = "arima"\n', ["job 1", "model='arima'"]),
    ('[[job]]\nevent = \n', ["invalid TOML", "line 2"]),
    ('[jobs]\nx = 1\n', ["unknown key 'jobs'"]),
    ('[defaults]\nmodel = "market"\n', ["no [[job]] tables"]),
])
def test_schedule_fields_are_type_checked(text, needles, capsys, tmp_path):
    sched = _write(tmp_path / "s.toml", text)
    code, _, err = report(capsys, "--schedule", str(sched), "--out", str(tmp_path / "r"))
    refused(code, err, f"--schedule {sched}", *needles)


def test_non_utf8_schedule_is_one_line(capsys, tmp_path):
    sched = tmp_path / "s.toml"
    sched.write_bytes('[[job]]\nevent = "us-potash-easing-2025"\n# caf\xe9\n'.encode("latin-1"))
    code, _, err = report(capsys, "--schedule", str(sched), "--out", str(tmp_path / "r"))
    refused(code, err, f"--schedule {sched}:3: not UTF-8 text (byte 0xe9 at offset ")


def test_schedule_notebooks_as_one_string_and_toml_dates(tmp_path):
    from analysis.schedule import build_runs

    parser = cli.build_parser()
    sched = _write(tmp_path / "s.toml", "[[job]]\nevent = 2025-12-13\nnotebooks = \"event_study\"\n\n"
                                        "[[job]]\nevent = 2025-12-13T11:49:00\nnotebooks = [\"event_study\"]\n")
    runs = build_runs(parser.parse_args(["report", "--offline", "--schedule", str(sched)]))
    assert [r.notebooks for r in runs] == [("event_study",), ("event_study",)]
    assert [r.params["event"] for r in runs] == ["2025-12-13", "2025-12-13 11:49:00"]
    yaml_run = runner.plan_run({**params.parse_assignments(["event=2025-12-13"]), "offline": True}, ["event_study"])
    assert runs[0].run_id == yaml_run.run_id  # a TOML date is read like a YAML date


@pytest.mark.parametrize("argv, needle", [
    (["--timeout", "-14.5"], "--timeout: must be > 0"), (["--timeout", "0"], "--timeout: must be > 0"),
    (["--timeout", "nan"], "--timeout: must be > 0"), (["--jobs", "0"], "--jobs: must be >= 1"),
    (["--retries", "-1"], "--retries: must be >= 0"), (["--lock-wait", "-3"], "--lock-wait: must be >= 0"),
])
def test_numeric_options_are_bounded(argv, needle, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["report", *argv])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1 and needle in err, err


def test_broken_case_toml_names_file_line_and_key(case, capsys, tmp_path):
    text = (case / "case.toml").read_text()
    (case / "case.toml").write_text(text.replace('expected_sign = { tightening = 1, easing = -1 }',
                                                 'expected_sign = "down"'))
    code, _, err = report(capsys, "--data-dir", str(case), "--out", str(tmp_path / "r"))
    refused(code, err, "case.toml:", "expected_sign", "'down'")
    (case / "case.toml").write_text(text.replace('market = "SPY"', 'market = "SPY'))
    code, _, err = report(capsys, "--data-dir", str(case), "--out", str(tmp_path / "r"))
    refused(code, err, "case.toml:", "invalid TOML")


@pytest.mark.parametrize("edit, needles", [
    (lambda t: "", ["commodity_prices.csv", "empty"]),
    (lambda t: t.replace("\n2020-04,220.38,", "\n2020-04,12,5,", 1), ["commodity_prices.csv:5", "12,5"]),
])
def test_commodity_csv_errors_name_the_file_and_line(case, edit, needles):
    from analysis.commodities import load_commodity_prices
    from analysis.errors import DataError

    p = case / "commodity_prices.csv"
    p.write_text(edit(p.read_text()))
    with pytest.raises(DataError) as e:
        load_commodity_prices(str(case))
    msg = str(e.value)
    assert "\n" not in msg and all(n in msg for n in needles), msg


# =========================================================================== light and quiet CLI
def test_closed_pipe_is_quiet():
    exe = Path(sys.executable).with_name("potash-impact")
    cmd = [str(exe) if exe.exists() else sys.executable, *([] if exe.exists() else ["-m", "analysis.cli"]),
           "events", "--format", "json"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=HERE)
    p.stdout.close()  # the reader is gone before the first line (as `| head -0`); the write hits EPIPE
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    assert err == "" and p.returncode == cli.EXIT_PIPE, err


def test_make_lab_takes_a_port_and_allows_root():
    res = subprocess.run(["make", "-n", "lab", "PORT=9123"], cwd=HERE.parent,
                         capture_output=True, text=True)
    (line,) = [ln for ln in res.stdout.splitlines() if "jupyter lab" in ln]
    assert "--port=9123" in line
    import os

    assert ("--allow-root" in line) == (os.geteuid() == 0)
