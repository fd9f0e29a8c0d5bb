"""The manifest stage: a source's records (ICDAR 2015 by default) -> manifest.parquet,
rejects.parquet, vocab, report.

Work is parallel over the source's units (each scene image decoded once, in a worker); the main
process writes row groups as results arrive, with a bounded number of units in flight, so memory
does not grow with the dataset. All outputs are written into a hidden temporary directory that
replaces ``out`` only when everything succeeded. A manifest written as a directory of parts
(``--rows-per-part``, another engine, or an object-storage ``out``) is built by
:mod:`textrec_data.sharded` from the same :func:`process` and :func:`packed` results.

Crops cut from a scene are stored as PNG. An already cropped word whose bytes are PNG or JPEG and
decode with OpenCV is stored as it came (no re-encoding: faster, no size growth for JPEG, the
same pixels for every reader); other encodings are re-encoded to PNG.
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import json
import multiprocessing as mp
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pyarrow as pa
from tqdm import tqdm

from textrec_data.accounting import Tally, build_report, final_charset, manifest_metadata
from textrec_data.atomic import atomic_dir
from textrec_data.bounds import MAX_SEED, Bound, check_bounds, check_value
from textrec_data.charset import CASE_POLICIES, Charset, apply_case
from textrec_data.engines.local import ordered_results
from textrec_data.errors import InputError
from textrec_data.geometry import (
    crop_quad,
    is_degenerate,
    make_upright,
    overlaps_image,
    quad_points,
    repair_quad,
)
from textrec_data.images import decode_cropped, decode_image, keep_freed_memory
from textrec_data.inputs import check_utf8
from textrec_data.manifest import (
    MANIFEST_SCHEMA,
    REJECTS_SCHEMA,
    ROW_GROUP_SIZE,
    TableWriter,
)
from textrec_data.outputs import claim_output, mark_output_dir, output_lock
from textrec_data.records import CroppedWord, Origin, Record, Reject, SceneWord
from textrec_data.sources import DEFAULT_FORMAT, Plan, Source, open_source
from textrec_data.storage import AnyPath, as_path, is_url

SPLIT_MODES = ("auto", "train", "val", "test")
#: A quad wider or taller than this many times the image's longer side is a coordinate error
#: (e.g. 1e30), not a word: its crop would not fit in memory.
MAX_QUAD_EXTENT = 4

#: What the manifest stage writes into --out (and all that --overwrite replaces); the last two
#: are the directories of parts of a manifest written as parts (textrec_data.sharded).
_FILES = ("manifest.parquet", "rejects.parquet", "vocab.json", "report.json")
OUTPUT_FILES = (*_FILES, "manifest", "rejects")
MANIFEST_BOUNDS = {"workers": Bound(0, 256), "seed": Bound(0, MAX_SEED), "row_group_size": Bound(1)}


@dataclass(frozen=True)
class ManifestConfig:
    """Options of the manifest stage (saved in the manifest's metadata and report.json)."""

    images: str | None
    gt: str
    out: str
    format: str = DEFAULT_FORMAT
    split: str = "auto"
    val_fraction: float = 0.1
    seed: int = 0
    case: str = "keep"
    charset: str | None = None
    workers: int = 0  # 0: all cores
    overwrite: bool = False
    row_group_size: int = ROW_GROUP_SIZE
    engine: str = "local"  # local | dask (textrec_data.engines)
    rows_per_part: int | None = None  # None: one file (local engine), else about N rows a part
    address: str | None = None  # the engine's cluster (dask: tcp://host:8786)


@dataclass(frozen=True)
class WordRules:
    """How words become rows: label case policy, the --charset filter, and the split."""

    case: str = "keep"
    charset: Charset | None = None
    split: str = "auto"
    seed: int = 0
    val_fraction: float = 0.1

    def label(self, text: str) -> str | None:
        """The label of ``text`` under the case policy; None when outside the charset."""
        label = apply_case(text, self.case)
        return None if self.charset is not None and self.charset.missing(label) else label

    def split_of(self, image_id: str) -> str:
        """The split of the words of ``image_id``: whole images go to one split."""
        if self.split != "auto":
            return self.split
        return assign_split(image_id, self.seed, self.val_fraction)


@dataclass
class UnitResult:
    """The manifest rows and rejects of one unit of work, and how many records it read. Rows go
    between processes as one Arrow table (:func:`packed`): cheaper to send and to write."""

    rows: list[dict] | pa.Table = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)
    records: int = 0


def packed(result: UnitResult) -> UnitResult:
    """``result`` with its rows as one Arrow table of the manifest schema."""
    table = pa.Table.from_pylist(result.rows, schema=MANIFEST_SCHEMA)
    return UnitResult(table, result.rejects, result.records)


def assign_split(image_id: str, seed: int, val_fraction: float) -> str:
    """'val' for a stable ``val_fraction`` of image ids (hash of id and seed), else 'train'."""
    digest = hashlib.sha1(f"{seed}:{image_id}".encode()).digest()
    return "val" if int.from_bytes(digest[:8], "big") / 2**64 < val_fraction else "train"


