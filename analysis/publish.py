"""Locking, atomic publishing, crash recovery and provenance of report runs.

Layout of a reports folder ``<out>``::

    <out>/<run-id>/                  the published report of a run id (always complete)
    <out>/_failed/<run-id>_<time>/   every failed run, the first-ever one too
    <out>/index.html                 rebuilt from the folders (analysis.index)
    <out>/.staging/<run-id>.<rand>/  a run being built (or the dead build of a killed run)
    <out>/.trash/<run-id>.<rand>/    an old report on its way out
    <out>/.locks/<run-id>.lock       flock per run id; <run-id>.publish.json: publish journal

Conventions
-----------
* **Locks.** Every step on a run id (recovery, build, publish) holds its ``flock``
  (:func:`run_lock`); the index has its own lock.
* **Atomic publish.** :func:`publish` swaps the new build and the old report with one
  atomic exchange: Linux ``renameat2(RENAME_EXCHANGE)`` or macOS ``renamex_np(RENAME_SWAP)``
  through ctypes. There is no instant at which ``<out>/<run-id>`` is missing or half
  written. Where the exchange is unavailable (other systems, filesystems that refuse
  it) it falls back to two renames (old aside, new in) under a journal, and the
  recovery below completes or rolls back a publish interrupted between them.
* **Journal.** Before the first rename, ``.locks/<run-id>.publish.json`` names the
  build and the trash folder; the manifest of every build records its ``build`` name.
  Recovery compares the two to know whether the swap happened.
* **Recovery.** :func:`recover` runs at the start of every run, under the locks: it
  completes or rolls back an interrupted publish, restores ``<run-id>`` from ``.trash``
  when it is missing, removes dead staging folders and ``.trash`` entries older than a
  day, and the caller then rebuilds the index from disk.
* **Failures** never replace a report: a failed run always goes to
  ``_failed/<run-id>_<UTC time>/``.
* **Paths stay inside.** Every path written here is checked with
  :func:`inside` (``os.path.commonpath`` on resolved paths) to lie inside ``<out>``.
* **Fault hook (tests).** ``POTASH_IMPACT_FAULT=publish:<step>`` makes the process
  ``os._exit(137)`` at that step (:data:`PUBLISH_STEPS`), as a SIGKILL would.
  ``POTASH_IMPACT_NO_EXCHANGE=1`` forces the two-rename fallback.

Stdlib only at import.

Length: locking, publishing and recovery are one protocol (recovery reads the journal and
the manifest that publish writes, under the same locks), and of the module's 614 lines 320
are code and 229 docstrings; the manifest's provenance helpers (:func:`git_info`,
:func:`package_versions`, :func:`data_provenance`) are the part to move out if it grows.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from . import config
from ._io import atomic_write_text
from .errors import ReportError

KERNEL_NAME = "python3"
FAILED_DIR = "_failed"
STAGING_DIR = ".staging"
TRASH_DIR = ".trash"
LOCKS_DIR = ".locks"
TRASH_MAX_AGE_S = 24 * 3600
PACKAGES = (
    "potash-impact", "pandas", "numpy", "scipy", "matplotlib", "exchange-calendars", "yfinance",
    "papermill", "nbconvert", "nbclient", "ipykernel", "jupyter-client",
)
#: Run ids: ``<YYYY-MM-DD>_<event id>_<7 hex>`` (event id as :data:`analysis.ids.EVENT_ID_RE`).
RUN_ID_RE = re.compile(r"^\d{4}-\d{2}-\d{2}_[a-z0-9][a-z0-9._-]{0,63}_[0-9a-f]{7}\Z")
#: Where :func:`publish` can be stopped by ``POTASH_IMPACT_FAULT=publish:<step>``.
PUBLISH_STEPS = ("after-journal", "after-first-rename", "after-second-rename", "after-trash-removed",
                 "before-index")


def now() -> str:
    """The current UTC time, ISO 8601 to the second (``2026-12-01T09:30:00+00:00``)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def fault(where: str, step: str) -> None:
    """Test hook: ``os._exit(137)`` when ``$POTASH_IMPACT_FAULT`` is ``<where>:<step>``."""
    if os.environ.get("POTASH_IMPACT_FAULT") == f"{where}:{step}":
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(137)


