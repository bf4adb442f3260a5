"""Generated prose: the conclusion of an event study, the sample it used and report headers.

Every sentence follows from the numbers and claims nothing beyond them.

The conclusion (:func:`conclusion`)
-----------------------------------
* The headline is the treated group's CAAR over the main window, under the named
  normal-return model, with the main test's p-value. It names only the firms the
  window actually used; firms the result excluded are named with their reason.
* The strength of a move is judged against ``alpha`` in four bands: ``p < alpha/5``,
  ``p < alpha``, ``p < 2 alpha``, otherwise "not distinguishable".
* The other dependence-robust tests (:data:`ROBUST_TESTS`: the Kolari-Pynnönen
  corrected Patell and BMP tests, the Brown-Warner crude-dependence t, the placebo) are
  said to **agree** only when the main test and every one of them reject at the same
  ``alpha``. Otherwise the sentence names the tests that reject and those that do not.
  A test without a p-value is named as giving none; it never counts as a rejection.
* A control-group difference, the expected sign of the event kind (``case.toml``
  ``expected_sign``) and confounding catalog events inside the window get one sentence
  each, when given.
* The last sentence reminds the reader how few firms stand behind the numbers.

The catalog's conclusion (:func:`catalog_conclusion`)
-----------------------------------------------------
* One vote per cluster of overlapping events (``CatalogStudy.sign_consistency``). For
  each kind of news, the votes in which the treated firms (and the treated-minus-control
  difference) moved the expected way are stated as a count and judged against a fair
  coin by the exact two-sided sign test (:func:`sign_test_p`).
* With the catalog table, the events whose placebo p is below ``alpha`` are counted
  against the number chance alone gives. Votes are not independent: the text says so.

Conventions
-----------
* Percentages are signed, with two decimals (``-4.34%``). p-values have three decimals.
  A missing or non-finite number is written ``n/a``, never as a number.
* ``alpha`` is a parameter everywhere; :data:`DEFAULT_ALPHA` is its one default.
* ``excluded`` is the result's tidy frame ``firm, window, reason``
  (``EventStudyResult.excluded``). A row whose window is missing, ``"all"`` or
  ``"estimation"`` applies to every window. The older form, a dict ``firm -> reason``,
  is read the same way.
* Text built from data that goes into HTML or Markdown passes through
  :func:`md_escape`, so an id or a title read from a case folder never becomes markup.

Stdlib only at import; pandas is loaded inside the functions that need it.
"""

from __future__ import annotations

import html
import math
import re

from .errors import ReportError

ROBUST_TESTS = ("patell_z_kp", "bmp_kp", "t_crude_dependence", "placebo")
#: the engine's test names in words: the conclusion and the report tables name tests the same way
TEST_NAMES = {
    "t_cross_sectional": "t (cross-sectional)", "t_crude_dependence": "t (crude dependence)",
    "patell_z": "Patell Z", "patell_z_kp": "Patell Z (KP)", "bmp": "BMP", "bmp_kp": "BMP (KP)",
    "corrado_rank": "Corrado rank", "generalized_sign": "generalized sign", "wilcoxon": "Wilcoxon signed rank",
    "placebo": "placebo",
}
#: the one default significance level of the generated prose
DEFAULT_ALPHA = 0.05
#: ``excluded`` rows with one of these windows (or none) apply to every window
ALL_WINDOWS = ("", "all", "estimation", "*")

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


# --------------------------------------------------------------------------- formatting
def _finite(x) -> bool:
    if x is None or isinstance(x, bool):
        return False
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _pct(x) -> str:
    return f"{float(x) * 100:+.2f}%" if _finite(x) else "n/a"


def _p(x) -> str:
    return f"{float(x):.3f}" if _finite(x) else "n/a"


def _level(alpha: float) -> str:
    """``0.05`` -> ``"5%"``, ``0.025`` -> ``"2.5%"``."""
    pct = alpha * 100
    return f"{pct:.0f}%" if abs(pct - round(pct)) < 1e-9 else f"{pct:g}%"


