"""The checkpoint schema, in one place: written atomically, loaded without running code.

A checkpoint (version 2) is a ``torch.save`` of plain containers, strings, numbers and tensors:

- ``model_args``: the model's full hyper-parameters (``{"arch", "num_classes", "config"}``), so a
  checkpoint rebuilds exactly the model that wrote it; ``model_name``: the preset it came from
  (informational); ``model``: its ``state_dict``;
- ``charset``, ``config`` (the :class:`~textrec_model.train.TrainConfig`), ``manifests`` (their
  metadata), ``step``, ``epoch``, ``best_accuracy``, ``metrics``;
- for resuming: ``optimizer``, ``scheduler``, ``scaler``, ``rng`` (Python, NumPy, torch, CUDA
  generator states as tensors and numbers), ``stream`` (batches consumed, workers, processes)
  and ``manifest_digests`` (see :mod:`textrec_model.run_dir`).

It is read with ``torch.load(weights_only=True)``: a file that needs any other Python object to
unpickle is refused and nothing in it runs.
"""

from __future__ import annotations

import pickle
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from textrec_data.atomic import atomic_file
from textrec_data.charset import Charset
from textrec_data.errors import InputError
from textrec_data.preprocess import MIN_CROP_WIDTH
from textrec_model.models import RecognitionModel, model_from_args

CHECKPOINT_VERSION = 2
REQUIRED_KEYS = ("checkpoint_version", "model_args", "model", "charset", "config", "step")


def save_checkpoint(state: dict, path: str | Path) -> None:
    """``torch.save`` ``state`` (plus the schema version) to a temp file, fsync, rename."""
    with atomic_file(path, fsync=True) as tmp, open(tmp, "wb") as handle:
        torch.save({"checkpoint_version": CHECKPOINT_VERSION, **state}, handle)


#: Keys an inference-only checkpoint keeps (``textrec export --format weights``).
INFERENCE_KEYS = (
    *REQUIRED_KEYS,
    "model_name",
    "epoch",
    "best_accuracy",
    "metrics",
    "init",
    "manifests",
)


def inference_state(state: dict) -> dict:
    """``state`` without what only resuming needs (optimizer, scheduler, RNG, stream, digests),
    marked ``export_format: "weights"``, its floating-point weights stored as float16 (half the
    size; loading casts them back to the model's float32)."""
    weights = {k: v.half() if v.is_floating_point() else v for k, v in state["model"].items()}
    kept = {k: state[k] for k in INFERENCE_KEYS if k in state}
    return {**kept, "model": weights, "export_format": "weights"}


_ONNX_HINT = ": an ONNX model? eval and predict take one with --onnx"


def load_checkpoint(path: str | Path) -> dict:
    """Load and validate a textrec checkpoint; :class:`InputError` names the file and problem.

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
            f"{path}: refused: the file holds pickled Python objects besides tensors and plain "
            "data (loading it could run code); not a textrec checkpoint of version "
            f"{CHECKPOINT_VERSION}"
        ) from exc
    except Exception as exc:  # the restricted unpickler runs no code; anything else is corrupt
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(
            f"{path}: not a readable checkpoint (truncated or corrupt: {reason})"
        ) from exc
    if not isinstance(state, dict) or "checkpoint_version" not in state:
        raise InputError(f"{path}: not a textrec checkpoint (missing model/charset/config)")
    version = state["checkpoint_version"]
    if not isinstance(version, int) or version > CHECKPOINT_VERSION:
        raise InputError(
            f"{path}: checkpoint version {version} is newer than this textrec reads "
            f"({CHECKPOINT_VERSION}); upgrade textrec"
        )
    if any(k not in state for k in REQUIRED_KEYS):
        raise InputError(f"{path}: not a textrec checkpoint (missing model/charset/config)")
    _check_parts(state, path)
    return state


def _check_parts(state: dict, path: Path) -> None:
    """Refuse a checkpoint whose charset, config or model parts have unusable types."""
    if not all(isinstance(state[k], dict) for k in ("model_args", "model", "config")):
        raise InputError(f"{path}: corrupt checkpoint (model_args, model and config must be maps)")
    try:
        Charset.from_dict(state["charset"])
    except ValueError as exc:
        raise InputError(f"{path}: corrupt checkpoint charset ({exc})") from exc


def max_width_of(state: dict, path: str | Path) -> int:
    """The widest input the checkpoint's run used (its --max-width): inference scales crops to
    at most this width. :class:`InputError` names ``path`` when it is missing or unusable."""
    max_width = state["config"].get("max_width")
    if not isinstance(max_width, int) or max_width < MIN_CROP_WIDTH:
        raise InputError(f"{path}: corrupt checkpoint config (max_width {max_width!r})")
    return max_width


def model_from_state(state: dict, path: str | Path = "checkpoint") -> RecognitionModel:
    """The checkpoint's model (rebuilt from ``model_args``) with its weights, in eval mode;
    :class:`InputError` names ``path`` when they do not fit together or with the charset."""
    try:
        model = model_from_args(state["model_args"])
        model.load_state_dict(state["model"])
    except (ValueError, TypeError, KeyError, RuntimeError) as exc:
        reason = str(exc).splitlines()[0]
        raise InputError(f"{path}: checkpoint model unusable ({reason})") from exc
    if model.num_classes != Charset.from_dict(state["charset"]).num_classes:
        raise InputError(f"{path}: checkpoint model has other classes than its charset")
    return model.eval()


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
    check: Callable[[dict], None] | None = None,
) -> dict:
    """Load ``path`` into a resumed run: checks that its charset and model match (then runs
    ``check`` on the checkpoint, if given), loads the ``state_dict`` of each of ``parts`` (model,
    optimizer, scheduler, scaler) and the RNG states; returns the checkpoint."""
    state = load_checkpoint(path)
    saved = Charset.from_dict(state["charset"])
    if saved.chars != charset.chars:
        raise InputError(
            f"{path}: checkpoint charset differs from the manifest's "
            f"({len(saved.chars)} vs {len(charset.chars)} characters); cannot resume"
        )
    if state["model_args"] != model_args:
        raise InputError(
            f"{path}: checkpoint is a {state.get('model_name')} "
            f"({state['model_args'].get('arch')}) with other hyper-parameters than this run's "
            "--model; cannot resume"
        )
    if check is not None:
        check(state)
    for name, part in parts.items():
        part.load_state_dict(state[name])
    set_rng_state(state["rng"])
    return state
