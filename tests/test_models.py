"""The model contract, checked for every registered preset of both head kinds: shapes follow
the input spec, output lengths match the forward pass, gradients flow, a checkpoint restores the
exact hyper-parameters and outputs; a CTC model's ONNX export computes the same logits, a
sequence-to-sequence model's decoder step is its teacher-forcing pass and its export is refused
in one line. Then what is particular to an architecture: the CRNN's sizes, time axis and config
validation."""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from textrec_data.charset import Charset
from textrec_data.errors import InputError
from textrec_model.checkpoint import load_checkpoint, model_from_state, save_checkpoint
from textrec_model.export import export_model
from textrec_model.models import (
    ARCHITECTURES,
    PRESETS,
    RecognitionModel,
    build_model,
    count_parameters,
    model_from_args,
)
from textrec_model.models.crnn import CRNN, CRNNConfig
from textrec_model.predictor import DecodeConfig, Predictor
from textrec_model.seq2seq import decoder_inputs, pad_labels

NUM_CLASSES = 40
CHARSET = Charset(tuple("abcdefghijklmnopqrstuvwxyz0123456789.-'"), "keep")
#: Parameters of presets at NUM_CLASSES classes (the sizes README and DESIGN state).
PARAM_RANGES = {
    "crnn": (7_500_000, 9_000_000),
    "crnn-small": (500_000, 1_500_000),
    "tiny": (50_000, 150_000),
    "ppocr-seq2seq": (3_500_000, 4_500_000),
}
CRNN_PRESETS = sorted(name for name, preset in PRESETS.items() if preset.arch == CRNN.arch)
KINDS = {name: ARCHITECTURES[preset.arch].head_kind for name, preset in PRESETS.items()}
CTC_PRESETS = sorted(name for name, kind in KINDS.items() if kind == "ctc")
SEQ2SEQ_PRESETS = sorted(name for name, kind in KINDS.items() if kind == "seq2seq")


@functools.cache
def _built(name: str) -> RecognitionModel:
    """Preset ``name`` with NUM_CLASSES outputs, built once for the whole module."""
    torch.manual_seed(0)
    return build_model(name, NUM_CLASSES)


@pytest.fixture(scope="module", params=sorted(PRESETS))
def model(request) -> RecognitionModel:
    return _built(request.param)


@pytest.fixture(scope="module", params=CTC_PRESETS)
def ctc_model(request) -> RecognitionModel:
    return _built(request.param)


@pytest.fixture(scope="module", params=[*SEQ2SEQ_PRESETS, "trocr"])
def seq2seq_model(request, tmp_path_factory) -> RecognitionModel:
    """Every seq2seq preset, and a TrOCR (architecture ``trocr``: no preset, built from a
    Hugging Face folder, here the tests' tiny one)."""
    if request.param != "trocr":
        return _built(request.param)
    pytest.importorskip("transformers")
    from tiny_trocr import save_tiny_trocr

    from textrec_model.models.trocr import load_hf_dir

    folder = tmp_path_factory.mktemp("tiny-trocr")
    save_tiny_trocr(folder)
    return load_hf_dir(folder)


def test_both_head_kinds_are_registered() -> None:
    assert set(KINDS.values()) == {"ctc", "seq2seq"}
    assert {arch.head_kind for arch in ARCHITECTURES.values()} == {"ctc", "seq2seq"}


@pytest.fixture(scope="module", params=CRNN_PRESETS)
def crnn(request) -> CRNN:
    return _built(request.param)


def _images(model: RecognitionModel, batch: int, width: int) -> torch.Tensor:
    spec = model.input_spec
    return torch.randn(batch, spec.channels, spec.height, width)


@pytest.mark.parametrize("width", [64, 101, 256])
def test_logits_shape_follows_the_input_spec(ctc_model: RecognitionModel, width: int) -> None:
    model = ctc_model
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
    images = _images(model, 3, 64)
    if model.head_kind == "seq2seq":  # teacher forcing reaches the encoder and the decoder
        labels = pad_labels([[1, 2, 3, model.special.end], [4, model.special.end]] * 2)[:3]
        outputs = model(images, decoder_inputs(labels, model.special), torch.tensor([64] * 3))
    else:
        outputs = model(images)
    outputs.log_softmax(-1).mean().backward()
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
    assert CHARSET.num_classes == NUM_CLASSES
    loaded = load_checkpoint(_save(model, tmp_path / "model.pt"))
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


def _save(model: RecognitionModel, path: Path) -> Path:
    """``model`` as a textrec checkpoint (charset CHARSET, width cap 512)."""
    state = {"model_name": "x", "model_args": model.model_args(), "model": model.state_dict()}
    state |= {"charset": CHARSET.to_dict(), "config": {"max_width": 512}, "step": 0}
    save_checkpoint(state, path)
    return path


def test_onnx_export_gives_the_torch_logits(ctc_model: RecognitionModel, tmp_path) -> None:
    """ONNX Runtime computes PyTorch's logits on a batch and width other than the export's."""
    onnxruntime = pytest.importorskip("onnxruntime")
    model = ctc_model
    model.eval()
    out = tmp_path / "model.onnx"
    export_model(_save(model, tmp_path / "model.pt"), out, "onnx")
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    images = _images(model, 3, 200)
    with torch.no_grad():
        expected = model(images).numpy()
    got = session.run(["logits"], {"images": images.numpy()})[0]
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)


# ---------------------------------------------------------------- sequence-to-sequence models


