"""The one way a crop becomes text: batching by width, padding, running a model, decoding.

:class:`Predictor` is used by training validation (over the live model), ``textrec eval`` and
``predict`` (through :class:`~textrec_model.recognizer.Recognizer`, which only adds loaders),
and the benchmarks. It never sees a label: widths and padding come from the crop alone, so a
figure scored here is the figure any other caller gets for the same crops.

- Preprocessing is :mod:`textrec_data.preprocess` driven by the model's input spec, as in the
  training stream.
- Each crop is padded to its own :data:`PAD_STEP`-column step and batched with crops of the
  same padded width only (:func:`batches_by_width`), so no reading depends on its batch.
- Decoding is a method of the model's head kind (:data:`HEADS`, :func:`head_for`):
  :class:`CTCHead` (greedy, prefix beam, lexicon) over logits, :class:`Seq2SeqHead` (generation
  with an end token and a length cap) over an encoder-decoder's encoder states.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from textrec_data.bounds import Bound, check_value
from textrec_data.charset import Charset
from textrec_data.preprocess import (
    InputSpec,
    pad_batch,
    resized_width,
    scale_crop,
    to_model_channels,
)
from textrec_model.export import open_onnx
from textrec_model.heads import (
    BEAM_WIDTH,
    DECODERS,
    HEADS,
    ROTATIONS,
    CTCHead,
    DecodeConfig,
    Head,
    Prediction,
    Seq2SeqHead,
    head_for,
)

__all__ = [
    "BATCH_SIZE",
    "BEAM_WIDTH",
    "DECODERS",
    "HEADS",
    "ROTATIONS",
    "CTCHead",
    "DecodeConfig",
    "Head",
    "Prediction",
    "Predictor",
    "Seq2SeqHead",
    "head_for",
]

#: Batch sizes the CLI and the API take.
BATCH_SIZE = Bound(1, 65536)
#: Most crops per batch unless told otherwise (training validation and ``textrec eval`` alike,
#: so that a run's val figures and eval's are computed on the same batches).
DEFAULT_BATCH_SIZE = 256
#: Input values (B x C x H x W) a batch may hold, whatever --batch-size says: 32 crops of a
#: 32 x 256 grayscale model, 5 of an RGB 48 x 320 one. Measured on IC15 crops, one CPU thread:
#: crnn-small 649 crops/s against 366 with 8x this cap, crnn-vgg 44 against 24, svtr-lcnet
#: about 20 against 6.4 (large activations make the allocator page-fault on every layer).
MAX_BATCH_VALUES = 2**18
#: A crop is padded to the next multiple of this many columns (:func:`padded_width`) and read
#: only with crops padded alike: a CRNN's BiLSTM reads the padding, so padding to a batch's
#: widest crop made a reading depend on the other crops and on --batch-size (296 of the 2077
#: official IC15 test crops read differently at batch size 1 and 256 with a crnn-small).
PAD_STEP = 16


def crop_turns(crop: np.ndarray, rotate: str) -> list[np.ndarray]:
    """The views of ``crop`` (H, W) or (H, W, C) that ``rotate`` reads, the crop as given first:
    with ``vertical``, a crop taller than wide also turned 90 degrees counter-clockwise (text
    running down) and clockwise (text running up)."""
    if rotate == "vertical" and crop.shape[0] > crop.shape[1]:
        turns = (cv2.ROTATE_90_COUNTERCLOCKWISE, cv2.ROTATE_90_CLOCKWISE)
        return [crop, *(cv2.rotate(crop, turn) for turn in turns)]
    return [crop]


def padded_width(width: int, spec: InputSpec) -> int:
    """The columns a crop resized to ``width`` is read at: the next multiple of
    :data:`PAD_STEP`, at least ``spec.pad_to`` (a fixed-width model's crops: their width;
    ``width_rule`` ``paddle``: exactly ``max(width, pad_to)``, as PaddleOCR pads one crop)."""
    if spec.fixed_width is not None:
        return width
    if spec.width_rule == "paddle":
        return max(width, spec.pad_to)
    return max(-(-width // PAD_STEP) * PAD_STEP, spec.pad_to)


def read_width(width: int, spec: InputSpec) -> int:
    """The columns a crop resized to ``width`` is read over: its :func:`padded_width` with
    ``spec.read_padding``, else its own width (what inference decodes, and what training
    scores)."""
    return padded_width(width, spec) if spec.read_padding else width


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


#: Called with each batch of crops read as given: (indices into the crops, outputs, steps).
Observer = Callable[[list[int], torch.Tensor, torch.Tensor], None]


class Predictor:
    """Word crops in, :class:`Prediction` out, for any model behind a runner.

    ``run`` maps float32 ``(B, C, H, W)`` inputs (an ndarray) to the model's outputs (logits
    ``(B, T, C)`` for a CTC head, on the CPU); ``spec`` and ``max_width`` say how crops are
    scaled; ``head`` how outputs are decoded. :meth:`from_model` and :meth:`from_onnx` build
    one over a PyTorch model or an ONNX Runtime session.
    """

    def __init__(
        self,
        run: Callable[[np.ndarray], torch.Tensor],
        charset: Charset,
        spec: InputSpec,
        max_width: int,
        batch_size: int = DEFAULT_BATCH_SIZE,
        head: Head | None = None,
    ) -> None:
        check_value("--batch-size", batch_size, BATCH_SIZE)
        self._run = run
        self.charset = charset
        self.spec = spec
        self.max_width = max_width
        self.batch_size = batch_size
        self.head = head or CTCHead()

    @classmethod
    def from_model(
        cls,
        model: torch.nn.Module,
        charset: Charset,
        max_width: int,
        device: str | torch.device = "cpu",
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> Predictor:
        """Over a :class:`~textrec_model.models.RecognitionModel` already on ``device`` (in
        float32, without autocast; the caller puts it in eval mode), decoded by its head."""

        @torch.inference_mode()
        def run(images: np.ndarray) -> torch.Tensor:
            return model(torch.from_numpy(images).to(device)).float().cpu()

        return cls(run, charset, model.input_spec, max_width, batch_size, head_for(model))

    @classmethod
    def from_onnx(
        cls, path: str | Path, batch_size: int = DEFAULT_BATCH_SIZE, threads: int = 0
    ) -> Predictor:
        """Over a ``textrec export --format onnx`` file (float32 or int8; charset and input
        size in its metadata), run by ONNX Runtime with ``threads`` intra-op threads (0: its
        default, one per physical core). Batches are those of :meth:`inputs`, as for PyTorch."""
        session, charset, spec, max_width = open_onnx(path, threads)

        def run(images: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(session.run(["logits"], {"images": images})[0])

        return cls(run, charset, spec, max_width, batch_size)

    def inputs(
        self, crops: Sequence[np.ndarray]
    ) -> Iterator[tuple[list[int], np.ndarray, list[int]]]:
        """Per width-bucketed batch: (indices into ``crops``, the model's float32 input
        ``(B, C, H, W)``, the columns each crop is read over: its resized width, or its padded
        width with ``spec.read_padding``) for uint8 crops ``(H, W)`` (or ``(H, W, 3)`` for RGB
        models). What the runner reads, and what int8 calibration sees."""
        spec = self.spec
        widths = [resized_width(c.shape[0], c.shape[1], spec, self.max_width) for c in crops]
        padded = [padded_width(width, spec) for width in widths]
        max_columns = MAX_BATCH_VALUES // (spec.channels * spec.height)
        for index in batches_by_width(padded, self.batch_size, max_columns):
            scaled = [scale_crop(crops[i], widths[i], spec) for i in index]
            yield (
                index,
                pad_batch(scaled, spec, padded[index[0]]),
                [read_width(widths[i], spec) for i in index],
            )

    def outputs(
        self, crops: Sequence[np.ndarray]
    ) -> Iterator[tuple[list[int], torch.Tensor, torch.Tensor]]:
        """Per batch of :meth:`inputs`: (indices into ``crops``, outputs ``(B, T, C)``, valid
        steps ``(B,)``)."""
        for index, images, widths in self.inputs(crops):
            outputs = self._run(images)
            steps = torch.tensor([self.spec.steps(w) for w in widths], dtype=torch.long)
            yield index, outputs, steps.clamp(max=outputs.shape[1])

    def predict(
        self,
        images: Sequence[np.ndarray | Image.Image],
        decode: DecodeConfig | None = None,
        progress: bool = False,
        observe: Observer | None = None,
    ) -> list[Prediction]:
        """Recognize word crops (numpy arrays or PIL images), in input order. With
        ``decode.rotate`` ``vertical``, a crop's answer is its most confident turn's
        (:func:`crop_turns`). ``observe`` sees the outputs of each batch of crops as given,
        after they are decoded (scoring computes its loss there)."""
        decode = decode or DecodeConfig()
        prepared = self.head.prepare(decode, self.charset)
        views: list[np.ndarray] = []
        owners: list[int] = []  # views[j] is a turn of crop owners[j]
        given: list[bool] = []  # views[j] is the crop as given
        for i, image in enumerate(images):
            turns = crop_turns(to_model_channels(image, self.spec.channels), decode.rotate)
            views += turns
            owners += [i] * len(turns)
            given += [True] + [False] * (len(turns) - 1)
        out: list[Prediction | None] = [None] * len(images)
        # per crop, the best (confidence, -view index) so far: the most confident turn wins,
        # and on a tie the earlier view (the crop as given)
        best: list[tuple[float, int]] = [(-1.0, 0)] * len(images)
        bar = tqdm(total=len(views), desc="predict", unit="crop", disable=not progress)
        for index, outputs, steps in self.outputs(views):
            read = self.head.decode(outputs, steps, self.charset, decode, prepared)
            for j, prediction in zip(index, read, strict=True):
                key = (prediction.confidence, -j)
                if key > best[owners[j]]:
                    best[owners[j]] = key
                    out[owners[j]] = prediction
            if observe is not None:
                rows = [k for k, j in enumerate(index) if given[j]]
                if rows:
                    observe([owners[index[k]] for k in rows], outputs[rows], steps[rows])
            bar.update(len(index))
        bar.close()
        return out  # type: ignore[return-value]
