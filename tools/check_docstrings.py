"""Check the numpydoc docstrings of every public name exported from :mod:`analysis`.

For each name in ``analysis.__all__`` (``__version__`` aside) the docstring must hold the
numpydoc sections the project requires (issue 10, "Docstrings and tests"):

* ``Parameters`` for a callable that takes parameters, naming every parameter of its
  signature (``*args`` as ``*args`` or ``args``). A class documents its constructor
  (without ``self``) under ``Parameters``, or, when it is built by a factory function or
  is a dataclass read by attribute, under ``Attributes``; a class whose constructor is
  inherited from ``object`` or a built-in exception takes none;
* ``Returns`` (or ``Yields``) for a function (not a class);
* ``Examples`` for every name, holding at least one ``>>>`` line.

A section counts only as a numpydoc header: its name on a line of its own, underlined by
dashes on the next line. ``Raises`` cannot be checked mechanically and is not required here.
A name that ``analysis`` no longer resolves to the object ``analysis._EXPORTS`` names (a
submodule of the same name shadows it once imported) is reported as ``shadowed``.

Run from the repository root::

    .venv/bin/python tools/check_docstrings.py            # one line per gap, grouped by module; exit 1 on gaps
    .venv/bin/python tools/check_docstrings.py --all      # every exported name, complete or not
    .venv/bin/python tools/check_docstrings.py --modules  # every public definition in analysis/

``tests/test_docstrings.py`` uses :func:`check` to require every section of every name.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_HEADER = re.compile(r"^(?P<name>[A-Z][A-Za-z ]+)\n-{3,}[ \t]*$", re.MULTILINE)
_INHERITED_INIT = (object.__init__, BaseException.__init__, Exception.__init__)


@dataclass
class Entry:
    """The docstring check of one exported name.

    Parameters
    ----------
    name : str
        The name in ``analysis.__all__``.
    module : str
        The module that defines the object (``obj.__module__``).
    kind : str
        ``"function"``, ``"class"`` or ``"other"``.
    required : list of str
        The sections this object needs.
    missing : list of str
        The required sections its docstring lacks.
    """

    name: str
    module: str
    kind: str
    required: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when no required section is missing."""
        return not self.missing


def sections(doc: str | None) -> dict[str, str]:
    """The numpydoc sections of a docstring, name -> body.

    Parameters
    ----------
    doc : str or None
        A raw ``__doc__``; it is dedented with :func:`inspect.cleandoc`.

    Returns
    -------
    dict
        Section name (``"Parameters"``, ``"Returns"``...) -> its text up to the next header.

    Examples
    --------
    >>> sorted(sections("Sum.\\n\\nParameters\\n----------\\nx : int\\n\\nReturns\\n-------\\nint\\n"))
    ['Parameters', 'Returns']
    """
    text = inspect.cleandoc(doc or "")
    heads = list(_HEADER.finditer(text))
    out = {}
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        out[m.group("name").strip()] = text[m.end():end]
    return out


def _parameters(obj) -> list[str]:
    """The names a docstring must document: the signature's, without ``self``/``cls``."""
    if inspect.isclass(obj):
        init = obj.__init__
        if init in _INHERITED_INIT or not inspect.isfunction(init):
            return []
        target = init
    else:
        target = obj
    try:
        params = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):  # a built-in without a signature: nothing to check
        return []
    if inspect.isclass(obj) and params and params[0].name in ("self", "cls"):
        params = params[1:]
    return [p.name for p in params]


def documented_names(body: str) -> set[str]:
    """The names a ``Parameters`` section documents (``x, y : float`` documents both).

    Parameters
    ----------
    body : str
        The section's text, as :func:`sections` returns it.

    Returns
    -------
    set of str
        Every name on an unindented line before its `` : `` (leading ``*`` removed).

    Examples
    --------
    >>> sorted(documented_names("x, y : float\n    Two numbers.\n**kwargs\n    Passed on.\n"))
    ['kwargs', 'x', 'y']
    """
    out = set()
    for line in body.splitlines():
        if line and not line[0].isspace():
            out.update(part.strip().lstrip("*") for part in line.split(" : ")[0].split(","))
    return out - {""}


