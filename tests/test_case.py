"""analysis.case: a case folder loaded and validated once; every refusal names file, line, key and value.

Each test copies the real bundled case into a temporary folder and breaks one thing in it
(the edits are the only synthetic content).
"""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest

from analysis import case as case_mod
from analysis import catalog, cli, config
from analysis.case import Case, as_case
from analysis.errors import CaseError, CatalogError, IdentifierError, PotashImpactError


@pytest.fixture
def folder(tmp_path):
    dst = tmp_path / "case"
    shutil.copytree(config.data_dir(), dst)
    return dst


def _lines(path):
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _set_line(path, n, text):
    """Replace line ``n`` (1-based) of ``path``."""
    lines = _lines(path)
    lines[n - 1] = text if text.endswith("\n") else text + "\n"
    path.write_text("".join(lines), encoding="utf-8")


def _line_of(path, needle):
    return next(i for i, line in enumerate(_lines(path), start=1) if needle in line)


def _toml(folder, old, new):
    p = folder / "case.toml"
    text = p.read_text()
    assert old in text
    p.write_text(text.replace(old, new, 1))
    return _line_of(p, new.splitlines()[0]) if new else None


# --------------------------------------------------------------------------- the bundled case
def test_bundled_case_loads_with_typed_settings():
    c = Case.load()
    s = c.settings
    assert (s.name, s.treated_group, s.control_group, s.market, s.sector) == (
        "potash", "potash producer", "nitrogen control", "SPY", "XLB")
    assert s.expected_sign == {"tightening": 1, "easing": -1} and s.on_bad_data == "error"
    assert len(c.events) == 24 and list(c.universe["ticker"][:4]) == ["NTR", "MOS", "IPI", "ICL"]
    assert c.prices_dir == config.data_dir() / "prices" and c.price_dirs[0] == c.prices_dir
    assert c.commodity_path.name == "commodity_prices.csv"
    assert c.lines["events"]["eu-sectoral-agreed-2021"] == 2 and c.lines["universe"]["OBX.OL"] == 16
    assert list(c.known_moves.columns[:3]) == ["ticker", "date", "reason"]


def test_settings_mapping_holds_only_the_keys_the_file_sets(folder):
    _toml(folder, 'sector = "XLB"', "")
    s = Case.load(folder).settings
    assert s.sector is None and "sector" not in s and s.get("sector", "fallback") == "fallback"
    assert catalog.load_case(folder).get("market", "X") == "SPY"
    _toml(folder, 'on_bad_data = "error"', "")
    s = Case.load(folder).settings
    assert s.on_bad_data == "error" and "on_bad_data" not in s  # a default, not set by the file


def test_group_rule_filters_calendar_and_snapshot():
    c = Case.load()
    assert c.group("potash producer") == ["NTR", "MOS", "IPI", "ICL", "NTR.TO", "SDF.DE"]
    assert c.group("potash producer", "XNYS") == ["NTR", "MOS", "IPI", "ICL"]
    assert c.group("potash producer", "XTSE") == ["NTR.TO"]
    assert c.group("nitrogen control", "XNYS", offline_only=True) == ["CF", "LXU"]
    assert c.group("nitrogen control", "XOSL", offline_only=True) == []
    with pytest.raises(CatalogError, match="unknown group 'potash'"):
        c.group("potash")


def test_event_lookup_by_id_and_date():
    c = Case.load()
    assert c.event("us-potash-easing-2025")["timestamp"] == "2025-12-13 11:49"
    assert c.event("2025-12-13")["event_id"] == "adhoc-20251213"
    with pytest.raises(CatalogError, match="did you mean us-potash-easing-2025"):
        c.event("us-potash-easing-2052")


def test_peer_price_folder_counts_as_offline(folder):
    peers = folder / "peers" / "prices"
    peers.mkdir(parents=True, exist_ok=True)
    shutil.copy(folder / "prices" / "CF.csv", peers / "CTVA.csv")
    c = Case.load(folder)
    assert c.price_dirs == (folder.resolve() / "prices", peers.resolve())
    assert bool(c.universe.set_index("ticker").loc["CTVA", "offline"]) is True
    assert c.price_path("CTVA") == peers.resolve() / "CTVA.csv"
    assert c.price_path("NTR") == folder.resolve() / "prices" / "NTR.csv"
    assert c.price_path("YAR.OL") == folder.resolve() / "prices" / "YAR.OL.csv"  # live-only: not a file


