"""TrOCR, or any Hugging Face ``VisionEncoderDecoderModel``, as a textrec seq2seq model.

Needs the ``trocr`` extra (``transformers``, ``safetensors``), imported only when a TrOCR is
built. :func:`load_hf_dir` reads a checkpoint folder as ``save_pretrained`` or ``huggingface-cli
download`` write it (``config.json``, ``model.safetensors``, ``preprocessor_config.json``,
tokenizer files, ``generation_config.json``): safetensors weights only (a pickled
``pytorch_model.bin`` is refused), never remote code, never the network.

:class:`TrOCR` keeps the checkpoint's own image processor (PIL backend, whatever else is
installed, so a crop gives the same pixels everywhere), its tokenizer (the ``tokenizers`` object
behind it, stored as JSON) and its start / end / pad ids. Loss and generation are
:mod:`textrec_model.seq2seq`'s. ``model_args()`` is JSON-able: a textrec checkpoint holds it and
the ``state_dict``, and :meth:`TrOCR.from_args` rebuilds the model without the folder.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import Tensor, nn

from textrec_data.errors import InputError
from textrec_data.preprocess import InputSpec, to_model_channels
from textrec_model.seq2seq import (
    DecoderStep,
    GenerationConfig,
    SpecialTokens,
    StepDecoder,
    decoder_inputs,
    generate,
    pad_labels,
    sequence_loss,
)

ARCH = "trocr"
#: Most tokens a reading is generated to by default (the end token included).
MAX_READING_TOKENS = 32
#: ``--init hf:DIR``: a Hugging Face checkpoint folder on disk.
HF_PREFIX = "hf:"
SAFE_WEIGHTS = ("model.safetensors", "model.safetensors.index.json")
PICKLED_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json")
#: Where each special id is looked for, in order: the generation config, the model's config,
#: the decoder's config, then (end and pad only) the tokenizer. No guess beyond these.
_ID_KEYS = {"start": "decoder_start_token_id", "end": "eos_token_id", "pad": "pad_token_id"}


@dataclass(frozen=True)
class Reading:
    """One crop's ``text``, its ``confidence`` (product of the chosen tokens' probabilities, end
    token included) and whether an end token closed it (False: cut by ``max_tokens``)."""

    text: str
    confidence: float
    ended: bool


def require_transformers() -> Any:
    """The ``transformers`` module, or :class:`InputError` saying how to install it."""
    try:
        return importlib.import_module("transformers")
    except ImportError as exc:
        raise InputError(
            "--model trocr: needs transformers and safetensors: pip install 'textrec[trocr]'"
        ) from exc


class TrOCR(nn.Module):
    """A ``VisionEncoderDecoderModel`` (``net``) with its image processor, tokenizer (a
    ``tokenizers.Tokenizer``) and special ids. Images ``(B, 3, H, W)`` are the processor's
    ``pixel_values``; labels ``(B, L)`` are token ids ending with the end token, padded -100."""

    arch = ARCH
    head_kind = "seq2seq"
    backbone_prefix = "net.encoder"
    classifier_prefix = ()  # its rows follow the tokenizer, never a charset: copied as they are

    def __init__(
        self, net: nn.Module, image_processor: Any, tokenizer: Any, special: SpecialTokens
    ):
        super().__init__()
        vocab = net.config.decoder.vocab_size
        if max(asdict(special).values()) >= vocab:
            raise ValueError(f"special ids {special} outside the decoder's {vocab} tokens")
        if getattr(net.encoder, "pooler", None) is not None:
            net.encoder.pooler = None  # never read by the decoder; DDP needs every weight used
        self.net, self.image_processor = net, image_processor
        self.tokenizer, self.special = tokenizer, special
        # HF's own forward(labels=...) and generate() then agree with textrec's ids.
        for config in (net.config, net.generation_config):
            config.decoder_start_token_id, config.eos_token_id = special.start, special.end
            config.pad_token_id = special.pad

    @property
    def max_tokens(self) -> int:
        """Longest decoder input (start token included) and so the longest label or reading."""
        return int(self.net.config.decoder.max_position_embeddings)

    @property
    def banned(self) -> tuple[int, ...]:
        """Ids generation never picks: padding (unless it is also the start or end id)."""
        pad = self.special.pad
        return () if pad in (self.special.start, self.special.end) else (pad,)

    def preprocess(self, crops: Sequence[np.ndarray | Image.Image]) -> Tensor:
        """Word crops (uint8 RGB ``(H, W, 3)``, grey ``(H, W)`` or PIL images) as the checkpoint's
        ``pixel_values`` float ``(B, 3, H', W')``: its size, rescaling and normalisation."""
        images = [to_model_channels(crop, 3) for crop in crops]
        return self.image_processor(images=images, return_tensors="pt")["pixel_values"]

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text as the tokenizer writes them (TrOCR: ``<s> ... </s>``), the
        end id appended when the tokenizer does not end with it."""
        end = self.special.end
        sequences = [encoding.ids for encoding in self.tokenizer.encode_batch(list(texts))]
        return [ids if ids and ids[-1] == end else [*ids, end] for ids in sequences]

    def labels(self, texts: Sequence[str]) -> Tensor:
        """Labels ``(B, L)`` long for ``texts``, padded with -100 (ignored by the loss)."""
        return pad_labels(self.tokenize(texts))

    def trainable(self, texts: Sequence[str]) -> list[bool]:
        """Whether each text can be a label: it fits the decoder's positions and decodes back
        to itself (False: characters the tokenizer maps to its unknown token, or alters)."""
        return [
            len(ids) <= self.max_tokens and self.detokenize(ids) == text
            for ids, text in zip(self.tokenize(texts), texts, strict=True)
        ]

    def detokenize(self, ids: Sequence[int]) -> str:
        """Text of token ids, special tokens skipped, as the tokenizer decodes them."""
        return self.tokenizer.decode(list(ids), skip_special_tokens=True)

    def encode(self, pixel_values: Tensor) -> Tensor:
        """Encoder states ``(B, S, D)`` of ``pixel_values`` ``(B, 3, H, W)``, projected to the
        decoder's width when the model has that projection."""
        states = self.net.encoder(pixel_values=pixel_values).last_hidden_state
        projection = getattr(self.net, "enc_to_dec_proj", None)
        return states if projection is None else projection(states)

    def decode_step(self, memory: Tensor, steps: Tensor | None = None) -> DecoderStep:
        """The :mod:`~textrec_model.seq2seq` step over encoder states ``memory`` ``(B, S, D)``:
        prefixes ``(N, L)`` of the images ``rows`` ``(N,)`` -> next-token logits ``(N, V)``."""

        def step(prefix: Tensor, rows: Tensor) -> Tensor:
            return self.decode(memory[rows], prefix, None)[:, -1]

        return step

    def teacher_forcing(self, pixel_values: Tensor, labels: Tensor) -> Tensor:
        """Teacher-forcing logits ``(B, L, V)`` of ``labels`` ``(B, L)``."""
        memory = self.encode(pixel_values)
        return self.decode(memory, decoder_inputs(labels, self.special), None)

    def loss(self, pixel_values: Tensor, labels: Tensor) -> Tensor:
        """Scalar mean cross-entropy over the label tokens (padding ignored)."""
        return sequence_loss(self.teacher_forcing(pixel_values, labels), labels)

    # ------------------------------------------------- the seq2seq model contract (training,
    # the Predictor's Seq2SeqHead): textrec's [-1, 1] images at the processor's size

    @property
    def input_spec(self) -> InputSpec:
        """RGB at the processor's fixed size, resized by OpenCV (linear; the processor's PIL
        resampling differs by rounding), padding never needed."""
        size = self.image_processor.size
        height, width = (size["height"], size["width"]) if "height" in size else (0, 0)
        if not height:
            raise InputError(f"image processor size {size}: textrec needs height and width")
        return InputSpec(3, height, time_stride=width, min_width=width, fixed_width=width,
                         resize="linear")  # fmt: skip

    @property
    def generation(self) -> GenerationConfig:
        """Generation defaults: greedy, at most :data:`MAX_READING_TOKENS` tokens."""
        return GenerationConfig(max_tokens=min(MAX_READING_TOKENS, self.max_tokens))

    @property
    def max_label_length(self) -> int:
        """Most characters a label may have before tokenising (its tokens are checked too)."""
        return self.max_tokens - 1

    def output_lengths(self, widths: Tensor) -> Tensor:
        """``(B,)`` ones: an image is read whole at its fixed size, no encoder position is
        padding (:meth:`memory_mask` masks none)."""
        return torch.ones_like(widths)

    def pixels(self, images: Tensor) -> Tensor:
        """``pixel_values`` of images ``(B, 3, H, W)`` in [-1, 1]: the processor's rescaling
        (1/255 of uint8 values) and normalisation."""
        processor = self.image_processor
        if getattr(processor, "do_rescale", True) and processor.rescale_factor != 1 / 255:
            raise InputError(
                f"image processor rescale_factor {processor.rescale_factor}: not 1/255"
            )
        x = (images + 1) * (127.5 * processor.rescale_factor if processor.do_rescale else 127.5)
        if getattr(processor, "do_normalize", False):
            mean = torch.tensor(processor.image_mean, device=x.device, dtype=x.dtype)
            std = torch.tensor(processor.image_std, device=x.device, dtype=x.dtype)
            x = (x - mean[:, None, None]) / std[:, None, None]
        return x

    def forward(
        self, images: Tensor, inputs: Tensor | None = None, widths: Tensor | None = None
    ) -> Tensor:
        """Encoder states ``(B, S, D)`` of images ``(B, 3, H, W)`` in [-1, 1]; with decoder
        ``inputs`` ``(B, L)``, their teacher-forcing logits ``(B, L, V)`` (``widths``
        unused: images are never padded)."""
        memory = self.encode(self.pixels(images))
        return memory if inputs is None else self.decode(memory, inputs, None)

    def decode(self, memory: Tensor, inputs: Tensor, mask: Tensor | None) -> Tensor:
        """Logits ``(N, L, V)`` of decoder ``inputs`` ``(N, L)`` over ``memory`` ``(N, S, D)``."""
        return self.net.decoder(
            input_ids=inputs, encoder_hidden_states=memory, use_cache=False
        ).logits

    def memory_mask(self, steps: Tensor, length: int) -> None:
        """No encoder position is padding."""
        return None

    def label_tokens(self, labels: Sequence[str], charset: object) -> list[list[int] | None]:
        """Label token ids (end token last) of each label, None where it cannot be one."""
        fits = self.trainable(labels)
        return [ids if ok else None for ids, ok in zip(self.tokenize(labels), fits, strict=True)]

    def text(self, tokens: Sequence[int], charset: object) -> str:
        """The text of generated tokens."""
        return self.detokenize(tokens)

    @torch.no_grad()
    def generate(self, pixel_values: Tensor, config: GenerationConfig) -> list[Reading]:
        """Readings of ``pixel_values`` ``(B, 3, H, W)``, greedy or beam as ``config`` says."""
        if config.max_tokens > self.max_tokens:
            raise InputError(
                f"--max-tokens {config.max_tokens}: this decoder reads at most "
                f"{self.max_tokens} positions"
            )
        memory = self.encode(pixel_values)
        step = self.decode_step(memory)
        decoder = StepDecoder(step, len(memory), self.special, self.banned, memory.device)
        found = generate(decoder, config)
        return [Reading(self.detokenize(h.tokens), h.confidence, h.ended) for h in found]

    def model_args(self) -> dict:
        """JSON-able: the HF config, image processor (class and settings), tokenizer (its JSON)
        and special ids; with the ``state_dict`` it rebuilds this model (:meth:`from_args`)."""
        return {
            "arch": ARCH,
            "hf_config": json.loads(self.net.config.to_json_string(use_diff=False)),
            "image_processor": {
                "class": type(self.image_processor).__name__,
                "config": json.loads(self.image_processor.to_json_string()),
            },
            "tokenizer": self.tokenizer.to_str(),
            "special": asdict(self.special),
        }

    @classmethod
    def from_args(cls, args: dict, state_dict: dict | None = None) -> TrOCR:
        """The model ``model_args()`` describes, with ``state_dict``'s weights when given."""
        transformers = require_transformers()
        from tokenizers import Tokenizer

        processor_class = getattr(transformers, args["image_processor"]["class"], None)
        base = importlib.import_module("transformers.image_processing_utils").BaseImageProcessor
        if not (isinstance(processor_class, type) and issubclass(processor_class, base)):
            raise ValueError(f"unknown image processor {args['image_processor']['class']!r}")
        config = transformers.VisionEncoderDecoderConfig.from_dict(args["hf_config"])
        model = cls(
            transformers.VisionEncoderDecoderModel(config),
            processor_class.from_dict(args["image_processor"]["config"]),
            Tokenizer.from_str(args["tokenizer"]),
            SpecialTokens(**args["special"]),
        )
        if state_dict is not None:
            model.load_state_dict(state_dict)
        return model


