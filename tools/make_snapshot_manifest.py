"""Regenerate data/snapshot.json: the snapshot's vintage, coverage and per-file SHA-256.

Run after copying new curated files into data/ (see data/README.md). The checksums let
`tests/test_data.py` prove the bundled market data was not edited by accident.

Covered: ``prices/*.csv``, ``commodity_prices.csv``, ``corporate_actions.csv``,
``events.csv``, ``known_moves.csv`` (when present) and, when the peers panel is bundled,
``peers/prices/*.csv`` and ``peers/*.csv``. Coverage (first/last date, rows) is listed
for every price file, the peers under ``peers/<TICKER>``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

#: when each curated file was (re)copied from ../shared/data; files not listed: COPIED_ON
COPIED_ON = "2026-11-29"
REFRESHED = {
    "prices/SPY.csv": "2026-12-01 (2026-04-17 volume placeholder 9999999 -> 70661900, from a Yahoo mirror)",
    "events.csv": "2026-12-01 (eu-belaruskali-2022 source: EU Official Journal)",
    "SOURCES.md": "2026-12-01 (SPY 2026-04-17 volume note)",
}


def _files(data_dir: Path) -> list[Path]:
    files = [*(data_dir / "prices").glob("*.csv")]
    for name in ("commodity_prices.csv", "corporate_actions.csv", "events.csv", "known_moves.csv"):
        if (data_dir / name).is_file():
            files.append(data_dir / name)
    peers = data_dir / "peers"
    if peers.is_dir():
        files += [*(peers / "prices").glob("*.csv"), *peers.glob("*.csv")]
    return sorted(files, key=lambda p: str(p.relative_to(data_dir)))


def main(data_dir: Path = ROOT / "data") -> dict:
    data_dir = Path(data_dir)
    files = {str(p.relative_to(data_dir)): hashlib.sha256(p.read_bytes()).hexdigest() for p in _files(data_dir)}
    coverage = {}
    for prefix, folder in (("", data_dir / "prices"), ("peers/", data_dir / "peers" / "prices")):
        for p in sorted(folder.glob("*.csv")):
            df = pd.read_csv(p, usecols=["date"])
            coverage[prefix + p.stem] = {"first": df["date"].iloc[0], "last": df["date"].iloc[-1], "rows": len(df)}
    last = max(c["last"] for k, c in coverage.items() if "/" not in k)
    manifest = {
        "vintage": f"curated snapshot, prices to {last}; World Bank Pink Sheet vintage 2026-05-04 (+2 later months)",
        "copied_from": "../shared/data (see data/SOURCES.md)",
        "copied_on": COPIED_ON,
        "refreshed": {k: v for k, v in REFRESHED.items() if (data_dir / k).exists()},
        "coverage": coverage,
        "sha256": files,
    }
    (data_dir / "snapshot.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


if __name__ == "__main__":
    json.dump(main(), sys.stdout, indent=1)
