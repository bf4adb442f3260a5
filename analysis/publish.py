"""Locking, publishing and provenance of report runs.

A run is built in ``<out>/.staging/<run-id>.<random>/`` while its per-run-id lock is
held (:func:`run_lock`), then moved into place by :func:`publish`. A failed run never
replaces an earlier successful report with the same id. The manifest helpers here
record where the numbers came from: package versions, git commit, data vintage and
coverage, and the refresh outcome.

Stdlib only at import.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from . import config

KERNEL_NAME = "python3"
FAILED_DIR = "_failed"
PACKAGES = (
    "potash-impact", "pandas", "numpy", "scipy", "matplotlib", "exchange-calendars", "yfinance",
    "papermill", "nbconvert", "nbclient", "ipykernel", "jupyter-client",
)


def now() -> str:
    """The current UTC time, ISO 8601 to the second (``2026-12-01T09:30:00+00:00``)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@contextlib.contextmanager
def run_lock(out, rid: str, wait: float = 0.0):
    """Hold ``<out>/.locks/<rid>.lock`` (``flock``) for the duration of a ``with`` block.

    Parameters
    ----------
    out : path-like
        The reports folder.
    rid : str
        The run id.
    wait : float
        Seconds to wait for another holder before giving up.

    Yields
    ------
    bool
        True if the lock is held, False if another process holds it.
    """
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
            fh.write(f"{os.getpid()} {now()}\n")
            fh.flush()
        yield got
    finally:
        if got:
            fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def read_manifest(d: Path) -> dict | None:
    """``<d>/manifest.json`` as a dict, or None if missing or unreadable."""
    try:
        return json.loads((Path(d) / "manifest.json").read_text())
    except (OSError, ValueError):
        return None


def mark_failed(path: Path, message: str) -> None:
    """Put a visible error cell at the top of a partial executed notebook (timeouts, kills).

    Parameters
    ----------
    path : pathlib.Path
        The executed notebook (rewritten in place; a new one if unreadable).
    message : str
        What stopped it (shown HTML-escaped).
    """
    from html import escape

    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # an unreadable partial notebook: start a new one for the error cell
        nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_markdown_cell(
        f'<span style="color:red; font-family:Helvetica Neue, Helvetica, Arial, sans-serif; font-size:2em;">'
        f"Execution stopped: {escape(message)}</span>"
    )
    cell.metadata["tags"] = ["papermill-error-cell-tag"]
    nb.cells.insert(0, cell)
    nb.metadata.setdefault("papermill", {})["exception"] = True
    nbformat.write(nb, path)


def publish(staging: Path, out: Path, rid: str, ok: bool) -> Path:
    """Move a finished build into place; call with the run lock held.

    Parameters
    ----------
    staging : pathlib.Path
        The finished build.
    out : pathlib.Path
        The reports folder.
    rid : str
        The run id.
    ok : bool
        Whether every notebook succeeded.

    Returns
    -------
    pathlib.Path
        Where the run went: ``<out>/<rid>`` for a success; for a failure,
        ``<out>/_failed/<rid>_<UTC time>`` if a good report is there, else ``<out>/<rid>``.
    """
    target = out / rid
    prev = read_manifest(target) if target.exists() else None
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
    """``results/<nb>.json`` of each notebook -> one dict keyed by notebook name.

    Parameters
    ----------
    d : pathlib.Path
        The run folder.
    notebooks : sequence of str

    Returns
    -------
    dict
        ``{notebook: results}``; an unreadable file gives ``{"error": ...}``.
    """
    out = {}
    for nb in notebooks:
        p = Path(d) / "results" / f"{nb}.json"
        if p.is_file():
            try:
                out[nb] = json.loads(p.read_text())
            except ValueError as exc:
                out[nb] = {"error": f"unreadable results: {exc}"}
    return out


def git_info() -> dict:
    """The repository's HEAD commit and whether tracked files are modified (``{"commit": None}`` outside git)."""
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
    """Installed versions of the packages a report depends on (``None`` when not installed).

    Returns
    -------
    dict
        ``{"python": "3.11.7", "pandas": "2.2.3", ...}``.
    """
    from importlib import metadata

    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def data_provenance(params: dict, tickers, refresh: dict | None = None) -> dict:
    """Data vintage and coverage of the run's tickers (snapshot and cache), and the refresh outcome.

    Parameters
    ----------
    params : dict
        The run's parameters (``offline``, ``data_dir``).
    tickers : sequence of str
        The run's tickers.
    refresh : dict, optional
        The refresh outcome (online runs).

    Returns
    -------
    dict
        ``offline, refresh, snapshot_vintage, coverage, commodity_vintage,
        commodity_source``; a part that cannot be read is recorded as ``*_error``.
    """
    from . import data
    from .recorder import jsonable

    offline = config.is_offline(params.get("offline"))
    out = {"offline": offline, "refresh": refresh or {"status": "skipped (offline)" if offline else "not run"}}
    try:
        out["snapshot_vintage"] = data.snapshot_vintage(params.get("data_dir")).get("vintage")
        cov = data.coverage(params.get("data_dir"))
        cov = cov[cov["ticker"].isin(list(tickers))]
        out["coverage"] = jsonable(cov)
    except Exception as exc:  # documented: provenance must not fail a report; the error is recorded
        out["coverage_error"] = f"{type(exc).__name__}: {exc}"
    try:
        from .commodities import load_commodity_prices

        px = load_commodity_prices(params.get("data_dir"))
        out["commodity_vintage"] = jsonable(px.attrs.get("vintage"))
        out["commodity_source"] = px.attrs.get("source")
    except Exception as exc:  # documented: as above
        out["commodity_error"] = f"{type(exc).__name__}: {exc}"
    return out