def _name(test: str) -> str:
    return TEST_NAMES.get(str(test), str(test).replace("_", " "))


def _and(names) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _article(word: str) -> str:
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def _rejects(p, alpha: float) -> bool:
    return _finite(p) and float(p) < alpha


def _strength(p, alpha: float = DEFAULT_ALPHA) -> str:
    if not _finite(p):
        return "cannot be judged (no p-value)"
    p = float(p)
    if p < alpha / 5:
        return "is clearly distinguishable from ordinary moves"
    if p < alpha:
        return f"is distinguishable from ordinary moves at the {_level(alpha)} level"
    if p < 2 * alpha:
        return (f"is only weakly distinguishable from ordinary moves (below {_level(2 * alpha)} "
                f"but not {_level(alpha)})")
    return "is not distinguishable from ordinary moves of that length"


def md_escape(text) -> str:
    """``text`` made inert in Markdown and HTML: HTML-escaped, Markdown punctuation backslashed.

    Parameters
    ----------
    text : object
        Any value read from data (an id, a title, a ticker); ``str()`` is applied.

    Returns
    -------
    str
        Safe to put inside a Markdown or HTML template.

    Examples
    --------
    >>> md_escape("<img src=x onerror=alert(1)>")
    '&lt;img src=x onerror=alert\\\\(1\\\\)&gt;'
    >>> md_escape("us-potash-easing-2025")
    'us-potash-easing-2025'
    """
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=True))


# --------------------------------------------------------------------------- the sample
def excluded_records(excluded) -> list[dict]:
    """The firms a result excluded, as ``{"firm", "window", "reason"}`` records.

    Parameters
    ----------
    excluded : pandas.DataFrame, dict, list of dict or None
        ``EventStudyResult.excluded``: a tidy frame ``firm, window, reason``, or the
        older dict ``firm -> reason`` (every window).

    Returns
    -------
    list of dict
        ``window`` is ``None`` for an exclusion that applies to every window.

    Raises
    ------
    ReportError
        A frame without ``firm`` and ``reason`` columns.

    Examples
    --------
    >>> excluded_records({"LXU": "no data before 2024-11-01"})
    [{'firm': 'LXU', 'window': None, 'reason': 'no data before 2024-11-01'}]
    """
    if excluded is None:
        return []
    if isinstance(excluded, dict):
        return [{"firm": str(f), "window": None, "reason": str(r)} for f, r in excluded.items()]
    if hasattr(excluded, "columns"):
        missing = {"firm", "reason"} - set(excluded.columns)
        if missing:
            raise ReportError(
                f"excluded: expected a frame with columns firm, window, reason; missing {', '.join(sorted(missing))}"
            )
        rows = excluded.to_dict(orient="records")
    else:
        rows = list(excluded)
    out = []
    for r in rows:
        w = r.get("window")
        if w is None or (isinstance(w, float) and math.isnan(w)) or str(w).strip().lower() in ALL_WINDOWS:
            w = None
        reason = r.get("reason")
        reason = "no reason given" if reason is None or (isinstance(reason, float) and math.isnan(reason)) else reason
        out.append({"firm": str(r["firm"]), "window": None if w is None else str(w), "reason": str(reason)})
    return out


def excluded_in(excluded, window: str | None = None) -> dict[str, str]:
    """Firms excluded from ``window`` (or from every window), with their reason.

    Parameters
    ----------
    excluded : pandas.DataFrame, dict or None
        See :func:`excluded_records`.
    window : str, optional
        A window label such as ``"(0,1)"``; ``None`` collects every exclusion.

    Returns
    -------
    dict
        ``firm -> reason``, first reason per firm.

    Examples
    --------
    >>> rows = [{"firm": "IPI", "window": "(0,5)", "reason": "no data after 2026-08-13"}]
    >>> excluded_in(rows, "(0,1)"), excluded_in(rows, "(0,5)")
    ({}, {'IPI': 'no data after 2026-08-13'})
    """
    out: dict[str, str] = {}
    for r in excluded_records(excluded):
        if window is None or r["window"] is None or r["window"] == window:
            out.setdefault(r["firm"], r["reason"])
    return out


