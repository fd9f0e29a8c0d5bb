"""`textrec merge` (WiSE-FT): weights interpolated between a base and a fine-tuned checkpoint."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner

from pipelines.cli import main
from textrec_model.checkpoint import Checkpoint
from textrec_model.merge import interpolate
from textrec_model.models import build_model


def _merge(*args: str):
    return CliRunner().invoke(main, ["merge", *args])


def test_interpolate_is_linear_in_floats_and_keeps_counters() -> None:
    base = {"w": torch.zeros(3), "n": torch.tensor(1)}
    tuned = {"w": torch.tensor([2.0, 4.0, 8.0]), "n": torch.tensor(7)}
    merged = interpolate(base, tuned, 0.25)
    assert merged["w"].tolist() == [0.5, 1.0, 2.0]
    assert merged["n"].item() == 7


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_merge_writes_the_interpolated_checkpoint(shared_run, tmp_path, alpha: float) -> None:
    base, tuned = shared_run.run / "best.pt", shared_run.run / "last.pt"
    out = tmp_path / "merged.pt"
    result = _merge(
        "--base", str(base), "--tuned", str(tuned), "--alpha", str(alpha), "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    merged = Checkpoint.load(out)
    start, end = Checkpoint.load(base).model, Checkpoint.load(tuned).model
    for key, value in merged.model.items():
        if value.is_floating_point():
            expected = ((1 - alpha) * start[key].float() + alpha * end[key].float()).half()
            assert torch.allclose(value.float(), expected.float(), atol=1e-3), key
    assert merged.init["merge"] == {"base": str(base), "tuned": str(tuned), "alpha": alpha}
    assert merged.resume is None and merged.export_format == "weights"
    evaluated = CliRunner().invoke(
        main, ["eval", "--checkpoint", str(out), "--manifest", str(shared_run.manifest),
               "--split", "val", "--out", str(tmp_path / "eval"), "--quiet"],
    )  # fmt: skip
    assert evaluated.exit_code == 0, evaluated.output


def test_merge_refuses_another_architecture_a_bad_alpha_and_its_input_as_out(
    shared_run, tmp_path
) -> None:
    tuned = shared_run.run / "last.pt"
    other = tmp_path / "other.pt"
    model = build_model("crnn-small", Checkpoint.load(tuned).charset.num_classes)
    state = Checkpoint.load(tuned).to_state() | {"model_args": model.model_args()}
    Checkpoint.from_state(state | {"model": model.state_dict(), "resume": None}).save(other)
    out = str(tmp_path / "m.pt")
    cases = {
        "does not match": ["--base", str(other), "--tuned", str(tuned), "--out", out],
        "--alpha 1.5": ["--base", str(tuned), "--tuned", str(tuned), "--alpha", "1.5",
                        "--out", out],
        "--tuned": ["--base", str(other), "--tuned", str(tuned), "--out", str(tuned)],
    }  # fmt: skip
    for needle, args in cases.items():
        result = _merge(*args)
        assert result.exit_code == 2, (needle, result.output)
        assert needle in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "m.pt").exists()