def test_price_path_refuses_an_escaping_ticker():
    c = Case.load()
    assert c.price_path("NTR") == c.prices_dir / "NTR.csv"
    with pytest.raises(IdentifierError, match=r"invalid ticker '\.\./evil'"):
        c.price_path("../evil")


# --------------------------------------------------------------------------- load once
def test_second_load_reads_no_file_and_an_edit_is_seen(folder):
    before = dict(case_mod.READS)
    c1 = Case.load(folder)
    read = {k: v - before.get(k, 0) for k, v in case_mod.READS.items() if v != before.get(k, 0)}
    names = ["case.toml", "events.csv", "universe.csv"] + (["known_moves.csv"] if (folder / "known_moves.csv").exists() else [])
    assert read == {str(folder / n): 1 for n in names}
    snap = dict(case_mod.READS)
    assert Case.load(folder) is c1 and Case.load(str(folder) + "/") is c1 and as_case(c1) is c1
    for f in (catalog.load_events, catalog.load_universe, catalog.load_case):
        f(folder)
    catalog.get_event("ofac-gl13-2025", data_dir=folder)
    catalog.group_tickers("potash producer", data_dir=folder)
    assert dict(case_mod.READS) == snap  # five more lookups, no file read
    _toml(folder, 'title = "', 'title = "Edited: ')
    c2 = Case.load(folder)
    assert c2 is not c1 and c2.settings.title.startswith("Edited: ")


def test_catalog_functions_take_a_case_or_a_folder(folder):
    c = Case.load(folder)
    pd.testing.assert_frame_equal(catalog.load_events(case=c), catalog.load_events(folder))
    pd.testing.assert_frame_equal(catalog.load_universe(case=c), catalog.load_universe(data_dir=folder))
    assert catalog.load_case(case=c) == catalog.load_case(folder)
    assert catalog.get_event("ofac-gl13-2025", case=c)["kind"] == "easing"
    assert catalog.group_tickers("potash producer", case=c, exchange="XNYS", offline_only=True) == [
        "NTR", "MOS", "IPI", "ICL"]
    assert catalog.group_tickers("potash producer", c, exchange="XETR") == ["SDF.DE"]
    assert catalog.check_tickers(["NTR"], case=c, offline=True) == ["NTR"]
    # copies: a caller editing its frame does not change the case
    for ev in (catalog.load_events(case=c), c.events):
        ev.loc[0, "title"] = "changed"
        ev["extra"] = 1
    assert c.events.loc[0, "title"] != "changed" and "extra" not in c.events
    uni = c.universe
    uni.loc[uni["ticker"] == "NTR", "group"] = "other"
    assert c.group("potash producer")[0] == "NTR" and Case.load(folder).universe.loc[0, "group"] == "potash producer"


def test_resolution_argument_then_environment_then_bundled(folder, monkeypatch):
    _toml(folder, 'name = "potash"', 'name = "copy"')
    assert Case.load().settings.name == "potash"
    monkeypatch.setenv("POTASH_IMPACT_DATA", str(folder))
    assert Case.load().settings.name == "copy" and as_case(None).root == folder.resolve()
    assert Case.load(config.REPO_DIR / "data").settings.name == "potash"


def test_missing_folder_and_missing_files(tmp_path, folder):
    with pytest.raises(CaseError, match=r"case folder .*nowhere does not exist"):
        Case.load(tmp_path / "nowhere")
    (folder / "universe.csv").unlink()
    with pytest.raises(CaseError, match=r"no universe at .*case/universe\.csv"):
        Case.load(folder)


