"""Export a checkpoint's model to ONNX or TorchScript, with dynamic batch and width, or as an
inference-only textrec checkpoint (``weights``).

Both formats take ``images`` float32 ``(B, C, H, W)`` in [-1, 1] as the model's input spec says
(see :mod:`textrec_data.preprocess`) and return ``logits`` ``(B, T, num_classes)``. The charset,
input spec and width cap travel inside the file (ONNX metadata / TorchScript extra file
``textrec.json``), so the export alone is enough to preprocess and decode. ``weights`` is a
checkpoint without the optimizer, RNG and stream state, weights in float16: what a trained
model is published as (``--checkpoint`` reads it, ``--init`` starts from it).
"""

from __future__ import annotations

import json
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import torch

from textrec_data.atomic import atomic_file
from textrec_data.charset import Charset
from textrec_data.errors import InputError
from textrec_data.outputs import check_apart, output_lock
from textrec_data.preprocess import MIN_CROP_WIDTH, InputSpec
from textrec_model.checkpoint import CHECKPOINT_VERSION, Checkpoint
from textrec_model.models import RecognitionModel
from textrec_model.pretrained import pretrained_checkpoint
from textrec_model.transfer import is_named_source

EXPORT_FORMATS = ("onnx", "torchscript", "weights")
METADATA_KEY = "textrec"
ONNX_OPSET = 17


def export_metadata(
    checkpoint: Checkpoint, model: RecognitionModel, path: str | Path = "checkpoint"
) -> dict:
    """What a runtime needs besides the graph: charset, input spec and width cap, model."""
    spec = model.input_spec
    return {
        "charset": checkpoint.charset.to_dict(),
        "input_spec": asdict(spec),
        "height": spec.height,
        "max_width": checkpoint.max_width(path),
        "model_name": checkpoint.model_name,
        "model_args": model.model_args(),
        "step": checkpoint.step,
    }


def export_model(checkpoint: str | Path, out: str | Path, fmt: str) -> dict:
    """Write ``out`` (atomically) in ``fmt`` (``onnx`` | ``torchscript`` | ``weights``) from a
    checkpoint or a pretrained name (:data:`~textrec_model.models.PRETRAINED`); returns the
    metadata."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {EXPORT_FORMATS}")
    with claim_export(checkpoint, out):
        return write_export(load_source(checkpoint), checkpoint, Path(out), fmt)


@contextmanager
def claim_export(
    checkpoint: str | Path, out: str | Path, option: str = "--checkpoint", others: tuple = ()
) -> Iterator[None]:
    """Hold ``out`` (one writer at a time) once it is known to be apart from ``checkpoint``
    (given as ``option``) and the ``(option, path)`` pairs of ``others``, and either absent or
    an earlier textrec export (InputError otherwise)."""
    out = Path(out)
    if not out.parent.is_dir():
        raise InputError(f"{out}: directory {out.parent} does not exist")
    inputs = [(option, checkpoint), *others]
    with output_lock(out):
        check_apart(out, [(o, None if is_named_source(str(p)) else p) for o, p in inputs])
        if out.exists() and not is_export(out):
            raise InputError(
                f"{out}: --out exists and is not a textrec export; textrec never replaces "
                "what it did not make: choose another --out"
            )
        yield


def load_source(checkpoint: str | Path) -> Checkpoint:
    """A checkpoint file, or a pretrained name as a checkpoint (InputError naming it)."""
    if not is_named_source(str(checkpoint)):
        return Checkpoint.load(checkpoint)
    name = str(checkpoint)
    try:
        state = pretrained_checkpoint(name)
    except (ValueError, ImportError) as exc:
        raise InputError(f"--checkpoint {name}: {exc}") from exc
    return Checkpoint.from_state({"checkpoint_version": CHECKPOINT_VERSION, **state}, name)


def is_export(path: Path) -> bool:
    """True for a file ``textrec export`` wrote: TorchScript with ``textrec.json`` inside, an
    inference-only checkpoint (read with ``weights_only``), or ONNX with textrec metadata (read as
    protobuf; nothing in it runs)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            if any(name.endswith("extra/textrec.json") for name in archive.namelist()):
                return True
        try:
            return Checkpoint.load(path).export_format == "weights"
        except InputError:
            return False
    try:
        import onnx

        proto = onnx.load(str(path), load_external_data=False)
    except Exception:  # not ONNX (protobuf raises its own errors), or no onnx installed
        return False
    return any(entry.key == METADATA_KEY for entry in proto.metadata_props)


