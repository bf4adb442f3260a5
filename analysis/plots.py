"""Plots: each function takes frames/results, draws one thing, returns the matplotlib Figure.

Pure drawing (alphalens' ``plotting.py`` is the model): the numbers come from the
results objects and tables of the computing modules; nothing is estimated here. The
CAAR figure's grey band is the null band of :meth:`analysis.eventstudy.EventStudyResult.caar_band`
(centred on zero, so a path outside it is unusual at 5%).

Figures that explain themselves
-------------------------------
* a title in plain words (long titles wrap, :func:`wrap_title`), axis labels with units;
* a source line under the plot (``source=``; :func:`add_source`), e.g. "Source: World
  Bank Pink Sheet, May 2026 release; later months from the June 2026 release", built
  from the data's vintage (:func:`analysis.findings.commodity_source`);
* event markers carry a number; :func:`event_legend` is the table under the figure that
  says which number is which event; documented breaks of a series (the case's
  ``commodity_notes.csv``, :func:`analysis.commodity_data.load_commodity_notes`) are marked
  and annotated;
* one palette: the same group has the same colour in every figure
  (:data:`GROUP_COLORS`: treated, control, benchmark, donors, difference; event kinds
  :data:`KIND_COLORS`; further groups and the one highlight :data:`EXTRA_COLORS`);
* one size: :data:`FIGSIZE` (8 x 4.5 inches; a figure with one row per item grows in
  height only), saved at 150 dpi by :meth:`analysis.recorder.Recorder.figure`.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt

from .distributions import t_quantile

#: the one size of a single-panel figure, inches (1200 x 675 px at 150 dpi)
FIGSIZE = (8.0, 4.5)
#: one colour per role, in every figure (Okabe-Ito, readable by colour-blind readers)
GROUP_COLORS = {
    "treated": "#0072b2",     # blue
    "control": "#e69f00",     # orange
    "benchmark": "#555555",   # dark grey
    "donors": "#b3b3b3",      # light grey
    "difference": "#000000",  # black: treated minus control
    "other": "#cc79a7",       # any further group
}
#: further colours of the same palette, never a role's colour: the screen chart's other
#: groups (spillover groups, in order of appearance; more than three share "other") and the
#: one highlight mark (a significant specification, the event on a null histogram)
EXTRA_COLORS = {
    "spillover 1": "#56b4e9",  # sky blue
    "spillover 2": "#009e73",  # bluish green
    "spillover 3": "#f0e442",  # yellow
    "highlight": "#d55e00",    # vermillion
}
#: Event colours by catalog kind (anything else: :data:`GROUP_COLORS` "other").
KIND_COLORS = {"easing": "#009e73", "tightening": "#d55e00", "confounder": "#7f7f7f"}
#: rows the event numbers are staggered over, above the plot
LABEL_ROWS = 3


def _kind_color(kind) -> str:
    return KIND_COLORS.get(str(kind), GROUP_COLORS["other"])


def role_colors(groups, roles=None) -> dict:
    """Colour of each group name: its role's colour from :data:`GROUP_COLORS`.

    Parameters
    ----------
    groups : sequence of str
        Group names in order of appearance.
    roles : dict, optional
        ``group -> role`` (``treated``, ``control``, ``benchmark``, ``donors``); default:
        the first group is treated, the second control, the rest "other".

    Returns
    -------
    dict

    Examples
    --------
    >>> role_colors(["potash producer", "nitrogen control"])["potash producer"] == GROUP_COLORS["treated"]
    True
    """
    groups = list(dict.fromkeys(groups))
    if roles is None:
        roles = dict(zip(groups, ("treated", "control")))
    return {g: GROUP_COLORS.get(roles.get(g, "other"), GROUP_COLORS["other"]) for g in groups}


def wrap_title(text: str, width: int = 72) -> str:
    """A title wrapped onto lines of at most ``width`` characters (never cut).

    Examples
    --------
    >>> wrap_title("a " * 50).count("\\n")
    1
    """
    return textwrap.fill(str(text).strip(), width=width, break_long_words=False, break_on_hyphens=False)


def add_source(fig, text: str | None) -> None:
    """The source line under a figure: small grey text, left-aligned, wrapped (``gid="source"``).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    text : str or None
        "Source: ..." is prefixed unless the text starts with it; ``None`` adds nothing.
    """
    if not text:
        return
    text = str(text).strip()
    if not text.lower().startswith("source"):
        text = "Source: " + text
    fig.supxlabel(textwrap.fill(text, 130), x=0.01, ha="left", fontsize=7, color="#555555", gid="source")


def _new(ax, figsize=FIGSIZE):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    else:
        fig = ax.figure
    return fig, ax


def plot_caar(res, ax=None, level=0.95, *, title=None, pct=None, source=None):
    """The CAAR path of an event study with its null band; returns the Figure.

    Parameters
    ----------
    res : EventStudyResult or GroupComparison
        An :class:`analysis.eventstudy.EventStudyResult` (one path) or a
        :class:`analysis.eventstudy.GroupComparison` (treated, control and their
        difference; the band belongs to the difference).
    ax : matplotlib Axes, optional
    level : float
        Coverage of the band.
    title : str, optional
        Default: "Cumulative abnormal <measure> around <date>" (wrapped when long).
    pct : bool, optional
        Plot in percent; default: only when the measure (``res.measure``) is a return.
    source : str, optional
        The source line under the figure (:func:`add_source`).

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    The grey band is the *null* band ``0 ± t_{m-1}·sd·√k`` (``res.caar_band(level)``):
    where a k-day CAAR (of the difference) lies under H0, sd the Brown-Warner sd of the
    portfolio AR over the estimation window. It is centred on zero, not on the path, so
    a path point outside it is unusual at ``1 - level``. The path uses the firms
    observed on every day of the event span (``res.path_firms``), named in the legend.
    Day 0 is marked. Colours: :data:`GROUP_COLORS`.

    Examples
    --------
    >>> import analysis
    >>> r = analysis.load_returns(["NTR", "MOS", "SPY"], "2024-11-01", "2026-03-31", offline=True)
    >>> fig = plot_caar(analysis.event_study(r[["NTR", "MOS"]], r["SPY"], "2025-12-15"))
    >>> fig.axes[0].get_legend_handles_labels()[1]
    ['CAAR (NTR, MOS)', '95% null band (H0: no abnormal return)']
    """
    fig, ax = _new(ax)
    measure = str(getattr(res, "measure", None) or "return")
    pct = (measure == "return") if pct is None else pct
    path = res.caar_path
    band = res.caar_band(level)
    scale = 100.0 if pct else 1.0
    days = path.index.to_numpy()
    firms = res.path_firms
    if hasattr(path, "columns"):  # group comparison: treated, control, diff
        for col, style in (("treated", "-"), ("control", "--")):
            ax.plot(days, path[col] * scale, style, color=GROUP_COLORS[col],
                    label=f"{col} CAAR ({', '.join(firms[col])})")
        main, label, color = path["diff"], "treated - control", GROUP_COLORS["difference"]
    else:
        main, label, color = path, f"CAAR ({', '.join(firms)})", GROUP_COLORS["treated"]
    ax.plot(days, main * scale, "-o", color=color, ms=3, label=label)
    ax.fill_between(days, band["lower"] * scale, band["upper"] * scale, color="grey", alpha=0.25,
                    label=f"{level:.0%} null band (H0: no abnormal {measure})")
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.axvline(0.0, color="red", lw=0.8, ls=":")
    date = getattr(res, "event_date", None)
    day0 = f" (day 0 = {date.date()})" if date is not None else ""
    ax.set_xlabel(f"trading day relative to the event{day0}; firms observed on every day "
                  f"{days[0]:+d}..{days[-1]:+d}")
    ax.set_ylabel(f"cumulative abnormal {measure}" + (" (%)" if pct else ""))
    default = f"Cumulative abnormal {measure}" + (f" around {date.date()}" if date is not None else "")
    ax.set_title(wrap_title(title if title is not None else default))
    ax.legend(loc="best", fontsize="small")
    add_source(fig, source)
    return fig


# --------------------------------------------------------------------------- commodities, catalog
def _month_x(index):
    """Plot position of monthly averages: the middle of the month (15th), as Timestamps."""
    import pandas as pd

    if isinstance(index, pd.PeriodIndex):
        return index.to_timestamp(how="start") + pd.Timedelta(days=14)
    return pd.DatetimeIndex(index)


def _span(prices):
    """First and last day the monthly frame covers."""
    import pandas as pd

    idx = prices.index
    if isinstance(idx, pd.PeriodIndex):
        return idx.min().start_time.normalize(), idx.max().end_time.normalize()
    return pd.Timestamp(idx.min()), pd.Timestamp(idx.max())


def event_legend(events, prices=None):
    """The table under a figure whose event markers are numbered: number, date, kind, event, title.

    Parameters
    ----------
    events : pandas.DataFrame
        Catalog rows (``event_id, date, kind``, and ``title`` when present), as passed to
        :func:`plot_commodity_prices`.
    prices : pandas.DataFrame, optional
        The plotted monthly frame: only events inside its span are numbered (as drawn).

    Returns
    -------
    pandas.DataFrame
        ``no, date, kind, event_id, title``, in date order: the numbers the figure shows.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"event_id": ["b", "a"], "date": ["2025-12-13", "2021-06-21"], "kind": ["easing", "x"]})
    >>> event_legend(ev)[["no", "event_id"]].values.tolist()
    [[1, 'a'], [2, 'b']]
    """
    import pandas as pd

    if events is None or not len(events):
        return pd.DataFrame(columns=["no", "date", "kind", "event_id", "title"])
    ev = events.copy()
    ev["date"] = pd.to_datetime(ev["date"])
    if prices is not None and len(prices):
        lo, hi = _span(prices)
        ev = ev[(ev["date"] >= lo) & (ev["date"] <= hi)]
    ev = ev.sort_values(["date", "event_id"], kind="stable").reset_index(drop=True)
    out = pd.DataFrame({"no": range(1, len(ev) + 1), "date": ev["date"].dt.date, "kind": ev["kind"].astype(str),
                        "event_id": ev["event_id"].astype(str)})
    out["title"] = ev["title"].astype(str).to_numpy() if "title" in ev.columns else ""
    return out


def plot_commodity_prices(prices, events=None, series=None, *, ax=None, title=None, source=None, notes=None):
    """Monthly commodity prices (one line per series) with numbered catalog events; returns the Figure.

    Parameters
    ----------
    prices : pandas.DataFrame
        :func:`analysis.commodity_data.load_commodity_prices` frame (PeriodIndex; each
        monthly average is drawn at mid-month; ``attrs["vintage"]`` gives the source line).
    events : pandas.DataFrame, optional
        Catalog frame with ``date`` and ``kind`` (and ``event_id``): each event inside the
        plotted span is a dashed vertical line coloured by kind (:data:`KIND_COLORS`, one
        legend entry per kind) with its number above the plot, staggered over
        :data:`LABEL_ROWS` rows; :func:`event_legend` is the key. A single event is
        labelled with its id.
    series : str or list of str, optional
        Columns to draw (default all).
    ax : matplotlib Axes, optional
    title : str, optional
    source : str, optional
        The source line; default from the frame's vintage (:func:`analysis.findings.commodity_source`).
    notes : pandas.DataFrame, optional
        Documented breaks to mark on the drawn series (``series, month, kind, note``:
        :func:`analysis.commodity_data.load_commodity_notes` of the case); default none.

    Returns
    -------
    matplotlib.figure.Figure
        Markers carry ``gid="event:<id>"``, their numbers ``gid="event-label:<id>"``, a
        break ``gid="break:<series>:<month>"``.

    Raises
    ------
    ValueError
        A requested series is not a column.
    """
    import pandas as pd

    from .findings import commodity_source

    fig, ax = _new(ax)
    cols = list(prices.columns) if series is None else ([series] if isinstance(series, str) else list(series))
    missing = [c for c in cols if c not in prices.columns]
    if missing:
        raise ValueError(f"series {missing} not in prices (have {', '.join(map(str, prices.columns))})")
    x = _month_x(prices.index)
    for c in cols:
        ax.plot(x, prices[c].to_numpy(dtype=float), label=str(c), lw=1.6)
    legend = event_legend(events, prices) if events is not None else event_legend(None)
    seen = set()
    for row in legend.to_dict("records"):
        kind, eid = row["kind"], row["event_id"]
        label = f"{kind} event" if kind not in seen else "_nolegend_"
        seen.add(kind)
        when = pd.Timestamp(row["date"])
        ax.axvline(when, color=_kind_color(kind), lw=0.9, ls="--", alpha=0.8, label=label, gid=f"event:{eid}")
        text = str(row["no"]) if len(legend) > 1 else eid  # one event: its id, no key needed
        ax.annotate(text, xy=(when, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(0, 2 + 8 * ((row["no"] - 1) % LABEL_ROWS)), textcoords="offset points", ha="center",
                    va="bottom", fontsize=6.5, color=_kind_color(kind), gid=f"event-label:{eid}")
    for b in ([] if notes is None else notes.to_dict("records")):
        m = pd.Period(b["month"], "M")
        if b["series"] in cols and m in prices.index:
            y = float(prices.loc[m, b["series"]])
            at = _month_x(pd.PeriodIndex([m]))[0]
            ax.scatter([at], [y], marker="v", s=36, color="#333333", zorder=3, gid=f"break-point:{b['series']}:{m}")
            text = textwrap.fill(f"{b['series'].replace('_', ' ')}, {m.strftime('%b %Y')}: {b['kind']} "
                                 f"({b['note']})", 40)
            note = ax.annotate(text, xy=(at, y),
                               xytext=(6, 7), textcoords="offset points", ha="left", va="bottom", fontsize=7,
                               color="#333333", gid=f"break:{b['series']}:{m}")
            note.set_in_layout(False)
    ax.set_xlabel("month (monthly average, drawn at mid-month)")
    ax.set_ylabel("US$ per metric tonne (nominal)")
    default = "Monthly fertilizer prices" + (" and the catalog's events (numbered)" if len(legend) else "")
    ax.set_title(wrap_title(title if title is not None else default), pad=8 + 8 * LABEL_ROWS if len(legend) else 6)
    ax.legend(loc="best", fontsize="small", ncol=2)
    add_source(fig, source if source is not None else commodity_source(prices.attrs))
    return fig


def plot_group_caar(paths, *, event_ids=None, ncols=3, pct=True, title=None, source=None):
    """Treated-vs-control CAAR paths, one panel per event; returns the Figure.

    Parameters
    ----------
    paths : pandas.DataFrame or CatalogStudy
        Tidy frame ``event_id, day, treated, control`` (e.g.
        :meth:`analysis.catalog_study.CatalogStudy.caar_paths`), or a ``CatalogStudy``.
    event_ids : list of str, optional
        The events to draw (default all).
    ncols : int
        Panels per row.
    pct : bool
        Plot in percent.
    title, source : str, optional
        Figure title and source line.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per event, titled with its id: the treated and control portfolio CAAR
        (:data:`GROUP_COLORS`) against the trading day, day 0 marked.

    Raises
    ------
    ValueError
        No path to draw.
    """
    import math

    if hasattr(paths, "caar_paths"):
        paths = paths.caar_paths(event_ids)
    elif event_ids is not None:
        paths = paths[paths["event_id"].isin(list(event_ids))]
    ids = list(dict.fromkeys(paths["event_id"]))
    if not ids:
        raise ValueError("no CAAR paths to plot: the study covered none of the events")
    ncols = max(1, min(int(ncols), len(ids)))
    nrows = math.ceil(len(ids) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(FIGSIZE[0], 2.6 * nrows + 0.6), sharey=True, squeeze=False,
                             layout="constrained")
    scale = 100.0 if pct else 1.0
    flat = axes.ravel()
    for ax, eid in zip(flat, ids):
        p = paths[paths["event_id"] == eid]
        ax.plot(p["day"].to_numpy(), p["treated"].to_numpy(dtype=float) * scale, "-o", ms=3,
                color=GROUP_COLORS["treated"], label="treated")
        ax.plot(p["day"].to_numpy(), p["control"].to_numpy(dtype=float) * scale, "--s", ms=3,
                color=GROUP_COLORS["control"], label="control")
        ax.axhline(0.0, color="grey", lw=0.7)
        ax.axvline(0.0, color="red", lw=0.7, ls=":")
        ax.set_title(str(eid), fontsize="small")
        ax.set_xlabel("trading day")
        ax.set_ylabel("CAAR" + (" (%)" if pct else ""))
    for ax in flat[len(ids):]:
        ax.set_visible(False)
    flat[0].legend(fontsize="x-small", loc="best")
    fig.suptitle(wrap_title(title if title is not None else "Treated and control CAAR around each catalog event"))
    add_source(fig, source)
    return fig


def plot_sensitivity(table, *, level=0.95, ax=None, title=None, roles=None, treated=None, control=None,
                     source=None):
    """Commodity betas per firm as bars with HAC confidence error bars; returns the Figure.

    Parameters
    ----------
    table : pandas.DataFrame
        :meth:`analysis.sensitivity.CommoditySensitivity.to_frame` (``ticker, group,
        beta_<series>, se_<series>, nobs``; the series is ``table.attrs["series"]``,
        default ``"potash"``).
    level : float
        Coverage of the error bars: ``± t_{nobs-3}(level) * se``, the same Student-t the
        p-values use.
    ax : matplotlib Axes, optional
    title : str, optional
    roles : dict, optional
        ``group -> role`` for the colours (:func:`role_colors`; default: the first group
        treated, the second control).
    treated, control : list of str, optional
        The study's groups as tickers: their universe groups take the treated and control
        colours (instead of ``roles``).
    source : str, optional
        The source line.

    Returns
    -------
    matplotlib.figure.Figure
        Bars coloured by group role and labelled with ``n`` (months).
    """
    import numpy as np

    fig, ax = _new(ax)
    groups = list(dict.fromkeys(table["group"]))
    if roles is None and (treated or control):
        by = dict(zip(table["ticker"], table["group"]))
        roles = {by[t]: "control" for t in control or [] if t in by} | {by[t]: "treated" for t in treated or [] if t in by}
    colors = role_colors(groups, roles)
    series = table.attrs.get("series", "potash")
    beta = table[f"beta_{series}"].to_numpy(dtype=float)
    se = table[f"se_{series}"].to_numpy(dtype=float)
    nobs = table["nobs"].to_numpy(dtype=float)
    q = t_quantile(0.5 + level / 2.0, nobs - 3)
    x = np.arange(len(table))
    from matplotlib.patches import Patch

    ax.bar(x, beta, yerr=q * se, capsize=4, color=[colors[g] for g in table["group"]])
    for xi, n in zip(x, nobs):  # months behind each beta, along the bottom of the plot
        ax.annotate(f"n={int(n)}", (xi, 0.02), xycoords=("data", "axes fraction"), ha="center", va="bottom",
                    fontsize="x-small", bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_xticks(x, list(table["ticker"]))
    ax.set_xlabel("firm (n = months of returns behind the estimate)")
    ax.set_ylabel(f"beta on monthly {series} price change")
    default = (f"How each firm's monthly return moves with the {series} price "
               f"(beta, {level:.0%} HAC intervals)")
    ax.set_title(wrap_title(title if title is not None else default))
    ax.legend(handles=[Patch(color=colors[g], label=str(g)) for g in groups], fontsize="small", loc="best")
    add_source(fig, source)
    return fig


def plot_forest(table, window="(0,1)", *, value="diff", pct=True, ax=None, title=None, source=None):
    """Forest plot of one window's CAAR per catalog event with its confidence interval; returns the Figure.

    Parameters
    ----------
    table : pandas.DataFrame
        :meth:`analysis.catalog_study.CatalogStudy.to_frame`.
    window : str
        The window label.
    value : str
        ``"diff"``: treated minus control with ``ci_low``/``ci_high``;
        ``"caar_treated"``: the treated CAAR with ``ci_treated_low``/``ci_treated_high``.
    pct : bool
        Plot in percent.
    ax : matplotlib Axes, optional
    title, source : str, optional
        Title and source line.

    Returns
    -------
    matplotlib.figure.Figure
        One row per event, first event at the top; markers coloured by kind; events the
        data does not cover keep their row, marked "insufficient data". The width is
        :data:`FIGSIZE`'s; the height grows with the number of events.

    Raises
    ------
    ValueError
        An unknown ``value`` or a window without rows.
    """
    import numpy as np

    cis = {"diff": ("ci_low", "ci_high"), "caar_treated": ("ci_treated_low", "ci_treated_high")}
    if value not in cis:
        raise ValueError(f"value must be one of {', '.join(cis)}, got {value!r}")
    t = table[table["window"] == window].reset_index(drop=True)
    if t.empty:
        raise ValueError(f"no rows for window {window!r} (windows: {', '.join(dict.fromkeys(table['window']))})")
    fig, ax = _new(ax, (FIGSIZE[0], 0.3 * len(t) + 1.9))
    scale = 100.0 if pct else 1.0
    y = np.arange(len(t))[::-1].astype(float)
    lo_c, hi_c = cis[value]
    seen = set()
    for yi, r in zip(y, t.to_dict("records")):
        if r["status"] != "ok":
            ax.annotate("insufficient data", (0, yi), xytext=(4, 0), textcoords="offset points", va="center",
                        fontsize="x-small", color="grey")
            continue
        v = float(r[value]) * scale
        lo, hi = float(r[lo_c]) * scale, float(r[hi_c]) * scale
        kind = r["kind"]
        ax.errorbar([v], [yi], xerr=[[v - lo], [hi - v]], fmt="o", color=_kind_color(kind), capsize=3,
                    label=kind if kind not in seen else "_nolegend_")
        seen.add(kind)
    ax.axvline(0.0, color="grey", lw=0.8)
    labels = [f"{e} [{c}]" if s > 1 else str(e) for e, c, s in zip(t["event_id"], t["cluster"], t["cluster_size"])]
    ax.set_yticks(y, labels, fontsize="x-small")
    what = "treated − control CAAR" if value == "diff" else "treated CAAR"
    ax.set_xlabel(f"{what} {window}" + (" (%)" if pct else "") + ", 95% CI")
    ax.set_ylabel("catalog event [cluster if overlapping]")
    default = f"{'Treated minus control' if value == 'diff' else 'Treated'} CAAR per catalog event, window {window}"
    ax.set_title(wrap_title(title if title is not None else default))
    ax.legend(fontsize="small", loc="best")
    add_source(fig, source)
    return fig


__all__ = ["FIGSIZE", "GROUP_COLORS", "EXTRA_COLORS", "KIND_COLORS", "LABEL_ROWS", "role_colors", "wrap_title", "add_source",
           "event_legend", "plot_caar", "plot_commodity_prices", "plot_group_caar", "plot_sensitivity", "plot_forest"]
