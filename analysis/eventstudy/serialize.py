"""JSON round trip of :class:`~analysis.eventstudy.EventStudyResult`.

:func:`to_json` writes the configuration, the inputs the study read (the returns and
market rows from the estimation window's start to the event span's end, each firm's last
valid return date) and the main tables; :func:`from_json` rebuilds the result by
re-estimating the stored inputs, so every property of the rebuilt result equals the
original's. Strict JSON: NaN is written as ``null``.

Schema ``potash-impact/event-study/2`` (2026-12): adds ``daily_span``, ``scar``,
``measure``, ``exclude`` and the ``excluded`` table. Schema 1 files were written under
other conventions (Patell/BMP ΣSAR/√L, Corrado ranked over all windows together) and are
refused with a message rather than silently re-read under the new ones.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import atomic_write_text
from ..errors import EventStudyError
from .inputs import EventStudyWarning

JSON_SCHEMA = "potash-impact/event-study/2"


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


def to_json(res, path=None) -> str:
    """The JSON text of ``res`` (and write it to ``path`` if given).

    Parameters
    ----------
    res : EventStudyResult
    path : str or Path, optional
        Also write the text there (:func:`analysis._io.atomic_write_text`: the old file
        or the complete new one, never a mixture).

    Returns
    -------
    str
        JSON with the schema name, the study's configuration and its inputs (the rows of
        the returns and market the study used), enough for :func:`from_json` to rebuild it.

    Examples
    --------
    >>> import analysis
    >>> r = analysis.load_returns(["NTR", "MOS", "SPY"], "2024-11-01", "2026-03-31", offline=True)
    >>> res = analysis.event_study(r[["NTR", "MOS"]], r["SPY"], "2025-12-15")
    >>> import json
    >>> json.loads(to_json(res))["schema"]
    'potash-impact/event-study/2'
    """
    pos = res._returns.index.get_loc(res._event_date)
    lo = min(res._estimation_window[0], res._span[0])
    hi = max(res._estimation_window[1], res._span[1])
    rows = res._returns.iloc[pos + lo : pos + hi + 1]
    doc = {
        "schema": JSON_SCHEMA,
        "config": {
            "event_date": res._event_date.isoformat(),
            "estimation_window": list(res._estimation_window),
            "event_windows": [list(w) for w in res._event_windows],
            "daily_span": list(res._daily_span),
            "model": res._model,
            "scar": res._scar,
            "measure": res._measure,
            "min_estimation_obs": res._min_obs,
            "exclude": dict(res._exclude),
        },
        "inputs": {
            "dates": [d.isoformat() for d in rows.index],
            "returns": {str(c): _floats(rows[c]) for c in rows.columns},
            "market": _market_json(res._market, rows.index),
            "last_valid": {f: (None if res._last_date(f) is None else res._last_date(f).isoformat())
                           for f in res._firms},
        },
        "results": {
            "excluded": _table_json(res.excluded),
            "params": _table_json(res.params.reset_index()),
            "caar": {k: _f(v) for k, v in res.caar.items()},
            "car": _table_json(res.car.reset_index()),
            "tests": _table_json(res.tests),
            "daily_tests": _table_json(res.daily_tests),
        },
    }
    text = json.dumps(doc, allow_nan=False)
    if path is not None:
        atomic_write_text(path, text)
    return text


def from_json(text):
    """Rebuild an :class:`~analysis.eventstudy.EventStudyResult` from :func:`to_json` output.

    Parameters
    ----------
    text : str or Path
        The JSON text, or a path to a file holding it.

    Returns
    -------
    EventStudyResult
        Re-estimated from the stored inputs: every property equals the original's.

    Raises
    ------
    EventStudyError
        Not event-study JSON, or an unknown or outdated schema.

    Examples
    --------
    >>> import analysis
    >>> r = analysis.load_returns(["NTR", "MOS", "SPY"], "2024-11-01", "2026-03-31", offline=True)
    >>> res = analysis.event_study(r[["NTR", "MOS"]], r["SPY"], "2025-12-15")
    >>> back = from_json(to_json(res))
    >>> back.caar.equals(res.caar), back.tests.equals(res.tests)
    (True, True)
    """
    from . import event_study

    if not isinstance(text, str) or not text.lstrip().startswith("{"):
        text = Path(text).read_text()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventStudyError(f"not event-study JSON: {exc}") from None
    schema = doc.get("schema")
    if schema == "potash-impact/event-study/1":
        raise EventStudyError(
            "this event-study JSON has schema 1, written before scar='exact' and per-window Corrado ranks: "
            "re-run the study to get results under the current conventions"
        )
    if schema != JSON_SCHEMA:
        raise EventStudyError(f"unknown event-study JSON schema {schema!r}: expected {JSON_SCHEMA!r}")
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EventStudyWarning)
        res = event_study(
            returns, market, cfg["event_date"],
            estimation_window=tuple(cfg["estimation_window"]),
            event_windows=tuple(tuple(w) for w in cfg["event_windows"]),
            model=cfg["model"], min_estimation_obs=cfg["min_estimation_obs"],
            daily_span=tuple(cfg["daily_span"]), scar=cfg["scar"], measure=cfg["measure"],
            exclude=cfg["exclude"] or None,
        )
    res._last_valid = {f: (None if d is None else pd.Timestamp(d)) for f, d in inp["last_valid"].items()}
    return res
