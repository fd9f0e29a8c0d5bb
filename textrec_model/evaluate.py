"""`textrec eval`: scoring a model on one split of a manifest (metrics: :mod:`.metrics`).

:func:`evaluate` writes ``report.json`` (metrics under the three protocols, the alphanumeric
subset, out-of-charset count, character confusions), ``predictions.parquet`` (one row per word),
``errors.png`` and ``errors.html`` (the worst mistakes, crop + label + prediction). Every row of
the split is scored by :func:`textrec_model.scoring.score`, the scoring of training validation,
including labels the model cannot spell: they count as errors.
"""

from __future__ import annotations

import base64
import html
import io
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from rapidfuzz.distance import Levenshtein

from textrec_data.atomic import atomic_file
from textrec_data.bounds import check_choice, check_value
from textrec_data.charset import apply_case
from textrec_data.errors import InputError
from textrec_data.manifest import read_manifest_info
from textrec_data.outputs import claim_output, mark_output_dir, output_lock
from textrec_data.preprocess import decode_crop
from textrec_data.subset import name_stem, read_subset
from textrec_model.metrics import alnum_fold, char_confusions
from textrec_model.predictor import BATCH_SIZE, DEFAULT_BATCH_SIZE, DecodeConfig
from textrec_model.recognizer import (
    DEFAULT_RUNTIME,
    RUNTIMES,
    SHIPPED,
    THREADS,
    Recognizer,
    read_lexicon,
)
from textrec_model.scoring import SplitRow, score, spellable, split_rows

PREDICTIONS_SCHEMA = pa.schema(
    [
        ("image_id", pa.string()),
        ("line_no", pa.int32()),
        ("label", pa.string()),
        ("prediction", pa.string()),
        ("confidence", pa.float32()),
        ("edit_distance", pa.int32()),
        ("correct", pa.bool_()),
        ("correct_ci", pa.bool_()),
        ("correct_alnum", pa.bool_()),
        ("in_charset", pa.bool_()),
    ]
)
GALLERY_SIZE = 40
#: What eval writes into --out: an --out holding anything else is refused.
EVAL_FILES = ("report.json", "predictions.parquet", "errors.png", "errors.html")


@dataclass(frozen=True)
class EvalConfig:
    """Options of one evaluation (saved in report.json)."""

    checkpoint: str | None
    manifest: str
    out: str
    split: str = "test"
    batch_size: int = DEFAULT_BATCH_SIZE
    decoder: str = "greedy"
    beam_width: int = 10
    lexicon: str | None = None
    onnx: str | None = None
    subset: str | None = None
    rotate: str = "none"
    runtime: str = DEFAULT_RUNTIME
    threads: int = 0
    shipped: str = "default"

    def __post_init__(self) -> None:
        """Refuse unusable options by name (decoder, beam width, rotate: :class:`DecodeConfig`)."""
        check_value("--batch-size", self.batch_size, BATCH_SIZE)
        check_choice("--runtime", self.runtime, RUNTIMES)
        check_choice("--model", self.shipped, tuple(SHIPPED))
        check_value("--threads", self.threads, THREADS)
        DecodeConfig(self.decoder, self.beam_width, rotate=self.rotate)

    def inputs(self) -> list[tuple[str, str | None]]:
        """The files eval reads, by option: --out may not be, contain or lie inside one."""
        return [
            ("--checkpoint", self.checkpoint),
            ("--onnx", self.onnx),
            ("--manifest", self.manifest),
            ("--lexicon", self.lexicon),
            ("--subset", self.subset),
        ]


def _read_split(
    path: str, split: str, subset: set[str] | None = None
) -> tuple[list[SplitRow], str, int]:
    """The labelled rows of ``split`` (whose image stem is in ``subset``, if given), the
    manifest's case policy and how many unlabeled rows were passed over. A split without
    labels is refused."""
    info = read_manifest_info(path)
    if info.split_count(split) == info.unlabeled_count(split):
        have = info.metadata.get("counts", {}).get("splits", {})
        raise InputError(
            f"{path}: no rows in split {split!r} with a label (splits: {have or 'none'})"
        )
    keep = None if subset is None else (lambda row: _stem(row) in subset)
    every = list(split_rows([path], split, keep, labelled=False))
    rows = [row for row in every if row.label is not None]
    if not rows and subset is None:  # the footer's counts said otherwise (a subset that
        # matches nothing is reported by _subset_report): never score an empty split
        raise InputError(f"{path}: no rows in split {split!r}")
    return rows, info.charset.case, len(every) - len(rows)


def _stem(row: SplitRow) -> str:
    """The image file stem a --subset file names a row by."""
    return name_stem(row.image_path or row.image_id)


def _subset_report(config: EvalConfig, listed: set[str], stems: list[str]) -> dict:
    """What a --subset file matched (InputError when it matches no row of the split)."""
    missing = sorted(listed - set(stems))
    if not stems:
        raise InputError(
            f"{config.subset}: none of its {len(listed)} images is in split {config.split!r} "
            f"of {config.manifest}"
        )
    return {"file": config.subset, "listed": len(listed), "rows": len(stems),
            "not_found": len(missing), "not_found_examples": missing[:20]}  # fmt: skip


def evaluate(config: EvalConfig, progress: bool = True) -> dict:
    """Run the evaluation described by ``config``; returns the report (also in OUT). OUT may
    not be, contain or lie inside an input, nor hold other files than :data:`EVAL_FILES`; one
    process at a time writes it."""
    out = Path(config.out)
    with output_lock(out):
        claim_output(out, "eval", EVAL_FILES, config.inputs())
        return _evaluate(config, out, progress)


