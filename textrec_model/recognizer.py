"""Inference for users: a :class:`~textrec_model.predictor.Predictor` loaded from a checkpoint,
a pretrained name, an ONNX export or the model textrec ships, and lexicon files.

``Recognizer.from_checkpoint("best.pt").predict([crop, ...])`` -> ``[Prediction, ...]``. The
batching, padding and decoding are the Predictor's: the same as training validation and
``textrec eval``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from textrec_data.bounds import Bound, check_choice, check_value
from textrec_data.errors import InputError
from textrec_model.checkpoint import Checkpoint
from textrec_model.models import ARCHITECTURES, RecognitionModel
from textrec_model.onnx_cache import cached_onnx
from textrec_model.predictor import (
    BATCH_SIZE,
    DECODERS,
    DEFAULT_BATCH_SIZE,
    ROTATIONS,
    DecodeConfig,
    Prediction,
    Predictor,
)
from textrec_model.pretrained import load_pretrained
from textrec_model.transfer import is_named_source

__all__ = [
    "BATCH_SIZE",
    "DECODERS",
    "DEFAULT_RUNTIME",
    "ROTATIONS",
    "RUNTIMES",
    "SHIPPED",
    "SHIPPED_WEIGHTS",
    "THREADS",
    "DecodeConfig",
    "Prediction",
    "Recognizer",
    "read_lexicon",
]

#: The recognizers textrec ships, inside the package, by the name ``--model`` gives them
#: (docs/RESULTS.md, "The shipped models"): ``default``, PP-OCRv6 small fine-tuned on IC15 and
#: merged with its init, the most accurate; ``fast``, PP-OCRv6 tiny fine-tuned the same way (IC15
#: crops and synthetic words), about 4.7 times the crops per second.
SHIPPED = {
    "default": Path(__file__).parent / "weights" / "textrec_ic15.pt",
    "fast": Path(__file__).parent / "weights" / "textrec_fast.pt",
}
SHIPPED_WEIGHTS = SHIPPED["default"]
#: ``--runtime``: what runs a checkpoint (or the shipped model). ONNX Runtime reads the same
#: texts as PyTorch (confidences within 1e-4, tests/test_runtime.py) and is faster on a CPU
#: (docs/RESULTS.md, "Inference runtimes").
RUNTIMES = ("onnx", "torch")
DEFAULT_RUNTIME = "onnx"
#: ``--threads``: intra-op threads of the runtime; 0 is its default (one per core).
THREADS = Bound(0, 1024)
#: Longest lexicon word: longer ones cannot be emitted by any allowed width (4096 px / 4).
MAX_LEXICON_WORD = 1024


def _shipped_weights(name: str) -> Path:
    """The file of the shipped model ``name`` (a key of :data:`SHIPPED`), or an InputError when
    this install lacks it."""
    path = SHIPPED[name]
    if not path.is_file():
        raise InputError(
            f"{path}: the shipped model is missing from this install; give --checkpoint"
        )
    return path


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


class Recognizer(Predictor):
    """A :class:`Predictor` with the loaders users need: :meth:`from_checkpoint` (a textrec
    checkpoint or a pretrained name, in PyTorch), :meth:`from_onnx`, :meth:`pretrained` (the
    model textrec ships) and :meth:`load` (the CLI's --checkpoint / --onnx / --runtime)."""

    @classmethod
    def load(
        cls,
        checkpoint: str | Path | None,
        onnx: str | Path | None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        runtime: str = DEFAULT_RUNTIME,
        threads: int = 0,
        shipped: str = "default",
    ) -> Recognizer:
        """From at most one of a checkpoint or an ONNX export (the CLI's --checkpoint/--onnx);
        the shipped model ``shipped`` (the CLI's --model) when neither is given. ``runtime``
        ``onnx`` runs a CTC checkpoint's cached ONNX export (a sequence-to-sequence model,
        which is not exported, runs in PyTorch) (:mod:`textrec_model.onnx_cache`) in ONNX
        Runtime; ``torch`` runs it in PyTorch; ``threads`` (0: the runtime's default, every
        core) bounds either."""
        check_choice("--runtime", runtime, RUNTIMES)
        check_choice("--model", shipped, tuple(SHIPPED))
        check_value("--threads", threads, THREADS)
        if checkpoint is not None and onnx is not None:
            raise InputError("--checkpoint, --onnx: give one of them, not both")
        if shipped != "default" and (checkpoint is not None or onnx is not None):
            raise InputError(f"--model {shipped}: a shipped model; give no --checkpoint or --onnx")
        if onnx is not None:
            if runtime != "onnx":
                raise InputError(f"--runtime {runtime}: an --onnx file runs in ONNX Runtime")
            return cls.from_onnx(onnx, batch_size=batch_size, threads=threads)
        source = checkpoint if checkpoint is not None else _shipped_weights(shipped)
        if runtime == "onnx" and _exports_to_onnx(source):
            return cls.from_onnx(cached_onnx(source), batch_size=batch_size, threads=threads)
        if threads:
            torch.set_num_threads(threads)  # process-wide: PyTorch has no per-model setting
        return cls.from_checkpoint(source, batch_size=batch_size)

    @classmethod
    def from_checkpoint(
        cls, path: str | Path, device: str = "cpu", batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Recognizer:
        """Load a textrec checkpoint (``best.pt`` / ``last.pt``), or a pretrained name such as
        ``easyocr:english_g2``, for inference on ``device``."""
        if is_named_source(str(path)):
            return cls.from_pretrained(str(path), device, batch_size)
        checkpoint = Checkpoint.load(path)
        model = checkpoint.build_model(path).to(device)
        max_width = checkpoint.max_width(path)
        return cls.from_model(model, checkpoint.charset, max_width, device, batch_size)

    @classmethod
    def pretrained(
        cls,
        name: str = "default",
        batch_size: int = DEFAULT_BATCH_SIZE,
        runtime: str = DEFAULT_RUNTIME,
        threads: int = 0,
    ) -> Recognizer:
        """A recognizer textrec ships (:data:`SHIPPED`: ``default`` or ``fast``), offline, on
        the CPU: in ONNX Runtime (exported on first use) or, with ``runtime`` ``torch``, in
        PyTorch."""
        return cls.load(None, None, batch_size, runtime, threads, name)

    @classmethod
    def from_pretrained(
        cls, name: str, device: str = "cpu", batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Recognizer:
        """A pretrained recognizer by name (:mod:`textrec_model.pretrained`), zero-shot."""
        try:
            pretrained = load_pretrained(name)
        except (ValueError, ImportError) as exc:
            raise InputError(f"{name}: {exc}") from exc
        model = pretrained.model.to(device)
        return cls.from_model(model, pretrained.charset, pretrained.max_width, device, batch_size)


def _exports_to_onnx(source: str | Path) -> bool:
    """Whether the checkpoint or pretrained name ``source`` is a CTC model (exported to ONNX)."""
    if is_named_source(str(source)):
        return True  # every pretrained recognizer is a CTC model
    arch = Checkpoint.load(source).model_args["arch"]
    return ARCHITECTURES.get(arch, RecognitionModel).head_kind == "ctc"
