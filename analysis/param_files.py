"""Reading parameters from outside: ``--params`` files, ``-p name=value`` pairs, bounded and safe.

:mod:`analysis.params` validates values; this module only turns input text into plain
Python values, refusing anything unsafe before it is parsed.

Conventions
-----------
* **Bounded.** Input files are at most :data:`MAX_INPUT_BYTES` (1 MiB), regular files,
  UTF-8 (:func:`analysis._io.decode_utf8` names the line and the byte).
* **Safe YAML.** ``yaml.safe_load`` only, and anchors and aliases are refused from the
  event stream before any node is built (:func:`safe_yaml`), so an alias bomb costs
  linear time.
* **Plain values.** YAML and TOML dates become ISO strings (:func:`_plain`), as the
  notebooks' parameters keep them.
* **One message format.** :func:`_err` ``"parameter <name>=<value>: <why>"``, used by
  :mod:`analysis.params` too.

Stdlib only at import (``yaml`` is imported when a file or pair is read).
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from ._io import decode_utf8
from .errors import ParameterError

MAX_INPUT_BYTES = 1 << 20  # parameter and schedule files: 1 MiB is far more than any real one


def _err(name: str, value, why: str) -> ParameterError:
    """The one parameter error message: ``parameter <name>=<value>: <why>``."""
    return ParameterError(f"parameter {name}={value!r}: {why}")


def _plain(value):
    """YAML and TOML turn 2025-12-13 into a date; parameters keep dates as ISO strings."""
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat(sep=" ") if isinstance(value, _dt.datetime) else value.isoformat()
    if isinstance(value, _dt.time):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def read_input_file(path, what: str) -> str:
    """The text of a small input file (``--params``, ``--schedule``), bounded and UTF-8.

    Parameters
    ----------
    path : path-like
        The file.
    what : str
        How the message names it, e.g. ``"--params"``.

    Returns
    -------
    str

    Raises
    ------
    ParameterError
        Missing, not a regular file, larger than :data:`MAX_INPUT_BYTES` (1 MiB), or not
        UTF-8 (:func:`analysis._io.decode_utf8`: the line and the byte named).

    Examples
    --------
    >>> read_input_file("/no/such/file.yaml", "--params")
    Traceback (most recent call last):
    ...
    analysis.errors.ParameterError: --params /no/such/file.yaml: no such file
    """
    p = Path(path)
    try:
        if not p.is_file():
            raise ParameterError(f"{what} {path}: no such file")
        size = p.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise ParameterError(f"{what} {path}: {size} bytes, larger than the 1 MiB limit for input files")
        with open(p, "rb") as fh:
            raw = fh.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise ParameterError(f"{what} {path}: cannot read ({exc.strerror})") from None
    if len(raw) > MAX_INPUT_BYTES:
        raise ParameterError(f"{what} {path}: larger than the 1 MiB limit for input files")
    return decode_utf8(raw, f"{what} {path}", ParameterError)


def safe_yaml(text: str, where: str):
    """``yaml.safe_load`` of ``text``, refusing anchors and aliases without expanding them.

    The event stream is scanned first (:func:`yaml.parse`), so an alias bomb ("billion
    laughs") is refused in linear time, before any node is built.

    Parameters
    ----------
    text : str
        YAML text.
    where : str
        Leads the error message (``"--params p.yaml"``, ``"-p model"``).

    Returns
    -------
    object
        The loaded value (dates as ``datetime.date``; see :func:`_plain`).

    Raises
    ------
    ParameterError
        Invalid YAML, or an anchor (``&a``) or alias (``*a``), naming the line.

    Examples
    --------
    >>> safe_yaml("model: market", "example")
    {'model': 'market'}
    """
    import yaml

    try:
        for ev in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(ev, yaml.AliasEvent) or getattr(ev, "anchor", None) is not None:
                raise ParameterError(
                    f"{where}: YAML anchors and aliases (&, *) are not accepted (line {ev.start_mark.line + 1}); "
                    f"write the values out"
                )
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ParameterError(f"{where}: invalid YAML ({str(exc).splitlines()[0]})") from None


def parse_assignments(pairs) -> dict:
    """``["name=value", ...]`` (the CLI's ``-p``) to a dict; values are read as YAML.

    Parameters
    ----------
    pairs : iterable of str
        ``-p estimation_window=[-250,-11]``, ``-p offline=true``, ``-p treated=[NTR,MOS]``.

    Returns
    -------
    dict

    Raises
    ------
    ParameterError
        A pair without ``=``, invalid YAML, or a YAML anchor/alias.

    Examples
    --------
    >>> parse_assignments(["model=market_adjusted", "event=2025-12-13"])
    {'model': 'market_adjusted', 'event': '2025-12-13'}
    """
    out = {}
    for pair in pairs or ():
        name, sep, text = str(pair).partition("=")
        name = name.strip()
        if not sep or not name:
            raise ParameterError(f"-p {pair!r}: write name=value, e.g. -p model=market_adjusted")
        if len(text) > MAX_INPUT_BYTES:
            raise _err(name, text[:20] + "...", "longer than the 1 MiB limit")
        try:
            out[name] = _plain(safe_yaml(text, f"-p {name}")) if text.strip() else None
        except ParameterError as exc:
            raise _err(name, text, str(exc).partition(": ")[2]) from None
    return out


def load_params_file(path) -> dict:
    """A YAML mapping of parameters (``--params file.yaml``).

    Parameters
    ----------
    path : path-like
        The file (at most 1 MiB, UTF-8, no anchors or aliases).

    Returns
    -------
    dict
        Parameter name -> value (dates as ISO strings).

    Raises
    ------
    ParameterError
        Missing, too large, not UTF-8, invalid YAML, anchors/aliases, or not a mapping.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "p.yaml"
    >>> _ = path.write_text("model: market_adjusted\\nevent_windows: [[0, 1]]\\n")
    >>> load_params_file(path)
    {'model': 'market_adjusted', 'event_windows': [[0, 1]]}
    """
    data = safe_yaml(read_input_file(path, "--params"), f"--params {path}")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParameterError(f"--params {path}: expected a mapping of name: value, got {type(data).__name__}")
    return _plain(data)


__all__ = ["MAX_INPUT_BYTES", "read_input_file", "safe_yaml", "parse_assignments", "load_params_file"]
