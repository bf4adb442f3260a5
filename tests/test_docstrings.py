"""Docstrings: every example in the package runs offline on the bundled snapshot, and every
name exported from ``analysis`` has the numpydoc sections the project requires.

* one test per module of :mod:`analysis` (every submodule, so the modules behind the
  exported names and the helpers they document): :class:`doctest.DocTestFinder` collects
  the module's examples and they run with ``POTASH_IMPACT_OFFLINE=1``; only examples
  marked ``# doctest: +SKIP`` are skipped;
* one test per exported name: ``tools/check_docstrings.py`` (the same check developers run
  by hand) finds Parameters, Returns and Examples, and the name resolves to its object.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil
import sys
from pathlib import Path

import pytest

import analysis

ROOT = Path(__file__).resolve().parents[1]
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
MODULES = sorted(m.name for m in pkgutil.walk_packages(analysis.__path__, "analysis."))
EXPORTED = [n for n in analysis.__all__ if not n.startswith("__")]


def _checker():
    """``tools/check_docstrings.py``, loaded once by path (tools/ is not a package)."""
    name = "_tools_check_docstrings"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / "check_docstrings.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod  # dataclasses look their module up in sys.modules
        spec.loader.exec_module(mod)
    return sys.modules[name]


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("POTASH_IMPACT_OFFLINE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run_offline(name, offline):
    mod = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report = []
    for test in doctest.DocTestFinder().find(mod):
        runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}:\n" + "".join(report)


def test_the_examples_cover_every_exported_module():
    """Each module behind an exported name holds examples (the per-module tests are not vacuous)."""
    finder = doctest.DocTestFinder()
    empty = []
    for mod_name in sorted(set(analysis._EXPORTS.values())):
        mod = importlib.import_module(f"analysis.{mod_name}")
        if not any(t.examples for t in finder.find(mod)):
            empty.append(mod_name)
    assert not empty, f"modules with exported names but no docstring examples: {empty}"


@pytest.mark.parametrize("name", EXPORTED)
def test_exported_name_has_numpydoc_sections(name):
    (entry,) = _checker().check([name])
    assert entry.complete, f"analysis.{name} ({entry.module}): missing {', '.join(entry.missing)}"


def test_checker_finds_missing_sections():
    """The check itself can fail: a bare docstring and an undocumented parameter are caught."""
    chk = _checker()

    def f(x, y=1):
        """Add.

        Parameters
        ----------
        x : int
            A number.

        Examples
        --------
        >>> f(1)
        2
        """
        return x + y

    class C:
        """A thing."""

        def __init__(self, a):
            self.a = a

    assert chk.check_object("f", f).missing == ["Parameters (y undocumented)", "Returns"]
    assert chk.check_object("C", C).missing == ["Parameters", "Examples"]
    assert chk.check_object("n", 3).required == []
    doc = "One.\n\n    Examples\n    --------\n    No prompt here.\n"
    assert chk.sections(doc) == {"Examples": "\nNo prompt here."}
    assert chk.check_object("g", type("G", (), {"__doc__": doc})).missing == ["Examples"]


# Examples skipped because they need the network, a Jupyter kernel or a worker process (which
# starts processes or changes process-wide state): the only legitimate skips.
SKIP_ALLOWED = {
    "analysis.data_live.download",
    "analysis.data_live.refresh",
    "analysis.online.refresh_data",
    "analysis.cli.run_cli",
    "analysis.execute.execute_notebook",
    "analysis.execute.warm_workers",
    "analysis.execute.start_worker",
    "analysis.execute.fast_imports",
}


def test_examples_are_skipped_only_for_the_network_or_a_kernel():
    finder = doctest.DocTestFinder()
    skipped = set()
    for name in MODULES:
        for test in finder.find(importlib.import_module(name)):
            if any(ex.options.get(doctest.SKIP) for ex in test.examples):
                skipped.add(test.name)
    assert skipped <= SKIP_ALLOWED, f"examples marked +SKIP without needing network or kernel: {skipped - SKIP_ALLOWED}"
    assert skipped, "the network examples are marked +SKIP (the check sees skips)"