def process(
    records: Iterable[Record], rules: WordRules = WordRules(), source: str = DEFAULT_FORMAT
) -> UnitResult:
    """Rows and rejects of one unit's records, in order; rows name their ``source`` format. A
    scene image is decoded once for the run of words on it and every word is cut by its quad; a
    cropped word is decoded itself."""
    keep_freed_memory()
    result = UnitResult()
    scene: tuple[str | None, np.ndarray | None] = (None, None)
    for record in records:
        result.records += 1
        check_utf8(_names(record))
        if isinstance(record, Reject):
            outcome: dict | str = record.reason
        elif record.image is None:
            outcome = "missing_image"
        elif isinstance(record, CroppedWord):
            decoded = decode_cropped(record.image)
            outcome = _word_row(record, *(decoded or (None, None)), rules)
        else:
            if record.image != scene[0]:
                scene = (record.image, decode_image(record.image))
            outcome = _word_row(record, scene[1], None, rules)
        if isinstance(outcome, str):
            result.rejects.append(_reject_row(record.origin, outcome))
        else:
            outcome["source"] = source
            result.rows.append(outcome)
    return result


def _names(record: Record) -> list[str]:
    """The file names and ids a record brings into the manifest's text columns."""
    values = (record.origin.path, getattr(record, "image_id", ""), getattr(record, "image", ""))
    return [value for value in values if isinstance(value, str)]


def _reject_row(origin: Origin, reason: str) -> dict:
    return {"gt_path": origin.path, "line_no": origin.line_no, "raw": origin.raw, "reason": reason}


def _word_row(
    word: SceneWord | CroppedWord, image: np.ndarray | None, encoded: bytes | None, rules: WordRules
) -> dict | str:
    """The manifest row of a word given its decoded scene image (a cropped word: its decoded
    crop, and its bytes when they are stored as they are), or the reason it is rejected."""
    if image is None:
        return "unreadable_image"
    label = rules.label(word.text)
    if label is None:
        return "out_of_charset"
    cut = _cut(word, image, label)
    if isinstance(cut, str):
        return cut
    quad, crop = cut
    if encoded is None:
        ok, png = cv2.imencode(".png", crop)
        if not ok:  # pragma: no cover - OpenCV cannot fail to encode a non-empty uint8 image
            raise RuntimeError(f"PNG encoding failed for {word.origin.path}:{word.origin.line_no}")
        encoded = png.tobytes()
    return {
        "image_id": word.image_id,
        "image_path": word.image if isinstance(word.image, str) else None,
        "gt_path": word.origin.path,
        "line_no": word.origin.line_no,
        "quad": None if quad is None else [float(v) for v in quad],
        "text": word.text,
        "label": label,
        "split": rules.split_of(word.image_id),
        "crop": encoded,
        "crop_h": int(crop.shape[0]),
        "crop_w": int(crop.shape[1]),
    }


def _cut(
    word: SceneWord | CroppedWord, image: np.ndarray, label: str
) -> tuple[tuple[float, ...] | None, np.ndarray] | str:
    """The word's quad and upright crop (a cropped word: no quad, the whole image), or a reject
    reason."""
    if isinstance(word, CroppedWord):
        return None, image
    points = quad_points(word.quad)
    extent = MAX_QUAD_EXTENT * max(image.shape[:2])
    if not np.isfinite(points).all() or np.ptp(points, axis=0).max() > extent:
        return "bad_coordinates"
    points = repair_quad(points)
    if is_degenerate(points):
        return "degenerate_quad"
    if not overlaps_image(points, image.shape[1], image.shape[0]):
        return "outside_image"
    return word.quad, make_upright(crop_quad(image, points), label or None)


def validate_config(config: ManifestConfig, source: Source | None = None) -> Charset | None:
    """Check options and the output path (written from ``source``, default: the --format
    read from --images and --gt); return the given charset, if any."""
    check_bounds(config, MANIFEST_BOUNDS)
    if config.rows_per_part is not None:
        check_value("--rows-per-part", config.rows_per_part, Bound(1))
    if config.split not in SPLIT_MODES:
        raise InputError(f"--split {config.split!r}: expected one of {SPLIT_MODES}")
    if config.case not in CASE_POLICIES:
        raise InputError(f"--case {config.case!r}: expected one of {CASE_POLICIES}")
    if not 0.0 <= config.val_fraction < 1.0:
        raise InputError(f"--val-fraction {config.val_fraction}: expected 0 <= f < 1")
    if _occupied(config, source) and not config.overwrite:
        raise InputError(
            f"{config.out}: output directory exists and is not empty (pass --overwrite)"
        )
    if config.charset is None:
        return None
    try:
        return Charset.load(config.charset)
    except ValueError as exc:
        raise InputError(str(exc)) from exc


def _occupied(config: ManifestConfig, source: Source | None) -> bool:
    """Whether ``--out`` holds something to replace. A local ``--out`` (or ``file://``) gets the
    local guards (:func:`~textrec_data.outputs.claim_output`: apart from every input, only the
    files of the command that made it, with its marker); an object-storage URL has no such
    paths: it is only checked for being a non-empty prefix."""
    out = as_path(config.out)
    if is_url(config.out):
        if out.exists() and not out.is_dir():
            raise InputError(f"{out}: --out exists and is a file, not a directory")
        return out.is_dir() and any(out.iterdir())
    given = [("--images", config.images), ("--gt", config.gt), ("--charset", config.charset)]
    given += list(getattr(source, "inputs", ()))
    return claim_output(out, output_command(source), OUTPUT_FILES, given)


