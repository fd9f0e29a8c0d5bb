"""The model contract, checked for every registered preset: shapes follow the input spec,
output lengths match the forward pass, gradients flow, and a checkpoint restores the exact
hyper-parameters and outputs."""

from __future__ import annotations

import json

import pytest
import torch

from textrec_data.charset import Charset
from textrec_model.checkpoint import load_checkpoint, model_from_state, save_checkpoint
from textrec_model.models import PRESETS, RecognitionModel, build_model, model_from_args

NUM_CLASSES = 40


@pytest.fixture(scope="module", params=sorted(PRESETS))
def model(request) -> RecognitionModel:
    torch.manual_seed(0)
    return build_model(request.param, NUM_CLASSES)


def _images(model: RecognitionModel, batch: int, width: int) -> torch.Tensor:
    spec = model.input_spec
    return torch.randn(batch, spec.channels, spec.height, width)


@pytest.mark.parametrize("width", [64, 101, 256])
def test_logits_shape_follows_the_input_spec(model: RecognitionModel, width: int) -> None:
    model.eval()
    with torch.no_grad():
        logits = model(_images(model, 2, width))
    assert logits.shape == (2, model.input_spec.steps(width), NUM_CLASSES)
    assert logits.dtype == torch.float32


def test_output_lengths_match_forward(model: RecognitionModel) -> None:
    model.eval()
    spec = model.input_spec
    widths = torch.tensor([spec.min_width, 50, 101, 173])
    with torch.no_grad():
        steps = [model(_images(model, 1, int(w))).shape[1] for w in widths]
    assert model.output_lengths(widths).tolist() == steps
    assert model.output_lengths(widths).dtype == torch.long
    for s, w in zip(steps, widths.tolist(), strict=True):
        assert spec.width_for_steps(s) <= w


def test_backward_gives_finite_grads(model: RecognitionModel) -> None:
    model.train()
    model.zero_grad()
    model(_images(model, 3, 64)).log_softmax(-1).mean().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)
    model.eval()


def test_rejects_input_outside_the_spec(model: RecognitionModel) -> None:
    spec = model.input_spec
    with pytest.raises(ValueError, match="expected images"):
        model(torch.randn(1, spec.channels, spec.height + 16, 128))
    with pytest.raises(ValueError, match="expected images"):
        model(torch.randn(1, spec.channels + 1, spec.height, 128))


def test_checkpoint_round_trip_restores_exact_hyper_parameters(model, tmp_path) -> None:
    model.eval()
    args = model.model_args()
    assert json.loads(json.dumps(args)) == json.loads(json.dumps(args))  # JSON-able
    charset = Charset(tuple("abcdefghijklmnopqrstuvwxyz0123456789.-'"), "keep")
    assert charset.num_classes == NUM_CLASSES
    path = tmp_path / "model.pt"
    state = {"model_name": "x", "model_args": args, "model": model.state_dict()}
    save_checkpoint({**state, "charset": charset.to_dict(), "config": {}, "step": 0}, path)
    loaded = load_checkpoint(path)
    clone = model_from_state(loaded)
    assert type(clone) is type(model) and clone.config == model.config
    assert clone.model_args() == args
    images = _images(model, 2, 96)
    with torch.no_grad():
        assert torch.equal(model(images), clone(images))


def test_args_survive_json_and_rebuild_the_same_architecture(model: RecognitionModel) -> None:
    args = json.loads(json.dumps(model.model_args()))
    rebuilt = model_from_args(args)
    assert rebuilt.config == model.config and rebuilt.num_classes == NUM_CLASSES
    assert sum(p.numel() for p in rebuilt.parameters()) == sum(
        p.numel() for p in model.parameters()
    )


def test_unknown_names_list_the_known_ones() -> None:
    with pytest.raises(ValueError, match="crnn, crnn-small"):
        build_model("resnet", NUM_CLASSES)
    with pytest.raises(ValueError, match="unknown architecture"):
        model_from_args({"arch": "resnet", "num_classes": 3, "config": {}})
