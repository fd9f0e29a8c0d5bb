"""ONNX Runtime, the default runtime of predict / eval: the same texts as PyTorch (confidences
within 1e-4) for the shipped model and a trained checkpoint, an export cached once, and an
int8 export calibrated on a manifest split that `--onnx` reads."""

from __future__ import annotations

import cv2
import numpy as np
import onnx
import pandas as pd
import pytest
import torch
from click.testing import CliRunner
from fixture_words import CROPS, TRUTH
from manifest_factory import write_manifest

from pipelines.export import command as export_command
from textrec_data.errors import InputError
from textrec_data.preprocess import decode_crop
from textrec_model.export import export_model
from textrec_model.onnx_cache import cache_dir
from textrec_model.predictor import Predictor
from textrec_model.recognizer import Recognizer
from textrec_model.train import TrainConfig, train


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict:
    """A crnn-small trained for a few steps, and its manifest."""
    root = tmp_path_factory.mktemp("runtime")
    manifest = write_manifest(root / "m.parquet", 48, chars="abcdef")
    config = TrainConfig(
        manifests=(str(manifest),), out=str(root / "run"), max_steps=12, eval_every=12,
        batch_size=8, workers=0, warmup_steps=2, log_every=6, pool_size=16, lr=3e-3,
    )  # fmt: skip
    train(config, progress=False)
    crops = [decode_crop(c) for c in pd.read_parquet(manifest)["crop"]]
    return {"checkpoint": root / "run" / "last.pt", "manifest": manifest, "crops": crops}


def _same(onnx, torch_) -> None:
    assert [p.text for p in onnx] == [p.text for p in torch_]
    np.testing.assert_allclose(
        [p.confidence for p in onnx], [p.confidence for p in torch_], atol=1e-4
    )


def test_shipped_model_reads_the_same_in_onnx_runtime_and_pytorch():
    crops = [cv2.imread(str(CROPS / f"{n}.png"))[:, :, ::-1] for n in sorted(TRUTH)]
    onnx = Recognizer.pretrained(threads=1)
    _same(onnx.predict(crops), Recognizer.pretrained(runtime="torch").predict(crops))
    assert len(list(cache_dir().glob("*.onnx"))) >= 1


def test_checkpoint_reads_the_same_and_is_exported_once(tiny):
    before = set(cache_dir().glob("*.onnx"))
    onnx = Recognizer.load(tiny["checkpoint"], None, runtime="onnx", threads=1)
    made = set(cache_dir().glob("*.onnx")) - before
    assert len(made) == 1
    stamp = next(iter(made)).stat().st_mtime_ns
    torch_ = Recognizer.load(tiny["checkpoint"], None, runtime="torch", threads=1)
    _same(onnx.predict(tiny["crops"]), torch_.predict(tiny["crops"]))
    Recognizer.load(tiny["checkpoint"], None, runtime="onnx")  # from the cache
    assert next(iter(made)).stat().st_mtime_ns == stamp
    with pytest.raises(InputError, match="--runtime"):
        Recognizer.load(tiny["checkpoint"], None, runtime="tensorrt")
    with pytest.raises(InputError, match="--runtime torch"):
        Recognizer.load(None, next(iter(made)), runtime="torch")


def test_int8_export_is_calibrated_and_readable(tiny, tmp_path):
    out, fp32 = tmp_path / "int8.onnx", tmp_path / "fp32.onnx"
    args = ["--checkpoint", str(tiny["checkpoint"]), "--out", str(out), "--int8"]
    refused = CliRunner().invoke(export_command, args)
    assert refused.exit_code == 2 and "--calibration" in refused.output
    calibration = ["--calibration", f"{tiny['manifest']}:train", "--calibration-crops", "16"]
    made = CliRunner().invoke(export_command, [*args, *calibration])
    assert made.exit_code == 0, made.output
    graph = onnx.load(str(out)).graph
    # the recipe: the backbone's convolutions in int8, the sequence model and classifier float
    dequantized = {n.output[0] for n in graph.node if n.op_type == "DequantizeLinear"}
    convs = [n for n in graph.node if n.op_type == "Conv"]
    assert convs and all(n.input[1] in dequantized for n in convs), "a Conv kept float weights"
    head = [n for n in graph.node if n.op_type in ("LSTM", "MatMul", "Gemm")]
    assert head and not any(i in dequantized for n in head for i in n.input), "head quantized"
    export_model(tiny["checkpoint"], fp32, "onnx")
    readers = [Predictor.from_onnx(path, threads=1) for path in (out, fp32)]
    logits = [torch.cat([o.flatten() for _, o, _ in r.outputs(tiny["crops"])]) for r in readers]
    # int8 logits follow float32's closely (a wrong scale or zero point breaks this at once)
    assert torch.corrcoef(torch.stack(logits))[0, 1] > 0.99
    int8_texts = [p.text for p in Recognizer.from_onnx(out).predict(tiny["crops"])]
    fp32_texts = [p.text for p in Recognizer.load(tiny["checkpoint"], None).predict(tiny["crops"])]
    agree = sum(a == b for a, b in zip(int8_texts, fp32_texts, strict=True))
    assert agree >= len(fp32_texts) * 0.9, agree
