"""analysis.commodity_data and analysis.pink_sheet: the bundled loader, bad input named by file and line,
the Pink Sheet parser, the cache and its refresh.

The parser runs on a small workbook in the published layout (``_pink_sheet.py``). No
test touches the network: the download function is stubbed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _pink_sheet import pink_sheet_bytes

from analysis import commodity_data as cd
from analysis import pink_sheet as ps
from analysis.errors import DataError, NetworkError

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"
UREA_CASE = HERE / "fixtures" / "urea_case"


@pytest.fixture
def case_copy(tmp_path):
    """A copy of the bundled case whose commodity file a test may break."""
    dst = tmp_path / "case"
    shutil.copytree(DATA, dst, ignore=shutil.ignore_patterns("peers"))
    return dst


# --------------------------------------------------------------------------- loader
def test_bundled_loader_shape_values_and_vintage():
    df = cd.load_commodity_prices()
    assert isinstance(df.index, pd.PeriodIndex) and df.index.freqstr == "M" and df.index.name == "month"
    assert list(df.columns) == list(cd.SERIES)
    assert all(dt == np.float64 for dt in df.dtypes)
    assert str(df.index[0]) == "2020-01" and str(df.index[-1]) == "2026-06" and len(df) == 78
    assert df.loc["2025-11", "potash"] == 353.75
    assert df.loc["2025-12", "potash"] == 358.33
    assert df.loc["2026-01", "potash"] == 366.0
    assert df.loc["2026-02", "potash"] == 372.5
    assert df.attrs["source"] == "bundled"
    assert "2026-05-04" in df.attrs["vintage"] and "rounded copy" in df.attrs["vintage"]
    # the published-figure check of SOURCES.md: potash 2025 annual average 347.5
    assert df.loc["2025-01":"2025-12", "potash"].mean() == pytest.approx(347.5, abs=0.05)


def test_loader_equals_an_independent_read_of_the_csv():
    df = cd.load_commodity_prices(source="bundled")
    raw = pd.read_csv(DATA / "commodity_prices.csv")
    np.testing.assert_array_equal(df.to_numpy(), raw[list(cd.SERIES)].to_numpy(dtype=float))
    assert [str(m) for m in df.index] == raw["month"].tolist()


def test_potash_prices_tidy_and_sliced():
    df = cd.potash_prices("2025-11", "2026-02")
    assert list(df.columns) == ["potash", "urea", "dap", "tsp", "phosphate_rock"]
    assert [str(p) for p in df.index] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert df["potash"].tolist() == [353.75, 358.33, 366.0, 372.5]
    with pytest.raises(DataError, match="start 2026-03 is after end 2026-01"):
        cd.potash_prices("2026-03", "2026-01")
    with pytest.raises(DataError, match="malformed start month 'soon'"):
        cd.potash_prices("soon")
    with pytest.raises(DataError, match="no commodity prices between 2030-01"):
        cd.potash_prices("2030-01")
    with pytest.raises(DataError, match="unknown commodity source 'web'"):
        cd.load_commodity_prices(source="web")


def test_commodity_prices_generic_columns():
    df = cd.commodity_prices("2026-03", "2026-04", columns=["urea", "potash"])
    assert list(df.columns) == ["urea", "potash"]
    assert df["urea"].tolist() == [pytest.approx(x) for x in pd.read_csv(DATA / "commodity_prices.csv").set_index("month").loc[["2026-03", "2026-04"], "urea"]]


def test_primary_series_comes_from_case_toml(case_copy):
    assert cd.primary_series() == "potash"
    assert cd.primary_series(UREA_CASE) == "urea"
    assert cd.resolve_series(None, UREA_CASE) == "urea" and cd.resolve_series("dap", UREA_CASE) == "dap"
    # a case whose primary column is absent from its file is refused, naming the file and the column
    toml = case_copy / "case.toml"
    toml.write_text(toml.read_text().replace('commodity = "potash"', 'commodity = "sulphur"'))
    with pytest.raises(DataError, match=r"commodity_prices\.csv: no 'sulphur' column"):
        cd.load_commodity_prices(case_copy)


def test_missing_bundled_file_names_the_fix(case_copy):
    (case_copy / "commodity_prices.csv").unlink()
    with pytest.raises(DataError, match=r"no commodity file at .*commodity_prices\.csv"):
        cd.load_commodity_prices(case_copy)


# --------------------------------------------------------------------------- bad input (issue 9)
def _break(case_copy, edit) -> Path:
    path = case_copy / "commodity_prices.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(edit(lines))
    return path


def test_empty_file_is_one_line_naming_the_file(case_copy):
    path = _break(case_copy, lambda lines: "")
    with pytest.raises(DataError) as exc:
        cd.load_commodity_prices(case_copy)
    msg = str(exc.value)
    assert msg.startswith(f"{path}: the file is empty") and "\n" not in msg


def test_decimal_comma_names_file_and_line(case_copy):
    # line 73 is 2025-12 (header = line 1, 2020-01 = line 2); its potash close written 358,33
    path = _break(case_copy, lambda lines: "".join(lines[:72] + [lines[72].replace("358.33", "358,33")] + lines[73:]))
    with pytest.raises(DataError) as exc:
        cd.load_commodity_prices(case_copy)
    msg = str(exc.value)
    assert msg.startswith(f"{path}:73: 8 fields where the header has 7") and "12,5" in msg and "\n" not in msg


def test_quoted_decimal_comma_names_file_line_and_column(case_copy):
    path = _break(case_copy, lambda lines: "".join(lines[:72] + [lines[72].replace("358.33", '"358,33"')] + lines[73:]))
    with pytest.raises(DataError) as exc:
        cd.load_commodity_prices(case_copy)
    assert str(exc.value).startswith(f"{path}:73: potash = '358,33' is not a number")


def test_bad_month_and_blank_lines_keep_true_line_numbers(case_copy):
    # a blank line after the header shifts every row by one: line numbers still count it
    path = _break(case_copy, lambda lines: "".join(lines[:1] + ["\n"] + lines[1:4] + [lines[4].replace("2020-04", "2020-4")] + lines[5:]))
    with pytest.raises(DataError) as exc:
        cd.load_commodity_prices(case_copy)
    assert str(exc.value) == f"{path}:6: month '2020-4' is not a YYYY-MM month (e.g. 2025-12)"


def test_header_only_and_non_utf8(case_copy):
    path = _break(case_copy, lambda lines: lines[0])
    with pytest.raises(DataError, match=rf"^{path}: a header but no monthly rows"):
        cd.load_commodity_prices(case_copy)
    path.write_bytes(b"month,potash,vintage\n2025-12,358.33,\xe9t\xe9\n")
    with pytest.raises(DataError, match=rf"^{path}:2: not UTF-8 text \(byte 0xe9 at offset 36\)"):
        cd.load_commodity_prices(case_copy)


def test_validate_names_month_and_value():
    f = pd.DataFrame({"potash": [350.0, -1.0]}, index=pd.period_range("2025-11", periods=2, freq="M"))
    with pytest.raises(DataError, match="non-positive price -1.0 for potash in 2025-12"):
        cd.validate_commodities(f)
    f = pd.DataFrame({"potash": [350.0, 351.0]}, index=pd.PeriodIndex(["2025-11", "2025-11"], freq="M"))
    with pytest.raises(DataError, match="duplicate month 2025-11"):
        cd.validate_commodities(f, where="x.csv")


# --------------------------------------------------------------------------- parser
def test_parse_pink_sheet_fixture():
    df = ps.parse_pink_sheet(pink_sheet_bytes())
    assert list(df.columns) == ["potash", "urea", "dap", "tsp", "phosphate_rock"]
    assert [str(p) for p in df.index] == ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02"]
    assert df["potash"].tolist() == [352.0, 353.75, 358.33, 366.0, 372.5]
    assert df["dap"].tolist() == [754.0, 708.25, 627.5, 619.2, 626.5]
    assert np.isnan(df.loc["2025-12", "urea"])  # the '…' cell
    assert df.loc["2026-01", "urea"] == 415.4  # 'Urea ' with a trailing space is matched
    assert df.attrs["vintage"] == "2026-05-04"
    assert df.index.name == "month" and df.index.freqstr == "M"


def test_parse_pink_sheet_errors():
    with pytest.raises(DataError, match="Potassium chloride"):
        ps.parse_pink_sheet(pink_sheet_bytes(potash=False))
    with pytest.raises(DataError, match=r"not a readable \.xlsx workbook \(BadZipFile"):
        ps.parse_pink_sheet(b"<html>not found</html>")
    with pytest.raises(DataError, match="no sheet 'Annual Prices'"):
        ps.parse_pink_sheet(pink_sheet_bytes(), sheet="Annual Prices")


# --------------------------------------------------------------------------- refresh
def test_refresh_writes_cache_and_auto_prefers_it(monkeypatch, _isolate):
    calls = []
    monkeypatch.setattr(ps, "_download", lambda url, timeout=60.0: calls.append(url) or pink_sheet_bytes())
    new = ps.refresh_commodities(url="https://example.invalid/CMO.xlsx", offline=False)
    assert calls == ["https://example.invalid/CMO.xlsx"]
    path = cd.commodity_cache_path()
    assert path.is_file() and str(path).startswith(str(_isolate))
    assert new["potash"].tolist() == [352.0, 353.75, 358.33, 366.0, 372.5]
    got = cd.load_commodity_prices()
    assert got.attrs["source"] == "cache" and got.attrs["vintage"] == "2026-05-04"
    pd.testing.assert_frame_equal(got, new, check_like=False, check_freq=False)
    assert cd.load_commodity_prices(source="bundled").attrs["source"] == "bundled"
    # no temporary files left behind
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


@pytest.mark.parametrize(
    "download, error",
    [
        (lambda url, timeout=60.0: (_ for _ in ()).throw(OSError("connection refused")), NetworkError),
        (lambda url, timeout=60.0: b"", NetworkError),
        (lambda url, timeout=60.0: b"PK\x03\x04 truncated", DataError),
        (lambda url, timeout=60.0: pink_sheet_bytes(potash=False), DataError),
        (lambda url, timeout=60.0: pink_sheet_bytes(months=("2025M10", "2025M11")), DataError),  # partial
    ],
    ids=["download-error", "empty", "corrupt", "no-potash", "fewer-months"],
)
def test_failed_refresh_leaves_cache_untouched(monkeypatch, download, error):
    monkeypatch.setattr(ps, "_download", lambda url, timeout=60.0: pink_sheet_bytes())
    ps.refresh_commodities(offline=False)
    path = cd.commodity_cache_path()
    before = path.read_bytes()
    monkeypatch.setattr(ps, "_download", download)
    with pytest.raises(error):
        ps.refresh_commodities(offline=False)
    assert path.read_bytes() == before
    assert cd.load_commodity_prices()["potash"].tolist() == [352.0, 353.75, 358.33, 366.0, 372.5]


def test_a_programming_error_in_the_download_is_not_dressed_as_a_network_error(monkeypatch):
    def broken(url, timeout=60.0):
        raise AttributeError("a bug, not the network")

    monkeypatch.setattr(ps, "_download", broken)
    with pytest.raises(AttributeError, match="a bug"):
        ps.refresh_commodities(offline=False)


def test_refresh_offline_never_downloads(monkeypatch):
    monkeypatch.setattr(ps, "_download", lambda *a, **k: pytest.fail("downloaded while offline"))
    with pytest.raises(NetworkError, match="offline"):
        ps.refresh_commodities(offline=True)
    assert not cd.commodity_cache_path().exists()


def test_corrupt_cache_warns_naming_the_cause_and_falls_back():
    path = cd.commodity_cache_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not parquet")
    with pytest.warns(UserWarning, match=rf"commodity cache {path} is unreadable \(ArrowInvalid: "):
        df = cd.load_commodity_prices()
    assert df.attrs["source"] == "bundled" and df.loc["2025-12", "potash"] == 358.33


def test_failed_cache_write_is_a_write_error_and_keeps_the_old_cache(monkeypatch):
    import errno
    import os

    from analysis.errors import WriteError

    monkeypatch.setattr(ps, "_download", lambda url, timeout=60.0: pink_sheet_bytes())
    ps.refresh_commodities(offline=False)
    path = cd.commodity_cache_path()
    before = path.read_bytes()

    def full_disk(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(os, "replace", full_disk)
        with pytest.raises(WriteError, match=f"cannot write {path}: No space left on device"):
            ps.refresh_commodities(offline=False)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # the temporary file is gone
