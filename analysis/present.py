"""The presentation layer: every table a notebook shows, built and formatted here, escaped for HTML.

The notebooks only call and display; every table they show is built or formatted here,
so the notebook, ``results.json`` and the CSV tables cannot disagree. Values are rounded
for display only: ``results.json`` and the CSV tables keep full precision.

Display conventions (:func:`display_table`)
-------------------------------------------
* **Headers in words**: :data:`HEADERS`, else :func:`header` (``p_crude_dependence`` ->
  ``p (crude dependence)``, ``caar_treated`` -> ``CAAR treated``). No header keeps an
  underscore; a code identifier shown as a value is set in ``<code>`` (kind ``"code"``).
* **Numbers by kind** (:func:`column_kind` infers it from the column's name and dtype;
  ``kinds=`` overrides): returns, CAARs, differences and their intervals (fractions) in
  percent with two decimals (``-4.34%``); values already in percent (``*_pct``) with two
  decimals and ``%``; statistics (t, z, betas, R², prices) with two decimals; p-values with
  three decimals and ``< 0.001`` below; shares as whole percents; counts as integers;
  dates as ``YYYY-MM-DD``; booleans as yes/no. A number that rounds to zero prints without
  a sign: ``0.00``, never ``-0.00``.
* **Missing values** print ``–`` (:data:`MISSING`) and the table's footnote says why: the
  firms the result excluded (``EventStudyResult.excluded``: firm, window, reason) and the
  reasons the caller passes (``missing=``).
* **Columns that do not apply to the model are dropped** (:data:`NOT_APPLICABLE`): ``r2``
  (and the imposed ``alpha = 0``, ``beta = 1``) for ``market_adjusted``, ``beta`` and
  ``r2`` for ``constant_mean``; a footnote says so.
* **No meaningless index**: a default 0, 1, 2... index is hidden; a named index (window,
  firm, day) becomes the first column.
* **Text wraps, never cut**; every cell and header is HTML-escaped (``escape="html"``
  semantics), so an id or title read from a case folder never becomes markup.

Other builders: :func:`highlight_tests` (the test battery as a window x test grid),
:func:`coverage_table`, :func:`event_table`, :func:`roles_table`,
:func:`parameters_table`, :func:`safe_style` (a plain escaped Styler), :func:`text_html`
and :func:`notes_html` (generated text and the "Sample notes" box). The "Key findings"
box at the top of every page is :mod:`analysis.findings`.

Stdlib only at import; pandas loads inside the functions.
"""

from __future__ import annotations

import html
import math
import re

from .errors import ReportError
from .narrative import DEFAULT_ALPHA, ROBUST_TESTS, TEST_NAMES, excluded_records  # TEST_NAMES: the tests in words

#: what a missing value prints as
MISSING = "–"