def check_run_id(rid) -> str:
    """Return ``rid`` if it is a well-formed run id (:data:`RUN_ID_RE`), else raise ReportError.

    Examples
    --------
    >>> check_run_id("2025-12-13_us-potash-easing-2025_1a2b3c4")
    '2025-12-13_us-potash-easing-2025_1a2b3c4'
    """
    if not isinstance(rid, str) or RUN_ID_RE.fullmatch(rid) is None:
        raise ReportError(f"invalid run id {rid!r}: expected <YYYY-MM-DD>_<event id>_<7 hex digits>")
    return rid


def inside(out, path) -> Path:
    """``path`` if, resolved, it lies inside the reports folder ``out``; else a ReportError.

    Parameters
    ----------
    out : path-like
        The reports folder.
    path : path-like
        A path the runner is about to write.

    Returns
    -------
    pathlib.Path
        ``path`` (as given).

    Raises
    ------
    ReportError
        The resolved path escapes ``out`` (``..``, an absolute part, a symlink out).

    Examples
    --------
    >>> inside("/tmp/r", "/tmp/r/a/b").as_posix()
    '/tmp/r/a/b'
    """
    base = os.path.realpath(out)
    real = os.path.realpath(path)
    if os.path.commonpath([base, real]) != base:
        raise ReportError(f"refusing to write {path}: it resolves outside the reports folder {out}")
    return Path(path)


