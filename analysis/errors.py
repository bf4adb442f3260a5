"""Every error the suite raises on purpose, in one place (as papermill's ``exceptions.py``).

Each message names the offending value and says how to fix it. All inherit from
:class:`PotashImpactError`, so a caller (the CLI, the report runner) can catch the
family in one clause and turn it into a one-line message with a non-zero exit code.
"""

from __future__ import annotations


class PotashImpactError(Exception):
    """Base class of every deliberate error in :mod:`analysis`.

    Raised only through its subclasses below; catch it to handle every deliberate error
    in one clause (its message is one line naming the value and the fix).

    Examples
    --------
    >>> import analysis
    >>> try:
    ...     analysis.get_event("no-such-event")
    ... except analysis.PotashImpactError as exc:
    ...     print(type(exc).__name__, "--", exc)
    CatalogError -- unknown event 'no-such-event': give a catalog id (`potash-impact events`) or a date ...
    """


class DataError(PotashImpactError, ValueError):
    """Input data is missing, malformed or inconsistent."""


class DataValidationError(DataError):
    """A price frame failed validation (columns, dates, positivity, OHLC, gaps)."""


class NotInSnapshotError(DataError):
    """A ticker is known to the universe but only the live (yfinance) path can fetch it."""


class NetworkError(DataError):
    """A live download failed or came back empty (yfinance's signal of no network)."""


class AlignmentError(PotashImpactError, ValueError):
    """An event timestamp cannot be mapped to a trading session under the chosen policy."""


class EventStudyError(PotashImpactError, ValueError):
    """The event-study engine was given input it cannot estimate on."""


class CatalogError(PotashImpactError, ValueError):
    """The event catalog or the universe table is invalid, or an id/ticker is unknown."""


class ParameterError(PotashImpactError, ValueError):
    """A report or notebook parameter is invalid (raised before any kernel starts)."""


class ReportError(PotashImpactError):
    """A report run failed (a notebook raised, timed out, or could not be published)."""


class IdentifierError(ParameterError):
    """An event id, ticker, group name or notebook name breaks its pattern (see :mod:`analysis.ids`).

    Ids end up in file names, run ids and HTML, so a bad one is refused where it is read,
    with the file and line it came from.
    """


class CaseError(CatalogError):
    """A case folder (``case.toml``, ``events.csv``, ``universe.csv``, ``known_moves.csv``) is invalid.

    The message names the file, the line and, for ``case.toml``, the key.
    """


class WriteError(PotashImpactError, OSError):
    """A file could not be written (disk full, read-only folder, empty payload refused).

    Also an :class:`OSError`, so ``except OSError`` keeps working; ``filename`` is the
    target path. Nothing is left half-written: the previous file, if any, is intact.
    """

    def __str__(self) -> str:
        return f"cannot write {self.filename}: {self.strerror or self.args[-1]} (the previous file, if any, is intact)"


class InsufficientDataError(EventStudyError):
    """The data cannot support the estimation: too few estimation returns, no usable firm, an empty group."""


class WindowError(EventStudyError, AlignmentError):
    """A relative-day window is malformed: not two integers, reversed, listed twice, overlapping (analysis.windows).

    It is both an :class:`EventStudyError` and an :class:`AlignmentError`, so callers of the
    engine and of :func:`analysis.calendars.window_sessions` catch it as before.
    """


class WindowRangeError(WindowError, InsufficientDataError):
    """A relative-day window runs past the data (the one rule at the data's edges, analysis.windows)."""


class DataQualityError(DataValidationError):
    """A price series failed the data-quality gate (:mod:`analysis.quality`).

    A bad tick, a level jump with no split recorded, a stale run, a placeholder volume, or
    a truncated / malformed price file. The message names the ticker, the date, the value,
    the rule and the file, and says how to accept a real move (``known_moves.csv``) or
    exclude the firm (``on_bad_data = "exclude"`` in ``case.toml``). ``.findings`` holds
    the tidy findings frame when the gate produced one.
    """

    def __init__(self, message: str, findings=None):
        super().__init__(message)
        self.findings = findings
