"""Recognition models: the contract (:mod:`.base`), one module per architecture, one registry.

``ARCHITECTURES`` maps an architecture name to its model class; ``PRESETS`` maps the names the
CLI offers (``--model``) to an architecture and a config. A checkpoint stores
``model.model_args()`` (architecture, classes, full config), never just a preset name, so editing
a preset never changes what an old checkpoint loads as. Adding an architecture: one module with a
:class:`~.base.RecognitionModel` subclass, plus its entries below.
"""

from __future__ import annotations

from textrec_model.models.base import RecognitionModel, count_parameters
from textrec_model.models.crnn import CRNN, CRNNConfig
from textrec_model.models.crnn_vgg import CRNNVGG, CRNNVGGConfig
from textrec_model.models.lcnetv4 import PPOCR_V6_TINY, LCNetV4Config, LCNetV4Rec
from textrec_model.models.svtr_lcnet import SVTRLCNet, SVTRLCNetConfig

#: The preset ``textrec train`` uses when neither ``--model`` nor ``--init`` is given.
DEFAULT_MODEL = "crnn-small"

ARCHITECTURES: dict[str, type[RecognitionModel]] = {
    CRNN.arch: CRNN,
    CRNNVGG.arch: CRNNVGG,
    SVTRLCNet.arch: SVTRLCNet,
    LCNetV4Rec.arch: LCNetV4Rec,
}

PRESETS: dict[str, tuple[str, object]] = {
    # The seed notebook's CRNN: ~8.2M parameters at 80-100 classes.
    "crnn": ("crnn", CRNNConfig()),
    # For slow CPUs: BatchNorm after every convolution, ~0.73M parameters, ~12x cheaper to train
    # (~350-400 samples/s forward+backward at batch 64, 32x128, on 2 CPU threads).
    "crnn-small": (
        "crnn",
        CRNNConfig(
            channels=(16, 32, 64, 64, 128, 128, 128),
            batch_norm=(True,) * 7,
            lstm_hidden=96,
            dropout=0.1,
        ),
    ),
    # EasyOCR's generation-2 recognizer (english_g2's sizes): height 64, ~3.8M parameters.
    "crnn-vgg": ("crnn-vgg", CRNNVGGConfig()),
    # PP-OCRv4's mobile recognizer (PPLCNetV3 + SVTR neck, deployed form): height 48, RGB,
    # ~1.4M parameters besides the classifier.
    "svtr-lcnet": ("svtr-lcnet", SVTRLCNetConfig()),
    # PP-OCRv6's small recognizer (PP-LCNetV4 + light SVTR neck, deployed form): height 48,
    # RGB, ~3.0M parameters besides the classifier.
    "lcnetv4-small": ("lcnetv4", LCNetV4Config()),
    # PP-OCRv6's tiny recognizer (PP-LCNetV4 + conv guide neck): ~0.54M besides the classifier.
    "lcnetv4-tiny": ("lcnetv4", PPOCR_V6_TINY),
}

__all__ = [
    "ARCHITECTURES",
    "DEFAULT_MODEL",
    "PRESETS",
    "RecognitionModel",
    "build_model",
    "count_parameters",
    "model_from_args",
]


def build_model(name: str, num_classes: int) -> RecognitionModel:
    """A fresh model of preset ``name`` (see :data:`PRESETS`) with ``num_classes`` outputs."""
    if name not in PRESETS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(sorted(PRESETS))}")
    arch, config = PRESETS[name]
    return ARCHITECTURES[arch](num_classes, config)


def model_from_args(args: dict) -> RecognitionModel:
    """Rebuild a model (fresh weights) from :meth:`RecognitionModel.model_args` output."""
    arch = args.get("arch")
    if arch not in ARCHITECTURES:
        known = ", ".join(sorted(ARCHITECTURES))
        raise ValueError(f"unknown architecture {arch!r}; known: {known}")
    cls = ARCHITECTURES[arch]
    return cls(int(args["num_classes"]), cls.config_class(**args["config"]))
