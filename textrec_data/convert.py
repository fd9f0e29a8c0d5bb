"""`textrec convert`: a manifest (or one of its splits) in the formats other tools read.

- ``lmdb``: the layout deep-text-recognition-benchmark's ``create_lmdb_dataset.py`` writes and
  DTRB, PARSeq and MMOCR read: ``image-%09d`` (the crop's bytes as stored in the manifest, PNG or
  JPEG), ``label-%09d`` (the label, UTF-8), numbered from 1, and ``num-samples``.
- ``wordcrops``: ``word_<n>.png|jpg`` files and a ``gt.txt`` list as ICDAR 2015 Task 4.3 writes
  it: UTF-8 BOM, CRLF, ``word_1.png, "label"`` with ``\\"`` for a quote, ``\\\\`` for a backslash.

Rows are written in manifest order, one row group in memory at a time; the output directory
appears whole or not at all. Reading the result back with ``textrec manifest --format lmdb`` or
``--format wordcrops`` gives the same labels and the same crop bytes.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Collection, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from textrec_data.atomic import atomic_dir
from textrec_data.errors import InputError
from textrec_data.manifest import SPLITS, read_manifest_info
from textrec_data.outputs import claim_output, mark_output_dir, output_lock
from textrec_data.sources.files import quote
from textrec_data.sources.lmdb_dataset import NUM_SAMPLES_KEY, image_key, label_key, lmdb_module

TARGETS = ("lmdb", "wordcrops")
#: Samples per LMDB write transaction (as create_lmdb_dataset.py).
LMDB_COMMIT_EVERY = 1000
#: LMDB map size per sample beyond its bytes (page overhead of a value and its key).
LMDB_BYTES_PER_SAMPLE = 8192


class OutputNames(Collection[str]):
    """The names convert writes into --out: an LMDB's two files, or numbered word crops and
    their ``gt.txt`` (a pattern, not a list: ``in`` is all that --out checks need)."""

    PATTERN = re.compile(r"data\.mdb|lock\.mdb|gt\.txt|word_\d+\.(png|jpg)")

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


def crop_extension(crop: bytes) -> str:
    """File extension of a manifest crop: ``jpg`` for JPEG bytes, else ``png``."""
    return "jpg" if crop.startswith(b"\xff\xd8\xff") else "png"


def manifest_samples(path: str, split: str | None) -> Iterator[tuple[str, bytes]]:
    """(label, crop bytes) of a manifest's rows (of ``split`` only, if given), in order: a file or
    a directory of parts, local or on object storage."""
    info = read_manifest_info(path)
    for group in range(len(info.groups)):
        part = info.read_group(group, ["label", "crop", "split"]).to_pydict()
        for label, crop, row_split in zip(part["label"], part["crop"], part["split"], strict=True):
            if split is None or row_split == split:
                yield label, crop


def write_lmdb(out: Path, samples: Iterator[tuple[str, bytes]], map_size: int) -> int:
    """Write ``samples`` as a DTRB-style LMDB in folder ``out``; return how many."""
    lmdb = lmdb_module()
    env = lmdb.open(str(out), map_size=map_size)
    count = 0
    try:
        txn = env.begin(write=True)
        for count, (label, crop) in enumerate(samples, start=1):
            txn.put(image_key(count), crop)
            txn.put(label_key(count), label.encode("utf-8"))
            if count % LMDB_COMMIT_EVERY == 0:
                txn.commit()
                txn = env.begin(write=True)
        txn.put(NUM_SAMPLES_KEY, str(count).encode())
        txn.commit()
    finally:
        env.close()
    return count


def write_wordcrops(out: Path, samples: Iterator[tuple[str, bytes]], manifest: str) -> int:
    """Write ``samples`` as ``word_<n>`` files and a Task 4.3 ``gt.txt``; return how many."""
    count = 0
    with open(out / "gt.txt", "wb") as gt:
        gt.write(b"\xef\xbb\xbf")
        for count, (label, crop) in enumerate(samples, start=1):
            if "\n" in label or "\r" in label:
                raise InputError(f"{manifest}: row {count}: a label with a line break cannot go in")
            name = f"word_{count}.{crop_extension(crop)}"
            (out / name).write_bytes(crop)
            gt.write(f"{name}, {quote(label)}\r\n".encode())
    return count


def _bytes(path) -> int:
    """The size of a local manifest file or parts directory; 0 for object storage (the crops are
    then covered by the per-sample allowance only)."""
    if not isinstance(path, Path):
        return 0
    return sum(p.stat().st_size for p in path.iterdir()) if path.is_dir() else path.stat().st_size


def convert(config: ConvertConfig) -> dict:
    """Write the manifest (split) as ``config.to`` into ``config.out``; return a report."""
    if config.to not in TARGETS:
        raise InputError(f"--to {config.to!r}: expected one of {TARGETS}")
    if config.split is not None and config.split not in SPLITS:
        raise InputError(f"--split {config.split!r}: expected one of {SPLITS}")
    info = read_manifest_info(config.manifest)
    if config.split is not None and info.split_count(config.split) == 0:
        have = info.metadata.get("counts", {}).get("splits", {})
        raise InputError(f"{info.path}: no rows in split {config.split!r} (splits: {have})")
    if config.to == "lmdb":
        lmdb_module()  # fail before any work when the package is missing
    out = Path(os.path.abspath(config.out))
    with output_lock(out):
        claimed = claim_output(out, "convert", OutputNames(), [("MANIFEST", config.manifest)])
        if claimed and not config.overwrite:
            raise InputError(f"{out}: --out holds a conversion already (pass --overwrite)")
        start = time.perf_counter()
        samples = manifest_samples(config.manifest, config.split)
        with atomic_dir(out) as tmp:
            if config.to == "lmdb":
                map_size = _bytes(info.path) + info.num_rows * LMDB_BYTES_PER_SAMPLE + (64 << 20)
                count = write_lmdb(tmp, samples, map_size)
            else:
                count = write_wordcrops(tmp, samples, config.manifest)
            mark_output_dir(tmp, "convert")
    seconds = time.perf_counter() - start
    return {
        "written": count,
        "seconds": round(seconds, 3),
        "rows_per_second": round(count / max(seconds, 1e-9), 1),
        "config": asdict(config),
    }
