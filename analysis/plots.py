"""Plots: each function takes frames/results, draws one thing, returns the matplotlib Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt


def plot_caar(res, ax=None, level=0.95, *, title=None, pct=True):
    """The CAAR path of an event study with a confidence band; returns the Figure.

    ``res`` is an :class:`analysis.eventstudy.EventStudyResult` (one path, CAAR over the
    event span, band ±t(m-1)·sd_A·√days from the Brown-Warner AAR sd) or a
    :class:`analysis.eventstudy.GroupComparison` (treated, control and their difference,
    the band on the difference). Day 0 is marked.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4))
    else:
        fig = ax.figure
    path = res.caar_path
    band = res.caar_band(level)
    scale = 100.0 if pct else 1.0
    days = path.index.to_numpy()
    if hasattr(path, "columns"):  # group comparison: treated, control, diff
        for col, style in (("treated", "-"), ("control", "--")):
            ax.plot(days, path[col] * scale, style, label=f"{col} CAAR")
        main, label = path["diff"], "treated - control"
    else:
        main, label = path, "CAAR"
    ax.plot(days, main * scale, "-o", color="black", ms=3, label=label)
    ax.fill_between(days, band["lower"] * scale, band["upper"] * scale, color="grey", alpha=0.25,
                    label=f"{level:.0%} band")
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.axvline(0.0, color="red", lw=0.8, ls=":")
    ax.set_xlabel("relative session (0 = event day)")
    ax.set_ylabel("cumulative abnormal return" + (" (%)" if pct else ""))
    date = getattr(res, "event_date", None)
    ax.set_title(title if title is not None else (f"CAAR around {date.date()}" if date is not None else "CAAR"))
    ax.legend(loc="best", fontsize="small")
    return fig
