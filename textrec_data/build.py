"""The manifest stage: ICDAR images + GT files -> manifest.parquet, rejects.parquet, vocab, report.

Work is parallel over images (each image decoded once, in a worker); the main process writes row
groups as results arrive, so memory does not grow with the dataset. All outputs are written into a
hidden temporary directory that replaces ``out`` only when everything succeeded.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from tqdm import tqdm

from textrec_data import __version__
from textrec_data.atomic import atomic_dir
from textrec_data.charset import CASE_POLICIES, Charset, apply_case, build_charset
from textrec_data.errors import InputError
from textrec_data.geometry import (
    crop_quad,
    is_degenerate,
    make_upright,
    overlaps_image,
    quad_points,
    repair_quad,
)
from textrec_data.icdar import (
    GTReject,
    GTWord,
    gt_stem,
    index_images,
    list_gt_files,
    parse_gt_bytes,
)
from textrec_data.manifest import (
    FORMAT_VERSION,
    MANIFEST_SCHEMA,
    REJECTS_SCHEMA,
    ROW_GROUP_SIZE,
    TableWriter,
)

SPLIT_MODES = ("auto", "train", "val", "test")


@dataclass(frozen=True)
class ManifestConfig:
    """Options of the manifest stage (saved in the manifest's metadata and report.json)."""

    images: str
    gt: str
    out: str
    split: str = "auto"
    val_fraction: float = 0.1
    seed: int = 0
    case: str = "keep"
    charset: str | None = None
    workers: int = 0  # 0: all cores
    overwrite: bool = False
    row_group_size: int = ROW_GROUP_SIZE


@dataclass(frozen=True)
class ImageTask:
    """One GT file and the image it belongs to (``image_path`` None when missing)."""

    image_id: str
    image_path: str | None
    gt_path: str
    split: str


@dataclass
class ImageResult:
    rows: list[dict] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)
    lines: int = 0


def assign_split(image_id: str, seed: int, val_fraction: float) -> str:
    """'val' for a stable ``val_fraction`` of image ids (hash of id and seed), else 'train'."""
    digest = hashlib.sha1(f"{seed}:{image_id}".encode()).digest()
    return "val" if int.from_bytes(digest[:8], "big") / 2**64 < val_fraction else "train"


