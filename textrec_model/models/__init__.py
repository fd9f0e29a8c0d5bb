"""Recognition models: the contract (:mod:`.base`), one module per architecture, three registries.

``ARCHITECTURES`` maps an architecture name to its model class; ``PRESETS`` maps the names the
CLI offers (``--model``) to a :class:`~.base.Preset` (architecture, config, summary);
``PRETRAINED`` maps the names of other projects' published recognizers (``--init``,
``--checkpoint``, ``textrec export``) to a :class:`~.base.PretrainedEntry`, each declared in its
architecture's module. A checkpoint stores ``model.model_args()`` (architecture, classes, full
config), never just a preset name, so editing a preset never changes what an old checkpoint
loads as. Adding an architecture: one module with a :class:`~.base.RecognitionModel` subclass,
plus its entries below; adding a pretrained recognizer: one loader module in
:mod:`textrec_model.pretrained`, plus its entry (declared beside the architecture) below.
"""

from __future__ import annotations

from textrec_model.models.base import (
    Preset,
    PretrainedEntry,
    RecognitionModel,
    count_parameters,
)
from textrec_model.models.crnn import CRNN, CRNNConfig
from textrec_model.models.crnn_vgg import CRNNVGG, EASYOCR_ENGLISH_G2, CRNNVGGConfig
from textrec_model.models.lcnetv4 import (
    PPOCR_V6_SMALL_REC,
    PPOCR_V6_TINY,
    PPOCR_V6_TINY_REC,
    LCNetV4Config,
    LCNetV4Rec,
)
from textrec_model.models.ppocr_seq2seq import PPOCRSeq2Seq, PPOCRSeq2SeqConfig
from textrec_model.models.svtr_lcnet import PPOCR_V4, SVTRLCNet, SVTRLCNetConfig
from textrec_model.models.trocr import TrOCR

#: The preset ``textrec train`` uses when neither ``--model`` nor ``--init`` is given.
DEFAULT_MODEL = "crnn-small"

ARCHITECTURES: dict[str, type[RecognitionModel]] = {
    CRNN.arch: CRNN,
    CRNNVGG.arch: CRNNVGG,
    SVTRLCNet.arch: SVTRLCNet,
    LCNetV4Rec.arch: LCNetV4Rec,
    PPOCRSeq2Seq.arch: PPOCRSeq2Seq,
    TrOCR.arch: TrOCR,  # type: ignore[dict-item]  # from an hf: folder, not a preset
}


def _crnn_for_cpus(channels: tuple[int, ...], lstm_hidden: int) -> CRNNConfig:
    """The CPU CRNN layout: batch norm after every convolution, dropout 0.1."""
    batch_norm = (True,) * len(channels)
    return CRNNConfig(channels, batch_norm, lstm_hidden=lstm_hidden, dropout=0.1)


#: The ``--model`` names: (name, architecture, config, summary), in the order they are listed.
_PRESET_TABLE: tuple[tuple[str, str, object, str], ...] = (
    ("crnn", CRNN.arch, CRNNConfig(), "the seed notebook's CRNN, ~8.2M parameters: GPUs"),
    # ~350-400 samples/s forward+backward at batch 64, 32x128, on 2 CPU threads.
    ("crnn-small", CRNN.arch, _crnn_for_cpus((16, 32, 64, 64, 128, 128, 128), 96),
     "CRNN with batch norm, ~0.73M parameters, ~12x cheaper to train: CPUs"),
    ("tiny", CRNN.arch, _crnn_for_cpus((8, 16, 32, 32, 32, 32, 32), 32),
     "the crnn-small layout at ~0.08M parameters: tests and smoke runs"),
    ("crnn-vgg", CRNNVGG.arch, CRNNVGGConfig(),
     "EasyOCR's generation-2 VGG-BiLSTM, grey height 64, ~3.8M"),
    ("svtr-lcnet", SVTRLCNet.arch, SVTRLCNetConfig(),
     "PP-OCRv4's mobile PPLCNetV3 + SVTR neck, RGB height 48, ~1.9M + classifier"),
    ("lcnetv4-small", LCNetV4Rec.arch, LCNetV4Config(),
     "PP-OCRv6 small rec's PP-LCNetV4 + light SVTR neck, RGB height 48, ~3.0M + classifier"),
    ("lcnetv4-tiny", LCNetV4Rec.arch, PPOCR_V6_TINY,
     "PP-OCRv6 tiny rec's PP-LCNetV4 + conv guide neck, RGB height 48, ~0.54M + classifier"),
    ("ppocr-seq2seq", PPOCRSeq2Seq.arch, PPOCRSeq2SeqConfig(),
     "PP-OCRv4's encoder + a 2-layer width-256 character transformer decoder "
     "(sequence-to-sequence), ~4.1M; --init ppocr:v4 loads the encoder"),
)  # fmt: skip
PRESETS: dict[str, Preset] = {
    name: Preset(arch, config, summary) for name, arch, config, summary in _PRESET_TABLE
}

#: Published recognizers by name; each entry lives in its architecture's module.
PRETRAINED: dict[str, PretrainedEntry] = {
    entry.name: entry
    for entry in (EASYOCR_ENGLISH_G2, PPOCR_V4, PPOCR_V6_SMALL_REC, PPOCR_V6_TINY_REC)
}

__all__ = [
    "ARCHITECTURES",
    "DEFAULT_MODEL",
    "PRESETS",
    "PRETRAINED",
    "Preset",
    "PretrainedEntry",
    "RecognitionModel",
    "build_model",
    "count_parameters",
    "model_from_args",
]


def build_model(name: str, num_classes: int) -> RecognitionModel:
    """A fresh model of preset ``name`` (see :data:`PRESETS`) with ``num_classes`` outputs."""
    if name not in PRESETS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(sorted(PRESETS))}")
    preset = PRESETS[name]
    return ARCHITECTURES[preset.arch](num_classes, preset.config)


def model_from_args(args: dict) -> RecognitionModel:
    """Rebuild a model (fresh weights) from :meth:`RecognitionModel.model_args` output."""
    arch = args.get("arch")
    if arch not in ARCHITECTURES:
        known = ", ".join(sorted(ARCHITECTURES))
        raise ValueError(f"unknown architecture {arch!r}; known: {known}")
    cls = ARCHITECTURES[arch]
    if arch == TrOCR.arch:  # its model_args are its own (HF config, processor, tokenizer)
        return TrOCR.from_args(args)
    return cls(int(args["num_classes"]), cls.config_class(**args["config"]))
