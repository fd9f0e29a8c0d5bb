"""The frozen config of a training run (saved in config.json and every checkpoint)."""

from __future__ import annotations

from dataclasses import dataclass

from textrec_data.stream import StreamConfig
from textrec_model.models import RecognitionModel


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (saved in every checkpoint).

    ``model`` is a preset of :data:`textrec_model.models.PRESETS` (None: ``crnn-small``, or with
    ``init`` the architecture of the source whose weights start the run: a checkpoint path or a
    pretrained name, see :mod:`textrec_model.transfer`); ``freeze`` is ``backbone[:STEPS]``;
    ``height`` None takes the model's input height (any other value must equal it)."""

    manifests: tuple[str, ...]
    out: str
    model: str | None = None
    init: str | None = None
    freeze: str | None = None
    max_steps: int | None = None
    epochs: float | None = None
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-2
    warmup_steps: int = 200
    grad_clip: float = 5.0
    height: int | None = None
    max_width: int = 256
    eval_every: int = 500
    log_every: int = 20
    device: str = "auto"
    amp: bool = True
    workers: int = 1
    seed: int = 0
    resume: bool = False
    augment: bool = True
    crop_augment: bool = False
    pool_size: int = 2048
    train_split: str = "train"
    val_split: str = "val"

    def stream_config(self, model: RecognitionModel, train: bool) -> StreamConfig:
        """Batches for ``model``'s input spec: shuffled and augmented for training."""
        return StreamConfig(
            spec=model.input_spec,
            max_width=self.max_width,
            batch_size=self.batch_size if train else 2 * self.batch_size,
            pool_size=self.pool_size,
            shuffle=train,
            augment=train and self.augment,
            crop_augment=self.crop_augment,
            seed=self.seed,
        )
