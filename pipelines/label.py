"""`textrec label`: a manifest's rows labelled by a teacher model (pseudo-labels)."""

from __future__ import annotations

import click

from pipelines.common import user_errors
from pipelines.inference_options import batch_size_option, runtime_options
from textrec_model.models import PRETRAINED
from textrec_model.pseudo_label import ROW_CHOICES, LabelConfig, label_manifest


@click.command("label")
@click.option(
    "--teacher", required=True, metavar="SOURCE",
    help=f"The model that reads the crops: a textrec checkpoint or a pretrained name "
    f"({', '.join(PRETRAINED)}).",
)  # fmt: skip
@click.option("--manifest", required=True, type=click.Path(), help="Manifest file or directory.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option(
    "--rows", type=click.Choice(ROW_CHOICES), default="unlabeled", show_default=True,
    help="Rows the teacher labels: those without a label, or every row (its reading replaces "
    "the label).",
)  # fmt: skip
@click.option(
    "--min-confidence", type=float, default=0.0, show_default=True,
    help="A reading less confident than this (0-1) sends its row to the rejects "
    "(reason low_confidence).",
)  # fmt: skip
@batch_size_option
@runtime_options
@click.option("--overwrite", is_flag=True, help="Replace an earlier `textrec label` OUT.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@user_errors
def command(quiet: bool, **options) -> None:
    """Label a manifest's rows with a teacher's readings: OUT/manifest.parquet, which trains
    with `textrec train --manifest OUT` (distillation between any two models).

    The crops are read as `textrec eval` and `predict` read them. OUT/pseudo_labels.parquet
    lists the rows the teacher labelled (row, image_id, line_no, split, label, confidence,
    previous_label); rows it cannot label go to OUT/rejects.parquet with a reason, and
    OUT/report.json checks kept + rejected = rows read.
    """
    report = label_manifest(LabelConfig(**options), progress=not quiet)
    reasons = ", ".join(f"{k} {v}" for k, v in report["counts"]["reasons"].items()) or "none"
    click.echo(report["accounting"])
    click.echo(
        f"labelled by the teacher: {report['teacher_labelled']}; still unlabeled: "
        f"{report['unlabeled']}; rejected by reason: {reasons}"
    )
    click.echo(
        f"wrote {options['out']}/manifest.parquet, rejects.parquet, pseudo_labels.parquet, "
        "vocab.json, report.json"
    )
