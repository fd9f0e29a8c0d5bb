"""`textrec eval`: word accuracy (three protocols), CER, 1-NED of a model on a manifest split."""

from __future__ import annotations

import click

from pipelines.common import user_errors
from pipelines.inference_options import batch_size_option, runtime_options, shipped_model_option
from textrec_data.manifest import default_split
from textrec_model.evaluate import EvalConfig, evaluate
from textrec_model.models import PRETRAINED
from textrec_model.recognizer import DECODERS, ROTATIONS


def format_report(report: dict) -> str:
    """The report's headline figures as a small text table."""
    rows = [("all", report), ("alphanumeric subset", report["subsets"]["alphanumeric"])]
    lines = [
        f"{'words':<20} {'n':>6} {'exact':>7} {'case-ins':>8} {'alnum':>7} {'CER':>7} {'1-NED':>7}"
    ]
    for name, m in rows:
        lines.append(
            f"{name:<20} {m['n']:>6} {m['word_accuracy']:>7.4f} {m['word_accuracy_ci']:>8.4f} "
            f"{m['word_accuracy_alnum']:>7.4f} {m['cer']:>7.4f} {m['ned']:>7.4f}"
        )
    lines.append(
        f"decoder {report['decoder']}; rotate {report['rotate']}; labels outside the model's "
        f"charset: {report['out_of_charset']}; {report['words_per_second']} words/s"
    )
    return "\n".join(lines)


@click.command("eval")
@click.option(
    "--checkpoint", type=click.Path(),
    help="best.pt / last.pt of `textrec train`, or a pretrained name "
    f"({', '.join(PRETRAINED)}) [the model textrec ships].",
)  # fmt: skip
@click.option("--onnx", type=click.Path(), help="Or a `textrec export --format onnx` file.")
@shipped_model_option
@click.option("--manifest", required=True, type=click.Path(), help="Manifest file or directory.")
@click.option("--split", default=None, help="Split of the manifest to score [test, else val].")
@click.option("--out", default="out/eval", show_default=True, type=click.Path(file_okay=False))
@batch_size_option
@click.option("--decoder", type=click.Choice(DECODERS), default="greedy", show_default=True)
@click.option("--beam-width", default=10, show_default=True, help="For --decoder beam.")
@click.option(
    "--rotate", type=click.Choice(ROTATIONS), default="none", show_default=True,
    help="vertical: a crop taller than wide is also read turned 90 degrees each way; "
    "the most confident reading wins.",
)  # fmt: skip
@click.option(
    "--lexicon",
    type=click.Path(),
    help="Word list (one per line): output the lexicon word that best explains each crop.",
)
@click.option(
    "--subset", type=click.Path(),
    help="Score only the images this file names (by file stem), e.g. MMOCR's "
    "textrecog_test_1811.json for IC15-1811; also a JSON list or one name per line.",
)  # fmt: skip
@runtime_options
@click.option("--quiet", is_flag=True, help="No progress bar.")
@user_errors
def command(quiet: bool, **options) -> None:
    """Score a model on one split; writes OUT/report.json, predictions.parquet, errors.png/html.

    Protocols: exact match, case-insensitive, and alphanumeric (case-insensitive, only ASCII letters
    and digits compared: the protocol of most recognition papers).
    """
    chosen = options["split"] is None
    if chosen:
        options["split"] = default_split(options["manifest"])
    config = EvalConfig(**options)
    report = evaluate(config, progress=not quiet)
    if chosen:
        click.echo(f"split {config.split!r} (no --split given: test, else val)")
    click.echo(format_report(report))
    if report["subset"]:
        sub = report["subset"]
        click.echo(f"subset {sub['file']}: {sub['rows']} rows; {sub['not_found']} names not found")
    if report["charset_case"] != report["manifest_case"]:
        click.echo(
            f"note: the model's labels are case {report['charset_case']!r}, the manifest's "
            f"{report['manifest_case']!r}: exact accuracy, CER and 1-NED count case differences "
            f"(build the manifest with --case {report['charset_case']} to compare like for like)"
        )
    click.echo(f"wrote {config.out}/report.json, predictions.parquet, errors.png, errors.html")
