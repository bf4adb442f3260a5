"""``potash-impact``: a thin command line over the library.

Commands: ``data`` (coverage of snapshot and cache; ``--refresh`` from yfinance when
online), ``events``, ``universe`` and ``report`` (the runner: :mod:`analysis.runner`,
:mod:`analysis.publish`, :mod:`analysis.index`; what to run: :mod:`analysis.schedule`).
Exit codes (:data:`EXIT_OK`, :data:`EXIT_FAIL`, :data:`EXIT_USAGE`, defined here only): 0
success, 1 a run failed or was locked, or the reports folder cannot be written (one line
naming the path and the OS error), 2 bad arguments or input (one-line error), 141 the
reader closed our output pipe (``potash-impact events | head -3``; nothing printed).

Stdlib only at import: ``potash-impact --help`` loads neither pandas nor numpy (a test
checks ``sys.modules``). Every command imports what it needs inside its function.
"""

from __future__ import annotations

import argparse
import sys

from . import config
from .errors import PotashImpactError, ReportError

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
EXIT_PIPE = 141  # stdout closed by the reader (128 + SIGPIPE, as the shell reports a killed tool)


class _Parser(argparse.ArgumentParser):
    """argparse with exit code 2 and a one-line message for bad arguments."""

    def error(self, message):  # noqa: D401 - argparse API
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _print_frame(df, fmt: str) -> None:
    import pandas as pd

    if fmt == "csv":
        df.to_csv(sys.stdout, index=False)
    elif fmt == "json":
        sys.stdout.write(df.to_json(orient="records", date_format="iso", indent=1) + "\n")
    else:
        with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200,
                               "display.max_colwidth", 70):
            print(df.to_string(index=False))


def _cmd_data(ns) -> int:
    from . import commodities, data

    if ns.refresh_commodities:
        if config.is_offline(ns.offline or None):
            raise PotashImpactError("--refresh-commodities needs the network; drop --offline / unset POTASH_IMPACT_OFFLINE")
        new = commodities.refresh_commodities(cache_dir=ns.cache_dir)
        months = new["potash"].dropna().index
        print(f"refreshed the commodity series into {commodities.commodity_cache_path(ns.cache_dir)}: "
              f"{months[0]} to {months[-1]}, vintage {new.attrs.get('vintage')}")
        if not ns.refresh:
            return EXIT_OK
    if ns.refresh:
        if config.is_offline(ns.offline or None):
            raise PotashImpactError("--refresh needs the network; drop --offline / unset POTASH_IMPACT_OFFLINE")
        from .catalog import load_universe

        tickers = ns.tickers or list(load_universe(ns.data_dir)["ticker"])
        table = data.refresh(tickers, ns.start, ns.end, cache_dir=ns.cache_dir)
        print(f"refreshed {len(table)} ticker(s) into {config.cache_dir(ns.cache_dir)}")
        _print_frame(table, ns.format)
        return EXIT_OK
    table = data.coverage(ns.data_dir, ns.cache_dir)
    if ns.tickers:
        unknown = [t for t in ns.tickers if t not in set(table["ticker"])]
        if unknown:
            raise PotashImpactError(
                f"no data for ticker {unknown[0]!r} in the snapshot or the cache "
                f"(have: {', '.join(sorted(set(table['ticker'])))}); `data --refresh {unknown[0]}` fetches it online"
            )
        table = table[table["ticker"].isin(ns.tickers)]
    _print_frame(table, ns.format)
    vint = data.snapshot_vintage(ns.data_dir)
    if ns.format == "table":
        com = commodities.load_commodity_prices(ns.data_dir, cache_dir=ns.cache_dir)
        months = com[com.columns[0]].dropna().index
        print(f"\ncommodities ({', '.join(com.columns)}): {com.attrs.get('source')}, {months[0]} to {months[-1]}, "
              f"vintage {com.attrs.get('vintage')}")
        print(f"snapshot vintage: {vint.get('vintage', 'unknown')}; cache: {config.cache_dir(ns.cache_dir)}")
    return EXIT_OK


def _cmd_events(ns) -> int:
    from .catalog import align_events, load_events

    ev = align_events(load_events(ns.data_dir), ns.exchange)
    if ns.kind:
        ev = ev[ev["kind"] == ns.kind]
    cols = ["event_id", "timestamp", "session", "kind", "scope", "title"]
    out = ev[cols].copy()
    out["session"] = out["session"].dt.date
    _print_frame(out, ns.format)
    return EXIT_OK


