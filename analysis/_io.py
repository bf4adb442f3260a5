"""File I/O rules written once: the atomic write (a file is either the old version or the
complete new one) and the strict UTF-8 read of an input file.

Every writer in the package that replaces a file other people read (the Parquet price
and commodity caches, ``results.json``, manifests, the report index) goes through
:func:`atomic_write_bytes` or :func:`atomic_write_text`:

1. the payload is refused if empty (unless ``allow_empty=True``): an empty download or a
   failed run must never replace a good file;
2. it is written to a temporary file *in the target's folder* (``os.replace`` is atomic
   only within one filesystem), flushed and ``fsync``-ed;
3. the temporary file is renamed over the target with :func:`os.replace` (POSIX
   ``rename(2)``: readers see the old or the new file, never a mixture), and the folder is
   ``fsync``-ed on a best-effort basis so the rename survives a power cut;
4. on *any* failure (disk full, permission, interrupt) the temporary file is removed and
   the target is untouched; OS failures surface as :class:`~analysis.errors.WriteError`
   (an :class:`OSError`) naming the path.

Input files (the case's CSVs, ``case.toml``, price files) are decoded by
:func:`decode_utf8`: UTF-8 with an optional BOM, and a file that is not UTF-8 is refused
with one line naming the file, the line and the offending byte.

Stdlib only, so code reachable from ``import analysis.cli`` may use it.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from .errors import DataError, WriteError

DEFAULT_MODE = 0o644  # mkstemp creates 0600; what we publish is for reading


def atomic_write_bytes(
    path: str | os.PathLike, data: bytes, *, allow_empty: bool = False, mode: int = DEFAULT_MODE, mkdir: bool = True
) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, fsync, ``os.replace``).

    Parameters
    ----------
    path : str or path-like
        The target file. Its folder is created if missing (``mkdir=True``).
    data : bytes
        The complete new content.
    allow_empty : bool
        Write an empty payload. Default False: an empty payload is refused and the
        existing file is kept.
    mode : int
        Permission bits of the new file (default ``0o644``).
    mkdir : bool
        Create the target's folder (and parents) if missing.

    Returns
    -------
    pathlib.Path
        The target path.

    Raises
    ------
    WriteError
        The payload is empty and ``allow_empty`` is False, or the OS refused a step (disk
        full, read-only folder, a file where a folder should be). The target is untouched
        and no temporary file is left behind.
    TypeError
        ``data`` is not bytes-like.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write_bytes(d / "x.bin", b"abc").read_bytes()
    b'abc'
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"atomic_write_bytes needs bytes, got {type(data).__name__}")
    path = Path(path)
    if len(data) == 0 and not allow_empty:
        raise WriteError(
            errno.ENODATA, "refusing an empty payload (pass allow_empty=True to write an empty file)", str(path)
        )
    tmp = None
    try:
        if mkdir:
            path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise WriteError(exc.errno, exc.strerror or str(exc), str(path)) from exc
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass  # nothing more to do: the target is untouched either way
    _fsync_dir(path.parent)
    return path


def atomic_write_text(
    path: str | os.PathLike,
    text: str,
    *,
    encoding: str = "utf-8",
    allow_empty: bool = False,
    mode: int = DEFAULT_MODE,
    mkdir: bool = True,
) -> Path:
    """Write ``text`` to ``path`` atomically; :func:`atomic_write_bytes` of ``text.encode(encoding)``.

    Parameters
    ----------
    path : str or path-like
        The target file.
    text : str
        The complete new content (written as is: no newline translation).
    encoding : str
        Default UTF-8.
    allow_empty, mode, mkdir
        As in :func:`atomic_write_bytes`.

    Returns
    -------
    pathlib.Path
        The target path.

    Raises
    ------
    WriteError
        Empty text without ``allow_empty``, or an OS failure; the target is untouched.
    TypeError
        ``text`` is not a str.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write_text(d / "a.json", '{"n": 1}\\n').read_text()
    '{"n": 1}\\n'
    """
    if not isinstance(text, str):
        raise TypeError(f"atomic_write_text needs str, got {type(text).__name__}")
    return atomic_write_bytes(path, text.encode(encoding), allow_empty=allow_empty, mode=mode, mkdir=mkdir)


def decode_utf8(raw: bytes, where, error: type[Exception] = DataError) -> str:
    """``raw`` decoded as UTF-8 (a leading byte-order mark dropped), or one line naming the bad byte.

    Parameters
    ----------
    raw : bytes
        A file's content.
    where : str or path-like
        The file, as the message should name it (``path`` or ``"--schedule path"``).
    error : type of Exception
        What to raise (default :class:`~analysis.errors.DataError`; the case loader passes
        :class:`~analysis.errors.CaseError`).

    Returns
    -------
    str
        The text.

    Raises
    ------
    error
        ``"<where>:<line>: not UTF-8 text (byte 0xe9 at offset <n>): save the file as UTF-8"``
        (line counted from 1, offset from 0).

    Examples
    --------
    >>> decode_utf8("\\ufeffticker,date\\n".encode("utf-8"), "x.csv")
    'ticker,date\\n'
    >>> decode_utf8(b"ticker\\ncaf\\xe9\\n", "x.csv")
    Traceback (most recent call last):
    ...
    analysis.errors.DataError: x.csv:2: not UTF-8 text (byte 0xe9 at offset 10): save the file as UTF-8
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error(
            f"{where}:{line}: not UTF-8 text (byte {raw[exc.start]:#04x} at offset {exc.start}): save the file as UTF-8"
        ) from None


def _fsync_dir(folder: Path) -> None:
    """Best effort: make the rename durable. Some filesystems refuse to open or fsync a folder."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


__all__ = ["atomic_write_bytes", "atomic_write_text"]
