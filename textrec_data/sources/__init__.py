"""Dataset formats the manifest stage reads, by format name (see docs/DESIGN.md).

Each format is a module here implementing :class:`Source`; add it to :data:`SOURCES`.
"""

from __future__ import annotations

from collections.abc import Callable

from textrec_data.sources.base import Plan, Source
from textrec_data.sources.icdar15 import Icdar15Source

__all__ = ["DEFAULT_FORMAT", "SOURCES", "Plan", "Source"]

#: Source factories by format name, each taking the ``--images`` and ``--gt`` paths.
SOURCES: dict[str, Callable[[str, str], Source]] = {Icdar15Source.name: Icdar15Source}
DEFAULT_FORMAT = Icdar15Source.name
