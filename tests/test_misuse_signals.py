"""Misuse suite, signals (issue #32): SIGTERM or SIGINT sent to a training's whole process group
(what `timeout`, systemd and `docker stop` do; Ctrl-C in a terminal) while DataLoader workers
run ends the run with the same clean "stopped at step N" save as a signal to the process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from processes import running

from textrec_model.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parent.parent


def _children(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_process_group_stops_training_cleanly(world, tmp_path, sig):
    out = tmp_path / "run"
    args = [sys.executable, "-m", "pipelines.cli", "train", "--manifest", str(world.manifest),
            "--out", str(out), "--max-steps", "100000", "--eval-every", "100000", "--batch-size",
            "4", "--workers", "2", "--quiet"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    with running(args, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True) as proc:
        deadline = time.monotonic() + 120
        while len(_children(proc.pid)) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # the workers are past their start-up
        assert proc.poll() is None, proc.communicate()[1]
        os.killpg(proc.pid, sig)
        _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert f"stopped by {sig.name} at step" in stderr and "Traceback" not in stderr, stderr
    assert load_checkpoint(out / "last.pt")["step"] > 0


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_manifest_rebuilt_during_training_stops_the_run(world, tmp_path, workers):
    """A manifest replaced (as --overwrite does: a new file renamed into place) while a run reads
    it is detected by the one reader (ManifestInfo.read_group); the run stops with one line."""
    data = tmp_path / "data"
    data.mkdir()
    manifest = data / "manifest.parquet"
    shutil.copy2(world.manifest, manifest)
    out = tmp_path / "run"
    args = [sys.executable, "-m", "pipelines.cli", "train", "--manifest", str(manifest),
            "--out", str(out), "--max-steps", "100000", "--eval-every", "100000", "--batch-size",
            "4", "--workers", workers, "--quiet"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    with running(args, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True) as proc:
        deadline = time.monotonic() + 120
        while not (out / "config.json").exists() and proc.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        time.sleep(2.0)
        rebuilt = data / ".manifest.parquet.tmp"
        shutil.copy2(world.manifest, rebuilt)
        os.replace(rebuilt, manifest)
        _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "the manifest changed after this run opened it" in lines[0], stderr
