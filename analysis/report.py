"""Report runner: parameterized notebooks -> ``reports/<run-id>/``, published atomically.

Read top to bottom, one step each (as papermill's small modules):

1. **validate** -- :mod:`analysis.params` checks every parameter before any kernel starts;
2. **plan** -- :func:`plan_run` gives the run id ``<event date>_<event id>_<hash of params>``;
3. **lock** -- :func:`run_lock` (``reports/.locks/<run-id>.lock``, ``flock``) so two
   overlapping cron runs never build the same run id at once;
4. **execute** -- each notebook runs through papermill in its own worker process
   (:func:`execute_notebook`), ``--jobs`` at a time, kernel ``python3`` of this
   interpreter; per-notebook ``--timeout``; ``--retries`` only for kernel start failures;
5. **convert** -- :func:`export_html`: self-contained HTML, code hidden, images embedded;
6. **publish** -- the run is built in ``reports/.staging/`` and renamed into place
   (:func:`publish`). A failed run never replaces an earlier successful one: it is
   published beside it under ``reports/_failed/``;
7. **index** -- :func:`build_index` rewrites ``reports/index.html`` from every manifest.

A run directory holds the executed ``<notebook>.ipynb`` and ``<notebook>.html``,
``figures/*.png``, ``tables/*.csv``, ``results.json`` (each notebook's results under its
name) and ``manifest.json`` (parameters, data vintage and coverage, package versions, git
commit, times, per-notebook status and duration).

The notebook side -- what a notebook calls to write into the run directory -- is
:class:`Recorder` (tables, figures, values), :func:`conclusion` (the plain-language
summary of the numbers) and :func:`highlight_tests`.

This module imports only the standard library at import time: the CLI imports it to
build ``--help``. papermill, nbconvert, pandas and tqdm load inside the functions.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import fcntl
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from . import config
from .errors import ParameterError, PotashImpactError, ReportError

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
KERNEL_NAME = "python3"
NOTEBOOK_DIR = config.REPO_DIR / "notebooks"
DEFAULT_TIMEOUT = 600
KILL_GRACE = 15  # seconds past --timeout before the worker (and its kernel) is killed
ROBUST_TESTS = ("patell_z_kp", "bmp_kp", "t_crude_dependence", "placebo")
FAILED_DIR = "_failed"
PACKAGES = (
    "potash-impact", "pandas", "numpy", "scipy", "matplotlib", "exchange-calendars", "yfinance",
    "papermill", "nbconvert", "nbclient", "ipykernel", "jupyter-client",
)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600; reports are for reading
    os.replace(tmp, path)


# =========================================================================== notebook side
def jsonable(obj):
    """``obj`` made JSON-serializable: numpy scalars, Timestamps, Periods, frames, NaN -> null."""
    import numpy as np
    import pandas as pd

    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, pd.Timestamp):
        return None if pd.isna(obj) else (str(obj.date()) if obj == obj.normalize() and obj.tz is None else obj.isoformat())
    if isinstance(obj, (_dt.date, _dt.datetime, pd.Period)):
        return str(obj)
    if isinstance(obj, pd.DataFrame):
        return [jsonable(r) for r in obj.to_dict(orient="records")]
    if isinstance(obj, pd.Series):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [jsonable(v) for v in obj]
    if obj is pd.NaT or (not isinstance(obj, type) and pd.api.types.is_scalar(obj) and pd.isna(obj)):
        return None
    return str(obj)


class Recorder:
    """What a notebook writes into its run directory: CSV tables, PNG figures, ``results``.

    >>> rec = Recorder(output_dir, "event_study")       # doctest: +SKIP
    >>> rec.table("tests", res.tests)                   # tables/event_study_tests.csv
    >>> rec.figure("caar", fig)                         # figures/event_study_caar.png
    >>> rec["session"] = session; rec.save()            # results/event_study.json

    With ``output_dir=None`` (a researcher running the notebook in JupyterLab) nothing
    is written; every method still returns its input so the notebook reads the same.
    """

    def __init__(self, output_dir, notebook: str):
        self.notebook = notebook
        self.dir = Path(output_dir) if output_dir else None
        self.results: dict = {"notebook": notebook, "tables": {}, "figures": {}}

    def table(self, name: str, df, *, index: bool = False):
        """Write ``df`` to ``tables/<notebook>_<name>.csv`` and list it in the results; returns ``df``."""
        rel = f"tables/{self.notebook}_{name}.csv"
        if self.dir is not None:
            (self.dir / "tables").mkdir(parents=True, exist_ok=True)
            df.to_csv(self.dir / rel, index=index)
        self.results["tables"][name] = rel
        return df

    def figure(self, name: str, fig, *, dpi: int = 110):
        """Save ``fig`` to ``figures/<notebook>_<name>.png``; returns ``fig`` (the notebook still shows it)."""
        rel = f"figures/{self.notebook}_{name}.png"
        if self.dir is not None:
            (self.dir / "figures").mkdir(parents=True, exist_ok=True)
            fig.savefig(self.dir / rel, dpi=dpi, bbox_inches="tight")
        self.results["figures"][name] = rel
        return fig

    def __setitem__(self, key: str, value) -> None:
        self.results[key] = jsonable(value)

    def __getitem__(self, key: str):
        return self.results[key]

    def save(self) -> Path | None:
        """Write ``results/<notebook>.json`` (merged into the run's ``results.json`` by the runner)."""
        if self.dir is None:
            return None
        path = self.dir / "results" / f"{self.notebook}.json"
        _atomic_write(path, json.dumps(jsonable(self.results), indent=1, allow_nan=False))
        return path


def highlight_tests(tests, robust=ROBUST_TESTS, alpha: float = 0.05):
    """The tidy test table as a window x test grid of ``statistic (p)``, robust tests highlighted.

    Columns of the dependence-robust tests (Kolari-Pynnönen, crude dependence) and the
    placebo are shaded; p-values below ``alpha`` are bold. Returns a pandas ``Styler``.
    """
    import pandas as pd

    order = list(dict.fromkeys(tests["test"]))
    wins = list(dict.fromkeys(tests["window"]))
    stat = tests.pivot(index="window", columns="test", values="statistic").loc[wins, order]
    p = tests.pivot(index="window", columns="test", values="p_value").loc[wins, order]
    cell = stat.map(lambda v: "" if pd.isna(v) else f"{v:.3f}") + p.map(lambda v: "" if pd.isna(v) else f" ({v:.3f})")
    robust = [t for t in order if t in robust]

    def shade(col):
        bg = "background-color: #fff3c4;" if col.name in robust else ""
        return [bg + ("font-weight: bold;" if pd.notna(pv) and pv < alpha else "") for pv in p[col.name]]

    return cell.style.apply(shade, axis=0).set_caption(
        f"statistic (p-value); shaded: dependence-robust tests and the placebo; bold: p < {alpha}"
    )


def _pct(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x * 100:+.2f}%"


def _p(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.3f}"


def _article(word: str) -> str:
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def _strength(p, alpha=0.05) -> str:
    if p is None or not math.isfinite(p):
        return "cannot be judged (no p-value)"
    if p < alpha / 5:
        return "is clearly distinguishable from ordinary moves"
    if p < alpha:
        return f"is distinguishable from ordinary moves at the {alpha:.0%} level"
    if p < 2 * alpha:
        return "is only weakly distinguishable from ordinary moves (below 10% but not 5%)"
    return "is not distinguishable from ordinary moves of that length"


def conclusion(*, event: dict, session, tests, window: str, main_test: str, treated, control=None,
               comparison=None, confounders=None, expected_sign=None, model: str = "market") -> str:
    """A short plain-language conclusion that follows from the numbers and claims nothing beyond them.

    ``tests`` is the treated group's tidy battery (window, test, statistic, p_value, n)
    with a ``caar`` column (``EventStudyResult.to_frame()``); ``comparison`` the
    ``GroupComparison.to_frame()``; ``confounders`` the catalog events inside the window.
    """
    import pandas as pd

    t = tests[tests["window"] == window]
    if t.empty:
        raise ReportError(f"conclusion: window {window} is not in the test table")
    caar = float(t["caar"].iloc[0]) if "caar" in t else float("nan")
    byname = dict(zip(t["test"], t["p_value"]))
    n = int(t["n"].max())
    p_main = byname.get(main_test, float("nan"))
    when = pd.Timestamp(session).date()
    out = [
        f"On {event.get('title') or event.get('event_id')} ({event.get('timestamp')} UTC; first reacting "
        f"session {when}), the {n} treated firms ({', '.join(treated)}) had a cumulative average abnormal "
        f"return of {_pct(caar)} over days {window} under the {model.replace('_', '-')} model."
    ]
    out.append(f"By the {main_test.replace('_', ' ')} test (p = {_p(p_main)}) this move {_strength(p_main)}.")
    robust = [(k, byname[k]) for k in ROBUST_TESTS if k in byname and k != main_test]
    if robust:
        sig = [k for k, v in robust if pd.notna(v) and v < 0.05]
        agree = "agree" if (len(sig) == 0) == (not (pd.notna(p_main) and p_main < 0.05)) else "do not all agree"
        out.append(
            "The other dependence-robust tests " + agree + " ("
            + ", ".join(f"{k.replace('_', ' ')} p = {_p(v)}" for k, v in robust) + ")."
        )
    if comparison is not None and len(comparison):
        c = comparison[comparison["window"] == window]
        if len(c):
            r = c.iloc[0]
            out.append(
                f"Against the control firms ({', '.join(control or [])}), whose CAAR was {_pct(r['caar_control'])}, "
                f"the difference is {_pct(r['diff'])} (placebo p = {_p(r['p_placebo'])})."
            )
    if expected_sign and math.isfinite(caar) and caar != 0:
        same = (caar > 0) == (expected_sign > 0)
        out.append(
            f"The sign {'matches' if same else 'is opposite to'} what {_article(str(event.get('kind')))} event suggests for "
            f"the treated firms ({'up' if expected_sign > 0 else 'down'})"
            + ("" if (pd.notna(p_main) and p_main < 0.05) else ", but the move is within ordinary variation")
            + "."
        )
    if confounders is not None and len(confounders):
        names = ", ".join(f"{r['event_id']} (day {r['day']})" for _, r in confounders.iterrows())
        out.append(
            f"Other catalog events fall inside the window ({names}); these numbers cannot separate the "
            f"event from them."
        )
    out.append(
        f"With {n} firms, cross-sectional tests have few degrees of freedom; the placebo p "
        f"is the most assumption-free of these numbers."
    )
    return " ".join(out)


# =========================================================================== runs
@dataclass
class Run:
    """One report: validated parameters, the notebooks to run and the run id."""

    params: dict
    notebooks: tuple[str, ...]
    run_id: str
    event: dict = field(default_factory=dict)


def run_id(params: dict, notebooks, event: dict | None = None) -> str:
    """``<event date>_<event id>_<7-hex hash of params and notebooks>``, e.g. ``2025-12-13_us-potash-easing-2025_1a2b3c4``."""
    import pandas as pd

    from .catalog import get_event
    from .params import params_hash

    ev = event or get_event(params["event"], data_dir=params.get("data_dir"))
    date = pd.Timestamp(ev.get("date") if ev.get("date") is not None else ev["timestamp"]).date()
    return f"{date}_{ev['event_id']}_{params_hash(params, notebooks)}"


def plan_run(params: dict | None = None, notebooks=None, *, notebook_dir=None) -> Run:
    """Validate ``params`` (raises ParameterError) and return the :class:`Run`."""
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


# =========================================================================== execute (worker)
def _kernel_env() -> dict:
    """Environment of the worker and its kernel: this venv's kernelspecs first, inline plots."""
    env = dict(os.environ)
    share = str(Path(sys.prefix) / "share" / "jupyter")
    env["JUPYTER_PATH"] = os.pathsep.join([share] + [p for p in env.get("JUPYTER_PATH", "").split(os.pathsep) if p])
    env.pop("MPLBACKEND", None)  # Agg would hide figures; ipykernel then picks the inline backend
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def kernel_python(kernel_name: str = KERNEL_NAME) -> str:
    """The interpreter the kernel will run; a ReportError if it is not this environment's."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    os.environ.update({"JUPYTER_PATH": _kernel_env()["JUPYTER_PATH"]})
    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
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


def _cells_started(path: Path) -> int:
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:
        return 0
    return sum(1 for c in nb.cells if c.get("metadata", {}).get("papermill", {}).get("start_time"))


def mark_failed(path: Path, message: str) -> None:
    """Put a visible error cell at the top of a partial executed notebook (timeouts, kills)."""
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:
        nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_markdown_cell(
        f'<span style="color:red; font-family:Helvetica Neue, Helvetica, Arial, sans-serif; font-size:2em;">'
        f"Execution stopped: {message}</span>"
    )
    cell.metadata["tags"] = ["papermill-error-cell-tag"]
    nb.cells.insert(0, cell)
    nb.metadata.setdefault("papermill", {})["exception"] = True
    nbformat.write(nb, path)


# The lab template without its CDN scripts (require.js, MathJax, Mermaid): the notebooks use none
# of them, and a report must open offline. Styles are inlined by the lab template itself.
_HTML_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


def export_html(ipynb: Path, html: Path) -> Path:
    """Executed notebook -> one self-contained HTML file, code hidden, images embedded."""
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
    _atomic_write(html, body)
    return html


def execute_notebook(task: dict) -> dict:
    """Run one notebook through papermill and convert it; returns its status record.

    ``task``: ``src, dst, html, params, cwd, timeout, retries, kernel``. A cell error
    leaves papermill's partial copy (with its error cell) at ``dst``. A kernel that fails
    to start (no cell ran) is retried up to ``retries`` times; nothing else is.
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
        except Exception as exc:  # kernel start failures and the like
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


def _fork_context():
    """Workers are forked from this process after papermill and nbconvert are imported, so no
    worker pays their import again (nbformat's jsonschema import alone costs ~2 s of CPU)."""
    import multiprocessing

    import nbconvert  # noqa: F401 - preloaded for the forked workers
    import papermill  # noqa: F401

    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: fork with no threads running
    return multiprocessing.get_context("fork")


def _forked_worker(task_file: str, env: dict) -> None:
    """Body of a worker process: own session (so a timeout kills it with its kernel), env, logs."""
    os.setsid()
    os.environ.clear()
    os.environ.update(env)
    log = os.open(Path(task_file).with_suffix(".log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    code = _worker_main(task_file)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def fast_imports() -> None:
    """Skip ``rfc3987_syntax`` in this process: jsonschema imports it for the "iri" string
    format (which notebooks never use), and building its grammar costs ~2 s at every start."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)


def _worker_main(task_file: str) -> int:
    task = json.loads(Path(task_file).read_text())
    try:
        res = execute_notebook(task)
    except Exception as exc:  # report, never crash silently
        res = {"status": "failed", "error": f"worker: {type(exc).__name__}: {exc}", "attempts": 1,
               "duration_s": None, "html": False}
    _atomic_write(Path(task["result"]), json.dumps(res))
    return 0


# =========================================================================== publish
@contextlib.contextmanager
def run_lock(out, rid: str, wait: float = 0.0):
    """Hold ``<out>/.locks/<rid>.lock`` (``flock``); yields True, or False if another run holds it."""
    d = Path(out) / ".locks"
    d.mkdir(parents=True, exist_ok=True)
    fh = open(d / f"{rid}.lock", "a+")
    got = False
    deadline = time.monotonic() + max(wait, 0.0)
    try:
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                got = True
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.2)
        if got:
            fh.seek(0)
            fh.truncate()
            fh.write(f"{os.getpid()} {_now()}\n")
            fh.flush()
        yield got
    finally:
        if got:
            fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def _read_manifest(d: Path) -> dict | None:
    try:
        return json.loads((d / "manifest.json").read_text())
    except (OSError, ValueError):
        return None


def publish(staging: Path, out: Path, rid: str, ok: bool) -> Path:
    """Move a finished build into place; returns where it went. Call with the run lock held.

    Success replaces ``<out>/<rid>`` (old copy renamed aside, new one renamed in, old one
    removed). Failure goes to ``<out>/<rid>`` only if no successful report is there;
    otherwise to ``<out>/_failed/<rid>_<UTC time>``, leaving the good report untouched.
    """
    target = out / rid
    prev = _read_manifest(target) if target.exists() else None
    if not ok and prev is not None and prev.get("status") == "ok":
        target = out / FAILED_DIR / f"{rid}_{_dt.datetime.now(_dt.timezone.utc):%Y%m%dT%H%M%SZ}"
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staging, target)
        return target
    if target.exists():
        trash = out / ".trash" / f"{rid}.{uuid.uuid4().hex[:8]}"
        trash.parent.mkdir(parents=True, exist_ok=True)
        os.rename(target, trash)
        os.rename(staging, target)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.rename(staging, target)
    return target


def merge_results(d: Path, notebooks) -> dict:
    """``results/<nb>.json`` of each notebook -> one dict keyed by notebook name."""
    out = {}
    for nb in notebooks:
        p = d / "results" / f"{nb}.json"
        if p.is_file():
            try:
                out[nb] = json.loads(p.read_text())
            except ValueError as exc:
                out[nb] = {"error": f"unreadable results: {exc}"}
    return out


def _git() -> dict:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=config.REPO_DIR, capture_output=True, text=True,
                              timeout=5)
        if head.returncode != 0:
            return {"commit": None}
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=config.REPO_DIR,
                               capture_output=True, text=True, timeout=5)
        return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None}


def package_versions() -> dict:
    """Installed versions of the packages a report depends on."""
    from importlib import metadata

    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def data_provenance(params: dict, tickers, refresh: dict | None = None) -> dict:
    """Data vintage and coverage of the run's tickers (snapshot and cache), and the refresh outcome."""
    from . import data

    offline = config.is_offline(params.get("offline"))
    out = {"offline": offline, "refresh": refresh or {"status": "skipped (offline)" if offline else "not run"}}
    try:
        out["snapshot_vintage"] = data.snapshot_vintage(params.get("data_dir")).get("vintage")
        cov = data.coverage(params.get("data_dir"))
        cov = cov[cov["ticker"].isin(list(tickers))]
        out["coverage"] = jsonable(cov)
    except Exception as exc:  # provenance must not fail a report
        out["coverage_error"] = f"{type(exc).__name__}: {exc}"
    try:
        from .commodities import load_commodity_prices

        px = load_commodity_prices(params.get("data_dir"))
        out["commodity_vintage"] = jsonable(px.attrs.get("vintage"))
        out["commodity_source"] = px.attrs.get("source")
    except Exception as exc:
        out["commodity_error"] = f"{type(exc).__name__}: {exc}"
    return out


def _key_numbers(results: dict) -> dict:
    """The headline (producer CAAR, main test p): event_study's ``key``, else the first notebook's with a CAAR."""
    keys = [(results.get("event_study") or {}).get("key")] + [r.get("key") for r in results.values()]
    return next((k for k in keys if isinstance(k, dict) and "caar_treated" in k), {})


# =========================================================================== index
_INDEX_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;font-size:0.92em}th,td{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#17692c;font-weight:600}.failed{color:#b00020;font-weight:600}.partial{color:#8a5a00;font-weight:600}
"""


def _runs(out: Path) -> list[tuple[Path, dict]]:
    found = []
    for d in list(out.glob("*")) + list((out / FAILED_DIR).glob("*")):
        if d.is_dir() and not d.name.startswith("."):
            m = _read_manifest(d)
            if m is not None:
                found.append((d, m))
    return sorted(found, key=lambda x: x[1].get("started") or "", reverse=True)


def build_index(out) -> Path:
    """Rewrite ``<out>/index.html``: one row per run (event, date, status, key numbers, links)."""
    from html import escape

    out = Path(out)
    (out / ".locks").mkdir(parents=True, exist_ok=True)
    with open(out / ".locks" / "index.lock", "a+") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        rows = []
        for d, m in _runs(out):
            rel = d.relative_to(out).as_posix()
            key = m.get("key") or {}
            ev = m.get("event") or {}
            links = [f'<a href="{escape(rel)}/{escape(n["name"])}.html">{escape(n["name"])}</a>'
                     for n in m.get("notebooks", []) if n.get("html")]
            links += [f'<a href="{escape(rel)}/results.json">results</a>',
                      f'<a href="{escape(rel)}/manifest.json">manifest</a>']
            failed = [n["name"] for n in m.get("notebooks", []) if n.get("status") != "ok"]
            status = m.get("status", "?") + (f" ({', '.join(failed)})" if failed else "")
            caar = key.get("caar_treated")
            pv = key.get("p_value")
            rows.append(
                "<tr>"
                f'<td><a href="{escape(rel)}/">{escape(m.get("run_id", d.name))}</a></td>'
                f"<td>{escape(str(ev.get('event_id', '')))}<br><small>{escape(str(ev.get('title') or ''))}</small></td>"
                f"<td>{escape(str(ev.get('timestamp', '')))}</td>"
                f"<td>{escape(str(m.get('session') or ''))}</td>"
                f"<td>{escape((m.get('started') or '')[:19].replace('T', ' '))}</td>"
                f'<td class="{escape(m.get("status", ""))}">{escape(status)}</td>'
                f'<td class="num">{"" if caar is None else f"{caar * 100:+.2f}%"}</td>'
                f'<td>{escape(str(key.get("window", "")))}</td>'
                f'<td class="num">{"" if pv is None else f"{pv:.3f}"}'
                f'{"" if not key.get("test") else " <small>" + escape(key["test"]) + "</small>"}</td>'
                f"<td>{' · '.join(links)}</td>"
                "</tr>"
            )
        html = (
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>potash-impact reports</title>"
            f"<style>{_INDEX_CSS}</style></head><body><h1>potash-impact reports</h1>"
            f"<p>{len(rows)} run(s); regenerated {escape(_now())}. Producer CAAR and p-value: the run's main window "
            "and main test (parameters <code>main_window</code>, <code>main_test</code>).</p>"
            "<table><thead><tr><th>run</th><th>event</th><th>event time (UTC)</th><th>session</th><th>run started</th>"
            "<th>status</th><th>producer CAAR</th><th>window</th><th>main test p</th><th>links</th></tr></thead>"
            "<tbody>" + "\n".join(rows) + "</tbody></table></body></html>\n"
        )
        _atomic_write(out / "index.html", html)
    return out / "index.html"


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


def refresh_data(runs: list[Run]) -> dict:
    """Online: refresh the prices of every run's tickers and the commodity series; never raises."""
    import pandas as pd

    from . import data
    from .params import resolve

    tickers, start = set(), None
    for r in runs:
        rp = resolve(**r.params)
        tickers.update(rp["tickers"])
        s = rp["session"] - pd.Timedelta(days=int(-r.params["estimation_window"][0] * 1.6) + 30)
        start = s if start is None else min(start, s)
    out = {"status": "ok", "tickers": sorted(tickers), "at": _now()}
    try:
        table = data.refresh(sorted(tickers), start.date(), None)
        out["prices"] = jsonable(table)
    except PotashImpactError as exc:
        out.update(status="failed", prices_error=str(exc))
    try:
        from .commodities import refresh_commodities

        refresh_commodities()
    except Exception as exc:
        out["commodities_error"] = f"{type(exc).__name__}: {exc}"
        out["status"] = "partial" if out["status"] == "ok" else out["status"]
    return out


def _finish(a: _Active, out: Path, refresh: dict | None) -> dict:
    """Merge results, write the manifest, publish, release the lock, rebuild the index."""
    from .params import resolve

    nbs = [dict(name=nb, **a.done[nb]) for nb in a.run.notebooks]
    ok = all(n["status"] == "ok" for n in nbs)
    results = merge_results(a.staging, a.run.notebooks)
    _atomic_write(a.staging / "results.json", json.dumps(results, indent=1))
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
        "key": _key_numbers(results),
        "started": a.started,
        "finished": _now(),
        "duration_s": round(time.monotonic() - a.t0, 2),
        "data": data_provenance(a.run.params, tickers, refresh),
        "packages": package_versions(),
        "git": _git(),
        "kernel": {"name": KERNEL_NAME, "python": sys.executable},
        "host": os.uname().nodename,
        "command": sys.argv,
    }
    _atomic_write(a.staging / "manifest.json", json.dumps(jsonable(manifest), indent=1))
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

    Returns one record per run: ``run_id, status`` (``ok``, ``failed`` or ``locked``),
    ``path``, ``notebooks`` (name, status, error, attempts, duration_s) and ``key``.
    """
    from tqdm import tqdm

    out = config.reports_dir(out)
    nbdir = Path(notebook_dir) if notebook_dir else NOTEBOOK_DIR
    (out / ".staging").mkdir(parents=True, exist_ok=True)
    kernel_python()  # fail early with a clear message if the kernel is not this venv's
    env = _kernel_env()
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
        a = _Active(run=run, staging=staging, lock=stack, started=_now(), t0=time.monotonic(),
                    pending=list(run.notebooks))
        active.append(a)
        queue.extend((a, nb) for nb in run.notebooks)

    running: list[tuple[object, _Active, str, float, dict]] = []
    ctx = _fork_context()
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
                tf.parent.mkdir(parents=True, exist_ok=True)
                tf.write_text(json.dumps(task))
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


# =========================================================================== CLI
def summary_table(records: list[dict]) -> str:
    """The final summary: one line per run and notebook with status and seconds."""
    lines = [f"{'run':<52} {'notebook':<15} {'status':<8} {'secs':>6}  note"]
    for r in records:
        if not r["notebooks"]:
            lines.append(f"{r['run_id']:<52} {'-':<15} {r['status']:<8} {'':>6}  {r.get('error', '')}")
        for n in r["notebooks"]:
            d = n.get("duration_s")
            lines.append(f"{r['run_id']:<52} {n['name']:<15} {n['status']:<8} {'' if d is None else f'{d:.1f}':>6}  "
                         f"{(n.get('error') or '')[:90]}")
        key = r.get("key") or {}
        if key.get("caar_treated") is not None:
            lines.append(f"{'':<52} producer CAAR {key.get('window')} = {key['caar_treated'] * 100:+.2f}%, "
                         f"{key.get('test')} p = {_p(key.get('p_value'))}")
    return "\n".join(lines)


def add_arguments(parser) -> None:
    """The ``report`` subcommand's options (the CLI calls this to build ``--help``)."""
    parser.description = (
        "Run the parameterized notebooks (papermill) into reports/<run-id>/ and regenerate reports/index.html. "
        "Parameters are validated before any kernel starts; exit 0 all ok, 1 a run failed or was locked, 2 bad input."
    )
    parser.add_argument("--event", help="catalog event id or 'YYYY-MM-DD[ HH:MM]' (UTC); default: the case's")
    parser.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a notebook parameter, value read as YAML (repeatable), e.g. -p model=market_adjusted")
    parser.add_argument("--params", metavar="FILE.yaml", help="parameters from a YAML mapping (-p overrides it)")
    parser.add_argument("--notebooks", nargs="+", metavar="NAME",
                        help="notebooks to run (default: event_study potash_prices event_catalog)")
    parser.add_argument("--out", default=None, help="reports folder (default: $POTASH_IMPACT_REPORTS or reports/)")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks executed in parallel processes (default 1)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="per-notebook time limit in seconds")
    parser.add_argument("--retries", type=int, default=1, help="retries when a kernel fails to start (default 1)")
    parser.add_argument("--offline", action="store_true", help="never touch the network; use snapshot/cache")
    parser.add_argument("--data-dir", default=None, help="case data folder (same as -p data_dir=...)")
    parser.add_argument("--all-events", action="store_true", help="one report per easing/tightening catalog event")
    parser.add_argument("--schedule", metavar="FILE.toml", help="run the jobs listed in a schedule file")
    parser.add_argument("--lock-wait", type=float, default=0.0,
                        help="seconds to wait for a run id locked by another run before skipping it (default 0)")
    parser.add_argument("--notebook-dir", default=None, help=argparse.SUPPRESS)  # tests: tiny notebooks
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def load_schedule(path) -> list[tuple[dict, list | None]]:
    """``schedule.toml``: ``[defaults]`` parameters and ``[[job]]`` tables (parameters, optional ``notebooks``)."""
    import tomllib

    p = Path(path)
    if not p.is_file():
        raise ParameterError(f"--schedule {path}: no such file")
    try:
        doc = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"--schedule {path}: invalid TOML ({exc})") from None
    base = dict(doc.get("defaults", {}))
    base_nbs = base.pop("notebooks", None)
    jobs = doc.get("job", [])
    if not isinstance(jobs, list) or not jobs:
        raise ParameterError(f"--schedule {path}: no [[job]] tables")
    out = []
    for j in jobs:
        j = dict(j)
        nbs = j.pop("notebooks", base_nbs)
        out.append(({**base, **j}, nbs))
    return out


