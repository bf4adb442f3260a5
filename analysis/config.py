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


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The case's data folder: ``path`` if given, else ``$POTASH_IMPACT_DATA``, else ``<repo>/data``."""
    if path is not None and str(path) != "":
        return Path(path).expanduser().resolve()
    env = os.environ.get("POTASH_IMPACT_DATA")
    return Path(env).expanduser().resolve() if env else REPO_DIR / "data"


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """The Parquet cache folder (created lazily by writers, never by readers)."""
    if path is not None and str(path) != "":
        return Path(path).expanduser().resolve()
    env = os.environ.get("POTASH_IMPACT_CACHE")
    if env:
        return Path(env).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser().resolve() / "potash-impact"


def reports_dir(path: str | os.PathLike | None = None) -> Path:
    """Where report runs are published."""
    if path is not None and str(path) != "":
        return Path(path).expanduser().resolve()
    env = os.environ.get("POTASH_IMPACT_REPORTS")
    return Path(env).expanduser().resolve() if env else REPO_DIR / "reports"


def is_offline(offline: bool | None = None) -> bool:
    """``offline`` if given, else whether ``POTASH_IMPACT_OFFLINE`` is set to a true value."""
    if offline is not None:
        return bool(offline)
    return os.environ.get("POTASH_IMPACT_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}
