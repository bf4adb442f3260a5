"""Table builders of the notebooks: coverage, event, roles, parameters, and a plain escaped Styler.

These build the *frames* a notebook shows (they are displayed through
:func:`analysis.present.display_table`, the one presentation layer, which re-exports
every name here). :func:`safe_style` is the plain escaped Styler for a table that needs
no formatting rules.

Stdlib only at import; pandas loads inside the functions.
"""

from __future__ import annotations


def coverage_table(returns, session, estimation_window):
    """Where each return series came from, the dates it covers and its gaps in the estimation window.

    Parameters
    ----------
    returns : pandas.DataFrame
        Daily returns, dates x tickers, as :func:`analysis.load_returns` (``attrs["sources"]``).
    session : date-like
        The event session (day 0); must be a row of ``returns``.
    estimation_window : (int, int)
        Relative sessions of the estimation window.

    Returns
    -------
    pandas.DataFrame
        ``ticker, source, first, last, returns, missing in estimation window``.

    Raises
    ------
    WindowRangeError
        The estimation window runs past the data (:func:`analysis.windows.window_rows`).

    Examples
    --------
    >>> import analysis
    >>> r = analysis.load_returns(["NTR", "SPY"], "2024-11-01", "2026-03-31", offline=True)
    >>> coverage_table(r, "2025-12-15", (-250, -11))["missing in estimation window"].tolist()
    [0, 0]
    """
    import pandas as pd

    from .windows import window_rows

    pos = returns.index.get_loc(pd.Timestamp(session))
    start, stop = window_rows(pos, tuple(estimation_window), len(returns.index), around=str(pd.Timestamp(session).date()))
    est = returns.iloc[start:stop]
    return pd.DataFrame({
        "source": pd.Series(returns.attrs.get("sources", {}), dtype=object).reindex(returns.columns),
        "first": returns.apply(lambda s: s.first_valid_index().date() if s.notna().any() else None),
        "last": returns.apply(lambda s: s.last_valid_index().date() if s.notna().any() else None),
        "returns": returns.notna().sum(),
        "missing in estimation window": est.isna().sum(),
    }).rename_axis("ticker").reset_index()


def event_table(event: dict, session, exchange: str, policy: str):
    """The event and its trading session as a two-column table (``field``, ``value``).

    Parameters
    ----------
    event : dict
        The catalog row (``event_id, timestamp, kind, title``).
    session : date-like
        The aligned event session (day 0).
    exchange, policy : str
        The calendar and the alignment policy.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> t = event_table({"event_id": "e1", "timestamp": "2025-12-13 11:49", "kind": "easing", "title": "T"},
    ...                 "2025-12-15", "XNYS", "next")
    >>> t.set_index("field").loc["event session (day 0)", "value"]
    '2025-12-15'
    """
    import pandas as pd

    rows = {
        "event id": event.get("event_id"), "announced (UTC)": event.get("timestamp"), "kind": event.get("kind"),
        "title": event.get("title"), "calendar": exchange, "policy": policy,
        "event session (day 0)": str(pd.Timestamp(session).date()),
    }
    return pd.DataFrame({"field": list(rows), "value": [None if v is None else str(v) for v in rows.values()]})


def roles_table(universe, treated, control, benchmark):
    """The study's firms with their role (treated, control, benchmark) and universe rows.

    Parameters
    ----------
    universe : pandas.DataFrame
        ``universe.csv`` (``ticker, name, exchange, currency, group``).
    treated, control : list of str
        The groups' tickers.
    benchmark : str
        The market-model regressor.

    Returns
    -------
    pandas.DataFrame
        ``role, ticker, name, exchange, currency, group``, treated first.

    Examples
    --------
    >>> import analysis
    >>> t = roles_table(analysis.load_universe(), ["NTR"], ["CF"], "SPY")
    >>> t[["role", "ticker"]].values.tolist()
    [['treated', 'NTR'], ['control', 'CF'], ['benchmark', 'SPY']]
    """
    role = {**{t: "treated" for t in treated}, **{t: "control" for t in control}, benchmark: "benchmark"}
    order = {"treated": 0, "control": 1, "benchmark": 2}
    out = universe[universe["ticker"].isin(role)].assign(role=lambda d: d["ticker"].map(role))
    out = out.assign(_o=out["role"].map(order)).sort_values("_o", kind="stable")
    return out[["role", "ticker", "name", "exchange", "currency", "group"]].reset_index(drop=True)


def parameters_table(params: dict):
    """The run's parameters as a table: name, the value used, what it means.

    Parameters
    ----------
    params : dict
        :func:`analysis.params.resolve`'s output (or any dict holding the schema's names).

    Returns
    -------
    pandas.DataFrame
        ``parameter, value, meaning``, one row per schema name except ``output_dir``;
        lists are written ``[a, b]``.

    Examples
    --------
    >>> t = parameters_table({"model": "market", "estimation_window": [-250, -11]})
    >>> t.set_index("parameter").loc["estimation_window", "value"]
    '[-250, -11]'
    """
    import pandas as pd

    from .params import SCHEMA

    rows = [
        {"parameter": k, "value": "None" if params.get(k) is None else str(params[k]), "meaning": h}
        for k, (_, h) in SCHEMA.items() if k != "output_dir" and k in params
    ]
    return pd.DataFrame(rows, columns=["parameter", "value", "meaning"])




def safe_style(df, formatter=None, *, na_rep: str = "–", precision: int | None = None, index: bool = True):
    """``df.style`` with every cell and both indexes HTML-escaped (and ``formatter`` applied).

    A plain escaped Styler for a table :func:`display_table` does not fit; the notebooks
    use :func:`display_table`.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    formatter : str, callable or dict, optional
        As ``Styler.format``.
    na_rep : str
        Text for missing values.
    precision : int, optional
        Decimals of floats the ``formatter`` does not cover.
    index : bool
        Show the row index (False hides a meaningless 0, 1, 2... column).

    Returns
    -------
    pandas.io.formats.style.Styler

    Examples
    --------
    >>> import pandas as pd
    >>> "&lt;b&gt;" in safe_style(pd.DataFrame({"<b>": [1]})).to_html()
    True
    """
    styler = (
        df.style.format(precision=precision, escape="html", na_rep=na_rep)
        .format_index(escape="html", axis=0)
        .format_index(escape="html", axis=1)
    )
    if formatter is not None:
        subset = list(formatter) if isinstance(formatter, dict) else None
        styler = styler.format(formatter, subset=subset, escape="html", na_rep=na_rep, precision=precision)
    return styler if index else styler.hide(axis="index")


__all__ = ["coverage_table", "event_table", "roles_table", "parameters_table", "safe_style"]
