"""Volume and volatility across the catalog: per-event columns for ``study_catalog`` and the kind comparison.

:func:`catalog_volume` runs :func:`analysis.volume.volume_study` on each covered catalog
event's treated firms (same session, same estimation window as the returns study) and
reads the day-0 return volatility of those firms from the returns study
(:func:`analysis.eventstudy.volatility.event_volatility`). :func:`volume_by_kind` and
:func:`kind_difference` answer "did tightening events move volume more than easing
ones?" with one vote per cluster of overlapping events (the cluster's lead event, as
:meth:`analysis.catalog_study.CatalogStudy.sign_consistency`).

``kind_difference`` is an exact permutation test: the difference of the two kinds' mean
CAARs against its value under every reassignment of the kind labels among the voting
events (Fisher 1935; with 8 and 4 votes that is C(12, 4) = 495 splits), two-sided,
``p = #{|d_s| >= |d|} / #splits`` (the observed split included). It assumes the events
are exchangeable under H0, nothing about the distribution.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from .errors import DataError, PotashImpactError
from .volume import load_volumes, volume_study

__all__ = ["catalog_volume", "kind_difference", "kind_difference_sentence", "volume_by_kind"]

#: Exact permutation up to this many splits, else a fixed-seed Monte Carlo of this many.
MAX_SPLITS = 200_000


_CATALOG_COLUMNS = ["volume_caar", "volume_p_rank", "volume_p_placebo", "volume_n",
                    "volatility_p_day0", "volatility_p_placebo_day0", "volume_note"]


def catalog_volume(results: dict, comparisons: dict, windows, *, volumes=None, tickers=None, model: str = "mean",
                   market_volume=None, min_estimation_obs: int = 120, data_dir=None, offline=None) -> pd.DataFrame:
    """Volume and volatility columns for :func:`analysis.catalog_study.study_catalog`, per (event, window).

    For every covered event: the abnormal log volume of the event's treated firms
    (:func:`volume_study` with the event's session and estimation window), and per window
    its CAAR, the Corrado rank p and the placebo p; and the day-0 *return* volatility of
    the treated firms (χ² p and placebo p, :func:`analysis.eventstudy.volatility.event_volatility`
    on the returns study). An event whose volume study fails keeps NaN and says why in
    ``volume_note``.

    Parameters
    ----------
    results, comparisons : dict
        Event id -> returns :class:`EventStudyResult` / :class:`GroupComparison` (the
        catalog's covered events).
    windows : sequence of (int, int)
        The catalog's event windows.
    volumes : DataFrame, optional
        Share volume, sessions x tickers; default :func:`load_volumes` of ``tickers``.
    tickers : list of str, optional
        What to load when ``volumes`` is None (default: every treated firm).
    model : {"mean", "market"}
    market_volume : Series, optional
        For ``model="market"``.
    min_estimation_obs : int
    data_dir, offline
        Passed to :func:`load_volumes`.

    Returns
    -------
    DataFrame
        Columns ``event_id, window`` and ``volume_caar, volume_p_rank, volume_p_placebo,
        volume_n, volatility_p_day0, volatility_p_placebo_day0, volume_note``.

    Examples
    --------
    >>> import analysis
    >>> cat = analysis.study_catalog(["us-potash-easing-2025", "eu-belaruskali-2022"], offline=True)
    >>> vol = catalog_volume(cat.results, cat.comparisons, [(0, 1)], offline=True)
    >>> vol[["event_id", "window", "volume_n"]].values.tolist()
    [['eu-belaruskali-2022', '(0,1)', 4], ['us-potash-easing-2025', '(0,1)', 4]]
    >>> vol.set_index("event_id")["volume_caar"].round(3).to_dict()
    {'eu-belaruskali-2022': 2.609, 'us-potash-easing-2025': 1.038}
    """
    from .eventstudy.volatility import event_volatility

    labels = [f"({int(a)},{int(b)})" for a, b in windows]
    rows, load_error = [], None
    if volumes is None and results:
        names = tickers or sorted({t for c in comparisons.values() for t in c.treated})
        try:
            volumes = load_volumes(names, data_dir=data_dir, offline=offline)
        except PotashImpactError as exc:
            volumes, load_error = None, f"volume not loaded: {exc}"
    for eid, res in results.items():
        treated = comparisons[eid].treated
        vals = {lab: {} for lab in labels}
        note = None
        try:
            rv = event_volatility(res, firms=treated)
            day0 = (float(rv.loc[0, "p_value"]), float(rv.loc[0, "p_placebo"])) if 0 in rv.index else (np.nan, np.nan)
        except PotashImpactError as exc:
            day0, note = (np.nan, np.nan), f"return volatility: {exc}"
        try:
            if volumes is None:
                raise DataError(load_error)
            missing = [t for t in treated if t not in volumes.columns]
            if missing:
                raise DataError(f"no volume for {', '.join(missing)}")
            vres = volume_study(volumes[treated], market_volume, res.event_date,
                                estimation_window=res.estimation_window, event_windows=windows, model=model,
                                min_estimation_obs=min_estimation_obs)
            t = vres.tests.set_index(["window", "test"])
            for lab in labels:
                vals[lab] = {"volume_caar": float(vres.caar[lab]),
                             "volume_p_rank": float(t.loc[(lab, "corrado_rank"), "p_value"]),
                             "volume_p_placebo": float(t.loc[(lab, "placebo"), "p_value"]),
                             "volume_n": int(t.loc[(lab, "placebo"), "n"])}
            dropped = "; ".join(vres.sample_notes())
            if dropped:
                note = "; ".join(x for x in [note, f"volume excluded: {dropped}"] if x)
        except PotashImpactError as exc:
            note = "; ".join(x for x in [note, f"volume: {exc}"] if x)
        for lab in labels:
            rows.append({"event_id": eid, "window": lab, **vals[lab], "volatility_p_day0": day0[0],
                         "volatility_p_placebo_day0": day0[1], "volume_note": note})
    out = pd.DataFrame(rows, columns=["event_id", "window"] + _CATALOG_COLUMNS)
    out["volume_n"] = out["volume_n"].astype("Int64")
    return out


def volume_by_kind(table: pd.DataFrame, window: str = "(0,1)", alpha: float = 0.05) -> pd.DataFrame:
    """Did tightening events move volume more than easing ones? One vote per cluster, per kind.

    Parameters
    ----------
    table : DataFrame
        :meth:`CatalogStudy.to_frame` with the volume columns.
    window : str
        The window compared.
    alpha : float
        Level for the share of events whose placebo p rejects.

    Returns
    -------
    DataFrame
        One row per event kind with covered lead events: n_votes, mean_volume_caar,
        median_volume_caar, share_positive, share_placebo_reject, share_volatility_reject
        (day-0 return volatility, placebo p), voters.

    Examples
    --------
    >>> import analysis
    >>> cat = analysis.study_catalog(["us-potash-easing-2025", "eu-belaruskali-2022"], offline=True)
    >>> volume_by_kind(cat.to_frame())[["kind", "n_votes", "mean_volume_caar"]].round(3).values.tolist()
    [['easing', 1, 1.038], ['tightening', 1, 2.609]]
    """
    t = _lead_rows(table, window, "volume_caar")
    need = {"volume_p_placebo", "volatility_p_placebo_day0"} - set(t.columns)
    if need:
        raise DataError(f"the catalog table lacks {sorted(need)}: pass CatalogStudy.to_frame() of a run with volume")
    rows = []
    for kind, g in t.groupby("kind", sort=True):
        c = g["volume_caar"].astype(float)
        rows.append({
            "kind": kind, "window": window, "n_votes": int(len(g)),
            "mean_volume_caar": float(c.mean()), "median_volume_caar": float(c.median()),
            "share_positive": float((c > 0).mean()),
            "share_placebo_reject": float((g["volume_p_placebo"].astype(float) < alpha).mean()),
            "share_volatility_reject": float((g["volatility_p_placebo_day0"].astype(float) < alpha).mean()),
            "voters": ", ".join(g["event_id"]),
        })
    return pd.DataFrame(rows, columns=["kind", "window", "n_votes", "mean_volume_caar", "median_volume_caar",
                                       "share_positive", "share_placebo_reject", "share_volatility_reject", "voters"])


def _lead_rows(table: pd.DataFrame, window: str, column: str) -> pd.DataFrame:
    need = {"kind", "window", "event_id", "cluster_lead", "status", column}
    missing = sorted(need - set(table.columns))
    if missing:
        raise DataError(f"the catalog table lacks {missing}: pass CatalogStudy.to_frame() of a run with volume")
    t = table[(table["window"] == window) & (table["event_id"] == table["cluster_lead"]) & (table["status"] == "ok")]
    return t[t[column].notna()]


def kind_difference(table: pd.DataFrame, window: str = "(0,1)", kinds=("tightening", "easing"),
                    column: str = "volume_caar") -> dict:
    """Mean ``column`` of one kind minus another's, with an exact permutation p (one vote per cluster).

    Parameters
    ----------
    table : DataFrame
        :meth:`CatalogStudy.to_frame` with the volume columns.
    window : str
        The window compared.
    kinds : (str, str)
        The two event kinds, first minus second.
    column : str
        The per-event number compared (default the abnormal log-volume CAAR).

    Returns
    -------
    dict
        ``kinds``, ``window``, ``column``, ``n`` (votes of each kind), ``mean`` (each kind),
        ``diff``, ``p_permutation`` (two-sided; see the module docstring), ``splits``
        (how many label assignments it counts) and ``exact`` (all of them, or a
        fixed-seed Monte Carlo sample when there are more than :data:`MAX_SPLITS`).

    Raises
    ------
    DataError
        Missing columns, or a kind without a covered lead event.

    Examples
    --------
    >>> t = pd.DataFrame({"event_id": list("abcd"), "cluster_lead": list("abcd"), "status": "ok",
    ...                   "window": "(0,1)", "kind": ["tightening"] * 2 + ["easing"] * 2,
    ...                   "volume_caar": [1.0, 2.0, 0.0, -1.0]})
    >>> kind_difference(t)["p_permutation"]
    0.3333333333333333
    """
    a, b = kinds
    t = _lead_rows(table, window, column)
    xa = t.loc[t["kind"] == a, column].astype(float).to_numpy()
    xb = t.loc[t["kind"] == b, column].astype(float).to_numpy()
    if len(xa) == 0 or len(xb) == 0:
        raise DataError(f"no covered lead event of kind {a if len(xa) == 0 else b!r} in window {window}")
    pooled = np.concatenate([xa, xb])
    n, na = len(pooled), len(xa)
    d = float(xa.mean() - xb.mean())
    total = math.comb(n, na)
    if total <= MAX_SPLITS:
        idx = np.array(list(itertools.combinations(range(n), na)))
        exact = True
    else:
        rng = np.random.default_rng(0)
        idx = np.argsort(rng.random((MAX_SPLITS, n)), axis=1)[:, :na]
        exact = False
    sa = pooled[idx].sum(axis=1)
    ds = sa / na - (pooled.sum() - sa) / (n - na)
    hits = int((np.abs(ds) >= abs(d) - 1e-12 * max(1.0, abs(d))).sum())
    return {"kinds": (a, b), "window": window, "column": column, "n": (int(na), int(n - na)),
            "mean": (float(xa.mean()), float(xb.mean())), "diff": d, "p_permutation": hits / len(ds),
            "splits": int(len(ds)), "exact": exact}


def kind_difference_sentence(kd: dict | None, *, alpha: float = 0.05, reason: str | None = None) -> str:
    """One sentence on :func:`kind_difference`: each kind's mean abnormal log volume and the permutation p.

    Parameters
    ----------
    kd : dict or None
        :func:`kind_difference`'s result; ``None`` when it could not run.
    alpha : float
        The level the permutation p is judged at.
    reason : str, optional
        Why it could not run (with ``kd=None``).

    Returns
    -------
    str
        It says no more than the numbers: the two means with their votes, the difference,
        and whether a random split of the votes gives one as large (exact or Monte Carlo).

    Examples
    --------
    >>> kd = {"kinds": ("tightening", "easing"), "window": "(0,1)", "n": (8, 4), "mean": (0.92, 0.79),
    ...       "diff": 0.13, "p_permutation": 0.806, "splits": 495, "exact": True}
    >>> kind_difference_sentence(kd)  # doctest: +ELLIPSIS
    'Over (0,1), tightening news came with a mean abnormal log volume of 0.92 (8 votes) and easing news ...'
    >>> "not distinguishable from a random split" in kind_difference_sentence(kd)
    True
    """
    if kd is None:
        return "The kinds of news cannot be compared on trading volume" + (f": {reason}." if reason else ".")
    (a, b), (na, nb), (ma, mb) = kd["kinds"], kd["n"], kd["mean"]
    p = float(kd["p_permutation"])
    how = (f"an exact permutation test over all {kd['splits']:,} splits" if kd["exact"]
           else f"a permutation test on {kd['splits']:,} random splits")
    verdict = (f"further from zero than a random split of the votes gives at the {alpha:.0%} level" if p < alpha
               else "not distinguishable from a random split of the votes")
    return (f"Over {kd['window']}, {a} news came with a mean abnormal log volume of {ma:.2f} ({na} votes) and "
            f"{b} news with {mb:.2f} ({nb} votes) for the treated firms; the difference, {kd['diff']:.2f}, is "
            f"{verdict} (p = {p:.3f}, {how}).")
