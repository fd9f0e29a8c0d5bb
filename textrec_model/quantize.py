"""``textrec export --format onnx --int8``: an ONNX export with int8 weights and activations,
calibrated on crops of a manifest split (static quantization, ONNX Runtime's
``quantize_static``).

Calibration reads :attr:`Int8Config.crops` rows spread evenly over the split, preprocessed and
batched exactly as the :class:`~textrec_model.predictor.Predictor` batches them at inference
(:meth:`~textrec_model.predictor.Predictor.inputs`): the activation ranges are those of the
inputs the model will see. Calibrate on training crops, never on a test split. The output is a
textrec export like any other (charset, input spec, and the :class:`Int8Config` under
``int8`` in its metadata): ``--onnx FILE`` and ``Recognizer.from_onnx`` run it.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from textrec_data.atomic import atomic_file
from textrec_data.bounds import Bound, check_choice, check_value
from textrec_data.errors import InputError
from textrec_data.manifest import read_manifest_info
from textrec_data.preprocess import InputSpec, decode_crop
from textrec_model.export import METADATA_KEY, claim_export, load_source, write_export
from textrec_model.predictor import Predictor
from textrec_model.scoring import split_rows

#: ``--int8-format``: QDQ (QuantizeLinear/DequantizeLinear pairs around float operators, which
#: ONNX Runtime fuses into int8 kernels) or QOperator (QLinearConv, QLinearMatMul... operators).
INT8_FORMATS = ("qdq", "qoperator")
CALIBRATION_CROPS = Bound(1, 100_000)
#: Where every :class:`~textrec_model.models.RecognitionModel` keeps its convolutional backbone
#: (``self.features``): the ONNX exporter names its nodes under this prefix.
BACKBONE = "/features/"
#: Intermediate outputs the calibrator holds before folding them into its ranges (memory).
_CALIBRATION_BATCHES_HELD = 8


@dataclass(frozen=True)
class Int8Config:
    """How an int8 export is calibrated: ``calibration`` ``MANIFEST[:SPLIT]`` (split ``train``
    when not given), ``crops`` rows of it, and the ``quant_format`` (one of
    :data:`INT8_FORMATS`). Weights are int8 per output channel, activations uint8; what is
    quantized is an :class:`Int8Recipe`'s."""

    calibration: str
    crops: int = 256
    quant_format: str = "qdq"

    def __post_init__(self) -> None:
        check_value("--calibration-crops", self.crops, CALIBRATION_CROPS)
        check_choice("--int8-format", self.quant_format, INT8_FORMATS)

    def manifest_split(self) -> tuple[str, str]:
        """(manifest, split) of ``calibration``; a URL's ``scheme://`` is not a split."""
        head, sep, tail = self.calibration.rpartition(":")
        if sep and tail and "/" not in tail:
            return head, tail
        return self.calibration, "train"


@dataclass(frozen=True)
class Int8Recipe:
    """Which nodes an int8 export quantizes and how activation ranges are set. ``ops``: the
    operator types quantized (empty: every type ONNX Runtime quantizes); ``scope``: only nodes
    whose name starts with it ("" everywhere); ``depthwise``: grouped convolutions too;
    ``moving_average``: an activation's range is the mean of its per-batch minima and maxima
    (else their extremes); ``reduce_range``: 7-bit weights (8-bit weights saturate the int16
    sums of CPUs without VNNI). Ranges are min-max: ONNX Runtime's histogram calibrators
    (percentile, entropy) cannot take batches of different widths. The default is the recipe
    measured best in ``benchmarks/int8_recipe.py``: the backbone's dense convolutions only (the
    sequence neck, with its attention, layer norms and softmax, and the classifier stay
    float32)."""

    ops: tuple[str, ...] = ("Conv",)
    scope: str = BACKBONE
    depthwise: bool = False
    moving_average: bool = False
    reduce_range: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "ops", tuple(self.ops))

    def nodes(self, graph) -> list[str] | None:
        """Names of the nodes of ``graph`` (an ONNX GraphProto) this recipe quantizes (None:
        every node of ``ops``)."""
        if not self.scope and self.depthwise:
            return None
        return [
            node.name
            for node in graph.node
            if node.name.startswith(self.scope) and (self.depthwise or not _grouped(node))
        ]