def describe_group(firms, excluded=None, window: str | None = None) -> str:
    """The firms of a group actually used, then each excluded one with its reason.

    Parameters
    ----------
    firms : list of str
        The group as requested.
    excluded : pandas.DataFrame, dict or None
        See :func:`excluded_records`.
    window : str, optional
        The window the sample is stated for.

    Returns
    -------
    str
        e.g. ``"CF (LXU excluded: no data before 2024-11-01)"``.

    Examples
    --------
    >>> describe_group(["CF", "LXU"], {"LXU": "no data before 2024-11-01"})
    'CF (LXU excluded: no data before 2024-11-01)'
    >>> describe_group(["CF", "LXU"])
    'CF, LXU'
    """
    gone = excluded_in(excluded, window)
    used = [f for f in firms if f not in gone]
    dropped = [f"{f} excluded: {gone[f]}" for f in firms if f in gone]
    text = ", ".join(used) if used else "no firm"
    return text + (f" ({'; '.join(dropped)})" if dropped else "")


# --------------------------------------------------------------------------- the conclusion
def robust_agreement(p_values: dict, main_test: str, alpha: float = DEFAULT_ALPHA, robust=ROBUST_TESTS) -> str:
    """The sentence on whether the other dependence-robust tests agree with the main test.

    Parameters
    ----------
    p_values : dict
        ``test name -> p-value`` for one window.
    main_test : str
        The headline test (left out of the comparison).
    alpha : float
        The significance level every test is judged at.
    robust : sequence of str
        The dependence-robust tests.

    Returns
    -------
    str
        "agree" only when the main test and every other robust test reject at ``alpha``;
        otherwise the tests that do not reject are named.

    Examples
    --------
    >>> robust_agreement({"patell_z": 0.01, "bmp_kp": 0.03, "placebo": 0.30}, "patell_z")
    'The other dependence-robust tests do not all agree: BMP (KP) rejects at the 5% level, placebo does not (BMP (KP) p = 0.030; placebo p = 0.300).'
    """
    others = [(k, p_values[k]) for k in robust if k in p_values and k != main_test]
    if not others:
        return (f"No other dependence-robust test is available for this window, so the {_name(main_test)} "
                f"test stands alone.")
    level = _level(alpha)
    rej = [_name(k) for k, v in others if _rejects(v, alpha)]
    keep = [_name(k) for k, v in others if _finite(v) and not _rejects(v, alpha)]
    none = [_name(k) for k, v in others if not _finite(v)]
    tail = " (" + "; ".join(f"{_name(k)} p = {_p(v)}" for k, v in others) + ")"
    if none:
        tail += f"; {_and(none)} {'gives' if len(none) == 1 else 'give'} no p-value"
    p_main = p_values.get(main_test)
    if not _finite(p_main):
        parts = ([f"{_and(rej)} {'rejects' if len(rej) == 1 else 'reject'} at the {level} level"] if rej else [])
        parts += [f"{_and(keep)} {'does' if len(keep) == 1 else 'do'} not"] if keep else []
        return "Of the other dependence-robust tests, " + (", ".join(parts) or "none gives a p-value") + tail + "."
    if len(rej) == len(others):
        if _rejects(p_main, alpha):
            return f"The other dependence-robust tests agree: each rejects at the {level} level{tail}."
        return (f"Every other dependence-robust test rejects at the {level} level{tail}, although the "
                f"{_name(main_test)} test does not.")
    if not rej:
        if _rejects(p_main, alpha):
            return (f"None of the other dependence-robust tests rejects at the {level} level{tail}, so the "
                    f"{_name(main_test)} test's rejection is not confirmed.")
        return f"No other dependence-robust test rejects at the {level} level either{tail}."
    rest = keep + none
    return (f"The other dependence-robust tests do not all agree: {_and(rej)} "
            f"{'rejects' if len(rej) == 1 else 'reject'} at the {level} level, {_and(rest)} "
            f"{'does' if len(rest) == 1 else 'do'} not{tail}.")


