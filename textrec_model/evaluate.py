"""`textrec eval`: scoring a model on one split of a manifest (metrics: :mod:`.metrics`).

:func:`evaluate` writes ``report.json`` (metrics under the three protocols, the alphanumeric
subset, out-of-charset count, character confusions), ``predictions.parquet`` (one row per word),
``errors.png`` and ``errors.html`` (the worst mistakes, crop + label + prediction). Every row of
the split is scored, including labels the model cannot spell: they count as errors.
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
from textrec_data.charset import apply_case
from textrec_data.errors import InputError
from textrec_data.manifest import read_manifest_info
from textrec_data.preprocess import decode_crop
from textrec_model.metrics import (
    alnum_fold,
    char_confusions,
    compute_metrics,
    is_alphanumeric_word,
)
from textrec_model.recognizer import DecodeConfig, Recognizer, read_lexicon

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


@dataclass(frozen=True)
class EvalConfig:
    """Options of one evaluation (saved in report.json)."""

    checkpoint: str | None
    manifest: str
    out: str
    split: str = "test"
    batch_size: int = 256
    decoder: str = "greedy"
    beam_width: int = 10
    lexicon: str | None = None
    onnx: str | None = None


def _read_split(path: str, split: str) -> tuple[dict[str, list], str]:
    """Columns image_id, line_no, label, crop of ``split`` rows, read one row group at a time,
    and the manifest's case policy."""
    info = read_manifest_info(path)
    if info.split_count(split) == 0:
        have = info.metadata.get("counts", {}).get("splits", {})
        raise InputError(f"{path}: no rows in split {split!r} (splits: {have or 'none'})")
    columns = ["image_id", "line_no", "label", "crop", "split"]
    out: dict[str, list] = {c: [] for c in columns[:-1]}
    for g in range(len(info.groups)):
        part = info.read_group(g, columns).to_pydict()
        for j, s in enumerate(part["split"]):
            if s == split:
                for c in out:
                    out[c].append(part[c][j])
    return out, info.charset.case


def _metrics_dict(predictions: list[str], labels: list[str]) -> dict:
    return asdict(compute_metrics(predictions, labels))


def evaluate(config: EvalConfig, progress: bool = True) -> dict:
    """Run the evaluation described by ``config``; returns the report (also in OUT)."""
    recognizer = Recognizer.load(config.checkpoint, config.onnx, config.batch_size)
    lexicon = read_lexicon(config.lexicon) if config.lexicon else None
    decode = DecodeConfig(config.decoder, config.beam_width, lexicon)
    rows, manifest_case = _read_split(config.manifest, config.split)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    grays = [decode_crop(png) for png in rows["crop"]]
    predictions = recognizer.predict(grays, decode, progress=progress)
    texts = [p.text for p in predictions]
    confidences = [p.confidence for p in predictions]
    seconds = time.perf_counter() - started

    labels = rows["label"]
    pairs = list(zip(texts, labels, strict=True))
    charset = recognizer.charset
    in_charset = [not charset.missing(apply_case(label, charset.case)) for label in labels]
    alnum_index = [i for i, label in enumerate(labels) if is_alphanumeric_word(label)]
    report = {
        "split": config.split,
        **_metrics_dict(texts, labels),
        "out_of_charset": len(labels) - sum(in_charset),
        "subsets": {
            "alphanumeric": _metrics_dict(
                [texts[i] for i in alnum_index], [labels[i] for i in alnum_index]
            )
        },
        "decoder": config.decoder if not lexicon else f"{config.decoder}+lexicon",
        "lexicon_words": len(lexicon) if lexicon else None,
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
            "image_id": rows["image_id"],
            "line_no": rows["line_no"],
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
    worst = _worst_mistakes(table, GALLERY_SIZE)
    write_error_gallery(out, [(grays[i], labels[i], texts[i], confidences[i]) for i in worst])
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
    """``errors.png`` (matplotlib grid) and ``errors.html`` of (crop, label, prediction, conf)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    cols = 4
    rows = max(1, -(-len(items) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 3.2, rows * 1.3), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, (gray, label, prediction, confidence) in zip(axes.ravel(), items, strict=False):
        ax.imshow(gray, cmap="gray", aspect="auto")
        ax.set_title(f"{label!r} -> {prediction!r} ({confidence:.2f})", fontsize=7)
    if not items:
        axes[0, 0].text(0.5, 0.5, "no mistakes", ha="center", va="center")
    fig.tight_layout()
    with atomic_file(out / "errors.png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)

    cells = []
    for gray, label, prediction, confidence in items:
        buffer = io.BytesIO()
        Image.fromarray(gray).save(buffer, format="PNG")
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
