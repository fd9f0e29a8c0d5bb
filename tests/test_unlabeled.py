"""Rows without label: ``###`` words kept by ``--unlabeled keep``, a folder of crops
(``--format images``), and what training, eval, convert and stats do with them."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pyarrow.parquet as pq
import pytest
from manifest_factory import mixed_manifest, write_manifest
from misuse import cli, refused, succeeded

from textrec_data.manifest import (
    FORMAT_VERSION,
    METADATA_KEY,
    read_manifest_info,
)
from textrec_data.stream import ManifestStream, StreamConfig
from textrec_model.train import TrainConfig, train

WORD = "60,40,140,40,140,80,60,80"
OTHER = "10,10,50,10,50,30,10,30"


def _scene_dataset(tmp_path, scenes):
    """Three scenes: 4 legible words, 3 `###` words (one on a scene whose image is missing)."""
    images, gt = tmp_path / "images", tmp_path / "gt"
    scenes.write(images, gt, "img_1", [f"{WORD},ab", f"{OTHER},###"], scenes.image())
    scenes.write(images, gt, "img_2", [f"{WORD},ba", f"{OTHER},####", f"{OTHER},a"], scenes.image())
    scenes.write(images, gt, "img_3", [f"{WORD},bb", f"{OTHER},###"])  # no image
    return images, gt


def _report(out) -> dict:
    return json.loads((out / "report.json").read_text())


def test_scene_placeholders_become_unlabeled_rows_with_keep(tmp_path, scenes):
    images, gt = _scene_dataset(tmp_path, scenes)
    base = ("manifest", "--images", images, "--gt", gt, "--workers", 1, "--quiet")
    succeeded(cli(*base, "--out", tmp_path / "reject"))
    rejected = _report(tmp_path / "reject")
    assert rejected["counts"]["reasons"] == {"missing_image": 1, "placeholder": 3}
    assert rejected["unlabeled"] == 0 and rejected["counts"]["unlabeled"] == {}

    output = succeeded(
        cli(*base, "--unlabeled", "keep", "--split", "train", "--out", tmp_path / "k")
    )
    assert "unlabeled among them: 2" in output
    report = _report(tmp_path / "k")
    assert report["accounting_ok"] and report["kept"] + report["rejected"] == 7
    # The `###` of the scene without image is rejected for its image, as a legible word would be.
    assert report["counts"]["reasons"] == {"missing_image": 2}
    assert report["counts"]["unlabeled"] == {"train": 2} and report["unlabeled"] == 2
    assert report["charset"] == ["a", "b"]  # built from labelled rows only: no '#'
    table = pq.read_table(tmp_path / "k" / "manifest.parquet").to_pydict()
    unlabeled = [i for i, label in enumerate(table["label"]) if label is None]
    assert [table["line_no"][i] for i in unlabeled] == [2, 2]
    assert all(table["text"][i] is None and table["quad"][i] is not None for i in unlabeled)
    assert all(table["crop_w"][i] > 0 for i in unlabeled)
    info = read_manifest_info(tmp_path / "k")
    assert info.metadata["format_version"] == FORMAT_VERSION == 3
    assert info.unlabeled_count("train") == 2 and info.split_count("train") == 5
    # Written as parts, the tallies of the parts merge to the same counts.
    keep = ("--unlabeled", "keep", "--split", "train", "--rows-per-part", 2)
    succeeded(cli(*base, *keep, "--out", tmp_path / "parts"))
    parts = read_manifest_info(tmp_path / "parts")
    assert parts.metadata["counts"] == info.metadata["counts"] and len(parts.groups) > 1


def _crop(i: int) -> bytes:
    crop = np.full((16, 24 + 4 * i, 3), 40 * i % 255, np.uint8)
    return cv2.imencode(".png", crop)[1].tobytes()


def test_folder_of_crops_becomes_unlabeled_rows(tmp_path):
    crops = tmp_path / "crops"
    (crops / "sub").mkdir(parents=True)
    for name in ("w_2.png", "w_10.png", "sub/w_1.png"):
        (crops / name).write_bytes(_crop(len(name)))
    (crops / "broken.jpg").write_bytes(b"not an image")
    (crops / "notes.txt").write_text("not a crop")
    args = ("manifest", "--format", "images", "--gt", crops, "--workers", 1, "--quiet")
    refused(cli(*args, "--out", tmp_path / "m"), "--format images", "--unlabeled keep")
    succeeded(cli(*args, "--unlabeled", "keep", "--val-fraction", 0, "--out", tmp_path / "m"))
    report = _report(tmp_path / "m")
    assert report["gt_lines"] == 4 and report["kept"] == 3 and report["rejected"] == 1
    assert report["accounting_ok"] and report["counts"]["reasons"] == {"unreadable_image": 1}
    assert report["counts"]["unlabeled"] == {"train": 3} and report["other_files"] == 1
    table = pq.read_table(tmp_path / "m" / "manifest.parquet").to_pydict()
    assert table["image_id"] == ["sub/w_1", "w_2", "w_10"]  # natural order of the paths
    assert table["label"] == [None] * 3 and table["text"] == [None] * 3
    assert set(table["source"]) == {"images"} and table["crop"][1] == _crop(len("w_2.png"))
    output = succeeded(cli("stats", tmp_path / "m"))
    assert "unlabeled (no label, in the splits above): train 3" in output


def test_stream_skips_unlabeled_rows_with_a_count(tmp_path):
    path, unlabeled = mixed_manifest(tmp_path)
    stream = ManifestStream([path], "train", StreamConfig(batch_size=8, shuffle=False), epochs=1)
    batches = list(stream)
    assert sum(b.skipped.get("unlabeled", 0) for b in batches) == unlabeled["train"]
    labelled = read_manifest_info(path).split_count("train") - unlabeled["train"]
    assert sum(len(b.labels) for b in batches) == labelled and all(b.labels for b in batches)


def test_training_eval_and_convert_skip_unlabeled_rows(tmp_path):
    path, unlabeled = mixed_manifest(tmp_path)
    config = TrainConfig(
        manifests=(str(path),), out=str(tmp_path / "run"), max_steps=4, eval_every=4,
        batch_size=8, workers=0, warmup_steps=1, log_every=1, pool_size=32,
    )  # fmt: skip
    metrics = train(config, False)  # steps on a mixed manifest: unlabeled rows counted
    assert metrics["skipped"]["unlabeled"] > 0 and np.isfinite(metrics["val_loss"])
    checkpoint = tmp_path / "run" / "last.pt"
    args = ("eval", "--checkpoint", checkpoint, "--manifest", path, "--split", "val", "--quiet")
    succeeded(cli(*args, "--out", tmp_path / "eval"))
    report = _report(tmp_path / "eval")
    val_rows = read_manifest_info(path).split_count("val")
    assert report["unlabeled_skipped"] == unlabeled["val"]
    assert report["n"] == val_rows - unlabeled["val"]

    converted = succeeded(cli("convert", path, "--to", "wordcrops", "--out", tmp_path / "wc"))
    total = sum(unlabeled.values())
    assert f"skipped {total} unlabeled rows" in converted
    lines = (tmp_path / "wc" / "gt.txt").read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == read_manifest_info(path).num_rows - total

    only_unlabeled, _ = mixed_manifest(tmp_path / "u", every=1)
    refused(cli(*args[:4], only_unlabeled, "--out", tmp_path / "e2"), "with a label")
    refused(cli("train", "--manifest", only_unlabeled, "--out", tmp_path / "r2"), "with a label")


def test_format_2_manifests_still_read(tmp_path):
    path = write_manifest(tmp_path / "v3.parquet", 20)
    table = pq.read_table(path)
    metadata = json.loads(pq.ParquetFile(path).metadata.metadata[METADATA_KEY])
    metadata["format_version"] = 2
    metadata["counts"].pop("unlabeled", None)
    pq.write_table(
        table.replace_schema_metadata({METADATA_KEY: json.dumps(metadata)}), tmp_path / "v2.parquet"
    )
    info = read_manifest_info(tmp_path / "v2.parquet")
    assert info.metadata["format_version"] == 2 and info.unlabeled_count("train") == 0
    batches = list(ManifestStream([tmp_path / "v2.parquet"], "train", StreamConfig(), epochs=1))
    assert sum(len(b.labels) for b in batches) == info.split_count("train")


@pytest.mark.parametrize(
    ("fmt", "lines"),
    [("wordcrops", 'a.png, "ab"\nb.png, "###"\n'), ("tsv", "a.png\tab\nb.png\t###\n")],
)
def test_placeholder_crops_of_a_list_kept_unlabeled(tmp_path, fmt, lines):
    crops = tmp_path / "crops"
    crops.mkdir()
    for name in ("a.png", "b.png"):
        (crops / name).write_bytes(_crop(2))
    (crops / "gt.txt").write_text(lines)
    args = ("manifest", "--format", fmt, "--gt", crops / "gt.txt", "--workers", 1, "--quiet")
    succeeded(cli(*args, "--unlabeled", "keep", "--out", tmp_path / "m"))
    labels = pq.read_table(tmp_path / "m" / "manifest.parquet")["label"].to_pylist()
    assert labels == ["ab", None]
    succeeded(cli(*args, "--out", tmp_path / "r"))
    assert _report(tmp_path / "r")["counts"]["reasons"] == {"placeholder": 1}


def test_synthetic_words_written_without_labels(tmp_path):
    args = ("synth", "--words", 12, "--workers", 1, "--quiet", "--val-fraction", 0)
    succeeded(cli(*args, "--no-labels", "--out", tmp_path / "w"))
    report = _report(tmp_path / "w")
    assert report["counts"]["unlabeled"] == {"train": 12} and report["accounting_ok"]
    table = pq.read_table(tmp_path / "w" / "manifest.parquet").to_pydict()
    assert table["label"] == [None] * 12 and all(w > 0 for w in table["crop_w"])
    refused(cli("synth", "--no-labels", "--out", tmp_path / "s"), "--no-labels", "--words")