def conclusion(*, event: dict, session, tests, window: str, main_test: str, treated, control=None,
               comparison=None, confounders=None, expected_sign=None, model: str = "market",
               alpha: float = DEFAULT_ALPHA, excluded=None) -> str:
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
        The firms of each group as requested; the text names only those used.
    comparison : pandas.DataFrame, optional
        ``GroupComparison.to_frame()`` (``window, caar_control, diff, p_placebo``, and
        ``n_control`` when present).
    confounders : pandas.DataFrame, optional
        Catalog events inside the window (``event_id, day``).
    expected_sign : int, optional
        +1 or -1, the sign the event kind suggests for the treated firms.
    model : str
        The normal-return model's name.
    alpha : float
        The significance level of every judgement in the text (default :data:`DEFAULT_ALPHA`).
    excluded : pandas.DataFrame or dict, optional
        The firms the study excluded (``EventStudyResult.excluded``); see :func:`excluded_records`.

    Returns
    -------
    str
        One paragraph.

    Raises
    ------
    ReportError
        ``window`` is not in ``tests``; ``alpha`` is not in (0, 1); or the ``n`` of the
        test table (or ``n_control`` of the comparison) differs from the number of firms
        named after removing ``excluded``: a sample that cannot be stated is refused.

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

    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise ReportError(f"conclusion: alpha={alpha!r} must be a level strictly between 0 and 1")
    t = tests[tests["window"] == window]
    if t.empty:
        raise ReportError(f"conclusion: window {window} is not in the test table")
    treated, control = list(treated), list(control or [])
    gone = excluded_in(excluded, window)
    used_t = [f for f in treated if f not in gone]
    used_c = [f for f in control if f not in gone]
    caar = float(t["caar"].iloc[0]) if "caar" in t else float("nan")
    p_values = dict(zip(t["test"], t["p_value"]))
    row = t[t["test"] == main_test]
    n = int((row if len(row) else t)["n"].max())
    if n != len(used_t):
        raise ReportError(
            f"conclusion: the test table has n = {n} treated firms over {window} but {len(used_t)} are named "
            f"({', '.join(used_t) or 'none'}): pass the result's excluded frame as excluded="
        )
    p_main = p_values.get(main_test, float("nan"))
    when = pd.Timestamp(session).date()
    firms = "firm" if n == 1 else "firms"
    out = [
        f"On {event.get('title') or event.get('event_id')} ({event.get('timestamp')} UTC; first reacting "
        f"session {when}), the {n} treated {firms} ({', '.join(used_t)}) had a cumulative average abnormal "
        f"return of {_pct(caar)} over days {window} under the {str(model).replace('_', '-')} model.",
        f"By the {_name(main_test)} test (p = {_p(p_main)}) this move {_strength(p_main, alpha)}.",
        robust_agreement(p_values, main_test, alpha),
    ]
    if comparison is not None and len(comparison):
        c = comparison[comparison["window"] == window]
        if len(c):
            r = c.iloc[0]
            if "n_control" in c.columns and _finite(r["n_control"]) and int(r["n_control"]) != len(used_c):
                raise ReportError(
                    f"conclusion: the comparison has n_control = {int(r['n_control'])} over {window} but "
                    f"{len(used_c)} control firms are named ({', '.join(used_c) or 'none'}): pass excluded="
                )
            out.append(
                f"Against the control firms ({', '.join(used_c)}), whose CAAR was {_pct(r['caar_control'])}, "
                f"the difference is {_pct(r['diff'])} (placebo p = {_p(r['p_placebo'])})."
            )
    if any(f in gone for f in treated + control):
        parts = [f"treated: {describe_group(treated, excluded, window)}"]
        if control:
            parts.append(f"control: {describe_group(control, excluded, window)}")
        out.append(f"Firms used over days {window}: " + "; ".join(parts) + ".")
    if expected_sign and _finite(caar) and caar != 0:
        same = (caar > 0) == (expected_sign > 0)
        if not _finite(p_main):
            caveat = ", but without a p-value the move cannot be judged"
        elif not _rejects(p_main, alpha):
            caveat = ", but the move is within ordinary variation"
        else:
            caveat = ""
        out.append(
            f"The sign {'matches' if same else 'is opposite to'} what {_article(str(event.get('kind')))} event "
            f"suggests for the treated firms ({'up' if expected_sign > 0 else 'down'}){caveat}."
        )
    if confounders is not None and len(confounders):
        names = ", ".join(f"{r['event_id']} (day {r['day']})" for _, r in confounders.iterrows())
        out.append(
            f"Other catalog events fall inside the window ({names}); these numbers cannot separate the "
            f"event from them."
        )
    out.append(
        f"With {n} {firms}, cross-sectional tests have few degrees of freedom; the placebo p "
        f"is the most assumption-free of these numbers."
    )
    return " ".join(out)