# --------------------------------------------------------------------------- ids at load (issue 9)
def test_script_in_an_event_id_is_refused_with_file_and_line(folder):
    path = folder / "events.csv"
    n = _line_of(path, "ofac-gl13-2025")
    _set_line(path, n, _lines(path)[n - 1].replace("ofac-gl13-2025", "<img src=x onerror=alert('XSS-ID')>"))
    with pytest.raises(IdentifierError) as ei:
        Case.load(folder)
    assert str(ei.value) == (
        f"{path}:{n}: invalid event id \"<img src=x onerror=alert('XSS-ID')>\": use 1-64 lower-case letters, "
        "digits, '.', '_' or '-', starting with a letter or digit"
    )


def test_path_escaping_event_id_is_refused(folder):
    path = folder / "events.csv"
    n = _line_of(path, "ofac-gl13-2025")
    _set_line(path, n, _lines(path)[n - 1].replace("ofac-gl13-2025", "a/../../../../ESCAPED"))
    with pytest.raises(IdentifierError, match=rf"events\.csv:{n}: invalid event id 'a/\.\./\.\./\.\./\.\./ESCAPED'"):
        Case.load(folder)


def test_universe_ticker_escaping_the_case_is_refused_and_never_read(folder, monkeypatch):
    path = folder / "universe.csv"
    (folder / "evil.csv").write_text("date,close,volume,dividend,split,source\n")
    _set_line(path, 8, "../evil,Evil Corp,NYSE,XNYS,USD,ag-chem,SPY")
    opened = []
    real_is_file = type(folder).is_file
    monkeypatch.setattr(type(folder), "is_file", lambda self: opened.append(str(self)) or real_is_file(self))
    with pytest.raises(IdentifierError, match=rf"universe\.csv:8 column ticker: invalid ticker '\.\./evil'"):
        Case.load(folder)
    assert not any("evil" in p for p in opened)


def test_script_in_a_ticker_and_a_benchmark_is_refused(folder):
    path = folder / "universe.csv"
    _set_line(path, 3, "<img src=x onerror=alert(1)>,Mosaic,NYSE,XNYS,USD,potash producer,SPY")
    with pytest.raises(IdentifierError, match=r"universe\.csv:3 column ticker: invalid ticker '<img src=x onerror"):
        Case.load(folder)
    _set_line(path, 3, "MOS,Mosaic,NYSE,XNYS,USD,potash producer,../SPY")
    with pytest.raises(IdentifierError, match=r"universe\.csv:3 column benchmark: invalid ticker '\.\./SPY'"):
        Case.load(folder)


def test_bad_group_name_is_refused(folder):
    _set_line(folder / "universe.csv", 4, "IPI,Intrepid,NYSE,XNYS,USD,potash/producer,SPY")
    with pytest.raises(IdentifierError, match=r"universe\.csv:4 column group: invalid group name 'potash/producer'"):
        Case.load(folder)


def test_duplicate_ticker_names_both_lines(folder):
    _set_line(folder / "universe.csv", 7, "NTR,Nutrien again,NYSE,XNYS,USD,ag-chem,SPY")
    with pytest.raises(CaseError, match=r"universe\.csv:7: duplicate ticker 'NTR' \(first on .*universe\.csv:2\)"):
        Case.load(folder)


def test_unknown_calendar_names_line_and_value(folder):
    _set_line(folder / "universe.csv", 10, "SDF.DE,K+S AG,XETRA,XFRA_TYPO,EUR,potash producer,^GDAXI")
    with pytest.raises(CaseError, match=r"universe\.csv:10: ticker 'SDF\.DE': unknown exchange calendar 'XFRA_TYPO'"):
        Case.load(folder)


# --------------------------------------------------------------------------- CSV syntax (issue 9)
def test_unquoted_comma_in_events_names_line(folder):
    path = folder / "events.csv"
    n = _line_of(path, "ofac-gl13-2025")
    _set_line(path, n, _lines(path)[n - 1].replace("OFAC issues", "OFAC, issues"))
    with pytest.raises(CaseError, match=rf"events\.csv:{n}: 9 field\(s\), the header has 8: quote fields"):
        Case.load(folder)


def test_truncated_universe_names_last_line(folder):
    path = folder / "universe.csv"
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b",Oslo")])  # cut inside the last row
    with pytest.raises(CaseError, match=r"universe\.csv:16: 2 field\(s\), the header has 7"):
        Case.load(folder)


