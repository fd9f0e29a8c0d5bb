"""`textrec merge`: WiSE-FT, a fine-tuned checkpoint's weights interpolated towards its init."""

from __future__ import annotations

import click

from pipelines.common import user_errors
from textrec_model.merge import write_merge
from textrec_model.models import PRETRAINED


@click.command("merge")
@click.option(
    "--base", required=True,
    help=f"The weights fine-tuning started from: a checkpoint or a pretrained name "
    f"({', '.join(PRETRAINED)}); mapped to --tuned's charset.",
)  # fmt: skip
@click.option(
    "--tuned", required=True, type=click.Path(dir_okay=False),
    help="The fine-tuned checkpoint (best.pt / last.pt); same architecture and size as --base.",
)  # fmt: skip
@click.option(
    "--alpha", type=float, default=0.5, show_default=True,
    help="Weight of --tuned: 0 gives --base, 1 gives --tuned.",
)  # fmt: skip
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Output file.")
@user_errors
def command(base, tuned, alpha, out) -> None:
    """Write (1 - ALPHA) * BASE + ALPHA * TUNED as an inference-only checkpoint (WiSE-FT: keeps
    much of what the base reads elsewhere, most of what fine-tuning gained). Pick ALPHA on val
    sets with `textrec eval --checkpoint OUT`: the domain's and a general one."""
    merged = write_merge(base, tuned, alpha, out)
    click.echo(f"wrote {out} (alpha {alpha}: {merged.model_args['arch']}, base {base})")