# --------------------------------------------------------------------------- the catalog's conclusion
def sign_test_p(k: int, n: int) -> float:
    """Two-sided exact sign test: how often ``n`` fair coin flips split at least as unevenly as ``k`` of ``n``.

    Parameters
    ----------
    k, n : int
        Successes and trials, ``0 <= k <= n``, ``n >= 1``.

    Returns
    -------
    float
        ``min(1, 2 * P(X <= min(k, n - k)))`` for ``X ~ Binomial(n, 1/2)`` (the
        distribution is symmetric, so this is the usual two-sided binomial p).

    Raises
    ------
    ReportError
        ``k`` or ``n`` out of range.

    Examples
    --------
    >>> sign_test_p(4, 4), sign_test_p(6, 8), sign_test_p(2, 4)
    (0.125, 0.2890625, 1.0)
    """
    if isinstance(k, bool) or isinstance(n, bool) or int(k) != k or int(n) != n or not 0 <= k <= n or n < 1:
        raise ReportError(f"sign test: need 0 <= k <= n and n >= 1 whole numbers, got k={k!r}, n={n!r}")
    k, n = int(k), int(n)
    tail = sum(math.comb(n, i) for i in range(min(k, n - k) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def _coin(k: int, n: int, alpha: float) -> str:
    """How a k-of-n split reads against a fair coin, with its sign-test p."""
    p = sign_test_p(k, n)
    tail = f"(sign test p = {_p(p)})"
    if n == 1:
        return f"a single vote, which cannot be told from a coin flip {tail}"
    if 2 * k == n:
        return f"an even split, exactly what a coin flip gives {tail}"
    if p < alpha:
        return f"{'more' if 2 * k > n else 'less'} often than a coin flip would give at the {_level(alpha)} level {tail}"
    if k in (0, n):
        return (f"{'every time' if k else 'never'}, but with {n} votes even that is not distinguishable from a "
                f"coin flip {tail}")
    return f"not distinguishable from a coin flip {tail}"


def catalog_conclusion(consistency, *, window: str, n_events: int, n_covered: int, table=None,
                       alpha: float = DEFAULT_ALPHA) -> str:
    """The event catalog's conclusion: how often each kind of news moved the treated firms the expected way.

    Parameters
    ----------
    consistency : pandas.DataFrame
        ``CatalogStudy.sign_consistency(window)``: per kind ``expected_sign, n_votes,
        share_expected_treated, share_expected_diff`` (one vote per cluster of overlapping
        events).
    window : str
        The main window label.
    n_events, n_covered : int
        Catalog events, and those the data covers.
    table : pandas.DataFrame, optional
        ``CatalogStudy.to_frame(window)``: with it, the sentence also counts the covered
        events whose treated-minus-control placebo p is below ``alpha``.
    alpha : float
        The significance level of every judgement.

    Returns
    -------
    str
        One paragraph. Each share is stated as a count (``6 of 8``) and judged against a
        fair coin by the exact sign test (:func:`sign_test_p`); nothing more is claimed.

    Raises
    ------
    ReportError
        ``alpha`` not in (0, 1), or a share that is not a whole number of votes.

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"kind": ["easing"], "expected_sign": [-1], "n_votes": [4],
    ...                   "share_expected_treated": [1.0], "share_expected_diff": [0.5]})
    >>> text = catalog_conclusion(c, window="(0,1)", n_events=5, n_covered=5)
    >>> "moved the expected way (down) in 4 of 4 votes" in text
    True
    """
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise ReportError(f"catalog conclusion: alpha={alpha!r} must be a level strictly between 0 and 1")
    if not n_covered:
        return (f"None of the {n_events} catalog events is covered by the data, so the catalog says nothing "
                f"about the treated firms.")
    covered = (f"All {n_events} catalog events are" if n_covered == n_events
               else f"Of the {n_events} catalog events, {n_covered} {'is' if n_covered == 1 else 'are'}")
    out = [f"{covered} covered by the data; over days {window} each cluster of overlapping events votes once."]
    for r in consistency.to_dict(orient="records"):
        kind, n = r["kind"], int(r["n_votes"]) if _finite(r.get("n_votes")) else 0
        if not n:
            out.append(f"No {kind} event is covered, so there is no {kind} vote.")
            continue
        counts = []
        for col in ("share_expected_treated", "share_expected_diff"):
            k = float(r[col]) * n
            if not _finite(r[col]) or abs(k - round(k)) > 1e-6:
                raise ReportError(f"catalog conclusion: {col}={r[col]!r} is not a whole number of {n} votes")
            counts.append(int(round(k)))
        (kt, kd), way = counts, "up" if int(r["expected_sign"]) > 0 else "down"
        out.append(
            f"For {kind} news, the treated firms moved the expected way ({way}) in {kt} of {n} vote"
            f"{'s' if n != 1 else ''}: {_coin(kt, n, alpha)}; against the control firms, the difference moved "
            f"the expected way in {kd} of {n}: {_coin(kd, n, alpha)}."
        )
    if table is not None and "p_placebo" in table.columns:
        ok = table[table["status"] == "ok"]
        m = int((ok["p_placebo"].astype(float) < alpha).sum())
        out.append(
            f"Event by event, {m} of {len(ok)} covered events {'has' if m == 1 else 'have'} a treated-minus-control "
            f"placebo p below "
            f"{_level(alpha)} (about {alpha * len(ok):.1f} would by chance alone)."
        )
    out.append("Events of one kind share news and firms, so the votes are not independent draws: read these "
               "counts as a description of the catalog, not as a test of each event.")
    return " ".join(out)


#: names that moved to other modules and are still answered here: name -> module
_MOVED = {"text_html": "present", "notes_html": "present", "case_header": "headers", "catalog_header": "headers",
          "sensitivity_notes": "headers"}


def __getattr__(name: str):
    """Names that moved (:data:`_MOVED`) stay importable from here."""
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(f".{_MOVED[name]}", __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ROBUST_TESTS",
    "TEST_NAMES",
    "DEFAULT_ALPHA",
    "conclusion",
    "catalog_conclusion",
    "sign_test_p",
    "robust_agreement",
    "excluded_records",
    "excluded_in",
    "describe_group",
    "catalog_header",
    "case_header",
    "sensitivity_notes",
    "md_escape",
]
