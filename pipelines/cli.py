"""The ``textrec`` command: a click group of thin stage commands."""

from __future__ import annotations

import click

from pipelines import backgrounds, convert, export, manifest, predict, stats, synth, train
from pipelines import eval as eval_command
from pipelines.common import OneLineErrors
from textrec_data import __version__


@click.group(
    "textrec",
    cls=OneLineErrors,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="textrec")
def main() -> None:
    """textrec: ICDAR ground truth -> Parquet manifest -> CRNN-CTC recognizer.

    Typical flow: `textrec synth` (or your data in a format `manifest --format` reads) ->
    `textrec manifest` -> `textrec stats` -> `textrec train` -> `textrec eval` / `textrec predict`
    / `textrec export`. `textrec convert` writes a manifest as LMDB or a word-crop list.
    """


for _module in (synth, backgrounds, manifest, convert, stats, train, eval_command, predict, export):
    main.add_command(_module.command)


if __name__ == "__main__":
    main()