def _evaluate(config: EvalConfig, out: Path, progress: bool) -> dict:
    recognizer = Recognizer.load(
        config.checkpoint, config.onnx, config.batch_size, config.runtime, config.threads,
        config.shipped,
    )  # fmt: skip
    lexicon = read_lexicon(config.lexicon) if config.lexicon else None
    decode = DecodeConfig(config.decoder, config.beam_width, lexicon, config.rotate)
    listed = set(read_subset(config.subset)) if config.subset else None
    rows, manifest_case, unlabeled = _read_split(config.manifest, config.split, listed)
    stems = [_stem(row) for row in rows]
    subset = _subset_report(config, listed, stems) if listed is not None else None
    out.mkdir(parents=True, exist_ok=True)
    mark_output_dir(out, "eval")

    started = time.perf_counter()
    metrics = score(recognizer, rows, decode, progress)
    seconds = time.perf_counter() - started
    texts = [p.text for p in metrics.predictions]
    confidences = [p.confidence for p in metrics.predictions]
    labels = [r.label for r in rows]
    unreadable = set(metrics.unreadable)
    charset = recognizer.charset
    in_charset = [spellable(label, charset) for label in labels]
    pairs = list(zip(texts, labels, strict=True))
    report = {
        "split": config.split,
        "subset": subset,
        **metrics.figures(),
        "unlabeled_skipped": unlabeled,
        "unreadable_crops": [f"{r.image_id}:{r.line_no}" for r in rows if r.index in unreadable],
        "subsets": {"alphanumeric": asdict(metrics.alphanumeric)},
        "decoder": config.decoder if not lexicon else f"{config.decoder}+lexicon",
        "lexicon_words": len(lexicon) if lexicon else None,
        "rotate": config.rotate,
        "charset_case": charset.case,
        "manifest_case": manifest_case,
        "char_confusions": char_confusions(
            [(t, apply_case(label, charset.case)) for t, label in pairs]
        ),
        "seconds": round(seconds, 2),
        "words_per_second": round(len(labels) / max(seconds, 1e-9), 1),
        "config": asdict(config),
    }

    table = pa.table(
        {
            "image_id": [r.image_id for r in rows],
            "line_no": [r.line_no for r in rows],
            "label": labels,
            "prediction": texts,
            "confidence": confidences,
            "edit_distance": [Levenshtein.distance(t, lab) for t, lab in pairs],
            "correct": [t == lab for t, lab in pairs],
            "correct_ci": [t.lower() == lab.lower() for t, lab in pairs],
            "correct_alnum": [alnum_fold(t) == alnum_fold(lab) for t, lab in pairs],
            "in_charset": in_charset,
        },
        schema=PREDICTIONS_SCHEMA,
    )
    with atomic_file(out / "predictions.parquet") as tmp:
        pq.write_table(table, tmp)
    gallery = []
    for i in _worst_mistakes(table, GALLERY_SIZE):
        crop = decode_crop(rows[i].crop, recognizer.spec.channels)
        if crop is not None:
            gallery.append((crop, labels[i], texts[i], confidences[i]))
    write_error_gallery(out, gallery)
    with atomic_file(out / "report.json") as tmp:
        tmp.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def _worst_mistakes(table: pa.Table, limit: int) -> list[int]:
    """Rows not correct under the alnum protocol, most confident first (confident mistakes are
    the instructive ones), then by edit distance."""
    data = table.select(["correct_alnum", "confidence", "edit_distance"]).to_pydict()
    wrong = [i for i, ok in enumerate(data["correct_alnum"]) if not ok]
    wrong.sort(key=lambda i: (-data["confidence"][i], -data["edit_distance"][i], i))
    return wrong[:limit]


def write_error_gallery(out: Path, items: list[tuple[np.ndarray, str, str, float]]) -> None:
    """``errors.png`` (matplotlib grid) and ``errors.html`` of (crop, label, prediction, conf);
    crops uint8 ``(h, w)`` grey or ``(h, w, 3)`` RGB."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    cols = 4
    rows = max(1, -(-len(items) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 3.2, rows * 1.3), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (crop, label, prediction, confidence) in zip(axes.ravel(), items, strict=False):
        ax.imshow(crop, cmap="gray", aspect="auto")
        ax.set_title(f"{label!r} -> {prediction!r} ({confidence:.2f})", fontsize=7)
    if not items:
        axes[0, 0].text(0.5, 0.5, "no mistakes", ha="center", va="center")
    fig.tight_layout()
    with atomic_file(out / "errors.png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)

    cells = []
    for crop, label, prediction, confidence in items:
        buffer = io.BytesIO()
        Image.fromarray(crop).save(buffer, format="PNG")
        data = base64.b64encode(buffer.getvalue()).decode()
        cells.append(
            f'<tr><td><img src="data:image/png;base64,{data}" height="48"></td>'
            f"<td>{html.escape(label)}</td><td>{html.escape(prediction)}</td>"
            f"<td>{confidence:.3f}</td></tr>"
        )
    page = (
        "<!doctype html><meta charset='utf-8'><title>textrec errors</title>"
        "<table border='1' cellpadding='4'><tr><th>crop</th><th>label</th><th>prediction</th>"
        f"<th>confidence</th></tr>{''.join(cells)}</table>\n"
    )
    with atomic_file(out / "errors.html") as tmp:
        tmp.write_text(page, encoding="utf-8")
