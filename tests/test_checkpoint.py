"""Checkpoints load without running code (a pickle payload is refused and never runs), and
older versions are migrated."""

from __future__ import annotations

import os
import pickle

import pytest
import torch

from textrec_data.charset import Charset
from textrec_data.errors import InputError
from textrec_model.checkpoint import (
    Checkpoint,
    ResumeState,
    load_checkpoint,
    restore_training,
    rng_state,
)
from textrec_model.models import build_model
from textrec_model.recognizer import SHIPPED_WEIGHTS


class _Payload:
    """Unpickling this creates the file ``path``: proof that code ran."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.mknod, (self.path,))


def test_a_pickle_payload_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    state = {
        "checkpoint_version": 2,
        "model": {"w": torch.zeros(2)},
        "extra": _Payload(str(marker)),
    }
    torch.save(state, path)
    with pytest.raises(InputError, match="refused.*could run code"):
        load_checkpoint(path)
    assert not marker.exists()
    # the same payload as a bare pickle (not a torch zip file) is refused too
    path.write_bytes(pickle.dumps(_Payload(str(marker))))
    with pytest.raises(InputError):
        load_checkpoint(path)
    assert not marker.exists()


def _tiny_checkpoint() -> Checkpoint:
    charset = Charset(tuple("ab"))
    model = build_model("crnn-small", charset.num_classes)
    optimizer = torch.optim.AdamW(model.parameters())
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    resume = ResumeState(
        optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(), scaler={},
        rng=rng_state(), stream={"batches_consumed": 3, "workers": 0, "world_size": 1},
        manifest_digests=["0" * 64],
    )  # fmt: skip
    return Checkpoint(
        model_args=model.model_args(), model=model.state_dict(), charset=charset,
        config={"max_width": 128}, step=3, model_name="crnn-small", resume=resume,
    )  # fmt: skip


def test_a_version_2_training_checkpoint_is_migrated(tmp_path):
    """Version 2 kept the resume parts at the top level: read, they are the resume state."""
    checkpoint = _tiny_checkpoint()
    state = checkpoint.to_state()
    v2 = {k: v for k, v in state.items() if k != "resume"} | state["resume"]
    torch.save({**v2, "checkpoint_version": 2}, tmp_path / "v2.pt")
    loaded = Checkpoint.load(tmp_path / "v2.pt")
    assert loaded.resume is not None and loaded.resume.stream == checkpoint.resume.stream
    assert loaded.resume.manifest_digests == ["0" * 64]
    assert loaded.max_width() == 128 and loaded.charset == checkpoint.charset
    loaded.save(tmp_path / "v3.pt")  # saved again: this version, the same contents
    again = torch.load(tmp_path / "v3.pt", weights_only=True)
    assert (
        again["checkpoint_version"] == 3
        and again["resume"]["rng"]["python"] == (state["resume"]["rng"]["python"])
    )


def test_a_version_2_inference_file_loads_and_an_inference_only_file_cannot_resume(tmp_path):
    slim = _tiny_checkpoint().inference_only()
    version_2 = {k: v for k, v in slim.to_state().items() if k != "resume"}
    torch.save({**version_2, "checkpoint_version": 2}, tmp_path / "v2.pt")  # as 0.x exported
    migrated = Checkpoint.load(tmp_path / "v2.pt")
    assert migrated.resume is None and migrated.export_format == "weights"
    assert migrated.build_model().num_classes == migrated.charset.num_classes
    shipped = Checkpoint.load(SHIPPED_WEIGHTS)
    assert shipped.resume is None and shipped.export_format == "weights"
    assert slim.resume is None and all(
        v.dtype == torch.float16 for v in slim.model.values() if v.is_floating_point()
    )
    slim.save(tmp_path / "slim.pt")
    with pytest.raises(InputError, match="inference-only"):
        restore_training(tmp_path / "slim.pt", slim.model_args, slim.charset, {})


def test_versions_outside_the_migrations_are_refused_by_name(tmp_path):
    state = _tiny_checkpoint().to_state()
    for version, message in ((1, "too old"), (4, "newer than this textrec")):
        torch.save({**state, "checkpoint_version": version}, tmp_path / "c.pt")
        with pytest.raises(InputError, match=message):
            Checkpoint.load(tmp_path / "c.pt")