#: column name -> header in words (anything else: :func:`header`)
HEADERS = {
    "caar": "CAAR", "car": "CAR", "ar": "AR", "caar_treated": "CAAR treated", "caar_control": "CAAR control",
    "diff": "treated − control", "mean_diff": "mean treated − control", "mean_caar_treated": "mean CAAR treated",
    "t_crude_dependence": "t (crude dependence)", "p_crude_dependence": "p (crude dependence)",
    "p_placebo": "p (placebo)", "p_value": "p-value", "n": "firms", "n_treated": "treated firms",
    "n_control": "control firms", "event_id": "event", "event_date": "event date", "m": "estimation returns",
    "sigma": "residual sd", "r2": "R²", "se_treated": "SE treated", "se_diff": "SE treated − control",
    "ci_low": "95% CI low", "ci_high": "95% CI high", "ci_treated_low": "95% CI treated low",
    "ci_treated_high": "95% CI treated high", "cluster_lead": "cluster lead", "cluster_size": "events in cluster",
    "confounders_nearby": "confounders nearby", "estimation_window": "estimation window",
    "other_events": "other events", "cum_change_pct": "cumulative change", "change_pct": "monthly change",
    "first_month": "first month", "hac_lags": "HAC lags", "nobs": "months", "z": "z-score",
    "mean_sar2": "mean SAR²", "n_placebo": "placebo draws", "expected_sign": "expected sign",
    "n_catalog": "catalog events", "n_covered": "covered events", "n_votes": "votes",
    "share_expected_treated": "share expected, treated", "share_expected_diff": "share expected, treated − control",
    "first_session": "first session", "last_session": "last session", "volume_caar": "abnormal log volume",
    "volume_p_rank": "p (volume rank)", "volume_p_placebo": "p (volume placebo)", "volume_n": "firms (volume)",
    "volatility_p_day0": "p (volatility, day 0)", "volatility_p_placebo_day0": "p (volatility placebo, day 0)",
    "volume_note": "volume note", "in_space": "in-space note", "n_donors": "donors", "p_in_space": "p (in space)",
    "p_in_space_car": "p (in space, CAR)", "p_in_space_diff": "p (in space, treated − control)",
    "beta_market": "beta (market)", "se_market": "SE (market)", "pct_car": "percentile of CAR",
    "pct_scar": "percentile of SCAR", "mean_scar": "mean SCAR", "mean_scar_treated": "mean SCAR treated",
    "k_control": "control firms drawn", "n_portfolios": "portfolios", "p_car": "p (CAR)", "p_scar": "p (SCAR)",
    "scar": "SCAR", "mean_volume_caar": "mean abnormal log volume", "median_volume_caar": "median abnormal log volume",
    "share_positive": "share above zero", "share_placebo_reject": "share rejected by the placebo",
    "share_volatility_reject": "share with unusual day-0 volatility",
}


#: model -> parameter columns that do not apply to it (dropped from display)
NOT_APPLICABLE = {"market_adjusted": ("alpha", "beta", "r2"), "constant_mean": ("beta", "r2")}
#: model -> the footnote saying why those columns are absent
MODEL_NOTES = {
    "market_adjusted": "Market-adjusted model: the abnormal return is the return minus the benchmark's "
                       "(alpha = 0 and beta = 1 imposed, nothing fitted), so there is no alpha, beta or R².",
    "constant_mean": "Constant-mean model: the normal return is the estimation-window mean (alpha), "
                     "so there is no beta or R².",
}

_TOKENS = {"caar": "CAAR", "car": "CAR", "scar": "SCAR", "ar": "AR", "sar2": "SAR²", "se": "SE", "ci": "CI",
           "kp": "(KP)", "bmp": "BMP", "hac": "HAC", "r2": "R²", "pct": "(%)", "cum": "cumulative", "sd": "sd",
           "diff": "difference", "obs": "observations", "n": "n"}
_PREFIXED = ("p", "t", "z", "se", "beta")  # p_x -> "p (x)"
_INT_NAMES = {"m", "n", "nobs", "df", "day", "offset", "size", "cluster", "hac_lags", "returns", "votes"}
_PCT_TOKENS = {"caar", "car", "ar", "diff", "alpha", "sigma", "shift", "return"}
_STAT_TOKENS = {"volume", "scar", "sar2", "log"}
_LONG_TEXT = 40  # characters: a text column this wide gets a wrapping width


def header(name) -> str:
    """A column name in words: :data:`HEADERS`, else underscores become spaces with known abbreviations.

    Parameters
    ----------
    name : object
        The column name.

    Returns
    -------
    str
        Never contains an underscore.

    Examples
    --------
    >>> header("p_crude_dependence"), header("caar_treated"), header("beta_potash"), header("cum_change_pct")
    ('p (crude dependence)', 'CAAR treated', 'beta (potash)', 'cumulative change')
    """
    key = str(name)
    if key in HEADERS or key in TEST_NAMES:
        return HEADERS.get(key) or TEST_NAMES[key]
    toks = [t for t in key.split("_") if t]
    if not toks:
        return key.replace("_", " ").strip() or " "
    words = [_TOKENS.get(t.lower(), t) for t in toks]
    if len(toks) > 1 and toks[0].lower() in _PREFIXED:
        return f"{words[0]} ({' '.join(words[1:])})"
    return " ".join(words)