def test_non_utf8_events_names_line_and_byte(folder):
    path = folder / "events.csv"
    lines = path.read_bytes().split(b"\n")
    lines[4] = lines[4].replace(b"OFAC", b"OF\xe9C", 1) if b"OFAC" in lines[4] else lines[4] + b"\xe9"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(CaseError, match=r"events\.csv:5: not UTF-8 text \(byte 0xe9 at offset \d+\)"):
        Case.load(folder)


def test_empty_events_file(folder):
    (folder / "events.csv").write_text("")
    with pytest.raises(CaseError, match=r"events\.csv: empty file: it needs a header line \(event_id, date"):
        Case.load(folder)


def test_missing_column_names_the_header(folder):
    path = folder / "events.csv"
    _set_line(path, 1, "event_id,date,time_utc,scope,title,confidence,source_url,extra")
    with pytest.raises(CaseError, match=r"events\.csv:1: missing column\(s\) kind \(the header has event_id, date"):
        Case.load(folder)


@pytest.mark.parametrize(
    "old, new, message",
    [
        (",2021-06-21,,", ",06/21/2021,,", "has invalid date '06/21/2021': use YYYY-MM-DD"),
        (",2021-06-21,,", ",2021-02-30,,", "has invalid date '2021-02-30'"),
        (",2021-12-02,17:41,", ",2021-12-02,5:41 pm,", "has invalid time_utc '5:41 pm': use HH:MM"),
        (",tightening,EU,", ",rumour,EU,", "has kind 'rumour': use one of easing, tightening, confounder"),
        (",https://primepress", ",javascript:alert(1)//primepress", "has source_url 'javascript:alert\\(1\\)//primepress"),
    ],
)
def test_event_field_errors_name_line_and_value(folder, old, new, message):
    path = folder / "events.csv"
    n = _line_of(path, old)
    _set_line(path, n, _lines(path)[n - 1].replace(old, new, 1))
    with pytest.raises(CaseError, match=rf"events\.csv:{n}: event '[a-z0-9.-]+' {message}"):
        Case.load(folder)


def test_duplicate_event_id_names_both_lines(folder):
    path = folder / "events.csv"
    lines = _lines(path)
    path.write_text("".join(lines + [lines[3]]))
    dup_id = lines[3].split(",")[0]
    with pytest.raises(CaseError, match=rf"events\.csv:{len(lines) + 1}: duplicate event_id '{dup_id}' \(first on .*events\.csv:4\)"):
        Case.load(folder)


# --------------------------------------------------------------------------- case.toml (issue 9)
def test_toml_syntax_error_names_file_line_and_column(folder):
    n = _toml(folder, 'market = "SPY"', "market = SPY")
    with pytest.raises(CaseError) as ei:
        Case.load(folder)
    assert str(ei.value).startswith(f"{folder / 'case.toml'}:{n}:10: invalid TOML: Invalid value")
    assert "\n" not in str(ei.value)


def test_expected_sign_as_a_word_is_a_one_line_error_naming_the_key(folder):
    n = _toml(folder, "expected_sign = { tightening = 1, easing = -1 }", 'expected_sign = "down"')
    with pytest.raises(CaseError) as ei:
        Case.load(folder)
    assert str(ei.value) == (
        f"{folder / 'case.toml'}:{n} key expected_sign: invalid value 'down': "
        "use a table such as { tightening = 1, easing = -1 }"
    )


@pytest.mark.parametrize(
    "value, message",
    [
        ('{ tightening = 1, easing = "down" }', r"key expected_sign\.easing: invalid value 'down': use 1 .* or -1"),
        ("{ tightening = 1, easing = 2 }", r"key expected_sign\.easing: invalid value 2"),
        ("{ tightening = true }", r"key expected_sign\.tightening: invalid value True"),
        ("{ tightning = 1 }", r"key expected_sign\.tightning: unknown event kind 'tightning'"),
    ],
)
def test_expected_sign_values(folder, value, message):
    n = _toml(folder, "expected_sign = { tightening = 1, easing = -1 }", f"expected_sign = {value}")
    with pytest.raises(CaseError, match=rf"case\.toml:{n} {message}"):
        Case.load(folder)


