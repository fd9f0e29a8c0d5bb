"""`textrec stats`: look at a manifest (counts, charset, percentiles, contact sheet)."""

from __future__ import annotations

import click

from pipelines.common import user_errors
from textrec_data.stats import check_sample, manifest_stats, write_contact_sheet


def _fmt_pct(stats: dict) -> str:
    return "  ".join(f"{k}={v:g}" for k, v in stats.items()) or "-"


@click.command("stats")
@click.argument("manifest", type=click.Path())
@click.option("--sheet", type=click.Path(dir_okay=False), help="Write a contact sheet PNG here.")
@click.option("--n", default=64, show_default=True, help="Crops on the contact sheet.")
@click.option("--seed", default=0, show_default=True, help="Seed of the crop sample.")
@user_errors
def command(manifest: str, sheet: str | None, n: int, seed: int) -> None:
    """Print counts by split and reject reason, charset frequencies and size percentiles."""
    check_sample(n, seed)
    unreadable = write_contact_sheet(manifest, sheet, n, seed) if sheet else []
    stats = manifest_stats(manifest)
    click.echo(f"{stats['manifest']}: {stats['rows']} rows in {stats['row_groups']} row groups")
    click.echo("splits:  " + ", ".join(f"{k} {v}" for k, v in stats["splits"].items()))
    unlabeled = ", ".join(f"{k} {v}" for k, v in stats["unlabeled"].items())
    click.echo(f"unlabeled (no label, in the splits above): {unlabeled or '-'}")
    click.echo("rejects: " + (", ".join(f"{k} {v}" for k, v in stats["rejects"].items()) or "-"))
    click.echo(f"charset ({len(stats['charset'])}, case {stats['case']}): {stats['charset']}")
    freq = "  ".join(f"{c!r}:{k}" for c, k in stats["char_frequencies"].items())
    click.echo(f"character frequencies: {freq}")
    click.echo(f"label length: {_fmt_pct(stats['label_length'])}")
    click.echo(f"crop height:  {_fmt_pct(stats['crop_height'])}")
    click.echo(f"crop width:   {_fmt_pct(stats['crop_width'])}")
    if unreadable:
        click.echo(f"left off {len(unreadable)} unreadable crops: {', '.join(unreadable)}")
    if sheet:
        click.echo(f"wrote contact sheet {sheet}")