def column_kind(name, values=None) -> str:
    """How a column is displayed: ``pct``, ``pct_points``, ``stat``, ``p``, ``share``, ``int``, ``date``, ``bool``, ``text``.

    Parameters
    ----------
    name : object
        The column name; the rule reads its ``_``-separated tokens.
    values : pandas.Series, optional
        The column; its dtype decides dates, booleans, integers and text first.

    Returns
    -------
    str

    Notes
    -----
    Order: booleans, dates, text (by dtype); then p-values (a ``p`` token: ``p_value``,
    ``p_placebo``, ``volume_p_rank``); values already in percent (a ``pct`` token); counts
    (``n``, ``n_*``, ``m``, ``nobs``, ``day``...); shares; standardized or log quantities
    (``scar``, ``volume``: statistics); returns and their intervals (``caar``, ``car``,
    ``ar``, ``diff``, ``alpha``, ``sigma``, ``ci_*``, ``se_treated``, ``se_diff``: percent);
    other integers; other numbers (statistics).

    Examples
    --------
    >>> [column_kind(c) for c in ("p_placebo", "caar_treated", "t_crude_dependence", "cum_change_pct", "n_treated")]
    ['p', 'pct', 'stat', 'pct_points', 'int']
    """
    import pandas as pd

    if values is not None:
        dt = values.dtype
        if pd.api.types.is_bool_dtype(dt):
            return "bool"
        if pd.api.types.is_datetime64_any_dtype(dt):
            return "date"
        if not pd.api.types.is_numeric_dtype(dt):
            vals = values.dropna()
            import datetime as _dt

            if len(vals) and all(isinstance(v, (_dt.date, pd.Timestamp)) for v in vals):
                return "date"
            if len(vals) and all(isinstance(v, (bool,)) for v in vals):
                return "bool"
            return "text"
    n = str(name).lower()
    toks = n.split("_")
    if n in ("p", "p_value", "pvalue") or "p" in toks:
        return "p"
    if toks[0] == "pct" or n == "percentile":  # pct_car: a percentile in the cross-section, 0-100
        return "stat"
    if "pct" in toks:
        return "pct_points"
    if n in _INT_NAMES or toks[0] == "n" or toks[-1] == "n":
        return "int"
    if "share" in toks:
        return "share"
    if set(toks) & _STAT_TOKENS:
        return "stat"
    if set(toks) & _PCT_TOKENS or toks[0] == "ci" or n in ("se_treated", "se_diff", "se_control"):
        if toks[0] not in ("t", "z", "beta"):
            return "pct"
    if values is not None and pd.api.types.is_integer_dtype(values.dtype):
        return "int"
    return "stat"


def _is_missing(value) -> bool:
    if value is None:
        return True
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _no_negative_zero(text: str) -> str:
    return text[1:] if re.fullmatch(r"-0(\.0*)?%?", text) else text


