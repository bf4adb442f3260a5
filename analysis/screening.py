"""The who-moved screen: every firm's CAR and SCAR on the event date, ranked, with each group's in-space p.

Conventions as in :mod:`analysis.crosssection` (one engine fit, market model, exact SCAR).
The percentile of firm ``i`` in the cross-section is ``100 #{x_j <= x_i} / N``. Each group's
in-space p compares its mean CAR (and mean SCAR) with same-size portfolios of the donor
pool *without the group's own firms*; a group larger than that pool gets no p, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .case import as_case
from .crosssection import (
    STATISTICS,
    _default_donors,
    _dropped_frame,
    _members,
    _placebo_from_values,
    firm_cars,
    in_space_p,
)
from .windows import DEFAULT_ESTIMATION_WINDOW, window_label


@dataclass(frozen=True, eq=False)
class Screen:
    """Result of :func:`screen`: who moved most, and each group's in-space p.

    Attributes
    ----------
    table : DataFrame
        One row per firm, sorted by CAR (largest first): firm, group, car, scar,
        pct_car, pct_scar (percentiles in the cross-section).
    groups : DataFrame
        One row per group: group, n, caar, mean_scar, p_car, p_scar, exact, n_donors, note.
    window : str
    event_date : Timestamp
    dropped : DataFrame
        firm, role, reason for every firm without a CAR.

    Examples
    --------
    >>> from analysis.crosssection_suite import cross_section_returns
    >>> r, m = cross_section_returns(["NTR", "MOS", "IPI", "ICL", "KO", "PG", "XOM", "DOW", "LIN", "CAT", "JPM", "AAPL"],
    ...                              offline=True)
    >>> s = screen(r, m, "2025-12-15")
    >>> s.window, s.table["firm"].iloc[0], s.groups["group"].tolist()
    ('(0,1)', 'LIN', ['potash producer', 'broad market', 'chemicals'])
    """

    table: pd.DataFrame
    groups: pd.DataFrame
    window: str
    event_date: pd.Timestamp
    dropped: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The per-firm table (:attr:`table`)."""
        return self.table

    def top(self, n: int = 5) -> pd.DataFrame:
        """The ``n`` firms with the largest CAR."""
        return self.table.head(n)

    def bottom(self, n: int = 5) -> pd.DataFrame:
        """The ``n`` firms with the smallest CAR, smallest first."""
        return self.table.tail(n).iloc[::-1]

    def extremes(self, n: int = 5) -> pd.DataFrame:
        """The ``n`` largest and ``n`` smallest CARs, with their rank (1 = largest)."""
        t = self.table.assign(rank=np.arange(1, len(self.table) + 1))
        return pd.concat([t.head(n), t.tail(n)]).drop_duplicates("firm")

    def summary(self, n: int = 5) -> str:
        """Text: the top and bottom ``n`` firms and the group table."""
        def fmt(df):
            return [f"  {r.firm:<6}{r.group[:16]:<17}{100 * r.car:+8.2f}%{r.scar:+8.2f}{r.pct_car:7.1f}" for r in df.itertuples()]

        g = [f"  {r.group[:20]:<21}{r.n:3d}{100 * r.caar:+8.2f}%{r.mean_scar:+8.2f}{r.p_car:8.4f}{r.p_scar:8.4f}"
             for r in self.groups.itertuples()]
        lines = [f"Who moved on {self.event_date.date()}, {self.window} ({len(self.table)} firms; CAR, SCAR, percentile)",
                 f"top {n}:", *fmt(self.top(n)), f"bottom {n}:", *fmt(self.bottom(n)),
                 f"groups{'':<16}  n    CAAR  mSCAR   p_car  p_scar", *g]
        lines += [f"note: {r.firm} dropped: {r.reason}" for r in self.dropped.itertuples()]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, ax=None, **kw):
        """Ranked bar chart of the CARs coloured by group; returns the Figure."""
        from .crosssection_plots import plot_screen

        return plot_screen(self, ax=ax, **kw)