def _grouped(node) -> bool:
    """True for a Conv node with more than one group (depthwise)."""
    return node.op_type == "Conv" and any(a.name == "group" and a.i > 1 for a in node.attribute)


def calibration_crops(config: Int8Config, channels: int) -> list[np.ndarray]:
    """``config.crops`` decoded crops spread evenly over the calibration split (all of them
    when it has fewer); InputError naming the manifest when the split is empty."""
    manifest, split = config.manifest_split()
    total = read_manifest_info(manifest).split_count(split)
    if total == 0:
        raise InputError(f"--calibration {config.calibration}: no rows in split {split!r}")
    wanted = {k * total // config.crops for k in range(min(config.crops, total))}
    rows = split_rows([manifest], split, keep=lambda row: row.index in wanted)
    crops = [decode_crop(row.crop, channels) for row in rows]
    return [crop for crop in crops if crop is not None]


class CalibrationBatches:
    """ONNX Runtime's CalibrationDataReader over the Predictor's batches of ``crops``."""

    def __init__(self, predictor: Predictor, crops: list[np.ndarray]) -> None:
        self._batches: Iterator = predictor.inputs(crops)

    def get_next(self) -> dict[str, np.ndarray] | None:
        """The next batch as ``{"images": (B, C, H, W)}``; None when all were read."""
        batch = next(self._batches, None)
        return None if batch is None else {"images": batch[1]}


def quantize_onnx(
    fp32: Path, int8: Path, crops: list[np.ndarray], quant_format: str, recipe: Int8Recipe
) -> None:
    """Write ``int8``: the float32 export ``fp32`` quantized as ``recipe`` says, activation
    ranges calibrated on ``crops`` batched as the Predictor batches them."""
    import onnx
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    predictor = Predictor.from_onnx(fp32)
    quantize_static(
        fp32,
        int8,
        CalibrationBatches(predictor, crops),
        quant_format=QuantFormat.QDQ if quant_format == "qdq" else QuantFormat.QOperator,
        op_types_to_quantize=list(recipe.ops) or None,
        nodes_to_quantize=recipe.nodes(onnx.load(str(fp32)).graph),
        per_channel=True,
        reduce_range=recipe.reduce_range,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        extra_options={
            "CalibMaxIntermediateOutputs": _CALIBRATION_BATCHES_HELD,
            "CalibMovingAverage": recipe.moving_average,
        },
    )


def export_int8(
    checkpoint: str | Path, out: str | Path, config: Int8Config, recipe: Int8Recipe = Int8Recipe()
) -> dict:
    """Write ``out`` (atomically): the int8 ONNX export of a checkpoint or pretrained name,
    calibrated as ``config`` says and quantized as ``recipe`` says; returns its metadata."""
    import onnx

    out = Path(out)
    with claim_export(checkpoint, out), tempfile.TemporaryDirectory() as tmp:
        fp32, int8 = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        meta = write_export(load_source(checkpoint), checkpoint, fp32, "onnx")
        spec = InputSpec(**meta["input_spec"])
        crops = calibration_crops(config, spec.channels)
        quantize_onnx(fp32, int8, crops, config.quant_format, recipe)
        read = {"calibration_crops_read": len(crops), "recipe": asdict(recipe)}
        meta = {**meta, "int8": {**asdict(config), **read}}
        proto = onnx.load(str(int8))
        del proto.metadata_props[:]
        entry = proto.metadata_props.add()
        entry.key, entry.value = METADATA_KEY, json.dumps(meta, ensure_ascii=False)
        with atomic_file(out, fsync=True) as tmp_out:
            onnx.save(proto, str(tmp_out))
    return meta