# =========================================================================== locks
@contextlib.contextmanager
def run_lock(out, rid: str, wait: float = 0.0):
    """Hold ``<out>/.locks/<rid>.lock`` (``flock``) for the duration of a ``with`` block.

    Parameters
    ----------
    out : path-like
        The reports folder.
    rid : str
        The run id (checked: :func:`check_run_id`; ``index`` for the index lock).
    wait : float
        Seconds to wait for another holder before giving up.

    Yields
    ------
    bool
        True if the lock is held, False if another process holds it.
    """
    d = Path(out) / LOCKS_DIR
    if rid != "index":
        check_run_id(rid)
    d.mkdir(parents=True, exist_ok=True)
    fh = open(inside(out, d / f"{rid}.lock"), "a+")
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
            with contextlib.suppress(OSError):  # the pid note is informative only
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
        m = json.loads((Path(d) / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    return m if isinstance(m, dict) else None


def is_complete(d: Path) -> bool:
    """Whether ``d`` holds a readable ``manifest.json`` and ``results.json`` (a finished build)."""
    if read_manifest(d) is None:
        return False
    try:
        json.loads((Path(d) / "results.json").read_text())
    except (OSError, ValueError):
        return False
    return True


# =========================================================================== atomic exchange
_RENAME_EXCHANGE = 2  # linux/fs.h
_RENAME_SWAP = 2  # darwin sys/stdio.h
_AT_FDCWD = -100


def _libc():
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    except OSError:
        return None


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing paths; False if this system or filesystem cannot.

    Parameters
    ----------
    a, b : pathlib.Path
        Two existing folders on one filesystem.

    Returns
    -------
    bool
        True when swapped; False when the exchange is unsupported (nothing changed).

    Raises
    ------
    OSError
        The exchange is supported but failed (permission, missing path...).
    """
    import ctypes

    if os.environ.get("POTASH_IMPACT_NO_EXCHANGE"):
        return False
    libc = _libc()
    fa, fb = os.fsencode(str(a)), os.fsencode(str(b))
    if libc is not None and sys.platform.startswith("linux") and hasattr(libc, "renameat2"):
        rc = libc.renameat2(_AT_FDCWD, fa, _AT_FDCWD, fb, ctypes.c_uint(_RENAME_EXCHANGE))
    elif libc is not None and sys.platform == "darwin" and hasattr(libc, "renamex_np"):
        rc = libc.renamex_np(fa, fb, ctypes.c_uint(_RENAME_SWAP))
    else:
        return False
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


# =========================================================================== publish
def _journal_path(out: Path, rid: str) -> Path:
    return out / LOCKS_DIR / f"{rid}.publish.json"


def failed_target(out: Path, rid: str) -> Path:
    """A new ``<out>/_failed/<rid>_<UTC time>[-n]`` path that does not exist yet."""
    stamp = f"{rid}_{_dt.datetime.now(_dt.timezone.utc):%Y%m%dT%H%M%SZ}"
    base = out / FAILED_DIR
    target, n = base / stamp, 1
    while target.exists():
        n += 1
        target = base / f"{stamp}-{n}"
    return inside(out, target)


def publish(staging: Path, out: Path, rid: str, ok: bool) -> Path:
    """Move a finished build into place; call with the run lock held.

    Parameters
    ----------
    staging : pathlib.Path
        The finished build (its ``manifest.json`` records ``build`` = its folder name).
    out : pathlib.Path
        The reports folder.
    rid : str
        The run id.
    ok : bool
        Whether every notebook succeeded.

    Returns
    -------
    pathlib.Path
        Where the run went: ``<out>/<rid>`` for a success, ``<out>/_failed/<rid>_<UTC
        time>`` for a failure (always; a failure never replaces a report).

    Raises
    ------
    OSError
        A rename failed; the previous report is intact (and :func:`recover` finishes a
        half-done fallback publish).
    """
    out, staging = Path(out), Path(staging)
    check_run_id(rid)
    inside(out, staging)
    if not ok:
        target = failed_target(out, rid)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staging, target)
        return target
    target = inside(out, out / rid)
    trash = inside(out, out / TRASH_DIR / f"{rid}.{uuid.uuid4().hex[:8]}")
    journal = _journal_path(out, rid)
    atomic_write_text(journal, json.dumps({"run_id": rid, "build": staging.name, "trash": trash.name,
                                           "at": now()}))
    fault("publish", "after-journal")
    if not target.exists():
        os.rename(staging, target)
        fault("publish", "after-first-rename")
    else:
        trash.parent.mkdir(parents=True, exist_ok=True)
        if exchange(staging, target):  # target: the new build; staging: the old report
            fault("publish", "after-first-rename")
            os.rename(staging, trash)
        else:  # fallback: two renames, the journal lets recover() finish them
            os.rename(target, trash)
            fault("publish", "after-first-rename")
            os.rename(staging, target)
        fault("publish", "after-second-rename")
        shutil.rmtree(trash, ignore_errors=True)
        fault("publish", "after-trash-removed")
    with contextlib.suppress(FileNotFoundError):
        journal.unlink()
    fault("publish", "before-index")
    return target


# =========================================================================== recovery
def _rid_of(name: str) -> str | None:
    """The run id of a ``.staging``/``.trash`` entry ``<rid>.<rand>`` or a journal, if well formed."""
    rid = name.removesuffix(".publish.json") if name.endswith(".publish.json") else name.rpartition(".")[0]
    return rid if RUN_ID_RE.fullmatch(rid or "") else None


def _age_s(p: Path) -> float:
    try:
        return time.time() - p.lstat().st_mtime
    except OSError:
        return 0.0


def recover_run(out: Path, rid: str) -> list[str]:
    """Repair one run id after a crash; call with its lock held.

    Completes a publish whose journal shows a finished build not yet in place, rolls
    back to the old report when the build is gone, restores ``<rid>`` from ``.trash``
    when it is missing, and removes this run id's dead staging folders and old trash.

    Parameters
    ----------
    out : pathlib.Path
        The reports folder.
    rid : str
        The run id.

    Returns
    -------
    list of str
        What was done, one short sentence each (empty when nothing needed repair).
    """
    out = Path(out)
    check_run_id(rid)
    done: list[str] = []
    target = out / rid
    staging_dir, trash_dir = out / STAGING_DIR, out / TRASH_DIR
    journal = _journal_path(out, rid)
    j = None
    if journal.is_file():
        try:
            j = json.loads(journal.read_text())
        except (OSError, ValueError):
            j = None
    if isinstance(j, dict) and _rid_of(str(j.get("build", ""))) == rid and _rid_of(str(j.get("trash", ""))) == rid:
        build, trash = staging_dir / j["build"], trash_dir / j["trash"]
        in_place = (read_manifest(target) or {}).get("build") == j["build"]
        if not in_place and is_complete(build):
            trash.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                os.rename(build, target)
            elif exchange(build, target):
                os.rename(build, trash)
            else:
                os.rename(target, trash)
                os.rename(build, target)
            done.append(f"{rid}: completed an interrupted publish")
        elif not target.exists() and is_complete(trash):
            os.rename(trash, target)
            done.append(f"{rid}: rolled back an interrupted publish (previous report restored)")
        shutil.rmtree(trash, ignore_errors=True)
        if build.exists():
            shutil.rmtree(build, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        journal.unlink()
    trashed = sorted((p for p in trash_dir.glob(f"{rid}.*") if _rid_of(p.name) == rid),
                     key=lambda p: p.lstat().st_mtime, reverse=True)
    if not target.exists():
        good = next((p for p in trashed if is_complete(p)), None)
        if good is not None:
            os.rename(good, target)
            trashed.remove(good)
            done.append(f"{rid}: restored the report from {TRASH_DIR}/{good.name}")
    for p in trashed:
        if _age_s(p) > TRASH_MAX_AGE_S:
            shutil.rmtree(p, ignore_errors=True)
            done.append(f"{rid}: removed {TRASH_DIR}/{p.name} (older than a day)")
    for p in staging_dir.glob(f"{rid}.*"):
        if _rid_of(p.name) == rid and p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
            done.append(f"{rid}: removed the dead build {STAGING_DIR}/{p.name}")
    return done


def recover(out, held=()) -> list[str]:
    """Repair every run id of a reports folder after a crash (see :func:`recover_run`).

    Parameters
    ----------
    out : path-like
        The reports folder.
    held : iterable of str
        Run ids whose locks the caller holds; others are locked here without waiting,
        and skipped when another process holds them (that run is alive).

    Returns
    -------
    list of str
        What was done.

    Examples
    --------
    >>> import tempfile
    >>> recover(tempfile.mkdtemp())
    []
    """
    out = Path(out)
    held = set(held)
    rids = set(held)
    for sub in (STAGING_DIR, TRASH_DIR):
        rids.update(r for r in (_rid_of(p.name) for p in (out / sub).glob("*")) if r)
    rids.update(r for r in (_rid_of(p.name) for p in (out / LOCKS_DIR).glob("*.publish.json")) if r)
    done: list[str] = []
    for rid in sorted(rids):
        if rid in held:
            done += recover_run(out, rid)
            continue
        with run_lock(out, rid) as got:
            if got:
                done += recover_run(out, rid)
    for p in (out / TRASH_DIR).glob("*"):  # entries no run id claims
        if _rid_of(p.name) is None and _age_s(p) > TRASH_MAX_AGE_S:
            shutil.rmtree(p, ignore_errors=True)
    return done


# =========================================================================== after a run
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
    atomic_write_text(path, nbformat.writes(nb))


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


def data_provenance(params: dict, tickers, refresh: dict | None = None, *, memo: dict | None = None) -> dict:
    """Data vintage and coverage of the run's tickers (snapshot and cache), and the refresh outcome.

    Parameters
    ----------
    params : dict
        The run's parameters (``offline``, ``data_dir``).
    tickers : sequence of str
        The run's tickers.
    refresh : dict, optional
        The refresh outcome (online runs).
    memo : dict, optional
        Reused across the runs of one command: the commodity vintage is read once per data
        folder, and each ticker's coverage once (only the runs' tickers are read, not the
        whole case).

    Returns
    -------
    dict
        ``offline, refresh, snapshot_vintage, coverage, commodity_vintage,
        commodity_source``; a part that cannot be read is recorded as ``*_error``.
    """
    from .recorder import jsonable

    offline = config.is_offline(params.get("offline"))
    out = {"offline": offline, "refresh": refresh or {"status": "skipped (offline)" if offline else "not run"}}
    memo = {} if memo is None else memo
    key = params.get("data_dir")
    tickers = list(tickers)
    if key not in memo:
        memo[key] = _case_provenance(key, tickers)
    elif not set(tickers) <= memo[key]["_tickers"]:  # another run's tickers: read the union once more
        memo[key] = _case_provenance(key, sorted(memo[key]["_tickers"] | set(tickers)))
    whole = memo[key]
    out.update({k: v for k, v in whole.items() if k not in ("coverage", "_tickers")})
    if "coverage" in whole:
        cov = whole["coverage"]
        out["coverage"] = jsonable(cov[cov["ticker"].isin(tickers)])
    return out


def _case_provenance(data_dir, tickers) -> dict:
    """Snapshot vintage, coverage of ``tickers``, commodity vintage: each part or its error."""
    from . import data
    from .recorder import jsonable

    out: dict = {"_tickers": set(tickers)}
    try:
        out["snapshot_vintage"] = data.snapshot_vintage(data_dir).get("vintage")
        out["coverage"] = data.coverage(data_dir, tickers=tickers)
    except Exception as exc:  # documented: provenance must not fail a report; the error is recorded
        out["coverage_error"] = f"{type(exc).__name__}: {exc}"
    try:
        from .commodity_data import load_commodity_prices  # not the shim: it imports scipy

        px = load_commodity_prices(data_dir)
        out["commodity_vintage"] = jsonable(px.attrs.get("vintage"))
        out["commodity_source"] = px.attrs.get("source")
    except Exception as exc:  # documented: as above
        out["commodity_error"] = f"{type(exc).__name__}: {exc}"
    return out
