"""`textrec label`: a manifest whose rows a teacher model labels (pseudo-labels), as a manifest
any student trains on (distillation between any two architectures).

:func:`label_manifest` reads a manifest one row group at a time and reads the crops of the
selected rows (``rows`` ``unlabeled``: rows without a label; ``all``: every row) with the
teacher through a :class:`~textrec_model.recognizer.Recognizer`, the one scoring path of
``textrec eval`` and ``predict``. A reading becomes the row's label (after the manifest's case
policy); a crop that does not decode, an empty reading, or one less confident than
``min_confidence`` sends the row to the rejects with its reason, so kept + rejected = rows
read, as in the manifest stage. OUT holds ``manifest.parquet`` (format 3, the input's
columns), ``rejects.parquet``, ``pseudo_labels.parquet`` (which rows the teacher labelled,
with its confidence and the label it replaced), ``vocab.json`` and ``report.json``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
from tqdm import tqdm

from textrec_data import __version__
from textrec_data.accounting import Tally, build_report, final_charset
from textrec_data.atomic import atomic_dir
from textrec_data.bounds import Bound, check_choice, check_value
from textrec_data.charset import Charset, apply_case
from textrec_data.errors import InputError
from textrec_data.manifest import (
    FORMAT_VERSION,
    MANIFEST_SCHEMA,
    REJECTS_SCHEMA,
    ManifestInfo,
    TableWriter,
    read_manifest_info,
)
from textrec_data.outputs import claim_output, mark_output_dir, output_lock
from textrec_data.preprocess import decode_crop
from textrec_data.rows import UnitResult
from textrec_model.predictor import BATCH_SIZE, DEFAULT_BATCH_SIZE, Prediction
from textrec_model.recognizer import DEFAULT_RUNTIME, RUNTIMES, THREADS, Recognizer

#: What ``textrec label`` writes into --out (and all that --overwrite replaces).
LABEL_FILES = (
    "manifest.parquet",
    "rejects.parquet",
    "pseudo_labels.parquet",
    "vocab.json",
    "report.json",
)
#: ``--rows``: which rows the teacher labels.
ROW_CHOICES = ("unlabeled", "all")
#: One row per row of the written manifest that the teacher labelled.
PSEUDO_LABELS_SCHEMA = pa.schema(
    [
        ("row", pa.int64()),  # its position in OUT's manifest.parquet
        ("image_id", pa.string()),
        ("line_no", pa.int32()),
        ("split", pa.string()),
        ("label", pa.string()),  # the teacher's reading, after the manifest's case policy
        ("confidence", pa.float32()),
        ("previous_label", pa.string()),  # the label it replaced (null: the row had none)
    ]
)


@dataclass(frozen=True)
class LabelConfig:
    """Options of one ``textrec label`` run (saved in the manifest's metadata and report)."""

    teacher: str
    manifest: str
    out: str
    min_confidence: float = 0.0
    rows: str = "unlabeled"
    batch_size: int = DEFAULT_BATCH_SIZE
    runtime: str = DEFAULT_RUNTIME
    threads: int = 0
    overwrite: bool = False

    def __post_init__(self) -> None:
        """Refuse unusable options by name."""
        check_value("--min-confidence", self.min_confidence, Bound(0, 1, integer=False))
        check_choice("--rows", self.rows, ROW_CHOICES)
        check_value("--batch-size", self.batch_size, BATCH_SIZE)
        check_choice("--runtime", self.runtime, RUNTIMES)
        check_value("--threads", self.threads, THREADS)


def label_manifest(config: LabelConfig, progress: bool = True) -> dict:
    """Write the pseudo-labelled manifest of ``config`` into OUT (atomically: the folder is
    replaced only when complete); return the report (also OUT/report.json)."""
    out = Path(os.path.abspath(config.out))
    inputs = [("--teacher", config.teacher), ("--manifest", config.manifest)]
    with output_lock(out):
        if claim_output(out, "label", LABEL_FILES, inputs) and not config.overwrite:
            raise InputError(
                f"{out}: --out holds an earlier `textrec label` output (pass --overwrite)"
            )
        info = read_manifest_info(config.manifest)
        recognizer = Recognizer.load(
            config.teacher, None, config.batch_size, config.runtime, config.threads
        )
        with atomic_dir(out) as tmp:
            report = _write_outputs(config, info, recognizer, tmp, progress)
            mark_output_dir(tmp, "label")
            text = json.dumps(report, ensure_ascii=False, indent=1) + "\n"
            (tmp / "report.json").write_text(text, encoding="utf-8")
    return report


def reject_reason(prediction: Prediction | None, min_confidence: float) -> str | None:
    """Why a teacher's reading (None: the crop did not decode) cannot be a label, or None."""
    if prediction is None:
        return "unreadable_image"
    if not prediction.text.strip():
        return "empty_label"
    if prediction.confidence < min_confidence:
        return "low_confidence"
    return None


def label_rows(
    rows: list[dict], recognizer: Recognizer, config: LabelConfig, case: str, first: int
) -> tuple[list[dict], list[dict], list[dict]]:
    """(kept rows, rejects, pseudo-label records) of manifest ``rows`` (dicts of the manifest
    schema), the kept rows numbered from ``first`` in the written manifest."""
    chosen = [j for j, row in enumerate(rows) if config.rows == "all" or row["label"] is None]
    crops = {j: decode_crop(rows[j]["crop"], recognizer.spec.channels) for j in chosen}
    readable = [j for j in chosen if crops[j] is not None]
    readings = dict(zip(readable, recognizer.predict([crops[j] for j in readable]), strict=True))
    kept, rejects, pseudo = [], [], []
    for j, row in enumerate(rows):
        if j not in crops:
            kept.append(row)
            continue
        prediction = readings.get(j)
        reason = reject_reason(prediction, config.min_confidence)
        if reason is not None:
            read = {
                "image_id": row["image_id"],
                "teacher": asdict(prediction) if prediction else None,
            }
            raw = json.dumps(read, ensure_ascii=False)
            rejects.append({"gt_path": row["gt_path"], "line_no": row["line_no"], "raw": raw,
                            "reason": reason})  # fmt: skip
            continue
        label = apply_case(prediction.text, case)
        pseudo.append(
            {"row": first + len(kept), "image_id": row["image_id"], "line_no": row["line_no"],
             "split": row["split"], "label": label, "confidence": prediction.confidence,
             "previous_label": row["label"]}
        )  # fmt: skip
        kept.append({**row, "label": label})
    return kept, rejects, pseudo


def output_charset(given: Charset, tally: Tally) -> Charset:
    """The input manifest's charset, then (sorted) the characters the teacher's train/val
    labels add (of test labels for a test-only manifest), as the manifest stage counts them:
    a manifest of unchanged charset mixes with its input in one training."""
    built = final_charset(None, tally, given.case)
    return Charset(given.chars + tuple(c for c in built.chars if c not in given.chars), given.case)


def _write_outputs(
    config: LabelConfig, info: ManifestInfo, recognizer: Recognizer, tmp: Path, progress: bool
) -> dict:
    rows_out = TableWriter(tmp / "manifest.parquet", MANIFEST_SCHEMA)
    rejects_out = TableWriter(tmp / "rejects.parquet", REJECTS_SCHEMA, 64 * 1024)
    pseudo_out = TableWriter(tmp / "pseudo_labels.parquet", PSEUDO_LABELS_SCHEMA, 64 * 1024)
    tally, labelled = Tally(), 0
    bar = tqdm(total=info.num_rows, desc="label", unit="row", disable=not progress)
    for group in range(len(info.groups)):
        rows = info.read_group(group).to_pylist()
        for row in rows:
            row.setdefault("source", info.metadata.get("source"))  # format 1: no such column
        kept, rejects, pseudo = label_rows(rows, recognizer, config, info.charset.case, tally.kept)
        rows_out.write(kept)
        rejects_out.write(rejects)
        pseudo_out.write(pseudo)
        tally.add(UnitResult(kept, rejects, len(rows)))
        labelled += len(pseudo)
        bar.update(len(rows))
        bar.set_postfix(labelled=labelled, rejected=tally.rejected)
    bar.close()
    charset = output_charset(info.charset, tally)
    metadata = {
        "format_version": FORMAT_VERSION,
        "source": info.metadata.get("source"),
        "textrec_version": __version__,
        "charset": list(charset.chars),
        "case": charset.case,
        "charset_source": f"{config.manifest}, then characters of the teacher's labels",
        "config": asdict(config),
        "counts": {
            "rows_read": tally.records,
            "kept": tally.kept,
            "rejected": tally.rejected,
            "teacher_labelled": labelled,
            "splits": dict(sorted(tally.splits.items())),
            "unlabeled": dict(sorted(tally.unlabeled.items())),
            "reasons": dict(sorted(tally.reasons.items())),
        },
        "input_counts": info.metadata.get("counts"),
    }
    for writer in (rows_out, rejects_out, pseudo_out):
        writer.close(metadata)
    charset.save(tmp / "vocab.json")
    return build_report(metadata, tally, {"teacher_labelled": labelled})
