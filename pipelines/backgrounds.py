"""`textrec backgrounds`: scene photos with their text erased, for `textrec synth --backgrounds`."""

from __future__ import annotations

import click

from pipelines.common import user_errors
from textrec_data.synth.word.photos import write_backgrounds


@click.command("backgrounds")
@click.option("--images", required=True, type=click.Path(), help="Directory of scene images.")
@click.option("--gt", required=True, type=click.Path(), help="Directory of gt_<image>.txt files.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--max-side", default=960, show_default=True, help="Longest side of an output.")
@user_errors
def command(images: str, gt: str, out: str, max_side: int) -> None:
    """Write OUT/<image>.jpg: each image with a GT file, every GT quad (### too) inpainted.

    Use training images only: words of a test set must not reach training data.
    """
    count = write_backgrounds(images, gt, out, max_side)
    click.echo(f"wrote {count} backgrounds to {out}")
