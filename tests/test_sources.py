"""The sources seam: any Source's records become manifest rows or rejects, all accounted for."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

import cv2
import numpy as np
import pandas as pd
import pytest

from textrec_data.build import ManifestConfig, build_manifest
from textrec_data.records import CroppedWord, Origin, Record, Reject
from textrec_data.sources import SOURCES, Plan
from textrec_data.sources.icdar15 import Icdar15Source


def _word_image(height: int, width: int) -> np.ndarray:
    rng = np.random.default_rng(height * width)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


@dataclass(frozen=True)
class CropListSource:
    """Two lists of already cropped words: a crop file, a missing one and a malformed line; then
    a crop given as bytes and two undecodable ones."""

    crops: str
    name: ClassVar[str] = "test-crops"

    def plan(self) -> Plan:
        return Plan(["list_a.txt", "list_b.txt"], {"crop_dir": self.crops})

    def read(self, unit: str) -> list[Record]:
        if unit == "list_a.txt":
            return [
                CroppedWord(Origin(unit, 1, "a.png,Hi"), "a", f"{self.crops}/a.png", "Hi"),
                CroppedWord(Origin(unit, 2, "gone.png,No"), "gone", None, "No"),
                Reject(Origin(unit, 3, "a.png"), "malformed"),
            ]
        png = cv2.imencode(".png", _word_image(12, 30))[1].tobytes()
        return [
            CroppedWord(Origin(unit, 1, "<png>"), "b", png, "Bytes"),
            CroppedWord(Origin(unit, 2, "<junk>"), "junk", b"not an image", "x"),
            CroppedWord(Origin(unit, 3, "<empty>"), "empty", b"", "y"),
        ]


@pytest.mark.parametrize("workers", [1, 2])
def test_cropped_words_missing_images_and_rejects_are_all_accounted_for(tmp_path, workers):
    crops = tmp_path / "crops"
    crops.mkdir()
    cv2.imwrite(str(crops / "a.png"), _word_image(20, 50))
    out = tmp_path / "out"
    config = ManifestConfig(images="", gt="", out=str(out), split="train", workers=workers)
    report = build_manifest(config, progress=False, source=CropListSource(str(crops)))

    assert (report["kept"], report["rejected"], report["gt_lines"]) == (2, 4, 6)
    assert report["accounting_ok"] and report["crop_dir"] == str(crops)
    assert report["counts"]["gt_files"] == 2
    assert json.loads((out / "report.json").read_text())["gt_lines"] == 6
    rows = pd.read_parquet(out / "manifest.parquet")
    assert list(rows["text"]) == ["Hi", "Bytes"]
    assert rows["image_path"].tolist()[0] == f"{crops}/a.png" and rows["image_path"].isna()[1]
    assert rows["quad"].isna().all()  # pre-cropped words have no quad (format version 2)
    assert set(rows["source"]) == {"test-crops"}
    assert rows["crop"].iloc[0] == (crops / "a.png").read_bytes()  # PNG kept as it came
    expected_crops = (_word_image(20, 50), _word_image(12, 30))
    for row, expected in zip(rows.itertuples(), expected_crops, strict=True):
        crop = cv2.imdecode(np.frombuffer(row.crop, np.uint8), cv2.IMREAD_COLOR)
        assert np.array_equal(crop, expected)
        assert (row.crop_h, row.crop_w) == crop.shape[:2]
    rejects = pd.read_parquet(out / "rejects.parquet")
    assert rejects[["gt_path", "line_no", "reason"]].values.tolist() == [
        ["list_a.txt", 2, "missing_image"],
        ["list_a.txt", 3, "malformed"],
        ["list_b.txt", 2, "unreadable_image"],
        ["list_b.txt", 3, "unreadable_image"],
    ]


def test_reject_reasons_are_one_closed_set():
    with pytest.raises(ValueError, match="REJECT_REASONS"):
        Reject(Origin("gt.txt", 1, "x"), "no_such_reason")


def test_icdar15_is_registered_by_its_format_name():
    assert SOURCES["icdar15"] is Icdar15Source
