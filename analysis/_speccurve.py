"""The computing core of the specification curve (:mod:`analysis.robustness` is the public face).

Private: the grid of fits, one ``event_study`` call per fit, the treated-minus-control
numbers of every (event, treated set, window) as array sums over the fit's abnormal
returns, the pseudo-event draws of the joint null test, and the two figures. The
conventions are documented in :mod:`analysis.robustness`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .distributions import p_t, t_quantile
from .errors import InsufficientDataError, ParameterError
from .eventstudy import MODELS, EventStudyWarning, event_study, portfolio_sd
from .windows import parse_window, window_label

#: The columns of :meth:`SpecificationCurve.to_frame`, in order.
COLUMNS = (
    "model", "benchmark", "estimation_window", "event_window", "treated", "control",
    "caar_treated", "caar_control", "diff", "t_crude_dependence", "p_crude_dependence", "p_placebo",
    "n_treated", "n_control", "status", "reason",
)
OK, INSUFFICIENT = "ok", "insufficient data"
NO_BENCHMARK = "none"
_MIN_OBS_CAP = 120


@dataclass(frozen=True)
class _Fit:
    """One normal-return fit: shared by every event window and treated set."""

    model: str
    benchmark: str            # label in the frame
    regressors: tuple         # market columns: (), (SPY,), (SPY, XLB)
    estimation_window: tuple
    min_obs: int


@dataclass
class _Inputs:
    """Everything a grid evaluation needs, kept for the null test."""

    returns: pd.DataFrame     # firms and regressors, sessions index
    firms: list               # treated + control, the column order of every array
    treated: list
    control: list
    drops: list               # "" (full set) then the dropped firm of each leave-one-out set
    T: np.ndarray             # (S, N) treated masks
    C: np.ndarray             # (N,) control mask
    fits: list
    windows: tuple
    pos: int                  # row of day 0
    news: np.ndarray          # rows of catalog event sessions (for the null's "no news")
    firm_returns: pd.DataFrame = None  # returns[firms], built once
    markets: dict = None      # regressor tuple -> the event_study market argument, built once

    def __post_init__(self):
        self.returns = self.returns.copy()
        self.returns.attrs = {}  # pandas deep-copies attrs (data sources, notes) on every operation
        self.returns.columns = pd.Index([str(c) for c in self.returns.columns], dtype=object)
        self.firm_returns = self.returns[self.firms]
        self.markets = {}


# =========================================================================== array core
def _group_stats(ARE, ARS, rows, T, C):
    """Treated-minus-control numbers for every (event g, treated set s, window w).

    ``ARE`` (G,Te,N) estimation residuals and ``ARS`` (G,Ts,N) event-span ARs (NaN where
    missing or excluded); ``rows`` the (start, end) span rows of each window; ``T`` (S,N)
    and ``C`` (N,) group masks. Returns a dict of (G,S,W) arrays and the firm sets used.
    """
    G, Te, N = ARE.shape
    L = np.array([b - a + 1 for a, b in rows])
    i0 = np.array([a for a, _ in rows])
    i1 = i0 + L
    okS = np.isfinite(ARS)
    cs = np.concatenate([np.zeros((G, 1, N)), np.cumsum(np.where(okS, ARS, 0.0), axis=1)], axis=1)
    cn = np.concatenate([np.zeros((G, 1, N), dtype=int), np.cumsum(okS, axis=1)], axis=1)
    full = (cn[:, i1] - cn[:, i0]) == L[None, :, None]                     # (G,W,N)
    CAR = np.where(full, cs[:, i1] - cs[:, i0], 0.0)
    PT = T[None, :, None, :] & full[:, None, :, :]                          # (G,S,W,N)
    PC = C[None, None, :] & full                                            # (G,W,N)
    nT, nC = PT.sum(axis=-1), PC.sum(axis=-1)
    okE = np.isfinite(ARE)
    E0, Ef = np.where(okE, ARE, 0.0), okE.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        caar_t = np.einsum("gwn,gswn->gsw", CAR, PT.astype(float)) / nT
        caar_c = np.broadcast_to(((CAR * PC).sum(axis=-1) / nC)[:, None, :], caar_t.shape)
        diff = caar_t - caar_c
        PTf, PCf = PT.astype(float), PC.astype(float)
        gE = (np.einsum("gtn,gswn->gswt", E0, PTf) / np.einsum("gtn,gswn->gswt", Ef, PTf)
              - (np.einsum("gtn,gwn->gwt", E0, PCf) / np.einsum("gtn,gwn->gwt", Ef, PCf))[:, None])
    sd = np.empty(diff.shape)
    m = np.empty(diff.shape, dtype=int)
    for idx in np.ndindex(*diff.shape):
        sd[idx], m[idx] = portfolio_sd(gE[idx])
    vE = np.isfinite(gE)
    csE = np.concatenate([np.zeros(gE.shape[:-1] + (1,)), np.cumsum(np.where(vE, gE, 0.0), axis=-1)], axis=-1)
    cnE = np.concatenate([np.zeros(gE.shape[:-1] + (1,), dtype=int), np.cumsum(vE, axis=-1)], axis=-1)
    p_pl = np.full(diff.shape, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = sd * np.sqrt(L)
        t = diff / se
        p_cd = p_t(t, m - 1)
        for w, Lw in enumerate(L):
            if Lw > Te:
                continue
            S = csE[:, :, w, Lw:] - csE[:, :, w, :-Lw]
            ok = (cnE[:, :, w, Lw:] - cnE[:, :, w, :-Lw]) == Lw
            hits = ((np.abs(S) >= np.abs(diff[:, :, w, None])) & ok).sum(axis=-1)
            p_pl[:, :, w] = (1.0 + hits) / (1.0 + ok.sum(axis=-1))
    p_pl[~np.isfinite(diff)] = np.nan
    ok = (nT > 0) & (nC[:, None, :] > 0) & np.isfinite(diff) & np.isfinite(t)
    return dict(caar_treated=caar_t, caar_control=np.array(caar_c), diff=diff, t_crude_dependence=t,
                p_crude_dependence=p_cd, p_placebo=p_pl, n_treated=nT, n_control=np.broadcast_to(nC[:, None], nT.shape),
                se=se, df=m - 1, ok=ok, PT=PT, PC=PC)


def _duplicates(PT, ok):
    """(G,S,W) mask: an ok row whose treated set equals an earlier ok set's (same fit and window)."""
    S = PT.shape[1]
    dup = np.zeros(ok.shape, dtype=bool)
    for s in range(1, S):
        for r in range(s):
            dup[:, s] |= ok[:, r] & ok[:, s] & (PT[:, s] == PT[:, r]).all(axis=-1)
    return dup


