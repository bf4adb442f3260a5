"""Issue 9, safe to run unattended: no lost report on a crash, clean resource failures.

A run is killed (``os._exit(137)``, as SIGKILL) at every step of publishing through the
fault hook ``POTASH_IMPACT_FAULT=publish:<step>``; the last good report must exist,
complete, right after the kill and after the next run. Full disks, read-only folders
and a file as ``--out`` are injected by monkeypatching the OS calls (the tests run as
root, where permissions do not stop writes); each must end in one line naming the path
and the OS error, exit 1, with the previous report intact. The notebook is a tiny
synthetic stand-in that records which run wrote it (``TINY_TAG``).
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _runner_helpers import write_notebook

from analysis import cli, publish
from analysis.errors import WriteError

TAGGED = """import os
from analysis.recorder import Recorder
rec = Recorder(output_dir, "tiny")
rec["tag"] = os.environ.get("TINY_TAG", "none")
rec["key"] = {"window": "(0,1)", "caar_treated": -0.0123, "test": "placebo", "p_value": 0.25, "n": 4}
if os.environ.get("TINY_FAIL"):
    raise RuntimeError("deliberate failure")
rec.save()"""


def argv(nbdir: Path, out: Path, *extra) -> list[str]:
    return ["report", "--offline", "--quiet", "--notebook-dir", str(nbdir), "--notebooks", "tiny", "--out", str(out),
            *extra]


def top_runs(out: Path) -> list[Path]:
    return sorted(d for d in out.iterdir() if d.is_dir() and not d.name.startswith((".", "_")))


def tag_of(run: Path):
    """The tag in a published run's results.json; fails unless results.json and manifest.json are complete."""
    m = json.loads((run / "manifest.json").read_text())
    assert m["status"] == "ok"
    return json.loads((run / "results.json").read_text())["tiny"]["tag"]


