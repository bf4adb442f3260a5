"""The potash-impact command: listings, coverage, exit codes and one-line errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analysis import cli, config


def run(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_events_lists_aligned_sessions(capsys):
    code, out, _ = run(capsys, "events", "--format", "json")
    rows = {r["event_id"]: r for r in json.loads(out)}
    assert code == 0 and len(rows) == 24
    assert rows["us-potash-easing-2025"]["session"].startswith("2025-12-15")
    code, out, _ = run(capsys, "events", "--kind", "easing", "--format", "csv")
    assert code == 0 and out.count("\n") == 6 and "belavia-relief-2025" in out


def test_universe_lists_groups_and_live_only_listings(capsys):
    code, out, _ = run(capsys, "universe", "--group", "potash producer", "--format", "csv")
    lines = out.strip().splitlines()
    assert code == 0 and lines[0].startswith("ticker,name,exchange,calendar,currency,group,benchmark,offline")
    assert [ln.split(",")[0] for ln in lines[1:]] == ["NTR", "MOS", "IPI", "ICL", "NTR.TO", "SDF.DE"]
    assert lines[-1].endswith("False")


def test_data_shows_snapshot_coverage(capsys):
    code, out, _ = run(capsys, "data", "NTR", "LXU", "--format", "csv")
    assert code == 0
    assert "NTR,snapshot,2020-06-01,2026-09-15,1581,25" in out
    assert "LXU,snapshot,2024-11-01,2026-08-13,445,0" in out


def test_data_unknown_ticker_is_one_line_error(capsys):
    code, _, err = run(capsys, "data", "NTR", "NTRX")
    assert code == 2 and err.count("\n") == 1 and "no data for ticker 'NTRX'" in err


def test_refresh_offline_is_refused(capsys, monkeypatch):
    monkeypatch.setenv("POTASH_IMPACT_OFFLINE", "1")
    code, _, err = run(capsys, "data", "--refresh", "NTR")
    assert code == 2 and err.count("\n") == 1 and "needs the network" in err


def test_refresh_online_with_stub(capsys, yf_stub):
    from conftest import synthetic_yf_frame

    yf_stub(synthetic_yf_frame(["CTVA"], periods=5))
    code, out, _ = run(capsys, "data", "--refresh", "CTVA", "--start", "2025-12-01", "--format", "csv")
    assert code == 0 and "CTVA,cache,2025-12-01,2025-12-05,5,0" in out


def test_refresh_network_failure_is_one_line(capsys, yf_stub):
    import pandas as pd

    yf_stub(pd.DataFrame())
    code, _, err = run(capsys, "data", "--refresh", "YAR.OL")
    assert code == 2 and err.count("\n") == 1 and "YAR.OL" in err and "--offline" in err


def test_bad_arguments_exit_2_with_one_line(capsys, tmp_path):
    with pytest.raises(SystemExit) as e:
        cli.main(["events", "--kind", "rumour"])
    assert e.value.code == 2 and "invalid choice: 'rumour'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        cli.main(["nonsense"])
    assert e.value.code == 2 and capsys.readouterr().err.count("\n") == 1
    bad = tmp_path / "case"
    shutil.copytree(config.data_dir(), bad)
    (bad / "events.csv").write_text((bad / "events.csv").read_text().replace(",easing,", ",rumour,", 1))
    code, _, err = run(capsys, "events", "--data-dir", str(bad))
    assert code == 2 and "has kind 'rumour'" in err and err.count("\n") == 1


@pytest.mark.parametrize("cmd", [[], ["data"], ["events"], ["universe"], ["report"]])
def test_help_on_every_command(cmd, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main([*cmd, "--help"])
    assert e.value.code == 0 and "usage: potash-impact" in capsys.readouterr().out


def test_console_script_is_installed():
    exe = Path(sys.executable).with_name("potash-impact")
    if not exe.exists():
        pytest.skip("console script not installed in this interpreter's environment")
    res = subprocess.run([str(exe), "events", "--kind", "tightening", "--format", "csv"], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.count("\n") == 12


def test_refresh_commodities_with_stubbed_download(capsys, monkeypatch):
    from analysis import commodities as cm
    from analysis import pink_sheet
    from test_commodities import pink_sheet_bytes

    monkeypatch.setattr(pink_sheet, "_download", lambda url, timeout=60.0: pink_sheet_bytes())
    code, out, _ = run(capsys, "data", "--refresh-commodities")
    assert code == 0 and "2025-10 to 2026-02" in out and cm.commodity_cache_path().is_file()
    code, out, _ = run(capsys, "data")
    assert code == 0 and "commodities (potash, urea, dap, tsp, phosphate_rock): cache, 2025-10 to 2026-02" in out


def test_refresh_commodities_failure_is_one_line_and_keeps_bundled(capsys, monkeypatch):
    from analysis import commodities as cm
    from analysis import pink_sheet

    def down(url, timeout=60.0):
        raise OSError("Name or service not known")

    monkeypatch.setattr(pink_sheet, "_download", down)
    code, _, err = run(capsys, "data", "--refresh-commodities")
    assert code == 2 and err.count("\n") == 1 and "Pink Sheet" in err
    assert not cm.commodity_cache_path().exists()
    code, out, _ = run(capsys, "data")
    assert "commodities (potash, urea, dap, tsp, phosphate_rock): bundled, 2020-01 to 2026-06" in out


# --------------------------------------------------------------------------- light imports
def _heavy_modules_after(code: str) -> list[str]:
    probe = code + "\nimport sys\nprint('HEAVY=' + ','.join(m for m in ('pandas', 'numpy') if m in sys.modules))"
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=Path(__file__).parent)
    assert res.returncode == 0, res.stderr
    (line,) = [ln for ln in res.stdout.splitlines() if ln.startswith("HEAVY=")]
    return [m for m in line[len("HEAVY="):].split(",") if m]


def test_import_cli_loads_neither_pandas_nor_numpy():
    assert _heavy_modules_after("import analysis.cli") == []
    assert _heavy_modules_after("import analysis.report, analysis.runner, analysis.publish, analysis.index") == []


@pytest.mark.parametrize("cmd", [[], ["report"]])
def test_help_loads_neither_pandas_nor_numpy(cmd):
    code = (f"import sys; from analysis import cli\ntry:\n    cli.main({[*cmd, '--help']!r})\n"
            "except SystemExit as e:\n    assert e.code == 0")
    assert _heavy_modules_after(code) == []
