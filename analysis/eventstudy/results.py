"""Results container of the engine: :class:`EventStudyResult`.

In the style of linearmodels' results: the computation lives in
:mod:`analysis.eventstudy.models` and :mod:`analysis.eventstudy.battery`; the container
stores the inputs of its own study (no class-level state), exposes read-only properties
computed on first access and cached on the instance, ``summary()`` for people and
``to_frame()`` / ``to_json()`` for machines (:mod:`analysis.eventstudy.serialize`).

The firm set of every number is stated: :attr:`EventStudyResult.excluded` names each
firm left out of each window with the reason, :attr:`EventStudyResult.firm_sets` the
firms each window used, and :attr:`EventStudyResult.path_firms` the firms of the CAAR
path (the firms observed on every day of the event span).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..distributions import p_t as _p_t
from ..distributions import t_quantile
from ..windows import window_label
from .battery import TESTS, _battery, portfolio_sd
from .models import car_variance_factor
from .serialize import from_json  # noqa: F401 (re-exported: the one implementation)

TEST_COLUMNS = ["window", "test", "statistic", "p_value", "n"]
EXCLUDED_COLUMNS = ["firm", "window", "reason", "code"]


def _cached(fn):
    """A read-only property computed once per instance (stored in ``self._cache``)."""
    name = fn.__name__

    def getter(self):
        try:
            return self._cache[name]
        except KeyError:
            value = self._cache[name] = fn(self)
            return value

    getter.__doc__ = fn.__doc__
    getter.__name__ = name
    return property(getter)


def _fmt(x, spec=".4f"):
    return "" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, spec)


class EventStudyResult:
    """Results of :func:`~analysis.eventstudy.event_study`: abnormal returns, CARs, the test battery.

    Built by :func:`~analysis.eventstudy.event_study` (or :func:`~analysis.eventstudy.from_json`),
    never directly. Every property is read-only; tables are computed on first access and
    cached on the instance. Each instance holds the inputs of its own study only.

    Attributes
    ----------
    event_date : Timestamp
        Day 0, the event session.
    windows : list of str
        The event-window labels ``"(a,b)"`` (:attr:`event_windows` as tuples).
    firms : list of str
        The firms estimated; :attr:`excluded` names every firm left out of a window, with
        the reason and a code (``quality``, ``estimation``, ``past_data``, ``missing_day``).
    ar, sar : DataFrame
        Abnormal and standardized abnormal returns, relative day x firm.
    car : DataFrame
        Cumulative abnormal returns, window label x firm.
    caar : Series
        Mean CAR of each window's firm set (:attr:`firm_sets`), by window label.
    tests : DataFrame
        The test battery: window, test, statistic, p_value, n (:meth:`pivot` for a wide view).
    params : DataFrame
        The normal-return model per firm: alpha, beta(s), sigma, m, R².

    Examples
    --------
    >>> import analysis
    >>> r = analysis.load_returns(["NTR", "MOS", "SPY"], "2024-11-01", "2026-03-31", offline=True)
    >>> res = analysis.event_study(r[["NTR", "MOS"]], r["SPY"], "2025-12-15")
    >>> res.windows
    ['(-1,1)', '(0,0)', '(0,1)', '(0,5)', '(-5,5)']
    >>> round(float(res.caar["(0,0)"]), 3)
    -0.033
    >>> res.excluded.empty
    True
    """

    def __init__(self, *, returns, market, event_date, estimation_window, event_windows, span, daily_span, model,
                 scar, measure, min_estimation_obs, firms, xnames, dropped, exclude, last_valid, dates_estimation,
                 dates_span, YS, XS, fit):
        self._returns = returns
        self._market = market
        self._event_date = event_date
        self._estimation_window = estimation_window
        self._event_windows = tuple(event_windows)
        self._span = span
        self._daily_span = daily_span
        self._model = model
        self._scar = scar
        self._measure = measure
        self._min_obs = min_estimation_obs
        self._firms = firms
        self._xnames = xnames
        self._dropped = dict(dropped)  # firm -> (code, reason), before estimation
        self._exclude = dict(exclude)  # the caller's quality flags, as given (for JSON)
        self._dates_E = dates_estimation
        self._dates_S = dates_span
        self._last_valid = dict(last_valid)  # firm -> its last valid return's date in the data (NaT/None: none)
        self._YS = YS
        self._XS = XS
        self._fit = fit
        self._cache = {}
        self._kept_mask = np.array([f not in self._dropped for f in firms], dtype=bool)
        self._firm_index = pd.Index(firms, name="firm")

    # ------------------------------------------------------------------ configuration
    @property
    def event_date(self) -> pd.Timestamp:
        """Day 0, the event session."""
        return self._event_date

    @property
    def model(self) -> str:
        """The normal-return model."""
        return self._model

    @property
    def scar(self) -> str:
        """The window standardizer of Patell and BMP: ``"exact"`` or ``"sum"``."""
        return self._scar

    @property
    def measure(self) -> str:
        """What was studied (``"return"``; other measures reuse the engine, e.g. log volume)."""
        return self._measure

    @property
    def estimation_window(self) -> tuple[int, int]:
        """The estimation window in relative sessions (inclusive)."""
        return self._estimation_window

    @property
    def event_windows(self) -> tuple[tuple[int, int], ...]:
        """The event windows in relative sessions (inclusive)."""
        return self._event_windows

    @property
    def daily_span(self) -> tuple[int, int]:
        """The relative days of :attr:`daily_tests` (inclusive)."""
        return self._daily_span

    @property
    def windows(self) -> list[str]:
        """The event-window labels, ``"(a,b)"``, in the order given."""
        return [window_label(w) for w in self._event_windows]

    @property
    def firms(self) -> list[str]:
        """Firms estimated (firms excluded before estimation removed)."""
        return [f for f in self._firms if f not in self._dropped]

    @property
    def excluded_from_estimation(self) -> dict[str, str]:
        """Firms dropped before estimation (quality flag or too few estimation returns) -> reason."""
        return {f: why for f, (_, why) in self._dropped.items()}

    @property
    def days(self) -> pd.Index:
        """Relative days of the event span (every window and the daily span)."""
        return pd.RangeIndex(self._span[0], self._span[1] + 1, name="day")

    @property
    def dates(self) -> pd.Series:
        """Session date of each relative day of the event span."""
        return pd.Series(self._dates_S, index=self.days, name="date")

    # ------------------------------------------------------------------ internals
    def _frame(self, arr, index):
        keep = self._kept_mask
        return pd.DataFrame(np.asarray(arr)[:, keep], index=index, columns=self._firm_index[keep])

    def _rows(self, which):
        s0 = self._span[0]
        if which == "windows":
            wins = list(self._event_windows)
        else:
            wins = [(d, d) for d in range(self._daily_span[0], self._daily_span[1] + 1)]
        return wins, [(a - s0, b - s0) for a, b in wins], [b - a + 1 for a, b in wins]

    def _fit1(self):
        return {k: (v[None] if isinstance(v, np.ndarray) else v) for k, v in self._fit.items()}

    @_cached
    def _computed(self):
        """The battery on the windows and the days in one pass (internal).

        Corrado ranks each window over its own days and each day over the daily span.
        """
        wins, rows, L = self._rows("windows")
        days, drows, dL = self._rows("days")
        d0, d1 = self._daily_span[0] - self._span[0], self._daily_span[1] - self._span[0]
        ranked = rows + [(d0, d1)] * len(drows)
        out, extra = _battery(self._fit1(), rows + drows, L + dL, scar=self._scar, ranked=ranked)
        W = len(rows)
        res = {}
        for which, sel, w in (("windows", slice(0, W), wins), ("days", slice(W, None), days)):
            res[which] = ({k: tuple(np.asarray(a)[0][sel] for a in v) for k, v in out.items()},
                          {k: (np.asarray(v)[0][..., sel] if np.ndim(v) > 1 else np.asarray(v)[0])
                           for k, v in extra.items()}, w)
        return res

    def _tidy(self, which):
        out, _, wins = self._computed[which]
        labels = [window_label(w) for w in wins]
        nt = len(TESTS)
        data = {
            "window": np.repeat(np.array(labels, dtype=object), nt),
            "test": np.tile(np.array(TESTS, dtype=object), len(labels)),
            "statistic": np.stack([out[t][0] for t in TESTS], axis=1).ravel().astype(float),
            "p_value": np.stack([out[t][1] for t in TESTS], axis=1).ravel().astype(float),
            "n": np.stack([out[t][2] for t in TESTS], axis=1).ravel().astype(np.int64),
        }
        if which == "days":
            data["day"] = np.repeat(np.array([d for d, _ in wins], dtype=np.int64), nt)
        return pd.DataFrame(data)

    def _last_date(self, firm):
        """The firm's last valid return date in the data, or None."""
        d = self._last_valid.get(firm)
        return None if d is None or pd.isna(d) else pd.Timestamp(d)

    # ------------------------------------------------------------------ samples
    @_cached
    def excluded(self) -> pd.DataFrame:
        """Every firm left out of every event window, with the reason: columns firm, window, reason, code.

        One row per (firm, window). ``code`` is ``"quality"`` (flagged by the caller or
        the data-quality gate), ``"estimation"`` (too few valid estimation returns),
        ``"past_data"`` (the window runs past the firm's data) or ``"missing_day"`` (no
        return, or no market return, on a day of the window). Empty when every firm is
        in every window.
        """
        recs = []
        ARS = self._fit["ARS"]
        s0 = self._span[0]
        mkt_ok = np.isfinite(self._XS).all(axis=1) if self._XS.shape[1] else np.ones(len(self._XS), bool)
        for (a, b), lab in zip(self._event_windows, self.windows):
            dates = self._dates_S[a - s0 : b - s0 + 1]
            complete = np.isfinite(ARS[a - s0 : b - s0 + 1]).all(axis=0)
            for j in np.nonzero(~complete)[0]:  # dropped firms have no ARs: they are here too
                f = self._firms[j]
                if f in self._dropped:
                    code, why = self._dropped[f]
                    recs.append((f, lab, why, code))
                    continue
                ars = ARS[a - s0 : b - s0 + 1, j]
                y = self._YS[a - s0 : b - s0 + 1, j]
                first_missing = dates[int(np.argmax(~np.isfinite(y)))] if not np.isfinite(y).all() else None
                last = self._last_date(f)
                if first_missing is not None and (last is None or last < first_missing):
                    when = "no returns at all" if last is None else f"last return {last.date()}"
                    recs.append((f, lab, f"window runs past the firm's data ({when})", "past_data"))
                    continue
                miss = []
                for i in np.nonzero(~np.isfinite(ars))[0]:
                    what = "no return" if not np.isfinite(y[i]) else "no market return"
                    if not mkt_ok[a - s0 + i] and not np.isfinite(y[i]):
                        what = "no return and no market return"
                    miss.append(f"{what} on day {a + i:+d} ({dates[i].date()})".replace("day +0", "day 0"))
                recs.append((f, lab, "; ".join(miss), "missing_day"))
        return pd.DataFrame.from_records(recs, columns=EXCLUDED_COLUMNS)

    @_cached
    def firm_sets(self) -> dict[str, list[str]]:
        """The firms each window's statistics use (observed on every day of the window), by label."""
        _, extra, _ = self._computed["windows"]
        firms = np.array(self._firms, dtype=object)
        return {lab: list(firms[extra["P"][:, r]]) for r, lab in enumerate(self.windows)}

    @_cached
    def path_firms(self) -> list[str]:
        """The firms of :attr:`caar_path`: observed on every day of the event span (:attr:`days`).

        With the default windows the span is (-5,5), the widest window, so the path ends
        at that window's CAAR.
        """
        ok = np.isfinite(self._fit["ARS"]).all(axis=0) & self._kept_mask
        return [f for f, k in zip(self._firms, ok) if k]

    # ------------------------------------------------------------------ abnormal returns
    @_cached
    def ar(self) -> pd.DataFrame:
        """Abnormal returns, relative day x firm, over the event span."""
        return self._frame(self._fit["ARS"], self.days)

    @_cached
    def sar(self) -> pd.DataFrame:
        """Standardized abnormal returns AR/s_it (prediction-error corrected), day x firm."""
        f = self._fit
        return self._frame(f["ARS"] / np.sqrt(f["sigma2"][None, :] * (1.0 + f["h"])), self.days)

    @_cached
    def ar_estimation(self) -> pd.DataFrame:
        """Estimation-window residuals, relative day x firm (what the tests' null is built from)."""
        idx = pd.RangeIndex(self._estimation_window[0], self._estimation_window[1] + 1, name="day")
        return self._frame(self._fit["ARE"], idx)

    @_cached
    def normal_returns(self) -> pd.DataFrame:
        """Model-implied normal returns over the event span, day x firm (R - AR)."""
        return self._frame(self._YS - self._fit["ARS"], self.days)

    @_cached
    def aar(self) -> pd.Series:
        """Average abnormal return per relative day, over the firms observed that day (the CAAR of (d,d))."""
        return self.ar.mean(axis=1).rename("aar")

    @_cached
    def n_per_day(self) -> pd.Series:
        """Number of firms with an abnormal return on each relative day."""
        return self.ar.notna().sum(axis=1).rename("n")

    @_cached
    def car(self) -> pd.DataFrame:
        """Cumulative abnormal returns, window label x firm (NaN if a firm misses a day of the window)."""
        _, extra, _ = self._computed["windows"]
        return self._frame(extra["CAR"].T, pd.Index(self.windows, name="window")).loc[:, self.firms]

    @_cached
    def caar(self) -> pd.Series:
        """Cumulative average abnormal return per window label: the mean CAR of the window's firm set."""
        _, extra, _ = self._computed["windows"]
        return pd.Series(extra["CAAR"], index=pd.Index(self.windows, name="window"), name="caar")

    @_cached
    def caar_path(self) -> pd.Series:
        """The CAAR path: cumulated mean AR of :attr:`path_firms`, from the first day of the span."""
        return self.ar[self.path_firms].mean(axis=1).cumsum().rename("caar")

    def caar_band(self, level: float = 0.95) -> pd.DataFrame:
        """The null band of :attr:`caar_path`: ``0 ± q·sd_A·√k`` on the path's k-th day.

        Under H0 (no abnormal return) a k-day CAAR of the path's firms has standard
        deviation sd_A·√k, sd_A the Brown-Warner time-series sd of their mean
        estimation-window AR; ``q = t_{m-1}((1 + level)/2)`` (1.97 at 95% with m = 240),
        the quantile of the crude-dependence t test. A path point outside the band is
        unusual at ``1 - level``. Columns lower, upper, indexed by relative day.
        """
        sd, m = portfolio_sd(self.ar_estimation[self.path_firms].mean(axis=1))
        q = t_quantile(0.5 + level / 2.0, m - 1)
        half = q * sd * np.sqrt(np.arange(1, len(self.days) + 1))
        return pd.DataFrame({"lower": -half, "upper": half}, index=self.days)

    @_cached
    def bhar(self) -> pd.DataFrame:
        """Buy-and-hold abnormal returns Π(1+R) - Π(1+R̂) per window label x firm."""
        R = self._YS
        Rhat = R - self._fit["ARS"]
        s0 = self._span[0]
        out = np.full((len(self._event_windows), len(self._firms)), np.nan)
        for i, (a, b) in enumerate(self._event_windows):
            r, rh = R[a - s0 : b - s0 + 1], Rhat[a - s0 : b - s0 + 1]
            ok = np.isfinite(r).all(axis=0) & np.isfinite(rh).all(axis=0)
            out[i] = np.where(ok, np.prod(1 + r, axis=0) - np.prod(1 + rh, axis=0), np.nan)
        return self._frame(out, pd.Index(self.windows, name="window"))

    # ------------------------------------------------------------------ estimation
    @_cached
    def params(self) -> pd.DataFrame:
        """Per firm: alpha, beta(s), sigma, m (estimation obs used) and R² of the normal-return model."""
        f = self._fit
        cols = {"alpha": f["alpha"]}
        if self._model in ("market_adjusted", "market"):
            cols["beta"] = f["beta"][:, 0]
        elif self._model == "factor":
            for j, name in enumerate(self._xnames):
                cols[f"beta_{name}"] = f["beta"][:, j]
        cols["sigma"] = np.sqrt(f["sigma2"])
        cols["m"] = f["m"].astype(int)
        cols["r2"] = f["r2"]
        df = pd.DataFrame(cols, index=pd.Index(self._firms, name="firm"))
        return df.loc[self._kept_mask]

    @_cached
    def firm_tests(self) -> pd.DataFrame:
        """Per firm and window: CAR, its exact std error, t = CAR/se and p from t(m - k).

        se = σ̂_i·sqrt(L + 1'X_w(X'X)⁻¹X_w'1) (MacKinlay 1997, eq. 15), the same
        standardizer as the ``scar="exact"`` Patell and BMP statistics.
        """
        f = self._fit
        _, rows, L = self._rows("windows")
        m, k = f["m"], f["k"]
        keep = self._kept_mask
        _, extra, _ = self._computed["windows"]
        CAR = extra["CAR"]  # (N,R), NaN outside each window's firm set
        with np.errstate(invalid="ignore", divide="ignore"):
            se = np.sqrt(f["sigma2"][:, None] * car_variance_factor(self._fit1(), rows, L)[0])
            t = CAR / se
            p = _p_t(t, (m - k)[:, None])
        R, n = len(rows), int(keep.sum())
        firms = np.array(self._firms, dtype=object)[keep]
        return pd.DataFrame({
            "window": np.repeat(np.array(self.windows, dtype=object), n),
            "firm": np.tile(firms, R),
            "car": CAR[keep].T.ravel(),
            "std_error": se[keep].T.ravel(),
            "statistic": t[keep].T.ravel(),
            "p_value": p[keep].T.ravel(),
            "df": np.tile((m[keep] - k).astype(np.int64), R),
        })

    # ------------------------------------------------------------------ tests
    @_cached
    def tests(self) -> pd.DataFrame:
        """The battery, tidy: one row per (window, test); columns window, test, statistic, p_value, n."""
        return self._tidy("windows")

    @_cached
    def daily_tests(self) -> pd.DataFrame:
        """The battery on each day of :attr:`daily_span` (one-day windows), columns of :attr:`tests` plus ``day``.

        Every test but ``corrado_rank`` equals the ``(d,d)`` window's row; the daily
        Corrado statistic ranks over the estimation window plus the whole daily span,
        fixed for all its days (Corrado 1989), the window one over the window's own days.
        """
        return self._tidy("days")

    @_cached
    def mean_residual_correlation(self) -> pd.Series:
        """r̄ (Kolari-Pynnönen) of each window's firm set."""
        _, extra, _ = self._computed["windows"]
        return pd.Series(extra["rbar"], index=pd.Index(self.windows, name="window"), name="rbar")

    @property
    def volatility(self) -> pd.DataFrame:
        """Event-induced volatility per event day (see :mod:`analysis.eventstudy.volatility`)."""
        if "volatility" not in self._cache:
            from .volatility import event_volatility

            self._cache["volatility"] = event_volatility(self)
        return self._cache["volatility"]

    # ------------------------------------------------------------------ output
    def to_frame(self) -> pd.DataFrame:
        """:attr:`tests` with the event date, model and window CAAR: one row per (window, test)."""
        df = self.tests.copy()
        df.insert(0, "event_date", self._event_date)
        df.insert(1, "model", self._model)
        df["caar"] = df["window"].map(self.caar)
        return df

    def pivot(self, value: str = "statistic") -> pd.DataFrame:
        """:attr:`tests` as a window x test table of ``value`` ("statistic", "p_value" or "n")."""
        t = self.tests.pivot(index="window", columns="test", values=value)
        return t.loc[self.windows, list(TESTS)]

    def sample_notes(self) -> list[str]:
        """One sentence per excluded firm: which windows it is out of, and why."""
        ex = self.excluded
        notes = []
        for (firm, reason), grp in ex.groupby(["firm", "reason"], sort=False):
            wins = list(grp["window"])
            where = "every window" if len(wins) == len(self.windows) else ", ".join(wins)
            notes.append(f"{firm} excluded from {where}: {reason}")
        return notes

    def summary(self) -> str:
        """A text table: the setup, the sample, CAAR per window and every test's statistic and p-value."""
        what = "" if self._measure == "return" else f" of abnormal {self._measure}"
        lines = [
            f"Event study{what}: day 0 = {self._event_date.date()}, model = {self._model}, "
            f"estimation window {self._estimation_window}",
            f"Firms ({len(self.firms)}): {', '.join(self.firms)}",
        ]
        for note in self.sample_notes():
            lines.append("Excluded: " + note)
        lines.append("")
        cw = 12
        lines.append("CAAR by window")
        lines.append(f"{'':<10}" + "".join(f"{w:>{cw}}" for w in self.windows))
        spec = ".4%" if self._measure == "return" else ".4f"  # a log-volume CAAR is not a percentage
        lines.append(f"{'CAAR':<10}" + "".join(f"{_fmt(self.caar[w], spec):>{cw}}" for w in self.windows))
        lines.append("")
        lines.append(f"{'test':<20}{'window':>9}{'statistic':>12}{'p-value':>10}{'n':>5}")
        lines.append("-" * 56)
        for r in self.tests.itertuples(index=False):
            lines.append(f"{r.test:<20}{r.window:>9}{_fmt(r.statistic):>12}{_fmt(r.p_value):>10}{r.n:>5}")
        lines.append("")
        lines.append("p: two-sided; t tests t(N-1) (crude: t(m-1)); z tests N(0,1); wilcoxon exact "
                     "for n<=50; placebo empirical. With N = 4-6 firms the placebo p is the honest one.")
        lines.append(f"Patell/BMP window standardizer: scar={self._scar!r}; n = firms observed on every day "
                     "of the window.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (f"<EventStudyResult {self._event_date.date()} model={self._model} "
                f"firms={len(self.firms)} windows={self.windows}>")

    def _repr_html_(self) -> str:
        stat = self.pivot("statistic")
        p = self.pivot("p_value")
        tab = stat.map(lambda v: _fmt(v, ".3f")) + " (" + p.map(lambda v: _fmt(v, ".3f")) + ")"
        spec = ".3%" if self._measure == "return" else ".4f"
        tab.insert(0, "CAAR", self.caar.map(lambda v: _fmt(v, spec)))
        head = (f"<p><b>Event study</b>: day 0 = {self._event_date.date()}, model = {self._model}, "
                f"{len(self.firms)} firms; statistic (p-value)</p>")
        notes = "".join(f"<p>Excluded: {n}</p>" for n in self.sample_notes())
        return head + notes + tab.to_html()

    def plot(self, ax=None, level: float = 0.95, **kwargs):
        """The CAAR path with its null band (see :func:`analysis.plots.plot_caar`); returns the Figure."""
        from ..plots import plot_caar

        return plot_caar(self, ax=ax, level=level, **kwargs)

    # ------------------------------------------------------------------ JSON
    def to_json(self, path=None) -> str:
        """JSON with the inputs (enough to rebuild the result) and the main tables; see :func:`from_json`."""
        from .serialize import to_json

        return to_json(self, path)

    @classmethod
    def from_json(cls, text) -> "EventStudyResult":
        """Rebuild a result from :meth:`to_json` output (a string, or a path to a file)."""
        from .serialize import from_json

        return from_json(text)

