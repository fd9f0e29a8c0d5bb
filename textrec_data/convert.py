"""`textrec convert`: a manifest (or one of its splits) in the formats other tools read.

:data:`FORMATS` holds, by name, each format convert writes; its writer lives beside its reader,
in the source module of the same ``--format`` name (:mod:`textrec_data.sources`):

- ``lmdb`` (:func:`~textrec_data.sources.lmdb_dataset.write_lmdb`): the layout
  deep-text-recognition-benchmark's ``create_lmdb_dataset.py`` writes and DTRB, PARSeq and MMOCR
  read: ``image-%09d`` (the crop's bytes as stored in the manifest, PNG or JPEG), ``label-%09d``
  (the label, UTF-8), numbered from 1, and ``num-samples``.
- ``wordcrops`` (:func:`~textrec_data.sources.wordlists.write_wordcrops`): ``word_<n>.png|jpg``
  files and a ``gt.txt`` list as ICDAR 2015 Task 4.3 writes it: UTF-8 BOM, CRLF,
  ``word_1.png, "label"`` with ``\\"`` for a quote, ``\\\\`` for a backslash.

Rows are written in manifest order, one row group in memory at a time; the output directory
appears whole or not at all. Reading the result back with ``textrec manifest --format NAME``
gives the same labels and the same crop bytes.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from textrec_data.atomic import atomic_dir
from textrec_data.errors import InputError
from textrec_data.manifest import SPLITS, read_manifest_info
from textrec_data.outputs import claim_output, mark_output_dir, output_lock
from textrec_data.sources.lmdb_dataset import LMDB_FILES, LmdbSource, lmdb_module, write_lmdb
from textrec_data.sources.wordlists import WORDCROP_FILES, WordCropsSource, write_wordcrops


@dataclass(frozen=True)
class OutputFormat:
    """A format convert writes: ``write(out, samples)`` puts ``(label, crop bytes)`` samples
    into folder ``out`` and returns how many (ValueError for a sample the format cannot hold);
    ``files`` matches every name it writes (a regular expression); ``check`` runs before any
    work (it raises InputError, e.g. for a missing package); ``summary`` is its ``--to`` help."""

    write: Callable[[Path, Iterable[tuple[str, bytes]]], int]
    files: str
    summary: str
    check: Callable[[], object] | None = None


#: The formats convert writes, by the ``--format`` name of their reader.
FORMATS: dict[str, OutputFormat] = {
    LmdbSource.name: OutputFormat(
        write_lmdb,
        LMDB_FILES,
        "num-samples, image-%09d, label-%09d from 1 (deep-text-recognition-benchmark, PARSeq, "
        "MMOCR)",
        lmdb_module,
    ),
    WordCropsSource.name: OutputFormat(
        write_wordcrops,
        WORDCROP_FILES,
        "word_<n>.png files + gt.txt 'word_1.png, \"label\"' (ICDAR 2015 Task 4.3)",
    ),
}


class OutputNames(Collection[str]):
    """The names convert writes into --out, in any of :data:`FORMATS` (a pattern, not a list:
    ``in`` is all that --out checks need)."""

    PATTERN = re.compile("|".join(f"(?:{fmt.files})" for fmt in FORMATS.values()))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.PATTERN.fullmatch(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


@dataclass(frozen=True)
class ConvertConfig:
    """Options of one conversion (``split`` None: every row)."""

    manifest: str
    to: str
    out: str
    split: str | None = None
    overwrite: bool = False


def manifest_samples(
    path: str, split: str | None, skipped: Counter[str] | None = None
) -> Iterator[tuple[str, bytes]]:
    """(label, crop bytes) of a manifest's labelled rows (of ``split`` only, if given), in order:
    a file or a directory of parts, local or on object storage. Unlabeled rows (no format
    written holds a crop without label) are counted in ``skipped["unlabeled"]``."""
    info = read_manifest_info(path)
    for group in range(len(info.groups)):
        part = info.read_group(group, ["label", "crop", "split"]).to_pydict()
        for label, crop, row_split in zip(part["label"], part["crop"], part["split"], strict=True):
            if split is not None and row_split != split:
                continue
            if label is None:
                if skipped is not None:
                    skipped["unlabeled"] += 1
                continue
            yield label, crop


def convert(config: ConvertConfig) -> dict:
    """Write the manifest (split) as ``config.to`` into ``config.out``; return a report."""
    if config.to not in FORMATS:
        raise InputError(f"--to {config.to!r}: expected one of {', '.join(FORMATS)}")
    fmt = FORMATS[config.to]
    if config.split is not None and config.split not in SPLITS:
        raise InputError(f"--split {config.split!r}: expected one of {SPLITS}")
    info = read_manifest_info(config.manifest)
    if config.split is not None and info.split_count(config.split) == 0:
        have = info.metadata.get("counts", {}).get("splits", {})
        raise InputError(f"{info.path}: no rows in split {config.split!r} (splits: {have})")
    if fmt.check is not None:
        fmt.check()  # fail before any work (a missing package)
    out = Path(os.path.abspath(config.out))
    with output_lock(out):
        claimed = claim_output(out, "convert", OutputNames(), [("MANIFEST", config.manifest)])
        if claimed and not config.overwrite:
            raise InputError(f"{out}: --out holds a conversion already (pass --overwrite)")
        start = time.perf_counter()
        skipped: Counter[str] = Counter()
        samples = manifest_samples(config.manifest, config.split, skipped)
        with atomic_dir(out) as tmp:
            try:
                count = fmt.write(tmp, samples)
            except InputError:
                raise
            except ValueError as exc:  # a sample the format cannot hold
                raise InputError(f"{config.manifest}: {exc}") from exc
            mark_output_dir(tmp, "convert")
    seconds = time.perf_counter() - start
    return {
        "written": count,
        "unlabeled_skipped": skipped["unlabeled"],
        "seconds": round(seconds, 3),
        "rows_per_second": round(count / max(seconds, 1e-9), 1),
        "config": asdict(config),
    }
