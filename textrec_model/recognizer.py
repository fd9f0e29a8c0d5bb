"""Inference: word-crop images in, text out, from a checkpoint (PyTorch) or an ONNX export.

The preprocessing is the one the training stream uses for val (:mod:`textrec_data.preprocess`,
driven by the model's input spec), so a crop scores the same here as during training.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from textrec_data.bounds import Bound, check_choice, check_value
from textrec_data.charset import Charset
from textrec_data.errors import InputError
from textrec_data.preprocess import (
    InputSpec,
    pad_batch,
    resized_width,
    scale_crop,
    to_model_channels,
)
from textrec_model.checkpoint import load_checkpoint, max_width_of, model_from_state
from textrec_model.ctc import Lexicon, beam_decode, greedy_decode, lexicon_decode
from textrec_model.export import open_onnx
from textrec_model.pretrained import load_pretrained
from textrec_model.transfer import is_named_source

DECODERS = ("greedy", "beam")
#: ``--rotate``: read each crop as given (``none``), or also read a crop taller than wide turned
#: a quarter turn each way and keep the most confident of the three readings (``vertical``:
#: words running down or up a sign, which loose axis-aligned boxes such as the official ICDAR
#: 2015 crops leave standing on end).
ROTATIONS = ("none", "vertical")
#: Beam widths and batch sizes the CLI and the API take.
BEAM_WIDTH = Bound(1, 1000)
BATCH_SIZE = Bound(1, 65536)
#: The recognizer textrec ships (README, "The shipped model"): ``textrec export --format
#: weights`` of the best fine-tuned IC15 model, inside the package.
SHIPPED_WEIGHTS = Path(__file__).parent / "weights" / "textrec_ic15.pt"
#: Input values (B x C x H x W) a batch may hold, whatever --batch-size says: 32 crops of a
#: 32 x 256 grayscale model, 5 of an RGB 48 x 320 one. Measured on IC15 crops, one CPU thread:
#: crnn-small 649 crops/s against 366 with 8x this cap, crnn-vgg 44 against 24, svtr-lcnet
#: about 20 against 6.4 (large activations make the allocator page-fault on every layer).
MAX_BATCH_VALUES = 2**18
#: Longest lexicon word: longer ones cannot be emitted by any allowed width (4096 px / 4).
MAX_LEXICON_WORD = 1024
#: A crop is padded to the next multiple of this many columns (:func:`padded_width`) and read
#: only with crops padded alike: a CRNN's BiLSTM reads the padding, so padding to a batch's
#: widest crop made a reading depend on the other crops and on --batch-size (296 of the 2077
#: official IC15 test crops read differently at batch size 1 and 256 with a crnn-small).
PAD_STEP = 16


@dataclass(frozen=True)
class Prediction:
    """One recognized word: ``text`` and ``confidence`` (probability of the decoded path or
    labelling, in [0, 1])."""

    text: str
    confidence: float


@dataclass(frozen=True)
class DecodeConfig:
    """How crops become text: logits by ``greedy`` or ``beam`` decoding (CTC prefix beam of
    ``beam_width``); with a ``lexicon``, the lexicon word that best explains the logits; which
    turns of a crop are read (``rotate``, one of :data:`ROTATIONS`)."""

    decoder: str = "greedy"
    beam_width: int = 10
    lexicon: tuple[str, ...] | None = None
    rotate: str = "none"

    def __post_init__(self) -> None:
        check_choice("--decoder", self.decoder, DECODERS)
        check_value("--beam-width", self.beam_width, BEAM_WIDTH)
        check_choice("--rotate", self.rotate, ROTATIONS)


def crop_turns(crop: np.ndarray, rotate: str) -> list[np.ndarray]:
    """The views of ``crop`` (H, W) or (H, W, C) that ``rotate`` reads, the crop as given first:
    with ``vertical``, a crop taller than wide also turned 90 degrees counter-clockwise (text
    running down) and clockwise (text running up)."""
    if rotate == "vertical" and crop.shape[0] > crop.shape[1]:
        turns = (cv2.ROTATE_90_COUNTERCLOCKWISE, cv2.ROTATE_90_CLOCKWISE)
        return [crop, *(cv2.rotate(crop, turn) for turn in turns)]
    return [crop]


def read_lexicon(path: str | Path) -> tuple[str, ...]:
    """Words of a lexicon file: one per line (UTF-8, BOM tolerated), blank lines ignored. Plain
    text only (nothing in it is run); a line over :data:`MAX_LEXICON_WORD` characters is
    refused with its number (a binary or corrupt file, not a word list)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read lexicon ({exc})") from exc
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if len(line) > MAX_LEXICON_WORD:
            raise InputError(
                f"{path}: line {number} has {len(line)} characters (a lexicon word has at "
                f"most {MAX_LEXICON_WORD}): not a word list?"
            )
    words = tuple(w.strip() for w in lines if w.strip())
    if not words:
        raise InputError(f"{path}: lexicon has no words")
    return words