def snapshot(d: Path) -> dict:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A reports folder holding one good report (tag 'old'), built once and copied per test."""
    base = tmp_path_factory.mktemp("good")
    nbdir = base / "nbs"
    write_notebook(nbdir / "tiny.ipynb", TAGGED)
    env = dict(os.environ, POTASH_IMPACT_OFFLINE="1", TINY_TAG="old")
    env.pop("POTASH_IMPACT_FAULT", None)
    res = subprocess.run([sys.executable, "-m", "analysis.cli", *argv(nbdir, base / "reports")], env=env,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    (run,) = top_runs(base / "reports")
    return {"nbdir": nbdir, "reports": base / "reports", "rid": run.name}


@pytest.fixture
def state(good, tmp_path, monkeypatch):
    out = tmp_path / "reports"
    shutil.copytree(good["reports"], out)
    monkeypatch.setenv("POTASH_IMPACT_OFFLINE", "1")
    monkeypatch.delenv("POTASH_IMPACT_FAULT", raising=False)
    monkeypatch.delenv("TINY_FAIL", raising=False)
    return {"out": out, "nbdir": good["nbdir"], "rid": good["rid"], "target": out / good["rid"]}


def killed_run(state, step: str, *, exchange: bool = True, **env_extra) -> subprocess.CompletedProcess:
    env = dict(os.environ, POTASH_IMPACT_OFFLINE="1", TINY_TAG="new", POTASH_IMPACT_FAULT=f"publish:{step}",
               **env_extra)
    if not exchange:
        env["POTASH_IMPACT_NO_EXCHANGE"] = "1"
    return subprocess.run([sys.executable, "-m", "analysis.cli", *argv(state["nbdir"], state["out"])], env=env,
                          capture_output=True, text=True)


def next_run(state, capsys, monkeypatch, tag="next", fail=False):
    monkeypatch.setenv("TINY_TAG", tag)
    if fail:
        monkeypatch.setenv("TINY_FAIL", "1")
    code = cli.main(argv(state["nbdir"], state["out"]))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def assert_clean(out: Path, rid: str) -> None:
    """No build, trash entry or journal left; the index lists the report once."""
    assert list((out / ".staging").iterdir()) == []
    assert not (out / ".trash").exists() or list((out / ".trash").iterdir()) == []
    assert not (out / ".locks" / f"{rid}.publish.json").exists()
    assert (out / "index.html").read_text().count(f'href="{rid}/"') == 1


# =========================================================================== killed while publishing
@pytest.mark.parametrize("step", publish.PUBLISH_STEPS)
def test_killed_at_any_publish_step_keeps_a_complete_report(state, step, capsys, monkeypatch):
    res = killed_run(state, step)
    assert res.returncode == 137, res.stderr
    assert tag_of(state["target"]) == ("old" if step == "after-journal" else "new")  # right after the kill
    publish.recover(state["out"])  # what the next run does first, under the lock
    assert tag_of(state["target"]) == "new"  # the killed run had finished: its publish is completed
    code, _, err = next_run(state, capsys, monkeypatch)
    assert code == 0, err
    assert top_runs(state["out"]) == [state["target"]] and tag_of(state["target"]) == "next"
    assert_clean(state["out"], state["rid"])


@pytest.mark.parametrize("step", publish.PUBLISH_STEPS)
def test_fallback_without_atomic_exchange_is_repaired_by_the_next_run(state, step, capsys, monkeypatch):
    """Where renameat2/renamex_np is unavailable the two-rename fallback can leave no target
    between its renames; the journal lets the next run complete the publish."""
    res = killed_run(state, step, exchange=False)
    assert res.returncode == 137, res.stderr
    if step != "after-first-rename":
        assert tag_of(state["target"]) in ("old", "new")
    done = publish.recover(state["out"])
    assert tag_of(state["target"]) == "new", done
    monkeypatch.setenv("POTASH_IMPACT_NO_EXCHANGE", "1")
    code, _, err = next_run(state, capsys, monkeypatch)
    assert code == 0 and tag_of(state["target"]) == "next", err
    assert_clean(state["out"], state["rid"])


def test_exchange_really_swaps_on_this_machine(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    assert publish.exchange(a, b) is True  # Linux ext4/tmpfs: renameat2(RENAME_EXCHANGE)
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


def test_old_crash_state_is_restored_and_a_failure_goes_to_failed(state, capsys, monkeypatch):
    """The issue's case: SIGKILL between the old publish's two renames left no reports/<rid>,
    the good report only in .trash/<rid>.<hash>, and the index still linking it. The next run
    of that id fails."""
    trash = state["out"] / ".trash" / f"{state['rid']}.0123abcd"
    trash.parent.mkdir()
    os.rename(state["target"], trash)
    before = snapshot(trash)
    code, out, _ = next_run(state, capsys, monkeypatch, fail=True)
    assert code == 1 and "deliberate failure" in out
    assert snapshot(state["target"]) == before  # restored, byte for byte
    (failed,) = list((state["out"] / publish.FAILED_DIR).iterdir())
    assert failed.name.startswith(state["rid"] + "_")
    assert json.loads((failed / "manifest.json").read_text())["status"] == "failed"
    assert_clean(state["out"], state["rid"])
    index = (state["out"] / "index.html").read_text()
    assert f'href="{publish.FAILED_DIR}/{failed.name}/"' in index


def test_dead_builds_and_day_old_trash_are_removed_live_ones_kept(state):
    out, rid = state["out"], state["rid"]
    live_rid = "2025-12-14_other-event_abcdef0"
    dead = out / ".staging" / f"{rid}.deadbeef"
    live = out / ".staging" / f"{live_rid}.livebuild"
    old_trash = out / ".trash" / f"{rid}.aaaaaaaa"
    young_trash = out / ".trash" / f"{rid}.bbbbbbbb"
    for d in (dead, live, old_trash, young_trash):
        d.mkdir(parents=True)
        (d / "partial.txt").write_text("x")
    day_ago = time.time() - publish.TRASH_MAX_AGE_S - 60
    os.utime(old_trash, (day_ago, day_ago))
    with publish.run_lock(out, live_rid) as got:  # another process is building live_rid
        assert got
        done = publish.recover(out)
    assert not dead.exists() and live.exists()
    assert not old_trash.exists() and young_trash.exists()  # a day's grace for a human to look
    assert tag_of(state["target"]) == "old"
    assert any("dead build" in d for d in done) and any("older than a day" in d for d in done)


# =========================================================================== resource failures
def _under(path, root: Path) -> bool:
    try:
        return os.path.commonpath([os.path.realpath(os.fsdecode(path)), str(root.resolve())]) == str(root.resolve())
    except (TypeError, ValueError):
        return False


@pytest.fixture
def readonly(monkeypatch):
    """Make a folder behave as read-only (or permission-denied): creating, writing or renaming
    anything inside it fails with ``err``, as on a read-only mount."""

    def install(root: Path, err: int = errno.EROFS):
        real_open, real_mkdir, real_rename, real_replace = os.open, os.mkdir, os.rename, os.replace

        def deny(path):
            raise OSError(err, os.strerror(err), os.fsdecode(path))

        def fake_open(path, flags, *a, **k):
            if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and _under(path, root):
                deny(path)
            return real_open(path, flags, *a, **k)

        def fake_mkdir(path, *a, **k):
            if _under(path, root) and not os.path.exists(path):
                deny(path)
            return real_mkdir(path, *a, **k)

        def fake_rename(src, dst, *a, **k):
            if _under(src, root) or _under(dst, root):
                deny(dst)
            return (real_replace if fake_rename.replace else real_rename)(src, dst, *a, **k)

        def fake_replace(src, dst, *a, **k):
            if _under(src, root) or _under(dst, root):
                deny(dst)
            return real_replace(src, dst, *a, **k)

        fake_rename.replace = False
        monkeypatch.setattr(os, "open", fake_open)
        monkeypatch.setattr(os, "mkdir", fake_mkdir)
        monkeypatch.setattr(os, "rename", fake_rename)
        monkeypatch.setattr(os, "replace", fake_replace)

    return install


def one_line_error(code, err, *needles):
    """Exit 1; one error line (besides the runner's status line naming the data vintage), no traceback."""
    assert code == 1, err
    errors = [ln for ln in err.splitlines() if not ln.startswith(("offline: data vintage", "online: data vintage"))]
    assert len(errors) == 1 and errors[0].startswith("potash-impact report: error: ") and "Traceback" not in err, err
    for n in needles:
        assert n in errors[0], (n, err)


@pytest.mark.parametrize("err, text", [(errno.EROFS, "Read-only file system"), (errno.EACCES, "Permission denied")])
def test_read_only_or_forbidden_out_is_one_line(state, readonly, err, text, capsys):
    before = snapshot(state["out"])
    readonly(state["out"], err)
    code = cli.main(argv(state["nbdir"], state["out"]))
    cap = capsys.readouterr()
    one_line_error(code, cap.err, text, str(state["out"]))
    assert snapshot(state["out"]) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores permission bits; the monkeypatched test covers it")
def test_read_only_out_by_permissions(state, capsys):
    before = snapshot(state["out"])
    os.chmod(state["out"], 0o555)
    try:
        code = cli.main(argv(state["nbdir"], state["out"]))
    finally:
        os.chmod(state["out"], 0o755)
    one_line_error(code, capsys.readouterr().err, "Permission denied")
    assert snapshot(state["out"]) == before


def test_a_file_as_out_is_one_line(tmp_path, good, capsys, monkeypatch):
    monkeypatch.setenv("POTASH_IMPACT_OFFLINE", "1")
    f = tmp_path / "reports.txt"
    f.write_text("not a folder\n")
    code = cli.main(argv(good["nbdir"], f))
    one_line_error(code, capsys.readouterr().err, str(f), "Not a directory")
    assert f.read_text() == "not a folder\n"
    sub = f / "reports"  # a path through a file
    code = cli.main(argv(good["nbdir"], sub))
    one_line_error(code, capsys.readouterr().err, "Not a directory")


# where a full disk strikes: (name, regex on the path written, which such write, whether the
# new run is published anyway: the index written after a complete report was moved in place)
ENOSPC_POINTS = [
    ("task file", r"\.work/tiny\.task\.json$", 1, False),
    ("results.json", r"\.staging/[^/]+/results\.json$", 1, False),
    ("manifest.json", r"\.staging/[^/]+/manifest\.json$", 1, False),
    ("publish journal", r"\.publish\.json$", 1, False),
    ("index before the run", r"/index\.html$", 1, False),
    ("index after publishing", r"/index\.html$", 2, True),
]


@pytest.mark.parametrize("name, pattern, nth, published", ENOSPC_POINTS, ids=[p[0] for p in ENOSPC_POINTS])
def test_disk_full_at_any_write_is_one_line_and_keeps_the_report(state, name, pattern, nth, published, capsys,
                                                                 monkeypatch):
    import analysis._io as io_

    before = snapshot(state["target"])
    real = io_.atomic_write_bytes
    seen, hits = [], []

    def full(path, data, **kw):
        if re.search(pattern, str(path)) and not hits:
            seen.append(str(path))
            if len(seen) == nth:
                hits.append(str(path))
                raise WriteError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, data, **kw)

    monkeypatch.setattr(io_, "atomic_write_bytes", full)
    code, _, err = next_run(state, capsys, monkeypatch, tag="new")
    assert hits, f"the {name} write never happened"
    one_line_error(code, err, "No space left on device", hits[0])
    if published:  # the report was complete and in place before the index write failed
        assert tag_of(state["target"]) == "new"
    else:
        assert snapshot(state["target"]) == before  # previous report intact, nothing partial published
        (failed,) = list((state["out"] / publish.FAILED_DIR).iterdir())  # recorded: the disk allowed it
        m = json.loads((failed / "manifest.json").read_text())
        assert m["status"] == "failed" and "No space left on device" in m["error"]
    assert top_runs(state["out"]) == [state["target"]]
    assert list((state["out"] / ".staging").iterdir()) == []


