"""The multi-node training recipe on one machine: torchrun with a c10d rendezvous, two processes
streaming their shards of one manifest directory (docs/DESIGN.md, "Multi-node training")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ports import free_port
from sharded_data import write_dataset

from textrec_data.build import ManifestConfig, build_manifest
from textrec_model.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.parametrize("model", [[], ["--model", "ppocr-seq2seq"]], ids=["ctc", "seq2seq"])
def test_torchrun_c10d_two_processes_train_on_a_manifest_directory(tmp_path, scenes, model):
    """Both head kinds train under DDP the same way (the seq2seq loss is one DDP forward)."""
    images, gt = write_dataset(tmp_path, scenes)
    config = ManifestConfig(str(images), str(gt), str(tmp_path / "m"), workers=1, rows_per_part=12)
    report = build_manifest(config, progress=False)
    assert report["parts"] >= 4
    port = free_port()
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node", "2",
        "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{port}", "--rdzv-id", "textrec",
        "-m", "pipelines.cli", "train", "--manifest", str(tmp_path / "m" / "manifest"),
        "--out", str(tmp_path / "run"), "--max-steps", "4", "--eval-every", "2",
        "--batch-size", "8", "--workers", "0", "--device", "cpu", "--quiet", *model,
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("final: word accuracy") == 1  # only rank 0 reports
    assert load_checkpoint(tmp_path / "run" / "last.pt")["step"] == 4
    vals = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    val_rows = report["counts"]["splits"]["val"]
    assert [r["n"] for r in vals if r["kind"] == "val"] == [val_rows, val_rows]  # both ranks
