"""The recognizer textrec ships: inside the package, loaded without unpickling, used by
`textrec predict` / `textrec eval` when no --checkpoint is given, and able to read words."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from fixture_words import CROPS, TRUTH

from pipelines.eval import command as eval_command
from pipelines.manifest import command as manifest_command
from pipelines.predict import command as predict_command
from textrec_data.errors import InputError
from textrec_model.checkpoint import load_checkpoint
from textrec_model.metrics import alnum_fold
from textrec_model.predictor import DecodeConfig, crop_turns
from textrec_model.recognizer import SHIPPED, SHIPPED_WEIGHTS, Recognizer


def _fixture_crop(name: str) -> np.ndarray:
    """The grey fixture crop of TRUTH's ``name``, uint8 (H, W)."""
    return cv2.imread(str(CROPS / f"{name}.png"), cv2.IMREAD_GRAYSCALE)


def _test_manifest(folder: Path, names: list[str], tmp_path: Path) -> str:
    """A `--format wordcrops` manifest (split test) of ``folder``'s NAME.png crops of TRUTH."""
    gt = tmp_path / "gt.txt"
    gt.write_text("".join(f'{n}.png, "{TRUTH[n]}"\n' for n in names))
    args = ["--format", "wordcrops", "--images", str(folder), "--gt", str(gt)]
    args += ["--out", str(tmp_path / "m"), "--split", "test"]
    built = CliRunner().invoke(manifest_command, args)
    assert built.exit_code == 0, built.output
    return str(tmp_path / "m" / "manifest.parquet")


def test_shipped_weights_are_a_small_inference_checkpoint():
    assert SHIPPED_WEIGHTS.is_file() and SHIPPED_WEIGHTS.stat().st_size <= 20 * 2**20
    state = load_checkpoint(SHIPPED_WEIGHTS)  # weights_only: nothing in it runs
    assert state["export_format"] == "weights" and "optimizer" not in state
    assert Recognizer.pretrained().charset.chars == tuple(state["charset"]["charset"])


def test_the_fast_model_is_a_smaller_inference_checkpoint():
    fast = load_checkpoint(SHIPPED["fast"])
    assert fast["export_format"] == "weights" and "optimizer" not in fast
    assert SHIPPED["fast"].stat().st_size < SHIPPED_WEIGHTS.stat().st_size / 3
    assert fast["model_args"]["arch"] == "lcnetv4"


@pytest.mark.parametrize("name", list(SHIPPED))
def test_shipped_model_reads_rendered_words(name):
    names = sorted(TRUTH)
    crops = [_fixture_crop(n) for n in names]
    texts = [p.text for p in Recognizer.pretrained(name).predict(crops)]
    right = [alnum_fold(t) == alnum_fold(TRUTH[n]) for n, t in zip(names, texts, strict=True)]
    assert sum(right) >= 5, dict(zip(names, texts, strict=True))


def test_predict_model_fast_reads_with_the_fast_model_and_refuses_a_checkpoint_too():
    files = [str(CROPS / f"{n}.png") for n in sorted(TRUTH)]
    result = CliRunner().invoke(predict_command, [*files, "--model", "fast"])
    assert result.exit_code == 0, result.output
    printed = [line.split("\t")[1] for line in result.output.strip().splitlines()]
    crops = [cv2.imread(f, cv2.IMREAD_GRAYSCALE) for f in files]
    assert printed == [p.text for p in Recognizer.pretrained("fast").predict(crops)]
    both = CliRunner().invoke(predict_command, [*files, "--model", "fast", "--checkpoint", "x.pt"])
    assert both.exit_code == 2 and "--model fast" in both.output
    assert len(both.output.strip().splitlines()) == 1
    with pytest.raises(InputError, match="--model"):
        Recognizer.pretrained("huge")


def test_rotate_vertical_reads_words_standing_on_end():
    """Words turned a quarter turn either way are misread as given and read with --rotate
    vertical; crops wider than tall are read exactly as without it."""
    names = [n for n in sorted(TRUTH) if len(TRUTH[n]) > 1]
    crops = [_fixture_crop(n) for n in names]
    assert all(c.shape[1] > c.shape[0] for c in crops)
    shipped, vertical = Recognizer.pretrained(), DecodeConfig(rotate="vertical")
    upright = [p.text for p in shipped.predict(crops)]
    assert [p.text for p in shipped.predict(crops, vertical)] == upright
    for turn in (cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE):
        standing = [cv2.rotate(c, turn) for c in crops]
        assert all(len(crop_turns(c, "vertical")) == 3 for c in standing)
        as_given = [p.text for p in shipped.predict(standing)]
        assert sum(t == u for t, u in zip(as_given, upright, strict=True)) <= 1, as_given
        assert [p.text for p in shipped.predict(standing, vertical)] == upright


