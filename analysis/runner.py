"""Planning and executing report runs: parameters -> run id -> papermill in worker processes.

One step each, as papermill's small modules (the steps after execution live in
:mod:`analysis.publish` and :mod:`analysis.index`):

1. **validate** -- :mod:`analysis.params` checks every parameter before any kernel starts;
2. **plan** -- :func:`plan_run` gives the run id ``<event date>_<event id>_<hash of params>``;
3. **lock** -- :func:`analysis.publish.run_lock` so two overlapping cron runs never build
   the same run id at once;
4. **execute** -- each notebook runs through papermill in its own worker process
   (:func:`execute_notebook`), ``--jobs`` at a time, kernel ``python3`` of this
   interpreter; per-notebook ``--timeout``; ``--retries`` only for kernel start failures;
5. **convert** -- :func:`export_html`: self-contained HTML, code hidden, images embedded;
6. **publish** and **index** -- :func:`analysis.publish.publish`, :func:`analysis.index.build_index`.

Workers are forked from a *fork server* (``multiprocessing``'s ``forkserver`` start
method) that has preloaded papermill and nbconvert once, so no worker pays their import
again. The import shortcuts (``rfc3987_syntax`` skipped, no tqdm monitor thread) are
applied in that server only (:mod:`analysis._worker_preload`), never in the calling
process, and the kernel's environment is a dict handed to the worker: this process's
``os.environ`` is not changed.

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
from .errors import ParameterError, PotashImpactError, ReportError
from .publish import (
    KERNEL_NAME,
    data_provenance,
    git_info,
    mark_failed,
    merge_results,
    now,
    package_versions,
    publish,
    run_lock,
)
from .recorder import jsonable

NOTEBOOK_DIR = config.REPO_DIR / "notebooks"
DEFAULT_TIMEOUT = 600
KILL_GRACE = 15  # seconds past --timeout before the worker (and its kernel) is killed


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
    """

    params: dict
    notebooks: tuple[str, ...]
    run_id: str
    event: dict = field(default_factory=dict)


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
    return f"{date}_{ev['event_id']}_{params_hash(params, notebooks)}"


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
    from .catalog import get_event
    from .params import NOTEBOOKS, validate

    nbdir = Path(notebook_dir) if notebook_dir else NOTEBOOK_DIR
    notebooks = tuple(notebooks or NOTEBOOKS)
    for nb in notebooks:
        if not (nbdir / f"{nb}.ipynb").is_file():
            known = sorted(p.stem for p in nbdir.glob("*.ipynb"))
            raise ParameterError(f"unknown notebook {nb!r}: {nbdir} has {', '.join(known) or 'none'}")
    p = validate(params)
    ev = get_event(p["event"], data_dir=p["data_dir"])
    return Run(params=p, notebooks=notebooks, run_id=run_id(p, notebooks, ev),
               event={k: ev.get(k) for k in ("event_id", "timestamp", "kind", "title")})


# =========================================================================== kernel
def kernel_env(base: dict | None = None) -> dict:
    """The environment of a worker and its kernel, as a new dict (``os.environ`` is not changed).

    Parameters
    ----------
    base : dict, optional
        The environment to start from (default: a copy of ``os.environ``).

    Returns
    -------
    dict
        ``base`` with this venv's kernelspecs first on ``JUPYTER_PATH``, ``MPLBACKEND``
        removed (ipykernel then picks the inline backend) and unbuffered output.
    """
    env = dict(os.environ if base is None else base)
    share = str(Path(sys.prefix) / "share" / "jupyter")
    env["JUPYTER_PATH"] = os.pathsep.join([share] + [p for p in env.get("JUPYTER_PATH", "").split(os.pathsep) if p])
    env.pop("MPLBACKEND", None)  # Agg would hide figures; ipykernel then picks the inline backend
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env["PYTHONUNBUFFERED"] = "1"
    return env


_kernel_env = kernel_env  # the old private name (benchmarks)


