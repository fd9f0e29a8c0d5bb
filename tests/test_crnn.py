"""The CRNN architecture: sizes of its presets, output lengths, config validation (the
contract every model keeps is tested in test_models.py)."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from textrec_model.models import PRESETS, build_model, count_parameters
from textrec_model.models.crnn import CRNN, CRNNConfig

NUM_CLASSES = 80
PARAM_RANGES = {"crnn": (7_500_000, 9_000_000), "crnn-small": (500_000, 1_500_000)}


MODEL_CONFIGS = {name: p.config for name, p in PRESETS.items() if p.arch == "crnn"}


@pytest.fixture(scope="module", params=sorted(MODEL_CONFIGS))
def model(request) -> CRNN:
    torch.manual_seed(0)
    return build_model(request.param, NUM_CLASSES)


@pytest.mark.parametrize("width", [4, 37, 100, 128, 256])
def test_output_shape_follows_width(model: CRNN, width: int) -> None:
    model.eval()
    with torch.no_grad():
        logits = model(torch.randn(2, 1, 32, width))
    assert logits.shape == (2, width // 4, NUM_CLASSES)
    assert logits.dtype == torch.float32


def test_parameter_count_in_range(model: CRNN) -> None:
    low, high = PARAM_RANGES[_name_of(model)]
    assert low <= count_parameters(model) <= high


def test_output_lengths() -> None:
    widths = torch.tensor([4, 7, 8, 37, 128])
    model = build_model("crnn-small", NUM_CLASSES)
    assert model.output_lengths(widths).tolist() == [1, 1, 2, 9, 32]


def test_rejects_wrong_input(model: CRNN) -> None:
    with pytest.raises(ValueError, match="expected images"):
        model(torch.randn(1, 1, 48, 128))
    with pytest.raises(ValueError, match="expected images"):
        model(torch.randn(1, 3, 32, 128))


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="height"):
        CRNNConfig(height=64)
    with pytest.raises(ValueError, match="entries"):
        CRNNConfig(channels=(8, 8))


def test_rgb_config() -> None:
    config = CRNNConfig(
        channels=(8, 8, 16, 16, 16, 16, 16), batch_norm=(True,) * 7, lstm_hidden=8, in_channels=3
    )
    logits = CRNN(5, config)(torch.randn(2, 3, 32, 40))
    assert logits.shape == (2, 10, 5)


def _name_of(model: CRNN) -> str:
    return next(name for name, config in MODEL_CONFIGS.items() if config == model.config)


def test_config_from_json_lists_equals_original() -> None:
    for config in MODEL_CONFIGS.values():
        data = json.loads(json.dumps(dataclasses.asdict(config)))
        assert CRNNConfig(**data) == config
