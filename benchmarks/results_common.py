"""What the results-table generators share: reading a result file, formatting figures."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def load(name: str) -> dict:
    """One result file."""
    return json.loads((RESULTS / f"{name}.json").read_text(encoding="utf-8"))


def pct(x: float | None) -> str:
    """A fraction as a percentage with one decimal ("–" for none)."""
    return "–" if x is None else f"{100 * x:.1f}%"


def num(x: float, digits: int = 1) -> str:
    """A number with thousands separators."""
    return f"{x:,.{digits}f}"


def machine_line(result: dict) -> str:
    """Where a result was measured, from its own fields."""
    m = result.get("machine", result)
    return f"Measured with Python {m['python']}, torch {m['torch']}, {m['cpus']} CPU cores."


def med(values: list[float]) -> float:
    """The median of a result's rounds."""
    return statistics.median(values)
