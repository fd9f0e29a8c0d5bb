"""`textrec manifest`: ICDAR 2015 images + GT -> manifest.parquet (+ rejects, vocab, report)."""

from __future__ import annotations

import click

from pipelines.common import user_errors
from textrec_data.build import SPLIT_MODES, ManifestConfig, build_manifest
from textrec_data.charset import CASE_POLICIES
from textrec_data.engines import ENGINES
from textrec_data.manifest import PARTS_METADATA

ENGINE_HELP = "local (default): a process pool here; dask: a Dask cluster (textrec[dask] extra)."


@click.command("manifest")
@click.option("--images", required=True, type=click.Path(), help="Directory of scene images.")
@click.option("--gt", required=True, type=click.Path(), help="Directory of gt_<image>.txt files.")
@click.option("--out", required=True, type=click.Path(), help="Output directory.")
@click.option(
    "--split",
    type=click.Choice(SPLIT_MODES),
    default="auto",
    show_default=True,
    help="auto: whole images to train/val by a stable hash; or mark every word with one split.",
)
@click.option("--val-fraction", default=0.1, show_default=True, help="Share of images in val.")
@click.option("--seed", default=0, show_default=True, help="Seed of the train/val hash.")
@click.option(
    "--case",
    type=click.Choice(CASE_POLICIES),
    default="keep",
    show_default=True,
    help="Label case policy (text column always keeps the GT as written).",
)
@click.option(
    "--charset",
    type=click.Path(),
    default=None,
    help="A vocab.json to use instead of building one; other words are rejected (out_of_charset).",
)
@click.option("--workers", default=0, show_default=True, help="Processes (0: all cores).")
@click.option("--engine", type=click.Choice(ENGINES), default="local", help=ENGINE_HELP)
@click.option(
    "--rows-per-part",
    type=click.IntRange(min=1),
    default=None,
    help="Write OUT/manifest/ as parts of about N rows (always parts with dask or a URL OUT).",
)
@click.option("--address", default=None, help="Dask scheduler (else $DASK_SCHEDULER_ADDRESS).")
@click.option("--overwrite", is_flag=True, help="Replace an existing, non-empty OUT.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@user_errors
def command(quiet: bool, **options) -> None:
    """Parse ICDAR 2015 GT, crop every legible word by its quad, write a Parquet manifest.

    Every GT line ends up either in OUT/manifest.parquet or in OUT/rejects.parquet with a reason
    (OUT/manifest/ and OUT/rejects/ when written as parts); OUT/report.json checks kept + rejected
    = lines read. Paths may be s3://, gs:// or file:// URLs.
    """
    report = build_manifest(ManifestConfig(**options), progress=not quiet)
    splits = ", ".join(f"{k} {v}" for k, v in report["counts"]["splits"].items()) or "none"
    reasons = ", ".join(f"{k} {v}" for k, v in report["counts"]["reasons"].items()) or "none"
    click.echo(f"{report['accounting']} ({report['rows_per_second']} rows/s)")
    click.echo(f"kept by split: {splits}")
    click.echo(f"rejected by reason: {reasons}")
    click.echo(
        f"charset: {len(report['charset'])} characters; images without GT: "
        f"{report['images_without_gt']}; GT files without image: {report['gt_without_image']}"
    )
    written = "manifest.parquet, rejects.parquet"
    if "parts" in report:
        written = f"manifest/ ({report['parts']} parts, metadata {PARTS_METADATA}), rejects/"
    click.echo(f"wrote {options['out']}/{written}, vocab.json, report.json")
