"""Using a trained model: eval reports, the Recognizer API, predict, export parity, bad paths."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner
from manifest_factory import word_crop
from PIL import Image, PngImagePlugin

from pipelines.eval import command as eval_command
from pipelines.export import command as export_command
from pipelines.manifest import command as manifest_command
from pipelines.predict import command as predict_command
from textrec_data.preprocess import decode_crop, to_model_channels
from textrec_model.checkpoint import load_checkpoint
from textrec_model.metrics import char_confusions, compute_metrics, is_alphanumeric_word
from textrec_model.models import model_from_args
from textrec_model.predictor import DecodeConfig, batches_by_width
from textrec_model.recognizer import Recognizer


@pytest.fixture(scope="module")
def trained(shared_run) -> dict:
    """The suite's shared model (it cannot spell 'j'), and a test manifest with some 'j' labels."""
    return {"checkpoint": shared_run.checkpoint, "test": shared_run.test_manifest}


def _eval(trained, out: Path, *extra: str):
    args = ["--checkpoint", str(trained["checkpoint"]), "--manifest", str(trained["test"])]
    return CliRunner().invoke(
        eval_command, [*args, "--split", "val", "--out", str(out), "--quiet", *extra]
    )


def test_eval_writes_every_output_and_consistent_figures(trained, tmp_path):
    result = _eval(trained, tmp_path)
    assert result.exit_code == 0, result.output
    assert "alphanumeric subset" in result.output
    for name in ("report.json", "predictions.parquet", "errors.png", "errors.html"):
        assert (tmp_path / name).is_file() and (tmp_path / name).stat().st_size > 0
    report = json.loads((tmp_path / "report.json").read_text())
    preds = pd.read_parquet(tmp_path / "predictions.parquet")
    val_labels = pd.read_parquet(trained["test"]).query("split == 'val'")["label"]
    assert len(preds) == report["n"] == len(val_labels)
    assert sorted(preds["label"]) == sorted(val_labels)
    # the report's figures are those of the predictions it wrote
    again = compute_metrics(list(preds["prediction"]), list(preds["label"]))
    assert report["word_accuracy"] == pytest.approx(again.word_accuracy)
    assert report["cer"] == pytest.approx(again.cer)
    assert (preds["correct"] == (preds["prediction"] == preds["label"])).all()
    assert (preds["edit_distance"] >= 0).all() and preds["confidence"].between(0, 1).all()
    assert report["out_of_charset"] == int((~preds["in_charset"]).sum())
    assert report["out_of_charset"] == sum("j" in label for label in val_labels)
    assert report["subsets"]["alphanumeric"]["n"] == len(val_labels)  # all letters
    assert report["decoder"] == "greedy" and isinstance(report["char_confusions"], list)


def test_eval_beam_and_lexicon_decoders(trained, tmp_path):
    greedy = _eval(trained, tmp_path / "g")
    beam = _eval(trained, tmp_path / "b", "--decoder", "beam", "--beam-width", "1")
    assert greedy.exit_code == 0 and beam.exit_code == 0, beam.output
    g = pd.read_parquet(tmp_path / "g" / "predictions.parquet")
    b = pd.read_parquet(tmp_path / "b" / "predictions.parquet")
    assert list(g["prediction"]) == list(b["prediction"])  # width 1 is greedy
    lexicon = tmp_path / "words.txt"
    words = ["abc", "bad", "cafe", "hide", "dig"]
    lexicon.write_text("\ufeff" + "\n".join(words) + "\n\n", encoding="utf-8")
    lex = _eval(trained, tmp_path / "l", "--lexicon", str(lexicon))
    assert lex.exit_code == 0, lex.output
    report = json.loads((tmp_path / "l" / "report.json").read_text())
    assert report["decoder"] == "greedy+lexicon" and report["lexicon_words"] == len(words)
    assert set(pd.read_parquet(tmp_path / "l" / "predictions.parquet")["prediction"]) <= set(words)


