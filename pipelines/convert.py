"""`textrec convert`: a manifest as a DTRB/PARSeq/MMOCR LMDB or an ICDAR 2015 Task 4.3 crop list."""

from __future__ import annotations

import click

from pipelines.common import user_errors
from textrec_data.convert import FORMATS, ConvertConfig, convert
from textrec_data.manifest import SPLITS


@click.command("convert")
@click.argument("manifest", type=click.Path())
@click.option(
    "--to", required=True, type=click.Choice(list(FORMATS)),
    help="; ".join(f"{name}: {fmt.summary}" for name, fmt in FORMATS.items()) + ".",
)  # fmt: skip
@click.option("--out", required=True, type=click.Path(), help="Output directory.")
@click.option("--split", type=click.Choice(SPLITS), help="Only this split (default: every row).")
@click.option("--overwrite", is_flag=True, help="Replace an existing, non-empty OUT.")
@user_errors
def command(**options) -> None:
    """Write MANIFEST's labels and crops (bytes as stored) in another tool's format.

    Reading OUT back with `textrec manifest --format NAME` (NAME the --to format) gives the same
    labels and the same crops.
    """
    report = convert(ConvertConfig(**options))
    click.echo(
        f"wrote {report['written']} words to {options['out']} as {options['to']} "
        f"({report['rows_per_second']} rows/s)"
    )
    if report["unlabeled_skipped"]:
        click.echo(f"skipped {report['unlabeled_skipped']} unlabeled rows (no label to write)")
