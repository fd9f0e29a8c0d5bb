"""Helpers of the misuse suite (tests/test_misuse*.py): a small world of textrec inputs and
outputs, the CLI run in-process, and README's promise as an assertion."""

from __future__ import annotations

import json
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from click.testing import CliRunner, Result
from manifest_factory import word_crop
from PIL import Image
from shared_run import SharedRun

from pipelines.cli import main
from textrec_data.build import ManifestConfig, build_manifest
from textrec_model.export import export_model


@dataclass(frozen=True)
class World:
    """What the misuse cases work on (never modified by a case: cases copy what they change)."""

    root: Path
    dataset: Path  # images/ + gt/: two ICDAR 2015 scenes
    built: Path  # a `textrec manifest` output folder of that dataset
    manifest: Path  # a trainable manifest (train and val rows, charset a-i): the shared run's
    run: Path  # a finished run of RUN_OPTIONS on it (tests/shared_run.py): last.pt, best.pt, ...
    onnx: Path  # its ONNX export
    crop: Path  # a word-crop PNG
    lexicon: Path

    @property
    def checkpoint(self) -> Path:
        return self.run / "last.pt"

    def fill(self, arg: str, out: Path) -> str:
        """``arg`` with {out}, {manifest}, {checkpoint}, ... replaced by paths."""
        names = {"out": out, "images": self.dataset / "images", "gt": self.dataset / "gt"}
        names.update({k: getattr(self, k) for k in ("manifest", "checkpoint", "onnx", "crop")})
        names.update({k: self.root / f"lexicons/{k}.txt" for k in LEXICONS})
        names["missing"] = self.root / "missing.txt"
        return arg.format(**{k: str(v) for k, v in names.items()})


#: Lexicon files under root/lexicons, by name: a good one and unusable ones.
LEXICONS = {
    "words": b"abc\nbad\ncafe\n",
    "empty": b"\n\n",
    "binary": pickle.dumps({"not": "words"}),
    "long_line": b"abc\n" + b"x" * 2_000_000 + b"\n",
}


def build_world(root: Path, scenes, shared: SharedRun) -> World:
    """Create every input and output the cases need; the manifest and run are ``shared``'s."""
    dataset = root / "dataset"
    images, gt = dataset / "images", dataset / "gt"
    quad = ",".join(str(v) for v in scenes.PATCH)
    for k in (1, 2):
        scenes.write(images, gt, f"img_{k}", [f"{quad},abc"], scenes.image())
    images, gt = str(images), str(gt)
    build_manifest(ManifestConfig(images, gt, str(root / "built"), workers=1), progress=False)
    export_model(shared.checkpoint, root / "model.onnx", "onnx")
    crop = root / "crop.png"
    Image.fromarray(word_crop("abc", np.random.default_rng(0))).save(crop)
    for name, data in LEXICONS.items():
        (_mkdir(root / "lexicons") / f"{name}.txt").write_bytes(data)
    lexicon = root / "lexicons" / "words.txt"
    return World(root, dataset, root / "built", shared.manifest, shared.run, root / "model.onnx",
                 crop, lexicon)  # fmt: skip


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def cli(*args: object) -> Result:
    """``textrec ARGS`` in-process, through the real entry point (click group included)."""
    return CliRunner().invoke(main, [str(a) for a in args])


def refused(result: Result, *words: str) -> str:
    """README's promise for a refused command: exit 2, one line ``error: ...`` naming what is
    wrong (each of ``words`` in it), no traceback. Returns the line."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def succeeded(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def snapshot(path: Path) -> dict[str, bytes]:
    """Every file under ``path`` (or the file itself) with its bytes: equal before and after
    means nothing was deleted, added or changed."""
    if path.is_file():
        return {path.name: path.read_bytes()}
    files = sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p.relative_to(path)): p.read_bytes() for p in files}


class Payload:
    """Unpickling this creates the file ``path``: proof that code ran."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (os.mknod, (self.path,))


def payload_checkpoint(world: World, path: Path, marker: Path) -> Path:
    """The world's checkpoint with a pickle payload inside, saved as textrec saves."""
    state = torch.load(world.checkpoint, weights_only=True)
    torch.save({**state, "extra": Payload(marker)}, path)
    return path


def textrec_metadata(path: Path) -> dict:
    """The ``textrec`` JSON of a manifest's footer."""
    return json.loads(pq.ParquetFile(path).metadata.metadata[b"textrec"])


def write_as_manifest(table: pa.Table, path: Path, metadata: dict) -> Path:
    """``table`` as a Parquet file with ``metadata`` as its textrec footer JSON."""
    pq.write_table(table.replace_schema_metadata({b"textrec": json.dumps(metadata)}), path)
    return path


def rewrite_manifest(
    src: Path, dst: Path, crops: dict[int, bytes] | None = None, crop_metadata=None
) -> Path:
    """A copy of manifest ``src`` (its footer metadata kept) with some rows' crop bytes
    replaced, or with Arrow field metadata on the crop column."""
    table = pq.read_table(src)
    index = table.schema.get_field_index("crop")
    column = table["crop"].to_pylist()
    for row, data in (crops or {}).items():
        column[row] = data
    field = table.schema.field("crop").with_metadata(crop_metadata)
    table = table.set_column(index, field, pa.array(column, pa.binary()))
    return write_as_manifest(table, dst, textrec_metadata(src))
