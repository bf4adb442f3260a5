"""Report runner (placeholder until the papermill runner lands)."""

from __future__ import annotations


def add_arguments(parser) -> None:
    parser.add_argument("--offline", action="store_true")
    parser.add_argument("--jobs", type=int, default=1)


def run_cli(ns) -> int:
    raise NotImplementedError("report runner not built yet")
