"""`--format auto`: each format is told from its --gt path; unsure cases name the candidates."""

from __future__ import annotations

import json

import lmdb
import pytest
from click.testing import CliRunner

from pipelines.manifest import command as manifest_command
from textrec_data.errors import InputError
from textrec_data.sources.detect import candidates, detect_format


def _write(path, text: str | bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("gt/gt_img_1.txt", "\ufeff1,1,9,1,9,9,1,9,SCAN\r\n1,1,9,1,9,9,1,9,###\r\n", "icdar15"),
        ("gt/gt_100.txt", '1 1 9 9 "Footpath"\n1 1 9 9 "To"\n', "icdar13"),
        ("gt/gt_img_2.txt", '38, 43, 920, 215, "Tiredness"\n', "icdar13"),
        ("list/gt.txt", '\ufeffword_1.png, "JOINT"\r\nword_2.png, "1,000"\r\n', "wordcrops"),
        ("list/labels.txt", "test/a.png\thello\ntest/b.jpg\tworld\n", "tsv"),
        (
            "coco.json",
            json.dumps({"anns": {"1": {"legibility": "legible"}}, "imgs": {}}),
            "cocotext",
        ),
        ("textocr.json", json.dumps({"imgs": {}, "anns": {"a": {"points": []}}}), "textocr"),
    ],
)
def test_each_format_is_detected(tmp_path, name, content, expected):
    path = _write(tmp_path / name, content)
    gt = path.parent if name.startswith("gt/") else path
    assert candidates(gt) == [expected]
    assert detect_format(str(gt)) == expected


def test_lmdb_folder_is_detected(tmp_path):
    (tmp_path / "sets").mkdir()
    lmdb.open(str(tmp_path / "sets" / "MJ"), map_size=1 << 20).close()
    assert detect_format(str(tmp_path / "sets")) == "lmdb"


def test_json_markers_found_past_the_first_block(tmp_path):
    imgs = {str(i): {"file_name": f"{i:0200d}.jpg"} for i in range(6000)}  # > 1 MiB first
    path = _write(tmp_path / "big.json", json.dumps({"imgs": imgs, "img2Anns": {}}))
    assert path.stat().st_size > 1 << 20 and detect_format(str(path)) == "textocr"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("gt/gt_img_1.txt", "\r\n", "icdar15 or icdar13"),  # only blank lines: either
        ("empty.txt", "", "wordcrops or tsv"),
        ("notes.txt", "just some words\nand more\n", "not like any format"),
        ("plain.json", "{}", "not like any format"),
    ],
)
def test_unsure_detection_is_one_line_naming_the_candidates(tmp_path, name, content, message):
    path = _write(tmp_path / "data" / name, content)
    gt = path.parent if name.startswith("gt/") else path
    with pytest.raises(InputError, match=message):
        detect_format(str(gt))
    images = tmp_path / "data"  # --out may not lie inside an input
    args = ["--format", "auto", "--images", images, "--gt", gt, "--out", tmp_path / "out"]
    result = CliRunner().invoke(manifest_command, [str(a) for a in args])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.count("\n") == 1 and message in result.output
    assert result.output.startswith(f"error: {gt}: ")
