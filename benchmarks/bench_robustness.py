"""Wall time of the specification curve (analysis.robustness) on the bundled snapshot.

Rows of the printed table:

* **load** -- the case, the event alignment and the returns of every firm and benchmark
  (what :func:`~analysis.robustness.specification_curve` does before computing);
* **default grid** -- :func:`~analysis.robustness.curve_from_returns` on those returns:
  4 models x 2 benchmarks x 3 estimation windows x 4 event windows x 5 treated sets,
  one ``event_study`` call per (model, benchmark, estimation window);
* **specification_curve()** -- both together, as a user calls it;
* **naive loop** -- one ``event_study`` + ``compare_groups`` call per row, the way a
  researcher would rerun the notebook by hand; the ratio column compares it to the grid;
* **null_test(n)** -- the joint null test with n pseudo-events (targets: grid < 1 s,
  null_test(200) < 30 s).

Run: ``python benchmarks/bench_robustness.py [--repeat N] [--n-placebo N]``; prints the
median of N runs (the naive loop and the null test run once).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("POTASH_IMPACT_OFFLINE", "1")


CPU = {}


def timed(fn, repeat=1):
    """(result, median wall seconds); the median CPU seconds of this process go to CPU[fn]."""
    out, times, cpu = None, [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    CPU[len(CPU)] = statistics.median(cpu)
    return out, statistics.median(times)


def naive_loop(sc):
    """One event_study + compare_groups per row of the frame (only the rows that ran)."""
    from analysis.eventstudy import EventStudyWarning, compare_groups, event_study

    r = sc._inputs.returns
    for row in sc.to_frame().query("status == 'ok'").itertuples(index=False):
        est = tuple(int(v) for v in row.estimation_window.strip("()").split(","))
        win = tuple(int(v) for v in row.event_window.strip("()").split(","))
        market = None if row.model == "constant_mean" else r[row.benchmark.split("+")] if row.model == "factor" \
            else r[row.benchmark]
        firms = list(row.treated) + list(row.control)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EventStudyWarning)
            res = event_study(r[firms], market, sc.session, est, [win], row.model, min(120, (est[1] - est[0] + 1) // 2))
            compare_groups(res, list(row.treated), list(row.control))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--n-placebo", type=int, default=200)
    ns = ap.parse_args(argv)

    from analysis import data
    from analysis.calendars import align_event
    from analysis.case import as_case
    from analysis.robustness import curve_from_returns, specification_curve

    case = as_case()
    st = case.settings

    def load():
        ev = case.event(st.default_event)
        session = align_event(ev["timestamp"], "XNYS")
        firms = case.group(st.treated_group, "XNYS", True), case.group(st.control_group, "XNYS", True)
        r = data.load_returns(firms[0] + firms[1] + [st.market, st.sector], offline=True)
        return ev, session, firms, r

    (ev, session, (treated, control), r), t_load = timed(load, ns.repeat)
    sc, t_grid = timed(lambda: curve_from_returns(r, session, treated, control, market=st.market, sector=st.sector,
                                                  expected_sign=-1), ns.repeat)
    _, t_user = timed(lambda: specification_curve(offline=True), ns.repeat)
    _, t_naive = timed(lambda: naive_loop(sc))
    nt, t_null = timed(lambda: sc.null_test(ns.n_placebo))
    n = sc.stats["n_ok"]
    rows = [
        ("load (case, event, returns)", t_load, "", ""),
        (f"default grid ({n} specifications, {len(sc._inputs.fits)} fits)", t_grid, "< 1 s", ""),
        ("specification_curve() (load + grid)", t_user, "< 1 s", ""),
        (f"naive loop ({n} x event_study + compare_groups)", t_naive, "", f"{t_naive / t_grid:.0f}x the grid"),
        (f"null_test({ns.n_placebo}) ({nt.n_placebo} pseudo-events x {len(sc._inputs.fits)} fits)", t_null,
         "< 30 s", f"{t_null / max(nt.n_placebo, 1) * 1000:.0f} ms per pseudo-event"),
    ]
    cpu = [CPU[0], CPU[1], CPU[2], CPU[3], CPU[4]]
    w = max(len(r[0]) for r in rows)
    print(f"{'step':<{w}}  {'wall s':>8}  {'cpu s':>7}  {'target':>7}  note")
    for (name, t, target, note), c in zip(rows, cpu):
        print(f"{name:<{w}}  {t:8.3f}  {c:7.3f}  {target:>7}  {note}")
    print(f"(median of {ns.repeat} for the first three rows; one run for the rest; cpu s = this process's CPU "
          f"time, which other load does not inflate; cpu count {os.cpu_count()}, load average {os.getloadavg()[0]:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
