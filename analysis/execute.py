"""Executing one notebook: the kernel, papermill, the HTML export and the worker processes.

* **kernel** -- :func:`kernel_python` checks that the ``python3`` kernelspec runs this
  environment's interpreter; :func:`kernel_env` is the environment handed to workers and
  kernels (a new dict: this process's ``os.environ`` is never changed);
* **execute** -- :func:`execute_notebook` runs a notebook through papermill, retrying only
  kernel start failures; a cell error leaves papermill's partial copy with its error cell;
* **convert** -- :func:`export_html`: self-contained HTML (lab template without its CDN
  scripts), code hidden, images embedded;
* **workers** -- each notebook runs in a process forked from a *fork server*
  (``multiprocessing``'s ``forkserver``) that preloaded papermill and nbconvert once
  (:mod:`analysis._worker_preload`). The import shortcuts of :func:`fast_imports` are
  applied there and in the workers only.

Stdlib only at import.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from ._io import atomic_write_text
from .errors import ReportError
from .publish import KERNEL_NAME, mark_failed

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
        removed (ipykernel then picks the inline backend), unbuffered output, and the
        ``POTASH_IMPACT_DATA/CACHE/REPORTS`` folders made absolute (kernels start elsewhere).

    Examples
    --------
    >>> env = kernel_env({"PATH": "/usr/bin", "MPLBACKEND": "Agg", "POTASH_IMPACT_DATA": "/tmp/case/../case"})
    >>> "MPLBACKEND" in env, env["POTASH_IMPACT_DATA"], env["PYTHONUNBUFFERED"]
    (False, '/tmp/case', '1')
    """
    env = dict(os.environ if base is None else base)
    for var in ("POTASH_IMPACT_DATA", "POTASH_IMPACT_CACHE", "POTASH_IMPACT_REPORTS"):
        if env.get(var):  # kernels start in the notebook's folder: a relative path must not change meaning
            env[var] = str(Path(env[var]).expanduser().resolve())
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
    import json

    own = Path(sys.prefix) / "share" / "jupyter" / "kernels" / kernel_name / "kernel.json"
    try:  # this environment's own kernelspec, read directly (jupyter_client costs ~1 s to import)
        argv = json.loads(own.read_text())["argv"]
    except (OSError, ValueError, KeyError, TypeError):
        argv = None
    if argv is None:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

        ksm = KernelSpecManager()
        ksm.kernel_dirs = [str(Path(sys.prefix) / "share" / "jupyter" / "kernels")] + list(ksm.kernel_dirs)
        try:
            argv = ksm.get_kernel_spec(kernel_name).argv
        except NoSuchKernel:
            raise ReportError(
                f"no Jupyter kernel {kernel_name!r}: run `{sys.executable} -m ipykernel install --sys-prefix --name python3`"
            ) from None
    exe = argv[0]
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
# of them, and a report must open offline. Styles are inlined by the lab template itself; the
# page and print stylesheet below (analysis.present's tables, the Key findings box) is added
# by the presentation layer (PRESENT): a readable width, and no page break inside a table or a
# figure, so a browser's "print to PDF" gives a clean document.
_HTML_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<style type="text/css">
body.jp-Notebook { max-width: 72em; margin: 0 auto; padding: 1em 2em; }
.jp-RenderedHTMLCommon table.display-table td { vertical-align: top; }
.jp-RenderedHTMLCommon table caption { caption-side: bottom; text-align: left; }
.key-findings table.key-numbers td, .key-findings table.key-numbers th { padding: 0.25em 0.8em; }
p.caption { margin-top: 0.2em; color: #333; }
@media print {
  @page { margin: 1.5cm; }
  body.jp-Notebook { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  table, img, svg, figure, .jp-OutputArea-output, .key-findings, .sample-notes, p.caption {
    page-break-inside: avoid; break-inside: avoid; }
  h1, h2, h3 { page-break-after: avoid; break-after: avoid; }
  img { max-width: 100% !important; height: auto !important; }
  .jp-InputPrompt, .jp-OutputPrompt, .jp-Collapser { display: none; }
  a { color: inherit; text-decoration: none; }
}
</style>
{%- endblock extra_css -%}
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

    Examples
    --------
    >>> import pathlib, tempfile, nbformat
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Result"),
    ...                                                nbformat.v4.new_code_cell("secret = 1")]), d / "a.ipynb")
    >>> text = export_html(d / "a.ipynb", d / "a.html").read_text()
    >>> '<h1 id="Result">Result' in text, "secret = 1" in text  # the code is hidden
    (True, False)
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