def test_recognizer_matches_eval_on_numpy_and_pil_inputs(trained, tmp_path):
    assert _eval(trained, tmp_path).exit_code == 0
    preds = pd.read_parquet(tmp_path / "predictions.parquet")
    table = pd.read_parquet(trained["test"]).query("split == 'val'")
    crops = {(r.image_id, r.line_no): decode_crop(r.crop) for r in table.itertuples()}
    recognizer = Recognizer.from_checkpoint(trained["checkpoint"])  # same batches as eval
    keys = list(zip(preds["image_id"], preds["line_no"], strict=True))
    grays = [crops[k] for k in keys]
    inputs = [Image.fromarray(g) if i % 2 else np.dstack([g] * 3) for i, g in enumerate(grays)]
    out = recognizer.predict(inputs)
    assert [p.text for p in out] == list(preds["prediction"])
    assert np.allclose([p.confidence for p in out], preds["confidence"], atol=1e-4)
    lexicon = recognizer.predict(grays[:4], DecodeConfig(lexicon=("abc", "gig")))
    assert {p.text for p in lexicon} <= {"abc", "gig"}


def test_to_model_channels_accepts_common_layouts():
    rgb = np.zeros((5, 7, 3), np.uint8)
    rgb[..., 0] = 255
    assert to_model_channels(rgb).shape == (5, 7) and to_model_channels(rgb).max() > 0
    assert to_model_channels(Image.new("RGBA", (7, 5))).shape == (5, 7)
    with pytest.raises(ValueError, match="shape"):
        to_model_channels(np.zeros((5, 7, 2)))


