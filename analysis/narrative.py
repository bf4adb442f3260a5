"""Generated prose: the plain-language conclusion of one event study.

The sentences follow from the numbers and claim nothing beyond them:

* the headline is the treated group's CAAR over the main window, under the named
  normal-return model, with the main test's p-value;
* the strength of a move is judged against ``alpha`` in four bands
  (``p < alpha/5``, ``p < alpha``, ``p < 2 alpha``, otherwise "not distinguishable");
* the other dependence-robust tests (:data:`ROBUST_TESTS`: Kolari-Pynnönen corrected
  Patell and BMP, Brown-Warner crude dependence, the placebo) are reported as agreeing
  or not with the main test at 5 %;
* a control-group difference, the expected sign of the event kind and confounding
  catalog events inside the window are each one sentence when given;
* the last sentence always reminds the reader how few firms stand behind the numbers.

Percentages are signed with two decimals (``-4.34%``); p-values have three decimals; a
missing or non-finite number is written ``n/a``, never as a number.

Stdlib only at import; pandas is loaded inside :func:`conclusion`.
"""

from __future__ import annotations

import math

from .errors import ReportError

ROBUST_TESTS = ("patell_z_kp", "bmp_kp", "t_crude_dependence", "placebo")


def _pct(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x * 100:+.2f}%"


def _p(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.3f}"


def _article(word: str) -> str:
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def _strength(p, alpha=0.05) -> str:
    if p is None or not math.isfinite(p):
        return "cannot be judged (no p-value)"
    if p < alpha / 5:
        return "is clearly distinguishable from ordinary moves"
    if p < alpha:
        return f"is distinguishable from ordinary moves at the {alpha:.0%} level"
    if p < 2 * alpha:
        return "is only weakly distinguishable from ordinary moves (below 10% but not 5%)"
    return "is not distinguishable from ordinary moves of that length"


def conclusion(*, event: dict, session, tests, window: str, main_test: str, treated, control=None,
               comparison=None, confounders=None, expected_sign=None, model: str = "market") -> str:
    """A short plain-language conclusion that follows from the numbers and claims nothing beyond them.

    Parameters
    ----------
    event : dict
        The catalog row (``event_id``, ``timestamp``, ``kind``, ``title``).
    session : date-like
        The first reacting session.
    tests : pandas.DataFrame
        The treated group's tidy battery (``window, test, statistic, p_value, n``) with a
        ``caar`` column, as ``EventStudyResult.to_frame()``.
    window : str
        The headline window label, e.g. ``"(0,1)"``.
    main_test : str
        The headline test name, e.g. ``"placebo"``.
    treated, control : list of str
        The firms of each group (``control`` only for the comparison sentence).
    comparison : pandas.DataFrame, optional
        ``GroupComparison.to_frame()`` (``window, caar_control, diff, p_placebo``).
    confounders : pandas.DataFrame, optional
        Catalog events inside the window (``event_id, day``).
    expected_sign : int, optional
        +1 or -1, the sign the event kind suggests for the treated firms.
    model : str
        The normal-return model's name.

    Returns
    -------
    str
        One paragraph.

    Raises
    ------
    ReportError
        ``window`` is not in ``tests``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"window": ["(0,1)"], "test": ["placebo"], "statistic": [-1.0],
    ...                   "p_value": [0.4], "n": [4], "caar": [-0.04]})
    >>> text = conclusion(event={"event_id": "e1", "timestamp": "2025-12-13 11:49", "kind": "easing"},
    ...                   session="2025-12-15", tests=t, window="(0,1)", main_test="placebo",
    ...                   treated=["NTR", "MOS", "IPI", "ICL"])
    >>> "-4.00%" in text and "not distinguishable" in text
    True
    """
    import pandas as pd

    t = tests[tests["window"] == window]
    if t.empty:
        raise ReportError(f"conclusion: window {window} is not in the test table")
    caar = float(t["caar"].iloc[0]) if "caar" in t else float("nan")
    byname = dict(zip(t["test"], t["p_value"]))
    n = int(t["n"].max())
    p_main = byname.get(main_test, float("nan"))
    when = pd.Timestamp(session).date()
    out = [
        f"On {event.get('title') or event.get('event_id')} ({event.get('timestamp')} UTC; first reacting "
        f"session {when}), the {n} treated firms ({', '.join(treated)}) had a cumulative average abnormal "
        f"return of {_pct(caar)} over days {window} under the {model.replace('_', '-')} model."
    ]
    out.append(f"By the {main_test.replace('_', ' ')} test (p = {_p(p_main)}) this move {_strength(p_main)}.")
    robust = [(k, byname[k]) for k in ROBUST_TESTS if k in byname and k != main_test]
    if robust:
        sig = [k for k, v in robust if pd.notna(v) and v < 0.05]
        agree = "agree" if (len(sig) == 0) == (not (pd.notna(p_main) and p_main < 0.05)) else "do not all agree"
        out.append(
            "The other dependence-robust tests " + agree + " ("
            + ", ".join(f"{k.replace('_', ' ')} p = {_p(v)}" for k, v in robust) + ")."
        )
    if comparison is not None and len(comparison):
        c = comparison[comparison["window"] == window]
        if len(c):
            r = c.iloc[0]
            out.append(
                f"Against the control firms ({', '.join(control or [])}), whose CAAR was {_pct(r['caar_control'])}, "
                f"the difference is {_pct(r['diff'])} (placebo p = {_p(r['p_placebo'])})."
            )
    if expected_sign and math.isfinite(caar) and caar != 0:
        same = (caar > 0) == (expected_sign > 0)
        out.append(
            f"The sign {'matches' if same else 'is opposite to'} what {_article(str(event.get('kind')))} event suggests for "
            f"the treated firms ({'up' if expected_sign > 0 else 'down'})"
            + ("" if (pd.notna(p_main) and p_main < 0.05) else ", but the move is within ordinary variation")
            + "."
        )
    if confounders is not None and len(confounders):
        names = ", ".join(f"{r['event_id']} (day {r['day']})" for _, r in confounders.iterrows())
        out.append(
            f"Other catalog events fall inside the window ({names}); these numbers cannot separate the "
            f"event from them."
        )
    out.append(
        f"With {n} firms, cross-sectional tests have few degrees of freedom; the placebo p "
        f"is the most assumption-free of these numbers."
    )
    return " ".join(out)
