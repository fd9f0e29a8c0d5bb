"""The ONNX file a checkpoint or a pretrained name runs from under ONNX Runtime (``--runtime
onnx``, the default of ``textrec predict`` / ``eval``).

A model is exported once (:func:`~textrec_model.export.write_export`, a few seconds) into
``$XDG_CACHE_HOME/textrec/onnx/`` (default ``~/.cache``), named by a digest of its weights
and of what shapes the export (:func:`export_key`), and written atomically: processes exporting
the same model at once each rename a whole file over the same name. The package ships only the
PyTorch weights; their ONNX form is made where it runs, by the torch installed there.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch

from textrec_data.errors import InputError
from textrec_model.export import ONNX_OPSET, load_source, write_export
from textrec_model.pretrained import pretrained_entry, weight_file
from textrec_model.transfer import is_named_source

#: Bumped when the export of a given checkpoint changes (graph, metadata): older files are
#: then no longer found under their key.
EXPORT_VERSION = 1
_BLOCK = 2**20


def cache_dir() -> Path:
    """Where exports are cached: ``$XDG_CACHE_HOME/textrec/onnx`` (default ``~/.cache``)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "textrec" / "onnx"


def _file_digest(path: Path, digest: hashlib._Hash) -> None:
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)


def export_key(source: str | Path) -> str:
    """The cache name of ``source`` (a checkpoint file or a pretrained name): SHA-256 of its
    bytes (a name: the name and its weight file's bytes), the torch version, the ONNX opset and
    :data:`EXPORT_VERSION`."""
    digest = hashlib.sha256(f"{torch.__version__}|{ONNX_OPSET}|{EXPORT_VERSION}|".encode())
    if is_named_source(str(source)):
        digest.update(str(source).encode())
        try:
            path = weight_file(pretrained_entry(str(source)))
        except (ValueError, ImportError) as exc:
            raise InputError(f"--checkpoint {source}: {exc}") from exc
    else:
        path = Path(source)
        if not path.is_file():
            raise InputError(f"{source}: checkpoint not found")
    _file_digest(path, digest)
    return digest.hexdigest()[:32]


def cached_onnx(source: str | Path) -> Path:
    """The ONNX export of ``source`` (a checkpoint file or a pretrained name), exported into
    :func:`cache_dir` on first use."""
    path = cache_dir() / f"{export_key(source)}.onnx"
    if path.is_file():
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"{path.parent}: cannot create the ONNX cache ({exc}); set XDG_CACHE_HOME to a "
            "writable folder or give --runtime torch"
        ) from exc
    write_export(load_source(source), source, path, "onnx")
    return path
