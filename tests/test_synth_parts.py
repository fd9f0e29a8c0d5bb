"""The pieces of word mode: corpus, scene text generators, font sets, letter styles,
degradations, crop styles (also in the training stream) and erased-text backgrounds."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
from font_sets import face_paths, family_names

from textrec_data.cropstyle import jitter_quad, loose_box, loose_view
from textrec_data.errors import InputError
from textrec_data.stream import StreamConfig, prepare_image
from textrec_data.synth import SynthConfig, write_synth_dataset
from textrec_data.synth.canvas import word_canvas
from textrec_data.synth.effects import blur, degrade, down_up, jpeg
from textrec_data.synth.fonts import (
    FontFace,
    cache_file,
    font_paths,
    group_faces,
    load_font_set,
    read_faces,
)
from textrec_data.synth.letters import LetterStyle
from textrec_data.synth.word.corpus import load_corpus
from textrec_data.synth.word.photos import erase_text, write_backgrounds
from textrec_data.synth.word.source import WORD_CHARSET
from textrec_data.synth.word.tokens import TextConfig, scene_word

ROOT = Path(__file__).resolve().parent.parent
DEJAVU = str(next(p for p in font_paths() if p.name.lower() == "dejavusans.ttf"))


def test_corpus_counts_tsv_and_text_lines_and_drops_what_cannot_be_drawn(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("\ufeffcat\t30\r\nthe cat sat\nnaïve\t9\n你好\t50\n", encoding="utf-8")
    corpus = load_corpus(path, set("abcdefghijklmnopqrstuvwxyz"), power=1.0)
    assert corpus.words == ("cat", "sat", "the") and corpus.dropped == 2
    rng = np.random.default_rng(0)
    drawn = Counter(corpus.sample(rng) for _ in range(3300))
    assert 25 < drawn["cat"] / drawn["the"] < 37  # 31 : 1 : 1
    flat = load_corpus(path, set("abcdefghijklmnopqrstuvwxyz"), power=0.0)
    assert Counter(flat.sample(rng) for _ in range(3000))["cat"] < 1200


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"cat\tmany\n", "not a number"), (b"caf\xe9\n", "not valid UTF-8"), (b"\n \n", "no word")],
)
def test_unusable_corpus_is_an_input_error(tmp_path, data, message):
    path = tmp_path / "c.txt"
    path.write_bytes(data)
    with pytest.raises(InputError, match=message):
        load_corpus(path, WORD_CHARSET)


def test_scene_text_holds_words_numbers_dates_urls_in_every_case():
    rng = np.random.default_rng(1)
    config = TextConfig(min_length=2, max_length=14)
    words = [scene_word(rng, config, None, WORD_CHARSET) for _ in range(3000)]
    assert all(2 <= len(w) <= 14 and set(w) <= WORD_CHARSET for w in words)
    assert any("@" in w for w in words) and any(w.startswith("www.") for w in words)
    assert any(w.count("/") == 2 and w[:2].isdigit() for w in words)  # dates
    assert any(w.endswith(("am", "pm")) and w[0].isdigit() for w in words)  # times
    assert any(w.startswith("$") for w in words) and any(w.count("-") == 2 for w in words)
    letters = [w for w in words if w.isalpha() and len(w) > 2]
    assert {"upper", "title", "lower"} <= {
        "upper" if w.isupper() else "title" if w.istitle() else "lower" for w in letters
    }
    assert any(w[-1] in ".,:;!?)'\"*" and w[:-1].isalpha() for w in words)  # edge marks


def test_text_config_limits_are_enforced():
    rng = np.random.default_rng(2)
    upper = TextConfig(generated_rate=0.0, case_weights=(0, 0, 1, 0), edge_punctuation_rate=0.0)
    assert all(scene_word(rng, upper, None, WORD_CHARSET).isupper() for _ in range(200))
    with pytest.raises(InputError, match="no word fits"):
        scene_word(rng, TextConfig(min_length=19, max_length=20), None, frozenset("xyz"))
    with pytest.raises(InputError, match="--case-weights"):
        TextConfig(case_weights=(1, 0)).validate()


def test_font_set_picks_only_faces_that_cover_the_word():
    plain = FontFace("a.ttf", "A", frozenset("abc"))
    accented = FontFace("b.ttf", "B", frozenset("abcé"))
    fonts = group_faces([accented, plain])
    assert family_names(fonts) == ["A", "B"]
    rng = np.random.default_rng(0)
    assert {fonts.pick(rng, "cé").path for _ in range(50)} == {"b.ttf"}
    assert {fonts.pick(rng, "ab").path for _ in range(50)} == {"a.ttf", "b.ttf"}
    assert fonts.pick(rng, "ß") is None
    palette = fonts.palette(rng, 5)
    assert set(face_paths(palette)) <= {"a.ttf", "b.ttf"}


def test_font_folder_reads_ttf_and_otf_recursively_by_family(tmp_path):
    (tmp_path / "sub").mkdir()
    shutil.copy(DEJAVU, tmp_path / "sub" / "x.TTF")
    shutil.copy(DEJAVU, tmp_path / "y.otf")
    shutil.copy(DEJAVU, tmp_path / "z-Symbol.ttf")  # an excluded kind, by name
    fonts = load_font_set((str(tmp_path),))
    assert family_names(fonts) == ["DejaVu Sans"] and len(face_paths(fonts)) == 2


def test_font_scans_are_cached_by_path_size_and_time(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    font, junk = tmp_path / "a.ttf", tmp_path / "junk.ttf"
    shutil.copy(DEJAVU, font)
    junk.write_bytes(b"not a font")
    assert [f.family for f in read_faces([font, junk])] == ["DejaVu Sans"]
    cached = json.loads(cache_file().read_text())["fonts"]
    assert cached[str(junk.resolve())]["face"] is None  # an unusable font is remembered too
    # a verdict is taken from the cache while the file's size and time match it...
    cached[str(font.resolve())]["face"][0] = "From The Cache"
    cache_file().write_text(json.dumps({"version": 1, "fonts": cached}))
    assert [f.family for f in read_faces([font])] == ["From The Cache"]
    # ...and made again when the file changes
    os.utime(font, ns=(1, 1))
    assert [f.family for f in read_faces([font])] == ["DejaVu Sans"]
    cache_file().write_text("{broken")  # an unreadable cache is scanned around and rewritten
    assert [f.family for f in read_faces([font])] == ["DejaVu Sans"]
    assert json.loads(cache_file().read_text())["version"] == 1


def test_letter_styles_space_bend_and_embolden():
    rng = np.random.default_rng(0)
    plain = word_canvas(np.random.default_rng(0), "Hello", DEJAVU, 30, False, True)
    spaced = word_canvas(rng, "Hello", DEJAVU, 30, False, True, LetterStyle(spacing=0.3))
    assert spaced.box[1, 0] - spaced.box[0, 0] > plain.box[1, 0] - plain.box[0, 0] + 4 * 30 * 0.25
    bold = word_canvas(rng, "Hello", DEJAVU, 30, False, True, LetterStyle(weight=2))
    assert bold.text_mask.sum() > 1.2 * plain.text_mask.sum()
    arched = word_canvas(rng, "HHHHHHHH", DEJAVU, 30, False, True, LetterStyle(bend=0.5))
    rows = np.arange(arched.text_mask.shape[0])[:, None]
    ink = arched.text_mask > 0.5
    centre_y = (rows * ink).sum(axis=0) / np.maximum(ink.sum(axis=0), 1)
    cols = np.flatnonzero(ink.any(axis=0))
    middle, end = centre_y[cols[len(cols) // 2]], centre_y[cols[2]]
    assert end - middle > 8  # the middle of the word is raised by about 0.5 x 30 px


def test_degradations_keep_the_size_and_change_the_pixels():
    rng = np.random.default_rng(0)
    img = np.zeros((40, 120, 3), np.float32)
    img[10:30, 20:100] = 255.0
    assert blur(rng, img, 20).shape == img.shape and down_up(rng, img, 20).shape == img.shape
    assert np.abs(blur(rng, img, 20) - img).max() > 30  # edges softened
    compressed = jpeg(img.astype(np.uint8), 20)
    assert compressed.shape == img.shape and (compressed != img.astype(np.uint8)).any()
    out = degrade(np.random.default_rng(3), img.copy(), 20)
    assert out.dtype == np.uint8 and out.shape == img.shape


def test_crop_styles_jitter_loose_boxes_and_turned_views():
    rng = np.random.default_rng(0)
    quad = np.float32([[20, 30], [80, 40], [78, 60], [18, 50]])
    moved = jitter_quad(rng, quad, 0.1)
    assert 0 < np.abs(moved - quad).max() <= 0.1 * np.linalg.norm(quad[3] - quad[0]) + 1e-4
    x0, y0, x1, y1 = loose_box(rng, quad, 0.3, (100, 100, 3))
    assert x0 <= 18 and y0 <= 30 and x1 >= 80 and y1 >= 60 and x1 <= 100
    crop = np.zeros((20, 100), np.uint8)
    assert loose_view(rng, crop, 0.0, 0.0, 0.0).shape == crop.shape
    turned = loose_view(rng, crop, 30.0, 0.0, 0.0)
    assert turned.shape[0] > 30  # the box around a turned word is taller than the word


def test_stream_recut_gives_crops_the_width_of_their_new_shape():
    crop = np.full((20, 200, 3), 200, np.uint8)
    data = cv2.imencode(".png", crop)[1].tobytes()
    plain = StreamConfig(augment=True)
    recut = StreamConfig(augment=True, crop_augment=True)
    assert prepare_image(data, 256, plain, np.random.default_rng(0)).shape == (1, 32, 256)
    widths = {prepare_image(data, 256, recut, np.random.default_rng(s)).shape[2] for s in range(20)}
    assert len(widths) > 3 and min(widths) < 256
    again = prepare_image(data, 256, recut, np.random.default_rng(5))
    assert np.array_equal(again, prepare_image(data, 256, recut, np.random.default_rng(5)))
    assert prepare_image(data, 100, recut, np.random.default_rng(1), min_width=240).shape[2] >= 240


def test_erased_text_backgrounds_from_icdar_gt(tmp_path):
    images, gt = tmp_path / "images", tmp_path / "gt"
    images.mkdir(), gt.mkdir()
    scene = np.full((100, 160, 3), 90, np.uint8)
    scene[40:60, 30:130] = 255  # a bright "word"
    cv2.imwrite(str(images / "img_1.png"), scene)
    (gt / "gt_img_1.txt").write_text("30,40,130,40,130,60,30,60,###\nnot,a,line\n")
    clean = erase_text(scene, [np.float32([[30, 40], [130, 40], [130, 60], [30, 60]])])
    assert np.abs(clean[45:55, 40:120].astype(int) - 90).max() < 20
    assert write_backgrounds(str(images), str(gt), str(tmp_path / "bg")) == 1
    written = cv2.imread(str(tmp_path / "bg" / "img_1.jpg"))
    assert np.abs(written[45:55, 40:120].astype(int) - 90).max() < 25
    with pytest.raises(InputError, match="no image with a GT file"):
        write_backgrounds(str(gt), str(gt), str(tmp_path / "none"))


def test_scene_mode_takes_a_font_folder_and_records_it(tmp_path):
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    shutil.copy(DEJAVU, fonts / "only.ttf")
    write_synth_dataset(tmp_path / "s", SynthConfig(images=2, fonts=(str(fonts),)), progress=False)
    record = json.loads((tmp_path / "s" / "synth.json").read_text())
    assert record["fonts"] == [str(fonts / "only.ttf")]
    assert record["config"]["images"] == 2


def test_make_fonts_says_why_it_cannot_run_without_apt(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "tr", "sort", "cat", "wc"):
        os.symlink(shutil.which(tool), bin_dir / tool)
    result = subprocess.run(
        ["bash", str(ROOT / "tools" / "get_fonts.sh"), str(tmp_path / "fonts")],
        env={"PATH": str(bin_dir)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "apt-get/dpkg-deb not found" in result.stderr
    assert not (tmp_path / "fonts").exists()
