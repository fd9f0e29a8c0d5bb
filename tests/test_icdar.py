"""ICDAR 2015 GT parsing and image/GT file pairing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from textrec_data.build import ManifestConfig, build_manifest
from textrec_data.records import REJECT_REASONS
from textrec_data.sources.files import index_images
from textrec_data.sources.icdar15 import (
    GTReject,
    GTWord,
    gt_stem,
    list_gt_files,
    parse_gt_bytes,
    parse_gt_line,
)

Q = "10,20,110,20,110,60.5,10,60.5"
QUAD = (10.0, 20.0, 110.0, 20.0, 110.0, 60.5, 10.0, 60.5)


def _reasons(results) -> list[str | None]:
    return [r.reason if isinstance(r, GTReject) else None for r in results]


@pytest.mark.parametrize(
    "label", ["1,000", '"SCAN"', "DON'T", "New York", " padded ", "a,b,,c", "x,1,2,3,4,5,6,7"]
)
def test_transcription_is_everything_after_the_eighth_comma(label):
    word = parse_gt_line(f"{Q},{label}", 7)
    assert isinstance(word, GTWord)
    assert word.text == label
    assert word.quad == QUAD
    assert word.line_no == 7
    assert word.raw == f"{Q},{label}"


def test_negative_and_float_coordinates_parse():
    word = parse_gt_line("-5,-2.5,30,0,30,20,-5,20,ok", 1)
    assert isinstance(word, GTWord)
    assert word.quad == (-5.0, -2.5, 30.0, 0.0, 30.0, 20.0, -5.0, 20.0)


def test_utf8_bom_is_removed():
    results = parse_gt_bytes(b"\xef\xbb\xbf" + f"{Q},first\n{Q},second\n".encode())
    assert [r.text for r in results] == ["first", "second"]
    assert results[0].quad == QUAD  # a kept BOM would make x1 unparseable
    assert results[0].raw == f"{Q},first"


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
@pytest.mark.parametrize("final_newline", [True, False])
def test_line_endings_and_final_newline(newline, final_newline):
    data = newline.join(f"{Q},{t}".encode() for t in ("one", "two", "three"))
    if final_newline:
        data += newline
    results = parse_gt_bytes(data)
    assert [r.text for r in results] == ["one", "two", "three"]
    assert [r.line_no for r in results] == [1, 2, 3]
    assert all("\r" not in r.raw and "\n" not in r.raw for r in results)


def test_blank_line_in_the_middle_is_rejected_and_numbering_kept():
    results = parse_gt_bytes(f"{Q},a\r\n\r\n{Q},b\r\n   \r\n{Q},c\r\n".encode())
    assert _reasons(results) == [None, "blank_line", None, "blank_line", None]
    assert [r.line_no for r in results] == [1, 2, 3, 4, 5]
    assert results[4].text == "c"


def test_empty_file_has_no_lines():
    assert parse_gt_bytes(b"") == []
    assert parse_gt_bytes(b"\xef\xbb\xbf") == []


def test_non_ascii_is_kept_and_nfc_normalised():
    decomposed = "cafe\u0301"
    results = parse_gt_bytes(f"{Q},{decomposed}\n{Q},Straße\n{Q},東京\n".encode())
    assert results[0].text == "caf\u00e9"
    assert len(results[0].text) == 4
    assert [r.text for r in results[1:]] == ["Straße", "東京"]


@pytest.mark.parametrize("label", ["###", "####", "#"])
def test_placeholders_are_words_without_text(label):
    # Deterministic: the same line gives the same answer every time, never a label at random.
    # (The manifest stage rejects them as `placeholder` unless --unlabeled keep.)
    outcomes = {parse_gt_line(f"{Q},{label}", 1) for _ in range(200)}
    assert len(outcomes) == 1
    (word,) = outcomes
    assert isinstance(word, GTWord) and word.text is None and len(word.quad) == 8


@pytest.mark.parametrize("label", ["#1", "C#", "#hash", "a###"])
def test_labels_with_some_hashes_are_words(label):
    word = parse_gt_line(f"{Q},{label}", 1)
    assert isinstance(word, GTWord) and word.text == label


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("hello", "malformed"),
        ("1,2,3,4,word", "malformed"),
        ("1,2,3,4,5,6,7,8", "malformed"),
        ("a,2,3,4,5,6,7,8,word", "bad_coordinates"),
        ("1,,3,4,5,6,7,8,word", "bad_coordinates"),
        ("nan,2,3,4,5,6,7,8,word", "bad_coordinates"),
        ("1,inf,3,4,5,6,7,8,word", "bad_coordinates"),
        ("1,2,3,4,5,6,7,-inf,word", "bad_coordinates"),
        ("1,2,3,4,5,6,7,NaN,word", "bad_coordinates"),
        ("1,2,3,4,5,6,7,8,", "empty_label"),
        ("1,2,3,4,5,6,7,8,   ", "empty_label"),
        ("", "blank_line"),
        ("  \t", "blank_line"),
    ],
)
def test_rejected_lines_and_reasons(line, reason):
    result = parse_gt_line(line, 3)
    assert isinstance(result, GTReject)
    assert (result.reason, result.line_no, result.raw) == (reason, 3, line)
    assert reason in REJECT_REASONS


def test_invalid_utf8_line_is_rejected_alone():
    data = f"{Q},ok\n".encode() + f"{Q},caf".encode() + b"\xe9\n" + f"{Q},fine\n".encode()
    results = parse_gt_bytes(data)
    assert _reasons(results) == [None, "encoding", None]
    assert [results[0].text, results[2].text] == ["ok", "fine"]
    assert results[1].line_no == 2


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_file_every_line_encoding(codec):
    results = parse_gt_bytes(f"{Q},one\n{Q},two\n{Q},three\n".encode(codec))
    assert results
    assert set(_reasons(results)) == {"encoding"}


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_file_rejects_one_per_line(codec):
    results = parse_gt_bytes(f"{Q},one\r\n{Q},two\r\n{Q},three\r\n".encode(codec))
    assert [r.line_no for r in results] == [1, 2, 3]


# --- file pairing -----------------------------------------------------------------------------


def test_gt_stem_and_natural_order(tmp_path):
    assert gt_stem(tmp_path / "gt_img_12.txt") == "img_12"
    assert gt_stem(tmp_path / "img_12.txt") is None
    assert gt_stem(tmp_path / "gt_img_1.json") is None
    for name in ("gt_img_10.txt", "gt_img_2.txt", "gt_img_1.txt", "notes.txt"):
        (tmp_path / name).write_text("")
    assert [p.name for p in list_gt_files(tmp_path)] == [
        "gt_img_1.txt",
        "gt_img_2.txt",
        "gt_img_10.txt",
    ]


def test_index_images_any_extension_case(tmp_path):
    for name in ("a.jpg", "b.JPEG", "c.Png", "IMG.JPG", "d.txt", "gt_a.txt"):
        (tmp_path / name).write_bytes(b"x")
    found = index_images(tmp_path)
    assert sorted(found) == ["IMG", "a", "b", "c"]
    assert found["IMG"].name == "IMG.JPG"


def test_pairing_in_a_build(tmp_path, scenes):
    images, gt, image = tmp_path / "images", tmp_path / "gt", scenes.image()
    word = f"{','.join(map(str, scenes.PATCH))},WORD"
    lines = 0
    lines += scenes.write(images, gt, "IMG", [word], image, ext=".JPG")
    lines += scenes.write(images, gt, "img_2", [word], image, ext=".jpeg")
    lines += scenes.write(images, gt, "img_3", [word], image, ext=".PNG")
    lines += scenes.write(images, gt, "gone", [word, word, f"{Q},###"])
    corrupt = np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8).tobytes()
    lines += scenes.write(images, gt, "broken", [word, word], corrupt, ext=".jpg")
    scenes.write(images, gt, "lonely", None, image)
    scenes.write(images, gt, "lonely2", None, image, ext=".jpg")
    (images / "notes.txt").write_text("not an image")
    out = tmp_path / "out"
    report = build_manifest(
        ManifestConfig(str(images), str(gt), str(out), workers=1), progress=False
    )
    assert report["counts"]["reasons"] == {
        "missing_image": 2,
        "placeholder": 1,
        "unreadable_image": 2,
    }
    assert report["kept"] == 3
    assert report["kept"] + report["rejected"] == lines == report["gt_lines"]
    assert report["accounting_ok"] is True
    assert report["images_without_gt"] == 2
    assert report["gt_without_image"] == 1
    rows = pd.read_parquet(out / "manifest.parquet", columns=["image_id", "image_path"])
    assert sorted(rows["image_id"]) == ["IMG", "img_2", "img_3"]
    assert sorted(p.rsplit("/", 1)[1] for p in rows["image_path"]) == [
        "IMG.JPG",
        "img_2.jpeg",
        "img_3.PNG",
    ]
    rejects = pd.read_parquet(out / "rejects.parquet")
    missing = rejects[rejects["reason"] == "missing_image"]
    assert set(missing["gt_path"].str.rsplit("/", n=1).str[1]) == {"gt_gone.txt"}
    assert sorted(missing["line_no"]) == [1, 2]
    unreadable = rejects[rejects["reason"] == "unreadable_image"]
    assert set(unreadable["gt_path"].str.rsplit("/", n=1).str[1]) == {"gt_broken.txt"}
