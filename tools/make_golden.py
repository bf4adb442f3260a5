"""Regenerate the golden numbers of the December 2025 case from the INDEPENDENT loop reference.

The numbers in ``tests/fixtures/golden_december2025.json`` come from
``tests/_es_reference.py`` (plain Python loops, statsmodels OLS, scipy distributions; no
code shared with :mod:`analysis.eventstudy`), run on the bundled snapshot. Only data
loading and event alignment use the package. ``tests/test_eventstudy_golden.py`` then
checks the engine against the file.

Run after a deliberate change of convention or data, and say why in the commit::

    .venv/bin/python tools/make_golden.py            # rewrite the fixture
    .venv/bin/python tools/make_golden.py --check    # compare with the fixture, write nothing
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "golden_december2025.json"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

PRODUCERS = ["NTR", "MOS", "IPI", "ICL"]
NITROGEN = ["CF", "LXU"]
MARKET = "SPY"
EVENT = "2025-12-13 11:49"
ESTIMATION = (-250, -11)
WINDOWS = ((-1, 1), (0, 0), (0, 1), (0, 5), (-5, 5))
CONVENTIONS = {"model": "market", "scar": "exact", "corrado": "window", "min_estimation_obs": 120}


def _num(v):
    v = float(v)
    return v if math.isfinite(v) else None


def build() -> dict:
    """The golden document, computed by the loop reference."""
    import warnings

    import analysis
    from _es_reference import reference, reference_groups

    warnings.simplefilter("ignore")
    r = analysis.load_returns(PRODUCERS + NITROGEN + [MARKET], offline=True, source="snapshot")
    day0 = analysis.align_event(EVENT)
    kw = dict(estimation_window=ESTIMATION, event_windows=WINDOWS, model=CONVENTIONS["model"],
              min_estimation_obs=CONVENTIONS["min_estimation_obs"], scar=CONVENTIONS["scar"],
              corrado=CONVENTIONS["corrado"])
    prod = reference(r[PRODUCERS], r[MARKET], day0, **kw)
    both = reference(r[PRODUCERS + NITROGEN], r[MARKET], day0, **kw)
    groups = reference_groups(both, PRODUCERS, NITROGEN, WINDOWS)

    def battery(tests):
        return {t: [_num(s), _num(p), int(n)] for t, (s, p, n) in tests.items()}

    return {
        "about": "December 2025 case on the bundled snapshot: producers' battery and producers minus nitrogen. "
                 "Written by tools/make_golden.py from tests/_es_reference.py (independent loops), not the engine.",
        "case": {"treated": PRODUCERS, "control": NITROGEN, "market": MARKET, "event": EVENT,
                 "session": str(day0.date()), "estimation_window": list(ESTIMATION),
                 "event_windows": [list(w) for w in WINDOWS]},
        "conventions": CONVENTIONS,
        "producers": {
            "firms": prod["firms"],
            "tests": {w: battery(t) for w, t in prod["tests"].items()},
            "daily": {str(d): battery(t) for d, t in prod["daily"].items()},
            "caar": {w: _num(v) for w, v in prod["caar"].items()},
            "car": {w: {f: _num(v) for f, v in c.items()} for w, c in prod["car"].items()},
            "rbar": {w: _num(v) for w, v in prod["rbar"].items()},
        },
        "producers_minus_nitrogen": {
            "windows": {w: {k: (_num(v) if isinstance(v, float) else v) for k, v in row.items()}
                        for w, row in groups["windows"].items()},
            "path": {str(d): [_num(v) for v in vals] for d, vals in groups["path"].items()},
            "band": {str(d): _num(v) for d, v in groups["band"].items()},
        },
    }


def _diff(a, b, path=""):
    """Paths where two golden documents differ by more than 1e-12 (or in structure)."""
    out = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}/{k}: only in {'new' if k in a else 'file'}")
            else:
                out += _diff(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            out += _diff(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, (int, float)):
        if abs(a - b) > 1e-12:
            out.append(f"{path}: {b!r} -> {a!r}")
    elif a != b:
        out.append(f"{path}: {b!r} -> {a!r}")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the fixture; write nothing")
    args = ap.parse_args(argv)
    doc = build()
    if args.check:
        old = json.loads(FIXTURE.read_text()) if FIXTURE.exists() else {}
        diffs = _diff(doc, old)
        print("\n".join(diffs) if diffs else f"{FIXTURE.relative_to(ROOT)} is up to date")
        return 1 if diffs else 0
    from analysis._io import atomic_write_text

    atomic_write_text(FIXTURE, json.dumps(doc, indent=1, sort_keys=False) + "\n")
    print(f"wrote {FIXTURE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
