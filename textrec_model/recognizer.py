"""Inference: word-crop images in, text out, from a checkpoint (PyTorch) or an ONNX export.

The preprocessing is the one the training stream uses for val (grayscale, height 32, aspect kept,
width clamped, scaled to [-1, 1]), so a crop scores the same here as during training.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from textrec_data.charset import Charset
from textrec_data.errors import InputError
from textrec_data.stream import StreamConfig, resized_width, scale_crop
from textrec_model.checkpoint import load_checkpoint, model_from_state
from textrec_model.crnn import CRNN
from textrec_model.ctc import Lexicon, beam_decode, greedy_decode, lexicon_decode
from textrec_model.export import open_onnx

DECODERS = ("greedy", "beam")


@dataclass(frozen=True)
class Prediction:
    """One recognized word: ``text`` and ``confidence`` (probability of the decoded path or
    labelling, in [0, 1])."""

    text: str
    confidence: float


@dataclass(frozen=True)
class DecodeConfig:
    """How logits become text: ``greedy`` or ``beam`` (CTC prefix beam of ``beam_width``);
    with a ``lexicon``, the lexicon word that best explains the logits."""

    decoder: str = "greedy"
    beam_width: int = 10
    lexicon: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.decoder not in DECODERS:
            raise ValueError(f"unknown decoder {self.decoder!r}; expected one of {DECODERS}")
        if self.beam_width < 1:
            raise ValueError(f"beam_width must be >= 1, got {self.beam_width}")


def to_gray(image: np.ndarray | Image.Image) -> np.ndarray:
    """A word crop as grayscale uint8 ``(H, W)``: PIL images of any mode, or arrays ``(H, W)``,
    ``(H, W, 3)`` (RGB) or ``(H, W, 4)`` (RGBA)."""
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("L"))
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] in (3, 4):
        array = np.asarray(Image.fromarray(array[:, :, :3].astype(np.uint8)).convert("L"))
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"expected an image (H, W) or (H, W, 3|4), got shape {array.shape}")
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    return array


def read_lexicon(path: str | Path) -> tuple[str, ...]:
    """Words of a lexicon file: one per line (UTF-8, BOM tolerated), blank lines ignored."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read lexicon ({exc})") from exc
    words = tuple(w.strip() for w in text.splitlines() if w.strip())
    if not words:
        raise InputError(f"{path}: lexicon has no words")
    return words


def batches_by_width(widths: Sequence[int], batch_size: int) -> Iterator[list[int]]:
    """Indices grouped into batches of similar width (sorted), so padding stays small."""
    order = sorted(range(len(widths)), key=lambda i: (widths[i], i))
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


class Recognizer:
    """Batched CRNN-CTC inference on word crops.

    ``Recognizer.from_checkpoint("best.pt").predict([crop, ...])`` -> ``[Prediction, ...]``;
    ``Recognizer.from_onnx("model.onnx")`` runs an export with ONNX Runtime instead.
    """

    def __init__(
        self,
        run_logits,
        charset: Charset,
        stream: StreamConfig,
        batch_size: int = 256,
    ) -> None:
        self._run_logits = run_logits  # float32 (B, 1, H, W) ndarray -> logits (B, T, C) Tensor
        self.charset = charset
        self.stream = stream
        self.batch_size = batch_size

    @classmethod
    def from_checkpoint(
        cls, path: str | Path, device: str = "cpu", batch_size: int = 256
    ) -> Recognizer:
        """Load a textrec checkpoint (``best.pt`` / ``last.pt``) for inference on ``device``."""
        state = load_checkpoint(path)
        charset = Charset.from_dict(state["charset"])
        model = model_from_state(state).to(device)
        stream = StreamConfig(
            height=state["config"]["height"],
            max_width=state["config"]["max_width"],
            shuffle=False,
        )

        @torch.inference_mode()
        def run_logits(images: np.ndarray) -> torch.Tensor:
            return model(torch.from_numpy(images).to(device)).float().cpu()

        return cls(run_logits, charset, stream, batch_size)

    @classmethod
    def from_onnx(cls, path: str | Path, batch_size: int = 256, threads: int = 0) -> Recognizer:
        """Load a ``textrec export --format onnx`` file (charset and input size in its metadata)."""
        session, charset, stream = open_onnx(path, threads)

        def run_logits(images: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(session.run(["logits"], {"images": images})[0])

        return cls(run_logits, charset, stream, batch_size)

    def logits(
        self, grays: Sequence[np.ndarray]
    ) -> Iterator[tuple[list[int], torch.Tensor, torch.Tensor]]:
        """Per width-bucketed batch: (indices into ``grays``, logits ``(B, T, C)``, valid steps
        ``(B,)``) for grayscale uint8 crops ``(H, W)``."""
        cfg = self.stream
        widths = [resized_width(g.shape[0], g.shape[1], cfg) for g in grays]
        for index in batches_by_width(widths, self.batch_size):
            max_w = max(widths[i] for i in index)
            batch = np.zeros((len(index), 1, cfg.height, max_w), np.float32)
            for row, i in enumerate(index):
                batch[row, 0, :, : widths[i]] = scale_crop(grays[i], widths[i], cfg)
            logits = self._run_logits(batch)
            steps = CRNN.output_lengths(torch.tensor([widths[i] for i in index]))
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
        """Recognize word crops (numpy arrays or PIL images), in input order."""
        decode = decode or DecodeConfig()
        lexicon = None
        if decode.lexicon:
            try:
                lexicon = Lexicon.build(decode.lexicon, self.charset)
            except ValueError as exc:
                raise InputError(f"--lexicon: {exc}") from exc
        grays = [to_gray(image) for image in images]
        out: list[Prediction | None] = [None] * len(grays)
        bar = tqdm(total=len(grays), desc="predict", unit="word", disable=not progress)
        for index, logits, steps in self.logits(grays):
            for i, prediction in zip(
                index, self.decode(logits, steps, decode, lexicon), strict=True
            ):
                out[i] = prediction
            bar.update(len(index))
        bar.close()
        return out  # type: ignore[return-value]
