"""Planning and running reports: parameters -> run id -> notebooks in workers -> published run.

One step each, as papermill's small modules:

1. **validate** -- :mod:`analysis.params` checks every parameter before any kernel starts;
2. **plan** -- :func:`plan_run` gives the run id ``<event date>_<event id>_<hash of params>``
   (checked against :data:`analysis.publish.RUN_ID_RE`, so it can never name a path
   outside the reports folder) and resolves notebook names to their sources;
3. **lock and recover** -- :func:`analysis.publish.run_lock` per run id, then
   :func:`analysis.publish.recover` repairs what a killed run left behind;
4. **execute** -- each notebook runs through papermill in its own worker process
   (:mod:`analysis.execute`), ``--jobs`` at a time; per-notebook ``--timeout``;
5. **publish** and **index** -- :func:`analysis.publish.publish` (atomic exchange),
   :func:`analysis.index.build_index`.

Every path the runner writes is checked with :func:`analysis.publish.inside` to lie inside
the reports folder. A resource failure (read-only folder, a file as ``--out``, disk full)
is a :class:`~analysis.errors.WriteError` naming the path: no traceback, nothing partial
published, the unfinished runs recorded under ``_failed/`` when the disk allows.

Stdlib only at import (the CLI imports it to build ``--help``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import config
from ._io import atomic_write_text
from .errors import ParameterError, PotashImpactError, ReportError, WriteError
from .ids import check_event_id, check_name
from .execute import (  # noqa: F401 - re-exported: the runner's public names
    _worker_context,
    execute_notebook,
    export_html,
    fast_imports,
    kernel_env,
    kernel_python,
    start_worker,
)
from .publish import (
    KERNEL_NAME,
    STAGING_DIR,
    check_run_id,
    data_provenance,
    failed_target,
    git_info,
    inside,
    mark_failed,
    merge_results,
    now,
    package_versions,
    publish,
    recover,
    run_lock,
)
from .recorder import jsonable
from .online import refresh_data, refresh_summary  # noqa: F401 - re-exported

NOTEBOOK_DIR = config.REPO_DIR / "notebooks"
DEFAULT_TIMEOUT = 600
KILL_GRACE = 15  # seconds past --timeout before the worker (and its kernel) is killed
#: Rough in-kernel seconds of the default suite's notebooks (benchmarks/bench_report.py): within a
#: run the longest start first, so --jobs N does not end with one long notebook running alone.
#: Only the start order changes; manifests, results and the printed table keep params.NOTEBOOKS'.
EXPECTED_S = {"event_catalog": 9.8, "robustness": 8.0, "cross_section": 7.9, "event_study": 6.6, "potash_prices": 5.1}


# =========================================================================== plan
@dataclass
class Run:
    """One report: validated parameters, the notebooks to run and the run id.

    Parameters
    ----------
    params : dict
        The canonical parameters (:func:`analysis.params.validate`).
    notebooks : tuple of str
        Notebook names, in execution order.
    run_id : str
        ``<event date>_<event id>_<hash>``.
    event : dict
        The event's ``event_id, timestamp, kind, title``.
    sources : dict
        Notebook name -> the source notebook's path (only ever read).
    nondefault : dict
        The parameters that differ from their defaults (shown in the index).
    tickers : tuple of str
        Treated, control and benchmark tickers, as validated.
    session : str or None
        The aligned event session (``YYYY-MM-DD``).

    Examples
    --------
    >>> run = plan_run({"event": "ofac-gl13-2025", "offline": True}, ["event_study"])
    >>> run.notebooks, run.session, run.tickers[-1], run.run_id.startswith("2025-12-15_ofac-gl13-2025_")
    (('event_study',), '2025-12-15', 'SPY', True)
    """

    params: dict
    notebooks: tuple[str, ...]
    run_id: str
    event: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)
    nondefault: dict = field(default_factory=dict)
    tickers: tuple = ()
    session: str | None = None


def run_id(params: dict, notebooks, event: dict | None = None) -> str:
    """The run id of a parameter set.

    Parameters
    ----------
    params : dict
        Validated parameters.
    notebooks : sequence of str
        The notebooks of the run (part of the hash).
    event : dict, optional
        The catalog row, if already looked up.

    Returns
    -------
    str
        ``<event date>_<event id>_<7-hex hash of params and notebooks>``, e.g.
        ``2025-12-13_us-potash-easing-2025_1a2b3c4``.

    Examples
    --------
    >>> run_id({"event": "us-potash-easing-2025"}, ["event_study"]).startswith("2025-12-13_us-potash-easing-2025_")
    True
    """
    import pandas as pd

    from .catalog import get_event
    from .params import params_hash

    ev = event or get_event(params["event"], data_dir=params.get("data_dir"))
    date = pd.Timestamp(ev.get("date") if ev.get("date") is not None else ev["timestamp"]).date()
    eid = check_event_id(ev["event_id"], "run id")
    # Two case folders can hold the same event id and parameters: a case other than the
    # bundled one adds its resolved folder to the hash, so their reports never share a run id
    # (and one never replaces the other). The bundled case keeps its stable id.
    hashed = dict(params)
    root = config.data_dir(params.get("data_dir"))
    if root != (config.REPO_DIR / "data").resolve():
        hashed["case_folder"] = str(root)
    try:
        return check_run_id(f"{date}_{eid}_{params_hash(hashed, notebooks)}")
    except ReportError as exc:
        raise ParameterError(str(exc)) from None


def resolve_notebooks(specs, notebook_dir=None) -> dict:
    """Notebook names or explicit paths -> ``{name: source path}``, every one checked.

    Parameters
    ----------
    specs : sequence of str
        Names of notebooks in ``notebook_dir`` (``event_study``), or paths to a notebook
        file (containing a ``/`` or ending in ``.ipynb``). A single string is one name.
    notebook_dir : path-like, optional
        Where named notebooks are (default: the repository's ``notebooks/``).

    Returns
    -------
    dict
        Name (the file's stem, :func:`analysis.ids.check_name`) -> resolved source path.
        Sources are only ever read; every output goes to the run's staging folder.

    Raises
    ------
    ParameterError
        An invalid name, a missing file, or two notebooks with one name.

    Examples
    --------
    >>> list(resolve_notebooks(["event_study"]))
    ['event_study']
    """
    nbdir = Path(notebook_dir) if notebook_dir else NOTEBOOK_DIR
    if isinstance(specs, str):
        specs = [specs]
    out: dict[str, Path] = {}
    for spec in specs:
        if not isinstance(spec, str) or not spec:
            raise ParameterError(f"notebook {spec!r}: expected a notebook name such as event_study, or a path")
        if "/" in spec or os.sep in spec or spec.endswith(".ipynb"):
            src = Path(spec).expanduser()
            src = src if src.suffix == ".ipynb" else src.with_name(src.name + ".ipynb")
            name = check_name(src.stem, f"notebook {spec!r}")
            if not src.is_file():
                raise ParameterError(f"notebook {spec!r}: no such file {src}")
        else:
            name = check_name(spec, "notebook")
            src = nbdir / f"{name}.ipynb"
            if not src.is_file():
                known = sorted(p.stem for p in nbdir.glob("*.ipynb"))
                raise ParameterError(f"unknown notebook {spec!r}: {nbdir} has {', '.join(known) or 'none'}")
        if name in out:
            raise ParameterError(f"notebook {spec!r}: a notebook named {name!r} is already in the run")
        out[name] = src.resolve()
    return out


def plan_run(params: dict | None = None, notebooks=None, *, notebook_dir=None) -> Run:
    """Validate ``params`` and the notebook names and return the :class:`Run`.

    Parameters
    ----------
    params : dict, optional
        Notebook parameters (see :mod:`analysis.params`); missing ones take their defaults.
    notebooks : sequence of str, optional
        Notebook names (default: all three).
    notebook_dir : path-like, optional
        Where the notebooks are (default: the repository's ``notebooks/``).

    Returns
    -------
    Run

    Raises
    ------
    ParameterError
        A bad parameter or an unknown notebook (one line, naming it).

    Examples
    --------
    >>> plan_run({"offline": True}, ["event_study"]).event["event_id"]
    'us-potash-easing-2025'
    """
    from .params import NOTEBOOKS, SCHEMA, defaults, resolve

    nbdir = (Path(notebook_dir) if notebook_dir else NOTEBOOK_DIR).resolve()
    sources = resolve_notebooks(notebooks or NOTEBOOKS, nbdir)
    names = tuple(sources)
    # the hash sees names for notebooks of the notebook folder, the path for any other
    hashed = [n if src.parent == nbdir else str(src) for n, src in sources.items()]
    rp = resolve(**dict(params or {}))  # the case is loaded once here and passed down
    p, ev, case = {k: rp[k] for k in SCHEMA}, rp["event_record"], rp["case"]
    base = defaults(case=case)
    nondefault = {k: v for k, v in p.items()
                  if k not in ("event", "offline", "output_dir") and v is not None and v != base.get(k)}
    return Run(params=p, notebooks=names, run_id=run_id(p, hashed, ev),
               event={k: ev.get(k) for k in ("event_id", "timestamp", "kind", "title")},
               sources={n: str(src) for n, src in sources.items()}, nondefault=nondefault,
               tickers=tuple(rp["tickers"]), session=str(rp["session"].date()))


# =========================================================================== orchestrate
@dataclass
class _Active:
    run: Run
    staging: Path
    lock: contextlib.ExitStack
    started: str | None = None
    t0: float | None = None
    done: dict = field(default_factory=dict)
    published: bool = False


def _manifest(a: _Active, status: str, nbs: list, results: dict, refresh: dict | None, error: str | None = None,
              memo: dict | None = None):
    from .index import key_numbers

    tickers, session = list(a.run.tickers), a.run.session
    try:
        key, key_error = key_numbers(results), None
    except ReportError as exc:  # a notebook broke the key-numbers contract: say so in the manifest
        key, key_error = {}, str(exc)
    m = {
        "run_id": a.run.run_id,
        "build": a.staging.name or None,
        "status": status,
        "event": a.run.event,
        "session": session,
        "params": a.run.params,
        "nondefault": a.run.nondefault,
        "notebooks": nbs,
        "key": key,
        "keys": {nb: r["key"] for nb, r in results.items() if isinstance(r, dict) and isinstance(r.get("key"), dict)},
        "started": a.started or now(),
        "finished": now(),
        "duration_s": round(time.monotonic() - (a.t0 or time.monotonic()), 2),
        "data": data_provenance(a.run.params, tickers, refresh, memo=memo),
        "packages": package_versions(),
        "git": git_info(),
        "kernel": {"name": KERNEL_NAME, "python": sys.executable},
        "host": os.uname().nodename,
        "command": sys.argv,
    }
    if error:
        m["error"] = error
    if key_error:
        m["key_error"] = key_error
    return m


def _finish(a: _Active, out: Path, refresh: dict | None, memo: dict | None = None) -> dict:
    """Merge results, write the manifest, publish, release the lock, rebuild the index."""
    from .index import build_index

    nbs = [dict(name=nb, **a.done[nb]) for nb in a.run.notebooks]
    ok = all(n["status"] == "ok" for n in nbs)
    results = merge_results(a.staging, a.run.notebooks)
    atomic_write_text(a.staging / "results.json", json.dumps(results, indent=1))
    manifest = _manifest(a, "ok" if ok else "failed", nbs, results, refresh, memo=memo)
    atomic_write_text(a.staging / "manifest.json", json.dumps(jsonable(manifest), indent=1))
    try:
        where = publish(a.staging, out, a.run.run_id, ok)
        a.published = True
    finally:
        a.lock.close()
    build_index(out)
    return {"run_id": a.run.run_id, "status": manifest["status"], "path": str(where), "notebooks": nbs,
            "key": manifest["key"], "duration_s": manifest["duration_s"]}


def _write_error(exc: OSError) -> WriteError:
    """Any OSError as a WriteError: one line naming the path and the OS error."""
    if isinstance(exc, WriteError):
        return exc
    path = exc.filename if exc.filename is not None else "?"
    return WriteError(exc.errno, exc.strerror or str(exc), str(path))


def prepare_out(out) -> Path:
    """Check that the reports folder can be written, before any kernel starts.

    Parameters
    ----------
    out : path-like
        The reports folder (created if missing).

    Returns
    -------
    pathlib.Path
        The resolved folder.

    Raises
    ------
    WriteError
        ``out`` is a file, read-only, not permitted, or the disk is full (one line naming
        the path and the OS error).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "reports"
    >>> prepare_out(out) == out.resolve(), out.is_dir()
    (True, True)
    """
    out = config.reports_dir(out)
    try:
        if out.exists() and not out.is_dir():
            raise OSError(20, "Not a directory (--out must be a folder)", str(out))
        (out / STAGING_DIR).mkdir(parents=True, exist_ok=True)
        probe = out / STAGING_DIR / f".probe.{os.getpid()}"
        atomic_write_text(probe, "probe\n")
        probe.unlink()
    except OSError as exc:
        raise WriteError(exc.errno, exc.strerror or str(exc), str(out)) from None
    return out


def _record_failure(out: Path, a: _Active, refresh, error: str) -> None:
    """When the disk allows: a failed run under ``_failed/`` with the error, for the index."""
    from .index import build_index

    with contextlib.suppress(OSError, PotashImpactError):
        d = failed_target(out, a.run.run_id)
        nbs = [dict(name=nb, **a.done[nb]) for nb in a.run.notebooks if nb in a.done]
        m = _manifest(a, "failed", nbs, {}, refresh, error=error)
        atomic_write_text(d / "manifest.json", json.dumps(jsonable(m), indent=1))
        atomic_write_text(d / "results.json", "{}\n")
    with contextlib.suppress(OSError, PotashImpactError):
        build_index(out)


def run_reports(runs: list[Run], *, out=None, jobs: int = 1, timeout: float | None = DEFAULT_TIMEOUT,
                retries: int = 1, lock_wait: float = 0.0, notebook_dir=None, refresh: dict | None = None,
                progress: bool | None = None) -> list[dict]:
    """Execute every notebook of every run, ``jobs`` worker processes at a time; publish each run.

    Parameters
    ----------
    runs : list of Run
        From :func:`plan_run`.
    out : path-like, optional
        The reports folder (default: ``$POTASH_IMPACT_REPORTS`` or ``reports/``).
    jobs : int
        Notebooks executed in parallel.
    timeout : float or None
        Per-notebook time limit in seconds.
    retries : int
        Retries when a kernel fails to start.
    lock_wait : float
        Seconds to wait for a run id locked by another process before skipping it.
    notebook_dir : path-like, optional
        Unused (kept for compatibility): each :class:`Run` carries its notebooks' paths.
    refresh : dict, optional
        The outcome of :func:`refresh_data`, recorded in each manifest.
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).

    Returns
    -------
    list of dict
        One record per run: ``run_id, status`` (``ok``, ``failed`` or ``locked``),
        ``path``, ``notebooks`` (name, status, error, attempts, duration_s) and ``key``.

    Raises
    ------
    ReportError
        The kernel is not this environment's.
    WriteError
        The reports folder cannot be written (read-only, a file, disk full...). Nothing
        partial is published, earlier reports are intact, and each unfinished run is
        recorded under ``_failed/`` when the disk allows.

    Examples
    --------
    No runs: the folder is checked, repaired after any crash and indexed, no kernel starts.

    >>> import tempfile, pathlib
    >>> out = tempfile.mkdtemp()
    >>> run_reports([], out=out), (pathlib.Path(out) / "index.html").is_file()
    ([], True)
    """
    from tqdm import tqdm

    from .index import build_index

    del notebook_dir
    out = prepare_out(out)
    kernel_python()  # fail early with a clear message if the kernel is not this venv's
    env = kernel_env()
    jobs = max(1, int(jobs))
    queue: list[tuple[_Active, str]] = []
    active: list[_Active] = []
    records: list[dict] = []
    stacks: dict[str, contextlib.ExitStack] = {}
    finished: set[str] = set()
    memo: dict = {}  # provenance read once per data folder for all runs of this call
    running: list[tuple[object, _Active, str, float, dict]] = []
    bar = None
    try:
        for run in runs:
            if run.run_id in stacks:
                continue
            stack = contextlib.ExitStack()
            if not stack.enter_context(run_lock(out, run.run_id, lock_wait)):
                stack.close()
                records.append({"run_id": run.run_id, "status": "locked", "path": str(out / run.run_id),
                                "notebooks": [], "key": {}, "duration_s": 0.0,
                                "error": "another run holds the lock on this run id; skipped"})
                continue
            stacks[run.run_id] = stack
        recover(out, held=stacks)  # under the locks: finish or undo what a killed run left
        build_index(out)
        for run in runs:
            if run.run_id not in stacks or any(a.run.run_id == run.run_id for a in active):
                continue
            staging = inside(out, Path(tempfile.mkdtemp(prefix=f"{run.run_id}.", dir=out / STAGING_DIR)))
            staging.chmod(0o755)
            a = _Active(run=run, staging=staging, lock=stacks[run.run_id])
            active.append(a)
            queue.extend((a, nb) for nb in sorted(run.notebooks, key=lambda n: -EXPECTED_S.get(n, 0.0)))

        ctx = _worker_context()
        quiet = progress is False or (progress is None and not sys.stderr.isatty())
        bar = tqdm(total=len(queue), desc="notebooks", unit="nb", file=sys.stderr, disable=quiet, dynamic_ncols=True)
        prefilled = False
        while queue or running:
            while queue and len(running) < jobs:
                a, nb = queue.pop(0)
                if a.started is None:
                    a.started, a.t0 = now(), time.monotonic()
                params = dict(a.run.params, output_dir=str(a.staging))
                src = Path(a.run.sources.get(nb) or NOTEBOOK_DIR / f"{nb}.ipynb")
                task = {
                    "src": str(src), "dst": str(inside(out, a.staging / f"{nb}.ipynb")),
                    "html": str(inside(out, a.staging / f"{nb}.html")), "params": params, "cwd": str(src.parent),
                    "timeout": timeout, "retries": retries, "kernel": KERNEL_NAME,
                    "result": str(inside(out, a.staging / ".work" / f"{nb}.result.json")),
                }
                tf = inside(out, a.staging / ".work" / f"{nb}.task.json")
                atomic_write_text(tf, json.dumps(task))
                proc = start_worker(ctx, str(tf), env, f"report:{nb}")
                running.append((proc, a, nb, time.monotonic(), task))
            if not prefilled:  # while the first kernels start: the provenance every manifest needs
                prefilled = True
                for dd in dict.fromkeys(a.run.params.get("data_dir") for a in active):
                    tickers = {t for b in active if b.run.params.get("data_dir") == dd for t in b.run.tickers}
                    data_provenance({"data_dir": dd}, sorted(tickers), memo=memo)
            time.sleep(0.05)
            still = []
            for proc, a, nb, t0, task in running:
                rc = proc.exitcode
                limit = (timeout + KILL_GRACE) if timeout else None
                if rc is None and limit and time.monotonic() - t0 > limit:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.join()
                    msg = f"timed out: killed after {timeout} s (--timeout)"
                    dst = Path(task["dst"])
                    if dst.is_file():
                        mark_failed(dst, msg)
                        with contextlib.suppress(Exception):  # the notebook keeps its error cell either way
                            export_html(dst, Path(task["html"]))
                    res = {"status": "failed", "error": msg, "attempts": 1,
                           "duration_s": round(time.monotonic() - t0, 2), "html": Path(task["html"]).is_file()}
                elif rc is None:
                    still.append((proc, a, nb, t0, task))
                    continue
                else:
                    try:
                        res = json.loads(Path(task["result"]).read_text())
                    except (OSError, ValueError):
                        log = Path(task["result"]).parent / f"{nb}.task.log"
                        rc = rc if rc >= 0 else f"on signal {-rc}"
                        tail = log.read_text()[-300:].strip().splitlines()[-1:] if log.is_file() else []
                        res = {"status": "failed", "error": f"worker exited {rc}: {' '.join(tail)}", "attempts": 1,
                               "duration_s": round(time.monotonic() - t0, 2), "html": False}
                a.done[nb] = res
                bar.update(1)
                bar.set_postfix_str(f"{nb} {res['status']}")
                if len(a.done) == len(a.run.notebooks):
                    shutil.rmtree(a.staging / ".work", ignore_errors=True)
                    records.append(_finish(a, out, refresh, memo))
                    active.remove(a)
                    finished.add(a.run.run_id)
            running = still
        build_index(out)
    except BaseException as exc:
        for proc, *_ in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        for a in active:
            shutil.rmtree(a.staging, ignore_errors=True)
        for stack in stacks.values():
            stack.close()
        if isinstance(exc, OSError):
            err = _write_error(exc)
            started = {a.run.run_id for a in active}
            waiting = [_Active(run=r, staging=Path(""), lock=stacks[r.run_id]) for r in runs
                       if r.run_id in stacks and r.run_id not in started and r.run_id not in finished]
            for a in active + waiting:
                if not a.published:
                    _record_failure(out, a, refresh, str(err))
            raise err from None
        raise
    finally:
        if bar is not None:
            bar.close()
    return records
