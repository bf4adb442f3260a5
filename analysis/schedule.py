"""What a ``potash-impact report`` command line asks for: schedule files and the list of runs.

A schedule file (TOML) has optional ``[defaults]`` (parameters for every job) and one
``[[job]]`` table per report, each holding parameters and optionally ``notebooks``
(see ``docs/scheduling.md``). :func:`build_runs` combines the command line, the
``--params`` file, a schedule and ``--all-events`` into validated
:class:`~analysis.runner.Run` objects, before any kernel starts.

Stdlib only at import.
"""

from __future__ import annotations

from pathlib import Path

from . import config
from .errors import ParameterError


def load_schedule(path) -> list[tuple[dict, list | None]]:
    """Read a schedule file.

    Parameters
    ----------
    path : path-like
        The TOML file.

    Returns
    -------
    list of (dict, list or None)
        One ``(parameters, notebooks)`` per ``[[job]]``, the ``[defaults]`` merged in.

    Raises
    ------
    ParameterError
        Missing file, invalid TOML, or no ``[[job]]`` table.
    """
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


def build_runs(ns) -> list:
    """The runs a ``report`` command line asks for, every one validated.

    Parameters
    ----------
    ns : argparse.Namespace
        The parsed ``report`` arguments.

    Returns
    -------
    list of Run
        Distinct run ids, in order.

    Raises
    ------
    ParameterError
        On the first bad parameter (naming the event when there are several runs).
    """
    from .catalog import load_events
    from .params import load_params_file, parse_assignments
    from .runner import plan_run

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
