"""Regenerate the reference blocks of the docs (`make docs`): each command's `--help` in
docs/CLI.md, the manifest schema (manifest.MANIFEST_SCHEMA) and the reject reasons
(records.REJECT_REASONS) in docs/DATA.md and docs/DESIGN.md.

    python -m tools.gen_docs [--check]     # --check: exit 1 naming the files that are stale
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
from click.testing import CliRunner

from pipelines.cli import COMMANDS, main
from textrec_data.manifest import MANIFEST_SCHEMA
from textrec_data.records import REJECT_REASONS
from tools.docblocks import run, table

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "docs" / name for name in ("CLI.md", "DATA.md", "DESIGN.md")]

#: What each manifest column holds (the types come from MANIFEST_SCHEMA itself).
COLUMN_MEANINGS = {
    "image_id": "scene image stem (`img_12`), crop path without extension (`test/word_1`), or "
    "`LMDB-folder/000000012`",
    "image_path": "the image file as resolved at build time (null: LMDB bytes)",
    "gt_path": "where the word came from: the GT file, list, JSON, LMDB folder or folder of crops",
    "line_no": "1-based line, sample or annotation number in `gt_path` (`images`: the file's "
    "number in the folder's order)",
    "quad": "x1,y1,...,x4,y4 as in the GT (IC13 boxes and polygons: the quad cut); null for a "
    "pre-cropped word",
    "text": "transcription exactly as in the GT (BOM/CR/LF removed, word-list quoting undone, "
    "NFC); null in an unlabeled row",
    "label": "training target after the `--case` policy; null in an unlabeled row (a word "
    "without transcription kept by `--unlabeled keep`, a crop of `--format images`)",
    "split": "train / val / test",
    "crop": "the word image, colour, native resolution: PNG of the rectified crop, or a "
    "pre-cropped word's own PNG/JPEG bytes",
    "crop_h": "crop height in pixels",
    "crop_w": "crop width in pixels",
    "source": "the format read (`--format` name): `icdar15`, `wordcrops`, `tsv`, `lmdb`, "
    "`icdar13`, `cocotext`, `textocr`, `images`",
}


def type_name(kind: pa.DataType) -> str:
    """An Arrow type as the docs write it (``fixed_size_list<float>[8]``, ``dictionary string``)."""
    if pa.types.is_fixed_size_list(kind):
        return f"fixed_size_list<{kind.value_type}>[{kind.list_size}]"
    if pa.types.is_dictionary(kind):
        return f"dictionary {kind.value_type}"
    return str(kind)


def schema_table() -> str:
    """The manifest's columns: name, Arrow type, meaning."""
    names = set(MANIFEST_SCHEMA.names)
    if names != set(COLUMN_MEANINGS):
        raise KeyError(
            f"COLUMN_MEANINGS differs from MANIFEST_SCHEMA: {names ^ set(COLUMN_MEANINGS)}"
        )
    rows = [[f"`{f.name}`", type_name(f.type), COLUMN_MEANINGS[f.name]] for f in MANIFEST_SCHEMA]
    return table(["column", "type", "meaning"], rows)


def rejects_table() -> str:
    """The closed list of reject reasons."""
    return table(["reason", "meaning"], [[f"`{k}`", v] for k, v in REJECT_REASONS.items()])


def command_help(args: list[str]) -> str:
    """`textrec ARGS --help` as printed on a 100-column terminal, in a text fence.

    click keeps the help option a command first built: one invoked on its own (as tests do)
    keeps plain `--help` without the group's `-h`, so it is built again here."""
    command = main.get_command(None, args[0]) if args else main
    command._help_option = None
    result = CliRunner().invoke(main, [*args, "--help"], prog_name="textrec", terminal_width=100)
    if result.exit_code != 0:
        raise RuntimeError(f"textrec {' '.join(args)} --help failed: {result.output}")
    return "```text\n" + result.output.rstrip() + "\n```"


def renderers() -> dict[str, Callable[[], str]]:
    """Block name -> its generator."""
    render: dict[str, Callable[[], str]] = {"schema": schema_table, "rejects": rejects_table}
    render["cli:textrec"] = lambda: command_help([])
    for name in COMMANDS:
        render[f"cli:{name}"] = lambda name=name: command_help([name])
    return render


if __name__ == "__main__":
    sys.exit(run(DOCS, renderers(), "make docs"))
