"""Scene-image formats beside ICDAR 2015: ICDAR 2013 boxes, COCO-Text v2 and TextOCR JSON."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipelines.manifest import command as manifest_command
from textrec_data.build import ManifestConfig, build_manifest, process
from textrec_data.geometry import polygon_quad
from textrec_data.records import REJECT_REASONS
from textrec_data.sources.cocojson import CocoTextSource, TextOcrSource
from textrec_data.sources.icdar13 import parse_ic13_line
from textrec_data.sources.icdar15 import GTReject, GTWord

X1, Y1, X2, Y2 = 60, 40, 140, 80  # the word patch of the `scenes` fixture


def _build(images, gt, out, fmt: str, workers: int = 1) -> dict:
    config = ManifestConfig(str(images), str(gt), str(out), fmt, split="test", workers=workers)
    return build_manifest(config, progress=False)


def _frames(out) -> tuple[pd.DataFrame, pd.Series]:
    rows = pd.read_parquet(out / "manifest.parquet")
    rejects = pd.read_parquet(out / "rejects.parquet").set_index("line_no")["reason"]
    return rows, rejects


def _assert_patch_crop(row, scenes) -> None:
    import cv2
    import numpy as np

    crop = cv2.imdecode(np.frombuffer(row.crop, np.uint8), cv2.IMREAD_COLOR)
    assert crop.shape[:2] == (Y2 - Y1, X2 - X1)
    assert np.allclose(scenes.quadrant_means(crop), scenes.LEVELS, atol=2)


# --- ICDAR 2013 -------------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
def test_icdar13_train_and_test_variants(tmp_path, scenes, workers):
    images, gt = tmp_path / "images", tmp_path / "gt"
    train = [f'{X1} {Y1} {X2} {Y2} "Footpath"', f'{X1} {Y1} {X2} {Y2} "\\"To\\""', ""]
    test = [f'{X1}, {Y1}, {X2}, {Y2}, "Tired, ness"', "1, 2, x, 4, word", '1 2 3 4 "open']
    scenes.write(images, gt, "100", train, scenes.image(), ".jpg", newline=b"\r\n", bom=True)
    scenes.write(images, gt, "img_1", test, scenes.image())
    report = _build(images, gt, tmp_path / "out", "icdar13", workers)
    assert report["accounting_ok"] and report["gt_lines"] == 6 and report["source"] == "icdar13"
    rows, rejects = _frames(tmp_path / "out")
    assert rows["text"].tolist() == ["Footpath", '"To"', "Tired, ness"]
    assert rows["quad"].iloc[2].tolist() == [X1, Y1, X2, Y1, X2, Y2, X1, Y2]
    _assert_patch_crop(next(rows.iloc[[2]].itertuples()), scenes)
    assert sorted(rejects.tolist()) == ["bad_coordinates", "blank_line", "malformed"]


@given(st.text())
@settings(max_examples=300, deadline=None)
def test_icdar13_parser_never_crashes(line):
    result = parse_ic13_line(line, 1)
    assert isinstance(result, GTWord | GTReject)
    if isinstance(result, GTReject):
        assert result.reason in REJECT_REASONS
    else:
        assert len(result.quad) == 8 and result.text.strip()


# --- COCO-Text and TextOCR ---------------------------------------------------------------------

PATCH_POLY = [X1, Y1, X2, Y1, X2, Y2, X1, Y2]


def _coco_ann(image_id, **fields) -> dict:
    ann = {"image_id": image_id, "legibility": "legible", "language": "english"}
    return {**ann, "class": "machine printed", "mask": PATCH_POLY, "bbox": [0, 0, 9, 9], **fields}


COCO_ANNS = {
    "11": _coco_ann(1, utf8_string="SCAN"),
    "12": _coco_ann(1, legibility="illegible"),
    "13": _coco_ann(1, utf8_string="Hallo", language="not english"),
    "14": _coco_ann(1, utf8_string="~", **{"class": "others"}),
    "15": _coco_ann(
        1, utf8_string="hand", mask=[], bbox=[X1, Y1, X2 - X1, Y2 - Y1], **{"class": "handwritten"}
    ),  # fmt: skip
    "16": _coco_ann(1, utf8_string="curve", mask=[X1, Y1, 100, Y1 - 2, X2, Y1, X2, Y2, X1, Y2]),
    "17": _coco_ann(1),  # legible but no transcription
    "18": _coco_ann(99, utf8_string="orphan"),
    "19": _coco_ann(2, utf8_string="nofile"),
    "20": _coco_ann(1, utf8_string="x", mask=["a"], bbox=None),
    "21": "not an annotation",
}


@pytest.fixture
def coco(tmp_path, scenes):
    images = tmp_path / "train2014"
    scenes.write(images, tmp_path / "unused", "COCO_train2014_000000000001", None, scenes.image())
    imgs = {
        "1": {"id": 1, "file_name": "COCO_train2014_000000000001.png", "set": "train"},
        "2": {"id": 2, "file_name": "COCO_train2014_000000000002.png", "set": "val"},
        "3": {"id": 3, "file_name": "COCO_train2014_000000000003.png", "set": "val"},
    }
    gt = tmp_path / "cocotext.v2.json"
    gt.write_text(json.dumps({"cats": {}, "anns": COCO_ANNS, "imgs": imgs, "imgToAnns": {}}))
    return {"images": images, "gt": gt}


def test_cocotext_reasons_and_quads(coco, tmp_path, scenes):
    report = _build(coco["images"], coco["gt"], tmp_path / "out", "cocotext")
    assert report["accounting_ok"] and report["gt_lines"] == len(COCO_ANNS)
    assert report["images_without_annotations"] == 1
    rows, rejects = _frames(tmp_path / "out")
    assert rows["text"].tolist() == ["SCAN", "hand", "curve"]
    assert set(rows["image_id"]) == {"COCO_train2014_000000000001"}
    for row in rows.iloc[:2].itertuples():
        _assert_patch_crop(row, scenes)
    assert rows["quad"].iloc[2].tolist()[:2] == pytest.approx([X1, Y1 - 2], abs=1)
    reasons = "illegible language text_class malformed missing_image missing_image bad_coordinates"
    assert rejects.sort_index().to_dict() == dict(
        zip([2, 3, 4, 7, 8, 9, 10, 11], [*reasons.split(), "malformed"], strict=True)
    )


def test_textocr_dot_is_illegible_and_polygons_are_cut(tmp_path, scenes):
    images = tmp_path / "textocr"
    scenes.write(images / "train", tmp_path / "unused", "a1", None, scenes.image(), ".jpg")
    anns = {
        "a1_1": {"image_id": "a1", "utf8_string": "Open", "points": PATCH_POLY},
        "a1_2": {"image_id": "a1", "utf8_string": ".", "points": PATCH_POLY},
        "a1_3": {"image_id": "a1", "utf8_string": "", "points": PATCH_POLY},
    }
    imgs = {"a1": {"id": "a1", "file_name": "train/a1.jpg", "set": "train"}}
    gt = tmp_path / "TextOCR_0.1_train.json"
    gt.write_text(json.dumps({"imgs": imgs, "anns": anns, "img2Anns": {"a1": list(anns)}}))
    args = ("--format", "auto", "--images", images, "--gt", gt, "--out", tmp_path / "o")
    result = CliRunner().invoke(manifest_command, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    assert "format textocr" in result.output
    rows, rejects = _frames(tmp_path / "o")
    assert rows["text"].tolist() == ["Open"]
    assert rejects.to_dict() == {2: "illegible", 3: "empty_label"}


def test_truncated_or_foreign_json_is_one_line_error(coco, tmp_path):
    data = coco["gt"].read_bytes()
    cases = {"truncated.json": data[: len(data) // 2], "list.json": b"[1, 2]", "empty.json": b"{}"}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        args = ["--format", "cocotext", "--images", coco["images"], "--gt", tmp_path / name]
        result = CliRunner().invoke(manifest_command, [str(a) for a in [*args, "--out", "o"]])
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {tmp_path / name}: "), lines


ANN_VALUES = st.one_of(
    st.none(),
    st.text(max_size=5),
    st.sampled_from(["legible", "english", "machine printed", "."]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.one_of(st.floats(), st.integers(-(10**40), 10**40), st.text(max_size=2))),
)
ANN_KEYS = ["image_id", "utf8_string", "legibility", "language", "class", "mask", "points", "bbox"]


@given(st.lists(st.dictionaries(st.sampled_from(ANN_KEYS), ANN_VALUES), max_size=12))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_fuzzed_annotations_are_each_kept_or_rejected(tmp_path_factory, scenes, anns):
    folder = tmp_path_factory.mktemp("json")
    scenes.write(folder, folder / "unused", "a", None, scenes.image())
    for ann in anns:
        ann.setdefault("image_id", "a")
    imgs = {"a": {"id": "a", "file_name": "a.png"}}
    gt = folder / "gt.json"
    gt.write_text(json.dumps({"imgs": imgs, "anns": dict(enumerate(anns))}, allow_nan=True))
    for source_class in (CocoTextSource, TextOcrSource):
        source = source_class(str(folder), str(gt))
        results = [process(source.read(unit), source=source.name) for unit in source.plan().units]
        assert sum(r.records for r in results) == len(anns)
        assert sum(len(r.rows) + len(r.rejects) for r in results) == len(anns)
        reasons = {r["reason"] for result in results for r in result.rejects}
        assert reasons <= set(REJECT_REASONS)


@given(st.lists(st.floats(-1e6, 1e6), max_size=20))
@example([8.795841782281351e-41, 0.0, 0.0, 0.0, 0.0, 8.795841782281351e-41])  # OpenCV gave NaN
@settings(max_examples=200, deadline=None)
def test_polygon_quad_of_three_or_more_points(values):
    quad = polygon_quad(values)
    if len(values) < 6 or len(values) % 2:
        assert quad is None
    else:
        assert len(quad) == 8 and all(abs(v) < 1e7 for v in quad)
        if len(values) == 8:
            assert quad == tuple(values)  # a quad keeps its point order


def test_polygon_quad_starts_at_the_corner_nearest_the_first_point():
    # a curved word, top edge left to right then bottom edge right to left (TotalText-style)
    polygon = [10, 20, 50, 10, 90, 20, 90, 40, 50, 30, 10, 40]
    quad = polygon_quad(polygon)
    assert quad[0] == pytest.approx(10, abs=1) and quad[1] < 25  # top-left first
    assert quad[2] > 80 and quad[5] > 35  # then clockwise: top-right, bottom-right