def _pct(x: np.ndarray) -> np.ndarray:
    """``100 #{x_j <= x_i} / N`` for each i."""
    s = np.sort(x)
    return 100.0 * np.searchsorted(s, x, side="right") / len(x)


def screen(returns, market, event_date, window=(0, 1), groups=None, *, estimation_window=DEFAULT_ESTIMATION_WINDOW,
           donors=None, n_portfolios: int = 10_000, seed=0, case=None, min_estimation_obs: int = 120,
           cars: pd.DataFrame | None = None) -> Screen:
    """Every firm's CAR, SCAR and cross-section percentile on the event date, with each group's in-space p.

    Parameters
    ----------
    returns : DataFrame
        Sessions x firms, price returns (the market column, if present, is left out).
    market : Series
        The market-model regressor.
    event_date : date-like
        Day 0, a session of ``returns.index``.
    window, estimation_window : (int, int)
        Relative sessions, inclusive.
    groups : Mapping, optional
        Ticker -> group label; default the case's universe groups.
    donors : list of str, optional
        The donor pool of the groups' in-space p (tickers or group names); default as
        :func:`placebo_in_space`. A group is compared with the pool minus its own members.
    n_portfolios, seed : int
        As :func:`placebo_in_space`.
    case : Case or path, optional
    min_estimation_obs : int
    cars : DataFrame, optional
        A :func:`firm_cars` frame to reuse (skips the fit).

    Returns
    -------
    Screen

    Examples
    --------
    >>> from analysis.crosssection_suite import cross_section_returns
    >>> r, m = cross_section_returns(["NTR", "MOS", "IPI", "ICL", "KO", "PG", "XOM", "DOW", "LIN", "CAT", "JPM", "AAPL"],
    ...                              offline=True)
    >>> screen(r, m, "2025-12-15").bottom(2)["firm"].tolist()
    ['MOS', 'DOW']
    """
    case = as_case(case)
    firms = [c for c in returns.columns if c != getattr(market, "name", None)]
    if groups is None:
        groups = dict(zip(case.universe["ticker"], case.universe["group"]))
    label = {f: (groups.get(f) or "(no group)") for f in firms}
    if cars is None:
        cars = firm_cars(returns[firms], market, event_date, window, estimation_window,
                         min_estimation_obs=min_estimation_obs)
    dropped = _dropped_frame([(f, label[f], why) for f, why in cars.attrs.get("dropped", {}).items() if f in label])
    kept = [f for f in firms if f in cars.index]
    car, scar = cars.loc[kept, "car"].to_numpy(), cars.loc[kept, "scar"].to_numpy()
    table = pd.DataFrame({"firm": kept, "group": [label[f] for f in kept], "car": car, "scar": scar,
                          "pct_car": _pct(car), "pct_scar": _pct(scar)})
    table = table.sort_values("car", ascending=False, kind="stable").reset_index(drop=True)
    pool = _members(donors, kept, case, "donors") if donors is not None else _default_donors(case, kept)
    rows, draws = [], {}
    for g in dict.fromkeys(table["group"]):
        members = [f for f in kept if label[f] == g]
        own = [d for d in pool if d not in members]
        row = {"group": g, "n": len(members), "caar": float(cars.loc[members, "car"].mean()),
               "mean_scar": float(cars.loc[members, "scar"].mean()), "p_car": np.nan, "p_scar": np.nan,
               "exact": False, "n_donors": len(own), "note": ""}
        if len(own) < len(members):
            row["note"] = f"{len(own)} donors outside the group, fewer than its {len(members)} firms: no in-space p"
        else:
            for stat in STATISTICS:
                t, dist, exact = _placebo_from_values(cars[stat], members, [], own, n_portfolios=n_portfolios,
                                                      seed=seed, draws=draws)
                row[f"p_{stat}"], row["exact"] = in_space_p(t, dist), exact
        rows.append(row)
    gt = pd.DataFrame(rows).sort_values("mean_scar", kind="stable").reset_index(drop=True)
    return Screen(table=table, groups=gt, window=window_label(window), event_date=pd.Timestamp(event_date),
                  dropped=dropped)


__all__ = ["screen", "Screen"]
