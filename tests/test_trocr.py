"""TrOCR through transformers (textrec_model.models.trocr), offline, on a tiny checkpoint the
tests build and ``save_pretrained`` themselves: a ViT encoder and TrOCR decoder of ~80k
parameters, a character-level tokenizer made with ``tokenizers``, a ViT image processor."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from tiny_trocr import SPECIALS, char_tokenizer, save_tiny_trocr  # noqa: E402

from textrec_data.errors import InputError  # noqa: E402
from textrec_model.checkpoint import save_checkpoint  # noqa: E402
from textrec_model.models.trocr import TrOCR, hf_dir, load_hf_dir  # noqa: E402
from textrec_model.seq2seq import GenerationConfig, StepDecoder, greedy_decode  # noqa: E402

WORDS = ["ab", "cde1", "x", "hello 7"]


def crops() -> list[np.ndarray]:
    """One RGB crop per word, told apart by colour and stripes."""
    out = []
    for i in range(len(WORDS)):
        crop = np.zeros((20, 50, 3), np.uint8)
        crop[..., i % 3] = 220
        crop[:, :: i + 2] = 40 * i
        out.append(crop)
    return out


@pytest.fixture(scope="module")
def checkpoint_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-trocr")
    save_tiny_trocr(folder)
    return folder


@pytest.fixture(scope="module")
def trained(checkpoint_dir):
    """The tiny TrOCR after some Adam steps on the four crops, with its loss per step."""
    torch.manual_seed(0)
    model = load_hf_dir(checkpoint_dir)
    pixels, labels = model.preprocess(crops()), model.labels(WORDS)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    model.train()
    for _ in range(60):
        loss = model.loss(pixels, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model.eval(), losses


def hf_greedy(model: TrOCR, pixels: torch.Tensor, max_tokens: int) -> list[list[int]]:
    """``model.generate`` of transformers, greedy, padding suppressed as textrec does."""
    generated = model.net.generate(
        pixels, max_new_tokens=max_tokens, num_beams=1, do_sample=False,
        suppress_tokens=list(model.banned),
    )  # fmt: skip
    return generated.tolist()


def textrec_greedy(model: TrOCR, pixels: torch.Tensor, max_tokens: int) -> list[list[int]]:
    """textrec's greedy readings as HF writes them: start, tokens, end, padding to equal length."""
    with torch.no_grad():
        memory = model.encode(pixels)
        decoder = StepDecoder(model.decode_step(memory), len(pixels), model.special, model.banned)
        found = greedy_decode(decoder, max_tokens)
    rows = [[model.special.start, *h.tokens] + [model.special.end] * h.ended for h in found]
    width = max(map(len, rows))
    return [row + [model.special.pad] * (width - len(row)) for row in rows]


@pytest.mark.parametrize("max_tokens", [3, 12])
def test_greedy_decoding_equals_transformers_generate(trained, max_tokens):
    model, _ = trained
    pixels = model.preprocess(crops())
    expected = hf_greedy(model, pixels, max_tokens)
    assert textrec_greedy(model, pixels, max_tokens) == expected
    readings = model.generate(pixels, GenerationConfig(max_tokens=max_tokens))
    texts = char_tokenizer().batch_decode(expected, skip_special_tokens=True)
    assert [r.text for r in readings] == texts


def test_greedy_decoding_equals_generate_on_an_untrained_model(checkpoint_dir):
    model = load_hf_dir(checkpoint_dir).eval()
    with torch.no_grad():
        for parameter in model.net.decoder.parameters():
            parameter.normal_(0, 0.3)  # a random decoder that does not stop at once
    pixels = model.preprocess(crops())
    assert textrec_greedy(model, pixels, 10) == hf_greedy(model, pixels, 10)


def test_training_steps_lower_the_loss_and_teach_the_words(trained):
    model, losses = trained
    assert losses[-1] < losses[0] / 2
    readings = model.generate(model.preprocess(crops()), GenerationConfig(max_tokens=12))
    assert [r.text for r in readings] == WORDS and all(r.ended for r in readings)


def test_the_loss_is_transformers_own_with_padding_ignored(trained):
    model, _ = trained
    pixels, labels = model.preprocess(crops()), model.labels(WORDS)
    assert (labels == -100).sum() > 0  # the words differ in length
    with torch.no_grad():
        ours = model.loss(pixels, labels)
        theirs = model.net(pixel_values=pixels, labels=labels).loss
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-5)


def test_labels_are_the_checkpoint_tokenizer_ids(checkpoint_dir):
    model = load_hf_dir(checkpoint_dir)
    expected = char_tokenizer()(WORDS).input_ids
    assert model.tokenize(WORDS) == expected
    assert model.trainable(["ab", "é", "x" * 30]) == [True, False, False]
    assert model.preprocess(crops()).shape == (4, 3, 32, 32)