def kernel_python(kernel_name: str = KERNEL_NAME) -> str:
    """The interpreter the kernel will run.

    Parameters
    ----------
    kernel_name : str
        The kernelspec name (default ``python3``).

    Returns
    -------
    str
        The kernel's interpreter path.

    Raises
    ------
    ReportError
        No such kernel, or it runs another environment's interpreter (with the command
        that installs this one's).

    Examples
    --------
    >>> import sys, pathlib
    >>> pathlib.Path(kernel_python()).parent == pathlib.Path(sys.executable).parent
    True
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    ksm = KernelSpecManager()
    ksm.kernel_dirs = [str(Path(sys.prefix) / "share" / "jupyter" / "kernels")] + list(ksm.kernel_dirs)
    try:
        spec = ksm.get_kernel_spec(kernel_name)
    except NoSuchKernel:
        raise ReportError(
            f"no Jupyter kernel {kernel_name!r}: run `{sys.executable} -m ipykernel install --sys-prefix --name python3`"
        ) from None
    exe = spec.argv[0]
    if exe in ("python", "python3", "{python}") or Path(exe).resolve() == Path(sys.executable).resolve():
        return sys.executable
    if Path(exe).parent.resolve() != Path(sys.executable).parent.resolve():
        raise ReportError(
            f"kernel {kernel_name!r} runs {exe}, not this environment's {sys.executable}: "
            f"run `{sys.executable} -m ipykernel install --sys-prefix --name python3`"
        )
    return exe


# =========================================================================== execute (worker)
def _cells_started(path: Path) -> int:
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # an unreadable partial notebook: no cell is known to have run
        return 0
    return sum(1 for c in nb.cells if c.get("metadata", {}).get("papermill", {}).get("start_time"))


# The lab template without its CDN scripts (require.js, MathJax, Mermaid): the notebooks use none
# of them, and a report must open offline. Styles are inlined by the lab template itself.
_HTML_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


def export_html(ipynb: Path, html: Path) -> Path:
    """Executed notebook -> one self-contained HTML file, code hidden, images embedded.

    Parameters
    ----------
    ipynb : pathlib.Path
        The executed notebook.
    html : pathlib.Path
        Where to write the HTML (atomically).

    Returns
    -------
    pathlib.Path
        ``html``.
    """
    import jinja2
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(ipynb, as_version=4)
    exporter = HTMLExporter(
        extra_loaders=[jinja2.DictLoader({"potash_report.html.j2": _HTML_TEMPLATE})],
        template_name="lab",
        template_file="potash_report.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": ipynb.stem}})
    atomic_write_text(html, body)
    return html


def execute_notebook(task: dict) -> dict:
    """Run one notebook through papermill and convert it to HTML.

    Parameters
    ----------
    task : dict
        ``src, dst, html, params, cwd, timeout, retries, kernel``.

    Returns
    -------
    dict
        ``status`` (``ok``/``failed``), ``error``, ``attempts``, ``duration_s``, ``html``.
        A cell error leaves papermill's partial copy (with its error cell) at ``dst``. A
        kernel that fails to start (no cell ran) is retried up to ``retries`` times;
        nothing else is.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    try:
        from nbclient.exceptions import CellTimeoutError
    except ImportError:  # pragma: no cover
        CellTimeoutError = TimeoutError

    src, dst, html = Path(task["src"]), Path(task["dst"]), Path(task["html"])
    t0 = time.monotonic()
    attempts, status, error = 0, "ok", None
    while True:
        attempts += 1
        try:
            pm.execute_notebook(
                str(src), str(dst), parameters=task["params"], kernel_name=task.get("kernel", KERNEL_NAME),
                cwd=task.get("cwd"), progress_bar=False, start_timeout=60,
                execution_timeout=task.get("timeout") or None,
            )
            status, error = "ok", None
            break
        except PapermillExecutionError as exc:
            status, error = "failed", f"{exc.ename}: {exc.evalue}".strip()
            break
        except CellTimeoutError:
            status, error = "failed", f"a cell ran longer than --timeout {task.get('timeout')} s"
            mark_failed(dst, error)
            break
        except Exception as exc:  # kernel start failures and the like: recorded as the run's error
            error = f"{type(exc).__name__}: {exc}".strip()
            started = dst.is_file() and _cells_started(dst) > 0
            if not started and attempts <= int(task.get("retries") or 0):
                time.sleep(min(2 ** attempts, 10) * 0.5)
                continue
            status = "failed"
            if not started:
                error = f"kernel did not start after {attempts} attempt(s): {error}"
            if dst.is_file():
                mark_failed(dst, error)
            break
    html_ok = False
    if dst.is_file():
        try:
            export_html(dst, html)
            html_ok = True
        except Exception as exc:  # a broken HTML export must not hide the notebook's own status
            if status == "ok":
                status, error = "failed", f"HTML export: {type(exc).__name__}: {exc}"
    return {"status": status, "error": error, "attempts": attempts, "duration_s": round(time.monotonic() - t0, 2),
            "html": html_ok}


