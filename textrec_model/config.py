"""The frozen config of a training run (saved in config.json and every checkpoint)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from textrec_data.bounds import MAX_SEED, Bound, check_bounds, check_choice
from textrec_data.errors import InputError
from textrec_data.preprocess import MIN_CROP_WIDTH, InputSpec
from textrec_data.stream import StreamConfig
from textrec_model.models import DEFAULT_MODEL, PRESETS, RecognitionModel
from textrec_model.transfer import parse_freeze

#: Recipe-file (``train --config``) value types, by the annotation of the TrainConfig field.
_TOML_TYPES = {"int": int, "float": (int, float), "str": str, "bool": bool, "tuple[str, ...]": list}
_TYPE_NAMES = {int: "an integer", str: "a string", bool: "true or false", list: "a list of strings"}

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
    "distill_weight": Bound(0, integer=False),
    "distill_temperature": Bound(0, 100, integer=False, low_open=True),
}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (saved in every checkpoint).

    ``model`` is a preset of :data:`textrec_model.models.PRESETS` (None: ``crnn-small``, or with
    ``init`` the architecture of the source whose weights start the run: a checkpoint path or a
    pretrained name, see :mod:`textrec_model.transfer`; ``model`` and ``init`` together: the
    preset, with the source's layers that fit it); ``freeze`` is ``backbone[:STEPS]``;
    ``height`` None takes the model's input height (any other value must equal it);
    ``teacher`` (a checkpoint or a pretrained name) adds frame distillation
    (:mod:`textrec_model.distill`) weighted ``distill_weight`` at ``distill_temperature``."""

    manifests: tuple[str, ...]
    out: str
    model: str | None = None
    init: str | None = None
    freeze: str | None = None
    teacher: str | None = None
    distill_weight: float = 1.0
    distill_temperature: float = 1.0
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

    def stream_config(self, model: RecognitionModel) -> StreamConfig:
        """Training batches for ``model``'s input spec: shuffled and (``augment``) augmented.
        Validation does not stream batches: it reads crops as ``textrec eval`` does."""
        return StreamConfig(
            spec=model.input_spec,
            max_width=self.max_width,
            batch_size=self.batch_size,
            pool_size=self.pool_size,
            shuffle=True,
            augment=self.augment,
            crop_augment=self.crop_augment,
            seed=self.seed,
            max_label_length=getattr(model, "max_label_length", None),
            keep_unlabeled=self.teacher is not None,
        )


def read_recipe(path: str | Path) -> dict:
    """The TrainConfig fields a TOML recipe file (``configs/*.toml``) sets, checked: unknown keys
    and values of the wrong type are refused by file and key (:class:`InputError`)."""
    try:
        table = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the recipe file ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not a valid TOML file ({exc})") from exc
    known = {f.name: f.type.removesuffix(" | None") for f in fields(TrainConfig)}
    recipe = {}
    for key, value in table.items():
        if key not in known:
            raise InputError(f"{path}: unknown key '{key}' (keys: {', '.join(sorted(known))})")
        expected = _TOML_TYPES[known[key]]
        wrong = isinstance(value, bool) and expected is not bool or not isinstance(value, expected)
        if expected is list and not wrong:
            wrong = not all(isinstance(item, str) for item in value)
        if wrong:
            what = _TYPE_NAMES.get(expected, "a number")
            raise InputError(f"{path}: {key}: expected {what}, got {value!r}")
        recipe[key] = tuple(value) if expected is list else value
        if known[key] == "float":
            recipe[key] = float(value)
    return recipe


def config_with_recipe(options: dict, given: set[str], recipe: str | None) -> TrainConfig:
    """The run's TrainConfig: ``options`` (every command-line value, by field name), where the
    recipe file sets a field the user did not give (``given``), the file's value."""
    values = dict(options)
    if recipe is not None:
        values |= {k: v for k, v in read_recipe(recipe).items() if k not in given}
    if not values.get("out"):
        raise InputError("--out: give the output directory (or 'out' in the --config file)")
    return TrainConfig(**values)
