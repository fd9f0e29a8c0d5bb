"""The interface every dataset format implements for the manifest stage (``textrec_data.build``).

A source plans units of work (e.g. one scene image and its GT file) that pool workers receive
pickled, and reads a unit into records (:mod:`textrec_data.records`): one per line or record of
its files, each a word or a reject, so that the stage can account for every one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from textrec_data.records import Record


@dataclass(frozen=True)
class Plan:
    """A source's units of work, in manifest order, what it notes for report.json (e.g.
    images without GT), and how many files it reads (0: one per unit)."""

    units: list[Any]
    notes: dict[str, Any] = field(default_factory=dict)
    files: int = 0


class Source(Protocol):
    """A dataset format: ``name`` is its format name in :data:`textrec_data.sources.SOURCES`."""

    name: str

    def plan(self) -> Plan:
        """Check the inputs exist (raise InputError if not) and list the units of work; units
        must pickle, and the source too (pool workers receive both)."""
        ...

    def read(self, unit: Any) -> list[Record]:
        """The records of one unit, in order (raise InputError when its files cannot be read)."""
        ...
