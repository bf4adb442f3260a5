"""The data-quality gate: every price series is checked before any statistic is computed.

A wrong input number must be refused loudly, not turned into a published result. The
gate runs on every series :func:`analysis.data.load_prices` returns -- bundled snapshot,
case folders, the Parquet cache and live downloads alike -- and on its own through
:func:`check`, so researchers can screen their own data.

Rules
-----
Notation: ``c_t`` the close of session ``t`` (split-adjusted, as everywhere in the
package), ``R_t = c_t / c_{t-1}`` the price relative over consecutive *observed* sessions,
``r_t = R_t - 1``, ``V_t`` the share volume.

======================  ========  ===============================================================
rule                    severity  flags session ``t`` when
======================  ========  ===============================================================
``bad_tick_reversal``   error     ``|r_t| > 0.5`` and the next session undoes it: ``R_t R_{t+1}``
                                  within 5% of 1, or ``|ln(R_t R_{t+1})| <= 0.1 |ln R_t|`` (a
                                  x1000 tick on a day the stock also moved 5%); an isolated bad
                                  tick (Ince & Porter 2006 screen this pattern in Datastream)
``level_jump``          error     ``R_t`` within a factor 1.25 of 10, 100, 1000 or their inverses
                                  and no split recorded on ``t``: a unit or scale error (cents for
                                  dollars, a missing reverse-split adjustment)
``unadjusted_split``    error     a split of ratio ``s`` (``|ln s| > ln 1.5``) recorded on ``t``
                                  and ``R_t s`` within a factor 1.25 of 1: the closes were not
                                  split-adjusted, so ``r_t`` is the split, not a return
``stale``               error     5 or more consecutive sessions with an identical close and zero
                                  volume: a feed that stopped updating (flagged at the first)
``placeholder_volume``  error     ``V_t`` is a vendor placeholder (9999999, 99999999)
``zero_volume_move``    error     ``V_t = 0`` on a session whose close moved
``large_move``          note      ``|r_t| > 0.15`` (real for small caps; list the real ones in
                                  ``known_moves.csv`` with their evidence)
``volume_spike``        note      ``V_t`` over 20 times the median of the previous 60 sessions
                                  (at least 20 observed): index rebalances are real
======================  ========  ===============================================================

A row ``ticker,date,reason`` in the case's ``known_moves.csv`` accepts every finding on
that ticker and date: its severity becomes ``accepted`` and the reason is appended to
the message. A finding of severity ``error`` raises :class:`~analysis.errors.DataQualityError`
naming the ticker, the date, the value, the rule and the file, unless the case sets
``on_bad_data = "exclude"`` in ``case.toml``: then the firm is excluded (its series set
to missing) and the reason is recorded in ``.attrs["excluded"]`` of the loaded frame.
A market or sector benchmark of the case is never excluded: it always raises.

File-level checks (:func:`read_price_csv`) come first: a price CSV whose last line is
incomplete (no final newline: ``head -c 20000 NTR.csv``), a row with the wrong number
of fields, a malformed date or a non-numeric number is an error naming the file and line.

Findings are a tidy frame with columns ``ticker, date, rule, value, severity, message``
(:data:`FINDING_COLUMNS`), one row per flagged session and rule.

References
----------
Ince, O. S. and Porter, R. B. (2006). Individual equity return data from Thomson
Datastream: handle with care! *Journal of Financial Research* 29(4), 463-479.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ._io import decode_utf8
from .errors import DataError, DataQualityError

FINDING_COLUMNS = ("ticker", "date", "rule", "value", "severity", "message")
ON_BAD_DATA = ("error", "exclude")

REVERSAL_JUMP = 0.5  # |r_t| above this ...
REVERSAL_TOL = 0.05  # ... and (1 + r_t)(1 + r_{t+1}) within 5% of 1 ...
REVERSAL_UNDO = 0.1  # ... or the next session undoes at least 90% of the jump (in logs)
LEVEL_FACTORS = (10.0, 100.0, 1000.0)
FACTOR_TOL = 1.25  # "near" a factor: within a multiplicative 1.25
SPLIT_MIN = 1.5  # splits closer to 1 (stock dividends) are not checked for adjustment
STALE_RUN = 5
PLACEHOLDER_VOLUMES = (9999999.0, 99999999.0)
LARGE_MOVE = 0.15
VOLUME_SPIKE = 20.0
VOLUME_WINDOW, VOLUME_MIN_OBS = 60, 20

RULES = {
    "bad_tick_reversal": "error",
    "level_jump": "error",
    "unadjusted_split": "error",
    "stale": "error",
    "placeholder_volume": "error",
    "zero_volume_move": "error",
    "large_move": "note",
    "volume_spike": "note",
}

_FIX = ('if the value is real, list it in {km} (ticker,date,reason); if not, correct the file; '
        'or set on_bad_data = "exclude" in case.toml to drop the firm with this reason')


# --------------------------------------------------------------------------- files
def read_price_csv(path, ticker: str | None = None) -> pd.DataFrame:
    """Read one price CSV strictly: every row complete, every field parseable.

    Parameters
    ----------
    path : path-like
        A ``prices/<TICKER>.csv`` file (columns ``date,close`` required; ``volume``,
        ``dividend``, ``split``, ``source``, ``open``, ``high``, ``low`` optional).
    ticker : str, optional
        For messages; default the file's stem.

    Returns
    -------
    DataFrame
        ``DatetimeIndex`` named ``date``; numeric columns as float. An empty ``dividend``
        field stays NaN: it means *unknown*, never zero. ``attrs["path"]`` is the file.

    Raises
    ------
    DataQualityError
        The last line is incomplete (the file does not end with a newline: truncated), or
        a row has the wrong number of fields; the message names the file and line.
    DataError
        The file is empty or not UTF-8, ``date``/``close`` columns are missing, a date or
        a number does not parse (file, line, column and value named).

    Examples
    --------
    >>> from analysis import config
    >>> df = read_price_csv(config.data_dir() / "prices" / "NTR.csv")
    >>> float(df.loc["2025-12-15", "close"])
    61.85
    """
    path = Path(path)
    ticker = ticker or path.stem
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{ticker}: cannot read {path}: {exc.strerror or exc}") from None
    if not raw.strip():
        raise DataError(f"{ticker}: {path} is empty: restore it (see data/README.md) or remove the ticker")
    text = decode_utf8(raw, path)
    lines = text.splitlines()
    if not text.endswith(("\n", "\r")):
        raise DataQualityError(
            f"{path}:{len(lines)}: last line {lines[-1][:60]!r} is incomplete (no newline at the end of the file): "
            f"the file looks truncated; restore the complete file (if that line is complete, end the file with a newline)"
        )
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader)]
    for col in ("date", "close"):
        if col not in header:
            raise DataError(f"{path}:1: no {col!r} column (header {','.join(header)}): use date,close,volume,dividend,split,source")
    n = len(header)
    where = []
    for row in reader:
        if not row:
            continue
        if len(row) != n:
            raise DataQualityError(
                f"{path}:{reader.line_num}: {len(row)} field(s) where the header has {n} ({','.join(row)[:60]!r}): "
                f"the row is incomplete or has extra commas; fix or restore the file"
            )
        where.append(reader.line_num)
    if not where:
        raise DataError(f"{ticker}: {path} has a header but no rows")
    text_cols = [c for c in header if c in ("date", "source", "ticker", "note")]
    out = pd.read_csv(io.StringIO(text), dtype={c: str for c in text_cols}, keep_default_na=False,
                      na_values={c: [""] for c in header if c not in text_cols}, skip_blank_lines=True)
    dates = pd.to_datetime(out["date"].str.strip(), format="ISO8601", errors="coerce")
    bad = dates.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"{path}:{where[i]}: malformed date {out['date'].iat[i]!r}: use YYYY-MM-DD")
    out.index = pd.DatetimeIndex(dates, name="date")
    out = out.drop(columns="date")
    for col in out.columns:
        if col in text_cols:
            continue
        if pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].astype(float)
            continue
        s = out[col].astype(str).str.strip()
        num = pd.to_numeric(s.where(s != ""), errors="coerce")
        bad = (num.isna() & (s != "") & (s != "nan")).to_numpy()
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(
                f"{path}:{where[i]}: column {col} has {s.iat[i]!r}, not a number "
                f"(use a dot as decimal separator, no thousands separators)"
            )
        out[col] = num.to_numpy(dtype=float)
    out.attrs["path"] = str(path)
    return out


def _known_moves(value) -> pd.DataFrame:
    """Accepted moves from a frame, a :class:`~analysis.case.Case` or a case folder."""
    if isinstance(value, pd.DataFrame):
        return value
    from .case import as_case

    return as_case(value).known_moves


def case_policy(data_dir=None) -> dict:
    """What the gate needs from a case: accepted moves, ``on_bad_data`` and its benchmarks.

    Parameters
    ----------
    data_dir : Case or path-like, optional
        The case (see :func:`analysis.case.as_case`). A folder that is not a case (no
        ``events.csv`` / ``universe.csv``) gets the defaults: no accepted moves, ``error``.

    Returns
    -------
    dict
        ``known_moves`` (:attr:`analysis.case.Case.known_moves`), ``known_moves_path``,
        ``on_bad_data`` (``case.toml`` ``[case] on_bad_data``, default ``"error"``) and
        ``protected`` (the ``market`` and ``sector`` tickers, never excluded).

    Raises
    ------
    CaseError
        The case folder is invalid (file, line and key named).

    Examples
    --------
    >>> case_policy()["on_bad_data"], case_policy()["protected"]
    ('error', ('SPY', 'XLB'))
    """
    from . import config
    from .case import as_case, is_case_folder

    if not is_case_folder(data_dir):
        return {"known_moves": pd.DataFrame(columns=["ticker", "date", "reason"]), "on_bad_data": "error",
                "known_moves_path": str(config.data_dir(data_dir) / "known_moves.csv"), "protected": ()}
    case = as_case(data_dir)
    st = case.settings
    return {
        "known_moves": case.known_moves,
        "known_moves_path": str(case.root / "known_moves.csv"),
        "on_bad_data": getattr(st, "on_bad_data", None) or "error",
        "protected": tuple(t for t in (getattr(st, "market", None), getattr(st, "sector", None)) if isinstance(t, str)),
    }


# --------------------------------------------------------------------------- the rules
def _near(ratio: np.ndarray, factor: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(np.log(ratio / factor)) <= math.log(FACTOR_TOL)


def _fmt(x) -> str:
    return "nan" if x is None or not np.isfinite(x) else f"{x:.10g}"


def _check_one(ticker: str, df: pd.DataFrame) -> list[tuple]:
    """Findings of one ticker's frame (rows with a missing close are skipped)."""
    if "close" not in df.columns:
        raise DataError(f"{ticker}: no close column to check (have {', '.join(map(str, df.columns))})")
    df = df[df["close"].notna()]
    if len(df) == 0:
        return []
    dates = pd.DatetimeIndex(df.index)
    c = df["close"].to_numpy(dtype=float)
    n = len(c)
    vol = df["volume"].to_numpy(dtype=float) if "volume" in df.columns else np.full(n, np.nan)
    split = df["split"].to_numpy(dtype=float) if "split" in df.columns else np.full(n, np.nan)
    prev = np.concatenate([[np.nan], c[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        R = c / prev
    Rn = np.concatenate([R[1:], [np.nan]])
    r = R - 1.0
    has_split = np.isfinite(split) & (split > 0) & (np.abs(np.log(np.where(split > 0, split, 1.0))) > 1e-9)
    out: list[tuple] = []

    def add(i, rule, value, msg):
        out.append((ticker, dates[i], rule, float(value), RULES[rule], f"{ticker} {dates[i].date()}: {msg} (rule {rule})"))

    with np.errstate(divide="ignore", invalid="ignore"):
        undone = np.abs(np.log(R * Rn)) <= np.maximum(math.log1p(REVERSAL_TOL), REVERSAL_UNDO * np.abs(np.log(R)))
        rev = (np.abs(r) > REVERSAL_JUMP) & undone
    for i in np.flatnonzero(rev):
        add(i, "bad_tick_reversal", c[i],
            f"close {_fmt(c[i])} jumps {r[i]:+.1%} from {_fmt(prev[i])} and the next session undoes it "
            f"(close {_fmt(c[i + 1])}): an isolated bad tick")
    near_level = np.zeros(n, bool)
    for f in LEVEL_FACTORS:
        near_level |= _near(R, f) | _near(R, 1.0 / f)
    rev_prev = np.concatenate([[False], rev[:-1]])
    level = near_level & ~has_split & ~rev & ~rev_prev
    for i in np.flatnonzero(level):
        k = R[i] if R[i] >= 1 else 1.0 / R[i]
        factor = f"{10 ** round(math.log10(k)):g}x" if R[i] >= 1 else f"1/{10 ** round(math.log10(k)):g}"
        add(i, "level_jump", c[i],
            f"close {_fmt(c[i])} is {factor} the previous close {_fmt(prev[i])} with no split recorded: "
            f"a unit or scale error")
    with np.errstate(divide="ignore", invalid="ignore"):
        big_split = has_split & (np.abs(np.log(np.where(split > 0, split, 1.0))) > math.log(SPLIT_MIN))
        unadj = big_split & (np.abs(np.log(R * split)) <= math.log(FACTOR_TOL))
    for i in np.flatnonzero(unadj):
        add(i, "unadjusted_split", c[i],
            f"close {_fmt(c[i])} moves {r[i]:+.1%} from {_fmt(prev[i])} on a recorded split of ratio {_fmt(split[i])}: "
            f"the closes are not split-adjusted, so this is the split, not a return")
    zero = vol == 0
    same = c == prev
    cont = np.concatenate([[False], zero[:-1]]) & zero & same
    start = zero & ~cont
    run_id = np.cumsum(start)
    for rid in np.unique(run_id[zero]):
        idx = np.flatnonzero(zero & (run_id == rid))
        if len(idx) >= STALE_RUN and np.all(cont[idx[1:]]):
            add(idx[0], "stale", c[idx[0]],
                f"close {_fmt(c[idx[0]])} unchanged with zero volume for {len(idx)} sessions "
                f"({dates[idx[0]].date()} .. {dates[idx[-1]].date()}): a stale feed")
    placeholder = np.isin(vol, PLACEHOLDER_VOLUMES)
    for i in np.flatnonzero(placeholder):
        add(i, "placeholder_volume", vol[i], f"volume {vol[i]:.0f} is a vendor placeholder, not a count (close {_fmt(c[i])})")
    with np.errstate(invalid="ignore"):
        zmove = zero & np.isfinite(prev) & ~same
    for i in np.flatnonzero(zmove):
        add(i, "zero_volume_move", vol[i], f"volume 0 on a session whose close moved {r[i]:+.2%} ({_fmt(prev[i])} -> {_fmt(c[i])})")
    flagged = rev | rev_prev | level | unadj
    with np.errstate(invalid="ignore"):
        large = (np.abs(r) > LARGE_MOVE) & ~flagged
    for i in np.flatnonzero(large):
        add(i, "large_move", c[i], f"close {_fmt(c[i])} moves {r[i]:+.1%} from {_fmt(prev[i])}")
    v = pd.Series(np.where(placeholder, np.nan, vol))
    med = v.shift(1).rolling(VOLUME_WINDOW, min_periods=VOLUME_MIN_OBS).median().to_numpy()
    with np.errstate(invalid="ignore"):
        spike = (v.to_numpy() > VOLUME_SPIKE * med) & (med > 0)
    for i in np.flatnonzero(spike):
        add(i, "volume_spike", vol[i],
            f"volume {vol[i]:,.0f} is {vol[i] / med[i]:.0f}x its {VOLUME_WINDOW}-session median {med[i]:,.0f} "
            f"(index rebalances and news days are real)")
    return out


def _per_ticker(prices, ticker) -> dict[str, pd.DataFrame]:
    if isinstance(prices, dict):
        return dict(prices)
    if not isinstance(prices, pd.DataFrame):
        raise DataError(f"quality.check needs a DataFrame or a dict of frames, got {type(prices).__name__}")
    if isinstance(prices.columns, pd.MultiIndex):
        fields = list(dict.fromkeys(prices.columns.get_level_values(0)))
        return {t: pd.DataFrame({f: prices[(f, t)] for f in fields if (f, t) in prices.columns})
                for t in dict.fromkeys(prices.columns.get_level_values(1))}
    return {ticker or prices.attrs.get("ticker") or "series": prices}


def check(prices, *, known_moves=None, ticker: str | None = None) -> pd.DataFrame:
    """Screen price series with the gate's rules; return the findings, raise nothing.

    Parameters
    ----------
    prices : DataFrame or dict
        A :func:`analysis.load_prices` frame (MultiIndex columns ``(field, ticker)``),
        one ticker's frame with a ``close`` column (and ``volume``, ``split`` if known),
        or a dict ``{ticker: frame}``. Rows with a missing close are skipped.
    known_moves : DataFrame, Case or path-like, optional
        Accepted moves (columns ``ticker, date, reason``), or a case (folder) whose
        ``known_moves.csv`` to use (:attr:`analysis.case.Case.known_moves`).
    ticker : str, optional
        The name of a single-ticker frame (default ``prices.attrs["ticker"]``).

    Returns
    -------
    DataFrame
        Columns :data:`FINDING_COLUMNS`: ``ticker``, ``date``, ``rule`` (see
        :data:`RULES`), ``value`` (the close or volume flagged), ``severity``
        (``error``, ``note`` or ``accepted``), ``message`` (one line). Sorted by
        ticker, date and rule; empty when nothing is flagged.

    Raises
    ------
    DataError
        A frame has no ``close`` column.

    Examples
    --------
    >>> import analysis
    >>> p = analysis.load_prices(["ICL", "SPY"], offline=True)
    >>> from analysis import config
    >>> f = check(p, known_moves=config.data_dir())
    >>> int((f["severity"] == "error").sum())
    0
    >>> f[f["rule"] == "large_move"][["ticker", "severity"]].values.tolist()
    [['ICL', 'accepted']]
    >>> bad = p.copy()
    >>> bad.loc["2025-10-01", ("close", "ICL")] *= 1000
    >>> found = check(bad, known_moves=config.data_dir())
    >>> found[found["severity"] == "error"][["ticker", "rule", "value"]].values.tolist()
    [['ICL', 'bad_tick_reversal', 6070.0]]
    """
    return _frame(_rows(prices, known_moves, ticker))


def _rows(prices, known_moves, ticker) -> list[tuple]:
    """The findings as sorted tuples ``(ticker, date, rule, value, severity, message)``."""
    rows: list[tuple] = []
    for t, df in _per_ticker(prices, ticker).items():
        rows += _check_one(str(t), df)
    if known_moves is not None and rows:
        km = _known_moves(known_moves)
        if len(km):
            reasons = {(str(t), pd.Timestamp(d)): r for t, d, r in zip(km["ticker"], km["date"], km["reason"])}
            rows = [(t, d, rule, v, "accepted", f"{m} -- accepted in known_moves.csv: {reasons[(t, d)]}")
                    if (t, d) in reasons else (t, d, rule, v, sev, m) for t, d, rule, v, sev, m in rows]
    rows.sort(key=lambda row: (row[0], row[1], row[2]))
    return rows


def _frame(rows: list[tuple]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=list(FINDING_COLUMNS))
    out["date"] = pd.to_datetime(out["date"])
    out["value"] = out["value"].astype(float)
    return out


# --------------------------------------------------------------------------- the gate
def gate(frame: pd.DataFrame, ticker: str, *, known_moves=None, on_bad_data: str = "error",
         where: str | None = None, known_moves_path=None, protected=()) -> tuple[pd.DataFrame, str | None]:
    """Check one ticker and enforce the case's policy.

    Parameters
    ----------
    frame : DataFrame
        One ticker's prices (``close``; ``volume``, ``split`` if known).
    ticker : str
        Its name, for messages.
    known_moves : DataFrame, optional
        Accepted moves (columns ``ticker, date, reason``).
    on_bad_data : {"error", "exclude"}
        ``error`` raises on the first error-level finding; ``exclude`` returns the reason.
    where : str or callable, optional
        The file the series came from, named in the message; a callable maps the flagged
        date to the file of that row (a series merged from several sources).
    known_moves_path : path-like, optional
        Named in the message's fix hint (default ``known_moves.csv``).
    protected : collection of str
        Tickers that are never excluded (the case's market and sector benchmarks).

    Returns
    -------
    (DataFrame, str or None)
        The findings (:func:`check`) and, under ``exclude`` with error findings, the
        exclusion reason, else None.

    Raises
    ------
    DataQualityError
        An error-level finding under ``on_bad_data="error"``, or on a protected ticker.
    DataError
        An unknown ``on_bad_data`` value.

    Examples
    --------
    >>> import analysis
    >>> ntr = analysis.data.read_snapshot("NTR")
    >>> findings, reason = gate(ntr, "NTR")
    >>> len(findings), reason
    (0, None)
    """
    rows, reason = _gate_rows(frame, ticker, known_moves=known_moves, on_bad_data=on_bad_data, where=where,
                              known_moves_path=known_moves_path, protected=protected)
    return _frame(rows), reason


def _gate_rows(frame, ticker, *, known_moves=None, on_bad_data="error", where=None, known_moves_path=None,
               protected=()) -> tuple[list[tuple], str | None]:
    """:func:`gate` on finding tuples (no frame built unless an error is raised)."""
    if on_bad_data not in ON_BAD_DATA:
        raise DataError(f"on_bad_data {on_bad_data!r}: use one of {', '.join(ON_BAD_DATA)}")
    rows = _rows(frame, known_moves, ticker)
    errors = [row for row in rows if row[4] == "error"]
    if not errors:
        return rows, None
    _, day, rule, value, _, message = errors[0]
    more = f" (and {len(errors) - 1} more finding(s))" if len(errors) > 1 else ""
    if on_bad_data == "exclude" and ticker not in protected:
        return rows, f"data quality: {rule} on {pd.Timestamp(day).date()} (value {_fmt(value)}){more}"
    where = where(day) if callable(where) else where
    src = f" in {where}" if where else ""
    extra = " (a benchmark of the case: it cannot be excluded)" if ticker in protected and on_bad_data == "exclude" else ""
    fix = _FIX.format(km=known_moves_path or "known_moves.csv")
    raise DataQualityError(f"{message}{src}{more}{extra}: {fix}", findings=_frame(rows))


def records(rows: list[tuple]) -> list[dict]:
    """Finding tuples as JSON-able dicts (date as ``YYYY-MM-DD``).

    Parameters
    ----------
    rows : list of tuple
        ``(ticker, date, rule, value, severity, message)``.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> records([("X", pd.Timestamp("2025-01-02"), "large_move", 1.5, "note", "m")])[0]["date"]
    '2025-01-02'
    """
    return [{"ticker": t, "date": str(pd.Timestamp(d).date()), "rule": r, "value": float(v), "severity": s, "message": m}
            for t, d, r, v, s, m in rows]


#: ``analysis.check_quality`` is :func:`check` (``from analysis import quality; quality.check`` also works)
check_quality = check


def findings_records(findings: pd.DataFrame) -> list[dict]:
    """Findings as JSON-able dicts (date as ``YYYY-MM-DD``), for ``.attrs`` and ``results.json``.

    Parameters
    ----------
    findings : DataFrame
        :func:`check`'s frame.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> from analysis.data import read_snapshot
    >>> [r["rule"] for r in findings_records(check(read_snapshot("ICL"), ticker="ICL"))]
    ['volume_spike', 'large_move']
    """
    return records(list(findings[list(FINDING_COLUMNS)].itertuples(index=False, name=None)))


def preflight(tickers, *, data_dir=None, cache_dir=None) -> pd.DataFrame:
    """Gate every ticker that has local data (cache or snapshot), without the network.

    The report runner calls this while validating parameters, so a bad tick stops the run
    with exit code 2 before any kernel starts. Tickers with no local data (live-only
    listings) are skipped: their download is gated when it arrives.

    Parameters
    ----------
    tickers : list of str
    data_dir, cache_dir : path, optional
        The case folder and the cache (see :mod:`analysis.config`).

    Returns
    -------
    DataFrame
        The findings of every checked ticker (notes and accepted moves; errors only
        under ``on_bad_data = "exclude"``).

    Raises
    ------
    DataQualityError
        An error-level finding under the case's policy ``on_bad_data = "error"``, or a
        truncated / malformed price file.

    Examples
    --------
    >>> f = preflight(["NTR", "MOS", "IPI", "ICL", "CF", "LXU", "SPY"])
    >>> int((f["severity"] == "error").sum())
    0
    """
    from . import data

    frames = []
    for t in dict.fromkeys(tickers):
        df, _ = data.local_prices(t, data_dir=data_dir, cache_dir=cache_dir)
        if df is not None:
            frames.append(pd.DataFrame(df.attrs.get("quality", []), columns=list(FINDING_COLUMNS)))
    if not frames:
        return pd.DataFrame(columns=list(FINDING_COLUMNS))
    out = pd.concat(frames, ignore_index=True)
    out["date"] = pd.to_datetime(out["date"])
    return out


__all__ = [
    "FINDING_COLUMNS",
    "RULES",
    "check",
    "check_quality",
    "gate",
    "preflight",
    "read_price_csv",
    "case_policy",
    "findings_records",
]
