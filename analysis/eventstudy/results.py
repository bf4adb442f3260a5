"""Results containers of the engine: :class:`EventStudyResult` and its JSON round trip.

In the style of linearmodels' results: the computation lives in
:mod:`analysis.eventstudy.models` and :mod:`analysis.eventstudy.battery`; the container
stores the inputs of its own study (no class-level state), exposes read-only properties
computed on first access and cached on the instance, ``summary()`` for people and
``to_frame()`` / ``to_json()`` for machines. :func:`from_json` rebuilds a result by
re-estimating the stored inputs, so every property of the rebuilt result is identical.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd

from ..distributions import p_t as _p_t
from ..distributions import t_quantile
from ..errors import EventStudyError
from ..windows import window_label
from .battery import TESTS, _battery
from .inputs import EventStudyWarning

TEST_COLUMNS = ["window", "test", "statistic", "p_value", "n"]
JSON_SCHEMA = "potash-impact/event-study/1"


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
    """Results of :func:`event_study`: abnormal returns, cumulative returns and the test battery.

    Built by :func:`event_study` (or :func:`from_json`), never directly. Every property is
    read-only; tables are computed on first access and cached on the instance. Each
    instance holds the inputs of its own study only.
    """

    def __init__(self, *, returns, market, event_date, estimation_window, event_windows, span, model,
                 min_estimation_obs, firms, xnames, excluded, dates_estimation, dates_span, YS, XS, fit):
        self._returns = returns
        self._market = market
        self._event_date = event_date
        self._estimation_window = estimation_window
        self._event_windows = event_windows
        self._span = span
        self._model = model
        self._min_obs = min_estimation_obs
        self._firms = firms
        self._xnames = xnames
        self._excluded = dict(excluded)
        self._dates_E = dates_estimation
        self._dates_S = dates_span
        self._YS = YS
        self._XS = XS
        self._fit = fit
        self._cache = {}
        self._kept_mask = np.array([f not in self._excluded for f in firms], dtype=bool)
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
    def estimation_window(self) -> tuple[int, int]:
        """The estimation window in relative sessions (inclusive)."""
        return self._estimation_window

    @property
    def event_windows(self) -> tuple[tuple[int, int], ...]:
        """The event windows in relative sessions (inclusive)."""
        return self._event_windows

    @property
    def windows(self) -> list[str]:
        """The event-window labels, ``"(a,b)"``, in the order given."""
        return [window_label(w) for w in self._event_windows]

    @property
    def firms(self) -> list[str]:
        """Firms estimated (excluded firms removed)."""
        return [f for f in self._firms if f not in self._excluded]

    @property
    def excluded(self) -> dict[str, str]:
        """Firms dropped before estimation, with the reason."""
        return dict(self._excluded)

    @property
    def days(self) -> pd.Index:
        """Relative days of the event span (all windows)."""
        return pd.RangeIndex(self._span[0], self._span[1] + 1, name="day")

    @property
    def dates(self) -> pd.Series:
        """Session date of each relative day of the event span."""
        return pd.Series(self._dates_S, index=self.days, name="date")

    # ------------------------------------------------------------------ internals
    def _kept(self):
        return self._kept_mask

    def _frame(self, arr, index):
        keep = self._kept_mask
        return pd.DataFrame(np.asarray(arr)[:, keep], index=index, columns=self._firm_index[keep])

    def _rows(self):
        s0 = self._span[0]
        wins = list(self._event_windows)
        days = [(d, d) for d in range(self._span[0], self._span[1] + 1)]
        rows = [(a - s0, b - s0) for a, b in wins + days]
        L = [b - a + 1 for a, b in wins + days]
        return wins, days, rows, L

    @_cached
    def _computed(self):
        """The full battery over windows and days (internal)."""
        wins, days, rows, L = self._rows()
        fit = {k: (v[None] if isinstance(v, np.ndarray) else v) for k, v in self._fit.items()}
        out, extra = _battery(fit, rows, L)
        out = {k: tuple(np.asarray(a)[0] for a in v) for k, v in out.items()}
        extra = {k: np.asarray(v)[0] for k, v in extra.items()}
        return out, extra, wins, days

    def _tidy(self, which):
        out, extra, wins, days = self._computed
        W = len(wins)
        sel = slice(0, W) if which == "windows" else slice(W, None)
        labels = [window_label(w) for w in (wins if which == "windows" else days)]
        nt = len(TESTS)
        data = {
            "window": np.repeat(np.array(labels, dtype=object), nt),
            "test": np.tile(np.array(TESTS, dtype=object), len(labels)),
            "statistic": np.stack([out[t][0][sel] for t in TESTS], axis=1).ravel().astype(float),
            "p_value": np.stack([out[t][1][sel] for t in TESTS], axis=1).ravel().astype(float),
            "n": np.stack([out[t][2][sel] for t in TESTS], axis=1).ravel().astype(np.int64),
        }
        if which == "days":
            data["day"] = np.repeat(np.array([d for d, _ in days], dtype=np.int64), nt)
        return pd.DataFrame(data)

    # ------------------------------------------------------------------ abnormal returns
    @_cached
    def ar(self) -> pd.DataFrame:
        """Abnormal returns, relative day x firm, over the span of all event windows."""
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
        """Average abnormal return per relative day (mean over the firms observed that day)."""
        return self.ar.mean(axis=1).rename("aar")

    @_cached
    def n_per_day(self) -> pd.Series:
        """Number of firms with an abnormal return on each relative day."""
        return self.ar.notna().sum(axis=1).rename("n")

    @_cached
    def car(self) -> pd.DataFrame:
        """Cumulative abnormal returns, window label x firm (NaN if a firm misses a day of the window)."""
        _, extra, wins, _ = self._computed
        W = len(wins)
        return self._frame(extra["CAR"][:, :W].T, pd.Index(self.windows, name="window")).loc[:, self.firms]

    @_cached
    def caar(self) -> pd.Series:
        """Cumulative average abnormal return per window label (mean CAR of the window's firms)."""
        _, extra, wins, _ = self._computed
        return pd.Series(extra["CAAR"][: len(wins)], index=pd.Index(self.windows, name="window"), name="caar")

    @_cached
    def caar_path(self) -> pd.Series:
        """Cumulated AAR over the event span, from its first day (the CAAR path)."""
        return self.aar.cumsum().rename("caar")

    def caar_band(self, level: float = 0.95) -> pd.DataFrame:
        """Confidence band of :attr:`caar_path`: ±t(m-1)·sd_A·√(days cumulated), Brown-Warner sd_A."""
        sd, m = self._aar_sd()
        q = t_quantile(0.5 + level / 2.0, m - 1)
        half = q * sd * np.sqrt(np.arange(1, len(self.days) + 1))
        path = self.caar_path
        return pd.DataFrame({"lower": path - half, "upper": path + half}, index=self.days)

    def _aar_sd(self):
        A = self.ar_estimation.mean(axis=1).dropna()
        return float(A.std(ddof=1)), len(A)

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
        if self._model == "market_adjusted":
            cols["beta"] = f["beta"][:, 0]
        elif self._model == "market":
            cols["beta"] = f["beta"][:, 0]
        elif self._model == "factor":
            for j, name in enumerate(self._xnames):
                cols[f"beta_{name}"] = f["beta"][:, j]
        cols["sigma"] = np.sqrt(f["sigma2"])
        cols["m"] = f["m"].astype(int)
        cols["r2"] = f["r2"]
        df = pd.DataFrame(cols, index=pd.Index(self._firms, name="firm"))
        return df.loc[self._kept()]

    @_cached
    def firm_tests(self) -> pd.DataFrame:
        """Per firm and window: CAR, its exact std error, t = CAR/se and p from t(m - k)."""
        f = self._fit
        s0 = self._span[0]
        m, k = f["m"], f["k"]
        keep = self._kept_mask
        firms = np.array(self._firms, dtype=object)[keep]
        cols = {k: [] for k in ("window", "firm", "car", "std_error", "statistic", "p_value", "df")}
        for a, b in self._event_windows:
            L = b - a + 1
            ars = f["ARS"][a - s0 : b - s0 + 1]
            car = np.where(np.isfinite(ars).all(axis=0), ars.sum(axis=0), np.nan)
            if self._model == "market_adjusted":
                q = np.zeros(len(self._firms))
            else:
                q = L**2 / m
                if f["xbar"] is not None and f["xbar"].shape[-1] > 0:
                    x = self._XS[a - s0 : b - s0 + 1]  # (L,F)
                    c = x.sum(axis=0)[None, :] - L * f["xbar"]  # (N,F)
                    q = q + np.einsum("nf,nfh,nh->n", c, f["Sinv"], c)
            se = np.sqrt(f["sigma2"] * (L + q))
            t = car / se
            p = _p_t(t, m - k)
            for key, val in (("window", np.full(keep.sum(), window_label((a, b)), dtype=object)), ("firm", firms),
                             ("car", car[keep]), ("std_error", se[keep]), ("statistic", t[keep]),
                             ("p_value", p[keep]), ("df", (m[keep] - k).astype(np.int64))):
                cols[key].append(val)
        return pd.DataFrame({key: np.concatenate(v) for key, v in cols.items()})

    # ------------------------------------------------------------------ tests
    @_cached
    def tests(self) -> pd.DataFrame:
        """The battery, tidy: one row per (window, test); columns window, test, statistic, p_value, n."""
        return self._tidy("windows")

    @_cached
    def daily_tests(self) -> pd.DataFrame:
        """The battery on each day of the span (one-day windows), columns of :attr:`tests` plus ``day``."""
        return self._tidy("days")

    @_cached
    def mean_residual_correlation(self) -> pd.Series:
        """r̄ (Kolari-Pynnönen) of each window's firm set."""
        _, extra, wins, _ = self._computed
        return pd.Series(extra["rbar"][: len(wins)], index=pd.Index(self.windows, name="window"), name="rbar")

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

    def summary(self) -> str:
        """A text table: the setup, CAAR per window and every test's statistic and p-value."""
        lines = [
            f"Event study: day 0 = {self._event_date.date()}, model = {self._model}, "
            f"estimation window {self._estimation_window}",
            f"Firms ({len(self.firms)}): {', '.join(self.firms)}",
        ]
        if self._excluded:
            lines.append("Excluded: " + "; ".join(f"{k} ({v})" for k, v in self._excluded.items()))
        lines.append("")
        cw = 12
        head = f"{'window':<10}{'CAAR':>{cw}}{'n':>4}  " + "".join(f"{w:>{cw}}" for w in self.windows)
        lines.append("CAAR by window")
        lines.append(f"{'':<10}" + "".join(f"{w:>{cw}}" for w in self.windows))
        lines.append(f"{'CAAR':<10}" + "".join(f"{_fmt(self.caar[w], '.4%'):>{cw}}" for w in self.windows))
        del head
        lines.append("")
        lines.append(f"{'test':<20}{'window':>9}{'statistic':>12}{'p-value':>10}{'n':>5}")
        lines.append("-" * 56)
        for r in self.tests.itertuples(index=False):
            lines.append(f"{r.test:<20}{r.window:>9}{_fmt(r.statistic):>12}{_fmt(r.p_value):>10}{r.n:>5}")
        lines.append("")
        lines.append("p: two-sided; t tests t(N-1) (crude: t(m-1)); z tests N(0,1); wilcoxon exact "
                     "for n<=50; placebo empirical. With N = 4-6 firms the placebo p is the honest one.")
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
        tab.insert(0, "CAAR", self.caar.map(lambda v: _fmt(v, ".3%")))
        head = (f"<p><b>Event study</b>: day 0 = {self._event_date.date()}, model = {self._model}, "
                f"{len(self.firms)} firms; statistic (p-value)</p>")
        return head + tab.to_html()

    def plot(self, ax=None, level: float = 0.95, **kwargs):
        """The CAAR path with a confidence band (see :func:`analysis.plots.plot_caar`); returns the Figure."""
        from ..plots import plot_caar

        return plot_caar(self, ax=ax, level=level, **kwargs)

    # ------------------------------------------------------------------ JSON
    def to_json(self, path=None) -> str:
        """JSON with the inputs (enough to rebuild the result) and the main tables; see :func:`from_json`."""
        pos = self._returns.index.get_loc(self._event_date)
        lo = min(self._estimation_window[0], self._span[0])
        hi = max(self._estimation_window[1], self._span[1])
        rows = self._returns.iloc[pos + lo : pos + hi + 1]
        doc = {
            "schema": JSON_SCHEMA,
            "config": {
                "event_date": self._event_date.isoformat(),
                "estimation_window": list(self._estimation_window),
                "event_windows": [list(w) for w in self._event_windows],
                "model": self._model,
                "min_estimation_obs": self._min_obs,
            },
            "inputs": {
                "dates": [d.isoformat() for d in rows.index],
                "returns": {str(c): _floats(rows[c]) for c in rows.columns},
                "market": _market_json(self._market, rows.index),
            },
            "results": {
                "excluded": self._excluded,
                "params": _table_json(self.params.reset_index()),
                "caar": {k: _f(v) for k, v in self.caar.items()},
                "car": _table_json(self.car.reset_index()),
                "tests": _table_json(self.tests),
                "daily_tests": _table_json(self.daily_tests),
            },
        }
        text = json.dumps(doc, allow_nan=False)
        if path is not None:
            from pathlib import Path

            Path(path).write_text(text)
        return text

    @classmethod
    def from_json(cls, text) -> "EventStudyResult":
        """Rebuild a result from :meth:`to_json` output (a string, or a path to a file)."""
        return from_json(text)


def _f(v):
    v = float(v)
    return v if math.isfinite(v) else None


def _floats(s):
    return [_f(v) for v in np.asarray(s, dtype=float)]


def _table_json(df):
    out = {}
    for c in df.columns:
        col = df[c]
        if pd.api.types.is_float_dtype(col):
            out[str(c)] = _floats(col)
        elif pd.api.types.is_integer_dtype(col):
            out[str(c)] = [int(v) for v in col]
        else:
            out[str(c)] = [str(v) for v in col]
    return out


def _market_json(market, index):
    if market is None:
        return None
    if isinstance(market, pd.Series):
        return {"kind": "series", "name": None if market.name is None else str(market.name),
                "values": _floats(market.reindex(index))}
    frame = market.reindex(index)
    return {"kind": "frame", "columns": {str(c): _floats(frame[c]) for c in frame.columns}}


def from_json(text) -> EventStudyResult:
    """Rebuild an :class:`EventStudyResult` from :meth:`EventStudyResult.to_json` output.

    The stored inputs are re-estimated (deterministically), so every property of the
    rebuilt result equals the original's.
    """
    if not isinstance(text, str) or not text.lstrip().startswith("{"):
        from pathlib import Path

        text = Path(text).read_text()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventStudyError(f"not event-study JSON: {exc}") from None
    if doc.get("schema") != JSON_SCHEMA:
        raise EventStudyError(f"unknown event-study JSON schema {doc.get('schema')!r}: expected {JSON_SCHEMA!r}")
    cfg, inp = doc["config"], doc["inputs"]
    idx = pd.DatetimeIndex(pd.to_datetime(inp["dates"]), name="date")
    nan = lambda vs: [np.nan if v is None else v for v in vs]  # noqa: E731
    returns = pd.DataFrame({c: nan(v) for c, v in inp["returns"].items()}, index=idx, dtype=float)
    returns.columns.name = "ticker"
    mk = inp["market"]
    if mk is None:
        market = None
    elif mk["kind"] == "series":
        market = pd.Series(nan(mk["values"]), index=idx, name=mk["name"], dtype=float)
    else:
        market = pd.DataFrame({c: nan(v) for c, v in mk["columns"].items()}, index=idx, dtype=float)
    from . import event_study

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EventStudyWarning)
        return event_study(
            returns, market, cfg["event_date"],
            estimation_window=tuple(cfg["estimation_window"]),
            event_windows=tuple(tuple(w) for w in cfg["event_windows"]),
            model=cfg["model"], min_estimation_obs=cfg["min_estimation_obs"],
        )
