"""`textrec models`: the architecture presets and pretrained names textrec knows."""

from __future__ import annotations

import click

from pipelines.common import user_errors
from textrec_model.catalog import catalog_rows, format_catalog


@click.command("models")
@user_errors
def command() -> None:
    """List every --model preset and pretrained name (--init, --checkpoint, export) with its
    input (channels x height, width rule), charset size, parameters and weights size."""
    click.echo(format_catalog(catalog_rows()))