def test_expected_sign_in_its_own_table_names_the_inner_line(folder):
    _toml(folder, "expected_sign = { tightening = 1, easing = -1 }", "")
    p = folder / "case.toml"
    p.write_text(p.read_text() + "\n[case.expected_sign]\ntightening = 1\neasing = \"down\"\n")
    n = _line_of(p, 'easing = "down"')
    with pytest.raises(CaseError, match=rf"case\.toml:{n} key expected_sign\.easing: invalid value 'down'"):
        Case.load(folder)


def test_wrong_types_and_unknown_keys(folder):
    n = _toml(folder, 'market = "SPY"', "market = 5")
    with pytest.raises(CaseError, match=rf"case\.toml:{n} key market: invalid value 5: expected a string \(in quotes\), got int"):
        Case.load(folder)
    _toml(folder, "market = 5", 'market = "SPY"\ntreated_grop = "potash producer"')
    n = _line_of(folder / "case.toml", "treated_grop")
    with pytest.raises(CaseError, match=rf"case\.toml:{n} key treated_grop: unknown key 'treated_grop': known keys are name"):
        Case.load(folder)


def test_unknown_top_level_table(folder):
    p = folder / "case.toml"
    p.write_text(p.read_text() + "\n[cases]\nx = 1\n")
    with pytest.raises(CaseError, match=rf"case\.toml:{_line_of(p, '[cases]')}: unknown table or key 'cases'"):
        Case.load(folder)


def test_on_bad_data_setting(folder):
    assert Case.load(folder).settings.on_bad_data == "error"
    p = folder / "case.toml"
    p.write_text(p.read_text().replace('on_bad_data = "error"', 'on_bad_data = "exclude"'))
    assert Case.load(folder).settings.on_bad_data == "exclude"
    p.write_text(p.read_text().replace('on_bad_data = "exclude"', 'on_bad_data = "ignore"'))
    with pytest.raises(CaseError, match=rf"case\.toml:{_line_of(p, 'on_bad_data')} key on_bad_data: invalid value 'ignore': use one of 'error', 'exclude'"):
        Case.load(folder)


@pytest.mark.parametrize(
    "old, new, message",
    [
        ('treated_group = "potash producer"', 'treated_group = "potash producers"',
         r"key treated_group: group 'potash producers' is not in universe\.csv \(groups: potash producer"),
        ('market = "SPY"', 'market = "VOO"', r"key market: ticker 'VOO' is not in universe\.csv"),
        ('default_event = "us-potash-easing-2025"', 'default_event = "us-potash-easing-2052"',
         r"key default_event: event 'us-potash-easing-2052' is not in events\.csv \(did you mean us-potash-easing-2025"),
        ('default_event = "us-potash-easing-2025"', 'default_event = "US/../x"', r"key default_event: invalid event id 'US/\.\./x'"),
        ('control_group = "nitrogen control"', 'control_group = "<b>x</b>"', r"key control_group: invalid group name '<b>x</b>'"),
        ('name = "potash"', 'name = "../potash"', r"key name: invalid name '\.\./potash'"),
    ],
)
def test_settings_refer_to_what_exists(folder, old, new, message):
    n = _toml(folder, old, new)
    with pytest.raises((CaseError, IdentifierError), match=rf"case\.toml:{n} {message}"):
        Case.load(folder)


def test_default_event_may_be_a_toml_date(folder):
    _toml(folder, 'default_event = "us-potash-easing-2025"', "default_event = 2025-12-13")
    c = Case.load(folder)
    assert c.settings.default_event == "2025-12-13" and c.event(c.settings.default_event)["event_id"] == "adhoc-20251213"