def test_disk_full_everywhere_records_nothing_and_keeps_the_report(state, capsys, monkeypatch):
    import analysis._io as io_

    before = snapshot(state["out"])

    def full(path, data, **kw):
        raise WriteError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(io_, "atomic_write_bytes", full)
    code, _, err = next_run(state, capsys, monkeypatch, tag="new")
    one_line_error(code, err, "No space left on device")
    after = snapshot(state["out"])
    assert {k: v for k, v in after.items() if not k.startswith(".locks/")} == {
        k: v for k, v in before.items() if not k.startswith(".locks/")}


def test_rename_failure_while_publishing_keeps_the_report(state, capsys, monkeypatch):
    real = os.rename
    target = str(state["target"])

    def refuse(src, dst, *a, **k):
        if str(dst).startswith(str(state["out"] / ".trash")) or str(dst) == target:
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(dst))
        return real(src, dst, *a, **k)

    monkeypatch.setattr(os, "rename", refuse)
    monkeypatch.setenv("POTASH_IMPACT_NO_EXCHANGE", "1")  # the two-rename path
    before = snapshot(state["target"])
    code, _, err = next_run(state, capsys, monkeypatch, tag="new")
    one_line_error(code, err, "Input/output error")
    assert snapshot(state["target"]) == before


# =========================================================================== network
def test_online_run_without_network_prints_one_warning_and_claims_no_refresh(state, capsys, monkeypatch, yf_stub):
    import pandas as pd

    def down(tickers, **kw):
        print("1 Failed download: curl: (6) Could not resolve host: query2.finance.yahoo.com")
        print("synthetic noise line", file=sys.stderr)
        return pd.DataFrame()

    yf_stub(down)
    monkeypatch.delenv("POTASH_IMPACT_OFFLINE")
    monkeypatch.setenv("TINY_TAG", "online")
    code = cli.main(["report", "--quiet", "--notebook-dir", str(state["nbdir"]), "--notebooks", "tiny", "--out",
                     str(state["out"])])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    assert "Failed download" not in cap.err + cap.out and "synthetic noise" not in cap.err + cap.out
    warnings = [ln for ln in cap.err.splitlines() if "warning" in ln.lower()]
    assert len(warnings) == 1 and "data refresh failed" in warnings[0], cap.err
    (claim,) = [ln for ln in cap.err.splitlines() if ln.startswith("online: data vintage")]
    assert "refreshed" not in claim
    m = json.loads((state["target"] / "manifest.json").read_text())
    assert m["data"]["refresh"]["status"] == "failed"
    assert any("Failed download" in ln for ln in m["data"]["refresh"]["output"])  # kept for the record


