"""Returns from prices: total returns, price returns where dividends are unknown, spin-off days.

``r_t = (close_t + div_t) / close_{t-1} - 1`` with yfinance's convention that ``Close``
and ``Dividends`` are split-adjusted -- never from a vendor's adjusted-close column, whose
vintage is unknown. Three rules keep a return from being silently wrong:

* **An empty dividend means unknown, not zero.** A ticker with an unknown dividend in the
  span (the peers panel has no dividend data) gets *price* returns ``close_t /
  close_{t-1} - 1`` and is listed in ``.attrs["price_only"]``; ``basis="price"`` puts every
  ticker on that basis (the cross-section compares firms on one basis).
* **A spin-off the prices do not reflect** (a ``spinoff`` row of the case's
  ``corporate_actions.csv`` or ``peers/corporate_actions.csv`` whose ``evidence`` says
  "NOT adjusted") makes that session's return missing: the close drops by the value spun
  off, which is not a shareholder loss (HON 2026-06-29: -50.95%). Listed in
  ``.attrs["blanked"]`` as ``{ticker: {date: reason}}``.
* **Excluded firms stay visible**: :func:`analysis.data.load_prices` sets a firm that the
  quality gate excluded to missing and names it in ``.attrs["excluded"]``; the attrs
  travel with the returns.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import config
from .errors import DataError

BASES = ("total", "price")

# --------------------------------------------------------------------------- corporate actions
def corporate_actions(data_dir=None) -> pd.DataFrame:
    """The case's corporate actions: ``corporate_actions.csv`` and ``peers/corporate_actions.csv``.

    Parameters
    ----------
    data_dir : path-like, optional
        The case folder.

    Returns
    -------
    DataFrame
        ``ticker, ex_date (Timestamp), action, value, source, evidence, file``; empty if
        the case has neither file.

    Raises
    ------
    DataError
        A file lacks ``ticker, ex_date, action`` or has a malformed date (file and line).

    Examples
    --------
    >>> a = corporate_actions()
    >>> a[a["action"] == "spinoff"][["ticker", "ex_date"]].astype(str).values.tolist()[-1]
    ['HON', '2026-06-29']
    """
    root = config.data_dir(data_dir)
    cols = ["ticker", "ex_date", "action", "value", "source", "evidence", "file"]
    frames = []
    for path in (root / "corporate_actions.csv", root / "peers" / "corporate_actions.csv"):
        if not path.is_file():
            continue
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        missing = [c for c in ("ticker", "ex_date", "action") if c not in df.columns]
        if missing:
            raise DataError(f"{path}:1: missing column(s) {', '.join(missing)}")
        dates = pd.to_datetime(df["ex_date"], format="%Y-%m-%d", errors="coerce")
        if dates.isna().any():
            i = int(np.argmax(dates.isna().to_numpy()))
            raise DataError(f"{path}:{i + 2}: malformed ex_date {df['ex_date'].iat[i]!r}: use YYYY-MM-DD")
        df["ex_date"] = dates
        df["file"] = str(path)
        frames.append(df.reindex(columns=cols, fill_value=""))
    if not frames:
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)


def unreflected_spinoffs(actions: pd.DataFrame) -> list[tuple[str, pd.Timestamp, str]]:
    """``(ticker, ex_date, reason)`` of each spin-off the prices do not reflect.

    A ``spinoff`` row whose ``evidence`` says "not adjusted" (any case) or "unadjusted":
    the close drops by the spun-off value, which is not a shareholder return.

    Parameters
    ----------
    actions : DataFrame
        :func:`corporate_actions`.

    Returns
    -------
    list of (str, pandas.Timestamp, str)

    Examples
    --------
    >>> [(t, str(d.date())) for t, d, _ in unreflected_spinoffs(corporate_actions())]
    [('HON', '2026-06-29')]
    """
    out = []
    for t, d, a, ev, f in zip(actions["ticker"], actions["ex_date"], actions["action"], actions["evidence"], actions["file"]):
        text = str(ev).lower()
        if str(a).strip().lower() in ("spinoff", "spin-off") and ("not adjusted" in text or "unadjusted" in text):
            out.append((t, pd.Timestamp(d), f"spin-off on {pd.Timestamp(d).date()} not reflected in the prices "
                                             f"({Path(f).name}): return set to missing"))
    return out



def price_only_tickers(tickers, data_dir=None) -> list[str]:
    """The ``tickers`` whose snapshot file has an empty (unknown) dividend on some row.

    Their :func:`load_returns` are price returns (listed in ``attrs["price_only"]``), so a
    study on *total* returns (the monthly potash sensitivity) leaves them out. Reads only
    the snapshot files, never the network; tickers without a file are not listed.

    Parameters
    ----------
    tickers : list of str
    data_dir : path-like, optional

    Returns
    -------
    list of str
        In the order given.

    Examples
    --------
    >>> price_only_tickers(["NTR", "SQM", "HON", "NTR.TO"])
    ['SQM', 'HON']
    """
    from .data import read_snapshot, snapshot_path

    out = []
    for t in dict.fromkeys(tickers):
        if snapshot_path(t, data_dir) is not None:
            df = read_snapshot(t, data_dir, check=False)
            if "dividend" not in df.columns or df["dividend"].isna().any():
                out.append(t)
    return out


# --------------------------------------------------------------------------- returns
def total_returns(prices: pd.DataFrame, actions: pd.DataFrame | None = None, *, basis: str = "total") -> pd.DataFrame:
    """Daily total returns ``(close_t + dividend_t) / close_{t-1} - 1``, dates x tickers.

    Parameters
    ----------
    prices : DataFrame
        A :func:`load_prices` frame (MultiIndex ``(field, ticker)``) or one ticker's frame
        with ``close`` and ``dividend`` columns. The close is split-adjusted and the
        dividend on the same basis, so no split factor is applied.
    actions : DataFrame, optional
        Corporate actions (:func:`corporate_actions`): the session of each spin-off the
        prices do not reflect gets a missing return.
    basis : {"total", "price"}
        ``price`` ignores every dividend (price returns for all tickers, all listed in
        ``price_only``).

    Returns
    -------
    DataFrame
        Returns; a return next to a missing close is NaN; the first row (no previous
        close) is dropped. ``attrs`` keeps the prices' attrs and adds ``price_only``
        (tickers with an unknown, i.e. empty, dividend in the span: their returns are
        *price* returns ``close_t / close_{t-1} - 1``; an empty dividend is never read
        as 0 in a total return) and ``blanked`` (``{ticker: {date: reason}}``).

    Examples
    --------
    >>> from analysis.data import load_prices
    >>> p = load_prices("NTR", "2025-09-29", "2025-09-30", offline=True)
    >>> round(float(total_returns(p).loc["2025-09-30", "NTR"]), 6)  # (58.71 + 0.545) / 57.75 - 1
    0.026061
    """
    if isinstance(prices.columns, pd.MultiIndex):
        close, div = prices["close"], prices["dividend"]
    else:
        name = prices.attrs.get("ticker", "close")
        close = prices[["close"]].rename(columns={"close": name})
        div = prices[["dividend"]].rename(columns={"dividend": name})
    if basis not in BASES:
        raise DataError(f"basis={basis!r}: use one of {', '.join(BASES)}")
    unknown = (div.isna() & close.notna()).any() | (basis == "price")
    price_only = [str(t) for t in unknown.index[unknown.to_numpy()]]
    div = div.fillna(0.0)
    if price_only:
        div.loc[:, price_only] = 0.0  # price returns, labelled as such: an unknown dividend is not a zero one
    r = (close + div) / close.shift(1) - 1.0
    r = r.iloc[1:].copy()
    r.columns.name = "ticker"
    r.index.name = "date"
    blanked: dict[str, dict[str, str]] = {}
    if actions is not None and len(actions) and len(r):
        for t, day, why in unreflected_spinoffs(actions):
            if t in r.columns:
                pos = int(r.index.searchsorted(day))
                if pos < len(r) and (r.index[pos] - day).days <= 4 and pd.notna(r.iat[pos, r.columns.get_loc(t)]):
                    r.iat[pos, r.columns.get_loc(t)] = np.nan
                    blanked.setdefault(t, {})[str(r.index[pos].date())] = why
    r.attrs = {**dict(prices.attrs), "price_only": price_only, "blanked": blanked}
    return r


def load_returns(tickers, start=None, end=None, *, basis: str = "total", **kwargs) -> pd.DataFrame:
    """Returns of ``tickers``: :func:`total_returns` of :func:`load_prices` (same keyword arguments).

    ``start`` is the first *return* date. Ten calendar days before it are loaded for the
    previous close when the data has them; the pad never sends a request to the network
    by itself (data starting on ``start`` counts as covering it). Spin-off days of the
    case's ``corporate_actions.csv`` are blanked (see :func:`total_returns`).

    Parameters
    ----------
    tickers : str or list of str
    start, end : date-like, optional
    basis : {"total", "price"}
        See :func:`total_returns`.
    **kwargs
        Passed to :func:`analysis.data.load_prices` (``source``, ``offline``,
        ``data_dir``, ``cache_dir``, ``validate``, ``max_gap``, ``check``, ``on_bad_data``).

    Returns
    -------
    DataFrame
        Dates x tickers, with the attrs of :func:`analysis.data.load_prices` plus
        ``price_only`` and ``blanked``.

    Raises
    ------
    DataQualityError, DataError, NetworkError
        As :func:`analysis.data.load_prices`.

    Examples
    --------
    >>> r = load_returns(["NTR", "LXU"], "2024-11-01", "2024-11-08", offline=True)
    >>> r.index[0].date(), bool(r["LXU"].isna().iloc[0])  # LXU's first close is 2024-11-01
    (datetime.date(2024, 11, 1), True)
    """
    from .data import DEFAULT_MAX_GAP, _load_prices, parse_date

    s = parse_date(start, "start")
    pad = None if s is None else s - pd.Timedelta(days=10)
    opts = {k: kwargs.pop(k) for k in ("source", "offline", "data_dir", "cache_dir", "validate", "max_gap", "check",
                                       "on_bad_data") if k in kwargs}
    if kwargs:
        raise TypeError(f"load_returns() got unexpected keyword argument(s) {', '.join(kwargs)}")
    defaults = {"source": "auto", "offline": None, "data_dir": None, "cache_dir": None, "validate": True,
                "max_gap": DEFAULT_MAX_GAP, "check": True, "on_bad_data": None}
    prices = _load_prices(tickers, pad, end, s, **{**defaults, **opts})
    r = total_returns(prices, corporate_actions(opts.get("data_dir")), basis=basis)
    return r.loc[s:] if s is not None else r


__all__ = ["corporate_actions", "unreflected_spinoffs", "price_only_tickers", "total_returns", "load_returns", "BASES"]