def _cmd_universe(ns) -> int:
    from .catalog import load_universe

    uni = load_universe(ns.data_dir)
    if ns.group:
        uni = uni[uni["group"] == ns.group]
    _print_frame(uni, ns.format)
    return EXIT_OK


# --------------------------------------------------------------------------- report
def _number(kind, lo, *, strict: bool = False):
    """An argparse type: a finite ``kind`` (int or float) >= ``lo`` (> ``lo`` if ``strict``)."""
    import math

    def parse(text: str):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, got {text!r}")
        if not math.isfinite(v) or v < lo or (strict and v == lo):
            raise argparse.ArgumentTypeError(f"must be {'>' if strict else '>='} {lo}, got {text}")
        return v

    parse.__name__ = kind.__name__
    return parse


def summary_table(records: list[dict]) -> str:
    """The final summary of ``report``: one line per run and notebook with status and seconds.

    Parameters
    ----------
    records : list of dict
        :func:`analysis.runner.run_reports`'s records.

    Returns
    -------
    str
        A header line, a line per notebook, and the headline numbers of each run's key.

    Examples
    --------
    >>> rec = {"run_id": "2025-12-15_us-potash-easing-2025_1a2b3c4", "status": "ok",
    ...        "notebooks": [{"name": "event_study", "status": "ok", "duration_s": 12.34}],
    ...        "key": {"window": "(0,1)", "caar_treated": -0.0434, "test": "placebo", "p_value": 0.0625}}
    >>> [line.split() for line in summary_table([rec]).splitlines()[1:]]
    [['2025-12-15_us-potash-easing-2025_1a2b3c4', 'event_study', 'ok', '12.3'], ['producer', 'CAAR', '(0,1)', '=', '-4.34%,', 'placebo', 'p', '=', '0.062']]
    """
    from .narrative import _p

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
    """The ``report`` subcommand's options.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subparser to fill.

    Returns
    -------
    None

    Examples
    --------
    >>> import argparse
    >>> p = argparse.ArgumentParser()
    >>> add_arguments(p)
    >>> ns = p.parse_args(["--jobs", "2", "-p", "model=market_adjusted"])
    >>> ns.jobs, ns.param, ns.offline
    (2, ['model=market_adjusted'], False)
    """
    from .runner import DEFAULT_TIMEOUT

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
    parser.add_argument("--jobs", type=_number(int, 1), default=1,
                        help="notebooks executed in parallel processes (default 1)")
    parser.add_argument("--timeout", type=_number(float, 0, strict=True), default=DEFAULT_TIMEOUT,
                        help=f"per-notebook time limit in seconds, > 0 (default {DEFAULT_TIMEOUT})")
    parser.add_argument("--retries", type=_number(int, 0), default=1,
                        help="retries when a kernel fails to start (default 1)")
    parser.add_argument("--offline", action="store_true", help="never touch the network; use snapshot/cache")
    parser.add_argument("--data-dir", default=None, help="case data folder (same as -p data_dir=...)")
    parser.add_argument("--all-events", action="store_true", help="one report per easing/tightening catalog event")
    parser.add_argument("--schedule", metavar="FILE.toml", help="run the jobs listed in a schedule file")
    parser.add_argument("--lock-wait", type=_number(float, 0), default=0.0,
                        help="seconds to wait for a run id locked by another run before skipping it (default 0)")
    parser.add_argument("--notebook-dir", default=None, help=argparse.SUPPRESS)  # tests: tiny notebooks
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run_cli(ns) -> int:
    """``potash-impact report``: validate, (refresh), execute, publish, index.

    Parameters
    ----------
    ns : argparse.Namespace
        The parsed ``report`` arguments.

    Returns
    -------
    int
        The exit code: :data:`EXIT_OK`, :data:`EXIT_FAIL` or :data:`EXIT_USAGE`.

    Examples
    --------
    Runs notebooks, so it needs a Jupyter kernel:

    >>> run_cli(build_parser().parse_args(["report", "--offline", "--notebooks", "event_study"]))  # doctest: +SKIP
    0
    """
    from . import runner
    from .execute import warm_workers
    from .schedule import build_runs

    warm_workers()  # the fork server imports papermill and nbconvert while we validate
    try:
        runs = build_runs(ns)
    except PotashImpactError as exc:
        print(f"potash-impact report: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        runner.prepare_out(ns.out)  # a read-only folder or a file as --out: one line, before any work
    except OSError as exc:
        print(f"potash-impact report: error: {exc}", file=sys.stderr)
        return EXIT_FAIL
    offline = all(config.is_offline(r.params.get("offline")) for r in runs)
    refresh = None
    if not offline:
        print(f"refreshing data for {len(runs)} run(s) ...", file=sys.stderr)
        refresh = runner.refresh_data(runs)
    warning, claim = runner.refresh_summary(refresh)
    if warning:
        print(warning, file=sys.stderr)
    from . import data

    vint = data.snapshot_vintage(runs[0].params.get("data_dir")).get("vintage", "unknown")
    print(f"{'offline' if offline else 'online'}: data vintage {vint}{claim}", file=sys.stderr)
    try:
        records = runner.run_reports(runs, out=ns.out, jobs=ns.jobs, timeout=ns.timeout or None, retries=ns.retries,
                                     lock_wait=ns.lock_wait, refresh=refresh, progress=False if ns.quiet else None)
    except (ReportError, OSError) as exc:  # OSError: WriteError (path + OS error), one line, no traceback
        print(f"potash-impact report: error: {exc}", file=sys.stderr)
        return EXIT_FAIL
    print(summary_table(records))
    out = config.reports_dir(ns.out)
    print(f"index: {out / 'index.html'}")
    return EXIT_OK if all(r["status"] == "ok" for r in records) else EXIT_FAIL


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs).

    Returns
    -------
    argparse.ArgumentParser
        Subcommands ``data``, ``events``, ``universe`` and ``report``; each sets ``func``.

    Examples
    --------
    >>> ns = build_parser().parse_args(["events", "--format", "csv"])
    >>> ns.command, ns.format
    ('events', 'csv')
    """
    p = _Parser(prog="potash-impact", description="Event studies of potash sanctions news on fertilizer equities.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(sp):
        sp.add_argument("--data-dir", default=None, help="case data folder (default: the bundled data/)")
        sp.add_argument("--format", choices=["table", "csv", "json"], default="table", help="output format")

    d = sub.add_parser("data", help="show snapshot and cache coverage; --refresh downloads from yfinance")
    common(d)
    d.add_argument("tickers", nargs="*", help="tickers to show or refresh (default: all)")
    d.add_argument("--refresh", action="store_true", help="download prices from yfinance into the cache (needs network)")
    d.add_argument("--refresh-commodities", action="store_true",
                   help="download the World Bank Pink Sheet into the cache (needs network)")
    d.add_argument("--start", default="2020-06-01", help="refresh start date (YYYY-MM-DD)")
    d.add_argument("--end", default=None, help="refresh end date (YYYY-MM-DD)")
    d.add_argument("--cache-dir", default=None, help="cache folder (default: $POTASH_IMPACT_CACHE or ~/.cache/potash-impact)")
    d.add_argument("--offline", action="store_true", help="never touch the network")
    d.set_defaults(func=_cmd_data)

    e = sub.add_parser("events", help="list the event catalog with aligned sessions")
    common(e)
    e.add_argument("--kind", choices=["easing", "tightening", "confounder"], help="only this kind")
    e.add_argument("--exchange", default="XNYS", help="calendar to align on (MIC, default XNYS)")
    e.set_defaults(func=_cmd_events)

    u = sub.add_parser("universe", help="list the universe of listings and groups")
    common(u)
    u.add_argument("--group", help="only this group, e.g. 'potash producer'")
    u.set_defaults(func=_cmd_universe)

    r = sub.add_parser("report", help="run the parameterized notebooks into reports/ (papermill)")
    add_arguments(r)
    r.set_defaults(func=run_cli)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``potash-impact`` console script.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code: 0 ok, 1 a run failed, 2 bad input (one line on stderr), 130
        interrupted, 141 the reader of the output went away.

    Examples
    --------
    >>> import contextlib, io
    >>> out = io.StringIO()
    >>> with contextlib.redirect_stdout(out):
    ...     code = main(["events", "--kind", "easing", "--format", "csv"])
    >>> code, out.getvalue().splitlines()[0]
    (0, 'event_id,timestamp,session,kind,scope,title')
    """
    parser = build_parser()
    ns = parser.parse_args(argv)
    try:
        code = int(ns.func(ns) or 0)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return _closed_pipe()
    except PotashImpactError as exc:
        print(f"potash-impact {ns.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _closed_pipe() -> int:
    """The reader of our output went away (``potash-impact events | head -3``): stop quietly.

    Python would print a BrokenPipeError traceback when it flushes stdout at exit; point
    stdout at /dev/null first. Exit 141, as a tool killed by SIGPIPE.
    """
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout has no descriptor (tests' capture): nothing to redirect
        pass
    return EXIT_PIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
