"""Regenerate data/snapshot.json: the snapshot's vintage, coverage and per-file SHA-256.

Run after copying new curated files into data/ (see data/README.md). The checksums let
`tests/test_data.py` prove the bundled market data was not edited by accident.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def main(data_dir: Path = ROOT / "data") -> dict:
    files = {}
    for p in sorted([*(data_dir / "prices").glob("*.csv"), data_dir / "commodity_prices.csv",
                     data_dir / "corporate_actions.csv", data_dir / "events.csv"]):
        files[str(p.relative_to(data_dir))] = hashlib.sha256(p.read_bytes()).hexdigest()
    coverage = {}
    for p in sorted((data_dir / "prices").glob("*.csv")):
        df = pd.read_csv(p)
        coverage[p.stem] = {"first": df["date"].iloc[0], "last": df["date"].iloc[-1], "rows": len(df)}
    last = max(c["last"] for c in coverage.values())
    manifest = {
        "vintage": f"curated snapshot, prices to {last}; World Bank Pink Sheet vintage 2026-05-04 (+2 later months)",
        "copied_from": "../shared/data (see data/SOURCES.md)",
        "copied_on": "2026-11-29",
        "coverage": coverage,
        "sha256": files,
    }
    (data_dir / "snapshot.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


if __name__ == "__main__":
    json.dump(main(), sys.stdout, indent=1)
