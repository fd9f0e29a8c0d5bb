"""Dataset formats the manifest stage reads, by format name (see docs/DESIGN.md).

Each format is a module here implementing :class:`Source`; add it to :data:`SOURCES`.
"""

from __future__ import annotations

from collections.abc import Callable

from textrec_data.errors import InputError
from textrec_data.sources.base import Plan, Source
from textrec_data.sources.cocojson import CocoTextSource, TextOcrSource
from textrec_data.sources.detect import detect_format
from textrec_data.sources.icdar13 import Icdar13Source
from textrec_data.sources.icdar15 import Icdar15Source
from textrec_data.sources.imagefolder import ImageFolderSource
from textrec_data.sources.lmdb_dataset import LmdbSource
from textrec_data.sources.wordlists import TsvSource, WordCropsSource

__all__ = ["DEFAULT_FORMAT", "FORMATS", "SOURCES", "Plan", "Source", "open_source"]

#: Source factories by format name, each taking the ``--images`` (or None) and ``--gt`` paths.
SOURCES: dict[str, Callable[[str | None, str], Source]] = {
    source.name: source
    for source in (
        Icdar15Source,
        WordCropsSource,
        TsvSource,
        LmdbSource,
        Icdar13Source,
        CocoTextSource,
        TextOcrSource,
        ImageFolderSource,
    )
}
DEFAULT_FORMAT = Icdar15Source.name
#: The --format choices: every source, and ``auto`` (detected from --gt).
FORMATS = (*SOURCES, "auto")


def open_source(fmt: str, images: str | None, gt: str) -> Source:
    """The source of format ``fmt`` (``auto``: detected from ``gt``) on ``images`` and ``gt``."""
    if fmt == "auto":
        fmt = detect_format(gt)
    if fmt not in SOURCES:
        raise InputError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    return SOURCES[fmt](images, gt)