def write_export(loaded: Checkpoint, checkpoint: str | Path, out: Path, fmt: str) -> dict:
    """Write ``loaded`` (read from ``checkpoint``) to ``out`` in ``fmt``, atomically, without
    the checks of :func:`export_model` (a cache writes its own files); returns the metadata."""
    model = loaded.build_model(checkpoint)
    meta = export_metadata(loaded, model, checkpoint)
    if fmt == "weights":
        loaded.inference_only().save(out)
        return meta
    if model.head_kind != "ctc":
        raise InputError(
            f"{checkpoint}: a {model.head_kind} model ({model.arch}) is not exported to {fmt} "
            "(its encoder and decoder step are not); use --format weights"
        )
    spec = model.input_spec
    example = torch.zeros(2, spec.channels, spec.height, spec.fixed_width or 128)
    with atomic_file(out, fsync=True) as tmp:
        if fmt == "onnx":
            _export_onnx(model, example, meta, tmp)
        else:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # TorchScript deprecation notices
                traced = torch.jit.trace(model, example)
                torch.jit.save(traced, str(tmp), _extra_files={"textrec.json": json.dumps(meta)})
    return meta


def _export_onnx(model: RecognitionModel, example: torch.Tensor, meta: dict, path: Path) -> None:
    import onnx  # imported when used: `textrec manifest` never loads it

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


def open_onnx(path: str | Path, threads: int = 0) -> tuple[object, Charset, InputSpec, int]:
    """An ONNX Runtime session of a textrec export, with its charset, input spec and width cap;
    :class:`InputError` names the file when it is missing, unreadable or not a textrec export."""
    import onnxruntime as ort

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
    try:  # JSON, read as data: nothing in it runs
        meta = json.loads(raw)
        spec = InputSpec(**meta.get("input_spec", {"height": meta["height"]}))
        charset, max_width = Charset.from_dict(meta["charset"]), meta["max_width"]
        if not isinstance(max_width, int) or max_width < MIN_CROP_WIDTH:
            raise ValueError(f"max_width {max_width!r}")
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InputError(f"{path}: corrupt textrec metadata in the ONNX model ({exc})") from exc
    _check_graph(path, session, charset, spec)
    return session, charset, spec, max_width


def _check_graph(path: Path, session, charset: Charset, spec: InputSpec) -> None:
    """Refuse an ONNX graph that is not the one its textrec metadata describes: one input
    ``images`` (B, channels, height, W) and an output ``logits`` (B, T, classes) (dimensions
    left symbolic by the exporter are not compared)."""
    inputs = {i.name: i.shape for i in session.get_inputs()}
    outputs = {o.name: o.shape for o in session.get_outputs()}
    expected_in = [None, spec.channels, spec.height, None]
    expected_out = [None, None, charset.num_classes]
    found_in, found_out = inputs.get("images"), outputs.get("logits")
    if not (_fits(found_in, expected_in) and _fits(found_out, expected_out)):
        raise InputError(
            f"{path}: the ONNX graph does not match its textrec metadata (inputs {inputs}, "
            f"outputs {outputs}; expected images (B, {spec.channels}, {spec.height}, W) and "
            f"logits (B, T, {charset.num_classes}))"
        )


def _fits(shape: list | None, expected: list) -> bool:
    if shape is None or len(shape) != len(expected):
        return False
    pairs = zip(shape, expected, strict=True)
    return all(e is None or not isinstance(d, int) or d == e for d, e in pairs)
