"""Word mode (`textrec synth --words`): a manifest of synthetic crops through the sources seam,
deterministic for a seed and a font set, in the charset it is given, with the fonts it used."""

from __future__ import annotations

import json
import shutil
import string
from pathlib import Path

import cv2
import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipelines.synth import command
from textrec_data.build import ManifestConfig
from textrec_data.synth.fonts import font_paths
from textrec_data.synth.word.config import WordConfig
from textrec_data.synth.word.source import SOURCE_PATH, write_synth_words


def _run(*args: str) -> object:
    return CliRunner().invoke(command, [*args, "--quiet"])


def _rows(out: Path) -> dict:
    return pq.read_table(out / "manifest.parquet").to_pydict()


@pytest.fixture(scope="module")
def words(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("words") / "w"
    result = _run("--words", "60", "--out", str(out), "--seed", "3", "--workers", "2")
    assert result.exit_code == 0, result.output
    return out


def test_word_mode_writes_a_manifest_of_every_word(words):
    report = json.loads((words / "report.json").read_text())
    assert report["accounting_ok"] and report["kept"] == 60 and report["rejected"] == 0
    rows = _rows(words)
    assert set(rows["gt_path"]) == {SOURCE_PATH}  # the rows name themselves synthetic
    assert rows["line_no"] == list(range(1, 61)) and rows["image_id"][0] == "word_1"
    for crop, h, w in zip(rows["crop"], rows["crop_h"], rows["crop_w"], strict=True):
        image = cv2.imdecode(np.frombuffer(crop, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape[:2] == (h, w) and h >= 4 and w >= 4
    assert all(1 <= len(t) <= 20 for t in rows["text"])
    assert set(rows["split"]) <= {"train", "val"}


def test_report_lists_the_fonts_used(words):
    synth = json.loads((words / "report.json").read_text())["synth"]
    names = {p.name for p in font_paths()}
    listed = {name for files in synth["fonts"].values() for name in files}
    assert listed and listed <= names
    assert synth["font_families"] == len(synth["fonts"])
    assert synth["config"]["words"] == 60 and synth["config"]["seed"] == 3


def test_same_seed_same_words_any_worker_count_other_seed_other_words(tmp_path, words):
    again = tmp_path / "again"
    assert (
        _run("--words", "60", "--out", str(again), "--seed", "3", "--workers", "1").exit_code == 0
    )
    assert _rows(again)["crop"] == _rows(words)["crop"]
    assert _rows(again)["text"] == _rows(words)["text"]
    other = tmp_path / "other"
    assert _run("--words", "60", "--out", str(other), "--seed", "4").exit_code == 0
    assert _rows(other)["text"] != _rows(words)["text"]


def test_charset_and_case_bound_the_words(tmp_path):
    vocab = tmp_path / "vocab.json"
    vocab.write_text(json.dumps({"charset": list("abcdefghijklmnopqrstuvwxyz0123456789")}))
    out = tmp_path / "w"
    args = ["--words", "80", "--out", str(out), "--charset", str(vocab), "--case", "lower"]
    result = _run(*args, "--workers", "1")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["rejected"] == 0  # words were drawn inside the charset, none wasted
    labels = _rows(out)["label"]
    assert all(set(label) <= set("abcdefghijklmnopqrstuvwxyz0123456789") for label in labels)


def test_corpus_words_are_drawn_and_case_weights_apply(tmp_path):
    corpus = tmp_path / "corpus.tsv"
    corpus.write_text("zebra\t100\nquokka\t1\nsh\u00fcrt\t5\n", encoding="utf-8")
    out = tmp_path / "w"
    args = ["--words", "40", "--out", str(out), "--corpus", str(corpus), "--workers", "1"]
    result = _run(*args, "--generated-rate", "0", "--case-weights", "0,0,1,0")
    assert result.exit_code == 0, result.output
    texts = [t.strip(string.punctuation) for t in _rows(out)["text"]]  # edge marks come and go
    assert set(texts) <= {"ZEBRA", "QUOKKA", "SHÜRT"}
    assert texts.count("ZEBRA") > texts.count("QUOKKA")  # sampled by frequency


def test_fonts_folder_restricts_the_font_set(tmp_path):
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    dejavu = next(p for p in font_paths() if p.name.lower() == "dejavusans.ttf")
    shutil.copy(dejavu, fonts / "a.ttf")
    (fonts / "readme.ttf").write_text("not a font")
    config = WordConfig(words=5, fonts=(str(fonts),))
    manifest = ManifestConfig(SOURCE_PATH, SOURCE_PATH, str(tmp_path / "w"), workers=1)
    report = write_synth_words(config, manifest, progress=False)
    assert report["synth"]["fonts"] == {"DejaVu Sans": ["a.ttf"]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--words", "5", "--fonts", "{tmp}/none"], "--fonts directory not found"),
        (["--words", "5", "--fonts", "{tmp}"], "no TTF/OTF font"),
        (["--words", "5", "--corpus", "{tmp}/none.txt"], "cannot read --corpus"),
        (["--words", "5", "--backgrounds", "{tmp}"], "no image files"),
        (["--words", "5", "--text", "classic", "--corpus", "{tmp}/c.txt"], "needs --text scene"),
        (["--words", "5", "--case-weights", "1,x"], "--case-weights"),
        (["--words", "5", "--length", "5", "2"], "min length"),
        (["--images", "2", "--corpus", "{tmp}/c.txt"], "need word mode"),
        (["--images", "2", "--words", "2"], "exclusive"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path, args, message):
    (tmp_path / "c.txt").write_text("word\n")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = _run(*args, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and message in result.output
    assert "Traceback" not in result.output


def test_backgrounds_folder_of_photos_is_used(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for k in range(3):
        cv2.imwrite(str(photos / f"p{k}.jpg"), rng.integers(0, 255, (90, 160, 3), dtype=np.uint8))
    (photos / "broken.jpg").write_bytes(b"not an image")
    out = tmp_path / "w"
    result = _run(
        "--words", "12", "--out", str(out), "--backgrounds", str(photos), "--workers", "1"
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["synth"]["background_photos"] == 4 and report["kept"] == 12
