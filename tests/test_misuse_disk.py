"""Misuse suite, full disks (issue #32): a write that runs out of room fails with one line
naming the path, and earlier files stay whole. A real full filesystem: a 64 KiB tmpfs (needs
the right to mount, as root in a container; skipped elsewhere)."""

from __future__ import annotations

import subprocess

import pytest
from misuse import cli, refused


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                          capture_output=True, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_a_checkpoint_save_on_a_full_disk_is_one_line(world, small_disk):
    out = small_disk / "run"
    args = ["train", "--manifest", world.manifest, "--out", out, "--max-steps", "1",
            "--workers", "0", "--quiet"]  # fmt: skip
    refused(cli(*args), str(out), "cannot write", "disk full")
    assert not [p for p in out.iterdir() if p.name.endswith(".pt") or ".tmp-" in p.name]


def test_an_lmdb_export_on_a_full_disk_is_one_line(world, small_disk):
    out = small_disk / "lmdb"
    refused(cli("convert", world.manifest, "--to", "lmdb", "--out", out), str(out), "disk full")
    assert list(small_disk.iterdir()) == []


def test_an_export_on_a_full_disk_keeps_the_earlier_file(world, small_disk):
    earlier = small_disk / "m.onnx"
    earlier.write_bytes(b"x" * 1024)  # stands for an earlier export: it must stay as it is
    refused(cli("export", "--checkpoint", world.checkpoint, "--out", small_disk / "n.onnx"),
            "n.onnx", "disk full")  # fmt: skip
    assert earlier.read_bytes() == b"x" * 1024
    assert sorted(p.name for p in small_disk.iterdir()) == ["m.onnx"]
