"""Treated minus control: the long-short portfolio of abnormal returns and its two portfolio tests.

:func:`compare_groups` turns an :class:`~analysis.eventstudy.EventStudyResult` into a
:class:`GroupComparison`. The Brown-Warner (1985) crude-dependence standard deviation of
a portfolio's daily abnormal return over the estimation window is
:func:`portfolio_sd`, the one implementation used here and by
:mod:`analysis.catalog_study` for its confidence intervals.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from ..distributions import p_t, t_quantile
from ..errors import EventStudyError, InsufficientDataError
from ..windows import window_label
from .inputs import EventStudyWarning
from .results import EventStudyResult, _fmt


def portfolio_sd(series) -> tuple[float, int]:
    """Brown-Warner (1985) crude-dependence sd of a portfolio's daily abnormal return.

    Parameters
    ----------
    series : Series or array
        The portfolio's abnormal return on each estimation-window day (NaN: no firm
        observed that day; dropped).

    Returns
    -------
    (float, int)
        The sample standard deviation (n - 1 degrees of freedom) of the valid days and
        their number ``m``; a k-day CAAR then has standard error ``sd * sqrt(k)`` and its
        t statistic ``m - 1`` degrees of freedom.

    Examples
    --------
    >>> portfolio_sd([0.01, -0.01, 0.02, float("nan")])
    (0.015275252316519468, 3)
    """
    a = np.asarray(series, dtype=float)
    a = a[np.isfinite(a)]
    m = int(a.size)
    return (float(a.std(ddof=1)) if m > 1 else float("nan")), m


class GroupComparison:
    """Treated minus control: the equal-weight long-short portfolio of abnormal returns.

    ``LS_t = mean_{treated} AR_t - mean_{control} AR_t`` (each mean over the group's firms
    observed that day), on the estimation window and the event span. Per window:
    ``diff = Σ_{t∈w} LS_t = caar_treated - caar_control`` (each group CAAR being its
    equal-weight portfolio CAR), the Brown-Warner (1985) crude-dependence t
    ``diff / (sd(LS over estimation, n-1)·√L)`` with p from t(m - 1), and the placebo p
    of ``diff`` against every same-length pseudo-event in the estimation window,
    ``(1 + #{|pseudo| ≥ |diff|}) / (1 + #pseudo)`` -- the honest test for a handful of
    firms. Both tests are portfolio-level, so the firms' cross-correlation is absorbed.
    """

    def __init__(self, *, event_date, treated, control, table, path, sd, m, windows):
        self._event_date = event_date
        self._treated = list(treated)
        self._control = list(control)
        self._table = table
        self._path = path
        self._sd = sd
        self._m = m
        self._windows = windows

    @property
    def event_date(self) -> pd.Timestamp:
        """Day 0 of the underlying study."""
        return self._event_date

    @property
    def treated(self) -> list[str]:
        """Treated firms used."""
        return list(self._treated)

    @property
    def control(self) -> list[str]:
        """Control firms used."""
        return list(self._control)

    @property
    def table(self) -> pd.DataFrame:
        """One row per window (see :meth:`to_frame`)."""
        return self._table.copy()

    @property
    def caar_path(self) -> pd.DataFrame:
        """Cumulated daily portfolio ARs over the span: columns treated, control, diff."""
        return self._path.copy()

    def caar_band(self, level: float = 0.95) -> pd.DataFrame:
        """Band of the ``diff`` path: ±t(m-1)·sd(LS)·√(days cumulated)."""
        q = t_quantile(0.5 + level / 2.0, self._m - 1)
        half = q * self._sd * np.sqrt(np.arange(1, len(self._path) + 1))
        d = self._path["diff"]
        return pd.DataFrame({"lower": d - half, "upper": d + half}, index=self._path.index)

    def to_frame(self) -> pd.DataFrame:
        """Columns window, caar_treated, caar_control, diff, t_crude_dependence, p_crude_dependence, p_placebo, n_treated, n_control."""
        return self._table.copy()

    def summary(self) -> str:
        """A text table of the group CAARs, their difference and its tests."""
        lines = [
            f"Treated minus control, day 0 = {self._event_date.date()}",
            f"treated: {', '.join(self._treated)}; control: {', '.join(self._control)}",
            "",
            f"{'window':<9}{'treated':>10}{'control':>10}{'diff':>10}{'t_crude':>9}{'p_crude':>9}{'p_placebo':>10}",
        ]
        for r in self._table.itertuples(index=False):
            lines.append(
                f"{r.window:<9}{_fmt(r.caar_treated, '.3%'):>10}{_fmt(r.caar_control, '.3%'):>10}"
                f"{_fmt(r.diff, '.3%'):>10}{_fmt(r.t_crude_dependence, '.3f'):>9}"
                f"{_fmt(r.p_crude_dependence, '.3f'):>9}{_fmt(r.p_placebo, '.3f'):>10}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return self._table.to_html(index=False)

    def plot(self, ax=None, level: float = 0.95, **kwargs):
        """The two group CAAR paths and their difference with a band; returns the Figure."""
        from ..plots import plot_caar

        return plot_caar(self, ax=ax, level=level, **kwargs)


def compare_groups(res: EventStudyResult, treated, control) -> GroupComparison:
    """Test treated minus control CAAR with the long-short portfolio; see :class:`GroupComparison`.

    Firms excluded from ``res`` are dropped from their group (a warning names them);
    unknown firms, overlapping groups or an empty group raise :class:`EventStudyError`.
    """
    treated, control = list(treated), list(control)
    known = set(res._firms)
    unknown = [f for f in treated + control if f not in known]
    if unknown:
        raise EventStudyError(f"firms {unknown} are not in the event study (its firms: {res._firms})")
    both = sorted(set(treated) & set(control))
    if both:
        raise EventStudyError(f"firms {both} are in both groups: put each firm in one group")
    dropped = [f for f in treated + control if f in res._excluded]
    if dropped:
        warnings.warn(f"compare_groups: {dropped} were excluded from the study and are dropped", EventStudyWarning,
                      stacklevel=2)
    treated = [f for f in treated if f not in res._excluded]
    control = [f for f in control if f not in res._excluded]
    if not treated or not control:
        raise InsufficientDataError(
            f"an empty group after exclusions (treated={treated}, control={control}): give at least one "
            "estimated firm per group"
        )
    ARE, AR = res.ar_estimation, res.ar
    gE = ARE[treated].mean(axis=1) - ARE[control].mean(axis=1)
    gS_t, gS_c = AR[treated].mean(axis=1), AR[control].mean(axis=1)
    ls = gS_t - gS_c
    sd, m = portfolio_sd(gE)
    csE = np.concatenate([[0.0], np.cumsum(np.nan_to_num(gE.to_numpy()))])
    cnE = np.concatenate([[0], np.cumsum(gE.notna().to_numpy())])
    recs = []
    for a, b in res.event_windows:
        L = b - a + 1
        sl = slice(a, b)
        ct, cc, d = gS_t.loc[sl].sum(min_count=L), gS_c.loc[sl].sum(min_count=L), ls.loc[sl].sum(min_count=L)
        t = d / (sd * math.sqrt(L))
        p_crude = p_t(t, m - 1)
        S = csE[L:] - csE[:-L]
        ok = (cnE[L:] - cnE[:-L]) == L
        p_pl = (1 + int(((np.abs(S) >= abs(d)) & ok).sum())) / (1 + int(ok.sum())) if np.isfinite(d) else np.nan
        n_t = int(AR.loc[sl, treated].notna().all(axis=0).sum())
        n_c = int(AR.loc[sl, control].notna().all(axis=0).sum())
        recs.append((window_label((a, b)), ct, cc, d, t, p_crude, p_pl, n_t, n_c))
    table = pd.DataFrame.from_records(recs, columns=[
        "window", "caar_treated", "caar_control", "diff", "t_crude_dependence", "p_crude_dependence",
        "p_placebo", "n_treated", "n_control"])
    path = pd.DataFrame({"treated": gS_t.cumsum(), "control": gS_c.cumsum(), "diff": ls.cumsum()}, index=AR.index)
    return GroupComparison(event_date=res.event_date, treated=treated, control=control, table=table,
                           path=path, sd=sd, m=m, windows=res.windows)