def test_preprocessing_is_the_checkpoint_processor_on_rgb(checkpoint_dir):
    model = load_hf_dir(checkpoint_dir)
    processor = transformers.AutoImageProcessor.from_pretrained(checkpoint_dir, backend="pil")
    expected = processor(images=crops(), return_tensors="pt")["pixel_values"]
    assert torch.equal(model.preprocess(crops()), expected)
    grey = crops()[1][..., 0]
    assert torch.equal(model.preprocess([grey])[0, 0], model.preprocess([grey])[0, 2])


def test_a_textrec_checkpoint_restores_identical_outputs(trained, tmp_path):
    model, _ = trained
    args = model.model_args()
    json.dumps(args)
    state = {"model_name": "x", "model_args": args, "model": model.state_dict(), "step": 0}
    state |= {"charset": {"charset": list("abc"), "case": "keep"}, "config": {"max_width": 32}}
    save_checkpoint(state, tmp_path / "run.pt")
    state = torch.load(tmp_path / "run.pt", map_location="cpu", weights_only=True)
    restored = TrOCR.from_args(state["model_args"], state["model"]).eval()
    pixels, labels = model.preprocess(crops()), model.labels(WORDS)
    assert torch.equal(restored.preprocess(crops()), pixels)
    assert restored.tokenize(WORDS) == model.tokenize(WORDS)
    with torch.no_grad():
        assert torch.equal(
            restored.teacher_forcing(pixels, labels), model.teacher_forcing(pixels, labels)
        )
    config = GenerationConfig(max_tokens=12, beam_width=3)
    assert restored.generate(pixels, config) == model.generate(pixels, config)


def test_pickled_weights_are_refused_in_one_line(checkpoint_dir, tmp_path):
    folder = tmp_path / "pickled"
    shutil.copytree(checkpoint_dir, folder)
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    with pytest.raises(InputError) as error:
        load_hf_dir(folder)
    message = str(error.value)
    assert str(folder) in message and "pytorch_model.bin" in message and "\n" not in message


def without_generation_config(source, folder) -> dict:
    """A copy of ``source`` without generation_config.json; returns its config.json as a dict."""
    shutil.copytree(source, folder)
    (folder / "generation_config.json").unlink()
    return json.loads((folder / "config.json").read_text())


def test_special_ids_come_from_the_checkpoint_or_are_refused(checkpoint_dir, tmp_path):
    config = without_generation_config(checkpoint_dir, tmp_path / "pad-from-tokenizer")
    config["pad_token_id"] = config["decoder"]["pad_token_id"] = None
    (tmp_path / "pad-from-tokenizer" / "config.json").write_text(json.dumps(config))
    assert load_hf_dir(tmp_path / "pad-from-tokenizer").special.pad == SPECIALS["<pad>"]

    folder = tmp_path / "no-pad"
    shutil.copytree(tmp_path / "pad-from-tokenizer", folder)
    tokenizer_config = json.loads((folder / "tokenizer_config.json").read_text())
    del tokenizer_config["pad_token"]
    (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    with pytest.raises(InputError, match="no usable pad_token_id") as error:
        load_hf_dir(folder)
    assert str(folder) in str(error.value) and "\n" not in str(error.value)

    config = without_generation_config(checkpoint_dir, tmp_path / "no-start")
    config["decoder_start_token_id"] = config["decoder"]["decoder_start_token_id"] = None
    (tmp_path / "no-start" / "config.json").write_text(json.dumps(config))
    with pytest.raises(InputError, match="decoder_start_token_id"):
        load_hf_dir(tmp_path / "no-start")


def test_other_folders_are_refused(tmp_path):
    assert hf_dir("hf:some/dir").as_posix() == "some/dir" and hf_dir("ppocr:v4") is None
    with pytest.raises(InputError, match="not a folder"):
        load_hf_dir(tmp_path / "missing")
    with pytest.raises(InputError, match="no config.json"):
        load_hf_dir(tmp_path)


def test_training_counts_the_labels_the_tokenizer_cannot_write(checkpoint_dir, tmp_path):
    """`train --init hf:DIR`: a label too long for the decoder's positions is left out of the
    loss and counted as not_writable in the train records; the others train."""
    from manifest_factory import write_manifest

    from textrec_model.train import TrainConfig, train

    labels = ["abc", "j" * 23, "bad", "ja"] * 5  # 23 characters: 25 tokens with <s> and </s>
    manifest = write_manifest(tmp_path / "m.parquet", len(labels), labels=labels)
    config = TrainConfig(
        manifests=(str(manifest),), out=str(tmp_path / "run"), init=f"hf:{checkpoint_dir}",
        max_steps=2, eval_every=2, batch_size=8, workers=0, warmup_steps=1, log_every=2,
        pool_size=16,
    )  # fmt: skip
    metrics = train(config, progress=False)
    assert metrics["skipped"]["not_writable"] >= 1
    record = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[0])
    assert record["kind"] == "train" and record["train_loss"] > 0
