"""`textrec manifest`: ground truth in any format read -> manifest.parquet (+ rejects, vocab,
report), or a directory of parts (--rows-per-part, --engine dask, a URL --out)."""

from __future__ import annotations

import click

from pipelines.common import user_errors
from textrec_data.build import build_manifest
from textrec_data.charset import CASE_POLICIES
from textrec_data.engines import ENGINES
from textrec_data.manifest import PARTS_METADATA
from textrec_data.manifest_config import SPLIT_MODES, UNLABELED_MODES, ManifestConfig
from textrec_data.sources import DEFAULT_FORMAT, FORMATS

FORMAT_HELP = (
    "Format of --gt: icdar15 (folder of gt_<image>.txt, 8 coordinates + text), wordcrops "
    "(list of cropped words 'word_1.png, \"text\"', ICDAR 2015 Task 4.3), tsv (path<TAB>text), "
    "lmdb (DTRB/PARSeq LMDB folder, or a folder of several), icdar13 (folder of gt_<image>.txt, "
    "'x1 y1 x2 y2 \"text\"'), cocotext (COCO-Text v2 JSON), textocr (TextOCR JSON), images "
    "(a folder of crops without GT: unlabeled rows, needs --unlabeled keep), auto (detect; the "
    "error names the candidates when unsure; never images)."
)
ENGINE_HELP = "local (default): a process pool here; dask: a Dask cluster (textrec[dask] extra)."
NOTES = {
    "images_without_gt": "images without GT",
    "gt_without_image": "GT files without image",
    "images_without_annotations": "images without annotations",
    "lmdb_num_samples": "LMDB num-samples",
    "other_files": "files that are not images",
}


@click.command("manifest")
@click.option(
    "--format", type=click.Choice(FORMATS), default=DEFAULT_FORMAT, show_default=True,
    help=FORMAT_HELP,
)  # fmt: skip
@click.option(
    "--images", type=click.Path(),
    help="Directory of the images (scene images; for wordcrops/tsv the crops, default: the "
    "list's folder; not used with lmdb).",
)  # fmt: skip
@click.option("--gt", required=True, type=click.Path(), help="Ground truth: folder or file.")
@click.option("--out", required=True, type=click.Path(), help="Output directory (or URL).")
@click.option(
    "--split", type=click.Choice(SPLIT_MODES), default="auto", show_default=True,
    help="auto: whole images to train/val by a stable hash; or mark every word with one split.",
)  # fmt: skip
@click.option("--val-fraction", default=0.1, show_default=True, help="Share of images in val.")
@click.option("--seed", default=0, show_default=True, help="Seed of the train/val hash.")
@click.option(
    "--case", type=click.Choice(CASE_POLICIES), default="keep", show_default=True,
    help="Label case policy (text column always keeps the GT as written).",
)  # fmt: skip
@click.option(
    "--charset", type=click.Path(), default=None,
    help="A vocab.json to use instead of building one; other words are rejected (out_of_charset).",
)  # fmt: skip
@click.option(
    "--unlabeled", type=click.Choice(UNLABELED_MODES), default="reject", show_default=True,
    help="Words without transcription (###): reject (reason placeholder), or keep as rows with "
    "null text and label (for distillation; training skips them, the charset ignores them).",
)  # fmt: skip
@click.option("--workers", default=0, show_default=True, help="Processes (0: all cores).")
@click.option("--engine", type=click.Choice(ENGINES), default="local", help=ENGINE_HELP)
@click.option(
    "--rows-per-part", type=click.IntRange(min=1), default=None,
    help="Write OUT/manifest/ as parts of about N rows (always parts with dask or a URL OUT).",
)  # fmt: skip
@click.option("--address", default=None, help="Dask scheduler (else $DASK_SCHEDULER_ADDRESS).")
@click.option("--overwrite", is_flag=True, help="Replace an existing, non-empty OUT.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@user_errors
def command(quiet: bool, **options) -> None:
    """Read ground truth (--format), crop every legible word, write a Parquet manifest.

    Every GT line or record ends up either in OUT/manifest.parquet or in OUT/rejects.parquet
    with a reason (OUT/manifest/ and OUT/rejects/ when written as parts); OUT/report.json checks
    kept + rejected = records read. Paths may be s3://, gs:// or file:// URLs.
    """
    report = build_manifest(ManifestConfig(**options), progress=not quiet)
    splits = ", ".join(f"{k} {v}" for k, v in report["counts"]["splits"].items()) or "none"
    reasons = ", ".join(f"{k} {v}" for k, v in report["counts"]["reasons"].items()) or "none"
    click.echo(f"{report['accounting']} ({report['rows_per_second']} rows/s)")
    click.echo(f"kept by split: {splits}; unlabeled among them: {report['unlabeled']}")
    click.echo(f"rejected by reason: {reasons}")
    notes = "".join(f"; {text}: {report[key]}" for key, text in NOTES.items() if key in report)
    click.echo(f"format {report['source']}; charset: {len(report['charset'])} characters{notes}")
    written = "manifest.parquet, rejects.parquet"
    if "parts" in report:
        written = f"manifest/ ({report['parts']} parts, metadata {PARTS_METADATA}), rejects/"
    click.echo(f"wrote {options['out']}/{written}, vocab.json, report.json")
