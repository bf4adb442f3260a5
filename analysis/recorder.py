"""The notebook side of a report: what a notebook writes into its run directory.

A notebook executed by the runner receives ``output_dir`` (the run's staging folder) as
a parameter and records through one :class:`Recorder`:

* ``rec.table(name, df)``   -> ``tables/<notebook>_<name>.csv``
* ``rec.figure(name, fig)`` -> ``figures/<notebook>_<name>.png``
* ``rec[key] = value``      -> ``results/<notebook>.json`` on ``rec.save()``
* ``with rec.capture(): ...`` -> Python warnings raised in the block become *notes*
  (``results["notes"]``), shown as a "Sample notes" box (:meth:`Recorder.notes_box`),
  never as raw warning text in the HTML
* ``rec.show_figure(name, fig, caption)`` -> saved (PNG, :data:`FIGURE_DPI` dpi), displayed once, closed
* ``rec.key_findings(vintage)`` -> the "Key findings" box shown where it is called (right
  under the title); every ``rec.save()`` re-renders it from ``rec.results``
  (:mod:`analysis.findings`), so the top of the page states what the page computed

The headline numbers the index and the manifest read are one typed contract,
:class:`KeyNumbers` (built by :func:`key_numbers` from the results objects). Display
tables (the escaped test grid, coverage, event and role tables) live in
:mod:`analysis.present`.

Warnings, classified (:func:`capture_notes`): ``DeprecationWarning``,
``PendingDeprecationWarning`` and ``FutureWarning`` are library maintenance messages
and are kept in ``results["library_warnings"]`` only; every other warning (the
engine's ``EventStudyWarning``, data warnings, numpy's ``RuntimeWarning``) is a note
the reader sees.

Values go through :func:`jsonable` (numpy scalars, Timestamps, Periods, frames; NaN and
infinities become ``null``, never a number). Every file is written atomically
(:mod:`analysis._io`), so a full disk leaves no half-written table.

:func:`highlight_tests` renders the test battery as an HTML-safe pandas ``Styler``:
every cell and index label is escaped (``escape="html"``), so an id or ticker read
from a case folder can never become markup in the report.

Stdlib only at import; pandas, numpy and matplotlib load inside the functions.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import warnings
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ._io import atomic_write_bytes, atomic_write_text
from .errors import ReportError
from .narrative import excluded_in
from .present import highlight_tests, notes_html  # noqa: F401  (highlight_tests re-exported: its home before)
from .findings import catalog_key_numbers, commodity_key_numbers  # noqa: F401  (their first home)

#: warning categories kept out of the notes box (library maintenance, not the sample)
LIBRARY_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
#: resolution of every saved figure (the size is the figure's own: :data:`analysis.plots.FIGSIZE`)
FIGURE_DPI = 150


def jsonable(obj):
    """``obj`` made JSON-serializable.

    Parameters
    ----------
    obj : object
        A scalar, numpy value, Timestamp, Period, DataFrame, Series, array, dict or sequence.

    Returns
    -------
    object
        Plain Python: numpy scalars to int/float, NaN/inf/NaT to ``None``, dates to ISO
        strings, frames to lists of records, anything else unknown to ``str``.

    Examples
    --------
    >>> import numpy as np
    >>> jsonable({"a": np.float64("nan"), "b": np.int64(3), "c": (1.5,)})
    {'a': None, 'b': 3, 'c': [1.5]}
    """
    import numpy as np
    import pandas as pd

    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, pd.Timestamp):
        return None if pd.isna(obj) else (str(obj.date()) if obj == obj.normalize() and obj.tz is None else obj.isoformat())
    if isinstance(obj, (_dt.date, _dt.datetime, pd.Period)):
        return str(obj)
    if isinstance(obj, pd.DataFrame):
        return [jsonable(r) for r in obj.to_dict(orient="records")]
    if isinstance(obj, pd.Series):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [jsonable(v) for v in obj]
    if obj is pd.NaT or (not isinstance(obj, type) and pd.api.types.is_scalar(obj) and pd.isna(obj)):
        return None
    return str(obj)


def _png(fig, dpi: int) -> bytes:
    """``fig`` drawn once as PNG bytes: a figure laid out by matplotlib (analysis.plots:
    constrained layout) keeps its exact size (plots.FIGSIZE x dpi); any other is cropped
    to its content."""
    import io

    buf = io.BytesIO()
    tight = None if fig.get_layout_engine() is not None else "tight"
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches=tight)
    return buf.getvalue()


class Recorder:
    """What a notebook writes into its run directory: CSV tables, PNG figures, ``results``.

    Parameters
    ----------
    output_dir : str or path-like or None
        The run's staging folder (the runner's ``output_dir`` parameter). ``None`` (a
        researcher running the notebook in JupyterLab): nothing is written, and every
        method still returns its input so the notebook reads the same.
    notebook : str
        The notebook's name; prefixes every file it writes.

    Examples
    --------
    >>> rec = Recorder(None, "event_study")
    >>> rec["session"] = "2025-12-15"
    >>> rec.save() is None
    True
    """

    def __init__(self, output_dir, notebook: str):
        self.notebook = notebook
        self.dir = Path(output_dir) if output_dir else None
        self.results: dict = {"notebook": notebook, "tables": {}, "figures": {}, "notes": [],
                              "library_warnings": []}
        self._findings = None  # the display handle of the "Key findings" box, once shown

    def table(self, name: str, df, *, index: bool = False):
        """Write ``df`` to ``tables/<notebook>_<name>.csv`` and list it in the results.

        Parameters
        ----------
        name : str
            The table's short name.
        df : pandas.DataFrame
            The table.
        index : bool
            Write the index as a column.

        Returns
        -------
        pandas.DataFrame
            ``df`` itself, so the notebook can display it.
        """
        rel = f"tables/{self.notebook}_{name}.csv"
        if self.dir is not None:
            atomic_write_text(self.dir / rel, df.to_csv(index=index), allow_empty=True)
        self.results["tables"][name] = rel
        return df

    def figure(self, name: str, fig, *, dpi: int = FIGURE_DPI):
        """Save ``fig`` to ``figures/<notebook>_<name>.png``.

        Parameters
        ----------
        name : str
            The figure's short name.
        fig : matplotlib.figure.Figure
            The figure.
        dpi : int
            Resolution of the PNG (:data:`FIGURE_DPI`). A figure with a layout engine
            (every :mod:`analysis.plots` figure) is saved at its own size, so a
            :data:`analysis.plots.FIGSIZE` figure is 1200 x 675 pixels; any other is
            cropped to its content.

        Returns
        -------
        matplotlib.figure.Figure
            ``fig`` itself (the notebook still shows it).
        """
        if self.dir is not None:
            self._save_png(name, _png(fig, dpi))
        else:
            self.results["figures"][name] = f"figures/{self.notebook}_{name}.png"
        return fig

    def _save_png(self, name: str, png: bytes) -> None:
        rel = f"figures/{self.notebook}_{name}.png"
        if self.dir is not None:
            atomic_write_bytes(self.dir / rel, png)
        self.results["figures"][name] = rel

    def __setitem__(self, key: str, value) -> None:
        self.results[key] = jsonable(value)

    def __getitem__(self, key: str):
        return self.results[key]

    def capture(self):
        """Context manager: warnings raised inside become notes of this recorder.

        Returns
        -------
        contextlib.AbstractContextManager
            See :func:`capture_notes`.

        Examples
        --------
        >>> import warnings
        >>> rec = Recorder(None, "x")
        >>> with rec.capture():
        ...     warnings.warn("LXU excluded: no data before 2024-11-01")
        >>> rec.notes
        ['LXU excluded: no data before 2024-11-01']
        """
        return capture_notes(self)

    def note(self, text: str, category: str = "sample") -> None:
        """Add one note (shown in the notes box, stored in ``results["notes"]``), once.

        Parameters
        ----------
        text : str
            The note, plain text (it is escaped when rendered).
        category : str
            Where it comes from, e.g. ``"sample"`` or a warning class name.
        """
        _add_note(self.results["notes"], {"category": category, "text": str(text)})

    @property
    def notes(self) -> list[str]:
        """The note texts recorded so far, in order, without repeats."""
        return [n["text"] for n in self.results["notes"]]

    def notes_box(self, title: str = "Sample notes"):
        """The notes as an escaped HTML box for ``display`` (:func:`analysis.present.notes_html`).

        Parameters
        ----------
        title : str
            The box heading.

        Returns
        -------
        IPython.display.HTML
        """
        from IPython.display import HTML

        return HTML(notes_html(self.results["notes"], title=title))

    def show_figure(self, name: str, fig, caption: str | None = None, *, dpi: int = FIGURE_DPI) -> None:
        """Save ``fig`` (:meth:`figure`), display it once with its caption, then close it.

        The figure is drawn once: the saved PNG is what the page shows, at the size the
        inline backend would give it (``fig.dpi``). Closing keeps the inline backend from
        drawing the figure again at the end of the cell. The caption is plain text, escaped.

        Parameters
        ----------
        name : str
            The figure's short name.
        fig : matplotlib.figure.Figure
            The figure.
        caption : str, optional
            One sentence saying what the figure shows.
        dpi : int
            Resolution of the PNG.
        """
        import html

        import matplotlib.pyplot as plt
        from IPython.display import HTML, Image, display

        png = _png(fig, dpi)
        self._save_png(name, png)
        width = int.from_bytes(png[16:20], "big")  # the PNG header's IHDR width, pixels
        display(Image(data=png, format="png", width=max(1, round(width * fig.dpi / dpi))))
        plt.close(fig)
        if caption:
            display(HTML(f'<p class="caption"><em>{html.escape(caption)}</em></p>'))

    def key_findings(self, vintage: str | None = None) -> None:
        """Show the "Key findings" box here; every :meth:`save` re-renders it from the results.

        Call it in the first code cell, so the box sits right under the page's title. Until
        the first :meth:`save` the box says the findings are still being computed.

        Parameters
        ----------
        vintage : str, optional
            Where the data come from, in words (:func:`analysis.findings.data_vintage`);
            recorded as ``results["data_vintage"]``.
        """
        from IPython.display import HTML, display

        from .findings import key_findings_html

        if vintage is not None:
            self.results["data_vintage"] = str(vintage)
        self._findings = display(HTML(key_findings_html(self.results, pending=True)), display_id=True)

    def _refresh_findings(self) -> None:
        if self._findings is not None:
            from IPython.display import HTML

            from .findings import key_findings_html

            self._findings.update(HTML(key_findings_html(jsonable(self.results))))

    def save(self) -> Path | None:
        """Write ``results/<notebook>.json`` (merged into the run's ``results.json`` by the runner).

        The "Key findings" box (:meth:`key_findings`), if shown, is re-rendered first, also
        without an ``output_dir``.

        Returns
        -------
        pathlib.Path or None
            The file written, or ``None`` without an ``output_dir``.

        Raises
        ------
        ValueError
            A recorded value is not JSON (NaN is already ``null``, so this means a bug).
        """
        self._refresh_findings()
        if self.dir is None:
            return None
        path = self.dir / "results" / f"{self.notebook}.json"
        atomic_write_text(path, json.dumps(jsonable(self.results), indent=1, allow_nan=False))
        return path


# =========================================================================== notes
def _add_note(notes: list, note: dict) -> None:
    if not any(n["text"] == note["text"] and n.get("category") == note.get("category") for n in notes):
        notes.append(note)


@contextlib.contextmanager
def capture_notes(into=None):
    """Capture the Python warnings raised inside the block as notes instead of printing them.

    Parameters
    ----------
    into : Recorder or list, optional
        Where the notes go: a :class:`Recorder` (its ``results["notes"]`` and
        ``results["library_warnings"]``), a list (records appended), or ``None`` (a new list).

    Yields
    ------
    list
        The list the reader-facing notes are appended to (records ``category``, ``text``).

    Notes
    -----
    ``warnings.catch_warnings(record=True)`` with the filter ``"always"``, so a warning
    seen before is captured again; repeats are stored once. Deprecation and future
    warnings (:data:`LIBRARY_WARNINGS`) go to ``library_warnings`` only. The warning state
    is restored when the block ends, also on an exception.

    Examples
    --------
    >>> import warnings
    >>> with capture_notes() as notes:
    ...     warnings.warn("IPI excluded from (0,5): no data after 2026-08-13")
    ...     warnings.warn("old API", DeprecationWarning)
    >>> [n["text"] for n in notes]
    ['IPI excluded from (0,5): no data after 2026-08-13']
    """
    if isinstance(into, Recorder):
        notes, library = into.results["notes"], into.results["library_warnings"]
    else:
        notes = into if isinstance(into, list) else []
        library = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield notes
        finally:
            for w in caught:
                rec = {"category": w.category.__name__, "text": str(w.message)}
                _add_note(library if issubclass(w.category, LIBRARY_WARNINGS) else notes, rec)


# =========================================================================== key numbers
@dataclass(frozen=True)
class KeyNumbers:
    """The headline numbers of one event-study run: the contract between notebook, manifest and index.

    Parameters
    ----------
    window : str
        The main window label, e.g. ``"(0,1)"``.
    test : str
        The main test's name.
    caar_treated : float or None
        The treated group's CAAR over ``window`` (a fraction).
    p_value : float or None
        The main test's p-value for the treated group.
    n : int
        Treated firms behind ``caar_treated`` (after exclusions).
    n_control : int or None
        Control firms behind ``caar_control``.
    caar_control, diff, p_placebo_diff : float or None
        The control group's CAAR, treated minus control, and the placebo p of the difference.
    excluded : tuple of str
        ``"<firm>: <reason>"`` for every requested firm not used over ``window``.

    Examples
    --------
    >>> k = KeyNumbers(window="(0,1)", test="placebo", caar_treated=-0.0434, p_value=0.0625, n=4)
    >>> KeyNumbers.from_dict(k.to_dict()) == k
    True
    """

    window: str
    test: str
    caar_treated: float | None
    p_value: float | None
    n: int
    n_control: int | None = None
    caar_control: float | None = None
    diff: float | None = None
    p_placebo_diff: float | None = None
    excluded: tuple = ()

    REQUIRED = ("window", "test", "caar_treated", "p_value", "n")

    def to_dict(self) -> dict:
        """The numbers as plain JSON values (NaN -> ``None``), in the field order.

        Returns
        -------
        dict
        """
        return jsonable(asdict(self))

    @classmethod
    def from_dict(cls, data: dict) -> KeyNumbers:
        """Read the contract back from ``results.json`` or a manifest.

        Parameters
        ----------
        data : dict
            A ``key`` dict written by :meth:`to_dict`.

        Returns
        -------
        KeyNumbers

        Raises
        ------
        ReportError
            A required field is missing or ``n`` is not a whole number.
        """
        if not isinstance(data, dict):
            raise ReportError(f"key numbers: expected a mapping, got {type(data).__name__}")
        missing = [k for k in cls.REQUIRED if k not in data]
        if missing:
            raise ReportError(f"key numbers: missing {', '.join(missing)} (have {', '.join(map(str, data)) or 'nothing'})")
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in data.items() if k in names}
        if isinstance(kw["n"], bool) or not isinstance(kw["n"], (int, float)) or kw["n"] != int(kw["n"]):
            raise ReportError(f"key numbers: n={kw['n']!r} is not a number of firms")
        kw["n"] = int(kw["n"])
        kw["excluded"] = tuple(kw.get("excluded") or ())
        return cls(**kw)

    @classmethod
    def from_results(cls, results: dict) -> KeyNumbers | None:
        """The run's headline from its merged ``results.json`` (``{notebook: results}``).

        Parameters
        ----------
        results : dict
            The merged results of a run.

        Returns
        -------
        KeyNumbers or None
            ``event_study``'s ``key``, else the first notebook key holding a
            ``caar_treated``; ``None`` when no notebook recorded one.
        """
        keys = [(results.get("event_study") or {}).get("key")]
        keys += [r.get("key") for r in results.values() if isinstance(r, dict)]
        for k in keys:
            if isinstance(k, dict) and "caar_treated" in k:
                return cls.from_dict(k)
        return None


def _frame(obj):
    return obj.to_frame() if hasattr(obj, "to_frame") and not hasattr(obj, "columns") else obj


def key_numbers(tests, window: str, test: str, comparison=None, *, treated=None, control=None,
                excluded=None) -> KeyNumbers:
    """The :class:`KeyNumbers` of a run, read from its results objects.

    Parameters
    ----------
    tests : EventStudyResult or pandas.DataFrame
        The treated group's study, or its tidy battery with ``caar`` and ``n`` columns.
    window : str
        The main window label.
    test : str
        The main test.
    comparison : GroupComparison or pandas.DataFrame, optional
        The treated-versus-control comparison (``caar_control, diff, p_placebo, n_control``).
    treated, control : list of str, optional
        The groups as requested: with ``excluded``, the firms not used are listed.
    excluded : pandas.DataFrame or dict, optional
        ``EventStudyResult.excluded`` of the study holding both groups.

    Returns
    -------
    KeyNumbers

    Raises
    ------
    ReportError
        ``window`` or ``test`` is not in the battery.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"window": ["(0,1)"], "test": ["placebo"], "p_value": [0.0625], "n": [4],
    ...                   "caar": [-0.0434]})
    >>> key_numbers(t, "(0,1)", "placebo").n
    4
    """
    t = _frame(tests)
    row = t[(t["window"] == window) & (t["test"] == test)]
    if row.empty:
        raise ReportError(f"key numbers: no {test!r} row for window {window} in the test table")
    r = row.iloc[0]
    kw = {"window": window, "test": test, "caar_treated": r["caar"], "p_value": r["p_value"], "n": int(r["n"])}
    if comparison is not None:
        c = _frame(comparison)
        c = c[c["window"] == window]
        if len(c):
            g = c.iloc[0]
            kw.update(caar_control=g["caar_control"], diff=g["diff"], p_placebo_diff=g["p_placebo"])
            if "n_control" in c.columns:
                kw["n_control"] = int(g["n_control"])
    gone = excluded_in(excluded, window)
    asked = list(treated or []) + list(control or [])
    kw["excluded"] = tuple(f"{f}: {gone[f]}" for f in (asked or gone) if f in gone)
    clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in jsonable(kw).items()}
    return KeyNumbers(**{**clean, "excluded": tuple(clean["excluded"])})


__all__ = [
    "jsonable",
    "Recorder",
    "capture_notes",
    "KeyNumbers",
    "key_numbers",
    "commodity_key_numbers",
    "catalog_key_numbers",
    "LIBRARY_WARNINGS",
]
