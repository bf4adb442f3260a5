"""The README is executable and its numbers are the library's (issue 8, finding 10).

* Every ```python block of README.md runs verbatim, in process, with no network (the
  conftest guard fails any connection or yfinance call) and no environment variable
  (``POTASH_IMPACT_OFFLINE`` is unset for every test).
* Every number the README quotes about the December 2025 case is recomputed here with the
  library -- never compared with a hard-coded copy -- at the README's own rounding, and
  every decimal number of that section must be one of the checked quotes. When a
  convention changes a number (``scar="exact"``), the README is updated and this test
  follows the library.
"""

from __future__ import annotations

import re

import pytest

import analysis
from analysis import config

README = config.REPO_DIR / "README.md"
TEXT = README.read_text()
BLOCKS = re.findall(r"^```python\n(.*?)^```", TEXT, flags=re.S | re.M)
NUM = r"(-?\d+(?:\.\d+)?)"


def section(title: str) -> str:
    m = re.search(rf"^## {re.escape(title)}.*?$(.*?)(?=^## |\Z)", TEXT, flags=re.S | re.M)
    assert m, f"README has no section {title!r}"
    return m.group(1)


SECTION = section("What the bundled data says (December 2025)")


def test_readme_has_python_blocks():
    assert len(BLOCKS) >= 1 and "import analysis" in BLOCKS[0]


@pytest.mark.parametrize("i", range(len(BLOCKS)))
def test_readme_python_block_runs_verbatim_offline_without_env(i, monkeypatch, capsys):
    assert "POTASH_IMPACT_OFFLINE" not in __import__("os").environ  # conftest unsets it: no env var help
    monkeypatch.setenv("MPLBACKEND", "Agg")
    exec(compile(BLOCKS[i], f"README.md python block {i + 1}", "exec"), {"__name__": "__readme__"})
    out = capsys.readouterr().out
    if "print(res.summary())" in BLOCKS[i]:
        assert "Event study: day 0 = 2025-12-15" in out


@pytest.fixture(scope="module")
def case():
    r = analysis.load_returns(["NTR", "MOS", "IPI", "ICL", "CF", "LXU", "SPY"], offline=True)
    day0 = analysis.align_event("2025-12-13 11:49")
    producers = analysis.event_study(r[["NTR", "MOS", "IPI", "ICL"]], r["SPY"], day0)
    both = analysis.event_study(r[["NTR", "MOS", "IPI", "ICL", "CF", "LXU"]], r["SPY"], day0)
    diff = analysis.compare_groups(both, ["NTR", "MOS", "IPI", "ICL"], ["CF", "LXU"]).to_frame().set_index("window")
    return {"day0": day0, "producers": producers, "diff": diff}


class Quotes:
    """Match README phrases, compare each quoted number with the library at its printed rounding."""

    def __init__(self, text):
        self.text, self.spans, self.checked = text, [], []

    def find(self, pattern):
        m = re.search(pattern, self.text, flags=re.S)
        assert m, f"README no longer says {pattern!r}: update tests/test_readme.py with the new wording"
        self.spans.append(m.span())
        return m

    def same(self, quoted: str, value: float, scale: float = 1.0, what: str = ""):
        decimals = len(quoted.split(".")[1]) if "." in quoted else 0
        assert abs(float(quoted) - value * scale) <= 0.5 * 10 ** -decimals + 1e-9, (
            f"README quotes {what} = {quoted}, the library gives {value * scale:.6g}")
        self.checked.append(what)


