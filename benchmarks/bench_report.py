"""Wall time of ``make report``'s work: the default suite (``params.NOTEBOOKS`` + HTML), serial and ``--jobs 3``.

Floors, for scale:

* **kernel start** -- one ``python3`` kernel started and shut down (jupyter_client), no notebook;
* **empty suite, --jobs 3** -- the same runner on the suite's notebook names, each only
  receiving its parameters: CLI start, validation, papermill, three kernels, HTML, manifest and index.
  What remains above it is the notebooks' own work (imports of pandas/scipy/matplotlib
  in each kernel, the studies, the figures).

Bookkeeping rows (``--quick`` runs only these, in this process): planning one report (the
case read once, parameters and data checked) and the recovery scan plus index rebuild that
every run does first, over a reports folder of 200 runs.

Every scenario runs the real ``potash-impact`` command in a fresh process, offline, into a
temporary reports folder, like ``make report``. Run: ``python benchmarks/bench_report.py
[--repeat N]``; prints a table (median of N) with the 1-minute load average before each
scenario: the target holds on a quiet machine (load < 0.5), and every helper process
running beside the benchmark inflates the wall times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

EXE = str(Path(sys.executable).with_name("potash-impact"))
TARGET_S = 20.0


def kernel_start() -> float:
    from jupyter_client.manager import start_new_kernel

    from analysis.execute import kernel_env

    os.environ["JUPYTER_PATH"] = kernel_env()["JUPYTER_PATH"]  # this benchmark process only
    t0 = time.perf_counter()
    km, kc = start_new_kernel(kernel_name="python3", stderr=subprocess.DEVNULL)
    dt = time.perf_counter() - t0
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    return dt


def empty_notebooks(folder: Path) -> list[str]:
    from analysis.params import NOTEBOOKS

    names = list(NOTEBOOKS)
    for name in names:
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("output_dir = None")
        cell.metadata["tags"] = ["parameters"]
        nb.cells = [cell, nbformat.v4.new_code_cell("1 + 1")]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, folder / f"{name}.ipynb")
    return names


def report(jobs: int, notebook_dir: Path | None = None) -> tuple[float, dict]:
    """One ``potash-impact report --offline --jobs N`` into a fresh folder; (wall s, notebook durations)."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [EXE, "report", "--offline", "--jobs", str(jobs), "--out", tmp, "--quiet"]
        if notebook_dir is not None:
            cmd += ["--notebook-dir", str(notebook_dir)]
        env = dict(os.environ, POTASH_IMPACT_OFFLINE="1", MPLBACKEND="Agg")
        t0 = time.perf_counter()
        res = subprocess.run(cmd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if res.returncode != 0:
            raise SystemExit(f"report failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
        (manifest,) = Path(tmp).glob("*/manifest.json")
        m = json.loads(manifest.read_text())
        return wall, {n["name"]: n["duration_s"] for n in m["notebooks"]}


def bookkeeping(repeat: int) -> list[tuple[str, float, str]]:
    """Median seconds of planning one report and of recover + index over 200 runs."""
    from analysis import case as case_mod
    from analysis.index import build_index
    from analysis.publish import recover
    from analysis.runner import plan_run

    os.environ["POTASH_IMPACT_OFFLINE"] = "1"
    plan_run({"offline": True})  # imports and calendars, once
    cold, warm = [], []
    for _ in range(max(repeat, 5)):
        case_mod.clear_cache()
        t0 = time.perf_counter()
        plan_run({"offline": True})
        cold.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        plan_run({"offline": True, "model": "market_adjusted"})
        warm.append(time.perf_counter() - t0)
    rows = [("plan one report (case read)", statistics.median(cold), "validate, gate, run id"),
            ("plan one more (case cached)", statistics.median(warm), "")]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for i in range(200):
            d = out / f"2025-12-13_event-{i:03d}_{i:07x}"
            d.mkdir()
            (d / "manifest.json").write_text(json.dumps({
                "run_id": d.name, "status": "ok", "started": f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}+00:00",
                "event": {"event_id": f"event-{i:03d}", "timestamp": "2025-12-13"}, "nondefault": {"model": "market"},
                "notebooks": [{"name": "event_study", "status": "ok", "html": True}],
                "key": {"caar_treated": -0.01, "window": "(0,1)", "test": "placebo", "p_value": 0.2, "n": 4}}))
        times = []
        for _ in range(max(repeat, 5)):
            t0 = time.perf_counter()
            recover(out)
            build_index(out)
            times.append(time.perf_counter() - t0)
        rows.append(("recover + index, 200 runs", statistics.median(times), ""))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1, help="runs per scenario (median reported)")
    ap.add_argument("--quick", action="store_true", help="only the bookkeeping rows (no kernels)")
    ns = ap.parse_args(argv)

    quick = bookkeeping(ns.repeat)
    print(f"{'bookkeeping':<38}{'s':>8}  note")
    for name, secs, note in quick:
        print(f"{name:<38}{secs:>8.3f}  {note}")
    if ns.quick:
        return 0

    rows = []
    load = os.getloadavg()[0]
    ks = [kernel_start() for _ in range(max(ns.repeat, 3))]
    rows.append(("one kernel start (floor)", statistics.median(ks), load, "", None))
    floors = {}
    with tempfile.TemporaryDirectory() as tmp:
        names = empty_notebooks(Path(tmp))
        for jobs in (1, 3):
            load = os.getloadavg()[0]
            runs = [report(jobs, Path(tmp)) for _ in range(ns.repeat)]
            floors[jobs] = statistics.median(w for w, _ in runs)
            rows.append((f"empty suite --jobs {jobs} (runner floor)", floors[jobs], load,
                         f"{len(names)} empty notebooks", jobs))
    for jobs in (1, 3):
        load = os.getloadavg()[0]
        runs = [report(jobs) for _ in range(ns.repeat)]
        wall = statistics.median(w for w, _ in runs)
        per = runs[len(runs) // 2][1]
        rows.append((f"default suite --jobs {jobs}", wall, load, ", ".join(f"{k} {v:.1f}s" for k, v in per.items()),
                     jobs))

    print(f"report benchmark: {os.cpu_count()} CPU(s), python {sys.version.split()[0]}, median of {ns.repeat}; "
          f"load = 1-minute load average before the scenario")
    print(f"{'scenario':<38}{'wall s':>8}{'load':>6}{'x runner floor':>16}  notebooks (in-run durations)")
    for name, wall, load, note, jobs in rows:
        ratio = f"{wall / floors[jobs]:>16.2f}" if jobs else f"{'':>16}"
        print(f"{name:<38}{wall:>8.2f}{load:>6.2f}{ratio}  {note}")
    j3 = rows[-1][1]
    print(f"target: default suite --jobs 3 < {TARGET_S:.0f} s on a quiet machine -> "
          f"{'met' if j3 < TARGET_S else 'NOT met'} ({j3:.1f} s at load {rows[-1][2]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
