"""Synthetic IC15-format scenes: file layout, exact GT format, geometry, determinism, variety."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from textrec_data.sources.icdar15 import GTWord, parse_gt_bytes
from textrec_data.synth import (
    CHARSET,
    PLACEHOLDER,
    WORDS,
    SynthConfig,
    font_paths,
    render_scene,
    write_synth_dataset,
)

CONFIG = SynthConfig(images=24, seed=7)
_INT = re.compile(r"^-?\d+$")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    summary = write_synth_dataset(out, CONFIG, progress=False)
    assert summary.images == CONFIG.images
    assert summary.out_dir == str(out)
    return out


def _gt_lines(path: Path) -> list[str]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), f"{path.name}: no UTF-8 BOM"
    text = data[3:].decode("utf-8")
    if not text:
        return []
    assert text.endswith("\r\n"), f"{path.name}: last line must end with CRLF"
    assert text.count("\n") == text.count("\r\n"), f"{path.name}: bare LF line ending"
    assert "\r" not in text.replace("\r\n", ""), f"{path.name}: bare CR"
    return text[:-2].split("\r\n")


def _parse(line: str) -> tuple[np.ndarray, str]:
    """The ICDAR rule: the first 8 comma-separated fields are integers, the rest is the text."""
    parts = line.split(",", 8)
    assert len(parts) == 9, line
    assert all(_INT.match(p) for p in parts[:8]), line
    return np.array([int(p) for p in parts[:8]], np.float64).reshape(4, 2), parts[8]


def _words(root: Path) -> list[tuple[int, np.ndarray, str]]:
    out = []
    for k in range(1, CONFIG.images + 1):
        for line in _gt_lines(root / "gt" / f"gt_img_{k}.txt"):
            quad, text = _parse(line)
            out.append((k, quad, text))
    return out


def _shoelace(points: np.ndarray) -> float:
    """Signed area in image coordinates (y down): positive when clockwise on screen."""
    x, y = points[:, 0], points[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def test_shoelace_sign_convention():
    top_left, top_right, bottom_right, bottom_left = (0, 0), (10, 0), (10, 5), (0, 5)
    assert _shoelace(np.array([top_left, top_right, bottom_right, bottom_left], float)) == 50.0


def test_files_exist_with_ic15_names(dataset):
    images = sorted(p.name for p in (dataset / "images").iterdir())
    gts = sorted(p.name for p in (dataset / "gt").iterdir())
    assert images == sorted(f"img_{k}.jpg" for k in range(1, CONFIG.images + 1))
    assert gts == sorted(f"gt_img_{k}.txt" for k in range(1, CONFIG.images + 1))
    image = cv2.imread(str(dataset / "images" / "img_1.jpg"))
    assert image.shape == (CONFIG.height, CONFIG.width, 3)


def test_gt_format_and_charset(dataset):
    words = _words(dataset)
    n_images = CONFIG.images
    assert CONFIG.min_words * n_images * 0.8 <= len(words) <= CONFIG.max_words * n_images
    for _, _, text in words:
        assert text == PLACEHOLDER or (1 <= len(text) <= 12 and set(text) <= set(CHARSET)), text


def test_gt_agrees_with_project_parser(dataset):
    for k in range(1, CONFIG.images + 1):
        path = dataset / "gt" / f"gt_img_{k}.txt"
        expected = [_parse(line)[1] for line in _gt_lines(path)]
        parsed = parse_gt_bytes(path.read_bytes())
        assert len(parsed) == len(expected)
        for item, text in zip(parsed, expected, strict=True):
            assert isinstance(item, GTWord)
            # an illegible word (###) parses as a word without text: kept unlabeled or rejected
            # as a placeholder by the manifest stage (--unlabeled)
            assert item.text == (None if text == PLACEHOLDER else text)


def test_quads_inside_image_clockwise_from_top_left(dataset):
    for _, quad, text in _words(dataset):
        assert (quad >= 0).all(), (quad, text)
        assert (quad[:, 0] <= CONFIG.width - 1).all() and (quad[:, 1] <= CONFIG.height - 1).all()
        assert _shoelace(quad) > 0, (quad, text)  # clockwise on screen
        # the first point is the word's top-left: reading direction left to right, top up
        assert quad[0, 0] < quad[1, 0] and quad[0, 1] < quad[3, 1], (quad, text)


def test_text_is_drawn_inside_legible_quads(dataset):
    """Inside every legible quad, part of the pixels differ clearly from the ring around it."""
    for k in range(1, CONFIG.images + 1):
        image = cv2.imread(str(dataset / "images" / f"img_{k}.jpg"), cv2.IMREAD_GRAYSCALE)
        grey = image.astype(np.float32)
        for line in _gt_lines(dataset / "gt" / f"gt_img_{k}.txt"):
            quad, text = _parse(line)
            if text == PLACEHOLDER:
                continue
            inside = np.zeros(grey.shape, np.uint8)
            cv2.fillConvexPoly(inside, np.round(quad).astype(np.int32), 1)
            ring = cv2.dilate(inside, np.ones((7, 7), np.uint8)) - inside
            background = float(np.median(grey[ring > 0]))
            differs = np.abs(grey[inside > 0] - background) > 40
            assert differs.mean() > 0.03, (k, text, differs.mean())


def test_variety_placeholders_punctuation_and_accents(dataset):
    texts = [text for _, _, text in _words(dataset)]
    assert sum(t == PLACEHOLDER for t in texts) >= 3
    assert any("," in t for t in texts)
    assert any('"' in t or "'" in t for t in texts)
    assert any(not t.isascii() for t in texts)
    assert len(set(texts)) > 0.5 * len(texts)  # mostly distinct words


def test_deterministic_and_seed_dependent(tmp_path):
    config = SynthConfig(images=3, seed=11)
    a = write_synth_dataset(tmp_path / "a", config, progress=False)
    b = write_synth_dataset(tmp_path / "b", config, progress=False)
    write_synth_dataset(tmp_path / "c", SynthConfig(images=3, seed=12), progress=False)
    assert a.words == b.words and a.placeholders == b.placeholders
    differs = False
    for k in range(1, 4):
        for sub, name in (("gt", f"gt_img_{k}.txt"), ("images", f"img_{k}.jpg")):
            data_a = (tmp_path / "a" / sub / name).read_bytes()
            assert data_a == (tmp_path / "b" / sub / name).read_bytes(), name
            differs |= data_a != (tmp_path / "c" / sub / name).read_bytes()
    assert differs


def test_any_image_regenerates_alone(dataset):
    k = 5
    image, words = render_scene(np.random.default_rng([CONFIG.seed, k]), CONFIG, font_paths())
    assert image.dtype == np.uint8 and image.shape == (CONFIG.height, CONFIG.width, 3)
    lines = _gt_lines(dataset / "gt" / f"gt_img_{k}.txt")
    assert len(lines) == len(words)
    for line, (quad, text) in zip(lines, words, strict=True):
        parsed_quad, parsed_text = _parse(line)
        assert parsed_text == text
        assert np.abs(parsed_quad.reshape(-1) - np.asarray(quad)).max() <= 0.5
    stored = cv2.imread(str(dataset / "images" / f"img_{k}.jpg"))
    stored = cv2.cvtColor(stored, cv2.COLOR_BGR2RGB).astype(np.float32)
    assert np.abs(stored - image).mean() < 4.0  # same scene up to JPEG loss


def test_font_paths_are_usable_and_sorted():
    fonts = font_paths()
    assert fonts and fonts == sorted(fonts, key=str)
    assert all(p.is_file() and p.suffix.lower() == ".ttf" for p in fonts)
    names = {p.name.lower() for p in fonts}
    assert "dejavusans.ttf" in names
    assert not any(bad in n for n in names for bad in ("cmex", "cmsy", "display", "lastresort"))


def test_every_charset_character_can_be_generated():
    from textrec_data.synth.transcriptions import random_word

    rng = np.random.default_rng(0)
    seen: set[str] = set()
    for _ in range(6000):
        word = random_word(rng)
        assert 1 <= len(word) <= 12 and set(word) <= set(CHARSET), word
        seen |= set(word)
    assert seen == set(CHARSET)


def test_word_lists_load_from_the_package_data_file():
    from textrec_data.synth.transcriptions import load_word_lists

    lists = load_word_lists()
    assert list(lists) == ["common", "accented", "apostrophe", "symbol"]
    for name, words in lists.items():
        assert words and len(set(words)) == len(words), name
        assert all(set(word) <= set(CHARSET) for word in words), name
    assert lists["common"] == WORDS and WORDS[:3] == ("the", "and", "for")  # file order
    assert all(word.isascii() and word.isalpha() for word in WORDS)


def test_invalid_config_is_refused(tmp_path):
    with pytest.raises(ValueError, match="min_words"):
        write_synth_dataset(tmp_path, SynthConfig(images=1, min_words=5, max_words=2))


def test_cli_refuses_an_existing_dataset_unless_overwrite(tmp_path):
    from click.testing import CliRunner

    from pipelines.synth import command

    out = tmp_path / "synth"
    args = ["--out", str(out), "--images", "2"]
    assert CliRunner().invoke(command, args).exit_code == 0
    (out / "gt" / "gt_img_99.txt").write_text("stale\n")
    refused = CliRunner().invoke(command, args)
    assert refused.exit_code == 2 and str(out) in refused.output
    assert "Traceback" not in refused.output
    assert (out / "gt" / "gt_img_99.txt").exists()
    assert CliRunner().invoke(command, [*args, "--overwrite"]).exit_code == 0
    assert sorted(p.name for p in (out / "gt").iterdir()) == ["gt_img_1.txt", "gt_img_2.txt"]
    bad = CliRunner().invoke(command, ["--out", str(tmp_path / "x"), "--images", "0"])
    assert bad.exit_code == 2