_CTX = None


def _worker_context():
    """The ``forkserver`` context whose server preloads papermill and nbconvert
    (:mod:`analysis._worker_preload`): each worker is a cheap fork of it."""
    global _CTX
    if _CTX is None:
        import multiprocessing

        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["analysis._worker_preload"])
        _CTX = ctx
    return _CTX


def _forked_worker(task_file: str, env: dict) -> None:
    """Body of a worker process: own session (so a timeout kills it with its kernel), env, logs."""
    os.setsid()
    os.environ.clear()
    os.environ.update(env)
    log = os.open(Path(task_file).with_suffix(".log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    fast_imports()
    code = _worker_main(task_file)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def fast_imports() -> None:
    """In a worker process only: skip ``rfc3987_syntax`` and tqdm's monitor thread.

    jsonschema imports ``rfc3987_syntax`` for the "iri" string format (which notebooks
    never use), and building its grammar costs ~2 s at every start. Called by the fork
    server and the workers; never call it in a process that may validate IRIs.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        return
    tqdm.monitor_interval = 0  # no monitor thread: fork with no threads running


def _worker_main(task_file: str) -> int:
    task = json.loads(Path(task_file).read_text())
    try:
        res = execute_notebook(task)
    except Exception as exc:  # report, never crash silently
        res = {"status": "failed", "error": f"worker: {type(exc).__name__}: {exc}", "attempts": 1,
               "duration_s": None, "html": False}
    atomic_write_text(Path(task["result"]), json.dumps(res))
    return 0


# =========================================================================== refresh
def refresh_data(runs: list[Run]) -> dict:
    """Online: refresh the prices of every run's tickers and the commodity series; never raises.

    Parameters
    ----------
    runs : list of Run

    Returns
    -------
    dict
        ``status`` (``ok``, ``partial``, ``failed``), ``tickers``, ``at``, and ``prices``
        or ``prices_error``, ``commodities_error`` when a part failed.
    """
    import pandas as pd

    from . import data
    from .params import resolve

    tickers, start = set(), None
    for r in runs:
        rp = resolve(**r.params)
        tickers.update(rp["tickers"])
        s = rp["session"] - pd.Timedelta(days=int(-r.params["estimation_window"][0] * 1.6) + 30)
        start = s if start is None else min(start, s)
    out = {"status": "ok", "tickers": sorted(tickers), "at": now()}
    try:
        table = data.refresh(sorted(tickers), start.date(), None)
        out["prices"] = jsonable(table)
    except PotashImpactError as exc:
        out.update(status="failed", prices_error=str(exc))
    try:
        from .commodities import refresh_commodities

        refresh_commodities()
    except Exception as exc:  # documented fallback: the bundled/cached series; recorded in the manifest
        out["commodities_error"] = f"{type(exc).__name__}: {exc}"
        out["status"] = "partial" if out["status"] == "ok" else out["status"]
    return out


# =========================================================================== orchestrate
@dataclass
class _Active:
    run: Run
    staging: Path
    lock: contextlib.ExitStack
    started: str
    t0: float
    pending: list
    done: dict = field(default_factory=dict)


def _finish(a: _Active, out: Path, refresh: dict | None) -> dict:
    """Merge results, write the manifest, publish, release the lock, rebuild the index."""
    from .index import build_index, key_numbers
    from .params import resolve

    nbs = [dict(name=nb, **a.done[nb]) for nb in a.run.notebooks]
    ok = all(n["status"] == "ok" for n in nbs)
    results = merge_results(a.staging, a.run.notebooks)
    atomic_write_text(a.staging / "results.json", json.dumps(results, indent=1))
    try:
        rp = resolve(**a.run.params)
        tickers, session = rp["tickers"], str(rp["session"].date())
    except PotashImpactError:
        tickers, session = [], None
    manifest = {
        "run_id": a.run.run_id,
        "status": "ok" if ok else "failed",
        "event": a.run.event,
        "session": session,
        "params": a.run.params,
        "notebooks": nbs,
        "key": key_numbers(results),
        "started": a.started,
        "finished": now(),
        "duration_s": round(time.monotonic() - a.t0, 2),
        "data": data_provenance(a.run.params, tickers, refresh),
        "packages": package_versions(),
        "git": git_info(),
        "kernel": {"name": KERNEL_NAME, "python": sys.executable},
        "host": os.uname().nodename,
        "command": sys.argv,
    }
    atomic_write_text(a.staging / "manifest.json", json.dumps(jsonable(manifest), indent=1))
    try:
        where = publish(a.staging, out, a.run.run_id, ok)
    finally:
        a.lock.close()
    build_index(out)
    return {"run_id": a.run.run_id, "status": manifest["status"], "path": str(where), "notebooks": nbs,
            "key": manifest["key"], "duration_s": manifest["duration_s"]}


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
        Where the notebooks are.
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
    """
    from tqdm import tqdm

    from .index import build_index

    out = config.reports_dir(out)
    nbdir = Path(notebook_dir) if notebook_dir else NOTEBOOK_DIR
    (out / ".staging").mkdir(parents=True, exist_ok=True)
    kernel_python()  # fail early with a clear message if the kernel is not this venv's
    env = kernel_env()
    jobs = max(1, int(jobs))
    queue: list[tuple[_Active, str]] = []
    active: list[_Active] = []
    records: list[dict] = []
    for run in runs:
        stack = contextlib.ExitStack()
        got = stack.enter_context(run_lock(out, run.run_id, lock_wait))
        if not got:
            stack.close()
            records.append({"run_id": run.run_id, "status": "locked", "path": str(out / run.run_id), "notebooks": [],
                            "key": {}, "duration_s": 0.0,
                            "error": "another run holds the lock on this run id; skipped"})
            continue
        staging = Path(tempfile.mkdtemp(prefix=f"{run.run_id}.", dir=out / ".staging"))
        staging.chmod(0o755)
        a = _Active(run=run, staging=staging, lock=stack, started=now(), t0=time.monotonic(),
                    pending=list(run.notebooks))
        active.append(a)
        queue.extend((a, nb) for nb in run.notebooks)

    running: list[tuple[object, _Active, str, float, dict]] = []
    ctx = _worker_context()
    quiet = progress is False or (progress is None and not sys.stderr.isatty())
    bar = tqdm(total=len(queue), desc="notebooks", unit="nb", file=sys.stderr, disable=quiet, dynamic_ncols=True)
    try:
        while queue or running:
            while queue and len(running) < jobs:
                a, nb = queue.pop(0)
                params = dict(a.run.params, output_dir=str(a.staging))
                task = {
                    "src": str(nbdir / f"{nb}.ipynb"), "dst": str(a.staging / f"{nb}.ipynb"),
                    "html": str(a.staging / f"{nb}.html"), "params": params, "cwd": str(nbdir),
                    "timeout": timeout, "retries": retries, "kernel": KERNEL_NAME,
                    "result": str(a.staging / ".work" / f"{nb}.result.json"),
                }
                tf = a.staging / ".work" / f"{nb}.task.json"
                atomic_write_text(tf, json.dumps(task))
                proc = ctx.Process(target=_forked_worker, args=(str(tf), env), name=f"report:{nb}", daemon=False)
                proc.start()
                running.append((proc, a, nb, time.monotonic(), task))
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
                        with contextlib.suppress(Exception):
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
                    records.append(_finish(a, out, refresh))
                    active.remove(a)
            running = still
    except BaseException:
        for proc, *_ in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        for a in active:
            a.lock.close()
            shutil.rmtree(a.staging, ignore_errors=True)
        raise
    finally:
        bar.close()
    build_index(out)
    return records
