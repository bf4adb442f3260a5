"""Report and notebook parameters: one schema, defaults from the case, validation before any kernel.

The three notebooks share one parameter set (a *run*); papermill injects it after each
notebook's ``parameters`` cell. :func:`validate` checks every value -- type, date, known
tickers and event ids, window sanity, data coverage around the event -- and raises
:class:`~analysis.errors.ParameterError` with a one-line message naming the parameter,
so a bad value fails in milliseconds in the runner instead of minutes into a kernel.
The notebooks call :func:`resolve` on their own parameters, so a researcher editing the
``parameters`` cell in JupyterLab gets the same checks and messages.

=========================  ===============================  ===========================================
parameter                  default                          meaning
=========================  ===============================  ===========================================
``event``                  case ``default_event``           catalog id, or ``YYYY-MM-DD[ HH:MM]`` (UTC)
``treated``                case ``treated_group``           a universe group name or a list of tickers
``control``                case ``control_group``           a universe group name or a list of tickers
``benchmark``              case ``market``                  market-model regressor (a ticker)
``estimation_window``      ``[-250, -11]``                  sessions relative to the event session
``event_windows``          the engine's five windows        list of ``[a, b]`` pairs, inclusive
``main_window``            ``[0, 1]``                       the window of the headline numbers
``main_test``              ``"placebo"``                    the headline test (see the engine's TESTS)
``model``                  ``"market"``                     ``market``, ``market_adjusted``, ``constant_mean``
``min_estimation_obs``     ``120``                          firms with fewer estimation returns are dropped
``exchange``               ``"XNYS"``                       calendar the event is aligned on
``policy``                 ``"next"``                       alignment policy (see :mod:`analysis.calendars`)
``months_after``           ``3``                            months of the event-aligned potash path
``commodity``              case ``commodity``               the commodity series of the price path
``n_placebo``              ``40``                           pseudo-events of the specification curve's null test
``offline``                ``None``                         never touch the network (None: env)
``data_dir``               ``None``                         the case folder (None: bundled ``data/``)
``output_dir``             ``None``                         set by the runner: where results are written
=========================  ===============================  ===========================================

Reading ``--params`` files and ``-p name=value`` pairs (bounded, UTF-8, safe YAML) is
:mod:`analysis.param_files`; its names are importable from here too.

Only ``output_dir`` and ``offline`` stay out of the run id's hash (see
:func:`analysis.runner.run_id`): they change where and how, not what, is computed.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path

from .calendars import POLICIES
from .errors import ParameterError, PotashImpactError, WindowError, WindowRangeError
from .ids import check_event_id, check_group, check_name, check_ticker
# reading files and -p pairs; these names stay importable from analysis.params (re-exported)
from .param_files import MAX_INPUT_BYTES, _err, _plain, load_params_file, parse_assignments, read_input_file, safe_yaml
from .windows import DEFAULT_WINDOWS as _DEFAULT_WINDOWS
from .windows import parse_window, window_rows

NOTEBOOKS = ("event_study", "potash_prices", "event_catalog", "cross_section", "robustness")
MODELS = ("market", "market_adjusted", "constant_mean")  # "factor" needs a regressor frame, not a ticker
DEFAULT_WINDOWS = [list(w) for w in _DEFAULT_WINDOWS]  # analysis.windows, as JSON-style lists
# The engine's test names (``analysis.eventstudy.TESTS``; a test checks they agree). Listed here
# so validating parameters does not import scipy before the kernels start.
TESTS = (
    "t_cross_sectional", "t_crude_dependence", "patell_z", "patell_z_kp", "bmp", "bmp_kp",
    "corrado_rank", "generalized_sign", "wilcoxon", "placebo",
)
NOT_HASHED = ("output_dir", "offline")
_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?")

# name -> (default, one-line help). Defaults of None marked "case" come from case.toml.
SCHEMA: dict[str, tuple[object, str]] = {
    "event": (None, "catalog event id or 'YYYY-MM-DD[ HH:MM]' (UTC); default: the case's default_event"),
    "treated": (None, "treated firms: a universe group name or a list of tickers; default: case treated_group"),
    "control": (None, "control firms: a universe group name or a list of tickers; default: case control_group"),
    "benchmark": (None, "market proxy ticker; default: case market"),
    "estimation_window": ([-250, -11], "estimation window [a, b] in sessions relative to the event"),
    "event_windows": (DEFAULT_WINDOWS, "event windows, a list of [a, b] pairs"),
    "main_window": ([0, 1], "the window whose CAAR and p-value head the report"),
    "main_test": ("placebo", "the headline test, one of the engine's test names"),
    "model": ("market", "normal-return model: " + ", ".join(MODELS)),
    "min_estimation_obs": (120, "minimum valid estimation returns per firm"),
    "exchange": ("XNYS", "exchange calendar (MIC) the event is aligned on"),
    "policy": ("next", "alignment policy: " + ", ".join(POLICIES)),
    "months_after": (3, "months after the event in the potash path"),
    "commodity": (None, "commodity series of the price path (a commodity_prices.csv column); default: case commodity"),
    "n_placebo": (40, "pseudo-events of the specification curve's joint null test (robustness notebook; 200: finer p)"),
    "offline": (None, "never touch the network (None: $POTASH_IMPACT_OFFLINE)"),
    "data_dir": (None, "case data folder (None: the bundled data/)"),
    "output_dir": (None, "where the notebook writes results (set by the runner)"),
}


# --------------------------------------------------------------------------- checks
def _int(name, value, lo=None, hi=None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _err(name, value, "expected an integer")
    try:
        f = float(value)
    except ValueError:
        raise _err(name, value, "expected an integer") from None
    if not math.isfinite(f) or f != int(f):
        raise _err(name, value, "expected an integer")
    i = int(f)
    if (lo is not None and i < lo) or (hi is not None and i > hi):
        raise _err(name, value, f"must be between {lo} and {hi}")
    return i


def _window(name, value) -> list[int]:
    try:
        return list(parse_window(value, name=name))  # analysis.windows: the one window parser
    except WindowError as exc:
        raise _err(name, value, exc.reason) from None


def _bool_or_none(name, value):
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "yes", "on", "1", "false", "no", "off", "0"}:
        return value.strip().lower() in {"true", "yes", "on", "1"}
    raise _err(name, value, "expected true or false")


def _choice(name, value, choices) -> str:
    if value not in choices:
        raise _err(name, value, f"use one of {', '.join(choices)}")
    return value


def group_members(universe, group: str, exchange: str, offline: bool) -> list[str]:
    """Tickers of ``group`` listed on ``exchange``'s calendar (and, offline, in the snapshot).

    A group name means its listings that trade on the event's calendar, so the default
    study is the same online and offline (NTR.TO or SDF.DE need their own exchange).

    Parameters
    ----------
    universe, group, exchange, offline
        As ``universe``, ``group``, ``exchange`` and ``offline_only`` of
        :func:`analysis.catalog.group_tickers` (the one rule; it raises for an unknown group).

    Returns
    -------
    list of str

    Examples
    --------
    >>> from analysis.case import Case
    >>> group_members(Case.load().universe, "potash producer", "XETR", False)
    ['SDF.DE']
    """
    from .catalog import group_tickers

    return group_tickers(group, universe, offline_only=offline, exchange=exchange)


def _firms(name, value, universe, offline, exchange, case=None) -> tuple[str | list[str], list[str]]:
    """A group name or ticker list -> (canonical value, tickers in the study).

    Offline, every member of a group on the event's calendar must have its price file:
    a deleted file is an error naming it, never a firm silently left out.
    """
    groups = sorted(set(universe["group"]))
    known = dict(zip(universe["ticker"], universe["offline"]))
    if isinstance(value, str) and value in groups:
        tickers = group_members(universe, value, exchange, offline)
        if offline:
            missing = [t for t in group_members(universe, value, exchange, False) if t not in tickers]
            if missing:
                where = case.price_path(missing[0]) if case is not None else f"prices/{missing[0]}.csv"
                raise _err(name, value, f"{missing[0]} has no price file {where} for this offline run: restore "
                                        f"it, list the tickers to use, or run online to fetch it")
        if not tickers:
            where = "in the offline snapshot" if offline else ""
            raise _err(name, value, f"the group has no ticker on the {exchange} calendar {where}".strip())
        return value, tickers
    if isinstance(value, str):
        value = [t.strip() for t in value.split(",") if t.strip()]
        if len(value) == 1 and value[0] not in known:
            check_group(value[0], f"parameter {name}")
            raise _err(name, value[0], f"not a universe group ({', '.join(groups)}) nor a known ticker")
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(t, str) for t in value):
        raise _err(name, value, f"expected a group name ({', '.join(groups)}) or a list of tickers")
    for t in value:
        check_ticker(t, f"parameter {name}")
        if t not in known:
            raise _err(name, value, f"unknown ticker {t!r} (universe.csv has {', '.join(known)})")
        if offline and not known[t]:
            raise _err(name, value, f"{t} is not in the offline snapshot (drop offline to fetch it live)")
    if len(set(value)) != len(value):
        raise _err(name, value, "a ticker is listed twice")
    return list(value), list(value)


def _sessions_of(ticker, data_dir, *, check: bool = False):
    """The benchmark's trading dates from the cache or snapshot (never the network), or None.

    ``check=True`` also runs the data-quality gate on it (one read serves both).
    """
    from . import data

    df, _ = data.local_prices(ticker, data_dir=data_dir, check=check)  # cache ∪ snapshot (QUALITY)
    return None if df is None else df.index[df["close"].notna()]


# --------------------------------------------------------------------------- the API
def defaults(data_dir=None, *, case=None) -> dict:
    """Every parameter's default, with the case-derived ones filled from ``case.toml``.

    Parameters
    ----------
    data_dir : path-like, optional
        The case folder (default: ``$POTASH_IMPACT_DATA`` or the bundled ``data/``).
    case : analysis.case.Case, optional
        An already loaded case (then ``data_dir`` is ignored).

    Returns
    -------
    dict
        Parameter name -> default value.

    Examples
    --------
    >>> defaults()["treated"]
    'potash producer'
    """
    from .case import as_case

    case = as_case(case if case is not None else data_dir).settings
    out = {k: (json.loads(json.dumps(v)) if isinstance(v, list) else v) for k, (v, _) in SCHEMA.items()}
    out["event"] = case.get("default_event")
    out["treated"] = case.get("treated_group")
    out["control"] = case.get("control_group")
    out["benchmark"] = case.get("market", "SPY")
    out["commodity"] = case.get("commodity")
    return out


def validate(params: dict | None = None, *, check_data: bool = True, case=None) -> dict:
    """Fill defaults, check every parameter, return the canonical parameter dict.

    Parameters
    ----------
    params : dict, optional
        Parameter name -> value; ``None`` values take their defaults (the case's for
        event, groups, benchmark and commodity).
    check_data : bool
        Also check the data around the event (quality gate, window coverage).
    case : analysis.case.Case, optional
        The loaded case to validate against (default: loaded once from ``data_dir``).

    Returns
    -------
    dict
        Every parameter of :data:`SCHEMA`, canonical.

    Raises
    ------
    ParameterError
        One line naming the parameter: an unknown name, a wrong type, an invalid or
        unknown event id / ticker / group, a malformed date, a reversed or overlapping
        window, or (``check_data``) windows running past the benchmark's data.

    Examples
    --------
    >>> validate({"model": "market_adjusted"})["model"]
    'market_adjusted'
    """
    return _validate(params, check_data=check_data, case=case)[0]


def _validate(params: dict | None, *, check_data: bool, case=None) -> tuple[dict, dict]:
    """:func:`validate`, plus what the checks resolved on the way (case, event, session, firms)."""
    from . import config
    from .case import as_case, is_case_folder

    params = dict(params or {})
    unknown = sorted(set(params) - set(SCHEMA))
    if unknown:
        raise ParameterError(f"unknown parameter {unknown[0]!r}: known are {', '.join(SCHEMA)}")

    dd = params.get("data_dir")
    if dd is not None:
        if not isinstance(dd, str) or not dd.strip():
            raise _err("data_dir", dd, "expected a folder path")
        dpath = config.data_dir(dd)
        if not is_case_folder(dpath):
            raise _err("data_dir", dd, f"{dpath} is not a case folder (needs events.csv and universe.csv)")
        dd = str(dpath)
    if case is None or (dd is not None and Path(dd) != Path(case.root)):
        case = as_case(dd)  # loaded and validated once; passed down from here
    p = defaults(case=case)
    p.update({k: v for k, v in params.items() if v is not None or k in ("offline", "output_dir")})
    p["data_dir"] = dd

    p["offline"] = _bool_or_none("offline", p["offline"])
    offline = config.is_offline(p["offline"])
    if p["output_dir"] is not None and not isinstance(p["output_dir"], str):
        raise _err("output_dir", p["output_dir"], "expected a folder path")

    universe = case.universe

    # event: a catalog id or a date
    ev = p["event"]
    if ev is None:
        raise _err("event", ev, "no event given and the case has no default_event")
    if not isinstance(ev, str):
        raise _err("event", ev, "expected a catalog id or a date string")
    if not _DATE_LIKE.match(ev):
        check_event_id(ev, "parameter event")
    from .catalog import get_event

    try:
        rec = get_event(ev, case=case)
    except PotashImpactError as exc:
        raise ParameterError(f"parameter event: {exc}") from None

    p["model"] = _choice("model", p["model"], MODELS)
    p["policy"] = _choice("policy", p["policy"], POLICIES)
    if not isinstance(p["exchange"], str):
        raise _err("exchange", p["exchange"], "expected a MIC code such as XNYS")
    check_name(p["exchange"], "parameter exchange")
    if p["commodity"] is not None:
        check_name(p["commodity"], "parameter commodity")
    from .calendars import get_calendar

    try:
        get_calendar(p["exchange"])
    except PotashImpactError as exc:
        raise ParameterError(f"parameter exchange: {exc}") from None
    p["main_test"] = _choice("main_test", p["main_test"], TESTS)
    p["min_estimation_obs"] = _int("min_estimation_obs", p["min_estimation_obs"], 5, 5000)
    p["months_after"] = _int("months_after", p["months_after"], 0, 36)
    p["n_placebo"] = _int("n_placebo", p["n_placebo"], 1, 2000)

    # windows
    est = _window("estimation_window", p["estimation_window"])
    wins = p["event_windows"]
    if isinstance(wins, (list, tuple)) and len(wins) == 2 and all(isinstance(v, (int, float)) for v in wins):
        wins = [wins]
    if not isinstance(wins, (list, tuple)) or not wins:
        raise _err("event_windows", wins, "expected a list of [a, b] windows")
    wins = [_window("event_windows", w) for w in wins]
    if len({tuple(w) for w in wins}) != len(wins):
        raise _err("event_windows", wins, "a window is listed twice")
    main = _window("main_window", p["main_window"])
    if main not in wins:
        raise _err("main_window", main, f"must be one of event_windows {wins}")
    first = min(w[0] for w in wins)
    if est[1] >= first:
        raise _err("estimation_window", est, f"must end before the earliest event window starts (day {first})")
    if est[1] - est[0] + 1 < p["min_estimation_obs"]:
        raise _err(
            "estimation_window",
            est,
            f"has {est[1] - est[0] + 1} sessions, fewer than min_estimation_obs={p['min_estimation_obs']}",
        )
    p["estimation_window"], p["event_windows"], p["main_window"] = est, wins, main

    # firms
    bm = p["benchmark"]
    if isinstance(bm, str):
        check_ticker(bm, "parameter benchmark")
    known = dict(zip(universe["ticker"], universe["offline"]))
    if not isinstance(bm, str) or bm not in known:
        raise _err("benchmark", bm, f"unknown ticker (universe.csv has {', '.join(known)})")
    if offline and not known[bm]:
        raise _err("benchmark", bm, "not in the offline snapshot (drop offline to fetch it live)")
    p["treated"], treated = _firms("treated", p["treated"], universe, offline, p["exchange"], case)
    p["control"], control = _firms("control", p["control"], universe, offline, p["exchange"], case)
    both = sorted(set(treated) & set(control))
    if both:
        raise _err("control", p["control"], f"{', '.join(both)} also in treated: put each firm in one group")
    if bm in treated + control:
        raise _err("benchmark", bm, "is also a treated or control firm")

    # alignment and data coverage around the event
    from .calendars import align_event

    try:
        session = align_event(rec["timestamp"], p["exchange"], p["policy"])
    except PotashImpactError as exc:
        raise ParameterError(f"parameter event: {exc}") from None
    if check_data:
        from .quality import preflight

        preflight(treated + control, data_dir=dd)  # the data-quality gate, before any kernel (QUALITY)
        sessions = _sessions_of(bm, dd, check=True)  # the benchmark: gated and read once
        if sessions is not None and len(sessions):
            last_end = max(w[1] for w in wins)
            pos = int(sessions.searchsorted(session))
            try:
                window_rows(pos, (est[0], last_end), len(sessions))  # analysis.windows: the one edge rule
            except WindowRangeError:
                if pos >= len(sessions) or pos + last_end >= len(sessions):
                    raise _err(
                        "event",
                        ev,
                        f"event session {session.date()} + window end {last_end} runs past the data "
                        f"({bm} ends {sessions[-1].date()})",
                    ) from None
                raise _err(
                    "estimation_window",
                    est,
                    f"needs {-est[0]} sessions before {session.date()} but {bm} has {pos} (from {sessions[0].date()})",
                ) from None
    resolved = {"event_record": rec, "session": session, "treated_tickers": treated, "control_tickers": control,
                "case": case}
    return {k: p[k] for k in SCHEMA}, resolved


def resolve(**params) -> dict:
    """Validate a notebook's parameters and add what they imply (for the notebooks).

    Parameters
    ----------
    **params
        Names of :data:`SCHEMA`; a missing or None value takes its default (from the
        case's ``case.toml`` where the schema says so).

    Returns
    -------
    dict
        The validated parameters plus ``event_record`` (the catalog row or ad-hoc
        event), ``session`` (the aligned event session), ``treated_tickers``,
        ``control_tickers``, ``tickers`` (treated + control + benchmark) and ``case`` (the
        :class:`~analysis.case.Case` everything was checked against).

    Raises
    ------
    ParameterError
        An unknown name or a bad value, named with how to fix it.

    Examples
    --------
    >>> p = resolve(event="ofac-gl13-2025", offline=True)
    >>> str(p["session"].date()), p["treated_tickers"], p["tickers"][-1]
    ('2025-12-15', ['NTR', 'MOS', 'IPI', 'ICL'], 'SPY')
    """
    p, resolved = _validate(params, check_data=True)
    out = {**p, **resolved}
    out["tickers"] = out["treated_tickers"] + out["control_tickers"] + [p["benchmark"]]
    return out


def resolve_from(namespace: dict) -> dict:
    """:func:`resolve` on the schema's names found in ``namespace`` (a notebook passes ``globals()``).

    Parameters
    ----------
    namespace : dict
        Any mapping; names outside :data:`SCHEMA` are ignored.

    Returns
    -------
    dict
        As :func:`resolve`.

    Examples
    --------
    >>> str(resolve_from({"event": "ofac-gl13-2025", "offline": True, "other": 1})["session"].date())
    '2025-12-15'
    """
    return resolve(**{k: namespace[k] for k in SCHEMA if k in namespace})


def params_hash(params: dict, notebooks=NOTEBOOKS, n: int = 7) -> str:
    """Short SHA-1 of the canonical parameters (less ``output_dir`` and ``offline``) and notebook list.

    Parameters
    ----------
    params, notebooks, n
        Validated parameters, the run's notebooks, hex digits kept.

    Returns
    -------
    str
        The last part of a run id: the same parameters give the same run.

    Examples
    --------
    >>> a = params_hash({"event": "us-potash-easing-2025", "model": "market", "offline": True})
    >>> len(a), a == params_hash({"event": "us-potash-easing-2025", "model": "market", "offline": False})
    (7, True)
    """
    core = {k: v for k, v in sorted(params.items()) if k not in NOT_HASHED}
    blob = json.dumps({"params": core, "notebooks": list(notebooks)}, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:n]


def describe() -> str:
    """The parameter table as text (for ``report --help``-style listings).

    Returns
    -------
    str
        One line per :data:`SCHEMA` entry: name and help text.

    Examples
    --------
    >>> describe().splitlines()[0].split()[:3]
    ['event', 'catalog', 'event']
    """
    return "\n".join(f"  {k:<20} {h}" for k, (_, h) in SCHEMA.items())
