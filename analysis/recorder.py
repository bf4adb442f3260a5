"""The notebook side of a report: what a notebook writes into its run directory.

A notebook executed by the runner receives ``output_dir`` (the run's staging folder) as
a parameter and records through one :class:`Recorder`:

* ``rec.table(name, df)``   -> ``tables/<notebook>_<name>.csv``
* ``rec.figure(name, fig)`` -> ``figures/<notebook>_<name>.png``
* ``rec[key] = value``      -> ``results/<notebook>.json`` on ``rec.save()``

Values go through :func:`jsonable` (numpy scalars, Timestamps, Periods, frames; NaN and
infinities become ``null``, never a number). Every file is written atomically
(:mod:`analysis._io`), so a full disk leaves no half-written table.

:func:`highlight_tests` renders the test battery as an HTML-safe pandas ``Styler``:
every cell and index label is escaped (``escape="html"``), so an id or ticker read
from a case folder can never become markup in the report.

Stdlib only at import; pandas, numpy and matplotlib load inside the functions.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from pathlib import Path

from ._io import atomic_write_bytes, atomic_write_text
from .narrative import ROBUST_TESTS


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
        self.results: dict = {"notebook": notebook, "tables": {}, "figures": {}}

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

    def figure(self, name: str, fig, *, dpi: int = 110):
        """Save ``fig`` to ``figures/<notebook>_<name>.png``.

        Parameters
        ----------
        name : str
            The figure's short name.
        fig : matplotlib.figure.Figure
            The figure.
        dpi : int
            Resolution of the PNG.

        Returns
        -------
        matplotlib.figure.Figure
            ``fig`` itself (the notebook still shows it).
        """
        import io

        rel = f"figures/{self.notebook}_{name}.png"
        if self.dir is not None:
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
            atomic_write_bytes(self.dir / rel, buf.getvalue())
        self.results["figures"][name] = rel
        return fig

    def __setitem__(self, key: str, value) -> None:
        self.results[key] = jsonable(value)

    def __getitem__(self, key: str):
        return self.results[key]

    def save(self) -> Path | None:
        """Write ``results/<notebook>.json`` (merged into the run's ``results.json`` by the runner).

        Returns
        -------
        pathlib.Path or None
            The file written, or ``None`` without an ``output_dir``.

        Raises
        ------
        ValueError
            A recorded value is not JSON (NaN is already ``null``, so this means a bug).
        """
        if self.dir is None:
            return None
        path = self.dir / "results" / f"{self.notebook}.json"
        atomic_write_text(path, json.dumps(jsonable(self.results), indent=1, allow_nan=False))
        return path


def highlight_tests(tests, robust=ROBUST_TESTS, alpha: float = 0.05):
    """The tidy test table as a window x test grid of ``statistic (p)``, robust tests highlighted.

    Parameters
    ----------
    tests : pandas.DataFrame
        The tidy battery (``window, test, statistic, p_value``), e.g. ``EventStudyResult.tests``.
    robust : sequence of str
        Test names to shade (default: the dependence-robust tests and the placebo).
    alpha : float
        p-values below it are bold.

    Returns
    -------
    pandas.io.formats.style.Styler
        Cells and index labels HTML-escaped.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"window": ["(0,1)"], "test": ["placebo"], "statistic": [-1.0], "p_value": [0.01]})
    >>> "-1.000 (0.010)" in highlight_tests(t).to_html()
    True
    """
    import pandas as pd

    order = list(dict.fromkeys(tests["test"]))
    wins = list(dict.fromkeys(tests["window"]))
    stat = tests.pivot(index="window", columns="test", values="statistic").loc[wins, order]
    p = tests.pivot(index="window", columns="test", values="p_value").loc[wins, order]
    cell = stat.map(lambda v: "" if pd.isna(v) else f"{v:.3f}") + p.map(lambda v: "" if pd.isna(v) else f" ({v:.3f})")
    robust = [t for t in order if t in robust]

    def shade(col):
        bg = "background-color: #fff3c4;" if col.name in robust else ""
        return [bg + ("font-weight: bold;" if pd.notna(pv) and pv < alpha else "") for pv in p[col.name]]

    return (
        cell.style.apply(shade, axis=0)
        .format(escape="html")
        .format_index(escape="html", axis=0)
        .format_index(escape="html", axis=1)
        .set_caption(f"statistic (p-value); shaded: dependence-robust tests and the placebo; bold: p &lt; {alpha}")
    )
