"""Plots of the cross-section results: each function draws one thing and returns the matplotlib Figure.

The results objects call these from their ``.plot()`` methods
(:class:`analysis.crosssection.InSpacePlacebo`, :class:`analysis.crosssection.Screen`,
:class:`analysis.synthetic.SyntheticControl`).

The figures follow the rules of :mod:`analysis.plots`: one palette by role
(:data:`analysis.plots.GROUP_COLORS`: treated, control, benchmark, donors, difference; the
screen's further groups from :data:`analysis.plots.EXTRA_COLORS`), the width of
:data:`analysis.plots.FIGSIZE` (a taller chart grows in height only), a title in plain words,
axis labels with units and a source line (``source=``, :func:`analysis.plots.add_source`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .plots import EXTRA_COLORS, FIGSIZE, GROUP_COLORS, _new, add_source, wrap_title

#: the screen's roles, in legend order (colours from :data:`analysis.plots.GROUP_COLORS`)
SCREEN_ROLES = ("treated", "control", "benchmark", "donors")


def _p_text(p: float) -> str:
    return f"{p:.4f}" if p < 0.01 else f"{p:.3f}"


def plot_in_space(res, ax=None, *, bins: int = 60, title=None, source=None):
    """Histogram of the placebo portfolios' statistics with the treated value marked.

    Parameters
    ----------
    res : InSpacePlacebo
    ax : matplotlib Axes, optional
    bins : int
    title : str, optional
        Default: what is compared with what, in words (wrapped when long).
    source : str, optional
        The source line under the figure (:func:`analysis.plots.add_source`).

    Returns
    -------
    matplotlib.figure.Figure
        The donor portfolios in the donors' colour; the treated value (or the treated -
        control difference) and its mirror in the treated (difference) colour.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.crosssection import InSpacePlacebo
    >>> r = InSpacePlacebo(statistic=-2.0, p_value=0.04, distribution=pd.Series([0.1, -0.5, 1.2]), exact=True,
    ...     measure="scar", window="(0,1)", event_date=pd.Timestamp("2025-12-15"), treated=("A",), control=(),
    ...     donors=("B", "C", "D"), firms=pd.DataFrame(), dropped=pd.DataFrame(columns=["firm", "role", "reason"]))
    >>> plot_in_space(r).axes[0].get_xlabel()
    'mean SCAR of a portfolio over days (0,1) (standard deviations)'
    """
    fig, ax = _new(ax)
    car = res.measure == "car"
    scale = 100.0 if car else 1.0
    unit = "(%)" if car else "(standard deviations)"
    d = res.distribution.to_numpy() * scale
    how = "all" if res.exact else "random"
    ax.hist(d, bins=bins, color=GROUP_COLORS["donors"], edgecolor="white",
            label=f"{how} {res.n_portfolios:,} portfolios of {len(res.donors)} donor firms")
    t = res.statistic * scale
    who = "treated - control" if res.control else "treated"
    color = GROUP_COLORS["difference"] if res.control else GROUP_COLORS["treated"]
    ax.axvline(t, color=color, lw=2, label=f"{who} {t:+.2f}{'%' if car else ''} (p = {_p_text(res.p_value)})")
    ax.axvline(-t, color=color, lw=1, ls=":", label="its mirror (the test is two-sided)")
    ax.set_xlabel(f"{res.label} of a portfolio over days {res.window} {unit}")
    ax.set_ylabel("portfolios (count)")
    name = "CAAR" if car else "mean SCAR"
    what = "The treated minus the control firms'" if res.control else "The treated firms'"
    default = (f"{what} {name} over days {res.window} after {res.event_date.date()} against same-size "
               f"portfolios of firms the news should not touch")
    ax.set_title(wrap_title(title if title is not None else default))
    ax.legend(loc="best", fontsize="small")
    add_source(fig, source)
    return fig


def screen_roles(firms, groups, *, treated=None, control=None, donors=None, case=None) -> dict:
    """The role of each firm of the screen: treated, control, benchmark, donors or its group.

    Parameters
    ----------
    firms, groups : sequence of str
        The screen's firms and their groups (``Screen.table["firm"]``, ``["group"]``).
    treated, control, donors : sequence of str, optional
        Tickers or universe group names; default the case's ``treated_group``,
        ``control_group`` and ``donor_groups``.
    case : Case or path, optional
        The case (default the bundled one, or ``$POTASH_IMPACT_DATA``); its ``market`` and
        ``sector`` tickers and their groups are the benchmark.

    Returns
    -------
    dict
        ``firm -> role``: one of :data:`SCREEN_ROLES`, or the firm's group name for any
        other firm (a spillover group).

    Examples
    --------
    >>> roles = screen_roles(["NTR", "CF", "KO", "SPY", "DE"], ["potash producer", "nitrogen control", "broad market",
    ...                      "benchmark", "agribusiness"])
    >>> [roles[f] for f in ["NTR", "CF", "KO", "SPY", "DE"]]
    ['treated', 'control', 'donors', 'benchmark', 'agribusiness']
    """
    from .case import as_case
    from .crosssection import donor_groups

    case = as_case(case)
    s = case.settings

    def members(spec, default_groups):
        names = set(default_groups if spec is None else ([spec] if isinstance(spec, str) else list(spec)))
        return {f for f, g in zip(firms, groups) if f in names or g in names}

    treated_f = members(treated, [s.treated_group])
    control_f = members(control, [s.control_group])
    donors_f = members(donors, donor_groups(case)[0])
    marks = {t for t in (getattr(s, "market", None), getattr(s, "sector", None)) if t}
    uni = case.universe
    bench_groups = set(uni.loc[uni["ticker"].isin(marks), "group"])
    out = {}
    for f, g in zip(firms, groups):
        out[f] = ("treated" if f in treated_f else "control" if f in control_f else
                  "benchmark" if (f in marks or g in bench_groups) else "donors" if f in donors_f else str(g))
    return out


def plot_screen(scr, ax=None, *, title=None, pct: bool = True, treated=None, control=None, donors=None, case=None,
                source=None):
    """Ranked bar chart of every firm's CAR, coloured by role (treated, control, benchmark, donors, other groups).

    Parameters
    ----------
    scr : Screen
    ax : matplotlib Axes, optional
    title : str, optional
    pct : bool
        CAR in percent.
    treated, control, donors, case
        Who is which role (:func:`screen_roles`); default the case's groups.
    source : str, optional
        The source line under the figure (:func:`analysis.plots.add_source`).

    Returns
    -------
    matplotlib.figure.Figure
        Roles take :data:`analysis.plots.GROUP_COLORS`; every other group its own colour of
        :data:`analysis.plots.EXTRA_COLORS` ("spillover 1", ...; beyond them "other").

    Examples
    --------
    >>> from analysis.screening import screen
    >>> from analysis.crosssection_suite import cross_section_returns
    >>> r, m = cross_section_returns(["NTR", "MOS", "IPI", "ICL", "KO", "PG", "XOM", "DOW", "LIN", "CAT", "JPM", "AAPL"],
    ...                              offline=True)
    >>> ax = plot_screen(screen(r, m, "2025-12-15")).axes[0]
    >>> len(ax.patches), ax.get_ylabel()
    (12, 'CAR over days (0,1) (%)')
    """
    t = scr.table
    fig, ax = _new(ax)
    roles = screen_roles(list(t["firm"]), list(t["group"]), treated=treated, control=control, donors=donors,
                         case=case)
    role = [roles[f] for f in t["firm"]]
    others = [r for r in dict.fromkeys(role) if r not in SCREEN_ROLES]
    spill = [v for k, v in EXTRA_COLORS.items() if k.startswith("spillover")]
    colors = {r: GROUP_COLORS[r] for r in SCREEN_ROLES}
    colors.update({g: spill[i] if i < len(spill) else GROUP_COLORS["other"] for i, g in enumerate(others)})
    x = np.arange(len(t))
    ax.bar(x, t["car"] * (100 if pct else 1), color=[colors[r] for r in role])
    ax.set_xticks(x, t["firm"], rotation=90, fontsize=7 if len(t) <= 50 else 6 if len(t) <= 70 else 5)
    ax.set_xlim(-0.7, len(t) - 0.3)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel(f"CAR over days {scr.window}" + (" (%)" if pct else ""))
    ax.set_xlabel("firm (ticker), ranked by CAR")
    handles, labels = [], []
    for r in [*SCREEN_ROLES, *others]:
        gs = list(dict.fromkeys(g for g, rr in zip(t["group"], role) if rr == r))
        if gs:
            handles.append(plt.Rectangle((0, 0), 1, 1, color=colors[r]))
            labels.append(f"{r}: {', '.join(gs)}" if r in SCREEN_ROLES else r)
    ax.legend(handles, labels, fontsize="x-small", ncol=2, loc="best")
    default = (f"Who moved on {scr.event_date.date()}: every firm's cumulative abnormal return over days "
               f"{scr.window}, ranked")
    ax.set_title(wrap_title(title if title is not None else default))
    add_source(fig, source)
    return fig


def plot_synthetic(sc, *, title=None, pct: bool = True, source=None):
    """Treated against synthetic (cumulated from day -30), and the gap with the donors' placebo gaps.

    Parameters
    ----------
    sc : SyntheticControl
    title : str, optional
    pct : bool
        Returns in percent.
    source : str, optional
        The source line under the figure (:func:`analysis.plots.add_source`).

    Returns
    -------
    matplotlib.figure.Figure
        Two panels, one above the other: the treated firms (treated colour) against the
        synthetic control (benchmark colour); below, the treated - synthetic gap (difference
        colour) among the donors' placebo gaps (donors colour).

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
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(FIGSIZE[0], FIGSIZE[1] + 2.5), sharex=True, layout="constrained")
    a1.plot(f.index, f["treated"].fillna(0).cumsum() * s, color=GROUP_COLORS["treated"],
            label="treated (" + ", ".join(sc.treated) + ")")
    a1.plot(f.index, f["synthetic"].fillna(0).cumsum() * s, "--", color=GROUP_COLORS["benchmark"],
            label="synthetic control (weighted donors)")
    a1.axvline(0, color="black", lw=0.8)
    a1.set_ylabel("cumulated return from day %d%s" % (start, " (%)" if pct else ""))
    a1.legend(fontsize="small")
    pg = sc.placebo_gaps.loc[start:]
    for i, c in enumerate(pg.columns):
        a2.plot(pg.index, pg[c] * s, color=GROUP_COLORS["donors"], lw=0.7,
                label=f"each donor as if treated ({len(pg.columns)})" if i == 0 else None)
    a2.plot(f.index, f["gap"] * s, color=GROUP_COLORS["difference"], lw=1.6,
            label=f"treated - synthetic (p = {sc.p_value:.3f})")
    a2.axvline(0, color="black", lw=0.8)
    a2.axhline(0, color="black", lw=0.5)
    day0 = f" (day 0 = {sc.event_date.date()})" if sc.event_date is not None else ""
    a2.set_xlabel(f"trading day relative to the event{day0}")
    a2.set_ylabel("gap: treated - synthetic" + (" (%)" if pct else ""))
    a2.legend(fontsize="small")
    when = f" around {sc.event_date.date()}" if sc.event_date is not None else ""
    default = (f"The treated firms against a synthetic control (a weighted mix of a pool of {len(sc.donors)} donor "
               f"firms){when}; below, the gap among the donors' own gaps")
    fig.suptitle(wrap_title(title if title is not None else default))
    add_source(fig, source)
    return fig


__all__ = ["plot_in_space", "plot_screen", "plot_synthetic", "screen_roles", "SCREEN_ROLES"]