def _excluded(res) -> dict:
    """``(firm, window label) -> reason`` from the engine's ``res.excluded`` (firm, window, reason)."""
    ex = res.excluded
    return {(str(f), str(w)): str(r) for f, w, r in zip(ex["firm"], ex["window"], ex["reason"])}


def _market(inp: _Inputs, fit: _Fit):
    """The ``market`` argument of event_study for a fit: None, a Series or a two-column frame."""
    regs = list(fit.regressors)
    key = tuple(regs)
    if key not in inp.markets:
        inp.markets[key] = None if not regs else (inp.returns[regs[0]] if len(regs) == 1 else inp.returns[regs])
    return inp.markets[key]


def _run_fit(inp: _Inputs, fit: _Fit, pos: int, windows, reasons=True):
    """One ``event_study`` call: (ARE (Te,N), ARS (Ts,N), span start, exclusions or None).

    Without ``reasons`` (the null test's pseudo-events) the engine sees only the rows the
    study uses -- the same numbers, a third less time -- because an exclusion's wording
    (e.g. a firm's last date) may look at the whole frame.
    """
    firms, market = inp.firm_returns, _market(inp, fit)
    lo = pos + fit.estimation_window[0]
    hi = pos + max(b for _, b in windows) + 1
    if not reasons and lo >= 0 and hi <= len(firms):
        firms = firms.iloc[lo:hi]
        market = None if market is None else market.iloc[lo:hi]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EventStudyWarning)
        res = event_study(firms, market, inp.returns.index[pos], fit.estimation_window, windows, fit.model,
                          fit.min_obs)
    if not reasons and res._firms == inp.firms:  # the engine's arrays in our order, excluded firms NaN:
        keep = res._kept_mask[None, :]           # the same numbers as res.ar / res.ar_estimation, no frames
        return (np.where(keep, res._fit["ARE"], np.nan), np.where(keep, res._fit["ARS"], np.nan),
                int(res._span[0]), None)
    ar, are = res.ar, res.ar_estimation
    A, E = ar.to_numpy(dtype=float), are.to_numpy(dtype=float)
    cols = list(ar.columns)
    if cols != inp.firms:  # the engine drops excluded firms' columns: NaN in our fixed order
        at = [inp.firms.index(str(c)) for c in cols]
        A, E = _placed(A, at, len(inp.firms)), _placed(E, at, len(inp.firms))
    return E, A, int(ar.index[0]), _excluded(res) if reasons else None


