"""The commodity's own path around an event: monthly changes against their history.

Conventions
-----------
The series is monthly (a monthly average for the Pink Sheet; no daily benchmark exists
for potash), so an event is placed in its calendar month ``m0``:

* offset ``-1`` is the month before ``m0``, the last average wholly before the news
  (the *bracket*'s ``before`` observation);
* offset ``0`` is the event month, whose average mixes days before and after the news;
* offsets ``1 .. months_after`` follow. Offset 1 is the first full month after.

For each month, ``change_pct`` is the monthly change ``100 (P_m / P_{m-1} - 1)`` and
``cum_change_pct`` the change from the month before the event. Each monthly change is set
against the distribution of the *other* monthly changes of the same series (every month
of the data except those of the path): ``z = (x - mean) / sd`` (sd with ddof = 1) and the
percentile ``100 * #{h <= x} / n``. :attr:`CommodityEventPath.verdict` says in one
sentence whether the series moved the way the event kind suggests (``expected_sign`` of
``case.toml``).

The series is the case's ``commodity`` (``case.toml``) unless ``series=`` names another
column of ``commodity_prices.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .case import as_case
from .commodity_data import load_commodity_prices, resolve_series
from .errors import DataError


@dataclass(frozen=True, eq=False)
class CommodityEventPath:
    """The commodity path around one event (see :func:`event_commodity_path`).

    Attributes
    ----------
    event_id, kind : str
        The catalog event (``adhoc`` for a date).
    event_date : Timestamp
        The event's calendar date.
    series : str
        The commodity column.
    table : DataFrame
        One row per month of the path (see :meth:`to_frame`).
    bracket : dict
        ``before_month``, ``before_price``, ``event_month``, ``event_price``.
    expected_sign : int or None
        +1 / -1 from ``case.toml`` for the event's kind.
    hist_mean, hist_std : float
        Mean and sd (ddof 1) of the historical monthly changes, in %.
    hist_n : int
        Their number.

    Examples
    --------
    >>> p = event_commodity_path("us-potash-easing-2025", months_after=2)
    >>> p.series, p.expected_sign, p.bracket["event_price"]
    ('potash', -1, 358.33)
    """

    event_id: str
    kind: str
    event_date: pd.Timestamp
    series: str
    table: pd.DataFrame
    bracket: dict
    expected_sign: int | None
    hist_mean: float
    hist_std: float
    hist_n: int

    def to_frame(self) -> pd.DataFrame:
        """Months from the one before the event to ``months_after`` after.

        Returns
        -------
        DataFrame
            ``month, offset, price, change_pct, z, percentile, cum_change_pct``.
        """
        return self.table

    @property
    def verdict(self) -> str:
        """One honest sentence: did the series move the way the event kind suggests?"""
        t = self.table[self.table["offset"] >= 0]
        chg = t["change_pct"].dropna()
        if len(chg) == 0:
            return f"{self.series}: no monthly observation after {self.event_date.date()} yet"
        ups, downs = int((chg > 0).sum()), int((chg < 0).sum())
        path = ", ".join(f"{p} {v:.2f}" for p, v in zip(self.table["month"], self.table["price"]) if pd.notna(v))
        move = (
            "kept rising" if downs == 0 and ups > 0 else "kept falling" if ups == 0 and downs > 0 else "was mixed"
        )
        t = self.table.dropna(subset=["cum_change_pct"])
        last_month, last_cum = t["month"].iloc[-1], float(t["cum_change_pct"].iloc[-1])
        s = (
            f"{self.series} {move} after the {self.kind} event of {self.event_date.date()} "
            f"({path}; {last_cum:+.1f}% from {self.bracket['before_month']} to {last_month})"
        )
        if self.expected_sign:
            d = int(np.sign(last_cum))
            s += (
                "; no net change, so no direction to compare with the event kind" if d == 0
                else "; that is the direction the event kind suggests" if d == self.expected_sign
                else "; that is NOT the direction the event kind suggests"
            )
        return s

    def summary(self) -> str:
        """Text: the bracketing observations, the path with z-scores and percentiles, and the verdict."""
        b = self.bracket
        lines = [
            f"{self.series} around {self.event_id} ({self.kind}, {self.event_date.date()}): monthly averages, "
            f"no daily benchmark exists",
            f"bracketing observations: {b['before_month']} = {b['before_price']:.2f} (last month wholly before) and "
            f"{b['event_month']} = {b['event_price']:.2f} (the event month: its average mixes days before and after)",
            f"historical monthly changes: mean {self.hist_mean:+.2f}%, sd {self.hist_std:.2f}%, n = {self.hist_n}",
            f"{'month':<9}{'offset':>7}{'price':>9}{'chg %':>8}{'z':>7}{'pctile':>8}{'cum %':>8}",
        ]
        for r in self.table.itertuples():
            lines.append(
                f"{str(r.month):<9}{r.offset:>7d}{r.price:9.2f}{r.change_pct:8.2f}{r.z:7.2f}{r.percentile:8.1f}{r.cum_change_pct:8.2f}"
            )
        lines.append(self.verdict)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, prices: pd.DataFrame, months_before: int = 12, **kw):
        """The series from ``months_before`` months before the event month to the end of the path.

        Parameters
        ----------
        prices : DataFrame
            The :func:`~analysis.commodity_data.load_commodity_prices` frame the path was
            computed from.
        months_before : int
            Months shown before the event month.
        **kw
            Passed to :func:`analysis.plots.plot_commodity_prices`.

        Returns
        -------
        matplotlib.figure.Figure
            The series with the event marked.
        """
        from .plots import plot_commodity_prices

        m0 = pd.Period(self.event_date, "M")
        window = prices.loc[m0 - months_before : self.table["month"].max()]
        marker = pd.DataFrame([{"event_id": self.event_id, "date": self.event_date, "kind": self.kind}])
        kw.setdefault("title", f"{self.series} around {self.event_id} (monthly averages)")
        return plot_commodity_prices(window, marker, series=self.series, **kw)


def _event_record(event, case) -> dict:
    """A catalog record (dict) from an event id, a date-like, or a record already."""
    if isinstance(event, dict):
        return event
    if hasattr(event, "year") and not isinstance(event, str):  # date, datetime, Timestamp
        event = str(pd.Timestamp(event).date())
    return case.event(event)


def event_commodity_path(
    event,
    months_after: int = 3,
    *,
    series: str | None = None,
    data_dir=None,
    prices: pd.DataFrame | None = None,
    cache_dir=None,
) -> CommodityEventPath:
    """The monthly change of the commodity in the event month and the ``months_after`` following.

    Parameters
    ----------
    event : str, date-like or dict
        A catalog id, a date (``YYYY-MM-DD``) or a catalog record.
    months_after : int
        Months after the event month.
    series : str, optional
        The commodity column; default the case's ``commodity``.
    data_dir : path or Case, optional
        The case.
    prices : DataFrame, optional
        A :func:`~analysis.commodity_data.load_commodity_prices` frame (loaded if None).
    cache_dir : path, optional
        The commodity cache.

    Returns
    -------
    CommodityEventPath

    Raises
    ------
    DataError
        An unknown series, or no observation for the month before or the event month.
    CatalogError
        An unknown event id.

    Examples
    --------
    >>> p = event_commodity_path("us-potash-easing-2025", months_after=2)
    >>> p.to_frame()["price"].tolist()
    [353.75, 358.33, 366.0, 372.5]
    """
    case = as_case(data_dir)
    series = resolve_series(series, case)
    rec = _event_record(event, case)
    when = pd.Timestamp(rec.get("date") if rec.get("date") is not None else rec["timestamp"]).tz_localize(None).normalize()
    px = load_commodity_prices(case, cache_dir=cache_dir) if prices is None else prices
    if series not in px.columns:
        raise DataError(f"unknown commodity series {series!r}: use one of {', '.join(px.columns)}")
    s = px[series].dropna()
    m0 = when.to_period("M")
    before = m0 - 1
    if before not in s.index:
        raise DataError(
            f"{series} has no observation for {before}, the month before {rec['event_id']} "
            f"(data covers {s.index[0]} to {s.index[-1]})"
        )
    if m0 not in s.index:
        raise DataError(
            f"{series} has no observation yet for the event month {m0} of {rec['event_id']} "
            f"(data ends {s.index[-1]}): refresh_commodities() when the World Bank publishes it"
        )
    chg = s.pct_change(fill_method=None) * 100.0
    months = [m0 + k for k in range(-1, int(months_after) + 1)]
    hist = chg.drop(index=[m for m in months if m in chg.index]).dropna()
    mu, sd = float(hist.mean()), float(hist.std(ddof=1))
    hv = np.sort(hist.to_numpy())
    rows = []
    for k, m in zip(range(-1, int(months_after) + 1), months):
        p = float(s.get(m, np.nan))
        c = float(chg.get(m, np.nan))
        rows.append(
            {
                "month": m,
                "offset": k,
                "price": p,
                "change_pct": c,
                "z": (c - mu) / sd if np.isfinite(c) else np.nan,
                "percentile": 100.0 * np.searchsorted(hv, c, side="right") / len(hv) if np.isfinite(c) else np.nan,
                "cum_change_pct": (p / float(s[before]) - 1.0) * 100.0 if k >= 0 and np.isfinite(p) else np.nan,
            }
        )
    table = pd.DataFrame(rows)
    table["month"] = pd.PeriodIndex(table["month"], freq="M")
    table.attrs = {"vintage": px.attrs.get("vintage")}
    sign = (case.settings.get("expected_sign") or {}).get(rec.get("kind"))
    return CommodityEventPath(
        event_id=str(rec["event_id"]),
        kind=str(rec.get("kind")),
        event_date=when,
        series=series,
        table=table,
        bracket={
            "before_month": before,
            "before_price": float(s[before]),
            "event_month": m0,
            "event_price": float(s[m0]),
        },
        expected_sign=None if sign is None else int(sign),
        hist_mean=mu,
        hist_std=sd,
        hist_n=int(len(hist)),
    )


def commodity_event_table(
    events=None, months_after: int = 3, *, series: str | None = None, data_dir=None, cache_dir=None
) -> pd.DataFrame:
    """:func:`event_commodity_path` for every catalog event: one row per event.

    Parameters
    ----------
    events : DataFrame, optional
        A catalog (default the case's ``events.csv``).
    months_after : int
        Months after the event month.
    series : str, optional
        The commodity column; default the case's ``commodity``.
    data_dir : path or Case, optional
        The case.
    cache_dir : path, optional
        The commodity cache.

    Returns
    -------
    DataFrame
        Columns event_id, kind, date, before_month, before_price, event_month,
        event_price, chg_event_pct (event month vs month before) and its z / percentile,
        chg_next_pct (first full month after vs month before), chg_end_pct (to
        ``months_after``), n_after (months available), status (``ok`` or the reason a
        row has no numbers). ``attrs``: series, vintage.

    Examples
    --------
    >>> tab = commodity_event_table()
    >>> len(tab), float(tab.set_index("event_id").loc["us-potash-easing-2025", "event_price"])
    (24, 358.33)
    """
    case = as_case(data_dir)
    series = resolve_series(series, case)
    ev = case.events if events is None else events
    px = load_commodity_prices(case, cache_dir=cache_dir)
    rows = []
    for rec in ev.to_dict("records"):
        base = {"event_id": rec["event_id"], "kind": rec["kind"], "date": pd.Timestamp(rec["date"]).date()}
        try:
            p = event_commodity_path(rec, months_after, series=series, data_dir=case, prices=px)
        except DataError as exc:  # recorded in the row's status: the event is named with its reason
            rows.append({**base, "status": str(exc)})
            continue
        t = p.table.set_index("offset")
        after = t.loc[t.index >= 1, "cum_change_pct"].dropna()
        rows.append(
            {
                **base,
                "before_month": str(p.bracket["before_month"]),
                "before_price": p.bracket["before_price"],
                "event_month": str(p.bracket["event_month"]),
                "event_price": p.bracket["event_price"],
                "chg_event_pct": t.loc[0, "change_pct"],
                "z_event": t.loc[0, "z"],
                "pctile_event": t.loc[0, "percentile"],
                "chg_next_pct": t.loc[1, "cum_change_pct"] if 1 in t.index else np.nan,
                "chg_end_pct": after.iloc[-1] if len(after) else np.nan,
                "n_after": int(len(after)),
                "status": "ok",
            }
        )
    out = pd.DataFrame(rows)
    out.attrs = {"series": series, "vintage": px.attrs.get("vintage")}
    return out


#: The potash-era names, kept working with the same signatures.
EventPotashPath = CommodityEventPath
event_potash_path = event_commodity_path
potash_event_table = commodity_event_table

__all__ = [
    "CommodityEventPath",
    "event_commodity_path",
    "commodity_event_table",
    "EventPotashPath",
    "event_potash_path",
    "potash_event_table",
]
