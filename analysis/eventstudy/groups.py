"""Treated minus control: the long-short portfolio of abnormal returns and its two portfolio tests.

:func:`compare_groups` turns an :class:`~analysis.eventstudy.EventStudyResult` into a
:class:`GroupComparison`, under the engine's one firm-set rule: each window uses the
treated and control firms observed on every day of that window, for the CAARs, for
the estimation-window long-short series behind its tests and for ``n``; the path uses
the firms observed on every day of the event span. The Brown-Warner (1985)
crude-dependence sd of a portfolio's daily abnormal return is
:func:`~analysis.eventstudy.battery.portfolio_sd`, the one implementation (also behind
:attr:`GroupComparison.standard_errors`, which :mod:`analysis.catalog_study` reads).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from ..distributions import p_t, t_quantile
from ..errors import EventStudyError, InsufficientDataError
from .battery import _placebo_p, portfolio_sd
from .inputs import EventStudyWarning
from .results import EventStudyResult, _fmt

TABLE_COLUMNS = ["window", "caar_treated", "caar_control", "diff", "t_crude_dependence", "p_crude_dependence",
                 "p_placebo", "n_treated", "n_control"]
SE_COLUMNS = ["window", "se_treated", "se_control", "se_diff", "m_treated", "m_control", "m_diff"]


class GroupComparison:
    """Treated minus control: the equal-weight long-short portfolio of abnormal returns.

    For each window w, with T_w and C_w the treated and control firms observed on every
    day of w: ``caar_treated`` is the mean CAR over T_w, ``caar_control`` over C_w, and
    ``diff = caar_treated - caar_control = Σ_{t∈w} LS_t``, where
    ``LS_t = mean_{T_w} AR_t - mean_{C_w} AR_t``. Its tests: the Brown-Warner (1985)
    crude-dependence t ``diff / (sd(LS over estimation, n-1)·√L)`` with p from t(m - 1),
    and the placebo p of ``diff`` against every same-length pseudo-event in the
    estimation window, ``(1 + #{|pseudo| ≥ |diff|}) / (1 + #pseudo)`` -- the honest test
    for a handful of firms. Both are portfolio-level, so the firms' cross-correlation is
    absorbed. A window with no treated or no control firm has NaN numbers and n = 0.

    Built by :func:`compare_groups`, never directly.

    Attributes
    ----------
    event_date : Timestamp
        Day 0 of the underlying study.
    treated, control : list of str
        The firms of each group that the study estimated.
    table : DataFrame
        One row per window (as :meth:`to_frame`): caar_treated, caar_control, diff,
        t_crude_dependence, p_crude_dependence, p_placebo, n_treated, n_control.
    standard_errors : DataFrame
        Per window, the crude-dependence standard errors and their degrees of freedom.
    excluded : DataFrame
        The study's exclusions (firm, window, reason, code) for this comparison's firms.
    caar_path : DataFrame
        Cumulated daily treated, control and diff ARs over the event span.

    Examples
    --------
    >>> import analysis
    >>> r = analysis.load_returns(["NTR", "MOS", "IPI", "ICL", "CF", "LXU", "SPY"], "2024-11-01", "2026-03-31",
    ...                           offline=True)
    >>> res = analysis.event_study(r.drop(columns="SPY"), r["SPY"], "2025-12-15")
    >>> cg = analysis.compare_groups(res, ["NTR", "MOS", "IPI", "ICL"], ["CF", "LXU"])
    >>> round(float(cg.to_frame().set_index("window").loc["(0,1)", "diff"]), 4)
    -0.0297
    """

    def __init__(self, *, event_date, treated, control, table, errors, path, path_treated, path_control,
                 path_sd, path_m, excluded, measure="return"):
        self._measure = measure
        self._event_date = event_date
        self._treated = list(treated)
        self._control = list(control)
        self._table = table
        self._errors = errors
        self._path = path
        self._path_treated = list(path_treated)
        self._path_control = list(path_control)
        self._path_sd = path_sd
        self._path_m = path_m
        self._excluded = excluded

    @property
    def event_date(self) -> pd.Timestamp:
        """Day 0 of the underlying study."""
        return self._event_date

    @property
    def measure(self) -> str:
        """What was studied, from the underlying study (``"return"``, ``"log volume"``, ...)."""
        return self._measure

    @property
    def treated(self) -> list[str]:
        """Treated firms estimated (each window uses those observed on all its days: ``n_treated``)."""
        return list(self._treated)

    @property
    def control(self) -> list[str]:
        """Control firms estimated (each window uses those observed on all its days: ``n_control``)."""
        return list(self._control)

    @property
    def table(self) -> pd.DataFrame:
        """One row per window (see :meth:`to_frame`)."""
        return self._table.copy()

    @property
    def standard_errors(self) -> pd.DataFrame:
        """Per window: crude-dependence se of the treated, control and difference CAARs and their m.

        ``se = sd·√L`` with ``sd, m = portfolio_sd(...)`` of the window's portfolio (or
        long-short) AR over the estimation window; a t interval uses t(m - 1).
        """
        return self._errors.copy()

    @property
    def excluded(self) -> pd.DataFrame:
        """The rows of the study's :attr:`EventStudyResult.excluded` for this comparison's firms."""
        return self._excluded.copy()

    @property
    def path_firms(self) -> dict[str, list[str]]:
        """The firms of :attr:`caar_path`: those observed on every day of the event span, by group."""
        return {"treated": list(self._path_treated), "control": list(self._path_control)}

    @property
    def caar_path(self) -> pd.DataFrame:
        """Cumulated daily portfolio ARs over the span (firms of :attr:`path_firms`): treated, control, diff."""
        return self._path.copy()

    def caar_band(self, level: float = 0.95) -> pd.DataFrame:
        """The null band of the ``diff`` path: ``0 ± t_{m-1}·sd(LS)·√k`` on its k-th day.

        sd(LS) is the Brown-Warner sd of the path firms' long-short AR over the
        estimation window: under H0 a k-day difference CAAR has sd ``sd(LS)·√k``, so a
        path point outside the band is unusual at ``1 - level``.
        """
        q = t_quantile(0.5 + level / 2.0, self._path_m - 1)
        half = q * self._path_sd * np.sqrt(np.arange(1, len(self._path) + 1))
        return pd.DataFrame({"lower": -half, "upper": half}, index=self._path.index)

    def to_frame(self) -> pd.DataFrame:
        """Columns window, caar_treated, caar_control, diff, t_crude_dependence, p_crude_dependence, p_placebo, n_treated, n_control."""
        return self._table.copy()

    def summary(self) -> str:
        """A text table of the group CAARs, their difference and its tests, with the excluded firms."""
        lines = [
            f"Treated minus control, day 0 = {self._event_date.date()}",
            f"treated: {', '.join(self._treated)}; control: {', '.join(self._control)}",
        ]
        for (firm, reason), grp in self._excluded.groupby(["firm", "reason"], sort=False):
            lines.append(f"excluded: {firm} from {', '.join(grp['window'])}: {reason}")
        lines += [
            "",
            f"{'window':<9}{'treated':>10}{'control':>10}{'diff':>10}{'t_crude':>9}{'p_crude':>9}{'p_placebo':>10}"
            f"{'nT':>4}{'nC':>4}",
        ]
        for r in self._table.itertuples(index=False):
            lines.append(
                f"{r.window:<9}{_fmt(r.caar_treated, '.3%'):>10}{_fmt(r.caar_control, '.3%'):>10}"
                f"{_fmt(r.diff, '.3%'):>10}{_fmt(r.t_crude_dependence, '.3f'):>9}"
                f"{_fmt(r.p_crude_dependence, '.3f'):>9}{_fmt(r.p_placebo, '.3f'):>10}{r.n_treated:>4}{r.n_control:>4}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return self._table.to_html(index=False)

    def plot(self, ax=None, level: float = 0.95, **kwargs):
        """The two group CAAR paths and their difference with its null band; returns the Figure."""
        from ..plots import plot_caar

        return plot_caar(self, ax=ax, level=level, **kwargs)


def _group_ar(frame, firms):
    """Equal-weight mean AR of ``firms`` per day (over those observed that day); NaN if none."""
    if not firms:
        return pd.Series(np.nan, index=frame.index)
    return frame[firms].mean(axis=1)


def compare_groups(res: EventStudyResult, treated, control) -> GroupComparison:
    """Test the treated-minus-control CAAR with the long-short portfolio; see :class:`GroupComparison`.

    Parameters
    ----------
    res : EventStudyResult
        A study holding every treated and control firm.
    treated, control : list of str
        Disjoint firm lists.

    Returns
    -------
    GroupComparison

    Raises
    ------
    EventStudyError
        Unknown firms, or a firm in both groups.
    InsufficientDataError
        A group left empty after the firms excluded before estimation are dropped (a
        warning names the dropped firms).

    Examples
    --------
    >>> import analysis
    >>> r = analysis.load_returns(["NTR", "MOS", "CF", "SPY"], "2024-11-01", "2026-03-31", offline=True)
    >>> res = analysis.event_study(r[["NTR", "MOS", "CF"]], r["SPY"], "2025-12-15")
    >>> analysis.compare_groups(res, ["NTR", "MOS"], ["CF"]).to_frame()["n_treated"].tolist()
    [2, 2, 2, 2, 2]
    """
    treated, control = list(treated), list(control)
    known = set(res._firms)
    unknown = [f for f in treated + control if f not in known]
    if unknown:
        raise EventStudyError(f"firms {unknown} are not in the event study (its firms: {res._firms})")
    both = sorted(set(treated) & set(control))
    if both:
        raise EventStudyError(f"firms {both} are in both groups: put each firm in one group")
    gone = res.excluded_from_estimation
    dropped = [f for f in treated + control if f in gone]
    if dropped:
        warnings.warn(f"compare_groups: {dropped} were excluded from the study and are dropped", EventStudyWarning,
                      stacklevel=2)
    treated = [f for f in treated if f not in gone]
    control = [f for f in control if f not in gone]
    if not treated or not control:
        raise InsufficientDataError(
            f"an empty group after exclusions (treated={treated}, control={control}; excluded: "
            + "; ".join(f"{f}: {why}" for f, why in gone.items()) + "): give at least one estimated firm per group"
        )
    ARE, AR = res.ar_estimation, res.ar
    sets = res.firm_sets
    recs, errs = [], []
    for (a, b), lab in zip(res.event_windows, res.windows):
        L = b - a + 1
        tw = [f for f in treated if f in set(sets[lab])]
        cw = [f for f in control if f in set(sets[lab])]
        gT, gC = _group_ar(ARE, tw), _group_ar(ARE, cw)
        ct = float(AR.loc[a:b, tw].sum().mean()) if tw else np.nan
        cc = float(AR.loc[a:b, cw].sum().mean()) if cw else np.nan
        d = ct - cc
        sd, m = portfolio_sd(gT - gC)
        sd_t, m_t = portfolio_sd(gT)
        sd_c, m_c = portfolio_sd(gC)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = d / (sd * math.sqrt(L))
            p_crude = float(p_t(t, m - 1))
        p_pl = float(_placebo_p((gT - gC).to_numpy()[None, :, None], np.array([[d]]), [L])[0, 0])
        recs.append((lab, ct, cc, d, t, p_crude, p_pl, len(tw), len(cw)))
        errs.append((lab, sd_t * math.sqrt(L), sd_c * math.sqrt(L), sd * math.sqrt(L), m_t, m_c, m))
    table = pd.DataFrame.from_records(recs, columns=TABLE_COLUMNS)
    errors = pd.DataFrame.from_records(errs, columns=SE_COLUMNS)
    ok = set(res.path_firms)
    pt, pc = [f for f in treated if f in ok], [f for f in control if f in ok]
    sT, sC = _group_ar(AR, pt), _group_ar(AR, pc)
    path = pd.DataFrame({"treated": sT.cumsum(), "control": sC.cumsum()}, index=AR.index)
    path["diff"] = path["treated"] - path["control"]
    path_sd, path_m = portfolio_sd(_group_ar(ARE, pt) - _group_ar(ARE, pc))
    ex = res.excluded
    excluded = ex[ex["firm"].isin(treated + control + dropped)].reset_index(drop=True)
    return GroupComparison(event_date=res.event_date, treated=treated, control=control, table=table, errors=errors,
                           path=path, path_treated=pt, path_control=pc, path_sd=path_sd, path_m=path_m,
                           excluded=excluded, measure=res.measure)
