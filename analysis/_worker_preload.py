"""Imported only by the report runner's fork server (see :mod:`analysis.execute`).

The fork server is a separate process that ``multiprocessing`` starts to fork report
workers from. Importing this module there applies the workers' import shortcuts
(:func:`analysis.execute.fast_imports`) and preloads papermill and nbconvert (with the HTML
templates compiled: :func:`analysis.execute.warm_html_export`), so each forked worker
starts with them in memory. Never import it elsewhere: it changes
``sys.modules`` and tqdm's settings for the whole process.
"""

from __future__ import annotations

from .execute import fast_imports

fast_imports()

import nbconvert  # noqa: E402,F401 - preloaded for the forked workers
import papermill  # noqa: E402,F401

from .execute import warm_html_export  # noqa: E402

try:  # the HTML templates compiled once here, not in every worker (only an optimisation)
    warm_html_export()
except Exception:  # noqa: BLE001 - a worker then simply compiles them itself
    pass
