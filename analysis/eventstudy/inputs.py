"""Input checks of :func:`analysis.eventstudy.event_study`: each bad input is one clear error.

Returns, market, event date and windows are validated here before any estimation, each
failure raising a typed error (:mod:`analysis.errors`) that names the offending value
and how to fix it. Window arithmetic is :mod:`analysis.windows` (the one implementation);
the windows must lie inside the returns, else :class:`~analysis.errors.WindowRangeError`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..calendars import nearest_session, parse_date
from ..errors import EventStudyError, WindowRangeError
from ..windows import check_estimation_window, parse_window, parse_windows, window_rows, window_span


class EventStudyWarning(UserWarning):
    """A firm was dropped from an event study (too few estimation observations, or a group)."""


def _as_frame(returns) -> pd.DataFrame:
    if isinstance(returns, pd.Series):
        returns = returns.to_frame(returns.name if returns.name is not None else "firm")
    if not isinstance(returns, pd.DataFrame):
        raise EventStudyError(
            f"returns must be a DataFrame of sessions x firms, got {type(returns).__name__}"
        )
    if returns.shape[1] == 0:
        raise EventStudyError("returns has no firm columns: pass at least one firm")
    if not isinstance(returns.index, pd.DatetimeIndex):
        raise EventStudyError(
            f"returns must have a DatetimeIndex of sessions, got {type(returns.index).__name__}: "
            "set the date column as index (df.set_index('date'))"
        )
    if returns.columns.has_duplicates:
        dup = returns.columns[returns.columns.duplicated()][0]
        raise EventStudyError(f"firm {dup!r} appears twice in returns: drop the duplicate column")
    if returns.index.has_duplicates:
        dup = returns.index[returns.index.duplicated()][0]
        raise EventStudyError(
            f"duplicate date {dup.date()} in the returns index: de-duplicate the data "
            "(e.g. returns[~returns.index.duplicated()]) first"
        )
    if not returns.index.is_monotonic_increasing:
        raise EventStudyError("the returns index is not sorted: call returns.sort_index() first")
    dtypes = returns.dtypes
    bad = [] if all(dt.kind in "biuf" for dt in set(dtypes)) else [
        c for c, dt in dtypes.items() if not pd.api.types.is_numeric_dtype(dt)]
    if bad:
        raise EventStudyError(f"non-numeric return columns {bad}: convert them to float")
    return returns


def _event_position(index: pd.DatetimeIndex, event_date) -> tuple[int, pd.Timestamp]:
    t = parse_date(event_date, "event_date", EventStudyError)
    if t is None:
        raise EventStudyError("event_date is required: pass day 0 as a session in the returns index")
    if index.tz is not None:
        index = index.tz_localize(None)
    if t not in index:
        raise EventStudyError(
            f"event date {t.date()} is not a session in the returns index; the nearest session is "
            f"{nearest_session(index, t).date()} (align the event first with "
            "analysis.calendars.align_event)"
        )
    return int(index.get_loc(t)), t


def _check_windows(estimation_window, event_windows, pos, T, daily_span=None):
    """Validated (estimation window, event windows, span of all event-span days, daily span).

    The span covers every event window and the daily span; the estimation window must end
    before it starts, and all of it must lie inside the ``T`` sessions of the returns.
    Raises :class:`~analysis.errors.WindowError` (malformed, reversed, duplicated,
    overlapping) or :class:`~analysis.errors.WindowRangeError` (past the data).
    """
    wins = parse_windows(event_windows, name="event_windows")
    daily = window_span(wins) if daily_span is None else parse_window(daily_span, name="daily_span")
    span = window_span([*wins, daily])
    est = check_estimation_window(estimation_window, [span])
    lo, hi = min(est[0], span[0]), max(est[1], span[1])
    try:
        window_rows(pos, (lo, hi), T)
    except WindowRangeError:
        raise WindowRangeError(
            f"the windows need relative days {lo}..{hi} around the event, but the returns hold "
            f"{pos} sessions before and {T - pos - 1} after it: load more history/future data "
            "or shorten the windows"
        ) from None
    return est, list(wins), span, daily


def _market_array(market, index, model, firms):
    """Regressor array (T, F) and names, validated for the model."""
    if model == "constant_mean":
        return np.zeros((len(index), 0)), []
    if market is None:
        raise EventStudyError(f"model={model!r} needs a market series (or factor DataFrame); got None")
    if isinstance(market, pd.DataFrame):
        if model != "factor" and market.shape[1] != 1:
            raise EventStudyError(
                f"model={model!r} takes one market Series, got a DataFrame with columns "
                f"{list(market.columns)}: pass one column, or use model='factor'"
            )
        frame = market
    elif isinstance(market, pd.Series):
        frame = market.to_frame(market.name if market.name is not None else "market")
    else:
        raise EventStudyError(f"market must be a pandas Series or DataFrame, got {type(market).__name__}")
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise EventStudyError("market must have a DatetimeIndex on the same sessions as returns")
    if frame.index.has_duplicates:
        dup = frame.index[frame.index.duplicated()][0]
        raise EventStudyError(f"duplicate date {dup.date()} in the market index: de-duplicate it first")
    overlap = [c for c in frame.columns if c in set(firms)] if model == "factor" else []
    if overlap:
        raise EventStudyError(f"factor columns {overlap} are also firms in returns: drop them from returns")
    frame = frame.reindex(index).astype(float)
    return frame.to_numpy(), [str(c) for c in frame.columns]
