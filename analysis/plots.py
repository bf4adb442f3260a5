"""Plots: each function takes frames/results, draws one thing, returns the matplotlib Figure.

Pure drawing (alphalens' ``plotting.py`` is the model): the numbers come from the
results objects and tables of the computing modules; nothing is estimated here. The
CAAR figure's grey band is the null band of :meth:`analysis.eventstudy.EventStudyResult.caar_band`
(centred on zero, so a path outside it is unusual at 5%).
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from .distributions import t_quantile


def plot_caar(res, ax=None, level=0.95, *, title=None, pct=True):
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
    pct : bool
        Plot in percent.

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
    Day 0 is marked.

    Examples
    --------
    >>> import analysis
    >>> r = analysis.load_returns(["NTR", "MOS", "SPY"], "2024-11-01", "2026-03-31", offline=True)
    >>> fig = plot_caar(analysis.event_study(r[["NTR", "MOS"]], r["SPY"], "2025-12-15"))
    >>> fig.axes[0].get_legend_handles_labels()[1]
    ['CAAR (NTR, MOS)', '95% null band (H0: no abnormal return)']
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4))
    else:
        fig = ax.figure
    path = res.caar_path
    band = res.caar_band(level)
    scale = 100.0 if pct else 1.0
    days = path.index.to_numpy()
    firms = res.path_firms
    if hasattr(path, "columns"):  # group comparison: treated, control, diff
        for col, style in (("treated", "-"), ("control", "--")):
            ax.plot(days, path[col] * scale, style, label=f"{col} CAAR ({', '.join(firms[col])})")
        main, label = path["diff"], "treated - control"
    else:
        main, label = path, f"CAAR ({', '.join(firms)})"
    ax.plot(days, main * scale, "-o", color="black", ms=3, label=label)
    ax.fill_between(days, band["lower"] * scale, band["upper"] * scale, color="grey", alpha=0.25,
                    label=f"{level:.0%} null band (H0: no abnormal return)")
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.axvline(0.0, color="red", lw=0.8, ls=":")
    ax.set_xlabel(f"relative session (0 = event day); firms observed on every day {days[0]:+d}..{days[-1]:+d}")
    ax.set_ylabel("cumulative abnormal return" + (" (%)" if pct else ""))
    date = getattr(res, "event_date", None)
    ax.set_title(title if title is not None else (f"CAAR around {date.date()}" if date is not None else "CAAR"))
    ax.legend(loc="best", fontsize="small")
    return fig


# --------------------------------------------------------------------------- issue 4: commodities, catalog
#: Event colours by catalog kind (anything else: blue).
KIND_COLORS = {"easing": "tab:green", "tightening": "tab:red", "confounder": "tab:gray"}


def _kind_color(kind) -> str:
    return KIND_COLORS.get(str(kind), "tab:blue")


def _month_x(index):
    """Plot position of monthly averages: the middle of the month (15th), as Timestamps."""
    import pandas as pd

    if isinstance(index, pd.PeriodIndex):
        return index.to_timestamp(how="start") + pd.Timedelta(days=14)
    return pd.DatetimeIndex(index)


def plot_commodity_prices(prices, events=None, series=None, *, ax=None, title=None):
    """Monthly fertilizer prices (one line per series) with catalog events as vertical lines.

    ``prices``: :func:`analysis.commodities.load_commodity_prices` frame (PeriodIndex; each
    monthly average is drawn at mid-month). ``events``: catalog frame with ``date`` and
    ``kind`` (and ``event_id``); each event is an ``axvline`` coloured by kind
    (:data:`KIND_COLORS`), one legend entry per kind. ``series``: columns to draw
    (default all).
    """
    import pandas as pd

    if ax is None:
        fig, ax = plt.subplots(figsize=(9, 4.5))
    else:
        fig = ax.figure
    cols = list(prices.columns) if series is None else ([series] if isinstance(series, str) else list(series))
    missing = [c for c in cols if c not in prices.columns]
    if missing:
        raise ValueError(f"series {missing} not in prices (have {', '.join(map(str, prices.columns))})")
    x = _month_x(prices.index)
    for c in cols:
        ax.plot(x, prices[c].to_numpy(dtype=float), label=str(c), lw=1.6)
    if events is not None and len(events):
        seen = set()
        for ev in events.to_dict("records"):
            kind = ev.get("kind")
            label = f"{kind} event" if kind not in seen else "_nolegend_"
            seen.add(kind)
            ax.axvline(pd.Timestamp(ev["date"]), color=_kind_color(kind), lw=0.9, ls="--", alpha=0.8, label=label,
                       gid=f"event:{ev.get('event_id', '')}")
    ax.set_xlabel("month (monthly average, drawn at mid-month)")
    ax.set_ylabel("US$ per metric tonne (nominal)")
    vint = prices.attrs.get("vintage")
    ax.set_title(title if title is not None else "World Bank Pink Sheet fertilizer prices"
                 + (f" (vintage {vint})" if vint else ""))
    ax.legend(loc="best", fontsize="small", ncol=2)
    return fig


def plot_group_caar(paths, *, event_ids=None, ncols=3, pct=True, title=None):
    """Producer-vs-control CAAR paths, one panel per event; returns the Figure.

    ``paths``: tidy frame ``event_id, day, treated, control`` (e.g.
    :meth:`analysis.catalog_study.CatalogStudy.caar_paths`), or a ``CatalogStudy``.
    Each panel draws the treated (producers) and control portfolio CAAR against the
    relative session, with day 0 marked.
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
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.8 * nrows), sharey=True, squeeze=False)
    scale = 100.0 if pct else 1.0
    flat = axes.ravel()
    for ax, eid in zip(flat, ids):
        p = paths[paths["event_id"] == eid]
        ax.plot(p["day"].to_numpy(), p["treated"].to_numpy(dtype=float) * scale, "-o", ms=3, label="producers")
        ax.plot(p["day"].to_numpy(), p["control"].to_numpy(dtype=float) * scale, "--s", ms=3, label="controls")
        ax.axhline(0.0, color="grey", lw=0.7)
        ax.axvline(0.0, color="red", lw=0.7, ls=":")
        ax.set_title(str(eid), fontsize="small")
        ax.set_xlabel("relative session")
        ax.set_ylabel("CAAR" + (" (%)" if pct else ""))
    for ax in flat[len(ids):]:
        ax.set_visible(False)
    flat[0].legend(fontsize="x-small", loc="best")
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_sensitivity(table, *, level=0.95, ax=None, title=None):
    """Commodity betas per firm as bars with HAC confidence error bars; returns the Figure.

    ``table``: :meth:`analysis.sensitivity.CommoditySensitivity.to_frame` (``ticker,
    group, beta_<series>, se_<series>, nobs``; the series is ``table.attrs["series"]``,
    default ``"potash"``). Error bars are ``± t_{nobs-3}(level) * se``, the same Student-t
    the p-values use; bars are coloured by group and labelled with ``n``.
    """
    import numpy as np

    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4))
    else:
        fig = ax.figure
    groups = list(dict.fromkeys(table["group"]))
    palette = ["tab:red", "tab:blue", "tab:orange", "tab:purple", "tab:brown"]
    colors = {g: palette[i % len(palette)] for i, g in enumerate(groups)}
    series = table.attrs.get("series", "potash")
    beta = table[f"beta_{series}"].to_numpy(dtype=float)
    se = table[f"se_{series}"].to_numpy(dtype=float)
    nobs = table["nobs"].to_numpy(dtype=float)
    q = t_quantile(0.5 + level / 2.0, nobs - 3)
    x = np.arange(len(table))
    bars = ax.bar(x, beta, yerr=q * se, capsize=4, color=[colors[g] for g in table["group"]])
    for g in groups:
        ax.bar([], [], color=colors[g], label=str(g))  # legend handle per group
    for xi, b, n in zip(x, beta, nobs):
        ax.annotate(f"n={int(n)}", (xi, 0), xytext=(0, -12 if b >= 0 else 4), textcoords="offset points",
                    ha="center", fontsize="x-small")
    del bars
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_xticks(x, list(table["ticker"]))
    ax.set_xlabel("firm")
    ax.set_ylabel(f"beta on monthly {series} price change")
    ax.set_title(title if title is not None else f"{series.capitalize()} sensitivity ({level:.0%} HAC intervals)")
    ax.legend(fontsize="small", loc="best")
    return fig


