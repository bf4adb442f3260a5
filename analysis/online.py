"""Online runs: refresh prices and commodity series before the notebooks run (``analysis.online``).

:func:`refresh_data` downloads every run's tickers (yfinance, into the cache) and the
World Bank Pink Sheet, and never raises: the outcome is recorded in each manifest. What
the download libraries print (tens of lines when the network is down) is captured and
kept in the record, and :func:`refresh_summary` turns the outcome into at most one
warning line and a claim about the data that only names a refresh that happened.

Stdlib only at import.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile

from .errors import PotashImpactError
from .publish import now
from .recorder import jsonable

@contextlib.contextmanager
def _quiet_output():
    """Capture everything written to stdout/stderr (Python objects and file descriptors 1, 2).

    yfinance, its HTTP client and logging print tens of lines when the network is down;
    the runner keeps them for the manifest and prints one warning line instead. The
    descriptors are restored on exit.
    """
    import io

    buf = io.StringIO()
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        for f in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                f.flush()
        saved = []
        try:
            for fd in (1, 2):
                with contextlib.suppress(OSError):
                    saved.append((fd, os.dup(fd)))
                    os.dup2(tmp.fileno(), fd)
            with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
                yield buf
        finally:
            for f in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    f.flush()
            for fd, old in saved:
                os.dup2(old, fd)
                os.close(old)
            tmp.seek(0)
            buf.write(tmp.read().decode("utf-8", "replace"))


def _first_line(text) -> str:
    lines = [ln.strip() for ln in str(text or "").splitlines() if ln.strip()]
    return lines[0] if lines else ""


def refresh_data(runs) -> dict:
    """Online: refresh the prices of every run's tickers and the commodity series; never raises.

    Parameters
    ----------
    runs : list of analysis.runner.Run

    Returns
    -------
    dict
        ``status`` (``ok``, ``partial``: prices refreshed but not commodities, ``failed``:
        no prices refreshed), ``tickers``, ``at``, ``prices`` (coverage of what was
        written) or ``prices_error``, ``commodities_error``, and ``output`` (the last
        lines the download libraries printed, which are not shown on the terminal).

    Examples
    --------
    Downloads, so it needs the network:

    >>> from analysis.schedule import build_runs  # doctest: +SKIP
    >>> from analysis.cli import build_parser  # doctest: +SKIP
    >>> refresh_data(build_runs(build_parser().parse_args(["report"])))["status"]  # doctest: +SKIP
    'ok'
    """
    import pandas as pd

    from . import data
    from .params import resolve

    tickers, start = set(), None
    for r in runs:
        if r.tickers and r.session:  # planned: no second validation
            run_tickers, session = r.tickers, pd.Timestamp(r.session)
        else:
            rp = resolve(**r.params)
            run_tickers, session = rp["tickers"], rp["session"]
        tickers.update(run_tickers)
        s = session - pd.Timedelta(days=int(-r.params["estimation_window"][0] * 1.6) + 30)
        start = s if start is None else min(start, s)
    out = {"status": "ok", "tickers": sorted(tickers), "at": now()}
    with _quiet_output() as printed:
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
    noise = printed.getvalue().strip().splitlines()
    if noise:
        out["output"] = noise[-20:]
    return out


def refresh_summary(refresh: dict | None) -> tuple[str | None, str]:
    """One warning line (or None) and the data claim for the runner's status line.

    Parameters
    ----------
    refresh : dict or None
        :func:`refresh_data`'s outcome (None offline).

    Returns
    -------
    (str or None, str)
        The warning, and ``""``, ``" (plus the refreshed cache)"`` or ``" (plus refreshed
        prices; commodity series not refreshed)"``: only what really happened.

    Examples
    --------
    >>> refresh_summary(None), refresh_summary({"status": "ok"})
    ((None, ''), (None, ' (plus the refreshed cache)'))
    >>> refresh_summary({"status": "failed", "prices_error": "NetworkError: download of NTR failed"})[0]
    'warning: data refresh failed (NetworkError: download of NTR failed); using the snapshot and cache'
    """
    if refresh is None:
        return None, ""
    status = refresh.get("status")
    if status == "ok":
        return None, " (plus the refreshed cache)"
    why = _first_line(refresh.get("prices_error") or refresh.get("commodities_error"))
    if status == "partial":
        return (f"warning: commodity refresh failed ({why}); using the bundled/cached commodity series",
                " (plus refreshed prices; commodity series not refreshed)")
    return f"warning: data refresh failed ({why}); using the snapshot and cache", ""


