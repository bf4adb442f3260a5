"""Compatibility shim: the report runner's names, from the modules that now hold them.

``analysis.report`` used to hold the whole runner. It is split by concern (issue 10):

=========================  ===================================================================
module                     holds
=========================  ===================================================================
:mod:`analysis.recorder`   notebook side: :func:`jsonable`, :class:`Recorder`, :func:`highlight_tests`
:mod:`analysis.narrative`  generated prose: :func:`conclusion`, ``ROBUST_TESTS``
:mod:`analysis.runner`     planning (:class:`Run`, :func:`plan_run`, :func:`run_id`), workers,
                           papermill (:func:`execute_notebook`, :func:`export_html`), refresh,
                           :func:`run_reports`
:mod:`analysis.publish`    lock, publish, failed-run marking, manifest and provenance helpers
:mod:`analysis.index`      the HTML index (:func:`build_index`)
:mod:`analysis.schedule`   schedule files and the runs a command line asks for
:mod:`analysis.cli`        argparse, :func:`run_cli`, exit codes
=========================  ===================================================================

Every old public name still imports from here (``from analysis.report import conclusion,
Recorder``; the notebooks use ``report.Recorder``). New code imports from the modules above.
Stdlib only at import.
"""

from __future__ import annotations

from .cli import EXIT_FAIL, EXIT_OK, EXIT_USAGE, add_arguments, run_cli, summary_table
from .index import build_index
from .narrative import ROBUST_TESTS, conclusion
from .publish import (
    FAILED_DIR,
    KERNEL_NAME,
    PACKAGES,
    data_provenance,
    mark_failed,
    merge_results,
    package_versions,
    publish,
    run_lock,
)
from .recorder import Recorder, highlight_tests, jsonable
from .runner import (
    DEFAULT_TIMEOUT,
    KILL_GRACE,
    NOTEBOOK_DIR,
    Run,
    execute_notebook,
    export_html,
    fast_imports,
    kernel_python,
    plan_run,
    refresh_data,
    run_id,
    run_reports,
)
from .schedule import build_runs, load_schedule

__all__ = [
    "DEFAULT_TIMEOUT", "EXIT_FAIL", "EXIT_OK", "EXIT_USAGE", "FAILED_DIR", "KERNEL_NAME", "KILL_GRACE",
    "NOTEBOOK_DIR", "PACKAGES", "ROBUST_TESTS", "Recorder", "Run", "add_arguments", "build_index", "build_runs",
    "conclusion", "data_provenance", "execute_notebook", "export_html", "fast_imports", "highlight_tests",
    "jsonable", "kernel_python", "load_schedule", "mark_failed", "merge_results", "package_versions", "plan_run",
    "publish", "refresh_data", "run_cli", "run_id", "run_lock", "run_reports", "summary_table",
]