def test_every_december_2025_number_in_the_readme_is_the_librarys(case):
    q = Quotes(SECTION)
    res, diff = case["producers"], case["diff"]
    tests = res.tests.set_index(["window", "test"])
    assert case["day0"] == analysis.align_event("2025-12-13 11:49")
    q.find(r"Sat 2025-12-13\s+aligned to Mon 2025-12-15")
    assert str(case["day0"].date()) == "2025-12-15"

    m = q.find(rf"CAR NTR {NUM}%, MOS {NUM}%, IPI {NUM}%, ICL {NUM}%")
    for quoted, firm in zip(m.groups(), ["NTR", "MOS", "IPI", "ICL"]):
        q.same(quoted, res.car.loc["(0,0)", firm], 100, f"day-0 CAR {firm}")
    m = q.find(rf"producer\s+CAAR \(0,1\) = {NUM}%")
    q.same(m.group(1), res.caar["(0,1)"], 100, "producer CAAR (0,1)")
    m = q.find(rf"Patell Z rejects at 5% \(p = {NUM}\)")
    q.same(m.group(1), tests.loc[("(0,1)", "patell_z"), "p_value"], what="Patell p (0,1)")
    assert tests.loc[("(0,1)", "patell_z"), "p_value"] < 0.05
    m = q.find(rf"mean\s+residual correlation is {NUM}")
    q.same(m.group(1), res.mean_residual_correlation.loc["(0,1)"], what="mean residual correlation")
    m = q.find(rf"BMP-KP p = {NUM},\s+crude-dependence t p = {NUM}, placebo p = {NUM}\)")
    for quoted, test in zip(m.groups(), ["bmp_kp", "t_crude_dependence", "placebo"]):
        q.same(quoted, tests.loc[("(0,1)", test), "p_value"], what=f"{test} p (0,1)")
        assert tests.loc[("(0,1)", test), "p_value"] > 0.05  # "the dependence-robust tests do not"

    m = q.find(rf"\(0,1\): {NUM}%, crude-dependence t = {NUM}\s+\(p = {NUM}\), placebo p = {NUM}\.")
    row = diff.loc["(0,1)"]
    q.same(m.group(1), row["diff"], 100, "producers minus controls (0,1)")
    q.same(m.group(2), row["t_crude_dependence"], what="difference crude-dependence t")
    q.same(m.group(3), row["p_crude_dependence"], what="difference crude-dependence p")
    q.same(m.group(4), row["p_placebo"], what="difference placebo p")

    m = q.find(rf"went {NUM} \(Nov\) -> {NUM} \(Dec\)\s+-> {NUM} \(Jan\) -> {NUM} \(Feb\)")
    potash = analysis.potash_prices("2025-11", "2026-02")
    col = potash["potash"] if hasattr(potash, "columns") else potash
    for quoted, value in zip(m.groups(), col.to_numpy(dtype=float)):
        q.same(quoted, value, what="World Bank potash monthly average")
    assert len(col) == 4

    # the cross-section, volume and robustness bullets (their own notebooks' numbers)
    from analysis.crosssection_suite import cross_section_study
    from analysis.robustness import specification_curve
    from analysis.volume import load_volumes, volume_study

    cs = cross_section_study("us-potash-easing-2025", offline=True).key_numbers()
    m = q.find(rf"portfolios of 4 of the\s+(\d+) donor firms.*?over \(0,1\),\s+{NUM}, is unusual in space \(p = {NUM}\);"
               rf".*?nitrogen controls is not\s+\(p = {NUM}\)")
    assert int(m.group(1)) == cs["n_donors"] and cs["n_portfolios"] == 10_000
    q.same(m.group(2), cs["mean_scar_treated"], what="producers' mean SCAR (0,1)")
    q.same(m.group(3), cs["p_in_space"], what="in-space p, producers")
    q.same(m.group(4), cs["p_in_space_diff"], what="in-space p, producers minus controls")
    assert cs["p_in_space"] < 0.05 < cs["p_in_space_diff"]

    producers = ["NTR", "MOS", "IPI", "ICL"]
    v = load_volumes(producers + ["SPY"], offline=True)
    vol = volume_study(v[producers], v["SPY"], case["day0"])
    vt = vol.tests.set_index(["window", "test"])
    m = q.find(rf"over \(0,1\)\s+summed to {NUM} \(rank p = {NUM}, placebo p = {NUM}\);.*?"
               rf"\(chi-square p = {NUM}\)")
    q.same(m.group(1), vol.caar["(0,1)"], what="abnormal log volume (0,1)")
    q.same(m.group(2), vt.loc[("(0,1)", "corrado_rank"), "p_value"], what="volume rank p (0,1)")
    q.same(m.group(3), vt.loc[("(0,1)", "placebo"), "p_value"], what="volume placebo p (0,1)")
    q.same(m.group(4), res.volatility.loc[0, "p_value"], what="day-0 return volatility p")
    assert res.volatility.loc[0, "p_value"] > 0.05

    sc = specification_curve(offline=True)
    st = sc.stats
    null = sc.null_test(n_placebo=40).stats
    m = q.find(rf"over (\d+) specifications.*?difference is {NUM}%, and none is\s+significant.*?"
               rf"\(joint null p = {NUM} with the report's (\d+) pseudo-events\)\. Dropping (\w+)")
    assert int(m.group(1)) == st["n_specifications"] == st["n_ok"]
    q.same(m.group(2), st["median_diff"], 100, "robustness median diff")
    assert st["share_crude_significant"] == 0 and st["share_placebo_significant"] == 0
    q.same(m.group(3), null["p_median"], what="joint null p (median)")
    assert int(m.group(4)) == null["n_placebo"] == 40
    assert m.group(5) == sc.influence().iloc[0]["firm"]

    # every decimal number of the section is one of the checked quotes
    loose = [mm.group(0) for mm in re.finditer(r"-?\d+\.\d+", SECTION)
             if not any(a <= mm.start() < b for a, b in q.spans)]
    assert loose == [], f"README numbers not checked against the library: {loose}"


def test_readme_catalog_coverage_claim_is_the_librarys():
    m = re.search(r"\((\d+) of (\d+) events covered", SECTION)
    assert m, "README no longer states the catalog coverage: update tests/test_readme.py"
    study = analysis.study_catalog(offline=True)
    assert (int(m.group(1)), int(m.group(2))) == (study.n_covered, study.n_events)
