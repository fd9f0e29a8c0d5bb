"""The checkpoint schema, in one place: :class:`Checkpoint`, written atomically, loaded without
running code, older versions migrated.

A checkpoint file (version 3) is a ``torch.save`` of :meth:`Checkpoint.to_state`: plain
containers, strings, numbers and tensors.

- ``model_args``: the model's full hyper-parameters (``{"arch", "num_classes", "config"}``), so a
  checkpoint rebuilds exactly the model that wrote it; ``model_name``: the preset it came from
  (informational); ``model``: its ``state_dict``;
- ``charset``, ``config`` (the :class:`~textrec_model.config.TrainConfig`), ``manifests`` (their
  metadata), ``init`` (how ``--init`` mapped the output layer), ``step``, ``epoch``,
  ``best_accuracy``, ``metrics`` (the val figures of :func:`textrec_model.scoring.score`);
- ``resume`` (:class:`ResumeState`; absent from an inference-only export): ``optimizer``,
  ``scheduler``, ``scaler``, ``rng`` (Python, NumPy, torch, CUDA generator states as tensors and
  numbers), ``stream`` (batches consumed, workers, processes) and ``manifest_digests`` (see
  :mod:`textrec_model.run_dir`);
- ``export_format``: ``"weights"`` for ``textrec export --format weights``.

Version 2 kept the resume parts at the top level; :data:`MIGRATIONS` moves them under
``resume`` when such a file is read. Files are read with ``torch.load(weights_only=True)``: a
file that needs any other Python object to unpickle is refused and nothing in it runs.
"""

from __future__ import annotations

import pickle
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from textrec_data.atomic import atomic_file
from textrec_data.charset import Charset
from textrec_data.errors import InputError
from textrec_data.preprocess import MIN_CROP_WIDTH
from textrec_model.models import RecognitionModel, model_from_args

CHECKPOINT_VERSION = 3
#: What a file that starts as ONNX (a protobuf) is told.
_ONNX_HINT = ": an ONNX model? eval and predict take one with --onnx"


@dataclass(frozen=True)
class ResumeState:
    """What only continuing a run needs: the ``state_dict`` of the optimizer, scheduler and
    scaler, the generator states, the stream position and the manifests' digests (None in
    checkpoints written before digests)."""

    optimizer: dict
    scheduler: dict
    scaler: dict
    rng: dict
    stream: dict
    manifest_digests: list[str] | None = None


@dataclass(frozen=True)
class Checkpoint:
    """A model with what it was trained on and, for a training checkpoint, how to go on."""

    model_args: dict
    model: dict[str, torch.Tensor]
    charset: Charset
    config: dict
    step: int
    model_name: str | None = None
    epoch: float | None = None
    best_accuracy: float = -1.0
    metrics: dict | None = None
    init: dict | None = None
    manifests: tuple[dict, ...] = ()
    resume: ResumeState | None = None
    export_format: str | None = None

    def to_state(self) -> dict:
        """The plain data written to a file (:data:`CHECKPOINT_VERSION`)."""
        state = {field: getattr(self, field) for field in _PLAIN_FIELDS}
        return {
            "checkpoint_version": CHECKPOINT_VERSION,
            **state,
            "charset": self.charset.to_dict(),
            "manifests": list(self.manifests),
            "resume": asdict(self.resume) if self.resume else None,
        }

    @classmethod
    def from_state(cls, state: dict, path: str | Path = "checkpoint") -> Checkpoint:
        """A checkpoint from what a file held, migrated to this version; :class:`InputError`
        names ``path`` when it is not a textrec checkpoint or its parts are unusable."""
        if not isinstance(state, dict) or "checkpoint_version" not in state:
            raise InputError(f"{path}: not a textrec checkpoint (missing model/charset/config)")
        version = state["checkpoint_version"]
        if not isinstance(version, int) or version > CHECKPOINT_VERSION:
            raise InputError(
                f"{path}: checkpoint version {version} is newer than this textrec reads "
                f"({CHECKPOINT_VERSION}); upgrade textrec"
            )
        if version < min(MIGRATIONS):
            raise InputError(
                f"{path}: checkpoint version {version} is too old (it has no model_args); "
                f"textrec reads versions {min(MIGRATIONS)} to {CHECKPOINT_VERSION}"
            )
        while version < CHECKPOINT_VERSION:
            state, version = MIGRATIONS[version](state), version + 1
        if any(k not in state for k in REQUIRED_KEYS):
            raise InputError(f"{path}: not a textrec checkpoint (missing model/charset/config)")
        if not all(isinstance(state[k], dict) for k in ("model_args", "model", "config")):
            raise InputError(
                f"{path}: corrupt checkpoint (model_args, model and config must be maps)"
            )
        try:
            charset = Charset.from_dict(state["charset"])
            resume = ResumeState(**state["resume"]) if state.get("resume") else None
        except (ValueError, TypeError) as exc:
            raise InputError(f"{path}: corrupt checkpoint ({exc})") from exc
        plain = {k: state[k] for k in _PLAIN_FIELDS if state.get(k) is not None}
        manifests = tuple(state.get("manifests") or ())
        return cls(**plain, charset=charset, manifests=manifests, resume=resume)

    @classmethod
    def load(cls, path: str | Path) -> Checkpoint:
        """Read and validate a checkpoint file; :class:`InputError` names the file and problem.

        Only tensors and plain data load (``weights_only=True``): a pickled object is refused."""
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path}: checkpoint not found")
        with open(path, "rb") as handle:
            head = handle.read(4)
        if not head.startswith((b"PK\x03\x04", b"\x80")):  # torch's zip, or a legacy pickle
            hint = _ONNX_HINT if head[:1] == b"\x08" else ""
            raise InputError(f"{path}: not a checkpoint (not a torch file{hint})")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            raise InputError(
                f"{path}: refused: the file holds pickled Python objects besides tensors and "
                "plain data (loading it could run code); not a textrec checkpoint of version "
                f"{CHECKPOINT_VERSION}"
            ) from exc
        except Exception as exc:  # the restricted unpickler runs no code; anything else is corrupt
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(
                f"{path}: not a readable checkpoint (truncated or corrupt: {reason})"
            ) from exc
        return cls.from_state(state, path)

    def save(self, path: str | Path) -> None:
        """``torch.save`` :meth:`to_state` to a temp file, fsync, rename."""
        with atomic_file(path, fsync=True) as tmp, open(tmp, "wb") as handle:
            torch.save(self.to_state(), handle)

    def inference_only(self) -> Checkpoint:
        """This checkpoint without what only resuming needs, marked ``export_format:
        "weights"``, its floating-point weights stored as float16 (half the size; loading casts
        them back to the model's float32)."""
        weights = {k: v.half() if v.is_floating_point() else v for k, v in self.model.items()}
        return replace(self, model=weights, resume=None, export_format="weights")

    def max_width(self, path: str | Path = "checkpoint") -> int:
        """The widest input the run used (its --max-width): inference scales crops to at most
        this width. :class:`InputError` names ``path`` when it is missing or unusable."""
        max_width = self.config.get("max_width")
        if not isinstance(max_width, int) or max_width < MIN_CROP_WIDTH:
            raise InputError(f"{path}: corrupt checkpoint config (max_width {max_width!r})")
        return max_width

    def build_model(self, path: str | Path = "checkpoint") -> RecognitionModel:
        """The model (rebuilt from ``model_args``) with its weights, in eval mode;
        :class:`InputError` names ``path`` when they do not fit together or with the charset."""
        try:
            model = model_from_args(self.model_args)
            model.load_state_dict(self.model)
        except (ValueError, TypeError, KeyError, RuntimeError) as exc:
            reason = str(exc).splitlines()[0]
            raise InputError(f"{path}: checkpoint model unusable ({reason})") from exc
        if getattr(model, "num_classes", None) not in (None, self.charset.num_classes):
            raise InputError(f"{path}: checkpoint model has other classes than its charset")
        return model.eval()