def build_runs(ns) -> list[Run]:
    """The runs the command line asks for, every one validated (ParameterError on the first bad one)."""
    from .catalog import load_events
    from .params import load_params_file, parse_assignments

    base = load_params_file(ns.params) if ns.params else {}
    base.update(parse_assignments(ns.param))
    if ns.event:
        base["event"] = ns.event
    if ns.data_dir:
        base["data_dir"] = ns.data_dir
    if ns.offline:
        base["offline"] = True
    elif config.is_offline(None):
        base.setdefault("offline", True)
    specs: list[tuple[dict, list | None]] = []
    if ns.schedule:
        specs = [({**base, **p}, nbs or ns.notebooks) for p, nbs in load_schedule(ns.schedule)]
    if ns.all_events:
        ev = load_events(base.get("data_dir"))
        specs += [({**base, "event": e}, ns.notebooks) for e in ev.loc[ev["kind"] != "confounder", "event_id"]]
    if not specs:
        specs = [(base, ns.notebooks)]
    runs, seen = [], set()
    for p, nbs in specs:
        try:
            r = plan_run(p, nbs, notebook_dir=ns.notebook_dir)
        except ParameterError as exc:
            where = f" (event {p.get('event')})" if len(specs) > 1 else ""
            raise ParameterError(f"{exc}{where}") from None
        if r.run_id not in seen:
            seen.add(r.run_id)
            runs.append(r)
    return runs