def format_value(value, kind: str = "stat") -> str:
    """One value as displayed (see the module's conventions); a missing value is :data:`MISSING`.

    Parameters
    ----------
    value : object
        The value.
    kind : str
        From :func:`column_kind`, or ``"code"`` (shown as is, set in ``<code>`` by
        :func:`display_table`).

    Returns
    -------
    str
        Plain text (not escaped).

    Examples
    --------
    >>> [format_value(v, k) for v, k in ((-0.0434, "pct"), (-0.00002, "pct"), (0.00004, "p"), (0.0625, "p"),
    ...                                   (-0.004, "stat"), (float("nan"), "stat"), (2.5, "pct_points"))]
    ['-4.34%', '0.00%', '< 0.001', '0.062', '0.00', '–', '2.50%']
    """
    if _is_missing(value):
        return MISSING
    if kind in ("text", "code"):
        return str(value)
    if kind == "bool":
        return "yes" if bool(value) else "no"
    if kind == "date":
        import pandas as pd

        ts = pd.Timestamp(value)
        return str(ts.date()) if ts == ts.normalize() else ts.strftime("%Y-%m-%d %H:%M")
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(v):
        return MISSING
    if kind == "int":
        return f"{v:.0f}" if v == round(v) else f"{v:.2f}"
    if kind == "p":
        return "< 0.001" if v < 0.001 else f"{v:.3f}"
    text = {"pct": f"{v * 100:.2f}%", "pct_points": f"{v:.2f}%", "share": f"{v * 100:.0f}%"}.get(kind, f"{v:.2f}")
    return _no_negative_zero(text)


def _prepare(df, index, model, firms=None):
    """The frame to show: a meaningful index as a column, every requested firm, inapplicable columns dropped."""
    import pandas as pd

    frame = df.copy()
    named = any(n is not None for n in frame.index.names)
    if index is True or (index is None and named):  # an unnamed index (0, 1, 2... or a filter's) means nothing
        frame = frame.reset_index()
    frame.columns = list(frame.columns)  # a columns name ("firm") is never a header of its own
    if firms:
        key = next((c for c in ("firm", "ticker") if c in frame.columns), None)
        if key is not None:  # one row per firm: a firm without a row gets one, all missing
            have = set(frame[key].astype(str))
            extra = pd.DataFrame({key: [f for f in firms if f not in have]})
            frame = pd.concat([frame, extra], ignore_index=True) if len(extra) else frame
        elif any(str(c) in set(firms) for c in frame.columns):  # one column per firm
            for f in firms:
                if f not in frame.columns:
                    frame[f] = float("nan")
    drop = [c for c in NOT_APPLICABLE.get(str(model), ()) if c in frame.columns]
    return frame.drop(columns=drop), drop


def _exclusion_notes(excluded, firms) -> list[str]:
    """``"<firm> excluded from <windows>: <reason>"`` for each excluded firm shown in the table."""
    windows = getattr(excluded, "windows", None)
    records = excluded_records(getattr(excluded, "excluded", excluded))
    grouped: dict[tuple, list] = {}
    for r in records:
        if r["firm"] in firms:
            grouped.setdefault((r["firm"], r["reason"]), []).append(r["window"])
    notes = []
    for (firm, reason), wins in grouped.items():
        every = None in wins or (windows is not None and len(set(wins)) >= len(list(windows)))
        notes.append(f"{firm} excluded from {'every window' if every else ', '.join(dict.fromkeys(wins))}: {reason}")
    return notes


def table_notes(frame, *, excluded=None, missing=None, dropped=(), model=None) -> list[str]:
    """The footnotes of a displayed table: why values are missing and why columns are absent.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table as shown (after :func:`display_table`'s preparation).
    excluded : EventStudyResult, pandas.DataFrame or dict, optional
        A result (its ``excluded`` frame and ``windows``) or the excluded frame itself
        (``firm, window, reason``); every excluded firm the table shows (as a column, or in
        a ``firm``/``ticker`` column) gets one note.
    missing : str or dict, optional
        The reason for missing values: one text, or ``column -> text``.
    dropped : sequence of str
        Columns dropped for ``model``.
    model : str, optional
        The normal-return model (:data:`MODEL_NOTES`).

    Returns
    -------
    list of str
        Plain-text notes; the first missing-value note starts with ``"–: "``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"window": ["(0,5)"], "NTR": [0.01], "IPI": [float("nan")]})
    >>> table_notes(t, excluded={"IPI": "no data after 2026-08-13"})
    ['–: IPI excluded from every window: no data after 2026-08-13']
    """
    firms = {str(c) for c in frame.columns}
    for col in ("firm", "ticker"):
        if col in frame.columns:
            firms |= {str(v) for v in frame[col].dropna()}
    ex = _exclusion_notes(excluded, firms) if excluded is not None else []
    na_cols = [c for c in frame.columns if any(_is_missing(v) for v in frame[c])]
    notes = []
    if dropped and model in MODEL_NOTES:
        notes.append(MODEL_NOTES[model])
    given = []
    if na_cols and missing is not None:
        if isinstance(missing, dict):
            given = list(dict.fromkeys(missing[c] for c in na_cols if c in missing))
            unexplained = [c for c in na_cols if c not in missing]
        else:
            given, unexplained = [str(missing)], []
    else:
        unexplained = na_cols
    lines = ex + given
    if unexplained and not ex:
        lines.append("no value for " + ", ".join(header(c) for c in unexplained))
    if na_cols and lines:
        lines[0] = f"{MISSING}: {lines[0]}"
    return notes + lines


