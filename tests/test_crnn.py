"""Contract of the CRNN models: shapes, gradients, save/load, sizes, output lengths."""

from __future__ import annotations

import dataclasses
import io
import json

import pytest
import torch

from textrec_model.crnn import (
    CRNN,
    MODEL_CONFIGS,
    CRNNConfig,
    build_model,
    count_parameters,
)

NUM_CLASSES = 80
PARAM_RANGES = {"crnn": (7_500_000, 9_000_000), "crnn-small": (500_000, 1_500_000)}


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


def test_backward_gives_finite_grads(model: CRNN) -> None:
    model.train()
    model.zero_grad()
    logits = model(torch.randn(3, 1, 32, 64))
    logits.log_softmax(-1).mean().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


def test_state_dict_round_trip(model: CRNN) -> None:
    model.eval()
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    clone = build_model(_name_of(model), NUM_CLASSES)
    clone.load_state_dict(torch.load(buffer, weights_only=True))
    clone.eval()
    images = torch.randn(2, 1, 32, 96)
    with torch.no_grad():
        assert torch.equal(model(images), clone(images))


def test_parameter_count_in_range(model: CRNN) -> None:
    low, high = PARAM_RANGES[_name_of(model)]
    assert low <= count_parameters(model) <= high


def test_output_lengths() -> None:
    widths = torch.tensor([4, 7, 8, 37, 128])
    assert CRNN.output_lengths(widths).tolist() == [1, 1, 2, 9, 32]
    assert CRNN.output_lengths(widths).dtype == torch.long


def test_output_lengths_match_forward(model: CRNN) -> None:
    model.eval()
    widths = torch.tensor([13, 50, 101])
    with torch.no_grad():
        steps = [model(torch.randn(1, 1, 32, int(w))).shape[1] for w in widths]
    assert model.output_lengths(widths).tolist() == steps


def test_rejects_wrong_input(model: CRNN) -> None:
    with pytest.raises(ValueError, match="expected images"):
        model(torch.randn(1, 1, 48, 128))
    with pytest.raises(ValueError, match="expected images"):
        model(torch.randn(1, 3, 32, 128))


def test_build_model_unknown_name_lists_known() -> None:
    with pytest.raises(ValueError, match="crnn, crnn-small"):
        build_model("resnet", NUM_CLASSES)


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
