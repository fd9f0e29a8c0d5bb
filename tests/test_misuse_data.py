"""Misuse suite, part 2 (issue #15): resume with changed options, files carrying pickle payloads
or corrupt metadata, and degenerate data (empty splits, corrupt crops, 16-bit images,
decompression bombs, file names that are not UTF-8). Part 1: tests/test_misuse.py."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from manifest_factory import word_crop, write_manifest
from misuse import (
    Payload,
    cli,
    payload_checkpoint,
    refused,
    rewrite_manifest,
    snapshot,
    succeeded,
    textrec_metadata,
    write_as_manifest,
)
from shared_run import RUN_OPTIONS, train_manifest

from textrec_model.checkpoint import load_checkpoint
from textrec_model.train import TrainConfig, train

# ---------------------------------------------------------------- resume: exact or refused

#: The unfinished run's options, as the CLI spells them.
RUN_ARGS = ["--max-steps", "2", "--eval-every", "1", "--batch-size", "8", "--workers", "0",
            "--lr", "0.003", "--quiet"]  # fmt: skip


@pytest.fixture(scope="module")
def unfinished(world, tmp_path_factory) -> Path:
    """A run of 2 steps stopped after step 1 (last.pt at step 1)."""
    from textrec_model import train as train_module

    out = tmp_path_factory.mktemp("unfinished") / "run"
    config = TrainConfig(manifests=(str(world.manifest),), out=str(out), max_steps=2,
                         eval_every=1, batch_size=8, workers=0, lr=0.003)  # fmt: skip
    original, calls = train_module.validate, []

    def validate_then_stop(run):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("simulated crash")
        return original(run)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(train_module, "validate", validate_then_stop)
        with pytest.raises(RuntimeError, match="simulated crash"):
            train(config, progress=False)
    assert load_checkpoint(out / "last.pt")["step"] == 1
    return out


def _resume(world, run: Path, *changes: str, manifest: Path | None = None):
    args = ["train", "--manifest", manifest or world.manifest, "--out", run, *RUN_ARGS]
    return cli(*args, *changes, "--resume")


CHANGES = [
    ["--lr", "0.5"],
    ["--batch-size", "16"],
    ["--max-steps", "5"],
    ["--epochs", "2"],
    ["--seed", "1"],
    ["--workers", "2"],
    ["--max-width", "128"],
    ["--no-augment"],
    ["--model", "crnn"],
]


@pytest.mark.parametrize("change", CHANGES, ids=[" ".join(c) for c in CHANGES])
def test_a_resume_that_changes_the_run_is_refused(world, unfinished, tmp_path, change):
    run = shutil.copytree(unfinished, tmp_path / "run")
    before = snapshot(run)
    line = refused(_resume(world, run, *change), "cannot resume")
    named = {"--no-augment": "--augment", "--model": "--model"}.get(change[0], change[0])
    assert named in line, line
    assert snapshot(run) == before


def test_a_resume_on_other_manifest_contents_is_refused(world, unfinished, tmp_path):
    run = shutil.copytree(unfinished, tmp_path / "run")
    other = train_manifest(tmp_path / "other.parquet", seed=9)  # same charset, other rows
    refused(_resume(world, run, manifest=other), "--manifest (other contents")


def test_a_moved_manifest_with_the_same_contents_resumes(world, unfinished, tmp_path):
    run = shutil.copytree(unfinished, tmp_path / "run")
    moved = shutil.copy2(world.manifest, tmp_path / "moved.parquet")
    succeeded(_resume(world, run, "--eval-every", "2", manifest=Path(moved)))
    saved = json.loads((run / "config.json").read_text())
    assert saved["eval_every"] == 2 and saved["manifests"] == [str(moved)]  # applied, recorded
    assert load_checkpoint(run / "last.pt")["config"]["eval_every"] == 2
    log = pd.read_json(run / "metrics.jsonl", lines=True)
    assert list(log.loc[log["kind"] == "val", "step"]) == [1, 2]  # step 1 before, then step 2


@pytest.mark.parametrize("damage", ["torn last line", "garbage line"])
def test_a_damaged_training_log_on_resume(world, unfinished, tmp_path, damage):
    """A kill during an append leaves a torn last line: dropped on resume. Any other line that
    is not a log record is refused by file and line, the run left as it was."""
    run = shutil.copytree(unfinished, tmp_path / "run")
    log = run / "metrics.jsonl"
    if damage == "torn last line":
        log.write_text(log.read_text() + '{"kind": "train", "st')
        succeeded(_resume(world, run))
        records = [json.loads(line) for line in log.read_text().splitlines()]  # all whole
        assert [(r["kind"], r["step"]) for r in records] == [("val", 1), ("train", 2), ("val", 2)]
    else:
        log.write_text("not json\n" + log.read_text())
        before = snapshot(run)
        refused(_resume(world, run), f"{log}: line 1 is not a record")
        assert snapshot(run) == before


def test_a_finished_run_is_not_resumed(world, tmp_path):
    run = shutil.copytree(world.run, tmp_path / "run")
    args = ["train", "--manifest", world.manifest, "--out", run, *RUN_OPTIONS, "--resume"]
    refused(cli(*args), "nothing to resume")


# ---------------------------------------------------------------- files that could run code


@pytest.mark.parametrize("command", ["eval", "predict", "export", "train --resume"])
def test_a_checkpoint_with_a_pickle_payload_is_refused_and_never_runs(world, tmp_path, command):
    marker = tmp_path / "pwned"
    if command == "train --resume":
        run = shutil.copytree(world.run, tmp_path / "run")
        payload_checkpoint(world, run / "last.pt", marker)
        args = ["train", "--manifest", world.manifest, "--out", run, "--resume"]
    else:
        ckpt = payload_checkpoint(world, tmp_path / "evil.pt", marker)
        args = {
            "eval": ["eval", "--checkpoint", ckpt, "--manifest", world.manifest, "--split", "val",
                     "--out", tmp_path / "e"],
            "predict": ["predict", "--checkpoint", ckpt, world.crop],
            "export": ["export", "--checkpoint", ckpt, "--out", tmp_path / "m.onnx"],
        }[command]  # fmt: skip
    refused(cli(*args), "could run code")
    assert not marker.exists()


def test_a_manifest_with_a_pickled_arrow_type_never_runs_it(world, tmp_path):
    """CVE-2023-47248's shape: an Arrow extension type whose metadata is a pickle."""
    marker = tmp_path / "pwned"
    evil = {"ARROW:extension:name": "arrow.py_extension_type",
            "ARROW:extension:metadata": pickle.dumps(Payload(marker))}  # fmt: skip
    manifest = rewrite_manifest(world.manifest, tmp_path / "evil.parquet", crop_metadata=evil)
    stored = pq.read_schema(manifest).field("crop").metadata  # the payload is in the file
    assert stored[b"ARROW:extension:name"] == b"arrow.py_extension_type"
    succeeded(cli("stats", manifest, "--sheet", tmp_path / "s.png", "--n", "4"))
    args = ["--checkpoint", world.checkpoint, "--manifest", manifest, "--split", "val"]
    succeeded(cli("eval", *args, "--out", tmp_path / "e", "--quiet"))
    assert not marker.exists()