def display_table(df, *, kinds=None, kind=None, headers=None, percent: bool = True, excluded=None, firms=None,
                  missing=None, model=None, index=None, caption=None, gradient=None):
    """A result frame as the reader sees it: headers in words, rounded values, ``–`` with footnotes, escaped.

    Parameters
    ----------
    df : pandas.DataFrame
        The table, full precision (as written to CSV and ``results.json``).
    kinds : dict, optional
        ``column -> kind`` overriding :func:`column_kind` (``"pct"``, ``"stat"``, ``"p"``,
        ``"int"``, ``"date"``, ``"text"``, ``"code"``...).
    kind : str, optional
        The kind of every numeric column of ``df`` (not of its index) that ``kinds`` does
        not name (e.g. ``"pct"`` for a window x firm grid of CARs, whose columns are tickers).
    headers : dict, optional
        ``column -> header`` overriding :func:`header`.
    percent : bool
        Show fractions (returns, CAARs) in percent; False for a measure that is not a
        return (log volume), whose values are then statistics.
    excluded : EventStudyResult, pandas.DataFrame or dict, optional
        The firms the result excluded, for the footnote (:func:`table_notes`).
    firms : list of str, optional
        The firms requested: one the table lacks gets its row (a ``firm``/``ticker``
        column) or its column (a firm grid), all ``–``, and the footnote says why.
    missing : str or dict, optional
        The reason for missing values (one text, or per column).
    model : str, optional
        The normal-return model: columns that do not apply are dropped (:data:`NOT_APPLICABLE`).
    index : bool, optional
        Show the index as a first column; default: only a named index (``window``,
        ``firm``, ``day``); an unnamed one (0, 1, 2..., or what a filter left) is hidden.
    caption : str, optional
        A sentence printed under the table, before the footnotes.
    gradient : (str, float, float), optional
        ``(cmap, vmin, vmax)``: shade the numeric columns (a heat map), on the unrounded values.

    Returns
    -------
    pandas.io.formats.style.Styler
        Every cell and header HTML-escaped; text columns left-aligned and wrapping.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"caar_treated": [-0.04336], "p_placebo": [0.0004], "title": ["<b>x</b>"]})
    >>> page = display_table(t).to_html()
    >>> "CAAR treated" in page and "-4.34%" in page and "&lt; 0.001" in page and "&lt;b&gt;" in page
    True
    """
    frame, dropped = _prepare(df, index, model, firms)
    if len(set(map(str, frame.columns))) != frame.shape[1]:
        raise ReportError(f"display_table: duplicate column names {list(frame.columns)}")
    every = kind
    kind = {c: column_kind(c, frame[c]) for c in frame.columns}
    if every is not None:
        own = set(map(str, df.columns))
        kind.update({c: every for c, k in kind.items() if str(c) in own and k not in ("text", "code", "date", "bool")})
    kind.update({c: k for c, k in (kinds or {}).items() if c in kind})
    if not percent:
        kind = {c: ("stat" if k == "pct" else k) for c, k in kind.items()}
    heads = {c: (headers or {}).get(c) or header(c) for c in frame.columns}

    def fmt(k):
        if k == "code":
            return lambda v: MISSING if _is_missing(v) else f"<code>{html.escape(str(v))}</code>"
        return lambda v: html.escape(format_value(v, k))

    styler = (
        frame.style.format({c: fmt(kind[c]) for c in frame.columns})
        .format_index(lambda c: html.escape(heads.get(c, header(c))), axis=1)
        .hide(axis="index")
        .set_table_attributes('class="display-table"')
    )
    text = [c for c in frame.columns if kind[c] in ("text", "code", "date", "bool")]
    numbers = [c for c in frame.columns if c not in text]
    if numbers:
        styler = styler.set_properties(subset=numbers, **{"text-align": "right", "white-space": "nowrap"})
    if text:
        styler = styler.set_properties(subset=text, **{"text-align": "left", "white-space": "normal"})
        wide = [c for c in text if max((len(str(v)) for v in frame[c]), default=0) > _LONG_TEXT]
        if wide:
            styler = styler.set_properties(subset=wide, **{"min-width": "16em", "max-width": "36em",
                                                           "overflow-wrap": "anywhere"})
    if gradient is not None and numbers:
        cmap, vmin, vmax = gradient
        styler = styler.background_gradient(cmap=cmap, vmin=vmin, vmax=vmax, subset=numbers)
    notes = ([caption] if caption else []) + table_notes(frame, excluded=excluded, missing=missing,
                                                         dropped=dropped, model=model)
    if notes:
        styler = styler.set_caption("<br>".join(html.escape(n) for n in notes)).set_table_styles(
            [{"selector": "caption", "props": "caption-side: bottom; text-align: left; font-size: 0.85em; "
                                              "color: #444; padding-top: 0.3em; max-width: 60em"}],
            overwrite=False)
    return styler