def output_command(source: Source | None) -> str:
    """The command whose marker a manifest folder written from ``source`` carries."""
    return getattr(source, "command", "manifest")


_WORKER: tuple[Source, WordRules] | None = None


def _init_worker(source: Source, rules: WordRules) -> None:
    global _WORKER
    _WORKER = (source, rules)


def _run_units(units: list) -> UnitResult:
    """A pool task: the records of consecutive ``units`` as one result (one message, one table)."""
    source, rules = _WORKER
    records = itertools.chain.from_iterable(source.read(unit) for unit in units)
    return packed(process(records, rules, source.name))


def build_manifest(
    config: ManifestConfig, progress: bool = True, source: Source | None = None
) -> dict:
    """Run the manifest stage on ``source`` (default: ``config.format`` read from
    ``config.images`` and ``config.gt``); return the report (also written to
    ``out/report.json``). One process at a time writes an ``out``: it is locked from the check to
    the final rename."""
    if is_url(config.out):  # object storage: no lock, no rename (see textrec_data.sharded)
        return _build(config, as_path(config.out), progress, source)
    out = Path(os.path.abspath(as_path(config.out)))  # "." and ".." have no name for a temp
    with output_lock(out):
        return _build(config, out, progress, source)


def _build(config: ManifestConfig, out: AnyPath, progress: bool, source: Source | None) -> dict:
    given_charset = validate_config(config, source)
    if source is None:
        source = open_source(config.format, config.images, config.gt)
    plan = source.plan()
    rules = WordRules(config.case, given_charset, config.split, config.seed, config.val_fraction)
    if config.engine != "local" or config.rows_per_part or is_url(config.out):
        from textrec_data.sharded import build_parts

        return build_parts(config, source, plan, rules, progress)
    start = time.perf_counter()
    with atomic_dir(out) as tmp:
        report = _write_outputs(config, source, plan, rules, tmp, progress)
        mark_output_dir(tmp, output_command(source))
        report["seconds"] = round(time.perf_counter() - start, 3)
        report["rows_per_second"] = round(report["kept"] / max(report["seconds"], 1e-9), 1)
        (tmp / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    return report


def _write_outputs(
    config: ManifestConfig, source: Source, plan: Plan, rules: WordRules, tmp: Path, progress: bool
) -> dict:
    tally = Tally()
    workers = config.workers or os.cpu_count() or 1
    # The workers start first: opening the writers (and their imports) overlaps their work.
    with _unit_results(source, plan.units, rules, workers) as results:
        rows_out = TableWriter(tmp / "manifest.parquet", MANIFEST_SCHEMA, config.row_group_size)
        rejects_out = TableWriter(tmp / "rejects.parquet", REJECTS_SCHEMA, 64 * 1024)
        bar = tqdm(total=len(plan.units), desc="manifest", unit="unit", disable=not progress)
        try:
            for units, result in results:
                rows_out.write_table(result.rows)
                rejects_out.write(result.rejects)
                tally.add(result)
                bar.update(units)
                bar.set_postfix(kept=tally.kept, rejected=tally.rejected)
        except BaseException:
            rows_out.abort()
            rejects_out.abort()
            raise
        finally:
            bar.close()
    charset = final_charset(rules.charset, tally, config.case)
    files = plan.files or len(plan.units)
    metadata = manifest_metadata(config, source.name, files, charset, tally)
    rows_out.close(metadata)
    rejects_out.close(metadata)
    charset.save(tmp / "vocab.json")
    return build_report(metadata, tally, plan.notes)


@contextmanager
def _unit_results(
    source: Source, units: list, rules: WordRules, workers: int
) -> Iterator[Iterator[tuple[int, UnitResult]]]:
    """(units, UnitResult) pairs in unit order, computed in-process (1 worker, a unit at a time)
    or by a process pool (tasks of one or more units)."""
    if workers <= 1:
        yield ((1, packed(process(source.read(u), rules, source.name))) for u in units)
        return
    # Forking is safe here: textrec_data keeps OpenCV single-threaded (see textrec_data/__init__)
    # and the workers never touch torch. "spawn" would re-import the caller's main module.
    # pyarrow imports pandas at its first conversion from Python objects (~1 s): done here,
    # before the fork, the workers share it instead of each paying for it.
    pa.Table.from_pylist([], schema=MANIFEST_SCHEMA)
    # Objects that exist before the fork are left out of the workers' garbage collections, which
    # would otherwise write to every page of the inherited heap (copy-on-write faults).
    gc.freeze()
    pool = mp.get_context().Pool(workers, _init_worker, (source, rules))
    try:
        yield ordered_results(pool, _run_units, units, workers)
    finally:
        pool.terminate()
        pool.join()
        gc.unfreeze()