def test_a_pickled_charset_or_lexicon_is_refused_and_never_runs(world, tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.json"
    evil.write_bytes(pickle.dumps(Payload(marker)))
    args = ["--images", world.dataset / "images", "--gt", world.dataset / "gt"]
    refused(cli("manifest", *args, "--out", tmp_path / "m", "--charset", evil), str(evil))
    args = ["--checkpoint", world.checkpoint, "--manifest", world.manifest, "--split", "val"]
    refused(cli("eval", *args, "--out", tmp_path / "e", "--lexicon", evil), str(evil))
    assert not marker.exists()


def _with_onnx_metadata(world, path: Path, value: str) -> Path:
    import onnx

    proto = onnx.load(str(world.onnx))
    (entry,) = [e for e in proto.metadata_props if e.key == "textrec"]
    entry.value = value
    onnx.save(proto, str(path))
    return path


@pytest.mark.parametrize(
    "value",
    ["not json", "[1, 2]", '{"charset": {"charset": ["a"]}}',
     '{"charset": {"charset": ["a"]}, "height": 32, "max_width": 0}',
     '{"charset": {"charset": ["a"]}, "input_spec": {"height": 0}, "max_width": 256}'],
    ids=["not JSON", "a list", "keys missing", "max_width 0", "height 0"],
)  # fmt: skip
def test_onnx_with_corrupt_textrec_metadata_is_refused(world, tmp_path, value):
    model = _with_onnx_metadata(world, tmp_path / "m.onnx", value)
    refused(cli("predict", "--onnx", model, world.crop), "corrupt textrec metadata")


# ---------------------------------------------------------------- empty and degenerate data


def _manifest_without(world, path: Path, split: str) -> Path:
    """The world's manifest without the rows of ``split``, its footer still counting them."""
    table = pq.read_table(world.manifest)
    kept = table.filter(pc.not_equal(table["split"].cast(pa.string()), split))
    return write_as_manifest(kept, path, textrec_metadata(world.manifest))


def test_eval_on_a_split_without_rows_is_refused(world, tmp_path):
    manifest = _manifest_without(world, tmp_path / "m.parquet", "val")
    args = ["--checkpoint", world.checkpoint, "--manifest", manifest, "--split", "val"]
    refused(cli("eval", *args, "--out", tmp_path / "e"), "no rows in split 'val'")
    assert not (tmp_path / "e").exists()


def test_train_without_val_rows_is_refused(world, tmp_path):
    manifest = write_manifest(tmp_path / "m.parquet", 20, val_every=1000)  # train rows only
    args = ["train", "--manifest", manifest, "--out", tmp_path / "r", "--workers", "0"]
    refused(cli(*args), "no rows in split 'val'")
    assert not (tmp_path / "r").exists()


def test_a_manifest_with_no_rows(world, tmp_path):
    manifest = write_manifest(tmp_path / "m.parquet", 0)
    assert "0 rows" in succeeded(cli("stats", manifest, "--sheet", tmp_path / "s.png"))
    refused(cli("train", "--manifest", manifest, "--out", tmp_path / "r"), "no rows in split")
    args = ["--checkpoint", world.checkpoint, "--manifest", manifest, "--split", "val"]
    refused(cli("eval", *args, "--out", tmp_path / "e"), "no rows in split")


@pytest.fixture(scope="module")
def corrupt(world, tmp_path_factory) -> Path:
    """The world's manifest with a decompression bomb and an empty crop in train, garbage in
    val."""
    table = pq.read_table(world.manifest, columns=["split"])
    splits = table["split"].to_pylist()
    first_val = splits.index("val")
    crops = {0: _png_header(100_000, 100_000), 1: b"", first_val: b"not an image"}
    return rewrite_manifest(world.manifest, tmp_path_factory.mktemp("c") / "m.parquet", crops)


def test_corrupt_crops_are_skipped_and_counted_in_training(corrupt, tmp_path):
    args = ["train", "--manifest", corrupt, "--out", tmp_path / "r", "--max-steps", "1"]
    succeeded(cli(*args, "--batch-size", "64", "--workers", "0", "--quiet"))
    log = pd.read_json(tmp_path / "r" / "metrics.jsonl", lines=True)
    assert log["skipped"].dropna().iloc[-1]["unreadable_crop"] == 2  # both train rows, skipped
    assert log.loc[log["kind"] == "val", "unreadable"].iloc[-1] == 1  # scored as an error


def test_corrupt_crops_are_scored_as_errors_and_listed_in_eval(world, corrupt, tmp_path):
    args = ["--checkpoint", world.checkpoint, "--manifest", corrupt, "--split", "val"]
    succeeded(cli("eval", *args, "--out", tmp_path / "e", "--quiet"))
    report = json.loads((tmp_path / "e" / "report.json").read_text())
    table = pd.read_parquet(corrupt).query("split == 'val'")
    assert report["n"] == len(table)  # every row scored
    first = table.iloc[0]
    assert report["unreadable_crops"] == [f"{first.image_id}:{first.line_no}"]


def test_corrupt_crops_are_left_off_the_contact_sheet_by_row(corrupt, tmp_path):
    output = succeeded(cli("stats", corrupt, "--sheet", tmp_path / "s.png", "--n", "40"))
    assert "left off 3 unreadable crops: img_0:1, img_0:2, img_" in output


def _png_header(width: int, height: int) -> bytes:
    """A PNG claiming width x height pixels with almost no data: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = chunk(b"IDAT", zlib.compress(b"\x00" * 100))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + data + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [100_000, 10_000], ids=["Pillow's error limit", "warning limit"])
def test_a_decompression_bomb_crop_is_refused_by_name(world, tmp_path, size):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_header(size, size))
    refused(cli("predict", "--checkpoint", world.checkpoint, bomb), str(bomb))


@pytest.mark.parametrize("image", ["bomb", "empty"])
def test_an_undecodable_scene_image_is_rejected_not_a_crash(world, tmp_path, scenes, image):
    images, gt = tmp_path / "images", tmp_path / "gt"
    quad = ",".join(str(v) for v in scenes.PATCH)
    scenes.write(images, gt, "img_1", [f"{quad},abc"], scenes.image())
    data = _png_header(100_000, 100_000) if image == "bomb" else b""
    scenes.write(images, gt, "img_2", [f"{quad},abc"], data)
    output = succeeded(cli("manifest", "--images", images, "--gt", gt, "--out", tmp_path / "m",
                           "--workers", "1", "--quiet"))  # fmt: skip
    assert "rejected by reason: unreadable_image 1" in output


@pytest.mark.parametrize("depth", ["16-bit gray", "16-bit RGB", "bool"])
def test_images_of_other_depths_are_scaled_not_clipped(world, tmp_path, depth):
    gray = word_crop("abc", np.random.default_rng(0))[:, :, 0]
    eight = tmp_path / "eight.png"
    cv2.imwrite(str(eight), gray if depth != "bool" else (gray > 127).astype(np.uint8) * 255)
    other = tmp_path / "other.png"
    if depth == "bool":
        from PIL import Image

        Image.fromarray(gray > 127).save(other)  # mode "1"
    else:
        wide = gray.astype(np.uint16) * 257
        cv2.imwrite(str(other), wide if depth == "16-bit gray" else np.dstack([wide] * 3))
    lines = succeeded(cli("predict", "--checkpoint", world.checkpoint, eight, other)).splitlines()
    first, second = (line.split("\t")[1:] for line in lines)
    assert first == second  # same text, same confidence


def _latin1_name(directory: Path, name: bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return directory / os.fsdecode(name)


def test_file_names_that_are_not_utf8_are_refused_by_name(world, tmp_path, scenes):
    crop = _latin1_name(tmp_path, b"caf\xe9.png")
    shutil.copy2(world.crop, crop)
    refused(cli("predict", "--checkpoint", world.checkpoint, crop), "caf\\udce9", "not valid UTF-8")
    images, gt = tmp_path / "images", tmp_path / "gt"
    quad = ",".join(str(v) for v in scenes.PATCH)
    scenes.write(images, gt, os.fsdecode(b"caf\xe9"), [f"{quad},abc"], scenes.image())
    args = ["--images", images, "--gt", gt, "--out", tmp_path / "m", "--quiet"]
    refused(cli("manifest", *args), "UTF-8")
    args = ["--images", images, "--gt", gt, "--out", tmp_path / "p.csv"]
    refused(cli("predict", "--checkpoint", world.checkpoint, *args), "UTF-8")
    assert not (tmp_path / "m").exists() and not (tmp_path / "p.csv").exists()


def test_val_words_no_width_can_emit_are_refused_not_scored_as_zero(tmp_path):
    labels = ["ab", "ba"] * 8 + ["abcdefgh"] * 4  # val: 8 letters need 32 px, --max-width 16
    manifest = write_manifest(tmp_path / "m.parquet", 20, labels=labels, val_every=1000)
    table = pq.read_table(manifest)
    split = pa.array(["train"] * 16 + ["val"] * 4).dictionary_encode()
    table = table.set_column(table.schema.get_field_index("split"), "split", split)
    meta = textrec_metadata(manifest)
    meta["counts"]["splits"] = {"train": 16, "val": 4}
    write_as_manifest(table, manifest, meta)
    args = ["train", "--manifest", manifest, "--out", tmp_path / "r", "--max-width", "16"]
    refused(cli(*args, "--max-steps", "1", "--workers", "0", "--quiet"), "no val word can be")
    assert not (tmp_path / "r" / "best.pt").exists()


def test_a_non_finite_loss_is_a_user_error_naming_lr(world, tmp_path, monkeypatch):
    from textrec_model import train as train_module

    monkeypatch.setattr(train_module, "ctc_loss_mean", lambda logits, *a: logits.sum() * np.nan)
    args = ["train", "--manifest", world.manifest, "--out", tmp_path / "r", "--lr", "0.9"]
    refused(cli(*args, "--max-steps", "1", "--workers", "0", "--quiet"), "--lr 0.9", "non-finite")