# --------------------------------------------------------------------------- known_moves.csv
def test_known_moves_absent_valid_and_invalid(folder):
    km = folder / "known_moves.csv"
    if km.exists():
        km.unlink()
    assert Case.load(folder).known_moves.empty
    km.write_text("ticker,date,reason,evidence\nICL,2025-11-06,Q3 results: -17%,SOURCES.md\n")
    moves = Case.load(folder).known_moves
    assert moves.to_dict("records") == [
        {"ticker": "ICL", "date": pd.Timestamp("2025-11-06"), "reason": "Q3 results: -17%", "evidence": "SOURCES.md"}]
    for row, message in [
        ("ICL,2025-11-31,x,y", r"known_moves\.csv:3: invalid date '2025-11-31'"),
        ("../ICL,2025-11-07,x,y", r"known_moves\.csv:3: invalid ticker '\.\./ICL'"),
        ("ZZZ,2025-11-07,x,y", r"known_moves\.csv:3: ticker 'ZZZ' is not in universe\.csv"),
        ("ICL,2025-11-07,,y", r"known_moves\.csv:3: known move ICL 2025-11-07 has no reason"),
        ("ICL,2025-11-06,again,y", r"known_moves\.csv:3: duplicate known move ICL 2025-11-06 \(first on line 2\)"),
    ]:
        km.write_text(f"ticker,date,reason,evidence\nICL,2025-11-06,Q3 results: -17%,SOURCES.md\n{row}\n")
        with pytest.raises(PotashImpactError, match=message):
            Case.load(folder)


# --------------------------------------------------------------------------- the CLI edge
def test_cli_exits_2_with_one_line_naming_file_and_line(folder, capsys):
    path = folder / "universe.csv"
    _set_line(path, 8, "../evil,Evil Corp,NYSE,XNYS,USD,ag-chem,SPY")
    code = cli.main(["universe", "--data-dir", str(folder)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert f"{path}:8 column ticker: invalid ticker '../evil'" in err and "Traceback" not in err


def test_errors_are_typed_for_the_cli():
    assert issubclass(CaseError, CatalogError) and issubclass(IdentifierError, PotashImpactError)
    assert os.path.basename(case_mod.__file__) == "case.py"


def test_report_refuses_a_bad_case_before_any_kernel(folder, tmp_path, capsys):
    path = folder / "events.csv"
    n = _line_of(path, "ofac-gl13-2025")
    _set_line(path, n, _lines(path)[n - 1].replace("ofac-gl13-2025", "a/../../../../ESCAPED"))
    out = tmp_path / "out"
    code = cli.main(["report", "--offline", "--data-dir", str(folder), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert f"{path}:{n}: invalid event id 'a/../../../../ESCAPED'" in err
    assert not out.exists()  # nothing written, no lock, no staging


def test_is_case_folder(folder, tmp_path):
    assert case_mod.is_case_folder(folder) and case_mod.is_case_folder(Case.load(folder))
    (tmp_path / "prices_only" / "prices").mkdir(parents=True)
    assert not case_mod.is_case_folder(tmp_path / "prices_only")


def test_toml_error_position_reads_line_and_column():
    import tomllib

    with pytest.raises(tomllib.TOMLDecodeError) as ei:
        tomllib.loads('[case]\nname = "x"\nmarket = SPY\n')
    assert case_mod.toml_error_position(ei.value) == (3, 10, "Invalid value")


def test_planning_a_report_reads_each_case_file_once(folder, monkeypatch):
    import builtins
    import io
    from collections import Counter

    from analysis import runner

    (folder / "known_moves.csv").write_text("ticker,date,reason\nICL,2025-11-06,Q3 results (SOURCES.md)\n")
    opened: Counter = Counter()
    real_open = builtins.open

    def counting_open(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and str(file).startswith(str(folder.resolve())):
            opened[os.path.relpath(file, folder.resolve())] += 1
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting_open)
    monkeypatch.setattr(io, "open", counting_open)
    runner.plan_run({"event": "us-potash-easing-2025", "data_dir": str(folder), "offline": True})
    case_files = {k: v for k, v in opened.items() if not k.startswith(("prices", "peers"))}
    assert case_files == {"case.toml": 1, "events.csv": 1, "universe.csv": 1, "known_moves.csv": 1}
    assert all(v == 1 for v in opened.values()), opened


def test_config_data_dir_accepts_a_case(folder):
    c = Case.load(folder)
    assert config.data_dir(c) == c.root == folder.resolve()
    assert catalog.load_events(c)["event_id"].tolist() == c.events["event_id"].tolist()  # positional Case
