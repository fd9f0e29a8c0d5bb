"""Recognizers other projects publish, by name, as textrec models.

Each is declared once, as a :class:`~textrec_model.models.PretrainedEntry` beside its
architecture (:data:`textrec_model.models.PRETRAINED`), and read by one loader module here
(:mod:`.easyocr_g2`, :mod:`.ppocr_v4`). ``load_pretrained("easyocr:english_g2")`` gives a
:class:`Pretrained`: the model (eval mode) with the published weights, its charset (class 0 the
CTC blank, as in textrec) and, where reproduced, its authors' preprocessing. Weights come from
a file inside an installed Python package, never from the network, and are read as tensors
(``torch.load(weights_only=True)``, ONNX constants): no pickled code runs.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from textrec_data.charset import Charset
from textrec_model.models import PRETRAINED, PretrainedEntry, RecognitionModel


@dataclass(frozen=True)
class Pretrained:
    """A pretrained recognizer: ``model`` (eval mode, logits ``(B, T, len(charset.chars) + 1)``
    for input its ``input_spec`` describes), ``charset`` and, where reproduced, its authors'
    ``preprocessing``."""

    model: RecognitionModel
    charset: Charset
    preprocessing: object | None = None
    max_width: int = 768  # widest input textrec gives it (EasyOCR and PaddleOCR set no cap)


def pretrained_entry(name: str) -> PretrainedEntry:
    """The declaration of ``name``; ValueError listing the known names when there is none."""
    if name not in PRETRAINED:
        raise ValueError(
            f"unknown pretrained model {name!r}; known: {', '.join(sorted(PRETRAINED))}"
        )
    return PRETRAINED[name]


def package_file(package: str, relative: str, install: str) -> Path:
    """``relative`` inside the folder of the installed Python ``package`` (found without
    importing it); ImportError saying how to ``install`` it when either is missing."""
    spec = importlib.util.find_spec(package)
    folders = spec.submodule_search_locations if spec is not None else None
    path = Path(folders[0]) / relative if folders else None
    if path is None or not path.is_file():
        raise ImportError(f"needs {relative} of the {package} package: {install}")
    return path


def weight_file(entry: PretrainedEntry) -> Path:
    """The installed file holding ``entry``'s weights (ImportError when not installed)."""
    try:
        return package_file(entry.package, entry.file, entry.install)
    except ImportError as exc:
        raise ImportError(f"{entry.name} {exc}") from exc


def load_pretrained(name: str) -> Pretrained:
    """The pretrained recognizer ``name`` (see :data:`~textrec_model.models.PRETRAINED`), on
    the CPU, in eval mode. ValueError for an unknown name or weights that do not fit the
    declaration; ImportError when the package holding them is not installed."""
    entry = pretrained_entry(name)
    path = weight_file(entry)
    module, _, function = entry.loader.partition(":")
    pretrained = getattr(importlib.import_module(module), function)(entry, path)
    if pretrained.model.model_args() != entry.model_args():
        raise ValueError(f"{path}: the weights do not fit {name}'s declaration ({entry.arch})")
    return pretrained


def pretrained_checkpoint(name: str) -> dict:
    """The pretrained recognizer ``name`` as a checkpoint's state (model, charset, its width
    cap as ``config.max_width``, step 0): what ``textrec export`` writes from."""
    pretrained = load_pretrained(name)
    model = pretrained.model
    return {
        "model_args": model.model_args(),
        "model_name": name,
        "model": model.state_dict(),
        "charset": pretrained.charset.to_dict(),
        "config": {"max_width": pretrained.max_width},
        "step": 0,
    }