def plot_forest(table, window="(0,1)", *, value="diff", pct=True, ax=None, title=None):
    """Forest plot of one window's CAAR per catalog event with its confidence interval.

    ``table``: :meth:`analysis.catalog_study.CatalogStudy.to_frame`. ``value="diff"``
    draws producers minus controls with ``ci_low``/``ci_high``; ``value="caar_treated"``
    the producers' CAAR with ``ci_treated_low``/``ci_treated_high``. One row per event,
    first event at the top; markers coloured by kind; events the data does not cover
    keep their row, marked "insufficient data".
    """
    import numpy as np

    cis = {"diff": ("ci_low", "ci_high"), "caar_treated": ("ci_treated_low", "ci_treated_high")}
    if value not in cis:
        raise ValueError(f"value must be one of {', '.join(cis)}, got {value!r}")
    t = table[table["window"] == window].reset_index(drop=True)
    if t.empty:
        raise ValueError(f"no rows for window {window!r} (windows: {', '.join(dict.fromkeys(table['window']))})")
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(t) + 1.5))
    else:
        fig = ax.figure
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
    what = "producers − controls CAAR" if value == "diff" else "producers CAAR"
    ax.set_xlabel(f"{what} {window}" + (" (%)" if pct else "") + ", 95% CI")
    ax.set_ylabel("catalog event [cluster if overlapping]")
    ax.set_title(title if title is not None else f"Event catalog: {what}, window {window}")
    ax.legend(fontsize="small", loc="best")
    fig.tight_layout()
    return fig
