"""The CRNN architecture (conv features + BiLSTM + linear): knows nothing of loss or data.

The time axis follows the input width: two 2x2 max-pools, then height-only pooling and a final
``(2, 1)`` convolution, so a ``(B, C, 32, W)`` batch becomes ``(B, W // 4, num_classes)`` logits.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from textrec_data.preprocess import InputSpec
from textrec_model.models.base import RecognitionModel

NUM_CONVS = 7  # six 3x3 convolutions and the final (2, 1) convolution
TIME_STRIDE = 4  # two 2x2 pools; everything after pools height only


@dataclass(frozen=True)
class CRNNConfig:
    """Architecture of a :class:`CRNN`.

    ``channels`` and ``batch_norm`` have one entry per convolution: six 3x3 convolutions (pools
    after the 1st, 2nd, 4th and 6th) and the final ``(2, 1)`` convolution that takes height 2 to 1.
    """

    channels: tuple[int, ...] = (64, 128, 256, 256, 512, 512, 512)
    batch_norm: tuple[bool, ...] = (False, False, False, False, True, True, False)
    lstm_hidden: int = 256
    lstm_layers: int = 2
    in_channels: int = 1
    height: int = 32
    dropout: float = 0.0  # on the LSTM input and output (not between layers: keeps the fused LSTM)

    def __post_init__(self) -> None:
        # accept lists (a config read back from JSON) but store tuples: hashable, comparable
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        object.__setattr__(self, "batch_norm", tuple(bool(b) for b in self.batch_norm))
        if len(self.channels) != NUM_CONVS or len(self.batch_norm) != NUM_CONVS:
            raise ValueError(f"channels and batch_norm need {NUM_CONVS} entries each")
        if self.height != 32:
            raise ValueError(f"height must be 32 (the pooling reduces 32 to 1), got {self.height}")
        if self.lstm_layers < 1 or self.lstm_hidden < 1 or self.in_channels < 1:
            raise ValueError("lstm_layers, lstm_hidden and in_channels must be positive")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


def _conv_block(c_in: int, c_out: int, kernel: tuple[int, int], pad: int, bn: bool) -> list:
    conv = nn.Conv2d(c_in, c_out, kernel, stride=1, padding=pad, bias=not bn)
    layers: list[nn.Module] = [conv]
    if bn:
        layers.append(nn.BatchNorm2d(c_out))
    layers.append(nn.ReLU(inplace=True))
    return layers


def _features(config: CRNNConfig) -> nn.Sequential:
    """Conv stack: ``(B, in_channels, 32, W)`` -> ``(B, channels[-1], 1, W // 4)``."""
    pools: dict[int, nn.Module] = {
        0: nn.MaxPool2d(2, 2),
        1: nn.MaxPool2d(2, 2),
        3: nn.MaxPool2d((2, 1), (2, 1)),
        5: nn.MaxPool2d((2, 1), (2, 1)),
    }
    layers: list[nn.Module] = []
    c_in = config.in_channels
    for i, (c_out, bn) in enumerate(zip(config.channels, config.batch_norm, strict=True)):
        last = i == NUM_CONVS - 1
        kernel, pad = ((2, 1), 0) if last else ((3, 3), 1)
        layers += _conv_block(c_in, c_out, kernel, pad, bn)
        if i in pools:
            layers.append(pools[i])
        c_in = c_out
    return nn.Sequential(*layers)


class CRNN(RecognitionModel):
    """Conv features -> BiLSTM over the width -> per-step class logits (class 0 is the blank)."""

    arch = "crnn"
    config_class = CRNNConfig

    def __init__(self, num_classes: int, config: CRNNConfig) -> None:
        super().__init__(num_classes, config)
        self.features = _features(config)
        self.lstm = nn.LSTM(
            input_size=config.channels[-1],
            hidden_size=config.lstm_hidden,
            num_layers=config.lstm_layers,
            batch_first=True,
            bidirectional=True,
        )
        self.dropout = nn.Dropout(config.dropout)
        # Channels-last conv weights make oneDNN/cuDNN pick NHWC kernels (~25% faster training on
        # CPU); the model's inputs and state_dict keys and shapes are unaffected.
        self.features.to(memory_format=torch.channels_last)
        self.classifier = nn.Linear(2 * config.lstm_hidden, num_classes)

    @property
    def input_spec(self) -> InputSpec:
        return InputSpec(
            channels=self.config.in_channels,
            height=self.config.height,
            time_stride=TIME_STRIDE,
            min_width=TIME_STRIDE,
        )

    def forward(self, images: Tensor) -> Tensor:
        """Logits ``(B, W // 4, num_classes)`` for float images ``(B, in_channels, 32, W)``."""
        self.check_input(images)
        feats = self.features(images)  # (B, C', 1, W // 4)
        seq = feats.squeeze(2).permute(0, 2, 1)  # (B, T, C')
        out, _ = self.lstm(self.dropout(seq))  # (B, T, 2 * hidden)
        return self.classifier(self.dropout(out))