@pytest.mark.parametrize("width", [64, 101, 256])
def test_seq2seq_shapes_follow_the_input_spec(seq2seq_model, width: int) -> None:
    """Encoder states (B, steps, D) from images; teacher-forcing logits (B, L, vocabulary)."""
    model = seq2seq_model.eval()
    width = model.input_spec.fixed_width or width
    images = _images(model, 2, width)
    inputs = torch.full((2, 5), model.special.start)
    with torch.no_grad():
        memory = model(images)
        logits = model(images, inputs, torch.tensor([width, width]))
    spec = model.input_spec
    assert memory.shape[0] == 2
    assert spec.fixed_width is not None or memory.shape[1] == spec.steps(width)
    vocabulary = model.classifier.out_features if hasattr(model, "classifier") else None
    assert logits.shape[:2] == (2, 5) and logits.dtype == torch.float32
    assert vocabulary is None or logits.shape[2] == vocabulary == NUM_CLASSES + 2


def test_seq2seq_teacher_forcing_reaches_every_weight(seq2seq_model) -> None:
    """Every parameter gets a finite gradient from the training loss (DDP needs each used)."""
    model = seq2seq_model.train()
    model.zero_grad()
    width = model.input_spec.fixed_width or 64
    labels = pad_labels([[1, 2, 3, model.special.end], [4, model.special.end]])
    inputs = decoder_inputs(labels, model.special)
    model(_images(model, 2, width), inputs, torch.tensor([width] * 2)).mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())
    model.eval()


def test_seq2seq_step_is_the_teacher_forcing_pass(seq2seq_model) -> None:
    """The decoder step generation calls gives the logits teacher forcing (training) gives at
    the prefix's last position, for rows picked out of the batch."""
    model = seq2seq_model.eval()
    width = model.input_spec.fixed_width or 96
    images, widths = _images(model, 2, width), torch.tensor([width, min(width, 64)])
    inputs = torch.tensor([[model.special.start, 3, 7, 9], [model.special.start, 5, 5, 1]])
    with torch.no_grad():
        forced = model(images, inputs, widths)
        step = model.decode_step(model(images), model.output_lengths(widths))
        stepped = step(inputs[[1, 0], :3], torch.tensor([1, 0]))
    torch.testing.assert_close(stepped, forced[[1, 0], 2], atol=1e-5, rtol=1e-5)


def test_seq2seq_predictor_reads_and_scores(seq2seq_model) -> None:
    """The Predictor decodes by the model's head: readings of the charset's characters, at
    most max_tokens long, confidences in [0, 1]; beam too; a lexicon is refused."""
    model = seq2seq_model.eval()
    predictor = Predictor.from_model(model, CHARSET, max_width=256)
    assert predictor.head.kind == "seq2seq"
    crops = [np.full((32, width, 3), 90 + width % 100, np.uint8) for width in (40, 150, 300)]
    for decode in (DecodeConfig(), DecodeConfig(decoder="beam", beam_width=3)):
        found = predictor.predict(crops, decode)
        assert all(0.0 <= p.confidence <= 1.0 for p in found)
        assert all(len(p.text) <= model.generation.max_tokens for p in found)
        assert all(set(p.text) <= set(CHARSET.chars) or model.arch == "trocr" for p in found)
    with pytest.raises(InputError, match="--lexicon: lexicon decoding is for CTC models"):
        predictor.predict(crops, DecodeConfig(lexicon=("word",)))


def test_seq2seq_checkpoint_round_trip_and_export_refusal(seq2seq_model, tmp_path) -> None:
    """A checkpoint rebuilds the same model (same encoder states and readings); ONNX export is
    refused in one line naming what is not exported."""
    model = seq2seq_model.eval()
    clone = model_from_state(load_checkpoint(_save(model, tmp_path / "model.pt")))
    assert clone.model_args() == model.model_args()
    images = _images(model, 2, model.input_spec.fixed_width or 96)
    with torch.no_grad():
        assert torch.equal(model(images), clone(images))
    with pytest.raises(InputError, match="is not exported to onnx .*--format weights") as error:
        export_model(tmp_path / "model.pt", tmp_path / "m.onnx", "onnx")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("name", sorted(PARAM_RANGES))
def test_parameter_count_in_range(name: str) -> None:
    low, high = PARAM_RANGES[name]
    assert low <= count_parameters(_built(name)) <= high


# ---------------------------------------------------------------- the CRNN architecture


@pytest.mark.parametrize("width", [4, 37, 100, 128, 256])
def test_output_shape_follows_width(crnn: CRNN, width: int) -> None:
    crnn.eval()
    with torch.no_grad():
        logits = crnn(torch.randn(2, 1, 32, width))
    assert logits.shape == (2, width // 4, NUM_CLASSES)
    assert logits.dtype == torch.float32


def test_output_lengths() -> None:
    widths = torch.tensor([4, 7, 8, 37, 128])
    assert _built("crnn-small").output_lengths(widths).tolist() == [1, 1, 2, 9, 32]


def test_rejects_wrong_input(crnn: CRNN) -> None:
    with pytest.raises(ValueError, match="expected images"):
        crnn(torch.randn(1, 1, 48, 128))
    with pytest.raises(ValueError, match="expected images"):
        crnn(torch.randn(1, 3, 32, 128))


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


def test_config_from_json_lists_equals_original() -> None:
    for name in CRNN_PRESETS:
        config = PRESETS[name].config
        data = json.loads(json.dumps(dataclasses.asdict(config)))
        assert CRNNConfig(**data) == config