def warm_html_export() -> None:
    """Export a one-cell notebook to HTML in memory, discarding it.

    The first export of a process loads and compiles the templates and imports the
    converters (~0.4 s); the workers' fork server calls this once, so every forked worker
    starts with them loaded. The exports themselves are unchanged (no state of the
    exporter is shared: :func:`export_html` builds its own).

    Returns
    -------
    None

    Examples
    --------
    >>> warm_html_export()
    """
    import jinja2
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# warm-up")]
    HTMLExporter(extra_loaders=[jinja2.DictLoader({"potash_report.html.j2": _HTML_TEMPLATE})], template_name="lab",
                 template_file="potash_report.html.j2", exclude_input=True, embed_images=True,
                 ).from_notebook_node(nb, resources={"metadata": {"name": "warm-up"}})


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

    Examples
    --------
    Starts a Jupyter kernel (the runner calls it in a worker process):

    >>> execute_notebook({"src": "notebooks/event_study.ipynb", "dst": "/tmp/r/event_study.ipynb",
    ...                   "html": "/tmp/r/event_study.html", "params": {"offline": True}, "cwd": "notebooks",
    ...                   "timeout": 600, "retries": 1, "kernel": "python3"})["status"]  # doctest: +SKIP
    'ok'
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


def _worker_context(start: bool = False):
    """The ``forkserver`` context whose server preloads papermill and nbconvert
    (:mod:`analysis._worker_preload`): each worker is a cheap fork of it.

    ``start=True`` launches the server now, so its imports overlap with planning.
    """
    global _CTX
    if _CTX is None:
        import multiprocessing

        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["analysis._worker_preload"])
        _CTX = ctx
    if start:
        from multiprocessing import forkserver

        forkserver.ensure_running()
    return _CTX


def warm_workers() -> None:
    """Start the workers' fork server in the background (its imports overlap with planning).

    Returns
    -------
    None
        Failures are ignored: the first worker starts the server anyway.

    Examples
    --------
    Starts a process (the CLI calls it before validating the parameters):

    >>> warm_workers()  # doctest: +SKIP
    """
    import contextlib

    with contextlib.suppress(Exception):  # documented: only an optimisation; the first worker starts it anyway
        _worker_context(start=True)


def start_worker(ctx, task_file: str, env: dict, name: str):
    """Start one worker process (forked by the fork server) on ``task_file``; returns the Process.

    ``multiprocessing`` would make each worker re-import the caller's main module (by file
    or by ``-m`` name) before running the task, which re-runs a script that lacks an
    ``if __name__ == "__main__"`` guard and fails for a main read from stdin. The worker
    needs nothing from it, so ``__main__``'s ``__file__`` and ``__spec__`` are hidden while
    the process is launched, and restored right after.

    Parameters
    ----------
    ctx : multiprocessing context
        The fork-server context (``_worker_context()``).
    task_file : str
        The JSON task the worker runs (:func:`execute_notebook`'s ``task``).
    env : dict
        The worker's environment (:func:`kernel_env`).
    name : str
        The process name.

    Returns
    -------
    multiprocessing.Process
        Started; the caller joins it.

    Examples
    --------
    Starts a process:

    >>> proc = start_worker(_worker_context(start=True), "/tmp/task.json", kernel_env(), "event_study")  # doctest: +SKIP
    >>> proc.join()  # doctest: +SKIP
    """
    proc = ctx.Process(target=_forked_worker, args=(task_file, env), name=name, daemon=False)
    main = sys.modules.get("__main__")
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if main is not None and k in main.__dict__}
    if main is not None:
        main.__dict__.pop("__file__", None)
        main.__spec__ = None
    try:
        proc.start()
    finally:
        if main is not None:
            main.__dict__.pop("__spec__", None)
            main.__dict__.update(saved)
    return proc


