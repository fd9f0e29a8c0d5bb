"""Misuse suite, outputs (issue #32): every command's output is claimed by one guard
(``outputs.claim_output``) before anything in it is replaced: apart from every input the command
reads (--init, --fonts, --corpus, --backgrounds, --charset included), and carrying the marker
of the command that made it, in every mode. docs/RELIABILITY.md tabulates the cases."""

from __future__ import annotations

import shutil
from pathlib import Path

import matplotlib
import pytest
from misuse import cli, refused, snapshot, succeeded


def _copy(src: Path, dst: Path) -> Path:
    (shutil.copytree if src.is_dir() else shutil.copy2)(src, dst)
    return dst


def _backgrounds(data: Path, out: Path, *extra):
    args = ["backgrounds", "--images", data / "images", "--gt", data / "gt", "--out", out]
    return cli(*args, "--max-side", "64", *extra)


@pytest.mark.parametrize(
    ("out", "words"),
    [("images", "is the input --images"), ("gt", "is the input --gt"),
     (".", "contains the input --images"), ("images/sub", "lies inside the input --images")],
)  # fmt: skip
def test_backgrounds_never_writes_over_its_inputs(world, tmp_path, out, words):
    data = _copy(world.dataset, tmp_path / "D")
    before = snapshot(data)
    refused(_backgrounds(data, data / out), words)
    assert snapshot(data) == before


def test_backgrounds_never_replaces_a_folder_of_the_users(world, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "holiday.jpg").write_bytes(b"not textrec's")
    refused(_backgrounds(world.dataset, mine), "marker of textrec backgrounds")
    assert (mine / "holiday.jpg").read_bytes() == b"not textrec's"


def test_backgrounds_replaces_its_own_earlier_output(world, tmp_path):
    out = tmp_path / "bg"
    succeeded(_backgrounds(world.dataset, out))
    succeeded(_backgrounds(world.dataset, out))
    assert sorted(p.name for p in out.glob("*.jpg")) == ["img_1.jpg", "img_2.jpg"]


@pytest.mark.parametrize("value", ["0", "-5", "15"])
def test_backgrounds_max_side_out_of_range_is_refused(world, tmp_path, value):
    refused(_backgrounds(world.dataset, tmp_path / "bg", "--max-side", value), "--max-side")
    assert not (tmp_path / "bg").exists()


def test_train_overwrite_never_replaces_the_checkpoint_it_starts_from(world, tmp_path):
    run = _copy(world.run, tmp_path / "run")
    before = snapshot(run)
    args = ["train", "--manifest", world.manifest, "--init", run / "best.pt", "--out", run,
            "--overwrite", "--max-steps", "1", "--workers", "0", "--quiet"]  # fmt: skip
    refused(cli(*args), "contains the input --init")
    assert snapshot(run) == before


def _synth_words(out: Path, *extra):
    return cli("synth", "--words", "8", "--out", out, "--workers", "1", "--quiet", *extra)


def test_synth_words_never_replaces_a_manifest_of_textrec_manifest(world, tmp_path):
    built = _copy(world.built, tmp_path / "built")
    before = snapshot(built)
    refused(_synth_words(built, "--overwrite"), "marker of textrec synth")
    assert snapshot(built) == before


def test_manifest_never_replaces_a_word_mode_synth_manifest(world, tmp_path):
    out = tmp_path / "words"
    succeeded(_synth_words(out))
    before = snapshot(out)
    args = ["manifest", "--images", world.dataset / "images", "--gt", world.dataset / "gt"]
    refused(cli(*args, "--out", out, "--overwrite", "--quiet"), "marker of textrec manifest")
    assert snapshot(out) == before
    succeeded(_synth_words(out, "--overwrite"))  # its own output: replaced (control)


@pytest.mark.parametrize("option", ["--corpus", "--backgrounds"])
def test_synth_words_never_writes_over_its_word_inputs(world, tmp_path, option):
    data = tmp_path / "data"
    (data / "photos").mkdir(parents=True)
    shutil.copy2(world.crop, data / "photos" / "a.png")
    (data / "corpus.txt").write_text("abc\ncafe\n")
    given = data / ("corpus.txt" if option == "--corpus" else "photos")
    before = snapshot(data)
    refused(_synth_words(data, option, given, "--overwrite"), f"the input {option}")
    assert snapshot(data) == before


def test_synth_scenes_never_writes_over_its_fonts(world, tmp_path):
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    shutil.copy2(Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf", fonts)
    before = snapshot(fonts)
    refused(cli("synth", "--images", "1", "--out", fonts / "sub", "--fonts", fonts), "--fonts")
    assert snapshot(fonts) == before