def test_manifest_crops_and_image_files_become_the_same_grey(tmp_path):
    """A PNG with a gAMA chunk (as the official ICDAR 2015 crops carry) decodes from a manifest
    to the grey that `textrec predict` makes of the same file: training, eval and predict see
    one image, not the decoder's gamma-corrected grey."""
    rgb = np.random.default_rng(0).integers(0, 256, (20, 60, 3), dtype=np.uint8)
    info = PngImagePlugin.PngInfo()
    info.add(b"gAMA", (45455).to_bytes(4, "big"))
    path = tmp_path / "word.png"
    Image.fromarray(rgb).save(path, pnginfo=info)
    grey = decode_crop(path.read_bytes())
    assert grey.shape == (20, 60)
    assert np.array_equal(grey, to_model_channels(Image.open(path)))
    assert np.array_equal(grey, to_model_channels(rgb))
    assert np.array_equal(decode_crop(path.read_bytes(), channels=3), rgb)
    luma = rgb.astype(float) @ [0.299, 0.587, 0.114]
    assert np.abs(grey - luma).max() <= 1


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_export_matches_eager_pytorch(trained, tmp_path, fmt):
    out = tmp_path / f"model.{fmt}"
    result = CliRunner().invoke(
        export_command,
        ["--checkpoint", str(trained["checkpoint"]), "--format", fmt, "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    state = load_checkpoint(trained["checkpoint"])
    model = model_from_args(state["model_args"])
    model.load_state_dict(state["model"])
    model.eval()
    for batch, width in ((3, 96), (1, 200)):  # batch and width differ from the export's example
        images = torch.rand(batch, 1, 32, width) * 2 - 1
        with torch.inference_mode():
            expected = model(images).numpy()
        if fmt == "onnx":
            import onnxruntime as ort

            session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
            got = session.run(["logits"], {"images": images.numpy()})[0]
        else:
            extra = {"textrec.json": ""}
            scripted = torch.jit.load(str(out), _extra_files=extra)
            assert json.loads(extra["textrec.json"])["charset"] == state["charset"]
            with torch.inference_mode():
                got = scripted(images).numpy()
        assert got.shape == expected.shape == (batch, width // 4, model.num_classes)
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)


def test_export_weights_is_a_smaller_checkpoint_reading_the_same(trained, tmp_path):
    out = tmp_path / "model.pt"
    args = ["--checkpoint", str(trained["checkpoint"]), "--format", "weights", "--out", str(out)]
    result = CliRunner().invoke(export_command, args)
    assert result.exit_code == 0, result.output
    full, slim = load_checkpoint(trained["checkpoint"]), load_checkpoint(out)
    assert slim["export_format"] == "weights" and slim["model_args"] == full["model_args"]
    assert not {"optimizer", "scheduler", "rng", "stream"} & set(slim)
    assert all(v.dtype == torch.float16 for v in slim["model"].values() if v.is_floating_point())
    assert out.stat().st_size < trained["checkpoint"].stat().st_size / 2
    crops = [decode_crop(c) for c in pd.read_parquet(trained["test"])["crop"]]
    ours = Recognizer.from_checkpoint(out).predict(crops)
    theirs = Recognizer.from_checkpoint(trained["checkpoint"]).predict(crops)
    assert [p.text for p in ours] == [p.text for p in theirs]
    np.testing.assert_allclose(
        [p.confidence for p in ours], [p.confidence for p in theirs], atol=0.02
    )
    again = CliRunner().invoke(export_command, args)  # its own export may be replaced
    assert again.exit_code == 0, again.output
    other = tmp_path / "other.pt"
    other.write_bytes(b"a file textrec did not make")
    refused = CliRunner().invoke(export_command, [*args[:4], "--out", str(other)])
    assert refused.exit_code == 2 and "did not make" in refused.output
    assert other.read_bytes() == b"a file textrec did not make"


def test_predict_crops_with_checkpoint_and_onnx_agree(trained, tmp_path):
    onnx_file = tmp_path / "m.onnx"
    runner = CliRunner()
    args = ["--checkpoint", str(trained["checkpoint"]), "--out", str(onnx_file)]
    assert runner.invoke(export_command, args).exit_code == 0
    rng = np.random.default_rng(0)
    files = []
    for i, label in enumerate(["abc", "hig", "d", "jab"]):
        path = tmp_path / f"crop {i}.png"  # a space in the name on purpose
        Image.fromarray(word_crop(label, rng)).save(path)
        files.append(str(path))
    eager = runner.invoke(predict_command, ["--checkpoint", str(trained["checkpoint"]), *files])
    onnx = runner.invoke(predict_command, ["--onnx", str(onnx_file), *files])
    assert eager.exit_code == 0 and onnx.exit_code == 0, onnx.output
    eager_rows = [line.split("\t") for line in eager.output.strip().splitlines()]
    onnx_rows = [line.split("\t") for line in onnx.output.strip().splitlines()]
    assert [r[0] for r in eager_rows] == files
    assert [r[:2] for r in eager_rows] == [r[:2] for r in onnx_rows]
    expected = Recognizer.from_checkpoint(trained["checkpoint"]).predict(
        [Image.open(f) for f in files]
    )
    assert [r[1] for r in eager_rows] == [p.text for p in expected]


def test_predict_scenes_uses_the_manifest_crops(trained, tmp_path, scenes):
    images, gt = tmp_path / "images", tmp_path / "gt"
    quad = ",".join(str(v) for v in scenes.PATCH)
    scenes.write(images, gt, "img_1", [f"{quad},abc", f"{quad},###"], scenes.image())
    image, moved = scenes.rotated(30)
    scenes.write(images, gt, "img_2", [",".join(f"{v:.1f}" for v in moved) + ",hid"], image)
    out = tmp_path / "pred.csv"
    args = ["--checkpoint", str(trained["checkpoint"]), "--images", str(images), "--gt", str(gt)]
    result = CliRunner().invoke(predict_command, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 2  # the ### line is not recognized
    manifest_out = tmp_path / "m"
    built = CliRunner().invoke(
        manifest_command,
        ["--images", str(images), "--gt", str(gt), "--out", str(manifest_out), "--quiet"],
    )
    assert built.exit_code == 0, built.output
    table = pd.read_parquet(manifest_out / "manifest.parquet").sort_values("image_id")
    expected = Recognizer.from_checkpoint(trained["checkpoint"]).predict(
        [decode_crop(c) for c in table["crop"]]
    )
    by_file = {Path(r["file"]).stem: r["text"] for r in rows}
    assert [by_file[i] for i in table["image_id"]] == [p.text for p in expected]


def test_predict_scenes_takes_quads_without_transcription(trained, tmp_path, scenes):
    images, gt = tmp_path / "images", tmp_path / "gt"
    quad = ",".join(str(v) for v in scenes.PATCH)
    lines = [quad, f"{quad},", f"{quad},abc", f"{quad},###", "1,2,3"]  # detector-style first
    scenes.write(images, gt, "img_1", lines, scenes.image())
    args = ["--checkpoint", str(trained["checkpoint"]), "--images", str(images), "--gt", str(gt)]
    result = CliRunner().invoke(predict_command, [*args, "--out", str(tmp_path / "p.jsonl")])
    assert result.exit_code == 0, result.output
    assert "skipped 2 GT lines: malformed 1, placeholder 1" in result.output
    rows = pd.read_json(tmp_path / "p.jsonl", lines=True)
    assert list(rows["line_no"]) == [1, 2, 3]
    assert rows["text"].nunique() == 1  # the same quad, the same crop, the same answer


def test_bad_paths_give_one_line_errors(trained, tmp_path):
    runner = CliRunner()
    bogus = tmp_path / "bogus.onnx"
    bogus.write_bytes(b"not a model")
    ckpt, manifest, out = str(trained["checkpoint"]), str(trained["test"]), str(tmp_path / "o")
    cases = [
        (eval_command, ["--checkpoint", str(tmp_path / "no.pt"), "--manifest", manifest]),
        (eval_command, ["--checkpoint", ckpt, "--manifest", str(tmp_path / "no.parquet")]),
        (eval_command, ["--checkpoint", ckpt, "--manifest", manifest, "--split", "test"]),
        (eval_command, ["--onnx", str(bogus), "--manifest", manifest, "--split", "val"]),
        (eval_command, ["--checkpoint", ckpt, "--onnx", str(bogus), "--manifest", manifest]),
        (predict_command, ["--checkpoint", ckpt]),
        (predict_command, ["--checkpoint", ckpt, str(tmp_path / "missing.png")]),
        (export_command, ["--checkpoint", ckpt, "--out", str(tmp_path / "no" / "m.onnx")]),
        (export_command, ["--checkpoint", manifest, "--out", str(tmp_path / "m.onnx")]),
    ]
    for command, args in cases:
        if command is eval_command:
            args = [*args, "--out", out]
        result = runner.invoke(command, args)
        assert result.exit_code == 2, (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.output
        assert "Traceback" not in result.output


def test_metric_helpers():
    assert is_alphanumeric_word("Cafe") and is_alphanumeric_word("42")
    assert not is_alphanumeric_word("Caf\u00e9")  # ASCII letters and digits only
    assert not is_alphanumeric_word("e-mail") and not is_alphanumeric_word("")
    confusions = char_confusions([("cot", "cat"), ("ct", "cat"), ("cats", "cat")])
    as_pairs = {(c["label"], c["prediction"]): c["count"] for c in confusions}
    assert as_pairs == {("a", "o"): 1, ("a", ""): 1, ("", "s"): 1}


def test_eval_on_a_subset(trained, tmp_path):
    # the test manifest's val images are img_4 and img_9 (two words each)
    subset = tmp_path / "subset.json"
    subset.write_text(
        json.dumps({"data_list": [{"img_path": "x/img_4.jpg"}, {"img_path": "nope"}]})
    )
    args = ["--checkpoint", trained["checkpoint"], "--manifest", trained["test"], "--split", "val"]
    result = CliRunner().invoke(
        eval_command, [str(a) for a in [*args, "--out", tmp_path / "e", "--subset", subset]]
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "e" / "report.json").read_text())
    assert report["n"] == 2 and report["subset"]["rows"] == 2
    assert report["subset"]["not_found"] == 1 and report["subset"]["not_found_examples"] == ["nope"]
    assert "subset" in result.output
    subset.write_text('["img_1.jpg"]')  # a train image: nothing of val
    result = CliRunner().invoke(
        eval_command, [str(a) for a in [*args, "--out", tmp_path / "f", "--subset", subset]]
    )
    assert result.exit_code == 2 and result.output.startswith(f"error: {subset}: none of its 1")


def test_batches_keep_to_one_width_and_the_crop_and_column_limits():
    widths = [16, 48, 16, 48, 48, 32]
    assert list(batches_by_width(widths, 2)) == [[0, 2], [5], [1, 3], [4]]
    assert list(batches_by_width(widths, 8, max_columns=100)) == [[0, 2], [5], [1, 3], [4]]
    assert list(batches_by_width([500, 16], 8, max_columns=100)) == [[1], [0]]  # never empty


def test_a_reading_does_not_depend_on_the_crops_read_with_it(trained):
    """Each crop is padded to its own width step, never to a wider batch-mate's: one crop at a
    time and all at once read the same (a CRNN's BiLSTM would read any extra padding)."""
    table = pd.read_parquet(trained["test"])
    crops = [decode_crop(png) for png in table["crop"]]
    assert len({c.shape[1] for c in crops}) > 3
    together = Recognizer.from_checkpoint(trained["checkpoint"]).predict(crops)
    alone = Recognizer.from_checkpoint(trained["checkpoint"], batch_size=1).predict(crops)
    assert [p.text for p in alone] == [p.text for p in together]
    assert np.allclose([p.confidence for p in alone], [p.confidence for p in together], atol=1e-5)