def highlight_tests(tests, robust=ROBUST_TESTS, alpha: float = DEFAULT_ALPHA, *, missing: str | None = None,
                    percent: bool = True):
    """The tidy test table as a window x test grid of ``statistic (p)``, robust tests highlighted.

    Parameters
    ----------
    tests : pandas.DataFrame
        The tidy battery (``window, test, statistic, p_value``), e.g. ``EventStudyResult.tests``.
    robust : sequence of str
        Test names to shade (default: the dependence-robust tests and the placebo).
    alpha : float
        p-values below it are bold.
    missing : str, optional
        Why a test gives no value (footnote of a ``–`` cell); default: too few firms or
        observations for that test.
    percent : bool
        The placebo's statistic is the CAAR itself: in percent (False for a measure that
        is not a return).

    Returns
    -------
    pandas.io.formats.style.Styler
        Headers are the tests' names in words (:data:`TEST_NAMES`); statistics with two
        decimals, p-values with three (``< 0.001`` below); cells and labels HTML-escaped.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"window": ["(0,1)"], "test": ["patell_z"], "statistic": [-2.5], "p_value": [0.0124]})
    >>> "-2.50 (0.012)" in highlight_tests(t).to_html()
    True
    """
    import pandas as pd

    order = list(dict.fromkeys(tests["test"]))
    wins = list(dict.fromkeys(tests["window"]))
    stat = tests.pivot(index="window", columns="test", values="statistic").loc[wins, order]
    p = tests.pivot(index="window", columns="test", values="p_value").loc[wins, order]

    def cell(s, pv, test):
        if _is_missing(s) and _is_missing(pv):
            return MISSING
        return f"{format_value(s, 'pct' if test == 'placebo' and percent else 'stat')} ({format_value(pv, 'p')})"

    grid = pd.DataFrame({t: [cell(s, pv, t) for s, pv in zip(stat[t], p[t])] for t in order}, index=range(len(wins)))
    grid.insert(0, "window", wins)
    shaded = [t for t in order if t in robust]

    def shade(col):
        if col.name == "window":
            return [""] * len(col)
        bg = "background-color: #fff3c4;" if col.name in shaded else ""
        return [bg + ("font-weight: bold;" if pd.notna(pv) and pv < alpha else "") for pv in p[col.name]]

    notes = [f"statistic (p-value); shaded: dependence-robust tests and the placebo; bold: p < {alpha}"]
    if "placebo" in order:
        notes.append("placebo: the CAAR itself" + (" (%)" if percent else "") + " and the share of pseudo-event "
                     "windows in the estimation period at least as extreme")
    if (grid == MISSING).any().any():
        notes.append(f"{MISSING}: " + (missing or "the test gives no value for this window (too few firms or "
                                                  "observations for it)"))
    return (
        grid.style.apply(shade, axis=0)
        .format(lambda v: html.escape(str(v)))
        .format_index(lambda c: html.escape(TEST_NAMES.get(c, header(c))), axis=1)
        .hide(axis="index")
        .set_table_attributes('class="display-table"')
        .set_properties(**{"text-align": "right", "white-space": "nowrap"})
        .set_caption("<br>".join(html.escape(n) for n in notes))
        .set_table_styles([{"selector": "caption", "props": "caption-side: bottom; text-align: left; "
                                                          "font-size: 0.85em; color: #444; padding-top: 0.3em"}],
                          overwrite=False)
    )


