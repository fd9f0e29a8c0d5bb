"""The ``textrec`` command: a click group of thin stage commands, each imported when it runs (so
that `textrec manifest` starts without importing torch)."""

from __future__ import annotations

import importlib

import click

from pipelines.common import OneLineErrors
from textrec_data import __version__
from textrec_data.images import single_threaded_opencv

COMMANDS = (
    "synth",
    "backgrounds",
    "manifest",
    "convert",
    "stats",
    "label",
    "train",
    "eval",
    "predict",
    "export",
    "merge",
    "models",
)


class LazyGroup(OneLineErrors):
    """A group whose command ``NAME`` is ``pipelines.NAME.command``, imported on first use; its
    usage errors are one line (:class:`OneLineErrors`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        return importlib.import_module(f"pipelines.{name}").command


@click.group(
    "textrec",
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="textrec")
def main() -> None:
    """textrec: ICDAR ground truth -> Parquet manifest -> CRNN-CTC recognizer.

    Typical flow: `textrec synth` (or your data in a format `manifest --format` reads) ->
    `textrec manifest` -> `textrec stats` -> `textrec train` -> `textrec eval` / `textrec predict`
    / `textrec export`. `textrec convert` writes a manifest as LMDB or a word-crop list;
    `textrec label` labels a manifest's rows with a teacher model (pseudo-labels);
    `textrec models` lists the architecture presets and pretrained models.
    """
    single_threaded_opencv()


if __name__ == "__main__":
    main()
