"""One checkpoint schema: written atomically, validated on load."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import torch

from textrec_data.atomic import atomic_file
from textrec_data.charset import Charset
from textrec_data.errors import InputError
from textrec_model.crnn import CRNN, build_model

CHECKPOINT_VERSION = 1
REQUIRED_KEYS = ("checkpoint_version", "model_name", "model", "charset", "config", "step")


def save_checkpoint(state: dict, path: str | Path) -> None:
    """``torch.save`` to a temp file beside ``path``, fsync, then rename over it."""
    with atomic_file(path, fsync=True) as tmp:
        torch.save({"checkpoint_version": CHECKPOINT_VERSION, **state}, tmp)


def load_checkpoint(path: str | Path) -> dict:
    """Load and validate a textrec checkpoint; :class:`InputError` names the file and problem."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: checkpoint not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except (RuntimeError, EOFError, OSError, pickle.UnpicklingError, zipfile.BadZipFile) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(
            f"{path}: not a readable checkpoint (truncated or corrupt: {reason})"
        ) from exc
    if not isinstance(state, dict) or any(k not in state for k in REQUIRED_KEYS):
        raise InputError(f"{path}: not a textrec checkpoint (missing model/charset/config)")
    if state["checkpoint_version"] > CHECKPOINT_VERSION:
        raise InputError(
            f"{path}: checkpoint version {state['checkpoint_version']} is newer than this "
            f"textrec reads ({CHECKPOINT_VERSION}); upgrade textrec"
        )
    return state


def model_from_state(state: dict) -> CRNN:
    """The checkpoint's model with its weights, in eval mode (on the CPU)."""
    charset = Charset.from_dict(state["charset"])
    model = build_model(state["model_name"], charset.num_classes)
    model.load_state_dict(state["model"])
    return model.eval()