# =========================================================================== the index
def test_index_order_parameters_errors_and_n(state, capsys, monkeypatch, tmp_path):
    sched = tmp_path / "s.toml"
    sched.write_text('[[job]]\nevent = "us-potash-easing-2025"\n\n'
                     '[[job]]\nevent = "eu-extends-potash-2026"\nmodel = "market_adjusted"\n\n'
                     '[[job]]\nevent = "ofac-gl13-2025"\n')
    monkeypatch.setenv("TINY_TAG", "sched")
    code = cli.main(argv(state["nbdir"], state["out"], "--schedule", str(sched)))
    assert code == 0, capsys.readouterr().err
    monkeypatch.setenv("TINY_FAIL", "1")
    code = cli.main(argv(state["nbdir"], state["out"], "--event", "belavia-relief-2025"))
    assert code == 1
    html = (state["out"] / "index.html").read_text()
    runs = re.findall(r'<td><a href="([^"]+)/">', html)
    manifests = [json.loads((state["out"] / r / "manifest.json").read_text()) for r in runs]
    keys = [((m["event"]["timestamp"] or "")[:10], m["started"]) for m in manifests]
    # 3 scheduled (the first replaces the good report of its run id) + 1 failed
    assert keys == sorted(keys, reverse=True) and len(runs) == 4  # event date, then run start, newest first
    started = [m["started"] for m in manifests if m["status"] == "ok"]
    assert len(set(started)) == len(started) == 3  # one scheduled command: each run has its own start
    row = html[html.index("eu-extends-potash-2026"):]
    assert "<code>model=market_adjusted</code>" in row[:row.index("</tr>")]
    failed = html[html.index(f'{publish.FAILED_DIR}/'):]
    assert "RuntimeError: deliberate failure" in failed[:failed.index("</tr>")]
    assert html.count('<td class="num">4</td>') == 3  # n: the firms behind each headline (none when failed)


def test_a_read_only_cache_keeps_a_successful_download(readonly, yf_stub, tmp_path, monkeypatch):
    """A download that cannot be cached is still used (one warning naming the cache), never thrown away."""
    import warnings

    from conftest import synthetic_yf_frame

    from analysis import data

    cache = tmp_path / "ro-cache"
    (cache / "prices").mkdir(parents=True)
    readonly(cache)
    yf_stub(synthetic_yf_frame(["YAR.OL"], periods=6))  # SYNTHETIC prices
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        p = data.load_prices(["YAR.OL"], "2025-12-01", "2025-12-08", validate=False, cache_dir=cache)
    assert p.attrs["sources"] == {"YAR.OL": "yfinance"} and len(p) == 6
    msgs = [str(x.message) for x in w]
    assert any("not cached" in m and "Read-only file system" in m for m in msgs), msgs
    assert list((cache / "prices").iterdir()) == []
