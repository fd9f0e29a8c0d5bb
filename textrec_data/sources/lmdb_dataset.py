"""LMDB datasets as deep-text-recognition-benchmark (``create_lmdb_dataset.py``), PARSeq and
MMOCR write and read them: keys ``num-samples`` (the count, as ASCII digits), and for
``i = 1 .. num-samples`` ``image-%09d`` (the encoded image's bytes) and ``label-%09d`` (UTF-8).
The reader (:class:`LmdbSource`, ``textrec manifest --format lmdb``) and the writer
(:func:`write_lmdb`, ``textrec convert --to lmdb``) are both here.

``--gt`` is one LMDB folder (holding ``data.mdb``) or a folder with several below it (e.g.
``training/MJ/MJ_train``, ``training/ST``): each is read in chunks of samples, the units of
work. A sample without its label is ``malformed``, one without its image ``missing_image``.
Needs the ``lmdb`` package (``pip install 'textrec[lmdb]'``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import ClassVar

from textrec_data.charset import normalize_text
from textrec_data.errors import InputError
from textrec_data.records import CroppedWord, Origin, Record, Reject
from textrec_data.sources.base import Plan
from textrec_data.sources.files import GtFolderSource, natural_key, text_reason

#: Samples per unit of work.
CHUNK_SAMPLES = 1024
NUM_SAMPLES_KEY = b"num-samples"
#: Samples per write transaction (as create_lmdb_dataset.py).
COMMIT_EVERY = 1000
#: The map size a written LMDB starts with; it doubles whenever a transaction does not fit.
INITIAL_MAP_SIZE = 256 << 20
#: The names an LMDB folder holds (what :func:`write_lmdb` writes), as a regular expression.
LMDB_FILES = r"data\.mdb|lock\.mdb"


def lmdb_module() -> ModuleType:
    """The ``lmdb`` package, or an InputError saying how to install it."""
    try:
        import lmdb
    except ImportError as exc:
        raise InputError("lmdb: the LMDB format needs `pip install 'textrec[lmdb]'`") from exc
    return lmdb


def image_key(index: int) -> bytes:
    """Key of sample ``index``'s image (1-based)."""
    return b"image-%09d" % index


def label_key(index: int) -> bytes:
    """Key of sample ``index``'s label (1-based)."""
    return b"label-%09d" % index


def find_lmdbs(root: Path) -> list[Path]:
    """LMDB folders (holding ``data.mdb``) at or below ``root``, in natural order."""
    if (root / "data.mdb").is_file():
        return [root]
    found = {p.parent for p in root.rglob("data.mdb") if p.is_file()}
    return sorted(found, key=lambda p: natural_key(p.relative_to(root).as_posix()))


@functools.lru_cache(maxsize=16)
def open_lmdb(path: str, pid: int):
    """A read-only environment on ``path``, one per process (``pid``: a forked worker must not
    use its parent's)."""
    lmdb = lmdb_module()
    try:
        return lmdb.open(path, readonly=True, lock=False, readahead=False, meminit=False)
    except lmdb.Error as exc:
        raise InputError(f"{path}: cannot open LMDB ({exc})") from exc


def num_samples(path: Path) -> int:
    """The ``num-samples`` of the LMDB at ``path`` (InputError when missing, not a count, or
    more than the LMDB's entries could hold: each sample has at least its label key)."""
    env = open_lmdb(str(path), os.getpid())
    with env.begin() as txn:
        raw = txn.get(NUM_SAMPLES_KEY)
    entries = env.stat()["entries"]
    if raw is None:
        raise InputError(f"{path}: LMDB without a num-samples key (not a DTRB-style dataset)")
    try:
        count = int(raw)
    except ValueError:
        count = -1
    if count < 0:
        raise InputError(f"{path}: num-samples is {raw[:40]!r}, not a count of samples")
    if count > entries:
        raise InputError(
            f"{path}: num-samples is {count}, but the LMDB holds {entries} keys (at least one "
            "per sample): a corrupt header"
        )
    return count


@dataclass(frozen=True)
class LmdbChunk:
    """A unit of work: samples ``start`` to ``stop - 1`` (1-based) of the LMDB at ``path``;
    ``prefix`` starts their image ids."""

    path: str
    prefix: str
    start: int
    stop: int


@dataclass(frozen=True)
class LmdbSource(GtFolderSource):
    """One LMDB folder ``gt``, or a folder of several. ``images`` must be None."""

    name: ClassVar[str] = "lmdb"
    holding: ClassVar[str] = "LMDBs"

    def plan(self) -> Plan:
        """Find the LMDBs and chunk their samples; notes num-samples of each."""
        root = self.gt_folder()
        paths = find_lmdbs(root)
        if not paths:
            raise InputError(f"{root}: no LMDB (data.mdb) in this directory or below it")
        units, counts = [], {}
        for path in paths:
            count = num_samples(path)
            prefix = path.name if path == root else path.relative_to(root).as_posix()
            counts[prefix] = count
            units += [
                LmdbChunk(str(path.resolve()), prefix, i, min(i + CHUNK_SAMPLES, count + 1))
                for i in range(1, count + 1, CHUNK_SAMPLES)
            ]
        open_lmdb.cache_clear()  # forked workers open their own
        return Plan(units, {"lmdb_num_samples": counts}, files=len(paths))

    def read(self, unit: LmdbChunk) -> list[Record]:
        """One record per sample of the chunk, in order."""
        env = open_lmdb(unit.path, os.getpid())
        with env.begin() as txn:
            return [
                sample_record(unit, i, txn.get(label_key(i)), txn.get(image_key(i)))
                for i in range(unit.start, unit.stop)
            ]


def sample_record(unit: LmdbChunk, index: int, label: bytes | None, image: bytes | None) -> Record:
    """The record of sample ``index`` from its label and image bytes (None: key missing)."""
    if label is None:
        return Reject(Origin(unit.path, index, f"<no label-{index:09d}>"), "malformed")
    try:
        text = normalize_text(label.decode("utf-8"))
    except UnicodeDecodeError:
        raw = label.decode("utf-8", "backslashreplace")
        return Reject(Origin(unit.path, index, raw), "encoding")
    origin = Origin(unit.path, index, text)
    reason = text_reason(text)
    if reason is not None:
        return Reject(origin, reason)
    return CroppedWord(origin, f"{unit.prefix}/{index:09d}", image, text)


def write_lmdb(
    out: Path, samples: Iterable[tuple[str, bytes]], map_size: int = INITIAL_MAP_SIZE
) -> int:
    """Write ``(label, image bytes)`` samples as a DTRB-style LMDB in folder ``out``, numbered
    from 1, ``num-samples`` last; return how many. The map starts at ``map_size`` bytes and
    grows as the samples need."""
    env = lmdb_module().open(str(out), map_size=map_size)
    count, batch = 0, []
    try:
        for count, (label, image) in enumerate(samples, start=1):
            batch += [(image_key(count), image), (label_key(count), label.encode("utf-8"))]
            if count % COMMIT_EVERY == 0:
                _commit(env, batch)
                batch = []
        _commit(env, [*batch, (NUM_SAMPLES_KEY, str(count).encode())])
    finally:
        env.close()
    return count


def _commit(env, items: list[tuple[bytes, bytes]]) -> None:
    """Put ``items`` in one write transaction of ``env``, doubling its map size until they fit."""
    while True:
        try:
            with env.begin(write=True) as txn:
                for key, value in items:
                    txn.put(key, value)
            return
        except lmdb_module().MapFullError:  # the transaction was aborted: nothing was written
            env.set_mapsize(2 * env.info()["map_size"])