def test_predict_and_eval_use_the_shipped_model_without_checkpoint(tmp_path):
    files = [str(CROPS / f"{n}.png") for n in sorted(TRUTH)]
    result = CliRunner().invoke(predict_command, files)
    assert result.exit_code == 0, result.output
    printed = [line.split("\t")[1] for line in result.output.strip().splitlines()]
    crops = [cv2.imread(f, cv2.IMREAD_GRAYSCALE) for f in files]
    assert printed == [p.text for p in Recognizer.pretrained().predict(crops)]

    manifest = _test_manifest(CROPS, sorted(TRUTH), tmp_path)
    scored = CliRunner().invoke(
        eval_command, ["--manifest", manifest, "--out", str(tmp_path / "e"), "--quiet"]
    )
    assert scored.exit_code == 0, scored.output
    report = json.loads((tmp_path / "e" / "report.json").read_text())
    assert report["n"] == 6 and report["config"]["checkpoint"] is None
    assert report["word_accuracy_alnum"] >= 5 / 6 - 1e-9, scored.output


def test_eval_and_predict_take_rotate(tmp_path):
    """`--rotate vertical` on the CLI: eval scores turned words better and records the choice,
    predict prints the upright readings; an unknown choice exits 2."""
    names = [n for n in sorted(TRUTH) if len(TRUTH[n]) > 1]
    standing = tmp_path / "standing"
    standing.mkdir()
    for n in names:
        crop = _fixture_crop(n)
        cv2.imwrite(str(standing / f"{n}.png"), cv2.rotate(crop, cv2.ROTATE_90_CLOCKWISE))
    manifest = _test_manifest(standing, names, tmp_path)
    accuracy = {}
    for rotate in ("none", "vertical"):
        out = tmp_path / f"e_{rotate}"
        args = ["--manifest", manifest, "--out", str(out), "--quiet"]
        scored = CliRunner().invoke(eval_command, [*args, "--rotate", rotate])
        assert scored.exit_code == 0, scored.output
        report = json.loads((out / "report.json").read_text())
        assert report["rotate"] == rotate == report["config"]["rotate"]
        accuracy[rotate] = report["word_accuracy_alnum"]
    assert accuracy["none"] <= 0.2 and accuracy["vertical"] >= 0.8, accuracy

    files = [str(standing / f"{n}.png") for n in names]
    printed = CliRunner().invoke(predict_command, [*files, "--rotate", "vertical"])
    assert printed.exit_code == 0, printed.output
    texts = [line.split("\t")[1] for line in printed.output.strip().splitlines()]
    right = [alnum_fold(t) == alnum_fold(TRUTH[n]) for n, t in zip(names, texts, strict=True)]
    assert sum(right) >= 4, texts
    refused = CliRunner().invoke(predict_command, [*files, "--rotate", "sideways"])
    assert refused.exit_code == 2 and "sideways" in refused.output


def test_eval_gives_an_rgb_model_the_colour_crops(tmp_path):
    """The shipped model takes RGB: eval scores it on the manifest's colour crops, exactly as
    the Recognizer reads them, not on their grey."""
    colour = tmp_path / "colour"
    colour.mkdir()
    crops = {}
    for n in sorted(TRUTH):
        grey = _fixture_crop(n)
        rgb = np.dstack([grey, 255 - grey, grey // 2])  # channels whose luma is not the crop
        cv2.imwrite(str(colour / f"{n}.png"), rgb[:, :, ::-1])
        crops[n] = rgb
    out = tmp_path / "e"
    args = ["--manifest", _test_manifest(colour, sorted(TRUTH), tmp_path), "--out", str(out)]
    assert CliRunner().invoke(eval_command, [*args, "--quiet"]).exit_code == 0
    scored = pd.read_parquet(out / "predictions.parquet").set_index("image_id")
    names = sorted(TRUTH)
    shipped = Recognizer.pretrained()
    read = shipped.predict([crops[n] for n in names])
    grey = shipped.predict([cv2.cvtColor(crops[n], cv2.COLOR_RGB2GRAY) for n in names])
    assert [scored.loc[n, "prediction"] for n in names] == [p.text for p in read]
    conf = [scored.loc[n, "confidence"] for n in names]
    assert np.allclose(conf, [p.confidence for p in read], atol=1e-4)
    assert not np.allclose(conf, [p.confidence for p in grey], atol=1e-4)
