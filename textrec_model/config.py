"""The frozen config of a training run (saved in config.json and every checkpoint)."""

from __future__ import annotations

from dataclasses import dataclass

from textrec_data.bounds import MAX_SEED, Bound, check_bounds, check_choice
from textrec_data.errors import InputError
from textrec_data.preprocess import MIN_CROP_WIDTH, InputSpec
from textrec_data.stream import StreamConfig
from textrec_model.models import DEFAULT_MODEL, PRESETS, RecognitionModel
from textrec_model.transfer import parse_freeze

DEVICES = ("auto", "cpu", "cuda")
#: The values each numeric option of a run takes (checked by the CLI and the Python API alike).
TRAIN_BOUNDS = {
    "max_steps": Bound(1, optional=True),
    "epochs": Bound(0, integer=False, low_open=True, optional=True),
    "batch_size": Bound(1),
    "lr": Bound(0, 1, integer=False, low_open=True),
    "weight_decay": Bound(0, 1, integer=False),
    "warmup_steps": Bound(0),
    "grad_clip": Bound(0, integer=False, low_open=True),
    "height": Bound(1, optional=True),
    "max_width": Bound(MIN_CROP_WIDTH, 4096),
    "eval_every": Bound(1),
    "log_every": Bound(1),
    "workers": Bound(0, 64),
    "seed": Bound(0, MAX_SEED),
    "pool_size": Bound(1),
}


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
    overwrite: bool = False

    def __post_init__(self) -> None:
        """Refuse options that cannot work, naming the option (:class:`InputError`)."""
        check_bounds(self, TRAIN_BOUNDS)
        if self.model is not None:
            check_choice("--model", self.model, PRESETS)
        if self.model is not None and self.init is not None:
            raise InputError("--model, --init: give one (with --init the source's architecture)")
        parse_freeze(self.freeze)
        check_choice("--device", self.device, DEVICES)
        if not self.manifests:
            raise InputError("--manifest: give at least one manifest.parquet")
        if self.resume and self.overwrite:
            raise InputError("--resume, --overwrite: give one (continue the run, or replace it)")

    @property
    def model_name(self) -> str:
        """The preset, or the --init source, this run trains."""
        return self.model or self.init or DEFAULT_MODEL

    def check_input_spec(self, spec: InputSpec) -> None:
        """Refuse --height and --max-width values the model's input spec rules out."""
        if self.height is not None and self.height != spec.height:
            raise InputError(
                f"--height {self.height}: model {self.model_name} takes height {spec.height}"
            )
        narrowest = max(spec.width_for_steps(1), spec.fixed_width or 0)
        if self.max_width < narrowest:
            raise InputError(
                f"--max-width {self.max_width}: model {self.model_name} needs inputs at least "
                f"{narrowest} pixels wide to emit one character"
            )

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
