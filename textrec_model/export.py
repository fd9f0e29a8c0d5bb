"""Export a checkpoint's model to ONNX or TorchScript, with dynamic batch and width.

Both formats take ``images`` float32 ``(B, 1, 32, W)`` in [-1, 1] (see
:func:`textrec_data.stream.scale_crop`) and return ``logits`` ``(B, W // 4, num_classes)``.
The charset and input size travel inside the file (ONNX metadata / TorchScript extra file
``textrec.json``), so the export alone is enough to decode.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch

from textrec_data.charset import Charset
from textrec_data.errors import InputError
from textrec_data.atomic import atomic_file
from textrec_data.stream import StreamConfig
from textrec_model.checkpoint import load_checkpoint, model_from_state
from textrec_model.crnn import CRNN

EXPORT_FORMATS = ("onnx", "torchscript")
METADATA_KEY = "textrec"
ONNX_OPSET = 17


def export_metadata(state: dict) -> dict:
    """What a runtime needs besides the graph: charset, input height and width cap, model."""
    return {
        "charset": state["charset"],
        "height": state["config"]["height"],
        "max_width": state["config"]["max_width"],
        "model_name": state["model_name"],
        "step": state["step"],
    }


def export_model(checkpoint: str | Path, out: str | Path, fmt: str) -> dict:
    """Write ``out`` (atomically) in ``fmt`` (``onnx`` | ``torchscript``); returns the metadata."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {EXPORT_FORMATS}")
    state = load_checkpoint(checkpoint)
    model = model_from_state(state)
    meta = export_metadata(state)
    example = torch.zeros(2, 1, meta["height"], 128)
    out = Path(out)
    if not out.parent.is_dir():
        raise InputError(f"{out}: directory {out.parent} does not exist")
    with atomic_file(out, fsync=True) as tmp:
        if fmt == "onnx":
            _export_onnx(model, example, meta, tmp)
        else:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # TorchScript deprecation notices
                traced = torch.jit.trace(model, example)
                torch.jit.save(traced, str(tmp), _extra_files={"textrec.json": json.dumps(meta)})
    return meta


def _export_onnx(model: CRNN, example: torch.Tensor, meta: dict, path: Path) -> None:
    try:
        import onnx
    except ImportError as exc:
        raise InputError("--format onnx needs onnx: pip install 'textrec[onnx]'") from exc
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (example,),
            str(path),
            input_names=["images"],
            output_names=["logits"],
            dynamic_axes={"images": {0: "batch", 3: "width"}, "logits": {0: "batch", 1: "steps"}},
            opset_version=ONNX_OPSET,
            dynamo=False,
        )
    proto = onnx.load(str(path))
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(meta, ensure_ascii=False)
    onnx.save(proto, str(path))


def open_onnx(path: str | Path, threads: int = 0) -> tuple[object, Charset, StreamConfig]:
    """An ONNX Runtime session of a textrec export, with its charset and preprocessing;
    :class:`InputError` names the file when it is missing, unreadable or not a textrec export."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise InputError("ONNX models need onnxruntime: pip install 'textrec[onnx]'") from exc
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: ONNX model not found")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise InputError(f"{path}: not a readable ONNX model ({str(exc).splitlines()[0]})") from exc
    raw = session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
    if raw is None:
        raise InputError(f"{path}: ONNX model without textrec metadata (not a textrec export)")
    meta = json.loads(raw)
    stream = StreamConfig(height=meta["height"], max_width=meta["max_width"], shuffle=False)
    return session, Charset.from_dict(meta["charset"]), stream
