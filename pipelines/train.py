"""`textrec train` (placeholder until the training stage lands)."""

import click


@click.command("train")
def command() -> None:
    """Train a CRNN-CTC recognizer on a manifest."""