def read_image(path: str) -> np.ndarray | None:
    """Decode an image file to BGR uint8 (H, W, 3), or None when it cannot be decoded."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if image is None:  # formats OpenCV lacks (e.g. some GIFs): try Pillow
        try:
            with Image.open(path) as pil:
                image = cv2.cvtColor(np.asarray(pil.convert("RGB")), cv2.COLOR_RGB2BGR)
        except (OSError, ValueError, Image.DecompressionBombError):
            return None
    return image


def _reject(task: ImageTask, line_no: int, raw: str, reason: str) -> dict:
    return {"gt_path": task.gt_path, "line_no": line_no, "raw": raw, "reason": reason}


def process_image(
    task: ImageTask,
    case: str = "keep",
    charset: Charset | None = None,
    require_text: bool = True,
) -> ImageResult:
    """Parse one GT file, decode its image once and crop every legible word (with
    ``require_text=False``, also quads without a transcription)."""
    result = ImageResult()
    try:
        parsed = parse_gt_bytes(Path(task.gt_path).read_bytes(), require_text)
    except OSError as exc:
        raise InputError(f"{task.gt_path}: cannot read GT file ({exc.strerror})") from exc
    result.lines = len(parsed)
    words = [p for p in parsed if isinstance(p, GTWord)]
    image = None
    image_reason = None
    if words:
        if task.image_path is None:
            image_reason = "missing_image"
        else:
            image = read_image(task.image_path)
            image_reason = None if image is not None else "unreadable_image"
    for item in parsed:
        if isinstance(item, GTReject):
            result.rejects.append(_reject(task, item.line_no, item.raw, item.reason))
            continue
        if image_reason is not None:
            result.rejects.append(_reject(task, item.line_no, item.raw, image_reason))
            continue
        label = apply_case(item.text, case)
        if charset is not None and charset.missing(label):
            result.rejects.append(_reject(task, item.line_no, item.raw, "out_of_charset"))
            continue
        points = repair_quad(quad_points(item.quad))
        if is_degenerate(points):
            result.rejects.append(_reject(task, item.line_no, item.raw, "degenerate_quad"))
            continue
        if not overlaps_image(points, image.shape[1], image.shape[0]):
            result.rejects.append(_reject(task, item.line_no, item.raw, "outside_image"))
            continue
        crop = make_upright(crop_quad(image, points), label or None)
        ok, png = cv2.imencode(".png", crop)
        if not ok:  # pragma: no cover - OpenCV cannot fail to encode a non-empty uint8 image
            raise RuntimeError(f"PNG encoding failed for {task.gt_path}:{item.line_no}")
        result.rows.append(
            {
                "image_id": task.image_id,
                "image_path": task.image_path,
                "gt_path": task.gt_path,
                "line_no": item.line_no,
                "quad": [float(v) for v in item.quad],
                "text": item.text,
                "label": label,
                "split": task.split,
                "crop": png.tobytes(),
                "crop_h": int(crop.shape[0]),
                "crop_w": int(crop.shape[1]),
            }
        )
    return result


def plan_tasks(config: ManifestConfig) -> tuple[list[ImageTask], list[str]]:
    """GT files paired with their images, and the ids of images that have no GT file."""
    images_dir, gt_dir = Path(config.images), Path(config.gt)
    for name, path in (("--images", images_dir), ("--gt", gt_dir)):
        if not path.is_dir():
            raise InputError(f"{path}: {name} directory not found")
    gt_files = list_gt_files(gt_dir)
    if not gt_files:
        raise InputError(f"{gt_dir}: no GT files named gt_<image>.txt")
    images = index_images(images_dir)
    tasks = []
    for gt_path in gt_files:
        stem = gt_stem(gt_path)
        image = images.get(stem)
        split = (
            assign_split(stem, config.seed, config.val_fraction)
            if config.split == "auto"
            else config.split
        )
        tasks.append(
            ImageTask(
                image_id=stem,
                image_path=str(image.resolve()) if image else None,
                gt_path=str(gt_path.resolve()),
                split=split,
            )
        )
    with_gt = {t.image_id for t in tasks}
    return tasks, sorted(s for s in images if s not in with_gt)


def validate_config(config: ManifestConfig) -> Charset | None:
    """Check options and the output path; return the given charset, if any."""
    if config.split not in SPLIT_MODES:
        raise InputError(f"--split {config.split!r}: expected one of {SPLIT_MODES}")
    if config.case not in CASE_POLICIES:
        raise InputError(f"--case {config.case!r}: expected one of {CASE_POLICIES}")
    if not 0.0 <= config.val_fraction < 1.0:
        raise InputError(f"--val-fraction {config.val_fraction}: expected 0 <= f < 1")
    out = Path(config.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: --out exists and is a file, not a directory")
    if out.is_dir() and any(out.iterdir()) and not config.overwrite:
        raise InputError(f"{out}: output directory exists and is not empty (pass --overwrite)")
    if config.charset is None:
        return None
    try:
        return Charset.load(config.charset)
    except ValueError as exc:
        raise InputError(str(exc)) from exc


_WORKER_ARGS: tuple[str, Charset | None] = ("keep", None)


def _init_worker(case: str, charset: Charset | None) -> None:
    global _WORKER_ARGS
    _WORKER_ARGS = (case, charset)


def _run_task(task: ImageTask) -> ImageResult:
    return process_image(task, *_WORKER_ARGS)


def build_manifest(config: ManifestConfig, progress: bool = True) -> dict:
    """Run the manifest stage; return the report (also written to ``out/report.json``)."""
    given_charset = validate_config(config)
    tasks, images_without_gt = plan_tasks(config)
    start = time.perf_counter()
    with atomic_dir(config.out) as tmp:
        report = _write_outputs(config, given_charset, tasks, images_without_gt, tmp, progress)
        report["seconds"] = round(time.perf_counter() - start, 3)
        report["rows_per_second"] = round(report["kept"] / max(report["seconds"], 1e-9), 1)
        (tmp / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    return report


def _write_outputs(
    config: ManifestConfig,
    given_charset: Charset | None,
    tasks: list[ImageTask],
    images_without_gt: list[str],
    tmp: Path,
    progress: bool,
) -> dict:
    rows_out = TableWriter(tmp / "manifest.parquet", MANIFEST_SCHEMA, config.row_group_size)
    rejects_out = TableWriter(tmp / "rejects.parquet", REJECTS_SCHEMA, 64 * 1024)
    lines = 0
    splits: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    char_counts: Counter[str] = Counter()
    test_chars: Counter[str] = Counter()
    workers = config.workers or os.cpu_count() or 1
    bar = tqdm(total=len(tasks), desc="manifest", unit="img", disable=not progress)
    try:
        with _image_results(tasks, config.case, given_charset, workers) as results:
            for result in results:
                lines += result.lines
                rows_out.write(result.rows)
                rejects_out.write(result.rejects)
                for row in result.rows:
                    splits[row["split"]] += 1
                    (test_chars if row["split"] == "test" else char_counts).update(row["label"])
                reasons.update(r["reason"] for r in result.rejects)
                bar.update(1)
                bar.set_postfix(kept=sum(splits.values()), rejected=sum(reasons.values()))
    except BaseException:
        rows_out.abort()
        rejects_out.abort()
        raise
    finally:
        bar.close()
    kept, rejected = sum(splits.values()), sum(reasons.values())
    if given_charset is not None:
        charset = given_charset
    else:  # the vocabulary of train+val labels (of the test labels for a test-only manifest)
        charset = build_charset(char_counts or test_chars, config.case)
    metadata = {
        "format_version": FORMAT_VERSION,
        "textrec_version": __version__,
        "charset": list(charset.chars),
        "case": config.case,
        "charset_source": config.charset or "built from kept train/val labels",
        "config": asdict(config),
        "counts": {
            "gt_files": len(tasks),
            "gt_lines": lines,
            "kept": kept,
            "rejected": rejected,
            "splits": dict(sorted(splits.items())),
            "reasons": dict(sorted(reasons.items())),
        },
    }
    rows_out.close(metadata)
    rejects_out.close(metadata)
    charset.save(tmp / "vocab.json")
    return {
        **metadata,
        "kept": kept,
        "rejected": rejected,
        "gt_lines": lines,
        "accounting_ok": kept + rejected == lines,
        "accounting": f"kept {kept} + rejected {rejected} = {kept + rejected} of {lines} GT lines",
        "images_without_gt": len(images_without_gt),
        "images_without_gt_ids": images_without_gt[:100],
        "gt_without_image": sum(t.image_path is None for t in tasks),
        "char_frequencies": dict(char_counts.most_common()),
    }


@contextmanager
def _image_results(
    tasks: list[ImageTask], case: str, charset: Charset | None, workers: int
) -> Iterator[Iterator[ImageResult]]:
    """ImageResults in task order, computed in-process (1 worker) or by a process pool."""
    if workers <= 1:
        yield (process_image(t, case, charset) for t in tasks)
        return
    # Forking is safe here: textrec_data keeps OpenCV single-threaded (see textrec_data/__init__)
    # and the workers never touch torch. "spawn" would re-import the caller's main module.
    pool = mp.get_context().Pool(workers, _init_worker, (case, charset))
    try:
        yield pool.imap(_run_task, tasks, chunksize=2)
    finally:
        pool.terminate()
        pool.join()


def scene_word_crops(images: str, gt: str) -> Iterator[tuple[list[dict], list[dict]]]:
    """Per GT file of a scene dataset: the word rows (as in the manifest: ``image_id``,
    ``line_no``, ``quad``, ``text``, ``crop`` PNG...) and the rejected lines, cropped exactly
    as the manifest stage does. For recognizing the words of scene images with known quads:
    lines of 8 coordinates without a transcription count as words (text ``""``)."""
    tasks, _ = plan_tasks(ManifestConfig(images=images, gt=gt, out="", split="test"))
    for task in tasks:
        result = process_image(task, require_text=False)
        yield result.rows, result.rejects
