"""The recognizer textrec ships: inside the package, loaded without unpickling, used by
`textrec predict` / `textrec eval` when no --checkpoint is given, and able to read words."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
from click.testing import CliRunner

from pipelines.eval import command as eval_command
from pipelines.manifest import command as manifest_command
from pipelines.predict import command as predict_command
from textrec_model.checkpoint import load_checkpoint
from textrec_model.metrics import alnum_fold
from textrec_model.recognizer import SHIPPED_WEIGHTS, Recognizer

CROPS = Path(__file__).parent / "fixtures" / "easyocr_crops"
#: The words tests/fixtures/make_easyocr_fixture.py rendered into those crops.
TRUTH = {
    "hello": "Hello",
    "textrec": "textrec",
    "ocr2024": "OCR-2024",
    "price": "$12.50",
    "apache": "Apache",
    "seven": "7",
}


def test_shipped_weights_are_a_small_inference_checkpoint():
    assert SHIPPED_WEIGHTS.is_file() and SHIPPED_WEIGHTS.stat().st_size <= 20 * 2**20
    state = load_checkpoint(SHIPPED_WEIGHTS)  # weights_only: nothing in it runs
    assert state["export_format"] == "weights" and "optimizer" not in state
    assert Recognizer.pretrained().charset.chars == tuple(state["charset"]["charset"])


def test_shipped_model_reads_rendered_words():
    names = sorted(TRUTH)
    crops = [cv2.imread(str(CROPS / f"{n}.png"), cv2.IMREAD_GRAYSCALE) for n in names]
    texts = [p.text for p in Recognizer.pretrained().predict(crops)]
    right = [alnum_fold(t) == alnum_fold(TRUTH[n]) for n, t in zip(names, texts, strict=True)]
    assert sum(right) >= 5, dict(zip(names, texts, strict=True))


def test_predict_and_eval_use_the_shipped_model_without_checkpoint(tmp_path):
    files = [str(CROPS / f"{n}.png") for n in sorted(TRUTH)]
    result = CliRunner().invoke(predict_command, files)
    assert result.exit_code == 0, result.output
    printed = [line.split("\t")[1] for line in result.output.strip().splitlines()]
    crops = [cv2.imread(f, cv2.IMREAD_GRAYSCALE) for f in files]
    assert printed == [p.text for p in Recognizer.pretrained().predict(crops)]

    gt = tmp_path / "gt.txt"
    gt.write_text("".join(f'{Path(f).name}, "{TRUTH[Path(f).stem]}"\n' for f in files))
    args = ["--format", "wordcrops", "--images", str(CROPS), "--gt", str(gt)]
    args += ["--out", str(tmp_path / "m"), "--split", "test"]
    built = CliRunner().invoke(manifest_command, args)
    assert built.exit_code == 0, built.output
    manifest = str(tmp_path / "m" / "manifest.parquet")
    scored = CliRunner().invoke(
        eval_command, ["--manifest", manifest, "--out", str(tmp_path / "e"), "--quiet"]
    )
    assert scored.exit_code == 0, scored.output
    report = json.loads((tmp_path / "e" / "report.json").read_text())
    assert report["n"] == 6 and report["config"]["checkpoint"] is None
    assert report["word_accuracy_alnum"] >= 5 / 6 - 1e-9, scored.output
