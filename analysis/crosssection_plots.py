"""Plots of the cross-section results: each function draws one thing and returns the matplotlib Figure.

The results objects call these from their ``.plot()`` methods
(:class:`analysis.crosssection.InSpacePlacebo`, :class:`analysis.crosssection.Screen`,
:class:`analysis.synthetic.SyntheticControl`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def plot_in_space(res, ax=None, *, bins: int = 60, title=None):
    """Histogram of the placebo portfolios' statistics with the treated value marked.

    Parameters
    ----------
    res : InSpacePlacebo
    ax : matplotlib Axes, optional
    bins : int
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.crosssection import InSpacePlacebo
    >>> r = InSpacePlacebo(statistic=-2.0, p_value=0.04, distribution=pd.Series([0.1, -0.5, 1.2]), exact=True,
    ...     measure="scar", window="(0,1)", event_date=pd.Timestamp("2025-12-15"), treated=("A",), control=(),
    ...     donors=("B", "C", "D"), firms=pd.DataFrame(), dropped=pd.DataFrame(columns=["firm", "role", "reason"]))
    >>> plot_in_space(r).axes[0].get_xlabel()
    'mean SCAR of a portfolio, (0,1)'
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4))
    else:
        fig = ax.figure
    scale = 100.0 if res.measure == "car" else 1.0
    unit = " (%)" if res.measure == "car" else ""
    d = res.distribution.to_numpy() * scale
    ax.hist(d, bins=bins, color="0.7", edgecolor="white")
    t = res.statistic * scale
    p = f"{res.p_value:.4f}" if res.p_value < 0.01 else f"{res.p_value:.3f}"
    ax.axvline(t, color="C3", lw=2, label=f"treated {t:+.2f}{unit.strip(' ()')} (p = {p})")
    ax.axvline(-t, color="C3", lw=1, ls=":", label="mirror (two-sided)")
    ax.set_xlabel(f"{res.label} of a portfolio{unit}, {res.window}")
    ax.set_ylabel("portfolios")
    how = "all" if res.exact else "random"
    ax.set_title(title or f"In-space placebo: {how} {res.n_portfolios:,} donor portfolios ({len(res.donors)} donors)")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


def plot_screen(scr, ax=None, *, title=None, pct: bool = True):
    """Ranked bar chart of every firm's CAR, coloured by group.

    Parameters
    ----------
    scr : Screen
    ax : matplotlib Axes, optional
    title : str, optional
    pct : bool
        CAR in percent.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from analysis.screening import screen
    >>> from analysis.crosssection_suite import cross_section_returns
    >>> r, m = cross_section_returns(["NTR", "MOS", "IPI", "ICL", "KO", "PG", "XOM", "DOW", "LIN", "CAT", "JPM", "AAPL"],
    ...                              offline=True)
    >>> ax = plot_screen(screen(r, m, "2025-12-15")).axes[0]
    >>> len(ax.patches), ax.get_ylabel()
    (12, 'CAR (0,1) (%)')
    """
    t = scr.table
    if ax is None:
        fig, ax = plt.subplots(figsize=(max(7, 0.18 * len(t)), 4.5))
    else:
        fig = ax.figure
    groups = list(dict.fromkeys(t["group"]))
    colors = {g: f"C{i % 10}" for i, g in enumerate(groups)}
    x = np.arange(len(t))
    ax.bar(x, t["car"] * (100 if pct else 1), color=[colors[g] for g in t["group"]])
    ax.set_xticks(x, t["firm"], rotation=90, fontsize=7)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel(f"CAR {scr.window}" + (" (%)" if pct else ""))
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[g]) for g in groups]
    ax.legend(handles, groups, fontsize=7, ncol=2, loc="best")
    ax.set_title(title or f"Who moved on {scr.event_date.date()}: CAR {scr.window}, ranked")
    fig.tight_layout()
    return fig


def plot_synthetic(sc, *, title=None, pct: bool = True):
    """Treated against synthetic (cumulated from day -30), and the gap with the donors' placebo gaps in grey.

    Parameters
    ----------
    sc : SyntheticControl
    title : str, optional
    pct : bool
        Returns in percent.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from analysis.crosssection_suite import cross_section_returns
    >>> from analysis.synthetic import synthetic_control
    >>> returns = cross_section_returns(["NTR", "MOS", "IPI", "ICL", "KO", "PG", "XOM", "DOW"], offline=True)[0]
    >>> fig = plot_synthetic(synthetic_control(returns, "2025-12-15"))  # the producers against 4 donors
    >>> [a.get_ylabel() for a in fig.axes]
    ['cumulated return from day -30 (%)', 'gap: treated - synthetic (%)']
    """
    s = 100.0 if pct else 1.0
    frame = sc.to_frame()
    start = max(-30, int(frame.index.min()))  # the last 30 sessions before the event and the post window
    f = frame.loc[start:]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    a1.plot(f.index, f["treated"].fillna(0).cumsum() * s, label="treated (" + ", ".join(sc.treated) + ")")
    a1.plot(f.index, f["synthetic"].fillna(0).cumsum() * s, "--", label="synthetic")
    a1.axvline(0, color="black", lw=0.8)
    a1.set_xlabel("session relative to the event")
    a1.set_ylabel("cumulated return from day %d%s" % (start, " (%)" if pct else ""))
    a1.legend(fontsize=8)
    pg = sc.placebo_gaps.loc[start:]
    for c in pg.columns:
        a2.plot(pg.index, pg[c] * s, color="0.8", lw=0.7)
    a2.plot(f.index, f["gap"] * s, color="C3", lw=1.6, label=f"treated gap (p = {sc.p_value:.3f})")
    a2.axvline(0, color="black", lw=0.8)
    a2.axhline(0, color="black", lw=0.5)
    a2.set_xlabel("session relative to the event")
    a2.set_ylabel("gap: treated - synthetic" + (" (%)" if pct else ""))
    a2.legend(fontsize=8)
    fig.suptitle(title or f"Synthetic control, {sc.event_date.date()} (placebo gaps of {len(pg.columns)} donors in grey)")
    fig.tight_layout()
    return fig


__all__ = ["plot_in_space", "plot_screen", "plot_synthetic"]
