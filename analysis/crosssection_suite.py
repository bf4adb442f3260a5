"""The cross-section in the report suite: returns on one basis, one call for the notebook, the catalog's in-space p.

* :func:`cross_section_returns` loads every firm on the **price-return** basis (the peers
  have no dividend data, so the treated firms' total returns would compare unlike with
  like), with spin-off days the prices do not reflect blanked (:mod:`analysis.returns`).
* :func:`cross_section_study` runs, with one engine fit, the in-space placebo for the
  treated group and for treated minus control (``car`` and ``scar``), the screen and the
  synthetic control; its :meth:`CrossSection.sentence` is the notebook's generated prose
  and :meth:`CrossSection.key_numbers` what ``results.json`` records.
* :func:`catalog_in_space` adds the in-space p to :func:`analysis.catalog_study.study_catalog`'s
  table for every event whose estimation and event windows lie inside the donors' data.

Methods and conventions: :mod:`analysis.crosssection` and :mod:`analysis.synthetic`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .case import as_case
from .crosssection import (
    _default_donors,
    _members,
    donor_groups,
    _placebo_from_values,
    firm_cars,
    firm_cars_windows,
    in_space_p,
    placebo_in_space,
    screen,
)
from .errors import DataError, EventStudyError
from .synthetic import synthetic_control
from .windows import DEFAULT_ESTIMATION_WINDOW, parse_window, window_label, window_rows


def cross_section_returns(tickers=None, *, case=None, offline: bool | None = None, start=None, end=None,
                          market: str | None = None):
    """Price returns of the cross-section and the market, every firm on the same basis.

    Parameters
    ----------
    tickers : list of str, optional
        Default: every universe ticker on the market's calendar with a price file, except
        the case's ``market`` and ``sector`` benchmarks.
    case : Case or path, optional
    offline : bool, optional
        See :func:`analysis.config.is_offline`.
    start, end : date-like, optional
        First and last return date.
    market : str, optional
        The market proxy's ticker; default the case's ``market``.

    Returns
    -------
    (DataFrame, Series)
        Sessions x firms (the market left out) and the market's returns.
        ``attrs["price_only"]`` lists every ticker (all on the price basis), and
        ``attrs["blanked"]`` the spin-off days set missing.

    Examples
    --------
    >>> r, m = cross_section_returns(offline=True)
    >>> m.name, r.shape[1], r.attrs["blanked"]["HON"]["2026-06-29"][:8]
    ('SPY', 56, 'spin-off')
    """
    from .data import load_returns

    case = as_case(case)
    market = market or case.settings.get("market", "SPY")
    uni = case.universe
    cal = dict(zip(uni["ticker"], uni["calendar"])).get(market, "XNYS")
    if tickers is None:  # every listing on the market's calendar with a price file, except the benchmarks
        bench = {market, case.settings.get("sector")}
        tickers = [t for t in uni.loc[(uni["calendar"] == cal) & uni["offline"], "ticker"] if t not in bench]
    r = load_returns(list(dict.fromkeys(list(tickers) + [market])), start, end, offline=offline,
                     data_dir=case.data_dir, basis="price")
    out = r.drop(columns=[market])
    out.attrs = dict(r.attrs)
    return out, r[market].rename(market)


# --------------------------------------------------------------------------- one call for the notebook
@dataclass(frozen=True, eq=False)
class CrossSection:
    """Everything :func:`cross_section_study` computed for one event.

    Attributes
    ----------
    event_id, session, window
        The event, day 0 and the CAR window label.
    treated_label, control_label : str
        Group names for prose.
    placebo : dict
        ``{("treated" | "diff", "car" | "scar"): InSpacePlacebo}``.
    screen : Screen
    synthetic : SyntheticControl or None
    synthetic_error : str or None
        Why there is no synthetic control.
    notes : tuple of str
        Sample notes: blanked days inside the span and every firm left out, with its reason.
    reason : str or None
        Why there is no cross-section (a case without donor groups); then :attr:`available`
        is False and ``placebo`` is empty.

    Examples
    --------
    >>> r, m = cross_section_returns(["NTR", "MOS", "IPI", "ICL", "KO", "PG", "XOM", "DOW", "LIN", "CAT", "JPM", "AAPL"],
    ...                              offline=True)
    >>> cs = cross_section_study("us-potash-easing-2025", returns=r, market=m)
    >>> cs.available, cs.window, sorted(cs.placebo)
    (True, '(0,1)', [('treated', 'car'), ('treated', 'scar')])
    """

    event_id: str
    session: pd.Timestamp
    window: str
    treated_label: str
    control_label: str
    placebo: dict = field(repr=False)
    screen: object = field(repr=False)
    synthetic: object = field(repr=False)
    synthetic_error: str | None = None
    notes: tuple = ()
    reason: str | None = None
    market: str = ""
    n_firms: int = 0

    @property
    def available(self) -> bool:
        """False when the case has no donor pool (:attr:`reason` says why): nothing else is set."""
        return self.reason is None

    def describe(self) -> str:
        """One line: the sample (firms, basis, market, day 0, window, donors) or why there is none."""
        if not self.available:
            return self.sentence()
        t = self.placebo[("treated", "car")]
        return (f"{self.n_firms} firms on price returns, market model on {self.market}; day 0 = {self.session.date()}, "
                f"window {self.window}; {len(t.treated)} treated, {len(self.placebo.get(('diff', 'car'), t).control)} "
                f"control and {len(t.donors)} donor firms.")

    def to_frame(self) -> pd.DataFrame:
        """The four in-space placebo rows (treated and difference, car and scar); empty when unavailable."""
        rows = []
        for (who, stat), res in self.placebo.items():
            rows.append({"comparison": who, **res.to_frame().iloc[0].to_dict()})
        return pd.DataFrame(rows)

    def table(self) -> pd.DataFrame:
        """One row per comparison (treated; treated - control): CAAR and mean SCAR with their in-space p.

        Returns
        -------
        DataFrame
            ``comparison, window, treated_firms, control_firms, n_donors, caar, p_car,
            mean_scar, p_scar, n_portfolios, exact``; empty when unavailable.
        """
        rows = []
        for who, label in (("treated", self.treated_label), ("diff", f"{self.treated_label} − {self.control_label}")):
            car, scar = self.placebo.get((who, "car")), self.placebo.get((who, "scar"))
            if car is None or scar is None:
                continue
            rows.append({"comparison": label, "window": self.window, "treated_firms": len(car.treated),
                         "control_firms": len(car.control), "n_donors": len(car.donors), "caar": car.statistic,
                         "p_car": car.p_value, "mean_scar": scar.statistic, "p_scar": scar.p_value,
                         "n_portfolios": car.n_portfolios, "exact": car.exact})
        return pd.DataFrame(rows)

    def key_numbers(self) -> dict:
        """JSON-able headline numbers for ``results.json`` and the index."""
        if not self.available:
            return {"event_id": self.event_id, "session": str(self.session.date()), "window": self.window,
                    "available": False, "reason": self.reason}
        def p(who, stat):
            r = self.placebo.get((who, stat))
            return None if r is None else float(r.p_value)

        k = {
            "event_id": self.event_id, "session": str(self.session.date()), "window": self.window,
            "p_in_space": p("treated", "scar"), "p_in_space_car": p("treated", "car"),
            "p_in_space_diff": p("diff", "scar"), "p_in_space_diff_car": p("diff", "car"),
            "mean_scar_treated": float(self.placebo[("treated", "scar")].statistic),
            "caar_treated": float(self.placebo[("treated", "car")].statistic),
            "n_donors": len(self.placebo[("treated", "car")].donors),
            "exact": bool(self.placebo[("treated", "car")].exact),
            "n_portfolios": int(self.placebo[("treated", "car")].n_portfolios),
        }
        if self.synthetic is not None:
            k.update(p_synthetic=float(self.synthetic.p_value), synthetic_ratio=float(self.synthetic.ratio))
        return k

    def results_dict(self) -> dict:
        """Every in-space result and the synthetic control as JSON-able dicts (``results.json``)."""
        out = {f"{who}_{stat}": res.to_dict() for (who, stat), res in self.placebo.items()}
        out["synthetic"] = self.synthetic.to_dict() if self.synthetic is not None else {"error": self.synthetic_error}
        if not self.available:
            out["reason"] = self.reason
        return out

    def sentence(self) -> str:
        """One generated paragraph: how unusual the move was in space, who moved most, the synthetic control."""
        if not self.available:
            return f"No cross-section for {self.event_id}: {self.reason}."
        t, tc = self.placebo[("treated", "scar")], self.placebo[("treated", "car")]

        def fp(pv):
            return f"{pv:.4f}" if pv < 0.01 else f"{pv:.3f}"

        def verdict(pv):
            return "unusual at the 5% level" if pv < 0.05 else "not unusual at the 5% level"

        how = "every" if t.exact else f"{t.n_portfolios:,} random"
        s = (f"On {self.session.date()} ({self.event_id}), the {self.treated_label} group's move over {self.window} "
             f"({len(t.treated)} firms, mean SCAR {t.statistic:+.2f}, CAAR {100 * tc.statistic:+.2f}%) was "
             f"{verdict(t.p_value)} against {how} same-size portfolios of {len(t.donors)} donor firms "
             f"(in-space p = {fp(t.p_value)} standardized, {fp(tc.p_value)} raw).")
        d = self.placebo.get(("diff", "scar"))
        if d is not None:
            s += (f" {self.treated_label.capitalize()} minus {self.control_label}: mean SCAR difference "
                  f"{d.statistic:+.2f}, in-space p = {fp(d.p_value)} ({verdict(d.p_value)}).")
        top, bottom = self.screen.top(3), self.screen.bottom(3)
        s += (f" Largest CARs over {self.window}: " + ", ".join(f"{r.firm} {100 * r.car:+.1f}%" for r in top.itertuples())
              + "; smallest: " + ", ".join(f"{r.firm} {100 * r.car:+.1f}%" for r in bottom.itertuples()) + ".")
        sc = self.synthetic
        if sc is not None:
            w = sc.weights[sc.weights > 0.005].head(3)
            s += (f" A synthetic control ({', '.join(f'{k} {v:.2f}' for k, v in w.items())}, ...) tracks the group "
                  f"before the event with RMSPE {100 * sc.rmspe_pre:.2f}%; its post/pre RMSPE ratio {sc.ratio:.2f} "
                  f"ranks with in-space p = {fp(sc.p_value)}.")
        elif self.synthetic_error:
            s += f" No synthetic control: {self.synthetic_error}."
        return s

    def summary(self) -> str:
        """The placebo summaries, the screen and the synthetic control, as text."""
        if not self.available:
            return self.sentence()
        parts = [r.summary() for r in self.placebo.values()] + [self.screen.summary()]
        parts.append(self.synthetic.summary() if self.synthetic is not None else f"no synthetic control: {self.synthetic_error}")
        return "\n\n".join(parts)

    def __str__(self) -> str:
        return self.summary()


def cross_section_study(event=None, *, treated=None, control=None, donors=None, window=(0, 1),
                        estimation_window=DEFAULT_ESTIMATION_WINDOW, post=(0, 5), n_portfolios: int = 10_000, seed=0,
                        min_estimation_obs: int = 120, case=None, offline: bool | None = None,
                        returns: pd.DataFrame | None = None, market: pd.Series | None = None,
                        session=None, benchmark: str | None = None) -> CrossSection:
    """The in-space placebo (treated; treated minus control; CAR and SCAR), the screen and the synthetic control.

    Parameters
    ----------
    event : str or dict, optional
        A catalog id, a date or a catalog record; default the case's ``default_event``.
        Aligned on the market's calendar (next session) unless ``session`` is given.
    treated, control, donors : list of str, optional
        Tickers or group names; defaults: the case's treated and control groups and donor groups.
    window, estimation_window, post : (int, int)
        The CAR window, the estimation window, the synthetic control's post window.
    n_portfolios, seed, min_estimation_obs
        As :func:`analysis.crosssection.placebo_in_space`.
    case : Case or path, optional
    offline : bool, optional
    returns, market : optional
        Price returns and the market (default :func:`cross_section_returns`).
    session : date-like, optional
        Day 0 if already aligned; default the event aligned to the next session of the
        market's calendar.
    benchmark : str, optional
        The market proxy's ticker when ``returns`` are loaded here; default the case's ``market``.

    ``None`` for ``window``, ``estimation_window``, ``post``, ``n_portfolios``, ``seed`` or
    ``min_estimation_obs`` means the default shown (the notebook passes its parameters
    through).

    Returns
    -------
    CrossSection

    Examples
    --------
    >>> r, m = cross_section_returns(["NTR", "MOS", "IPI", "ICL", "KO", "PG", "XOM", "DOW", "LIN", "CAT", "JPM", "AAPL"],
    ...                              offline=True)
    >>> cs = cross_section_study("us-potash-easing-2025", returns=r, market=m)
    >>> round(cs.key_numbers()["p_in_space"], 4), cs.key_numbers()["n_donors"]
    (0.0141, 8)
    """
    from .calendars import align_event

    window = (0, 1) if window is None else window
    estimation_window = DEFAULT_ESTIMATION_WINDOW if estimation_window is None else estimation_window
    post = (0, 5) if post is None else post
    n_portfolios = 10_000 if n_portfolios is None else int(n_portfolios)
    seed = 0 if seed is None else seed
    min_estimation_obs = 120 if min_estimation_obs is None else int(min_estimation_obs)
    case = as_case(case)
    mk = market.name if market is not None else (benchmark or case.settings.get("market", "SPY"))
    cal = dict(zip(case.universe["ticker"], case.universe["calendar"])).get(mk, "XNYS")
    rec = event if isinstance(event, dict) else case.event(event if event is not None else case.settings.get("default_event"))
    session = pd.Timestamp(align_event(rec["timestamp"], cal) if session is None else session)
    tname, cname = case.settings.get("treated_group"), case.settings.get("control_group")
    if donors is None and not donor_groups(case)[1]:
        return CrossSection(
            event_id=str(rec["event_id"]), session=session, window=window_label(window), treated_label=str(tname),
            control_label=str(cname), placebo={}, screen=None, synthetic=None,
            reason=f"the case's universe has none of the donor groups {donor_groups(case)[0]} (set donor_groups in "
                   f"case.toml or pass donors=)")
    if returns is None or market is None:
        returns, market = cross_section_returns(case=case, offline=offline, market=mk)
    cols = list(returns.columns)
    treated_l = _members(treated if treated is not None else [tname], cols, case, "treated")
    control_l = _members(control if control is not None else ([cname] if cname else []), cols, case, "control")
    donors_l = _members(donors, cols, case, "donors") if donors is not None else _default_donors(case, cols)
    donors_l = [d for d in donors_l if d not in set(treated_l) | set(control_l)]
    cars = firm_cars(returns, market, session, window, estimation_window, min_estimation_obs=min_estimation_obs)
    common = dict(window=window, estimation_window=estimation_window, n_portfolios=n_portfolios, seed=seed,
                  case=case, cars=cars)
    placebo = {}
    for stat in ("scar", "car"):
        placebo[("treated", stat)] = placebo_in_space(returns, market, session, treated_l, donors_l, statistic=stat, **common)
        if control_l:
            placebo[("diff", stat)] = placebo_in_space(returns, market, session, treated_l, donors_l, control=control_l,
                                                       statistic=stat, **common)
    scr = screen(returns, market, session, window, donors=donors_l, estimation_window=estimation_window,
                 n_portfolios=n_portfolios, seed=seed, case=case, cars=cars)
    sc, sc_err = None, None
    try:
        sc = synthetic_control(returns, session, treated_l, donors_l, estimation_window, post, case=case)
    except (DataError, EventStudyError) as exc:  # recorded: the notebook says why there is none
        sc_err = str(exc)
    notes = _notes(returns, session, estimation_window, post, [*placebo.values(), scr, sc])
    return CrossSection(
        event_id=str(rec["event_id"]), session=session, window=window_label(window), notes=tuple(notes),
        market=str(market.name), n_firms=int(returns.shape[1]),
        treated_label=str(treated if isinstance(treated, str) else (tname if treated is None else "treated")),
        control_label=str(control if isinstance(control, str) else (cname if control is None else "control")),
        placebo=placebo, screen=scr, synthetic=sc, synthetic_error=sc_err,
    )


def _notes(returns, session, estimation_window, post, results) -> list[str]:
    """Sample notes: blanked days inside the study's span, and every firm left out, with its reason."""
    idx = pd.DatetimeIndex(returns.index)
    pos = int(idx.get_indexer([session])[0])
    lo = idx[max(pos + parse_window(estimation_window)[0], 0)]
    hi = idx[min(pos + parse_window(post)[1], len(idx) - 1)]
    out = [f"{t} {day}: {why}" for t, days in returns.attrs.get("blanked", {}).items() for day, why in days.items()
           if lo <= pd.Timestamp(day) <= hi]
    for res in results:
        if res is None:
            continue
        for r in res.dropped.itertuples():
            out.append(f"{r.firm} ({r.role}) left out: {r.reason}")
    return list(dict.fromkeys(out))


