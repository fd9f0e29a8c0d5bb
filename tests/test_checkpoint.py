"""Checkpoints load without running code: a pickle payload is refused and never runs."""

from __future__ import annotations

import os
import pickle

import pytest
import torch

from textrec_data.errors import InputError
from textrec_model.checkpoint import load_checkpoint


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
