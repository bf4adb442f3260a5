"""The event-study engine run over every event of the catalog, with overlaps made explicit.

:func:`study_catalog` loads the daily total returns **once**, aligns every catalog event
to the first session that could react (:func:`analysis.catalog.align_events`), and
runs :func:`analysis.eventstudy.event_study` and
:func:`analysis.eventstudy.compare_groups` (treated = the case's treated group, control
= its control group) for each event the data covers. Nothing about potash is in the
code: groups, market and expected signs come from the case folder's ``case.toml``.

Coverage rules (never fail the whole run)
-----------------------------------------
* The event windows must lie inside the data; otherwise the event is reported with
  status ``insufficient data`` and the reason.
* If the estimation window starts before the data, it is **truncated** to the data
  (the note says so) and used if it still holds ``min_estimation_obs`` sessions.
* Firms with fewer than ``min_estimation_obs`` valid estimation returns are excluded by
  the engine (e.g. LXU, listed in the snapshot from 2024-11 only, for the 2021-2022
  events, whose control group is then CF alone); ``n_treated`` / ``n_control`` report
  what each window really used (the engine's firm-set rule: the firms observed on every
  day of the window), and ``reason`` names every firm left out and why, including a
  window that runs past a firm's data. A group left empty makes the event
  ``insufficient data``.
* Any other failure of one event is caught and recorded with status ``error``.

Overlapping events: clusters
----------------------------
Two sanction-news events (kinds with an expected sign in ``case.toml``: easing,
tightening) are linked when their *event spans* -- the hull ``[min a, max b]`` of the
event windows around each aligned session, counted in exchange sessions -- overlap;
linked events form a cluster (connected components). Every event keeps its own row and
its cluster id (``cluster``, ``cluster_lead``, ``cluster_size``): nothing is merged
silently. The sign-consistency summary counts **one vote per cluster**, from the
cluster's lead event (its earliest member), so 2025-12-13 (easing announced) and
2025-12-15 (GL 13), which align to the same session, are one observation, not two.
Confounders (kind ``confounder``) are not linked into clusters (they would chain
unrelated news together); they are *flagged* per window in the ``confounders`` column
of every event whose window they fall in, alongside other catalog events in the same
window (``other_events``).

Confidence intervals
--------------------
``se_diff = sd(LS over the estimation window) * sqrt(L)`` is the Brown-Warner crude
dependence standard error of the producers-minus-controls CAAR used by the engine's
``t_crude_dependence``; ``ci_low``/``ci_high`` are ``diff +- t_{m-1, 0.975} se_diff``.
``se_treated`` / ``ci_treated_*`` are the same for the producers' portfolio CAAR. Both
come from :attr:`analysis.eventstudy.GroupComparison.standard_errors` (one
implementation, :func:`analysis.eventstudy.portfolio_sd`), on each window's firm set.

Length: the module is one concern, the engine over every catalog event (event selection,
clusters, per-event firm sets, confounder flags and the :class:`CatalogStudy` result), and
of its 662 lines 420 are code and 180 docstrings, the volume columns already being in
:mod:`analysis.volume_catalog`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from . import config
from .distributions import t_quantile
from .errors import CatalogError, DataError, InsufficientDataError, WindowRangeError
from .windows import DEFAULT_ESTIMATION_WINDOW, parse_window, parse_windows, window_label, window_rows, window_span
from .windows import DEFAULT_WINDOWS as _ENGINE_WINDOWS

INSUFFICIENT = "insufficient data"
#: ``confounders_nearby`` lists catalog confounders within this many sessions of day 0
#: (inside or outside the windows), with their relative day.
NEARBY = 5
#: The catalog's event windows: the engine's :data:`analysis.windows.DEFAULT_WINDOWS`
#: without (-5,5), an explicit choice. The cluster rule links events whose window
#: *spans* overlap; an 11-session span (-5,5) would chain neighbouring news into larger
#: clusters (fewer votes), and demand 5 sessions of data after the newest event. The
#: published catalog numbers use these four windows.
CATALOG_WINDOWS = tuple(w for w in _ENGINE_WINDOWS if w != (-5, 5))
DEFAULT_WINDOWS = CATALOG_WINDOWS  # the name before analysis.windows existed

_WINDOW_COLUMNS = [
    "window",
    "caar_treated",
    "caar_control",
    "diff",
    "t_crude_dependence",
    "p_crude_dependence",
    "p_placebo",
    "n_treated",
    "n_control",
    "se_treated",
    "se_diff",
    "ci_low",
    "ci_high",
    "ci_treated_low",
    "ci_treated_high",
    "confounders",
    "other_events",
]
_EVENT_COLUMNS = [
    "event_id",
    "kind",
    "title",
    "date",
    "session",
    "status",
    "reason",
    "cluster",
    "cluster_lead",
    "cluster_size",
    "confounders_nearby",
    "estimation_window",
    "treated",
    "control",
]


# --------------------------------------------------------------------------- clusters
def find_clusters(events: pd.DataFrame, sessions: pd.DatetimeIndex, span: tuple[int, int], kinds=None) -> pd.DataFrame:
    """Cluster events whose spans ``[session+span[0], session+span[1]]`` (in ``sessions``) overlap.

    ``events`` needs ``event_id, kind, session`` (aligned) and is taken in time order.
    Only events whose kind is in ``kinds`` are linked (default: every kind); the others
    are singleton clusters.

    Parameters
    ----------
    events : DataFrame
        Columns ``event_id``, ``kind`` and ``session`` (from :func:`analysis.catalog.align_events`).
    sessions : DatetimeIndex
        The calendar's sessions, covering every span.
    span : (int, int)
        Relative sessions around each event that must not overlap another's (the hull of
        the event windows).
    kinds : iterable of str, optional
        The kinds that are linked; default every kind.

    Returns
    -------
    DataFrame
        ``events`` with ``cluster`` (1, 2, ... in time order), ``cluster_lead`` (the
        earliest member's id) and ``cluster_size``.

    Examples
    --------
    >>> from analysis.calendars import exchange_sessions
    >>> from analysis.catalog import align_events, load_events
    >>> ev = load_events()
    >>> ev = align_events(ev[ev["event_id"].isin(["belavia-relief-2025", "us-potash-easing-2025", "ofac-gl13-2025"])])
    >>> cl = find_clusters(ev, exchange_sessions("2025-08-01", "2026-01-31"), (-1, 1))
    >>> cl[["event_id", "cluster", "cluster_lead"]].values.tolist()
    [['belavia-relief-2025', 1, 'belavia-relief-2025'], ['us-potash-easing-2025', 2, 'us-potash-easing-2025'], ['ofac-gl13-2025', 2, 'us-potash-easing-2025']]
    """
    ev = events.reset_index(drop=True).copy()
    sessions = pd.DatetimeIndex(sessions)
    pos = sessions.searchsorted(pd.DatetimeIndex(ev["session"]))
    start, end = pos + int(span[0]), pos + int(span[1])
    link = np.ones(len(ev), bool) if kinds is None else ev["kind"].isin(list(kinds)).to_numpy()
    order = np.lexsort((np.arange(len(ev)), pos))
    cluster = np.zeros(len(ev), int)
    cid, open_end, open_id = 0, None, None
    for i in order:
        if link[i] and open_id is not None and start[i] <= open_end:
            cluster[i] = open_id
            open_end = max(open_end, end[i])
            continue
        cid += 1
        cluster[i] = cid
        if link[i]:
            open_id, open_end = cid, end[i]
    ev["cluster"] = cluster
    lead = {}
    for i in order:
        lead.setdefault(cluster[i], ev.loc[i, "event_id"])
    ev["cluster_lead"] = [lead[c] for c in cluster]
    ev["cluster_size"] = ev.groupby("cluster")["event_id"].transform("size").astype(int)
    return ev


# --------------------------------------------------------------------------- result
class CatalogStudy:
    """Results of :func:`study_catalog`: one tidy table, clusters, sign consistency, plots.

    The computation lives in :func:`study_catalog`; this container only reshapes it.
    Built by :func:`study_catalog`, never directly.

    Attributes
    ----------
    settings : dict
        The run's parameters: groups, market, windows, model, min_estimation_obs, exchange.
    windows : list of str
        The event-window labels.
    results, comparisons : dict
        Event id -> :class:`~analysis.eventstudy.EventStudyResult` /
        :class:`~analysis.eventstudy.GroupComparison`, covered events only.
    clusters : DataFrame
        Events whose windows overlap another catalog event's.

    Examples
    --------
    >>> s = study_catalog(["us-potash-easing-2025", "eu-belaruskali-2022"], offline=True)
    >>> s.n_covered, s.windows
    (2, ['(-1,1)', '(0,0)', '(0,1)', '(0,5)'])
    >>> sorted(s.results)
    ['eu-belaruskali-2022', 'us-potash-easing-2025']
    """

    def __init__(self, *, table, clusters, results, comparisons, settings, expected_sign):
        self._table = table
        self._clusters = clusters
        self._results = results
        self._comparisons = comparisons
        self._settings = settings
        self._expected = dict(expected_sign)

    # ------------------------------------------------------------------ properties
    @property
    def settings(self) -> dict:
        """The parameters of the run (groups, market, windows, model, min_estimation_obs)."""
        return dict(self._settings)

    @property
    def windows(self) -> list[str]:
        """Event-window labels ``"(a,b)"``."""
        return [window_label(w) for w in self._settings["event_windows"]]

    @property
    def results(self) -> dict:
        """Engine results (:class:`~analysis.eventstudy.EventStudyResult`) by event id, covered events only."""
        return dict(self._results)

    @property
    def comparisons(self) -> dict:
        """:class:`~analysis.eventstudy.GroupComparison` by event id, covered events only."""
        return dict(self._comparisons)

    @property
    def clusters(self) -> pd.DataFrame:
        """One row per cluster of overlapping events: cluster, lead, members, kinds, sessions, size, mixed."""
        return self._clusters.copy()

    @property
    def n_events(self) -> int:
        """Events in the run."""
        return int(self._table["event_id"].nunique())

    @property
    def n_covered(self) -> int:
        """Events the data covers (status ``ok``)."""
        return int(self._table.loc[self._table["status"] == "ok", "event_id"].nunique())

    # ------------------------------------------------------------------ tables
    def to_frame(self, window: str | None = None) -> pd.DataFrame:
        """The tidy table: one row per (event, window); ``window="(0,1)"`` gives one row per event."""
        t = self._table
        if window is not None:
            if window not in self.windows:
                raise DataError(f"unknown window {window!r}: use one of {', '.join(self.windows)}")
            t = t[t["window"] == window]
        return t.reset_index(drop=True).copy()

    def insufficient(self) -> pd.DataFrame:
        """Events not estimated (``insufficient data`` or ``error``), one row each, with the reason."""
        t = self.to_frame(self.windows[0])
        return t.loc[t["status"] != "ok", ["event_id", "kind", "date", "session", "status", "reason"]].reset_index(drop=True)

    def sign_consistency(self, window: str | None = None) -> pd.DataFrame:
        """Across kinds with an expected sign: mean producer CAAR and share of the expected sign.

        One vote per cluster: the cluster's lead event, if the data covers it and its
        kind has an expected sign. Columns: kind, window, expected_sign, n_catalog
        (events of that kind in the run), n_covered (of those, estimated),
        n_votes (clusters voting), mean_caar_treated, share_expected_treated,
        mean_diff, share_expected_diff, voters (the lead event ids).
        """
        wins = self.windows if window is None else [window]
        t = self._table
        rows = []
        for kind, sign in self._expected.items():
            for w in wins:
                tw = t[(t["window"] == w) & (t["kind"] == kind)]
                lead = tw[(tw["event_id"] == tw["cluster_lead"]) & (tw["status"] == "ok")]
                ct, d = lead["caar_treated"].astype(float), lead["diff"].astype(float)
                rows.append(
                    {
                        "kind": kind,
                        "window": w,
                        "expected_sign": int(sign),
                        "n_catalog": int(len(tw)),
                        "n_covered": int((tw["status"] == "ok").sum()),
                        "n_votes": int(len(lead)),
                        "mean_caar_treated": float(ct.mean()) if len(ct) else np.nan,
                        "share_expected_treated": float((np.sign(ct) == sign).mean()) if len(ct) else np.nan,
                        "mean_diff": float(d.mean()) if len(d) else np.nan,
                        "share_expected_diff": float((np.sign(d) == sign).mean()) if len(d) else np.nan,
                        "voters": ", ".join(lead["event_id"]),
                    }
                )
        return pd.DataFrame(rows)

    def caar_paths(self, event_ids=None) -> pd.DataFrame:
        """Producer and control CAAR paths, tidy: event_id, day, treated, control, diff (covered events)."""
        ids = list(self._comparisons) if event_ids is None else list(event_ids)
        frames = []
        for e in ids:
            if e not in self._comparisons:
                raise DataError(f"no estimated comparison for {e!r}: covered events are {', '.join(self._comparisons)}")
            p = self._comparisons[e].caar_path.reset_index()
            p.insert(0, "event_id", e)
            frames.append(p)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["event_id", "day", "treated", "control", "diff"])

    def summary(self, window: str = "(0,1)") -> str:
        """Text: coverage, the per-event table for ``window``, clusters and sign consistency."""
        t = self.to_frame(window)
        s = self._settings
        lines = [
            f"Catalog study, window {window}: treated {', '.join(s['treated'])} vs control {', '.join(s['control'])}, "
            f"market {s['market']}, model {s['model']}, estimation {s['estimation_window']}",
            f"{self.n_covered} of {self.n_events} catalog events covered by the data",
            "",
            f"{'event':<34}{'kind':<11}{'session':<11}{'cl':>3}{'prod':>8}{'ctrl':>8}{'diff':>8}{'t':>7}{'p':>7}{'p_pl':>7}{'nT':>3}{'nC':>3}  confounders",
        ]
        for r in t.itertuples():
            sess = "" if pd.isna(r.session) else str(pd.Timestamp(r.session).date())
            if r.status != "ok":
                lines.append(f"{r.event_id:<34}{r.kind:<11}{sess:<11}{r.cluster:>3}  {r.status}: {r.reason}")
                continue
            lines.append(
                f"{r.event_id:<34}{r.kind:<11}{sess:<11}{r.cluster:>3}{r.caar_treated:8.2%}{r.caar_control:8.2%}"
                f"{r.diff:8.2%}{r.t_crude_dependence:7.2f}{r.p_crude_dependence:7.3f}{r.p_placebo:7.3f}"
                f"{r.n_treated:>3}{r.n_control:>3}  {r.confounders if isinstance(r.confounders, str) else ''}"
            )
        multi = self._clusters[self._clusters["size"] > 1]
        lines += ["", f"clusters of overlapping events ({len(multi)}):"]
        for r in multi.itertuples():
            lines.append(f"  {r.cluster}: {r.members} (lead {r.lead}; sessions {r.first_session.date()}..{r.last_session.date()})")
        sc = self.sign_consistency(window)
        lines += ["", "sign consistency (one vote per cluster, lead event):"]
        for r in sc.itertuples():
            lines.append(
                f"  {r.kind:<11} expected {r.expected_sign:+d}: {r.n_votes} votes ({r.n_covered}/{r.n_catalog} events covered); "
                f"mean producer CAAR {r.mean_caar_treated:+.2%}, share expected {r.share_expected_treated:.0%}; "
                f"mean diff {r.mean_diff:+.2%}, share expected {r.share_expected_diff:.0%}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<CatalogStudy {self.n_covered}/{self.n_events} events covered, windows {self.windows}>"

    def plot(self, window: str = "(0,1)", **kw):
        """Forest plot of the producers-minus-controls CAAR per event (:func:`analysis.plots.plot_forest`)."""
        from .plots import plot_forest

        return plot_forest(self.to_frame(), window=window, **kw)


# --------------------------------------------------------------------------- driver
def _select_events(events, data_dir):
    from .catalog import load_events

    catalog = load_events(data_dir)
    if events is None:
        return catalog, catalog
    if isinstance(events, pd.DataFrame):
        return events.reset_index(drop=True), catalog
    ids = [events] if isinstance(events, str) else list(events)
    unknown = [e for e in ids if e not in set(catalog["event_id"])]
    if unknown:
        raise CatalogError(f"unknown event id(s) {', '.join(map(str, unknown))}: see `potash-impact events`")
    return catalog[catalog["event_id"].isin(ids)].reset_index(drop=True), catalog


def _group_default(case_key, case, universe, exchange, offline):
    from .catalog import group_tickers

    group = case.get(case_key)
    if not group:
        raise CatalogError(f"case.toml has no {case_key!r}: name the universe group, e.g. {case_key} = \"...\"")
    return group_tickers(group, universe, offline_only=config.is_offline(offline), exchange=exchange)


def study_catalog(
    events=None,
    *,
    treated=None,
    control=None,
    market=None,
    estimation_window=DEFAULT_ESTIMATION_WINDOW,
    event_windows=CATALOG_WINDOWS,
    model: str = "market",
    min_estimation_obs: int = 120,
    exchange: str = "XNYS",
    data_dir=None,
    offline: bool | None = None,
    returns: pd.DataFrame | None = None,
    volumes: pd.DataFrame | None = None,
) -> CatalogStudy:
    """Run the event study on every catalog event the data covers.

    Parameters
    ----------
    events : None, list of ids, or DataFrame
        Default the whole catalog (``events.csv``). Confounders inside each window are
        always looked up in the whole catalog.
    treated, control : list of str, optional
        Default the case's ``treated_group`` / ``control_group`` listed on ``exchange``
        (offline: those in the snapshot).
    market : str, optional
        Market-model regressor, default the case's ``market``.
    estimation_window, event_windows, model, min_estimation_obs
        Passed to :func:`analysis.eventstudy.event_study`.
    exchange : str
        Calendar for alignment and session counting.
    data_dir : str, path-like or Case, optional
        The case folder (default ``$POTASH_IMPACT_DATA``, else the bundled ``data/``):
        its ``case.toml`` groups and market, ``events.csv`` and ``universe.csv``.
    offline : bool, optional
        Read only the snapshot and the cache (default ``$POTASH_IMPACT_OFFLINE``); also
        limits the default groups to tickers with a price file.
    returns : DataFrame, optional
        Daily total returns (sessions x tickers, including ``market``); default
        :func:`analysis.data.load_returns` of the tickers, loaded once.
    volumes : DataFrame, optional
        Share volume (sessions x tickers) for the volume and volatility columns
        (:func:`analysis.volume_catalog.catalog_volume`); default
        :func:`analysis.volume.load_volumes` of the treated firms.

    Returns
    -------
    CatalogStudy

    Raises
    ------
    CatalogError
        An unknown event id, no market proxy, or an empty group in the case settings.
    DataError
        ``returns`` lacks a ticker of the groups or the market.

    Examples
    --------
    >>> s = study_catalog(["us-potash-easing-2025", "eu-belaruskali-2022"], offline=True)
    >>> s.to_frame("(0,1)")[["event_id", "n_treated", "n_control"]].values.tolist()
    [['eu-belaruskali-2022', 4, 1], ['us-potash-easing-2025', 4, 2]]
    """
    from .calendars import exchange_sessions
    from .catalog import align_events, load_case, load_universe
    from .data import load_returns
    from . import eventstudy
    from .eventstudy import EventStudyWarning, event_study

    case = load_case(data_dir)
    universe = load_universe(data_dir)
    treated = list(treated) if treated is not None else _group_default("treated_group", case, universe, exchange, offline)
    control = list(control) if control is not None else _group_default("control_group", case, universe, exchange, offline)
    market = market or case.get("market")
    if not market:
        raise CatalogError("no market proxy: pass market= or set market = \"SPY\" in case.toml")
    if not treated or not control:
        raise CatalogError(f"empty group (treated={treated}, control={control}): check case.toml and universe.csv")
    expected = {str(k): int(v) for k, v in (case.get("expected_sign") or {}).items()}
    windows = parse_windows(event_windows)
    hull = window_span(windows)
    est = parse_window(estimation_window, name="estimation_window")

    sel, catalog = _select_events(events, data_dir)
    cat = align_events(catalog, exchange)
    sel = sel.merge(cat[["event_id", "session"]], on="event_id", how="left") if "session" not in sel else sel
    lo = min(cat["session"].min(), sel["session"].min()) - pd.Timedelta(days=40)
    hi = max(cat["session"].max(), sel["session"].max()) + pd.Timedelta(days=40)
    cal_sessions = exchange_sessions(lo, hi, exchange)
    sel = find_clusters(sel, cal_sessions, hull, kinds=list(expected) or None)

    tickers = list(dict.fromkeys(treated + control + [market]))
    if returns is None:
        returns = load_returns(tickers, offline=offline, data_dir=data_dir)
    missing = [t for t in tickers if t not in returns.columns]
    if missing:
        raise DataError(f"returns lack {', '.join(missing)}: load them or change the groups")
    returns = returns[tickers].sort_index()
    firms = returns[[t for t in tickers if t != market]]
    mkt = returns[market]
    idx = pd.DatetimeIndex(returns.index)
    cpos = pd.Series(np.arange(len(cal_sessions)), index=cal_sessions)
    cat_pos = cpos.reindex(pd.DatetimeIndex(cat["session"])).to_numpy()

    rows, results, comps = [], {}, {}
    for ev in sel.to_dict("records"):
        eid, session = ev["event_id"], pd.Timestamp(ev["session"])
        base = {
            "event_id": eid,
            "kind": ev["kind"],
            "title": ev.get("title"),
            "date": pd.Timestamp(ev["date"]).date(),
            "session": session,
            "cluster": int(ev["cluster"]),
            "cluster_lead": ev["cluster_lead"],
            "cluster_size": int(ev["cluster_size"]),
        }
        # confounders and other catalog events inside each window (calendar sessions)
        p0 = int(cpos[session])
        flags = {}
        for w in windows:
            inside = (cat_pos >= p0 + w[0]) & (cat_pos <= p0 + w[1]) & (cat["event_id"] != eid).to_numpy()
            hits = cat[inside]
            conf = hits[hits["kind"] == "confounder"]["event_id"]
            other = hits[hits["kind"] != "confounder"]["event_id"]
            flags[window_label(w)] = ("; ".join(conf) or None, "; ".join(other) or None)
        near = (np.abs(cat_pos - p0) <= NEARBY) & (cat["kind"] == "confounder").to_numpy() & (cat["event_id"] != eid).to_numpy()
        base["confounders_nearby"] = "; ".join(
            f"{i} ({int(d):+d})" for i, d in zip(cat.loc[near, "event_id"], cat_pos[near] - p0)
        ) or None

        status, reason, res, comp, note, ew = "ok", None, None, None, [], None
        try:
            if session not in idx:
                raise _Insufficient(
                    f"aligned session {session.date()} is outside the returns "
                    f"({idx[0].date()} to {idx[-1].date()})"
                )
            pos = int(idx.get_loc(session))
            try:
                window_rows(pos, hull, len(idx))
            except WindowRangeError:
                raise _Insufficient(
                    f"event windows need days {hull[0]}..{hull[1]} around {session.date()}; the data has "
                    f"{pos} sessions before and {len(idx) - pos - 1} after"
                ) from None
            # the estimation window is clipped at the start of the data (documented: truncated, noted)
            e0 = window_rows(pos, est, len(idx), clip=True)[0] - pos
            if e0 > est[0]:
                avail = est[1] - e0 + 1
                if avail < min_estimation_obs:
                    raise _Insufficient(
                        f"estimation window {est} needs {est[1] - est[0] + 1} sessions but the data starts "
                        f"{pos} sessions before the event: {max(avail, 0)} available < min_estimation_obs="
                        f"{min_estimation_obs}"
                    )
                note.append(f"estimation window truncated to ({e0},{est[1]}) by the start of the data")
            ew = (e0, est[1])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", EventStudyWarning)  # exclusions are recorded in `reason`
                try:
                    res = event_study(
                        firms, mkt, session, estimation_window=ew, event_windows=windows,
                        model=model, min_estimation_obs=min_estimation_obs,
                    )
                except InsufficientDataError as exc:
                    raise _Insufficient(str(exc)) from None
                excl = res.excluded_from_estimation
                t_used = [t for t in treated if t not in excl]
                c_used = [t for t in control if t not in excl]
                if excl:
                    note.append("excluded: " + "; ".join(f"{k} ({v})" for k, v in excl.items()))
                late = res.excluded[~res.excluded["firm"].isin(list(excl))]
                for (firm, why), grp in late.groupby(["firm", "reason"], sort=False):
                    note.append(f"{firm} left out of {', '.join(grp['window'])} ({why})")
                if not t_used or not c_used:
                    raise _Insufficient(
                        f"no {'treated' if not t_used else 'control'} firm has {min_estimation_obs} estimation returns "
                        f"({'; '.join(f'{k}: {v}' for k, v in excl.items())})"
                    )
                comp = eventstudy.compare_groups(res, treated=t_used, control=c_used)
        except _Insufficient as exc:
            status, reason = INSUFFICIENT, str(exc)
        except Exception as exc:  # one bad event never stops the run
            status, reason = "error", f"{type(exc).__name__}: {exc}"
        if note and status == "ok":
            reason = "; ".join(note)

        ev_cols = {
            **base,
            "status": status,
            "reason": reason,
            "estimation_window": None if ew is None or status != "ok" else window_label(ew),
            "treated": ", ".join(comp.treated) if comp is not None else None,
            "control": ", ".join(comp.control) if comp is not None else None,
        }
        if comp is None:
            for w in windows:
                lab = window_label(w)
                rows.append({**ev_cols, "window": lab, "confounders": flags[lab][0], "other_events": flags[lab][1]})
            continue
        results[eid], comps[eid] = res, comp
        gt = comp.to_frame().set_index("window")
        se = comp.standard_errors.set_index("window")  # Brown-Warner portfolio se of each window's firm set
        for w in windows:
            lab = window_label(w)
            g = gt.loc[lab]
            se_d, se_t = float(se.loc[lab, "se_diff"]), float(se.loc[lab, "se_treated"])
            q_ls = t_quantile(0.975, se.loc[lab, "m_diff"] - 1)
            q_t = t_quantile(0.975, se.loc[lab, "m_treated"] - 1)
            d, ct = float(g["diff"]), float(g["caar_treated"])
            rows.append(
                {
                    **ev_cols,
                    "window": lab,
                    "caar_treated": ct,
                    "caar_control": float(g["caar_control"]),
                    "diff": d,
                    "t_crude_dependence": float(g["t_crude_dependence"]),
                    "p_crude_dependence": float(g["p_crude_dependence"]),
                    "p_placebo": float(g["p_placebo"]),
                    "n_treated": int(g["n_treated"]),
                    "n_control": int(g["n_control"]),
                    "se_treated": se_t,
                    "se_diff": se_d,
                    "ci_low": d - q_ls * se_d,
                    "ci_high": d + q_ls * se_d,
                    "ci_treated_low": ct - q_t * se_t,
                    "ci_treated_high": ct + q_t * se_t,
                    "confounders": flags[lab][0],
                    "other_events": flags[lab][1],
                }
            )

    table = pd.DataFrame(rows).reindex(columns=_EVENT_COLUMNS + _WINDOW_COLUMNS)
    for c in ("n_treated", "n_control"):
        table[c] = table[c].astype("Int64")
    from .volume_catalog import catalog_volume  # issue 12: abnormal volume and day-0 volatility columns

    table = table.merge(catalog_volume(results, comps, windows, volumes=volumes, min_estimation_obs=min_estimation_obs,
                                       data_dir=data_dir, offline=offline), on=["event_id", "window"], how="left")
    from .crosssection_suite import catalog_in_space  # issue 13: in-space p where the donors' data cover the event

    table = catalog_in_space(table, treated=treated, control=control, case=data_dir, offline=offline,
                             estimation_window=est, min_estimation_obs=min_estimation_obs)
    clusters = (
        sel.groupby("cluster", sort=True)
        .agg(
            lead=("cluster_lead", "first"),
            members=("event_id", lambda s: ", ".join(s)),
            kinds=("kind", lambda s: ", ".join(dict.fromkeys(s))),
            first_session=("session", "min"),
            last_session=("session", "max"),
            size=("event_id", "size"),
        )
        .reset_index()
    )
    clusters["mixed"] = clusters["kinds"].str.contains(",")
    settings = {
        "treated": treated,
        "control": control,
        "market": market,
        "estimation_window": est,
        "event_windows": windows,
        "model": model,
        "min_estimation_obs": int(min_estimation_obs),
        "exchange": exchange,
    }
    return CatalogStudy(
        table=table, clusters=clusters, results=results, comparisons=comps, settings=settings, expected_sign=expected
    )


class _Insufficient(Exception):
    """Internal: the data does not cover this event (recorded as ``insufficient data``)."""


__all__ = ["study_catalog", "CatalogStudy", "find_clusters", "INSUFFICIENT"]
