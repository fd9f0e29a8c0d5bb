"""``ppocr:v4``: PP-OCRv4's mobile recognizer as a
:class:`~textrec_model.models.svtr_lcnet.SVTRLCNet` (declared as
:data:`~textrec_model.models.svtr_lcnet.PPOCR_V4`), its weights the constants of
``ch_PP-OCRv4_rec_infer.onnx`` in RapidOCR's package and its characters that file's
``character`` metadata.

Install with ``pip install --no-deps rapidocr-onnxruntime==1.4.4`` (``--no-deps``: RapidOCR's
``opencv-python`` would clash with ``opencv-python-headless``). PaddleOCR
(https://github.com/PaddlePaddle/PaddleOCR), its models and RapidOCR are Apache-2.0.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from textrec_data.charset import Charset
from textrec_model.models import PretrainedEntry, RecognitionModel, model_from_args
from textrec_model.pretrained import Pretrained

#: ONNX constants that are weights (the rest are shapes and arithmetic constants).
_ONNX_WEIGHT = re.compile(
    r"(conv2d|batch_norm2d|mobile_one_block|whswish_b|layer_norm|linear)_\d+\.[wb]_\d$"
)


def onnx_weights(graph) -> list[tuple[str, np.ndarray]]:
    """The weights a PaddleOCR-exported ONNX graph's nodes consume, in first-use order
    (PaddleOCR's exporter emits them as ``Constant`` nodes, not initializers): the order of
    :class:`SVTRLCNet`'s state dict, batch-norm counters aside."""
    from onnx import numpy_helper

    constants = {n.output[0]: n.attribute[0].t for n in graph.node if n.op_type == "Constant"}
    weights: dict[str, np.ndarray] = {}
    for node in graph.node:
        for name in node.input:
            if name in constants and name not in weights and _ONNX_WEIGHT.match(name):
                weights[name] = numpy_helper.to_array(constants[name])
    return list(weights.items())


def svtr_state_dict(
    model: RecognitionModel, weights: list[tuple[str, np.ndarray]]
) -> dict[str, Tensor]:
    """:func:`onnx_weights` keyed for an :class:`SVTRLCNet` ``model``; linear weights transposed
    (ONNX multiplies ``x @ W``), the stem's input channels reversed (PaddleOCR reads BGR,
    textrec gives RGB). Raises ValueError when the graph does not fit the model."""
    state = model.state_dict()
    keys = [k for k in state if not k.endswith("num_batches_tracked")]
    if len(keys) != len(weights):
        raise ValueError(f"the ONNX graph has {len(weights)} weights, the model {len(keys)}")
    for key, (name, array) in zip(keys, weights, strict=True):
        value = torch.from_numpy(array.copy()).float()
        if name.startswith("linear_") and name.endswith(".w_0"):
            value = value.T.contiguous()
        if key == "features.0.weight":
            value = value.flip(1).contiguous()
        if value.shape != state[key].shape:
            raise ValueError(f"ONNX weight {name} {tuple(value.shape)} does not fit {key}")
        state[key] = value
    return state


def load_ppocr_v4(entry: PretrainedEntry, path: Path) -> Pretrained:
    """PP-OCRv4's mobile recognizer ``entry`` from the ONNX file at ``path``."""
    import onnx

    proto = onnx.load(str(path))
    meta = {prop.key: prop.value for prop in proto.metadata_props}
    charset = Charset(tuple(meta["character"].split("\n")) + (" ",))  # PaddleOCR adds the space
    model = model_from_args({**entry.model_args(), "num_classes": charset.num_classes})
    model.load_state_dict(svtr_state_dict(model, onnx_weights(proto.graph)))
    return Pretrained(model.eval(), charset)
