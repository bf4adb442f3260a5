"""``import analysis``: the public API resolves, and the documented one-liner works."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

import analysis


def test_every_exported_name_resolves():
    import importlib
    import pkgutil

    for mod in pkgutil.walk_packages(analysis.__path__, "analysis."):  # a submodule must not shadow a name
        importlib.import_module(mod.name)
    for name, module in analysis._EXPORTS.items():
        assert getattr(analysis, name) is getattr(importlib.import_module(f"analysis.{module}"), name), name
    assert analysis.__all__ == sorted(analysis._EXPORTS) + ["__version__"]
    assert callable(analysis.event_study) and callable(analysis.study_catalog)
    assert analysis.align_event("2025-12-13 11:49") == pd.Timestamp("2025-12-15")


def test_readme_one_liner_runs_offline():
    code = "import analysis; print(analysis.load_prices(['NTR','SPY'], '2025-12-01', '2025-12-31'))"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"POTASH_IMPACT_OFFLINE": "1", "PATH": "/usr/bin:/bin", "HOME": "/tmp"})
    assert res.returncode == 0, res.stderr
    assert "2025-12-15" in res.stdout and "61.85" in res.stdout and "close" in res.stdout


def test_import_is_lazy():
    res = subprocess.run([sys.executable, "-c", "import analysis, sys; print('scipy' in sys.modules, 'matplotlib' in sys.modules)"],
                         capture_output=True, text=True)
    assert res.stdout.split() == ["False", "False"]
