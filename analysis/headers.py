"""Report headers: the opening line of every notebook, the catalog's header, the sensitivity notes.

Markdown built from the case and the results; every value read from data is escaped with
:func:`analysis.narrative.md_escape`, so an id or a title from a case folder never
becomes markup. (These lived in :mod:`analysis.narrative`, which still answers their names.)

Stdlib only at import; pandas is loaded inside the functions that need it.
"""

from __future__ import annotations

from .narrative import excluded_in, md_escape


def case_header(case, params: dict) -> str:
    """The opening line of every notebook: which case, which groups, which event.

    Parameters
    ----------
    case : analysis.case.Case
        The loaded case (its ``settings``: ``title``, ``name``, ``commodity``).
    params : dict
        :func:`analysis.params.resolve`'s output (``treated``, ``treated_tickers``,
        ``control``, ``control_tickers``, ``benchmark``, ``event_record``, ``session``).

    Returns
    -------
    str
        Markdown; every value read from data is escaped with :func:`md_escape`.

    Examples
    --------
    >>> from analysis.case import Case
    >>> from analysis.params import resolve
    >>> print(case_header(Case.load(), resolve(offline=True)))  # doctest: +ELLIPSIS
    **Case:** Belarusian potash sanctions and the fertilizer equities (potash; commodity potash). ...
    """
    import pandas as pd

    s = case.settings

    def group(role: str) -> str:
        name, tickers = params.get(role), params.get(f"{role}_tickers") or []
        label = f"{name}: " if isinstance(name, str) else ""
        return md_escape(label + ", ".join(tickers))

    ev = params.get("event_record") or {}
    title = s.title or s.name or "case"
    facts = "; ".join(x for x in (s.name, f"commodity {s.commodity}" if s.commodity else None) if x)
    return (
        f"**Case:** {md_escape(title)}" + (f" ({md_escape(facts)})" if facts else "") + ". "
        f"**Treated** {group('treated')}; **control** {group('control')}; "
        f"**benchmark** {md_escape(params.get('benchmark'))}. "
        f"**Event:** {md_escape(ev.get('event_id'))}, {md_escape(ev.get('title') or '')} "
        f"(announced {md_escape(ev.get('timestamp'))} UTC; day 0 = {pd.Timestamp(params['session']).date()})."
    )


def catalog_header(study, window: str) -> str:
    """The catalog notebook's header: coverage, main window and the firms used per event.

    Parameters
    ----------
    study : analysis.catalog_study.CatalogStudy
        The catalog-wide study.
    window : str
        The main window label.

    Returns
    -------
    str
        Markdown, data escaped with :func:`md_escape`. The groups are stated from each
        event's result, so an event whose control lost a firm says so.

    Examples
    --------
    >>> from analysis.catalog_study import study_catalog
    >>> study = study_catalog(["us-potash-easing-2025", "eu-belaruskali-2022"], offline=True)
    >>> catalog_header(study, "(0,1)")[:41]
    '2 of 2 catalog events covered by the data'
    """
    table = study.to_frame(window)
    s = study.settings
    want_t, want_c = list(s.get("treated") or []), list(s.get("control") or [])
    combos: dict[tuple, list[str]] = {}
    for _, r in table[table["status"] == "ok"].iterrows():
        res = study.results.get(r["event_id"])
        gone = excluded_in(getattr(res, "excluded", None), window) if res is not None else {}
        key = tuple(tuple(f for f in g if f not in gone) for g in (want_t, want_c)) + (
            tuple(f for f in want_t + want_c if f in gone),)
        combos.setdefault(key, []).append(str(r["event_id"]))

    def sample(used_t, used_c, dropped) -> str:
        text = f"treated {', '.join(used_t) or 'no firm'}; control {', '.join(used_c) or 'no firm'}"
        return text + (f" ({', '.join(dropped)} excluded; see the sample notes)" if dropped else "")

    head = (f"{study.n_covered} of {study.n_events} catalog events covered by the data; main window "
            f"{md_escape(window)}.")
    if len(combos) <= 1:
        only = next(iter(combos), None)
        return head + ("" if only is None else f" Every covered event uses {md_escape(sample(*only))}.")
    lines = [head, "", "Firms used per event (a firm without enough data for an event is excluded from it):", ""]
    for key, ids in combos.items():
        lines.append(f"- {md_escape(sample(*key))}: {len(ids)} event{'' if len(ids) == 1 else 's'} "
                     f"({md_escape(', '.join(ids))})")
    return "\n".join(lines)


def sensitivity_notes(sens, min_months: int | None = None) -> list[str]:
    """Notes on firms whose commodity betas rest on a short history.

    Parameters
    ----------
    sens : sensitivity result
        The result of :func:`analysis.potash_sensitivity` (``to_frame()`` with ``ticker``,
        ``nobs``, ``first_month``; ``window`` the rolling window in months).
    min_months : int, optional
        Fewer months than this makes a note; default the result's rolling window.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from analysis.sensitivity import commodity_sensitivity
    >>> sensitivity_notes(commodity_sensitivity(["NTR", "LXU"], market="SPY", offline=True))[0][:31]
    'LXU has only 19 months of data '
    """
    own = getattr(sens, "notes", None)
    if own is not None and not callable(own) and min_months is None:
        return list(own)
    limit = int(min_months if min_months is not None else getattr(sens, "window", 36))
    df = sens.to_frame()
    return [
        f"{r.ticker} has only {int(r.nobs)} months of data (from {r.first_month}), fewer than {limit}: "
        f"its betas are imprecise"
        for r in df.itertuples() if int(r.nobs) < limit
    ]


__all__ = ["case_header", "catalog_header", "sensitivity_notes"]
