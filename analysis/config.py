"""Where things live: the data folder (one folder per case), the cache, the reports.

Every location can be overridden by an argument or an environment variable, so a
new case (another commodity, other firms) is a new data folder, not new code.

=========================  ==========================================  ==============================
what                       default                                     override
=========================  ==========================================  ==============================
data folder (a "case")     ``<repo>/data``                             ``POTASH_IMPACT_DATA``
price cache (Parquet)      ``$XDG_CACHE_HOME/potash-impact``           ``POTASH_IMPACT_CACHE``
                           (``~/.cache/potash-impact``)
reports                    ``<repo>/reports``                          ``POTASH_IMPACT_REPORTS``
offline mode               off                                         ``POTASH_IMPACT_OFFLINE=1``
=========================  ==========================================  ==============================
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


def _folder(path, env: str, default) -> Path:
    """The one lookup rule of every location: ``path`` if given (not None, not ""), else
    ``$env`` if set and non-empty, else ``default()``; a given path is ``~``-expanded and
    resolved."""
    if path is None or str(path) == "":
        path = os.environ.get(env) or None
    return default() if path is None else Path(path).expanduser().resolve()


def data_dir(path=None) -> Path:
    """The case's data folder: ``path`` if given, else ``$POTASH_IMPACT_DATA``, else ``<repo>/data``.

    Parameters
    ----------
    path : str, path-like, Case or None
        A folder, or a loaded :class:`analysis.case.Case` (its ``root``), so functions that
        still resolve ``data_dir=`` themselves accept a Case too.

    Returns
    -------
    pathlib.Path
        Absolute and resolved (``~`` expanded). Not checked to exist: see
        :func:`analysis.case.is_case_folder` and :meth:`analysis.case.Case.load`.

    Examples
    --------
    >>> data_dir() == REPO_DIR / "data" or "POTASH_IMPACT_DATA" in os.environ
    True
    """
    root = getattr(path, "root", None)
    if isinstance(root, Path):  # a Case (duck-typed: this module stays stdlib-only and import-light)
        return root
    return _folder(path, "POTASH_IMPACT_DATA", lambda: REPO_DIR / "data")


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """The Parquet cache folder (created lazily by writers, never by readers).

    Parameters
    ----------
    path : str, path-like or None
        Explicit folder; else ``$POTASH_IMPACT_CACHE``, else ``$XDG_CACHE_HOME/potash-impact``
        (``~/.cache/potash-impact``).

    Returns
    -------
    pathlib.Path
        Absolute. Not created here: the cache writers create ``<cache>/prices/`` and
        ``<cache>/commodities/`` on their first write.

    Examples
    --------
    >>> cache_dir("/tmp/c").as_posix()
    '/tmp/c'
    """
    return _folder(path, "POTASH_IMPACT_CACHE", lambda: _folder(None, "XDG_CACHE_HOME", lambda: Path.home() / ".cache")
                   .expanduser().resolve() / "potash-impact")


def reports_dir(path: str | os.PathLike | None = None) -> Path:
    """Where report runs are published: ``path``, else ``$POTASH_IMPACT_REPORTS``, else ``<repo>/reports``.

    Parameters
    ----------
    path : str, path-like or None
        Explicit folder (the CLI's ``--out``).

    Returns
    -------
    pathlib.Path
        Absolute. Not created here: the runner creates it with its staging folder on the
        first run.

    Examples
    --------
    >>> reports_dir("/tmp/r").as_posix()
    '/tmp/r'
    """
    return _folder(path, "POTASH_IMPACT_REPORTS", lambda: REPO_DIR / "reports")


def is_offline(offline: bool | None = None) -> bool:
    """``offline`` if given, else whether ``POTASH_IMPACT_OFFLINE`` is set to a true value.

    Parameters
    ----------
    offline : bool or None

    Returns
    -------
    bool
        True for ``1``, ``true``, ``yes``, ``on`` (any case) in the environment.

    Examples
    --------
    >>> is_offline(True), is_offline(False)
    (True, False)
    """
    if offline is not None:
        return bool(offline)
    return os.environ.get("POTASH_IMPACT_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}