def _placed(X, at, n):
    out = np.full((X.shape[0], n), np.nan)
    out[:, at] = X
    return out


def _rows_of(windows, s0):
    return [(a - s0, b - s0) for a, b in windows]


# =========================================================================== the grid
def _min_obs(est, min_estimation_obs) -> int:
    if min_estimation_obs is None:
        return min(_MIN_OBS_CAP, (est[1] - est[0] + 1) // 2)
    return int(min_estimation_obs)


def _fits(models, benchmarks, estimation_windows, market, sector, min_estimation_obs) -> list:
    out, seen = [], set()
    for model in models:
        if model not in MODELS:
            raise ParameterError(f"models: unknown model {model!r}: use {', '.join(MODELS)}")
        if model == "constant_mean":
            choices = [(NO_BENCHMARK, ())]
        elif model == "factor":
            if not sector or sector == market:
                raise ParameterError(f"models: 'factor' is the market plus the sector ETF, but market={market!r}, "
                                     f"sector={sector!r}: set a sector distinct from the market (case.toml sector)")
            choices = [(f"{market}+{sector}", (market, sector))]
        else:
            choices = [(b, (b,)) for b in benchmarks]
        for label, regs in choices:
            for est in estimation_windows:
                f = _Fit(model, label, regs, est, _min_obs(est, min_estimation_obs))
                if f not in seen:
                    seen.add(f)
                    out.append(f)
    return out


def _windows(values, name):
    try:
        wins = tuple(parse_window(w, name=name) for w in values)
    except TypeError:
        raise ParameterError(f"{name}: expected a list of (a, b) windows, got {values!r}") from None
    if not wins or len(set(wins)) != len(wins):
        raise ParameterError(f"{name}: give each window once, at least one ({values!r})")
    return wins


def _evaluate_event(inp: _Inputs) -> pd.DataFrame:
    """The rows of the grid at day 0 (``inp.pos``): one event_study per fit (per window at the data's edges)."""
    recs = []
    for k, fit in enumerate(inp.fits):
        try:
            parts = [(inp.windows, _run_fit(inp, fit, inp.pos, inp.windows))]
        except InsufficientDataError as exc:
            parts = []  # the hull of the windows may run past the data where a window alone does not
            for w in inp.windows:
                try:
                    parts.append(((w,), _run_fit(inp, fit, inp.pos, (w,))))
                except InsufficientDataError as exc_w:
                    parts.append(((w,), str(exc_w) or str(exc)))
            if all(isinstance(got, str) for _, got in parts):
                parts = [(inp.windows, str(exc))]  # no window can run: one reason for the fit
        for wins, got in parts:
            if isinstance(got, str):
                for w in wins:
                    for s, drop in enumerate(inp.drops):
                        recs.append(_row(inp, fit, k, w, s, drop, None, None, got))
                continue
            ARE, ARS, s0, excluded = got
            st = _group_stats(ARE[None], ARS[None], _rows_of(wins, s0), inp.T, inp.C)
            dup = _duplicates(st["PT"], st["ok"])
            for wi, w in enumerate(wins):
                for s, drop in enumerate(inp.drops):
                    if not dup[0, s, wi]:
                        recs.append(_row(inp, fit, k, w, s, drop, st, (0, s, wi), excluded))
    frame = pd.DataFrame.from_records(recs)
    return frame.drop_duplicates(subset=["model", "benchmark", "estimation_window", "event_window", "treated",
                                         "control"], keep="first").reset_index(drop=True)


def _row(inp, fit, k, w, s, drop, st, idx, why) -> dict:
    treated = [f for f, on in zip(inp.firms, inp.T[s]) if on]
    base = {"model": fit.model, "benchmark": fit.benchmark, "estimation_window": window_label(fit.estimation_window),
            "event_window": window_label(w)}
    nan = float("nan")
    if st is None or not st["ok"][idx]:
        if st is not None:
            nt, nc = int(st["n_treated"][idx]), int(st["n_control"][idx])
            why = (f"no {'treated' if nt == 0 else 'control'} firm has a return on every day of {window_label(w)}"
                   + _notes(why, treated if nt == 0 else inp.control, window_label(w)))
        rec = {**base, "treated": tuple(treated), "control": tuple(inp.control), **dict.fromkeys(COLUMNS[6:12], nan),
               "n_treated": 0, "n_control": 0, "status": INSUFFICIENT, "reason": str(why)}
    else:
        used_t = tuple(f for f, on in zip(inp.firms, st["PT"][idx]) if on)
        used_c = tuple(f for f, on in zip(inp.firms, st["PC"][idx[0], idx[2]]) if on)
        missing = [f for f in treated + inp.control if f not in used_t + used_c]
        reasons = {f: why.get((f, window_label(w)), f"no return on every day of {window_label(w)}") for f in missing}
        rec = {**base, "treated": used_t, "control": used_c,
               **{c: float(st[c][idx]) for c in COLUMNS[6:12]},
               "n_treated": int(st["n_treated"][idx]), "n_control": int(st["n_control"][idx]), "status": OK,
               "reason": "; ".join(f"{f} excluded: {r}" for f, r in reasons.items())}
    rec.update(_fit=k, _dropped=drop, _se=float(st["se"][idx]) if st is not None else nan,
               _df=float(st["df"][idx]) if st is not None else nan)
    return rec


def _notes(excluded: dict, firms, label) -> str:
    named = [f"{f}: {excluded[f, label]}" for f in firms if (f, label) in excluded]
    return f" ({'; '.join(named)})" if named else ""


def _null_draws(sc, n_placebo: int, seed: int, alpha: float) -> dict:
    """The grid at pseudo-event sessions: the keyword arguments of :class:`analysis.robustness.NullTest`."""
    inp = sc._inputs
    ok = sc._ok()
    if ok.empty:
        raise InsufficientDataError("null test: no specification ran for the event, so there is no curve to test")
    if n_placebo < 1:
        raise ParameterError(f"n_placebo={n_placebo}: draw at least one pseudo-event")
    wl = [window_label(w) for w in inp.windows]
    need = {}  # fit -> (S, W) mask of the specifications that ran for the event
    for k, d, w in zip(ok["_fit"], ok["_dropped"], ok["event_window"]):
        need.setdefault(int(k), np.zeros((len(inp.drops), len(wl)), dtype=bool))[inp.drops.index(d), wl.index(w)] = True
    est_lo = min(inp.fits[k].estimation_window[0] for k in need)
    span = (min(a for a, _ in inp.windows), max(b for _, b in inp.windows))
    cand = np.arange(-est_lo, inp.pos + est_lo - span[1])
    news = inp.news[(inp.news >= 0) & (inp.news < len(inp.returns.index))]
    quiet = ~((news[None, :] >= cand[:, None] + span[0]) & (news[None, :] <= cand[:, None] + span[1])).any(axis=1)
    n_news = int((~quiet).sum())
    cand = cand[quiet]
    if cand.size == 0:
        raise InsufficientDataError(
            f"null test: no session without news has {-est_lo} sessions of history and ends its event span before "
            f"the estimation window of {sc.session.date()} (data from {inp.returns.index[0].date()})")
    pick = np.sort(np.random.default_rng(seed).choice(cand, size=min(n_placebo, cand.size), replace=False))
    G, N = len(pick), len(inp.firms)
    diffs, valid, sigs, used, asked = [], [], [], np.zeros((G, N), bool), np.zeros((G, N), bool)
    for k, mask in need.items():
        fit = inp.fits[k]
        Te, Ts = fit.estimation_window[1] - fit.estimation_window[0] + 1, span[1] - span[0] + 1
        ARE, ARS = np.full((G, Te, N), np.nan), np.full((G, Ts, N), np.nan)
        for g, s in enumerate(pick):
            try:
                ARE[g], ARS[g], _, _ = _run_fit(inp, fit, int(s), inp.windows, reasons=False)
            except InsufficientDataError:
                pass  # every specification of this fit is insufficient at this pseudo-event
        st = _group_stats(ARE, ARS, _rows_of(inp.windows, span[0]), inp.T, inp.C)
        v = st["ok"] & ~_duplicates(st["PT"], st["ok"]) & mask[None]
        sig = v & (st["p_placebo"] < alpha)
        if sc.expected_sign:
            sig &= np.sign(st["diff"]) == sc.expected_sign
        diffs.append(np.where(v, st["diff"], np.nan).reshape(G, -1))
        valid.append(v.reshape(G, -1))
        sigs.append(sig.reshape(G, -1))
        want = mask[None, :, :, None] & (inp.T[None, :, None, :] | inp.C[None, None, None, :])
        asked |= want.any(axis=(1, 2))
        used |= ((st["PT"] | st["PC"][:, None]) & v[..., None]).any(axis=(1, 2))
    D, V, SIG = np.concatenate(diffs, axis=1), np.concatenate(valid, axis=1), np.concatenate(sigs, axis=1)
    n_ok = V.sum(axis=1)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: pseudo-events where nothing ran
        med = np.nanmedian(D, axis=1)
    share = np.where(n_ok > 0, SIG.sum(axis=1) / np.maximum(n_ok, 1), np.nan)
    null = pd.DataFrame({"session": inp.returns.index[pick], "median_diff": med, "share_significant": share,
                         "n_specifications": n_ok})
    notes = []
    for j, f in enumerate(inp.firms):
        miss = int((asked[:, j] & ~used[:, j] & (n_ok > 0)).sum())
        if miss:
            notes.append(f"{f}: not used at {miss} of {int((n_ok > 0).sum())} pseudo-events (no data there)")
    real = sc._significant(ok, alpha)
    return dict(median=sc.stats["median_diff"], share=float(real.mean()), null=null, n_candidates=int(cand.size),
                n_news=n_news, seed=seed, alpha=alpha, expected_sign=sc.expected_sign, notes=notes,
                n_specifications=int(len(ok)))


# =========================================================================== the null test result
class NullTest:
    """The joint null test of a specification curve (:meth:`SpecificationCurve.null_test`).

    ``p_median`` is two-sided on the median ``diff``; ``p_share`` one-sided on the share of
    significant specifications (a larger share is more extreme). Pseudo-events where no
    specification ran are left out of both (``n_placebo`` counts the rest).

    Built by :meth:`SpecificationCurve.null_test`, never directly.

    Attributes
    ----------
    p_median, p_share : float
        The two p-values, ``(1 + #{pseudo as extreme}) / (1 + n_placebo)``.
    n_placebo : int
        Pseudo-events in the null distribution.
    null : DataFrame
        One row per pseudo-event: its session, median diff and share significant.
    notes : list of str
        Pseudo-events left out and why (news in the window, no specification ran).
    stats : dict
        All of the above as numbers, with the seed and the level.

    Examples
    --------
    >>> from analysis.robustness import specification_curve
    >>> sc = specification_curve(models=("market",), estimation_windows=((-250, -11),), event_windows=((0, 1),),
    ...                          offline=True)
    >>> nt = sc.null_test(5, seed=1)
    >>> nt.n_placebo, len(nt.null) >= nt.n_placebo, 0 < nt.p_median <= 1
    (5, True, True)
    """

    def __init__(self, *, median, share, null, n_candidates, n_news, seed, alpha, expected_sign, notes,
                 n_specifications):
        self._median, self._share = float(median), float(share)
        self._null = null
        self._n_candidates, self._n_news = n_candidates, n_news
        self._seed, self._alpha, self._expected_sign = seed, alpha, expected_sign
        self._notes = list(notes)
        self._n_specs = n_specifications
        good = null[null["n_specifications"] > 0]
        n = len(good)
        self._n = n
        if n:
            self._p_median = (1 + int((np.abs(good["median_diff"]) >= abs(self._median)).sum())) / (1 + n)
            self._p_share = (1 + int((good["share_significant"] >= self._share).sum())) / (1 + n)
        else:
            self._p_median = self._p_share = float("nan")

    @property
    def median_diff(self) -> float:
        """The event's median ``diff`` over its ok specifications."""
        return self._median

    @property
    def share_significant(self) -> float:
        """The event's share of significant specifications (placebo p < alpha, expected sign)."""
        return self._share

    @property
    def p_median(self) -> float:
        """Empirical two-sided p of the median: ``(1 + #{|null| >= |median|}) / (1 + n)``."""
        return self._p_median

    @property
    def p_share(self) -> float:
        """Empirical p of the share: ``(1 + #{null share >= share}) / (1 + n)``."""
        return self._p_share

    @property
    def n_placebo(self) -> int:
        """Pseudo-events in the null distributions (those where at least one specification ran)."""
        return self._n

    @property
    def null(self) -> pd.DataFrame:
        """One row per pseudo-event: session, median_diff, share_significant, n_specifications."""
        return self._null.copy()

    @property
    def notes(self) -> list[str]:
        """Firms the pseudo-events could not use, and how often."""
        return list(self._notes)

    @property
    def stats(self) -> dict:
        """The test in numbers (for ``results.json`` and :func:`curve_sentence`)."""
        return {"median_diff": self._median, "share_significant": self._share, "p_median": self._p_median,
                "p_share": self._p_share, "n_placebo": self._n, "n_candidates": self._n_candidates,
                "n_excluded_news": self._n_news, "seed": self._seed, "alpha": self._alpha,
                "expected_sign": self._expected_sign, "n_specifications": self._n_specs, "notes": self.notes}

    def to_frame(self) -> pd.DataFrame:
        """:attr:`null`."""
        return self.null

    def summary(self) -> str:
        """The two empirical p-values and what they compare."""
        direction = {1: "positive", -1: "negative"}.get(self._expected_sign, "either-sign")
        lines = [
            f"Joint null test: {self._n} pseudo-events without news (of {self._n_candidates} candidates before the "
            f"estimation window; {self._n_news} sessions near catalog news left out; seed {self._seed})",
            f"median diff {_fmt(self._median, '+.3%')}: p = {_fmt(self._p_median, '.3f')} (two-sided)",
            f"share of specifications with placebo p < {self._alpha:g} and a {direction} diff "
            f"{_fmt(self._share, '.0%')}: p = {_fmt(self._p_share, '.3f')}",
        ]
        lines += [f"note: {n}" for n in self._notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        from html import escape

        return "<pre>" + escape(self.summary()) + "</pre>"

    def plot(self, *, title=None, source=None):
        """Histograms of the null medians and shares with the event's values marked; returns the Figure.

        ``title`` replaces the plain-words default; ``source`` is the source line under the
        figure (:func:`analysis.plots.add_source`).
        """
        return _plot_null(self, title, source)


# =========================================================================== figures
def _fmt(x, spec) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, spec)


def _plot_curve(self, title=None, source=None):
    """The two-panel specification curve of a SpecificationCurve (see its ``plot``).

    Colours and width from :mod:`analysis.plots`: the differences (treated - control) in
    ``GROUP_COLORS["difference"]``, the significant ones in ``EXTRA_COLORS["highlight"]``;
    ``FIGSIZE`` wide, taller with every choice of the indicator matrix.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    from .plots import EXTRA_COLORS, FIGSIZE, GROUP_COLORS, add_source, wrap_title

    diff_color, mark = GROUP_COLORS["difference"], EXTRA_COLORS["highlight"]
    ok = self._ok().sort_values("diff", kind="stable").reset_index(drop=True)
    x = np.arange(len(ok))
    y = ok["diff"].to_numpy(dtype=float)
    half = t_quantile(0.975, ok["_df"].to_numpy(dtype=float)) * ok["_se"].to_numpy(dtype=float)
    sig = self._significant(ok, self._alpha)
    drops = ok["_dropped"].map(lambda d: "all treated" if d == "" else f"without {d}")
    dims = [("model", ok["model"]), ("benchmark", ok["benchmark"]), ("estimation", ok["estimation_window"]),
            ("event window", ok["event_window"]), ("treated", drops)]
    labels = [(name, v) for name, col in dims for v in dict.fromkeys(col)]
    fig, (ax, bx) = plt.subplots(2, 1, figsize=(FIGSIZE[0], 3.2 + 0.22 * len(labels)), sharex=True,
                                 gridspec_kw={"height_ratios": [2.2, 0.1 * len(labels) + 0.6]}, layout="constrained")
    ax.vlines(x, y - half, y + half, color=diff_color, alpha=0.25, lw=0.8, label="95% interval (crude dependence)")
    ax.plot(x, y, "o", ms=3, color=diff_color, gid="estimates", label="treated - control")
    word = "with the expected sign" if self._expected_sign else "either sign"
    ax.plot(x[sig], y[sig], "o", ms=3.5, color=mark, label=f"placebo p < {self._alpha:g}, {word}")
    b = self.baseline
    if b is not None and b["status"] == OK:
        key = (ok["model"] == b["model"]) & (ok["benchmark"] == b["benchmark"]) & \
            (ok["estimation_window"] == b["estimation_window"]) & (ok["event_window"] == b["event_window"]) & \
            (ok["_dropped"] == "")
        xb = x[key.to_numpy()]
        ax.plot(xb, y[key.to_numpy()], "o", ms=10, mfc="none", mec=diff_color, label="baseline")
    ax.axhline(0, color="black", lw=0.6)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("CAAR difference,\ntreated - control (%)")
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    n_bad = len(self._rows) - len(ok)
    default = (f"The treated-minus-control CAAR difference under {len(ok)} specifications, sorted "
               f"(day 0 = {self._session.date()})" + (f"; {n_bad} without data not shown" if n_bad else ""))
    ax.set_title(wrap_title(title if title is not None else default))
    ypos = {lab: i for i, lab in enumerate(labels)}
    for name, col in dims:
        bx.scatter(x, [ypos[(name, v)] for v in col], s=6, color=diff_color)
    bx.set_yticks(range(len(labels)), [f"{n}: {v}" for n, v in labels], fontsize=7)
    bx.set_ylim(len(labels) - 0.5, -0.5)
    bx.set_xlabel("specification (sorted by the difference); the dots below mark its choices")
    add_source(fig, source)
    return fig


def _plot_null(self, title=None, source=None):
    """The two null histograms of a NullTest (see its ``plot``).

    The pseudo-events in grey (the null, as the CAAR figure's null band), the event's value
    in ``analysis.plots.EXTRA_COLORS["highlight"]``; ``analysis.plots.FIGSIZE``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    from .plots import EXTRA_COLORS, FIGSIZE, add_source, wrap_title

    good = self._null[self._null["n_specifications"] > 0]
    fig, axes = plt.subplots(1, 2, figsize=FIGSIZE, sharey=True, layout="constrained")
    for ax, col, real, p, lab in (
        (axes[0], "median_diff", self._median, self._p_median, "median CAAR difference"),
        (axes[1], "share_significant", self._share, self._p_share, "share of significant specifications"),
    ):
        ax.hist(good[col], bins=30, color="grey", alpha=0.5, label=f"{len(good)} pseudo-events")
        ax.axvline(real, color=EXTRA_COLORS["highlight"], lw=2, label=f"the event (p = {_fmt(p, '.3f')})")
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xlabel(f"{lab} (%)")
        ax.legend(fontsize="small", frameon=False)
    axes[0].set_ylabel("pseudo-events (count)")
    default = (f"The event's specification curve against {self._n} days without news: "
               "median difference and share of significant specifications")
    fig.suptitle(wrap_title(title if title is not None else default))
    add_source(fig, source)
    return fig
