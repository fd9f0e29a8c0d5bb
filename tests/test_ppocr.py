"""Pretrained source ``ppocr:v4``: PP-OCRv4's recognizer re-built as :class:`SVTRLCNet` with the
weights of RapidOCR's ONNX file gives what onnxruntime gives on that file.

The ONNX file comes with ``rapidocr-onnxruntime`` (``make install`` installs it, ``--no-deps``);
the tests that need it are skipped without it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from textrec_data.charset import Charset
from textrec_data.preprocess import pad_batch
from textrec_model.checkpoint import save_checkpoint
from textrec_model.export import export_model
from textrec_model.models.svtr_lcnet import PPOCR_V4, SVTRLCNet, SVTRLCNetConfig
from textrec_model.pretrained import load_pretrained
from textrec_model.pretrained.ppocr_v4 import svtr_state_dict
from textrec_model.transfer import init_model, set_frozen

SPEC = importlib.util.find_spec("rapidocr_onnxruntime")
needs_model = pytest.mark.skipif(
    SPEC is None or importlib.util.find_spec("onnxruntime") is None,
    reason="PP-OCRv4 not installed: pip install --no-deps rapidocr-onnxruntime==1.4.4",
)
#: softmax outputs of float32 networks on the CPU (onnxruntime vs torch kernels)
PROB_TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def ppocr():
    return load_pretrained("ppocr:v4")


@needs_model
@pytest.mark.parametrize("width", [96, 320, 487])
def test_forward_gives_onnxruntime_outputs(ppocr, width: int) -> None:
    import onnxruntime

    path = Path(SPEC.submodule_search_locations[0]) / PPOCR_V4.file
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(width)
    crops = [rng.uniform(-1, 1, (3, 48, width)).astype(np.float32) for _ in range(2)]  # RGB
    images = pad_batch(crops, ppocr.model.input_spec)  # to >= 320 columns, as PaddleOCR pads
    assert images.shape == (2, 3, 48, max(width, 320))
    expected = session.run(None, {"x": images[:, ::-1].copy()})[0]  # PaddleOCR reads BGR
    with torch.no_grad():
        probs = ppocr.model(torch.from_numpy(images)).softmax(-1).numpy()
    assert probs.shape == (2, max(width, 320) // 8, 6625)  # an odd width's extra step cut
    assert np.abs(probs - expected[:, : probs.shape[1]]).max() <= PROB_TOLERANCE


@needs_model
def test_charset_is_paddleocrs_with_the_space_last(ppocr) -> None:
    chars = ppocr.charset.chars
    assert len(chars) == 6624 and chars[-1] == " "
    assert set("0123456789abcxyzABCXYZ!?$%&") <= set(chars)


@needs_model
def test_init_maps_the_head_to_a_small_charset(ppocr) -> None:
    charset = Charset(tuple("abc") + ("\u2603",))  # the snowman is not in PaddleOCR's charset
    model, report = init_model("ppocr:v4", charset)
    assert (report.mapped, report.new, len(report.dropped)) == (3, ("\u2603",), 6621)
    source = ppocr.model.state_dict()["classifier.weight"]
    rows = [0] + [ppocr.charset.chars.index(c) + 1 for c in "abc"]
    assert torch.equal(model.state_dict()["classifier.weight"][:4], source[rows])
    neck = model.state_dict()["neck.norm.weight"]
    assert torch.equal(neck, ppocr.model.state_dict()["neck.norm.weight"])  # other layers copied


@needs_model
def test_init_of_the_seq2seq_model_loads_the_encoder_only(ppocr) -> None:
    """--model ppocr-seq2seq --init ppocr:v4: PP-OCRv4's encoder, a fresh decoder; --freeze
    backbone freezes the same PPLCNetV3 features as for svtr-lcnet."""
    charset = Charset(tuple("abc"))
    model, report = init_model("ppocr:v4", charset, "ppocr-seq2seq")
    source = ppocr.model.state_dict()
    own = model.state_dict()
    encoder = [k for k in own if k.startswith(("features.", "neck."))]
    assert report.copied == len(encoder) > 200 and "start fresh" in report.line()
    assert all(torch.equal(own[k], source[k]) for k in encoder)
    assert own["classifier.weight"].shape == (charset.num_classes + 2, 256)
    set_frozen(model, True)
    assert not any(p.requires_grad for p in model.features.parameters())
    assert all(p.requires_grad for p in model.decoder.parameters())


def test_weights_that_do_not_fit_are_refused() -> None:
    model = SVTRLCNet(5, SVTRLCNetConfig())
    with pytest.raises(ValueError, match="the ONNX graph has 1 weights"):
        svtr_state_dict(model, [("conv2d_1.w_0", np.zeros((16, 3, 3, 3), np.float32))])


def test_config_refuses_blocks_that_do_not_reach_height_three() -> None:
    with pytest.raises(ValueError, match="take height 48 to 3"):
        SVTRLCNetConfig(blocks=((32, 3, (1, 1), False),))


@pytest.mark.parametrize(
    "bad",
    [{"heads": 0}, {"pad_to": -8}, {"stem": 0}, {"blocks": ((32, 3, (0, 1), False),)}],
)
def test_config_refuses_sizes_below_one(bad: dict) -> None:
    with pytest.raises(ValueError):  # never ZeroDivisionError: a crafted checkpoint's config
        SVTRLCNetConfig(**bad)


def test_onnx_export_keeps_the_padding_in_preprocessing(tmp_path) -> None:
    """The exported graph has no width-dependent branch: ONNX Runtime agrees with PyTorch on
    batches narrower and wider than the export's example, padded by the input spec."""
    onnxruntime = pytest.importorskip("onnxruntime")
    charset = Charset(tuple("abc"))
    model = SVTRLCNet(charset.num_classes, SVTRLCNetConfig(pad_to=64)).eval()
    state = {"model_args": model.model_args(), "model": model.state_dict()}
    state |= {"charset": charset.to_dict(), "config": {"max_width": 512}, "step": 0}
    checkpoint = tmp_path / "svtr.pt"
    save_checkpoint(state, checkpoint)
    out = tmp_path / "svtr.onnx"
    export_model(checkpoint, out, "onnx")
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for width in (40, 201):
        crop = rng.uniform(-1, 1, (3, 48, width)).astype(np.float32)
        images = pad_batch([crop], model.input_spec)
        with torch.no_grad():
            expected = model(torch.from_numpy(images)).numpy()
        got = session.run(["logits"], {"images": images})[0]
        assert got.shape == expected.shape == (1, max(width, 64) // 8, 4)
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)
