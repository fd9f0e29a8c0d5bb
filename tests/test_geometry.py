"""Quad orientation, validity, repair and upright perspective crops."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from textrec_data.build import WordRules, process
from textrec_data.geometry import (
    crop_quad,
    is_degenerate,
    is_self_intersecting,
    make_upright,
    overlaps_image,
    quad_points,
    repair_quad,
    signed_area,
)
from textrec_data.sources.icdar15 import Icdar15Source

SQUARE_CW = (0, 0, 10, 0, 10, 10, 0, 10)
SQUARE_CCW = (0, 0, 0, 10, 10, 10, 10, 0)


def _assert_levels(crop: np.ndarray, expected, scenes, tol: float = 20.0) -> None:
    means = scenes.quadrant_means(crop)
    assert np.allclose(means, expected, atol=tol), (means, expected)


def test_signed_area_positive_when_clockwise_on_screen():
    assert signed_area(quad_points(SQUARE_CW)) == pytest.approx(100.0)
    assert signed_area(quad_points(SQUARE_CCW)) == pytest.approx(-100.0)
    assert signed_area(quad_points((60, 40, 140, 40, 140, 80, 60, 80))) == pytest.approx(3200)


def test_clockwise_quad_unchanged():
    points = quad_points((60, 40, 141, 38, 139, 82, 58, 80))
    assert np.array_equal(repair_quad(points), points)


def test_counter_clockwise_quad_reversed_keeping_first_point():
    repaired = repair_quad(quad_points(SQUARE_CCW))
    assert repaired.tolist() == [[0, 0], [10, 0], [10, 10], [0, 10]]
    assert signed_area(repaired) > 0


@pytest.mark.parametrize(
    "quad",
    [
        (0, 0, 10, 10, 10, 0, 0, 10),  # TL, BR, TR, BL
        (0, 0, 10, 0, 0, 10, 10, 10),  # TL, TR, BL, BR
        (0, 0, 10, 10, 0, 10, 10, 0),  # TL, BR, BL, TR
    ],
)
def test_bow_tie_repaired_to_simple_clockwise_quad(quad):
    points = quad_points(quad)
    assert is_self_intersecting(points)
    repaired = repair_quad(points)
    assert not is_self_intersecting(repaired)
    assert repaired.tolist() == [[0, 0], [10, 0], [10, 10], [0, 10]]
    assert signed_area(repaired) == pytest.approx(100.0)


@pytest.mark.parametrize(
    "quad",
    [
        (5, 5, 5, 5, 5, 5, 5, 5),  # a point
        (0, 0, 10, 0, 20, 0, 30, 0),  # collinear
        (0, 0, 10, 10, 20, 20, 5, 5),  # collinear, diagonal
        (0, 0, 50, 0, 50, 0.4, 0, 0.4),  # thinner than a pixel
    ],
)
def test_degenerate_quads(quad):
    assert is_degenerate(repair_quad(quad_points(quad)))


def test_normal_quad_not_degenerate():
    assert not is_degenerate(quad_points((0, 0, 4, 0, 4, 3, 0, 3)))


@pytest.mark.parametrize(
    ("quad", "inside"),
    [
        ((300, 10, 380, 10, 380, 40, 300, 40), False),  # right of the image
        ((-60, -40, -10, -40, -10, -5, -60, -5), False),  # above-left
        ((20, 130, 80, 130, 80, 160, 20, 160), False),  # below
        ((150, 40, 250, 40, 250, 80, 150, 80), True),  # partly outside
        ((60, 40, 140, 40, 140, 80, 60, 80), True),
    ],
)
def test_overlaps_image(quad, inside):
    assert overlaps_image(quad_points(quad), 200, 120) is inside


def test_partly_outside_quad_gives_full_size_crop(scenes):
    crop = crop_quad(scenes.image(), quad_points((150, 40, 250, 40, 250, 80, 150, 80)))
    assert crop.shape == (40, 100, 3)
    assert crop.dtype == np.uint8


def test_upright_crop_matches_patch(scenes):
    crop = crop_quad(scenes.image(), quad_points(scenes.PATCH))
    assert crop.shape == (40, 80, 3)
    _assert_levels(crop, scenes.LEVELS, scenes, tol=2)


@pytest.mark.parametrize("angle", [30, -30, 90, -90, 150, 180])
def test_rotated_word_crops_upright(scenes, angle):
    image, quad = scenes.rotated(angle)
    points = repair_quad(quad_points(quad))
    assert np.allclose(points, quad_points(quad))  # rotation keeps a clockwise quad clockwise
    crop = make_upright(crop_quad(image, points), "SCAN")
    assert crop.shape[:2] == pytest.approx((40, 80), abs=1)
    _assert_levels(crop, scenes.LEVELS, scenes)


def test_point_order_gives_reading_direction(scenes):
    # The same box listed from its bottom-right corner reads upside down: the crop is rotated.
    x1, y1, x2, y2, x3, y3, x4, y4 = scenes.PATCH
    crop = crop_quad(scenes.image(), quad_points((x3, y3, x4, y4, x1, y1, x2, y2)))
    _assert_levels(crop, scenes.LEVELS[::-1], scenes)


def test_counter_clockwise_and_bow_tie_crops_upright(scenes):
    x1, y1, x2, y2, x3, y3, x4, y4 = scenes.PATCH
    for quad in ((x1, y1, x4, y4, x3, y3, x2, y2), (x1, y1, x3, y3, x2, y2, x4, y4)):
        crop = crop_quad(scenes.image(), repair_quad(quad_points(quad)))
        assert crop.shape == (40, 80, 3)
        _assert_levels(crop, scenes.LEVELS, scenes, tol=2)


def _vertical_scene() -> tuple[np.ndarray, tuple[int, ...]]:
    """A tall 24x96 word whose first letter (a black block) is at the top."""
    image = np.full((120, 200, 3), 255, np.uint8)
    image[12:108, 88:112] = 160
    image[12:36, 88:112] = 0
    return image, (88, 12, 112, 12, 112, 108, 88, 108)


def test_vertical_word_rotated_to_read_left_to_right():
    image, quad = _vertical_scene()
    crop = make_upright(crop_quad(image, quad_points(quad)), "ABCD")
    assert crop.shape == (24, 96, 3)
    first, last = crop[4:20, 4:20].mean(), crop[4:20, -20:-4].mean()
    assert first < 20 and abs(last - 160) < 10  # the first letter is now on the left


def test_single_character_tall_word_not_rotated():
    image, quad = _vertical_scene()
    crop = make_upright(crop_quad(image, quad_points(quad)), "I")
    assert crop.shape == (96, 24, 3)
    assert crop[4:20, 4:20].mean() < 20  # still on top


def test_wide_crop_never_rotated():
    crop = np.zeros((20, 25, 3), np.uint8)
    assert make_upright(crop, "ABCDEF") is crop


def _run(tmp_path, image, lines, case="keep"):
    (tmp_path / "img.png").write_bytes(cv2.imencode(".png", image)[1].tobytes())
    (tmp_path / "gt_img.txt").write_text("\n".join(lines) + "\n")
    source = Icdar15Source(str(tmp_path), str(tmp_path))
    (unit,) = source.plan().units
    return process(source.read(unit), WordRules(case, split="train"))


def test_build_crops_rotated_and_vertical_words_upright(tmp_path, scenes):
    image, quad = scenes.rotated(150)
    quad_text = ",".join(f"{v:.2f}" for v in quad)
    x1, y1, x2, y2, x3, y3, x4, y4 = scenes.PATCH
    ccw = ",".join(map(str, (x1, y1, x4, y4, x3, y3, x2, y2)))
    result = _run(tmp_path, image, [f"{quad_text},SCAN", f"{ccw},ccw"])
    assert result.rejects == []
    crop = cv2.imdecode(np.frombuffer(result.rows[0]["crop"], np.uint8), cv2.IMREAD_COLOR)
    assert crop.shape[:2] == (result.rows[0]["crop_h"], result.rows[0]["crop_w"])
    _assert_levels(crop, scenes.LEVELS, scenes)
    assert result.rows[1]["quad"] == [float(v) for v in (x1, y1, x4, y4, x3, y3, x2, y2)]

    vertical, vquad = _vertical_scene()
    vq = ",".join(map(str, vquad))
    # "ab" upper-cased is still 2 characters; "i" stays one character and is not rotated.
    result = _run(tmp_path, vertical, [f"{vq},ab", f"{vq},i"], case="upper")
    (word, char) = (
        cv2.imdecode(np.frombuffer(r["crop"], np.uint8), cv2.IMREAD_COLOR) for r in result.rows
    )
    assert word.shape == (24, 96, 3) and word[4:20, 4:20].mean() < 20
    assert char.shape == (96, 24, 3) and char[4:20, 4:20].mean() < 20


def test_build_rejects_degenerate_and_outside_quads(tmp_path, scenes):
    result = _run(
        tmp_path,
        scenes.image(),
        [
            "5,5,5,5,5,5,5,5,dot",
            "0,0,10,0,20,0,30,0,line",
            "300,10,380,10,380,40,300,40,far",
            "-60,-40,-10,-40,-10,-5,-60,-5,far",
            "150,40,250,40,250,80,150,80,edge",
        ],
    )
    assert [r["reason"] for r in result.rejects] == [
        "degenerate_quad",
        "degenerate_quad",
        "outside_image",
        "outside_image",
    ]
    assert [r["line_no"] for r in result.rejects] == [1, 2, 3, 4]
    (row,) = result.rows
    assert (row["text"], row["crop_h"], row["crop_w"]) == ("edge", 40, 100)