#: Keys a file must hold (after migration), and the fields stored as they are.
REQUIRED_KEYS = ("model_args", "model", "charset", "config", "step")
_PLAIN_FIELDS = (
    "model_args", "model", "config", "step", "model_name", "epoch", "best_accuracy", "metrics",
    "init", "export_format",
)  # fmt: skip
_RESUME_KEYS = ("optimizer", "scheduler", "scaler", "rng", "stream", "manifest_digests")


def _from_version_2(state: dict) -> dict:
    """Version 2 -> 3: the resume parts, at the top level in version 2, go under ``resume``
    (an inference-only file, which has none, gets ``resume`` None)."""
    moved = {k: state[k] for k in _RESUME_KEYS if k in state}
    rest = {k: v for k, v in state.items() if k not in _RESUME_KEYS}
    has_resume = all(k in moved for k in _RESUME_KEYS[:5])
    return {**rest, "resume": moved if has_resume else None, "checkpoint_version": 3}


#: Version -> the function that turns a state of that version into the next one.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {2: _from_version_2}


def load_checkpoint(path: str | Path) -> dict:
    """:meth:`Checkpoint.load`'s checkpoint as this version's plain state (for reading keys)."""
    return Checkpoint.load(path).to_state()


def model_from_state(state: dict, path: str | Path = "checkpoint") -> RecognitionModel:
    """:meth:`Checkpoint.build_model` of a plain state (as :func:`load_checkpoint` gives)."""
    return Checkpoint.from_state(state, path).build_model(path)


def save_checkpoint(state: dict, path: str | Path) -> None:
    """Save a plain state of this version's keys (``checkpoint_version`` optional), checked as
    a file would be (:meth:`Checkpoint.from_state`)."""
    Checkpoint.from_state({"checkpoint_version": CHECKPOINT_VERSION, **state}, path).save(path)


def rng_state() -> dict:
    """Python, NumPy, torch (and CUDA) generator states, as plain data and tensors."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "python": random.getstate(),
        "numpy": (name, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore what :func:`rng_state` captured."""
    random.setstate(state["python"])
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def restore_training(
    path: Path,
    model_args: dict,
    charset: Charset,
    parts: dict,
    check: Callable[[Checkpoint], None] | None = None,
) -> Checkpoint:
    """Load ``path`` into a resumed run: checks that it can resume, that its charset and model
    match (then runs ``check`` on it, if given), loads the ``state_dict`` of each of ``parts``
    (model, and the optimizer, scheduler, scaler of :class:`ResumeState`) and the RNG states."""
    checkpoint = Checkpoint.load(path)
    if checkpoint.resume is None:
        raise InputError(f"{path}: inference-only checkpoint (no optimizer state); cannot resume")
    if checkpoint.charset.chars != charset.chars:
        raise InputError(
            f"{path}: checkpoint charset differs from the manifest's "
            f"({len(checkpoint.charset.chars)} vs {len(charset.chars)} characters); cannot resume"
        )
    if checkpoint.model_args != model_args:
        raise InputError(
            f"{path}: checkpoint is a {checkpoint.model_name} "
            f"({checkpoint.model_args.get('arch')}) with other hyper-parameters than this run's "
            "--model; cannot resume"
        )
    if check is not None:
        check(checkpoint)
    for name, part in parts.items():
        saved = checkpoint.model if name == "model" else getattr(checkpoint.resume, name)
        part.load_state_dict(saved)
    set_rng_state(checkpoint.resume.rng)
    return checkpoint