def padded_width(width: int, spec: InputSpec) -> int:
    """The columns a crop resized to ``width`` is read at: the next multiple of
    :data:`PAD_STEP`, at least ``spec.pad_to`` (a fixed-width model's crops: their width)."""
    if spec.fixed_width is not None:
        return width
    return max(-(-width // PAD_STEP) * PAD_STEP, spec.pad_to)


def batches_by_width(
    widths: Sequence[int], batch_size: int, max_columns: int | None = None
) -> Iterator[list[int]]:
    """Indices grouped into batches of equal width (in width order), so no crop is padded for
    another: at most ``batch_size`` crops and (``max_columns``) batch size x width columns, but
    one crop."""
    order = sorted(range(len(widths)), key=lambda i: (widths[i], i))
    batch: list[int] = []
    for i in order:
        if batch and (
            len(batch) == batch_size
            or widths[i] != widths[batch[0]]
            or (max_columns and (len(batch) + 1) * widths[i] > max_columns)
        ):
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch


class Recognizer:
    """Batched CRNN-CTC inference on word crops.

    ``Recognizer.from_checkpoint("best.pt").predict([crop, ...])`` -> ``[Prediction, ...]``;
    ``Recognizer.from_onnx("model.onnx")`` runs an export with ONNX Runtime instead;
    ``Recognizer.pretrained()`` is the model textrec ships.
    """

    def __init__(
        self,
        run_logits,
        charset: Charset,
        spec: InputSpec,
        max_width: int,
        batch_size: int = 256,
    ) -> None:
        check_value("--batch-size", batch_size, BATCH_SIZE)
        self._run_logits = run_logits  # float32 (B, C, H, W) ndarray -> logits (B, T, C) Tensor
        self.charset = charset
        self.spec = spec
        self.max_width = max_width
        self.batch_size = batch_size

    @classmethod
    def load(
        cls, checkpoint: str | Path | None, onnx: str | Path | None, batch_size: int = 256
    ) -> Recognizer:
        """From at most one of a checkpoint or an ONNX export (the CLI's --checkpoint/--onnx);
        the shipped model when neither is given."""
        if checkpoint is not None and onnx is not None:
            raise InputError("--checkpoint, --onnx: give one of them, not both")
        if checkpoint is None and onnx is None:
            return cls.pretrained(batch_size=batch_size)
        if onnx is not None:
            return cls.from_onnx(onnx, batch_size=batch_size)
        return cls.from_checkpoint(checkpoint, batch_size=batch_size)

    @classmethod
    def from_checkpoint(
        cls, path: str | Path, device: str = "cpu", batch_size: int = 256
    ) -> Recognizer:
        """Load a textrec checkpoint (``best.pt`` / ``last.pt``), or a pretrained name such as
        ``easyocr:english_g2``, for inference on ``device``."""
        if is_named_source(str(path)):
            return cls.from_pretrained(str(path), device, batch_size)
        state = load_checkpoint(path)
        charset = Charset.from_dict(state["charset"])
        model = model_from_state(state, path).to(device)
        runner = _torch_runner(model, device)
        return cls(runner, charset, model.input_spec, max_width_of(state, path), batch_size)

    @classmethod
    def pretrained(cls, device: str = "cpu", batch_size: int = 256) -> Recognizer:
        """The recognizer textrec ships (:data:`SHIPPED_WEIGHTS`), offline."""
        if not SHIPPED_WEIGHTS.is_file():
            raise InputError(
                f"{SHIPPED_WEIGHTS}: the shipped model is missing from this install; "
                "give --checkpoint"
            )
        return cls.from_checkpoint(SHIPPED_WEIGHTS, device, batch_size)

    @classmethod
    def from_pretrained(cls, name: str, device: str = "cpu", batch_size: int = 256) -> Recognizer:
        """A pretrained recognizer by name (:mod:`textrec_model.pretrained`), zero-shot."""
        try:
            pretrained = load_pretrained(name)
        except (ValueError, ImportError) as exc:
            raise InputError(f"{name}: {exc}") from exc
        model = pretrained.model.to(device)
        spec, max_width = model.input_spec, pretrained.max_width
        return cls(_torch_runner(model, device), pretrained.charset, spec, max_width, batch_size)

    @classmethod
    def from_onnx(cls, path: str | Path, batch_size: int = 256, threads: int = 0) -> Recognizer:
        """Load a ``textrec export --format onnx`` file (charset and input size in its metadata)."""
        session, charset, spec, max_width = open_onnx(path, threads)

        def run_logits(images: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(session.run(["logits"], {"images": images})[0])

        return cls(run_logits, charset, spec, max_width, batch_size)

    def logits(
        self, crops: Sequence[np.ndarray]
    ) -> Iterator[tuple[list[int], torch.Tensor, torch.Tensor]]:
        """Per width-bucketed batch: (indices into ``crops``, logits ``(B, T, C)``, valid steps
        ``(B,)``) for uint8 crops ``(H, W)`` (or ``(H, W, 3)`` for RGB models)."""
        spec = self.spec
        widths = [resized_width(c.shape[0], c.shape[1], spec, self.max_width) for c in crops]
        padded = [padded_width(width, spec) for width in widths]
        max_columns = MAX_BATCH_VALUES // (spec.channels * spec.height)
        for index in batches_by_width(padded, self.batch_size, max_columns):
            scaled = [scale_crop(crops[i], widths[i], spec) for i in index]
            batch = pad_batch(scaled, spec, padded[index[0]])
            logits = self._run_logits(batch)
            steps = torch.tensor([spec.steps(widths[i]) for i in index], dtype=torch.long)
            yield index, logits, steps.clamp(max=logits.shape[1])

    def decode(
        self,
        logits: torch.Tensor,
        steps: torch.Tensor,
        decode: DecodeConfig,
        lexicon: Lexicon | None = None,
    ) -> list[Prediction]:
        """Text and confidence per sample of ``logits`` ``(B, T, C)`` (first ``steps[b]``).
        With a ``lexicon`` the answer is a lexicon word, whatever ``decode.decoder`` says."""
        if lexicon is not None:
            texts, confidences = lexicon_decode(logits, steps, lexicon, self.charset)
        else:
            if decode.decoder == "beam":
                ids, confidences = beam_decode(logits, steps, decode.beam_width)
            else:
                ids, confidences = greedy_decode(logits, steps)
            texts = [self.charset.decode(seq) for seq in ids]
        return [Prediction(t, float(c)) for t, c in zip(texts, confidences, strict=True)]

    def predict(
        self,
        images: Sequence[np.ndarray | Image.Image],
        decode: DecodeConfig | None = None,
        progress: bool = False,
    ) -> list[Prediction]:
        """Recognize word crops (numpy arrays or PIL images), in input order. With
        ``decode.rotate`` ``vertical``, a crop's answer is its most confident turn's
        (:func:`crop_turns`)."""
        decode = decode or DecodeConfig()
        lexicon = None
        if decode.lexicon:
            try:
                lexicon = Lexicon.build(decode.lexicon, self.charset)
            except ValueError as exc:
                raise InputError(f"--lexicon: {exc}") from exc
        views: list[np.ndarray] = []
        owners: list[int] = []  # views[j] is a turn of crop owners[j]
        for i, image in enumerate(images):
            turns = crop_turns(to_model_channels(image, self.spec.channels), decode.rotate)
            views += turns
            owners += [i] * len(turns)
        out: list[Prediction | None] = [None] * len(images)
        # per crop, the best (confidence, -view index) so far: the most confident turn wins,
        # and on a tie the earlier view (the crop as given)
        best: list[tuple[float, int]] = [(-1.0, 0)] * len(images)
        bar = tqdm(total=len(views), desc="predict", unit="crop", disable=not progress)
        for index, logits, steps in self.logits(views):
            for j, prediction in zip(
                index, self.decode(logits, steps, decode, lexicon), strict=True
            ):
                key = (prediction.confidence, -j)
                if key > best[owners[j]]:
                    best[owners[j]] = key
                    out[owners[j]] = prediction
            bar.update(len(index))
        bar.close()
        return out  # type: ignore[return-value]


def _torch_runner(model: torch.nn.Module, device: str):
    """float32 ``(B, C, H, W)`` ndarray -> logits ``(B, T, classes)`` on the CPU, no grad."""

    @torch.inference_mode()
    def run_logits(images: np.ndarray) -> torch.Tensor:
        return model(torch.from_numpy(images).to(device)).float().cpu()

    return run_logits