def check_object(name: str, obj) -> Entry:
    """Check one object's docstring.

    Parameters
    ----------
    name : str
        The name it is exported under.
    obj : object
        The function or class.

    Returns
    -------
    Entry
        The sections it needs and the ones its docstring lacks.

    Examples
    --------
    >>> def f(x):
    ...     '''Double.
    ...
    ...     Examples
    ...     --------
    ...     >>> f(2)
    ...     4
    ...     '''
    ...     return 2 * x
    >>> check_object("f", f).missing
    ['Parameters', 'Returns']
    """
    if inspect.isclass(obj):
        kind = "class"
    elif callable(obj):
        kind = "function"
    else:
        kind = "other"
    entry = Entry(name=name, module=getattr(obj, "__module__", "?") or "?", kind=kind)
    if kind == "other":
        return entry
    params = _parameters(obj)
    if params:
        entry.required.append("Parameters")
    if kind == "function":
        entry.required.append("Returns")
    entry.required.append("Examples")
    found = sections(obj.__doc__)
    for sec in entry.required:
        body = found.get(sec)
        if sec == "Returns" and body is None:
            body = found.get("Yields")
        if sec == "Parameters":
            if body is None and kind == "class" and "Attributes" in found:
                continue
            if body is not None:
                undocumented = [p for p in params if p not in documented_names(body)]
                if undocumented:
                    entry.missing.append(f"Parameters ({', '.join(undocumented)} undocumented)")
                continue
        if body is None or (sec == "Examples" and ">>>" not in body):
            entry.missing.append(sec)
    return entry


def check(names=None) -> list[Entry]:
    """Check every exported name of :mod:`analysis` (or the given ones).

    Parameters
    ----------
    names : iterable of str, optional
        Names in ``analysis.__all__``; default all of them except ``__version__``. Every
        submodule of :mod:`analysis` is imported first, so a submodule that shadows an
        exported name is caught whatever the import order.

    Returns
    -------
    list of Entry
        One entry per name, in the order of ``analysis.__all__``.

    Examples
    --------
    >>> [e.missing for e in check(["event_study"])]
    [[]]
    """
    import importlib
    import pkgutil

    import analysis

    for mod in pkgutil.walk_packages(analysis.__path__, "analysis."):
        importlib.import_module(mod.name)
    if names is None:
        names = [n for n in analysis.__all__ if not n.startswith("__")]
    out = []
    for n in names:
        obj = getattr(importlib.import_module(f"analysis.{analysis._EXPORTS[n]}"), n)
        entry = check_object(n, obj)
        if getattr(analysis, n) is not obj:
            shadow = getattr(analysis, n)
            entry.missing.append(f"shadowed by {getattr(shadow, '__name__', type(shadow).__name__)}")
        out.append(entry)
    return out


def check_modules() -> list[Entry]:
    """Check every public function and class *defined* in a module of :mod:`analysis`.

    Wider than :func:`check`: also the public helpers a module does not export from
    ``analysis`` (names without a leading underscore, excluding re-exports, whose
    ``__module__`` is another module). An error class (a subclass of
    :class:`BaseException`) needs only a docstring of its own, saying when it is raised.

    Returns
    -------
    list of Entry
        One per definition, named ``module.name``, sorted.

    Examples
    --------
    >>> any(e.name == "analysis.eventstudy.event_study" for e in check_modules())
    True
    """
    import importlib
    import pkgutil

    import analysis

    out = []
    for info in sorted(pkgutil.walk_packages(analysis.__path__, "analysis."), key=lambda m: m.name):
        mod = importlib.import_module(info.name)
        for name, obj in sorted(vars(mod).items()):
            if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if getattr(obj, "__module__", None) != mod.__name__:
                continue
            if inspect.isclass(obj) and issubclass(obj, BaseException):
                # an error class needs only its own docstring saying when it is raised
                entry = Entry(name=f"{mod.__name__}.{name}", module=mod.__name__, kind="class")
                if not (obj.__dict__.get("__doc__") or "").strip():
                    entry.missing.append("docstring")
                out.append(entry)
                continue
            out.append(check_object(f"{mod.__name__}.{name}", obj))
    return out


def main(argv=None) -> int:
    """Print the gaps (or every entry with ``--all``); exit 1 when a section is missing."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--all", action="store_true", help="list complete names too")
    ap.add_argument("--modules", action="store_true",
                    help="every public function and class defined in analysis/, not only the exported names")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    entries = check_modules() if args.modules else check()
    by_module: dict[str, list[Entry]] = {}
    for e in entries:
        by_module.setdefault(e.module, []).append(e)
    for module in sorted(by_module):
        rows = [e for e in by_module[module] if args.all or not e.complete]
        if not rows:
            continue
        print(module)
        for e in rows:
            state = "ok" if e.complete else "missing " + ", ".join(e.missing)
            print(f"  {e.name:<26} {e.kind:<8} {state}")
    n_ok = sum(e.complete for e in entries)
    what = "public definitions in analysis/" if args.modules else "exported names"
    print(f"{n_ok} of {len(entries)} {what} have every required section")
    return 0 if n_ok == len(entries) else 1


if __name__ == "__main__":
    sys.exit(main())