# --------------------------------------------------------------------------- the catalog
IN_SPACE_COLUMNS = ("p_in_space", "p_in_space_car", "p_in_space_diff", "n_donors", "in_space")


def catalog_in_space(table: pd.DataFrame, *, treated, control, case=None, offline: bool | None = None,
                     estimation_window=DEFAULT_ESTIMATION_WINDOW, min_estimation_obs: int = 120,
                     n_portfolios: int = 10_000, seed=0, donors=None) -> pd.DataFrame:
    """:func:`~analysis.catalog_study.study_catalog`'s table with the in-space p of each covered event and window.

    An event is covered when every donor has a return on each session from the first
    day of the estimation window to the last day of the widest event window; other rows
    say why in ``in_space``.

    Parameters
    ----------
    table : DataFrame
        The catalog table (``event_id``, ``session``, ``window``, ``status`` columns).
    treated, control : list of str
        The firms of the catalog study.
    case : Case or path, optional
    offline : bool, optional
    estimation_window, min_estimation_obs, n_portfolios, seed, donors
        As :func:`analysis.crosssection.placebo_in_space` (statistic ``scar``; ``car`` too).

    Returns
    -------
    DataFrame
        ``table`` with ``p_in_space`` (treated, SCAR), ``p_in_space_car``,
        ``p_in_space_diff`` (treated - control, SCAR), ``n_donors`` and ``in_space``
        (``ok`` or the reason there is no p).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"event_id": ["us-potash-easing-2025"], "session": [pd.Timestamp("2025-12-15")],
    ...                       "window": ["(0,1)"], "status": ["ok"]})
    >>> out = catalog_in_space(table, treated=["NTR", "MOS", "IPI", "ICL"], control=["CF", "LXU"], offline=True,
    ...                        n_portfolios=200)
    >>> out[["p_in_space", "n_donors", "in_space"]].round(4).values.tolist()
    [[0.005, 40, 'ok']]
    """
    out = table.copy()
    for c in IN_SPACE_COLUMNS:
        out[c] = np.nan if c != "in_space" else None
    out["n_donors"] = out["n_donors"].astype("Int64")
    if not len(out):
        return out
    case = as_case(case)
    try:
        returns, market = cross_section_returns(case=case, offline=offline)
        pool = _members(donors, list(returns.columns), case, "donors") if donors is not None else _default_donors(
            case, list(returns.columns))
    except DataError as exc:
        out["in_space"] = f"no donor data: {exc}"
        return out
    pool = [d for d in pool if d not in set(treated) | set(control)]
    idx = pd.DatetimeIndex(returns.index)
    have = returns[pool].notna().to_numpy()
    est = parse_window(estimation_window)
    windows = [parse_window(w) for w in dict.fromkeys(out["window"])]
    hull = (min(est[0], *(w[0] for w in windows)), max(w[1] for w in windows))
    firms = list(dict.fromkeys(list(treated) + list(control) + pool))
    draws: dict = {}
    for session, rows in out.groupby("session", sort=False).groups.items():  # events sharing a session: one fit
        session = pd.Timestamp(session)
        pos = int(idx.get_indexer([session])[0])
        try:
            if pos < 0:
                raise DataError(f"{session.date()} is not in the donors' sessions")
            a, b = window_rows(pos, hull, len(idx), around=str(session.date()))
            if not have[a:b].all():
                raise DataError(f"the donors' data do not cover {idx[a].date()}..{idx[b - 1].date()}")
            cars = firm_cars_windows(returns.iloc[a:b][firms], market.iloc[a:b], session, windows, estimation_window,
                                     min_estimation_obs=min_estimation_obs)
        except (DataError, EventStudyError) as exc:
            out.loc[rows, "in_space"] = f"not covered: {exc}"
            continue
        for r in rows:
            c = cars[parse_window(out.loc[r, "window"])]
            t = [f for f in treated if f in c.index]
            k = [f for f in control if f in c.index]
            d = [f for f in pool if f in c.index]
            if not t or len(d) < len(t) + len(k):
                out.loc[r, "in_space"] = "too few firms with a CAR"
                continue
            for col, stat, ctl in (("p_in_space", "scar", []), ("p_in_space_car", "car", []), ("p_in_space_diff", "scar", k)):
                if col == "p_in_space_diff" and not k:
                    continue
                tv, dist, _ = _placebo_from_values(c[stat], t, ctl, d, n_portfolios=n_portfolios, seed=seed,
                                                   draws=draws)
                out.loc[r, col] = in_space_p(tv, dist)
            out.loc[r, "n_donors"] = len(d)
            out.loc[r, "in_space"] = "ok"
    return out


__all__ = ["cross_section_returns", "cross_section_study", "CrossSection", "catalog_in_space", "IN_SPACE_COLUMNS"]