def text_html(text, tag: str = "p") -> str:
    """Plain text (a generated sentence, a verdict) as one escaped HTML element.

    Parameters
    ----------
    text : object
        The text; ``str()`` is applied and the result HTML-escaped.
    tag : str
        The element, ``"p"`` by default.

    Returns
    -------
    str

    Examples
    --------
    >>> text_html("CAAR < 0 & p = 0.06")
    '<p>CAAR &lt; 0 &amp; p = 0.06</p>'
    """
    if not re.fullmatch(r"[a-z][a-z0-9]*", tag):
        raise ReportError(f"text_html: tag {tag!r} is not a plain element name")
    return f"<{tag}>{html.escape(str(text), quote=True)}</{tag}>"


def notes_html(notes, *, title: str = "Sample notes", empty: str | None = None) -> str:
    """The visible "Sample notes" box: every note as escaped text in a bordered list.

    Parameters
    ----------
    notes : list of str or dict
        Note texts, or records with a ``text`` key (as :func:`analysis.recorder.capture_notes` stores).
    title : str
        The box heading.
    empty : str, optional
        Text shown when there is no note; default "None: every requested firm was used.".

    Returns
    -------
    str
        An HTML fragment (a ``div``), with every note HTML-escaped.

    Examples
    --------
    >>> "&lt;b&gt;" in notes_html(["<b>"])
    True
    """
    texts = [n.get("text", "") if isinstance(n, dict) else str(n) for n in notes or []]
    texts = [t for t in dict.fromkeys(texts) if t]
    if texts:
        body = "<ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in texts) + "</ul>"
    else:
        body = f"<p>{html.escape(empty or 'None: every requested firm was used in every window.')}</p>"
    return (
        '<div class="sample-notes" style="border:1px solid #c9a227;background:#fffbea;'
        'padding:0.4em 1em;margin:0.6em 0;border-radius:4px">'
        f"<strong>{html.escape(title)}</strong>{body}</div>"
    )


from .present_tables import coverage_table, event_table, parameters_table, roles_table, safe_style  # noqa: E402

__all__ = [
    "MISSING", "HEADERS", "TEST_NAMES", "NOT_APPLICABLE", "MODEL_NOTES",
    "header", "column_kind", "format_value", "table_notes", "display_table",
    "text_html", "notes_html", "parameters_table", "safe_style", "highlight_tests", "coverage_table", "event_table",
    "roles_table",
]