def hf_dir(init: str) -> Path | None:
    """The folder of an ``--init hf:DIR`` value; None for any other ``--init``."""
    return Path(init[len(HF_PREFIX) :]) if init.startswith(HF_PREFIX) else None


def load_hf_dir(path: str | Path) -> TrOCR:
    """A TrOCR from a Hugging Face checkpoint folder (``--init hf:DIR``), as the module
    docstring says; :class:`InputError` names the folder and what is wrong."""
    path = Path(path)
    config = _read_config(path)
    if not any((path / name).is_file() for name in SAFE_WEIGHTS):
        pickled = [name for name in PICKLED_WEIGHTS if (path / name).is_file()]
        if pickled:
            raise InputError(
                f"{path}: holds only pickled PyTorch weights ({pickled[0]}); textrec loads "
                "model.safetensors only (unpickling could run code)"
            )
        raise InputError(f"{path}: no model.safetensors")
    if config.get("model_type") != "vision-encoder-decoder":
        raise InputError(
            f"{path}: config.json is a {config.get('model_type')!r} model, not a "
            "vision-encoder-decoder (TrOCR)"
        )
    transformers = require_transformers()
    local = {"local_files_only": True, "trust_remote_code": False}
    try:
        net = transformers.VisionEncoderDecoderModel.from_pretrained(
            path, use_safetensors=True, dtype=torch.float32, **local
        )
        processor = transformers.AutoImageProcessor.from_pretrained(path, backend="pil", **local)
        hf_tokenizer = transformers.AutoTokenizer.from_pretrained(path, **local)
    except Exception as exc:  # whatever transformers raises on a folder it cannot read
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: cannot load the checkpoint ({reason})") from exc
    backend = getattr(hf_tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise InputError(f"{path}: the tokenizer is not a `tokenizers` (fast) tokenizer")
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(backend.to_str())
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return TrOCR(net.float(), processor, tokenizer, special_tokens(net, hf_tokenizer, path))


def special_tokens(net: Any, hf_tokenizer: Any, path: str | Path) -> SpecialTokens:
    """Start, end and pad ids from the checkpoint (see ``_ID_KEYS``); :class:`InputError`
    naming ``path`` and the missing key when one is nowhere."""
    ids = {}
    for role, key in _ID_KEYS.items():
        places = [net.generation_config, net.config, net.config.decoder]
        if role != "start":
            places.append(hf_tokenizer)
        found = [getattr(place, key, None) for place in places]
        value = next((v for v in found if v is not None), None)
        value = value[0] if isinstance(value, list) and len(value) == 1 else value
        if not isinstance(value, int) or isinstance(value, bool):
            raise InputError(
                f"{path}: no usable {key} in generation_config.json, config.json or the "
                f"tokenizer ({value!r}); set it in config.json"
            )
        ids[role] = value
    return SpecialTokens(**ids)


def _read_config(path: Path) -> dict:
    """``path/config.json`` as a dict; :class:`InputError` when the folder or file is unusable."""
    if not path.is_dir():
        raise InputError(f"{path}: not a folder (expected a Hugging Face checkpoint folder)")
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no config.json (not a Hugging Face checkpoint folder)") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}/config.json: unreadable ({exc})") from exc
    if not isinstance(config, dict):
        raise InputError(f"{path}/config.json: not a JSON object")
    return config
