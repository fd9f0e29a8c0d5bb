"""`textrec synth`: write the synthetic ICDAR 2015-format dataset (the embedded default)."""

from __future__ import annotations

import click

from pipelines.common import user_errors
from textrec_data.synth import SynthConfig, write_synth_dataset


@click.command("synth")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option(
    "--images",
    type=click.IntRange(min=1),
    default=SynthConfig.images,
    show_default=True,
    help="Scene images.",
)
@click.option("--seed", default=SynthConfig.seed, show_default=True, help="Random seed.")
@click.option("--overwrite", is_flag=True, help="Replace an existing dataset in OUT.")
@user_errors
def command(out: str, images: int, seed: int, overwrite: bool) -> None:
    """Write OUT/images/img_K.jpg and OUT/gt/gt_img_K.txt in the ICDAR 2015 format."""
    summary = write_synth_dataset(out, SynthConfig(images=images, seed=seed), overwrite=overwrite)
    click.echo(
        f"wrote {summary.images} images, {summary.words} words "
        f"({summary.placeholders} ###) to {summary.out_dir}"
    )