def _forked_worker(task_file: str, env: dict) -> None:
    """Body of a worker process: own session (so a timeout kills it with its kernel), env, logs."""
    os.setsid()
    os.environ.clear()
    os.environ.update(env)
    log = os.open(Path(task_file).with_suffix(".log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    fast_imports()
    throttle_saves()
    code = _worker_main(task_file)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def fast_imports() -> None:
    """In a worker process only: skip ``rfc3987_syntax`` and tqdm's monitor thread.

    jsonschema imports ``rfc3987_syntax`` for the "iri" string format (which notebooks
    never use), and building its grammar costs ~2 s at every start. Called by the fork
    server and the workers; never call it in a process that may validate IRIs.

    Returns
    -------
    None

    Examples
    --------
    Changes process-wide state, so only in a worker process:

    >>> fast_imports()  # doctest: +SKIP
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        return
    tqdm.monitor_interval = 0  # no monitor thread: fork with no threads running


SAVE_EVERY_S = 2.0


def throttle_saves(every: float = SAVE_EVERY_S, cls=None) -> None:
    """In a worker process only: papermill writes the partial notebook at most every ``every`` s.

    papermill rewrites (and validates) the whole output notebook at the start and the end
    of every cell: ~70 writes of a growing file per notebook, ~0.5 s of a worker's CPU.
    Here a write is skipped when the last one is younger than ``every`` seconds, except
    the first (the notebook as started) and the last (papermill's ``notebook_complete``,
    which runs after a cell error or a cell timeout too), so the finished notebook is
    unchanged; a worker killed past ``--timeout`` leaves a copy at most ``every`` s old.

    Parameters
    ----------
    every : float
        Minimum seconds between two writes of the partial notebook.
    cls : type, optional
        The execution manager class to patch (default papermill's
        ``NotebookExecutionManager``, process-wide: hence workers only).

    Returns
    -------
    None

    Examples
    --------
    >>> from papermill.engines import NotebookExecutionManager
    >>> class Manager(NotebookExecutionManager):
    ...     pass
    >>> throttle_saves(cls=Manager)
    >>> Manager.__dict__["_potash_throttled"], "_potash_throttled" in NotebookExecutionManager.__dict__
    (True, False)
    """
    if cls is None:
        from papermill.engines import NotebookExecutionManager as cls
    M = cls
    if M.__dict__.get("_potash_throttled", False):
        return
    save, complete = M.save, M.notebook_complete

    def throttled_save(self, **kwargs):
        now = time.monotonic()
        last = getattr(self, "_potash_last_save", None)
        if last is None or now - last >= every:
            save(self, **kwargs)
            self._potash_last_save = time.monotonic()

    def notebook_complete(self, **kwargs):
        self._potash_last_save = None  # the final write always happens
        return complete(self, **kwargs)

    M.save, M.notebook_complete, M._potash_throttled = throttled_save, notebook_complete, True


def _worker_main(task_file: str) -> int:
    task = json.loads(Path(task_file).read_text())
    try:
        res = execute_notebook(task)
    except Exception as exc:  # report, never crash silently
        res = {"status": "failed", "error": f"worker: {type(exc).__name__}: {exc}", "attempts": 1,
               "duration_s": None, "html": False}
    atomic_write_text(Path(task["result"]), json.dumps(res))
    return 0


