"""What a ``potash-impact report`` command line asks for: schedule files and the list of runs.

A schedule file (TOML, UTF-8, at most 1 MiB) has optional ``[defaults]`` (parameters for
every job) and one ``[[job]]`` table per report, each holding parameters and optionally
``notebooks`` (see ``docs/scheduling.md``)::

    [defaults]
    model = "market"

    [[job]]
    event = "us-potash-easing-2025"
    notebooks = ["event_study"]          # or one name: notebooks = "event_study"

Every field is type-checked here, and every parameter by :func:`analysis.params.validate`;
an error is one line naming the file, the job and the field. TOML dates
(``event = 2025-12-13``) are read like YAML dates: as ISO strings.

:func:`build_runs` combines the command line, the ``--params`` file, a schedule and
``--all-events`` into validated :class:`~analysis.runner.Run` objects, before any kernel
starts.

Stdlib only at import.
"""

from __future__ import annotations

from . import config
from .errors import ParameterError

_TOP_KEYS = ("defaults", "job")


def _notebook_list(value, where: str) -> list[str]:
    """``notebooks`` as a list of names: a string is a list of one."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    raise ParameterError(f"{where}: notebooks = {value!r}: expected a notebook name or a list of names, "
                         f"e.g. notebooks = [\"event_study\"]")


def _params_table(table, where: str) -> tuple[dict, list[str] | None]:
    """One ``[defaults]`` or ``[[job]]`` table -> (parameters, notebooks or None), type-checked."""
    from .params import SCHEMA, _plain

    if not isinstance(table, dict):
        raise ParameterError(f"{where}: expected a table of name = value, got {table!r} ({type(table).__name__})")
    table = dict(table)
    nbs = _notebook_list(table.pop("notebooks"), where) if "notebooks" in table else None
    for name, value in table.items():
        if name not in SCHEMA:
            raise ParameterError(f"{where}: unknown parameter {name!r}: known are notebooks, {', '.join(SCHEMA)}")
        if isinstance(value, dict):
            raise ParameterError(f"{where}: {name} = {value!r}: a table is not a parameter value")
    return _plain(table), nbs


def load_schedule(path) -> list[tuple[dict, list | None]]:
    """Read and type-check a schedule file.

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
        Missing, too large, not UTF-8, invalid TOML (with line and column), an unknown
        table or parameter, a job that is not a table, ``notebooks`` that is not a name or
        a list of names, or no ``[[job]]`` table.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "schedule.toml"
    >>> _ = path.write_text('[defaults]\\noffline = true\\n[[job]]\\nevent = "ofac-gl13-2025"\\nnotebooks = ["event_study"]\\n')
    >>> load_schedule(path)
    [({'offline': True, 'event': 'ofac-gl13-2025'}, ['event_study'])]
    """
    import tomllib

    from .params import read_input_file

    text = read_input_file(path, "--schedule")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"--schedule {path}: invalid TOML ({str(exc).splitlines()[0]})") from None
    for key in doc:
        if key not in _TOP_KEYS:
            raise ParameterError(f"--schedule {path}: unknown key {key!r}: use a [defaults] table and [[job]] tables")
    base, base_nbs = _params_table(doc.get("defaults", {}), f"--schedule {path} [defaults]")
    jobs = doc.get("job")
    if jobs is None or jobs == []:
        raise ParameterError(f"--schedule {path}: no [[job]] tables")
    if not isinstance(jobs, list):
        raise ParameterError(f"--schedule {path}: job = {jobs!r}: write each job as a [[job]] table")
    out = []
    for i, j in enumerate(jobs, 1):
        params, nbs = _params_table(j, f"--schedule {path} job {i}")
        out.append(({**base, **params}, nbs if nbs is not None else base_nbs))
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
        On the first bad parameter (naming the schedule job or the event when there are
        several runs).

    Examples
    --------
    >>> from analysis.cli import build_parser
    >>> runs = build_runs(build_parser().parse_args(["report", "--offline", "--event", "ofac-gl13-2025"]))
    >>> [r.run_id for r in runs]
    ['2025-12-15_ofac-gl13-2025_...']
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
    specs: list[tuple[dict, list | None, str]] = []
    if ns.schedule:
        specs = [({**base, **p}, nbs or ns.notebooks, f"--schedule {ns.schedule} job {i}")
                 for i, (p, nbs) in enumerate(load_schedule(ns.schedule), 1)]
    if ns.all_events:
        ev = load_events(base.get("data_dir"))
        specs += [({**base, "event": e}, ns.notebooks, f"event {e}")
                  for e in ev.loc[ev["kind"] != "confounder", "event_id"]]
    if not specs:
        specs = [(base, ns.notebooks, "")]
    runs, seen = [], set()
    for p, nbs, label in specs:
        try:
            r = plan_run(p, nbs, notebook_dir=ns.notebook_dir)
        except ParameterError as exc:
            raise ParameterError(f"{exc} ({label})" if len(specs) > 1 or label.startswith("--schedule") else str(exc)) from None
        if r.run_id not in seen:
            seen.add(r.run_id)
            runs.append(r)
    return runs
