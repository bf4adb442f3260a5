"""analysis._io: the one atomic-write helper (old file or complete new one, never a mixture) and the
strict UTF-8 read of input files."""

from __future__ import annotations

import errno
import os

import pytest

from analysis import _io
from analysis.errors import CaseError, DataError, PotashImpactError, WriteError


def test_writes_bytes_and_text_and_replaces(tmp_path):
    p = tmp_path / "sub" / "a.json"
    assert _io.atomic_write_text(p, '{"n": 1}\n') == p  # parent folder created
    assert p.read_bytes() == b'{"n": 1}\n'
    _io.atomic_write_bytes(p, b"\x00\x01new")
    assert p.read_bytes() == b"\x00\x01new"
    assert oct(p.stat().st_mode & 0o777) == oct(0o644)
    assert sorted(os.listdir(p.parent)) == ["a.json"]  # no temporary file left


def test_text_encoding_is_utf8_without_newline_translation(tmp_path):
    p = _io.atomic_write_text(tmp_path / "t.txt", "Kalium \u2013 K\u2082O\r\n")
    assert p.read_bytes() == "Kalium \u2013 K\u2082O\r\n".encode("utf-8")


@pytest.mark.parametrize("payload", [b"", ""])
def test_empty_payload_refused_and_old_file_kept(tmp_path, payload):
    p = tmp_path / "keep.csv"
    p.write_text("old,content\n")
    write = _io.atomic_write_bytes if isinstance(payload, bytes) else _io.atomic_write_text
    with pytest.raises(WriteError, match=r"cannot write .*keep\.csv: refusing an empty payload") as ei:
        write(p, payload)
    assert isinstance(ei.value, PotashImpactError) and isinstance(ei.value, OSError)
    assert ei.value.filename == str(p)
    assert p.read_text() == "old,content\n"
    write(p, payload, allow_empty=True)
    assert p.read_bytes() == b""


def test_enospc_during_write_leaves_target_and_no_temp(tmp_path, monkeypatch):
    p = tmp_path / "results.json"
    p.write_text("previous good report")

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_io.os, "fsync", full_disk)
    with pytest.raises(WriteError) as ei:
        _io.atomic_write_text(p, "new report")
    assert ei.value.errno == errno.ENOSPC
    assert str(ei.value) == (
        f"cannot write {p}: No space left on device (the previous file, if any, is intact)"
    )
    assert isinstance(ei.value.__cause__, OSError)
    assert p.read_text() == "previous good report"
    assert os.listdir(tmp_path) == ["results.json"]


def test_failure_in_replace_removes_temp(tmp_path, monkeypatch):
    p = tmp_path / "x.parquet"

    def boom(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(_io.os, "replace", boom)
    with pytest.raises(WriteError, match="Permission denied"):
        _io.atomic_write_bytes(p, b"data")
    assert os.listdir(tmp_path) == []


def test_interrupt_removes_temp_and_propagates(tmp_path, monkeypatch):
    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(_io.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _io.atomic_write_bytes(tmp_path / "y", b"data")
    assert os.listdir(tmp_path) == []


def test_a_file_where_the_folder_should_be_is_a_write_error(tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("i am a file")
    with pytest.raises(WriteError, match=r"cannot write .*out/r\.json: .*(Not a directory|File exists)"):
        _io.atomic_write_text(blocker / "r.json", "{}")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_is_a_write_error(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(WriteError, match=r"cannot write .*ro/f: Permission denied"):
            _io.atomic_write_text(ro / "f", "x")
    finally:
        ro.chmod(0o755)


def test_type_errors(tmp_path):
    with pytest.raises(TypeError, match="needs bytes, got str"):
        _io.atomic_write_bytes(tmp_path / "a", "text")
    with pytest.raises(TypeError, match="needs str, got bytes"):
        _io.atomic_write_text(tmp_path / "a", b"bytes")


def test_decode_utf8_drops_a_bom_and_names_line_and_byte():
    assert _io.decode_utf8("\ufeffa,b\n1,2\n".encode("utf-8"), "x.csv") == "a,b\n1,2\n"
    assert _io.decode_utf8("K\u2082O\n".encode("utf-8"), "x.csv") == "K\u2082O\n"
    raw = b"a,b\n1,2\ncaf\xe9,3\n"  # 0xe9 (latin-1) is byte 11, on line 3
    with pytest.raises(DataError) as exc:
        _io.decode_utf8(raw, "data/x.csv")
    assert str(exc.value) == "data/x.csv:3: not UTF-8 text (byte 0xe9 at offset 11): save the file as UTF-8"
    with pytest.raises(CaseError, match=r"^case\.toml:1: not UTF-8 text \(byte 0xff at offset 0\)"):
        _io.decode_utf8(b"\xff", "case.toml", CaseError)


def test_a_price_file_that_is_not_utf8_is_refused_with_file_and_line(tmp_path):
    from analysis import quality

    path = tmp_path / "NTR.csv"
    path.write_bytes(b"date,close\n2025-12-15,61.85\n2025-12-16,62\xa0\n")
    with pytest.raises(DataError, match=rf"^{path}:3: not UTF-8 text \(byte 0xa0 at offset 41\)"):
        quality.read_price_csv(path)
