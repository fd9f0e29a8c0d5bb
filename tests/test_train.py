"""Training stage: loss goes down, resume is exact, checkpoints round-trip, DDP, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from click.testing import CliRunner
from manifest_factory import write_manifest
from ports import free_port
from train_faults import crash_at_second_validation

from pipelines.train import command as train_command
from textrec_data.stream import ManifestStream, StreamConfig
from textrec_model.checkpoint import load_checkpoint
from textrec_model.models import model_from_args
from textrec_model.train import TrainConfig, train

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    return write_manifest(tmp_path_factory.mktemp("m") / "manifest.parquet", 60)


def _config(manifest: Path, out: Path, **kw) -> TrainConfig:
    """A short run of the ``tiny`` model (what these tests check holds for any model)."""
    base = TrainConfig(
        manifests=(str(manifest),), out=str(out), model="tiny", max_steps=6, eval_every=3,
        batch_size=8, workers=0, warmup_steps=2, log_every=1, pool_size=32,
    )  # fmt: skip
    return replace(base, **kw)


def test_training_writes_outputs_and_lowers_loss(manifest, tmp_path):
    metrics = train(_config(manifest, tmp_path, max_steps=30, eval_every=15, lr=3e-3), False)
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    losses = [r["train_loss"] for r in records if r["kind"] == "train"]
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5
    assert {r["step"] for r in records if r["kind"] == "val"} == {15, 30}
    for name in ("last.pt", "best.pt", "curves.png", "config.json"):
        assert (tmp_path / name).is_file()
    assert metrics["n"] == 12 and 0.0 <= metrics["word_accuracy"] <= 1.0
    assert all(k in records[-1] for k in ("word_accuracy_ci", "cer", "val_loss", "epoch"))


def test_resume_gives_the_same_weights_as_a_straight_run(manifest, tmp_path, monkeypatch):
    straight, cut = tmp_path / "straight", tmp_path / "cut"
    train(_config(manifest, straight), False)
    with monkeypatch.context() as patch:
        crash_at_second_validation(patch)
        with pytest.raises(RuntimeError, match="simulated crash"):
            train(_config(manifest, cut), False)
    assert load_checkpoint(cut / "last.pt")["step"] == 3
    train(_config(manifest, cut, resume=True), False)
    a, b = load_checkpoint(straight / "last.pt"), load_checkpoint(cut / "last.pt")
    assert a["step"] == b["step"] == 6
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key
    moments = [c["resume"]["optimizer"]["state"][0]["exp_avg"] for c in (a, b)]
    assert torch.equal(*moments)
    steps = [json.loads(x)["step"] for x in (cut / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(steps) and steps.count(6) == 2  # one train + one val record, no repeats


def test_checkpoint_round_trip(manifest, tmp_path):
    train(_config(manifest, tmp_path, max_steps=3, model=None), False)  # the default model
    state = load_checkpoint(tmp_path / "best.pt")
    assert state["model_name"] == "crnn-small" and state["step"] == 3
    model = model_from_args(state["model_args"])
    model.load_state_dict(state["model"])
    model.eval()
    x = torch.randn(2, 1, 32, 64)
    again = model_from_args(state["model_args"])
    again.load_state_dict(load_checkpoint(tmp_path / "best.pt")["model"])
    again.eval()
    assert torch.equal(model(x), again(x))
    assert set(state["resume"]) >= {"optimizer", "scheduler", "scaler", "rng", "stream"}
    assert state["manifests"] and state["checkpoint_version"] == 3


def test_over_long_labels_are_skipped_not_nan(tmp_path):
    labels = ["ab", "ba", "a" * 70, "abc"] * 4  # 'a'*70 needs 139 steps: more than 256 px give
    path = write_manifest(tmp_path / "m.parquet", len(labels), labels=labels, val_every=3)
    metrics = train(_config(path, tmp_path / "out", max_steps=4, eval_every=4), False)
    assert metrics["skipped"].get("infeasible", 0) >= 1
    records = [json.loads(x) for x in (tmp_path / "out" / "metrics.jsonl").read_text().splitlines()]
    assert all(torch.isfinite(torch.tensor(r["train_loss"])) for r in records if "train_loss" in r)


def test_bad_inputs_give_one_line_errors(manifest, tmp_path):
    runner = CliRunner()
    cases = [
        ["--manifest", str(tmp_path / "missing.parquet")],
        ["--manifest", str(ROOT / "pyproject.toml")],
    ]
    for args in cases:
        result = runner.invoke(train_command, [*args, "--out", str(tmp_path / "o")])
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error: ") and result.output.count("\n") == 1
        assert "Traceback" not in result.output
    # resuming with a checkpoint of another charset
    other = write_manifest(tmp_path / "other.parquet", 20, chars="abcdefghijXYZ")
    train(_config(other, tmp_path / "ckpt", max_steps=1, eval_every=1), False)
    result = runner.invoke(
        train_command,
        [
            "--manifest",
            str(manifest),
            "--out",
            str(tmp_path / "ckpt"),
            "--resume",
            "--workers",
            "0",
        ],
    )
    assert result.exit_code == 2 and "charset differs" in result.output


def _ddp_worker(rank: int, world: int, manifest: str, init: str, out: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    stream = ManifestStream(
        [manifest],
        "train",
        StreamConfig(batch_size=4, pool_size=8),
        rank=dist.get_rank(),
        world_size=dist.get_world_size(),
        epochs=1,
    )
    rows = sorted(r[0] for plan in stream._epoch_plans(0, rank, world) for r in plan)
    gathered: list = [None] * world
    dist.all_gather_object(gathered, rows)
    if rank == 0:
        Path(out).write_text(json.dumps(gathered))
    dist.destroy_process_group()


def test_ddp_gloo_ranks_see_disjoint_rows_covering_the_split(manifest, tmp_path):
    out = tmp_path / "rows.json"
    init = f"file://{tmp_path / 'rendezvous'}"
    args = (2, str(manifest), init, str(out))  # forked: no interpreter start-up per rank
    mp.start_processes(_ddp_worker, args=args, nprocs=2, join=True, start_method="fork")
    rank0, rank1 = json.loads(out.read_text())
    assert rank0 and rank1 and not set(rank0) & set(rank1)
    import pandas as pd

    table = pd.read_parquet(manifest, columns=["split"])
    assert sorted(rank0 + rank1) == [i for i, s in enumerate(table["split"]) if s == "train"]


def test_torchrun_two_gloo_processes_train(manifest, tmp_path):
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
        "--master_port", str(free_port()), "-m", "pipelines.cli", "train",
        "--manifest", str(manifest), "--out", str(tmp_path), "--max-steps", "4",
        "--eval-every", "2", "--batch-size", "8", "--workers", "0", "--device", "cpu",
        "--model", "tiny", "--quiet",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("final: word accuracy") == 1  # only rank 0 reports
    state = load_checkpoint(tmp_path / "last.pt")
    assert state["step"] == 4
    vals = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["n"] for r in vals if r["kind"] == "val"] == [12, 12]  # both ranks' val rows


def test_a_repeated_manifest_weights_training_but_is_validated_once(manifest, tmp_path):
    config = _config(manifest, tmp_path, max_steps=2, eval_every=2)
    metrics = train(replace(config, manifests=(str(manifest),) * 3), False)
    assert metrics["n"] == 12  # the val split once, not three times
    stream = ManifestStream([manifest] * 3, "train", StreamConfig(batch_size=8), epochs=1)
    assert sum(len(b.labels) for b in stream) == 3 * 48  # every train row three times
