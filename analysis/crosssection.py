"""Who else moved? In-space inference for one event date over a cross-section of firms.

With four treated firms on one shared date every parametric test leans on assumptions four
firms cannot support, and the placebo in *time* only asks whether the move is unusual
compared with other days. This module asks the question *in space*: on the same day, was
the treated firms' move unusual compared with portfolios of firms the news should not
touch (Abadie, Diamond & Hainmueller 2010, sec. 2.4; the permutation logic of Fisher's
exact test)?

Notation
--------
Relative days are sessions from the event session (day 0); windows are inclusive
``(a, b)``, ``L = b - a + 1`` (:mod:`analysis.windows`). Firms: the treated set ``T``
(``k`` firms), an optional control set ``C`` (``k_c``), the donor pool ``D`` (``n`` firms
that the news should not touch; default: the universe groups of ``donor_groups``,
``"broad market"`` and ``"chemicals"``). Every firm is on the **same price-return basis**
(:func:`cross_section_returns`): the peers have no dividend data, so total returns for the
treated firms would compare unlike with like.

Per-firm statistics (fitted once for every firm by the engine, :func:`analysis.eventstudy.event_study`, market model)
------------------------------------------------------------------------------------------------------------------------
``CAR_i``
    The sum of the firm's abnormal returns over the window.
``SCAR_i``
    ``CAR_i / (σ̂_i sqrt(L + 1'X_w(X'X)⁻¹X_w'1))``: the CAR over its exact prediction-error
    sd (MacKinlay 1997, eq. 15; the engine's per-firm test statistic, its exact SCAR).

The in-space placebo (:func:`placebo_in_space`)
-----------------------------------------------
The statistic is ``S(T) = mean_{i∈T} x_i`` with ``x = CAR`` (``statistic="car"``, the
CAAR) or ``x = SCAR`` (``"scar"``); with ``control=`` it is the difference
``mean_T x - mean_C x``. Its null distribution is the same statistic on portfolios of
donors: ``k`` donors drawn without replacement (with ``control=``, ``k + k_c`` donors split
into a pseudo-treated ``k`` and a pseudo-control ``k_c``, so the placebo difference is
centred like the real one when the news touches neither group). Two-sided,

    p = (1 + #{|S_P| >= |S_T|}) / (1 + n_portfolios)

(Phipson & Smyth 2010: valid, slightly conservative, never 0). The donors share the
day's common shock, so their distribution need not be centred on zero; the test is valid
because, under the null, the treated firms are exchangeable with any same-size set of
donors on that very day (the cross-correlation that breaks the parametric tests is in the
reference distribution itself). When the number of possible
portfolios ``C(n, k)`` (``C(n, k) C(n - k, k_c)`` with a control) is at most
``n_portfolios`` every portfolio is enumerated once instead (``exact=True``) and
``n_portfolios`` is that number. The donors' CARs are computed once; portfolio means are
index sums (vectorized).

*Why SCAR is the headline.* Donors differ in volatility: a large-cap consumer-staples
stock moves far less on any day than a small potash producer, so a portfolio of donors
has a narrower CAR distribution than the treated portfolio would have under the null, and
a raw-CAR comparison leans toward "unusual". Dividing each CAR by its own prediction-error
sd puts every firm on the scale of its own noise. ``"car"`` is kept for transparency.

The screen (:func:`screen`, :mod:`analysis.screening`)
----------------------------------------------------
Every firm's CAR and SCAR, its percentile in the cross-section (``100 #{x_j <= x_i} / N``),
sorted, with group labels; each group's CAAR and mean SCAR with its in-space p against the
donor pool without the group's own members.

Synthetic control (:func:`synthetic_control`)
---------------------------------------------
Abadie, Diamond & Hainmueller (2010): see :mod:`analysis.synthetic`, re-exported here.

Length: the module is one concern, the in-space placebo (firm CARs, donor pools, portfolio
draws and the :class:`InSpacePlacebo` result), and of its 609 lines 246 are code and 314
docstrings, the screen and the synthetic control already being in :mod:`analysis.screening`
and :mod:`analysis.synthetic`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .case import as_case
from .errors import DataError
from .windows import DEFAULT_ESTIMATION_WINDOW, parse_window, window_label

DEFAULT_DONOR_GROUPS = ("broad market", "chemicals")
STATISTICS = ("car", "scar")
#: relative tolerance when counting |placebo| >= |treated| (a tie in exact arithmetic counts)
_TIE = 1e-12


# --------------------------------------------------------------------------- firm statistics
def firm_cars(returns, market, event_date, window=(0, 1), estimation_window=DEFAULT_ESTIMATION_WINDOW, *,
              min_estimation_obs: int = 120) -> pd.DataFrame:
    """Every firm's CAR and exact SCAR over ``window``: one market-model fit for all firms (the engine).

    Parameters
    ----------
    returns : DataFrame
        Sessions x firms, price returns.
    market : Series
        The market-model regressor on the same sessions.
    event_date : date-like
        Day 0, a session of ``returns.index``.
    window, estimation_window : (int, int)
        Relative sessions, inclusive.
    min_estimation_obs : int
        Firms with fewer valid estimation returns are dropped (named in ``attrs``).

    Returns
    -------
    DataFrame
        Index ``firm``; columns ``car``, ``scar``, ``std_error`` for firms with a return on
        every day of the window. ``attrs["dropped"]`` maps every other firm to its reason.

    Raises
    ------
    EventStudyError
        As :func:`analysis.eventstudy.event_study` (event date not a session, windows past
        the data, no usable firm).

    Examples
    --------
    >>> from analysis.crosssection_suite import cross_section_returns
    >>> r, m = cross_section_returns(["NTR", "MOS", "IPI", "ICL", "KO", "PG", "XOM", "DOW", "LIN", "CAT", "JPM", "AAPL"],
    ...                              offline=True)
    >>> round(float(firm_cars(r, m, "2025-12-15").loc["MOS", "car"]), 4)
    -0.1036
    """
    window = parse_window(window)
    return firm_cars_windows(returns, market, event_date, [window], estimation_window,
                             min_estimation_obs=min_estimation_obs)[window]


def firm_cars_windows(returns, market, event_date, windows, estimation_window=DEFAULT_ESTIMATION_WINDOW, *,
                      min_estimation_obs: int = 120) -> dict:
    """:func:`firm_cars` for several windows from one engine fit: ``{(a, b): frame}``.

    Parameters
    ----------
    returns, market, event_date, estimation_window, min_estimation_obs
        As :func:`firm_cars`.
    windows : sequence of (int, int) or str
        Event windows (parsed by :func:`analysis.windows.parse_window`).

    Returns
    -------
    dict
        ``(a, b)`` -> frame indexed by firm with ``car``, ``scar``, ``std_error``;
        ``attrs``: ``dropped`` (firm -> reason), ``window`` label, ``event_date``.

    Examples
    --------
    >>> from analysis.crosssection_suite import cross_section_returns
    >>> r, m = cross_section_returns(["NTR", "MOS", "IPI", "ICL", "KO", "PG", "XOM", "DOW", "LIN", "CAT", "JPM", "AAPL"],
    ...                              offline=True)
    >>> cars = firm_cars_windows(r, m, "2025-12-15", [(0, 0), (0, 1)])
    >>> round(float(cars[(0, 0)].loc["MOS", "car"]), 4), round(float(cars[(0, 1)].loc["MOS", "car"]), 4)
    (-0.0499, -0.1036)
    """
    from .eventstudy import event_study

    windows = [parse_window(w) for w in windows]
    res = event_study(returns, market, event_date, estimation_window=estimation_window, event_windows=windows,
                      model="market", min_estimation_obs=min_estimation_obs)
    excluded = res.excluded
    if isinstance(excluded, pd.DataFrame):  # the engine's tidy form: firm, window, reason
        excluded = dict(zip(excluded["firm"], excluded["reason"]))
    base = {str(f): str(why) for f, why in dict(excluded).items()}
    tests = res.firm_tests
    out = {}
    for w in windows:
        ft = tests[tests["window"] == window_label(w)].set_index("firm")
        frame = pd.DataFrame({"car": ft["car"], "scar": ft["statistic"], "std_error": ft["std_error"]})
        frame.index.name = "firm"
        dropped = dict(base)
        missing = frame.index[frame["car"].isna()]
        for f in missing:
            dropped[str(f)] = f"no return on every session of {window_label(w)}"
        frame = frame.drop(index=missing)
        frame.attrs = {"dropped": dropped, "window": window_label(w), "event_date": str(res.event_date.date())}
        out[w] = frame
    return out


def _members(spec, available, case, what: str) -> list[str]:
    """Tickers from a list of tickers and/or universe group names, in order, restricted to ``available``."""
    if isinstance(spec, str):
        spec = [spec]
    groups = set(case.universe["group"])
    out = []
    for item in spec:
        if item in available:
            out.append(item)
        elif item in groups:
            out += [t for t in case.group(item) if t in available]
        else:
            raise DataError(f"{what}: {item!r} is neither a column of returns nor a universe group")
    return list(dict.fromkeys(out))


def _default_treated(case, available) -> list[str]:
    name = case.settings.get("treated_group")
    if not name:
        raise DataError(f"{case.root / 'case.toml'}: no treated_group: pass treated=[...]")
    return _members([name], available, case, "treated")


def donor_groups(case=None) -> tuple[list[str], list[str]]:
    """``(wanted, present)``: the case's donor groups (``donor_groups`` of ``case.toml``, else
    :data:`DEFAULT_DONOR_GROUPS`) and those its universe has.

    Parameters
    ----------
    case : Case, path-like or None
        The case (default the bundled one, or ``$POTASH_IMPACT_DATA``).

    Returns
    -------
    (list of str, list of str)
        The wanted group names and the subset ``universe.csv`` lists.

    Examples
    --------
    >>> donor_groups()
    (['broad market', 'chemicals'], ['broad market', 'chemicals'])
    """
    case = as_case(case)
    names = list(getattr(case.settings, "donor_groups", ()) or DEFAULT_DONOR_GROUPS)
    return names, [g for g in names if g in set(case.universe["group"])]


def _default_donors(case, available) -> list[str]:
    names, have = donor_groups(case)
    if not have:
        raise DataError(f"none of the donor groups {names} is a group of {case.root / 'universe.csv'}: pass donors=[...]")
    return _members(have, available, case, "donors")


# --------------------------------------------------------------------------- portfolios
def n_portfolios_possible(n: int, k: int, k_control: int = 0) -> int:
    """Number of distinct (pseudo-treated, pseudo-control) donor portfolios: ``C(n, k) C(n - k, k_c)``.

    Parameters
    ----------
    n : int
        Donors.
    k : int
        Size of the pseudo-treated portfolio.
    k_control : int
        Size of the pseudo-control portfolio (0: no control).

    Returns
    -------
    int

    Examples
    --------
    >>> n_portfolios_possible(10, 4), n_portfolios_possible(10, 4, 2)
    (210, 3150)
    """
    return math.comb(n, k) * (math.comb(n - k, k_control) if k_control else 1)


def portfolio_draws(n: int, k: int, n_portfolios: int, seed=0, k_control: int = 0):
    """Index arrays of donor portfolios: every one when few enough, else random draws.

    Parameters
    ----------
    n : int
        Donors.
    k, k_control : int
        Portfolio sizes (pseudo-treated, pseudo-control; 0 = no control).
    n_portfolios : int
        Draws, or the enumeration limit.
    seed : int or numpy Generator
        Random state of the draws.

    Returns
    -------
    (ndarray, ndarray or None, bool)
        ``(P, n_portfolios x k)`` pseudo-treated rows, ``(Q, n_portfolios x k_c)``
        pseudo-control rows (None without control; disjoint from P's row) and whether
        the portfolios are the exact enumeration.

    Raises
    ------
    DataError
        Fewer donors than ``k + k_control``.

    Examples
    --------
    >>> P, Q, exact = portfolio_draws(5, 2, 100)  # C(5, 2) = 10 <= 100: every portfolio
    >>> P.shape, Q, exact, P[:3].tolist()
    ((10, 2), None, True, [[0, 1], [0, 2], [0, 3]])
    >>> P, Q, exact = portfolio_draws(30, 4, 50, seed=1, k_control=2)  # too many to enumerate: 50 draws
    >>> P.shape, Q.shape, exact
    ((50, 4), (50, 2), False)
    """
    if n < k + k_control or k < 1:
        raise DataError(f"{n} donors cannot fill a portfolio of {k} + {k_control} firms: add donors")
    total = n_portfolios_possible(n, k, k_control)
    if total <= n_portfolios:
        P, Q = [], []
        for comb in itertools.combinations(range(n), k):
            if not k_control:
                P.append(comb)
                continue
            rest = [j for j in range(n) if j not in comb]
            for c in itertools.combinations(rest, k_control):
                P.append(comb)
                Q.append(c)
        return np.array(P, dtype=np.intp), (np.array(Q, dtype=np.intp) if k_control else None), True
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    keys = rng.random((int(n_portfolios), n))
    if not k_control:  # the k smallest of n iid keys: a uniformly random k-subset
        return np.argpartition(keys, k - 1, axis=1)[:, :k], None, False
    order = np.argsort(keys, axis=1)[:, : k + k_control]
    return order[:, :k], order[:, k:], False


def in_space_p(observed: float, distribution) -> float:
    """``(1 + #{|x| >= |observed|}) / (1 + n)``: the two-sided in-space p.

    Parameters
    ----------
    observed : float
        The treated statistic.
    distribution : array-like of float
        The placebo portfolios' statistics (ties within floating-point noise count).

    Returns
    -------
    float
        In ``(0, 1]``; never 0, as the observed value counts as one draw.

    Examples
    --------
    >>> in_space_p(0.05, [0.01, -0.06, 0.02, 0.05])
    0.6
    """
    d = np.abs(np.asarray(distribution, dtype=float))
    return float((1 + np.count_nonzero(d >= abs(observed) * (1 - _TIE))) / (1 + d.size))


@dataclass(frozen=True, eq=False)
class InSpacePlacebo:
    """Result of :func:`placebo_in_space` (a container; see the module docstring for the method).

    Attributes
    ----------
    statistic : float
        The treated value: mean CAR (the CAAR) or mean SCAR, minus the control's with ``control=``.
    p_value : float
        ``(1 + #{|S_P| >= |S_T|}) / (1 + n_portfolios)``.
    distribution : Series
        The placebo portfolios' statistics.
    exact : bool
        True when every possible donor portfolio was enumerated.
    measure : {"car", "scar"}
    window : str
    event_date : Timestamp
    treated, control, donors : tuple of str
    firms : DataFrame
        firm, role, car, scar of every firm used.
    dropped : DataFrame
        firm, role, reason of every firm asked for but not used.
    n_possible : int
        The number of distinct portfolios.

    Examples
    --------
    >>> from analysis.crosssection_suite import cross_section_returns
    >>> r, m = cross_section_returns(["NTR", "MOS", "IPI", "ICL", "KO", "PG", "XOM", "DOW", "LIN", "CAT", "JPM", "AAPL"],
    ...                              offline=True)
    >>> res = placebo_in_space(r, m, "2025-12-15", statistic="scar")
    >>> res.measure, res.window, res.treated, res.exact, res.n_possible
    ('scar', '(0,1)', ('NTR', 'MOS', 'IPI', 'ICL'), True, 70)
    """

    statistic: float
    p_value: float
    distribution: pd.Series = field(repr=False)
    exact: bool
    measure: str
    window: str
    event_date: pd.Timestamp
    treated: tuple
    control: tuple
    donors: tuple
    firms: pd.DataFrame = field(repr=False)
    dropped: pd.DataFrame = field(repr=False)
    n_possible: int = 0
    seed: int | None = 0

    @property
    def n_portfolios(self) -> int:
        """Portfolios in the distribution (all of them when :attr:`exact`)."""
        return int(self.distribution.size)

    @property
    def label(self) -> str:
        """``CAAR``/``mean SCAR``, with ``(treated - control)`` for a difference."""
        name = "CAAR" if self.measure == "car" else "mean SCAR"
        return f"{name} (treated - control)" if self.control else name

    def to_frame(self) -> pd.DataFrame:
        """One row: window, measure, statistic, p_value, n_portfolios, exact, k, k_control, n_donors."""
        return pd.DataFrame([{
            "window": self.window, "measure": self.measure, "difference": bool(self.control),
            "statistic": self.statistic, "p_value": self.p_value, "n_portfolios": self.n_portfolios,
            "exact": self.exact, "k": len(self.treated), "k_control": len(self.control), "n_donors": len(self.donors),
        }])

    def to_dict(self) -> dict:
        """JSON-able key numbers (for ``results.json``)."""
        row = self.to_frame().iloc[0].to_dict()
        row.update(treated=list(self.treated), control=list(self.control),
                   dropped=dict(zip(self.dropped["firm"], self.dropped["reason"])))
        return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}

    def summary(self) -> str:
        """Text: the statistic, its in-space p, the sample and every dropped firm with its reason."""
        how = "all" if self.exact else "random"
        unit = "" if self.measure == "scar" else "%"
        val = self.statistic * (100 if self.measure == "car" else 1)
        lines = [
            f"In-space placebo, {self.window} on {self.event_date.date()}: {self.label} = {val:+.3f}{unit}, "
            f"p = {self.p_value:.4f} ({how} {self.n_portfolios} of {self.n_possible} donor portfolios)",
            f"treated ({len(self.treated)}): {', '.join(self.treated)}",
        ]
        if self.control:
            lines.append(f"control ({len(self.control)}): {', '.join(self.control)}")
        lines.append(f"donors ({len(self.donors)}): {', '.join(self.donors)}")
        for r in self.dropped.itertuples():
            lines.append(f"note: {r.firm} ({r.role}) dropped: {r.reason}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, ax=None, **kw):
        """Histogram of the placebo distribution with the treated value marked; returns the Figure."""
        from .crosssection_plots import plot_in_space

        return plot_in_space(self, ax=ax, **kw)


def _dropped_frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["firm", "role", "reason"])


def _placebo_from_values(values: pd.Series, treated, control, donors, *, n_portfolios, seed, draws=None):
    """Treated statistic, distribution and exactness from per-firm values (the array core).

    ``draws``: a dict reused across calls with the same seed (the same sizes give the same
    portfolios, so they are drawn once).
    """
    arr, where = values.to_numpy(dtype=float), values.index

    def pick(names):
        pos = where.get_indexer(list(names))
        if (pos < 0).any():
            raise KeyError(f"no value for {[n for n, i in zip(names, pos) if i < 0]}")
        return arr[pos]

    t_val = float(pick(treated).mean())
    if control:
        t_val -= float(pick(control).mean())
    v = pick(donors)
    key = (len(v), len(treated), int(n_portfolios), len(control))
    if draws is not None and isinstance(seed, int) and key in draws:
        P, Q, exact = draws[key]
    else:
        P, Q, exact = portfolio_draws(len(v), len(treated), n_portfolios, seed, len(control))
        if draws is not None and isinstance(seed, int):
            draws[key] = (P, Q, exact)
    dist = v[P].sum(axis=1) / P.shape[1]
    if Q is not None:
        dist = dist - v[Q].sum(axis=1) / Q.shape[1]
    return t_val, dist, exact


def placebo_in_space(
    returns,
    market,
    event_date,
    treated=None,
    donors=None,
    window=(0, 1),
    estimation_window=DEFAULT_ESTIMATION_WINDOW,
    n_portfolios: int = 10_000,
    seed=0,
    *,
    control=None,
    statistic: str = "car",
    case=None,
    min_estimation_obs: int = 120,
    cars: pd.DataFrame | None = None,
) -> InSpacePlacebo:
    """Was the treated firms' move on the event date unusual among same-size donor portfolios?

    Parameters
    ----------
    returns : DataFrame
        Sessions x firms, price returns for every firm (treated, control and donors).
    market : Series
        The market-model regressor (SPY price returns).
    event_date : date-like
        Day 0, a session of ``returns.index``.
    treated : list of str, optional
        Tickers or universe group names; default the case's ``treated_group``.
    donors : list of str, optional
        Tickers or group names; default the case's ``donor_groups`` (``"broad market"``
        and ``"chemicals"``). Treated and control firms are never donors.
    window, estimation_window : (int, int)
        Relative sessions, inclusive.
    n_portfolios : int
        Random portfolios; exact enumeration when the possible portfolios are no more.
    seed : int
        Random state of the draws.
    control : list of str, optional
        With a control group the statistic is the difference treated - control.
    statistic : {"car", "scar"}
        Mean CAR (kept for transparency) or mean exact SCAR (the headline: see the
        module docstring for why).
    case : Case or path, optional
        Where group names and the defaults come from.
    min_estimation_obs : int
        As :func:`analysis.eventstudy.event_study`.
    cars : DataFrame, optional
        A :func:`firm_cars` frame to reuse (skips the fit).

    Returns
    -------
    InSpacePlacebo

    Raises
    ------
    DataError
        Unknown statistic, no treated firm left, too few donors.

    Examples
    --------
    >>> from analysis.crosssection_suite import cross_section_returns
    >>> r, m = cross_section_returns(["NTR", "MOS", "IPI", "ICL", "KO", "PG", "XOM", "DOW", "LIN", "CAT", "JPM", "AAPL"],
    ...                              offline=True)
    >>> res = placebo_in_space(r, m, "2025-12-15", statistic="scar")  # 8 donors: all C(8, 4) = 70 portfolios
    >>> res.exact, res.n_portfolios, round(res.p_value, 4)
    (True, 70, 0.0141)
    """
    if statistic not in STATISTICS:
        raise DataError(f"unknown statistic {statistic!r}: use one of {', '.join(STATISTICS)}")
    case = as_case(case)
    cols = [c for c in returns.columns]
    treated = _members(treated, cols, case, "treated") if treated is not None else _default_treated(case, cols)
    control = _members(control, cols, case, "control") if control is not None else []
    donors = _members(donors, cols, case, "donors") if donors is not None else _default_donors(case, cols)
    donors = [d for d in donors if d not in set(treated) | set(control)]
    used = list(dict.fromkeys(treated + control + donors))
    if cars is None:
        cars = firm_cars(returns[used], market, event_date, window, estimation_window,
                         min_estimation_obs=min_estimation_obs)
    drops = dict(cars.attrs.get("dropped", {}))
    rows = []
    role = {**{d: "donor" for d in donors}, **{c: "control" for c in control}, **{t: "treated" for t in treated}}
    for f in used:
        if f not in cars.index:
            rows.append((f, role[f], drops.get(f, "no CAR")))
    keep = [f for f in used if f in cars.index]
    treated_k = [f for f in treated if f in keep]
    control_k = [f for f in control if f in keep]
    donors_k = [f for f in donors if f in keep]
    if not treated_k:
        raise DataError(f"no treated firm has a CAR over {window_label(window)}: " +
                        "; ".join(f"{f}: {why}" for f, _, why in rows))
    if control and not control_k:
        raise DataError("no control firm has a CAR over the window: " + "; ".join(f"{f}: {why}" for f, _, why in rows))
    t_val, dist, exact = _placebo_from_values(cars[statistic], treated_k, control_k, donors_k,
                                              n_portfolios=n_portfolios, seed=seed)
    firms = pd.DataFrame({"firm": keep, "role": [role[f] for f in keep],
                          "car": cars.loc[keep, "car"].to_numpy(), "scar": cars.loc[keep, "scar"].to_numpy()})
    return InSpacePlacebo(
        statistic=t_val, p_value=in_space_p(t_val, dist), distribution=pd.Series(dist, name=statistic),
        exact=exact, measure=statistic, window=window_label(window), event_date=pd.Timestamp(event_date),
        treated=tuple(treated_k), control=tuple(control_k), donors=tuple(donors_k), firms=firms,
        dropped=_dropped_frame(rows), n_possible=n_portfolios_possible(len(donors_k), len(treated_k), len(control_k)),
        seed=seed if isinstance(seed, int) else None,
    )


from .screening import Screen, screen  # noqa: E402  (re-exported)
from .synthetic import SyntheticControl, simplex_weights, synthetic_control  # noqa: E402  (re-exported)

__all__ = [
    "DEFAULT_DONOR_GROUPS",
    "STATISTICS",
    "firm_cars",
    "firm_cars_windows",
    "n_portfolios_possible",
    "portfolio_draws",
    "in_space_p",
    "placebo_in_space",
    "InSpacePlacebo",
    "donor_groups",
    "screen",
    "Screen",
    "synthetic_control",
    "SyntheticControl",
    "simplex_weights",
]