def run_cli(ns) -> int:
    """``potash-impact report``: validate, (refresh), execute, publish, index; returns the exit code."""
    fast_imports()
    try:
        runs = build_runs(ns)
    except PotashImpactError as exc:
        print(f"potash-impact report: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    offline = all(config.is_offline(r.params.get("offline")) for r in runs)
    refresh = None
    if not offline:
        print(f"refreshing data for {len(runs)} run(s) ...", file=sys.stderr)
        refresh = refresh_data(runs)
        if refresh["status"] != "ok":
            print(f"warning: data refresh {refresh['status']}: "
                  f"{refresh.get('prices_error') or refresh.get('commodities_error')}", file=sys.stderr)
    from . import data

    vint = data.snapshot_vintage(runs[0].params.get("data_dir")).get("vintage", "unknown")
    print(f"{'offline' if offline else 'online'}: data vintage {vint}"
          + ("" if offline else " (plus the refreshed cache)"), file=sys.stderr)
    try:
        records = run_reports(runs, out=ns.out, jobs=ns.jobs, timeout=ns.timeout or None, retries=ns.retries,
                              lock_wait=ns.lock_wait, notebook_dir=ns.notebook_dir, refresh=refresh,
                              progress=False if ns.quiet else None)
    except ReportError as exc:
        print(f"potash-impact report: error: {exc}", file=sys.stderr)
        return EXIT_FAIL
    print(summary_table(records))
    out = config.reports_dir(ns.out)
    print(f"index: {out / 'index.html'}")
    return EXIT_OK if all(r["status"] == "ok" for r in records) else EXIT_FAIL


