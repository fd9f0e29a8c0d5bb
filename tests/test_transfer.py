"""Fine-tuning: --init copies weights and maps output rows by character; --freeze holds the
backbone still."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from manifest_factory import write_manifest

from pipelines.train import command as train_command
from textrec_data.charset import Charset
from textrec_model.checkpoint import load_checkpoint
from textrec_model.train import TrainConfig, train
from textrec_model.transfer import init_model, map_rows, parse_freeze


def _config(manifest: Path, out: Path, **kw) -> TrainConfig:
    base = TrainConfig(
        manifests=(str(manifest),), out=str(out), max_steps=4, eval_every=4, batch_size=8,
        workers=0, warmup_steps=1, log_every=1, pool_size=32,
    )  # fmt: skip
    return replace(base, **kw)


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A 4-step checkpoint of the tiny model on charset a-j."""
    root = tmp_path_factory.mktemp("src")
    manifest = write_manifest(root / "m.parquet", 40)
    train(_config(manifest, root / "run", model="tiny"), False)
    return root / "run" / "last.pt"


def test_map_rows_keeps_blank_and_shared_characters():
    rows = map_rows(Charset(tuple("abc")), Charset(tuple("cxa")))
    assert rows == {0: 0, 1: 3, 3: 1}  # blank; 'c' (target 1) <- source 3; 'a' <- source 1


def test_init_from_a_checkpoint_of_another_charset(source, tmp_path):
    state = load_checkpoint(source)
    charset = Charset(tuple("abcxyz"))  # a-c shared, x-z new, d-j dropped
    model, report = init_model(str(source), charset)
    assert (report.mapped, report.new, len(report.dropped)) == (3, ("x", "y", "z"), 7)
    own = model.state_dict()
    weight, old = own["classifier.weight"], state["model"]["classifier.weight"]
    assert weight.shape[0] == 7
    assert torch.equal(weight[:4], old[:4])  # blank, a, b, c
    assert not torch.equal(weight[4], old[4])  # x is fresh, not d
    for key, value in state["model"].items():
        if not key.startswith("classifier"):
            assert torch.equal(own[key], value), key


def test_train_init_and_freeze_through_the_cli(source, tmp_path):
    manifest = write_manifest(tmp_path / "m.parquet", 40, seed=3)
    out = tmp_path / "ft"
    args = ["--manifest", str(manifest), "--out", str(out), "--init", str(source)]
    args += ["--freeze", "backbone", "--max-steps", "3", "--eval-every", "3", "--quiet"]
    result = CliRunner().invoke(train_command, [*args, "--workers", "0", "--batch-size", "8"])
    assert result.exit_code == 0, result.output
    assert "10 characters mapped, 0 new" in result.output
    before, after = load_checkpoint(source)["model"], load_checkpoint(out / "last.pt")["model"]
    backbone = [k for k in before if k.startswith("features")]
    assert backbone and all(torch.equal(before[k], after[k]) for k in backbone)
    assert not torch.equal(before["classifier.weight"], after["classifier.weight"])
    state = load_checkpoint(out / "last.pt")
    assert (
        state["init"]["mapped"] == 10
        and state["model_args"] == load_checkpoint(source)["model_args"]
    )


def test_freeze_for_some_steps_then_train(source, tmp_path):
    manifest = write_manifest(tmp_path / "m.parquet", 40, seed=4)
    config = _config(manifest, tmp_path / "ft", init=str(source), freeze="backbone:2")
    train(config, False)
    before, after = load_checkpoint(source)["model"], load_checkpoint(tmp_path / "ft/last.pt")
    conv = "features.0.weight"
    assert not torch.equal(before[conv], after["model"][conv])  # trained after step 2


def test_bad_init_and_freeze_are_one_line_errors(source, tmp_path):
    manifest = write_manifest(tmp_path / "m.parquet", 20)
    runner = CliRunner()
    base = ["--manifest", str(manifest), "--out", str(tmp_path / "o"), "--quiet"]
    for extra, needle in (
        (["--init", str(source), "--model", "crnn"], "give one"),
        (["--init", "nosuch:model"], "unknown pretrained"),
        (["--init", str(tmp_path / "missing.pt")], "not found"),
        (["--freeze", "head"], "--freeze"),
    ):
        result = runner.invoke(train_command, [*base, *extra])
        assert result.exit_code == 2, (extra, result.output)
        assert needle in result.output and len(result.output.strip().splitlines()) == 1
    assert parse_freeze("backbone:5") == ("backbone", 5) and parse_freeze(None) == (None, 0)
