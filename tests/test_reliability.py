"""Reliability: fuzzed GT, killed runs, numerical faults, odd paths (docs/RELIABILITY.md)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from manifest_factory import word_crop
from processes import running
from shared_run import RUN_OPTIONS

from pipelines.eval import command as eval_command
from pipelines.manifest import command as manifest_command
from pipelines.train import command as train_command
from textrec_data.build import ManifestConfig, build_manifest
from textrec_data.errors import InputError
from textrec_data.manifest import MANIFEST_SCHEMA, TableWriter, read_manifest_info
from textrec_data.records import REJECT_REASONS
from textrec_data.sources.icdar15 import GTReject, GTWord, parse_gt_bytes
from textrec_data.stream import ManifestStream, StreamConfig
from textrec_data.synth import SynthConfig, write_synth_dataset
from textrec_model.checkpoint import load_checkpoint
from textrec_model.train import TrainConfig, train

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "pipelines.cli"]

# ---------------------------------------------------------------- GT fuzzing (hypothesis)

_number = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "-inf", "1e309", "", " ", "0x10", "1,5", "--3", "½"]),
)
_text = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=12)
_line = st.one_of(
    st.tuples(st.lists(_number, min_size=0, max_size=10), _text).map(
        lambda t: ",".join([*t[0], t[1]])
    ),
    st.just("###"),
    _text,
)
_ending = st.sampled_from(["\n", "\r\n", "\r"])


def _check_results(results: list, lines: int) -> None:
    """One result per line, numbered 1..lines, each a word or a reject with a known reason."""
    assert [r.line_no for r in results] == list(range(1, lines + 1))
    for r in results:
        assert isinstance(r, GTWord | GTReject)
        if isinstance(r, GTReject):
            assert r.reason in REJECT_REASONS
        else:
            assert len(r.quad) == 8 and all(np.isfinite(r.quad)) and r.text.strip()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_gt_parser_survives_random_bytes(data: bytes) -> None:
    results = parse_gt_bytes(data)
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if b"\x00" not in body and not body.startswith((b"\xff\xfe", b"\xfe\xff")):
        _check_results(results, len(body.splitlines()))
    for r in results:
        if isinstance(r, GTWord):  # a word came from valid UTF-8: nothing dropped or replaced
            assert "\ufffd" not in r.text or "\ufffd".encode() in data


@settings(max_examples=200, deadline=None)
@given(
    st.lists(_line, max_size=8),
    _ending,
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1"]),
    st.booleans(),
)
def test_gt_parser_keeps_the_line_identity_in_any_encoding(lines, ending, codec, final):
    text = ending.join(lines) + (ending if final and lines else "")
    try:
        data = text.encode(codec)
    except UnicodeEncodeError:  # latin-1 cannot hold every character: that input cannot exist
        return
    results = parse_gt_bytes(data)
    # GT line endings are LF, CRLF and CR only (not str.splitlines' \x1e, \x85, \u2028, ...)
    expected = len(text.encode("utf-8").splitlines()) if "\x00" not in text else len(results)
    _check_results(results, expected)
    if codec.startswith("utf-16"):  # every line (there may be none: a lone BOM) is rejected
        assert all(isinstance(r, GTReject) and r.reason == "encoding" for r in results)
    words = [r for r in results if isinstance(r, GTWord)]
    if codec in ("utf-8", "utf-8-sig"):  # text read back exactly (NFC), nothing dropped
        for w in words:
            assert w.text in unicodedata.normalize("NFC", text)


def test_latin1_lines_are_rejected_with_encoding_not_mangled():
    data = "10,10,50,10,50,30,10,30,Caf\u00e9\n10,10,50,10,50,30,10,30,OK\n".encode("latin-1")
    results = parse_gt_bytes(data)
    assert [type(r).__name__ for r in results] == ["GTReject", "GTWord"]
    assert results[0].reason == "encoding" and results[1].text == "OK"


# ---------------------------------------------------------------- interrupted manifest build


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    write_synth_dataset(out, SynthConfig(images=40, seed=3), progress=False)
    return out


def _wait_for(predicate, timeout: float = 60.0) -> None:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError("timed out waiting for the subprocess")
        time.sleep(0.01)


@pytest.mark.parametrize("delay", [0.0, 0.3, 0.8])
def test_killed_manifest_build_leaves_the_previous_output_whole(synth_dir, tmp_path, delay):
    out = tmp_path / "m"
    images, gt = str(synth_dir / "images"), str(synth_dir / "gt")
    first = build_manifest(ManifestConfig(images, gt, str(out), workers=1), progress=False)
    before = pd.read_parquet(out / "manifest.parquet")
    args = [*CLI, "manifest", "--images", images, "--gt", gt, "--out", str(out)]
    args += ["--overwrite", "--workers", "1", "--quiet", "--split", "test"]
    with running(args, cwd=ROOT) as proc:
        tmp = tmp_path / f".m.tmp-{proc.pid}"
        _wait_for(lambda: (tmp / "manifest.parquet").exists() or proc.poll() is not None)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    if (out / "manifest.parquet").exists():  # the old output, or the new one if it finished
        after = pd.read_parquet(out / "manifest.parquet")
        assert len(after) == first["kept"]
        assert set(after["split"]) in ({"train", "val"}, {"test"})
        if set(after["split"]) != {"test"}:
            pd.testing.assert_frame_equal(after, before)
    else:  # killed between the two renames of the swap: the old output is kept aside
        assert list(tmp_path.glob(".m.old-*"))
    partial = tmp / "manifest.parquet"
    if partial.exists():  # a half-written file is never mistaken for a manifest
        with pytest.raises(InputError):
            read_manifest_info(partial)
    # the next run cleans up after the killed one and succeeds
    build_manifest(ManifestConfig(images, gt, str(out), workers=1, overwrite=True), False)
    assert not tmp.exists() and len(pd.read_parquet(out / "manifest.parquet")) == first["kept"]


# ---------------------------------------------------------------- interrupted training


#: The shared run's options (tests/shared_run.py): a run of them is stopped between checkpoints
#: and resumed, and must end with the shared run's weights.
TRAIN_ARGS = [*RUN_OPTIONS, "--quiet"]


def _assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)


def _run_train(manifest: Path, out: Path, *extra: str):
    """The training as a :func:`processes.running` context."""
    env = {**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())}
    args = [*CLI, "train", "--manifest", str(manifest), "--out", str(out), *TRAIN_ARGS, *extra]
    return running(args, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)


def _resume(manifest: Path, out: Path):
    """The stopped run resumed (in this process: what is under test is the process that was
    stopped, and what it left on disk)."""
    args = ["--manifest", str(manifest), "--out", str(out), *TRAIN_ARGS, "--resume"]
    return CliRunner().invoke(train_command, args)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_training_resumes_to_the_same_weights(shared_run, tmp_path, sig):
    expected = load_checkpoint(shared_run.checkpoint)["model"]  # the same run, never stopped
    out = tmp_path / "run"
    with _run_train(shared_run.manifest, out) as proc:
        _wait_for(lambda: (out / "last.pt").exists() or proc.poll() is not None)
        proc.send_signal(sig)
        _, stderr = proc.communicate()
    if proc.returncode == 0:
        pytest.skip("training finished before the signal arrived")
    if sig == signal.SIGTERM:  # finishes the step, writes last.pt, says so, exits 130
        assert proc.returncode == 130 and "stopped by SIGTERM" in stderr, stderr
    step = load_checkpoint(out / "last.pt")["step"]  # whole and readable
    assert 0 < step < 20
    resumed = _resume(shared_run.manifest, out)
    assert resumed.exit_code == 0, resumed.output
    final = load_checkpoint(out / "last.pt")
    assert final["step"] == 20
    _assert_same_weights(final["model"], expected)
    records = pd.read_json(out / "metrics.jsonl", lines=True)
    for _, steps in records.groupby("kind")["step"]:  # nothing lost, nothing logged twice
        assert list(steps) == sorted(set(steps))
    assert {5, 10, 15, 20} <= set(records.loc[records["kind"] == "val", "step"])


KILL_DURING_SAVE = """
import sys, time, torch
real_save = torch.save
seen = []
def save(obj, f, *args, **kwargs):
    name = getattr(f, "name", "")
    if ".last.pt.tmp-" in str(name):
        seen.append(name)
        if len(seen) == 2:  # the second write of last.pt: write half of it, then hang
            import io
            buffer = io.BytesIO()
            real_save(obj, buffer, *args, **kwargs)
            f.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
            f.flush()
            open(sys.argv[1], "w").close()
            time.sleep(600)
    return real_save(obj, f, *args, **kwargs)
torch.save = save
from pipelines.cli import main
main(sys.argv[2:])
"""


def test_kill_during_checkpoint_save_keeps_the_previous_checkpoint(shared_run, tmp_path):
    out, marker = tmp_path / "run", tmp_path / "saving"
    args = ["train", "--manifest", str(shared_run.manifest), "--out", str(out), *TRAIN_ARGS]
    with running([sys.executable, "-c", KILL_DURING_SAVE, str(marker), *args], cwd=ROOT) as proc:
        _wait_for(lambda: marker.exists() or proc.poll() is not None)
        assert proc.poll() is None, "the save did not hang where expected"
        proc.kill()
        proc.wait()
    assert list(out.glob(".last.pt.tmp-*"))  # the half-written file exists, under a temp name
    assert load_checkpoint(out / "last.pt")["step"] == 5  # the previous save, intact
    resumed = _resume(shared_run.manifest, out)
    assert resumed.exit_code == 0, resumed.output
    assert load_checkpoint(out / "last.pt")["step"] == 20
    assert not list(out.glob(".*.tmp-*"))  # the leftover is cleaned up


def test_corrupt_or_foreign_checkpoints_give_one_line_errors(shared_run, tmp_path):
    run = shutil.copytree(shared_run.run, tmp_path / "run")
    manifest = shared_run.manifest
    good = (run / "last.pt").read_bytes()
    state = torch.load(run / "last.pt", weights_only=False)
    bad = {"truncated": tmp_path / "truncated.pt", "foreign": tmp_path / "foreign.pt",
           "newer": tmp_path / "newer.pt", "not_torch": tmp_path / "notes.pt"}  # fmt: skip
    bad["truncated"].write_bytes(good[: len(good) // 2])
    torch.save({"weights": torch.zeros(3)}, bad["foreign"])
    torch.save({**state, "checkpoint_version": 99}, bad["newer"])
    bad["not_torch"].write_text("hello")
    runner = CliRunner()
    for kind, path in bad.items():
        args = ["--checkpoint", str(path), "--manifest", str(manifest), "--split", "val"]
        result = runner.invoke(eval_command, [*args, "--out", str(tmp_path / "e"), "--quiet"])
        assert result.exit_code == 2, (kind, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {path}"), (kind, result.output)
    # resuming from a truncated last.pt: an error, and the file is left as it is
    (run / "last.pt").write_bytes(good[:1000])
    result = runner.invoke(
        train_command, ["--manifest", str(manifest), "--out", str(run), "--resume"]
    )
    assert result.exit_code == 2 and "truncated or corrupt" in result.output
    assert (run / "last.pt").read_bytes() == good[:1000]


# ---------------------------------------------------------------- numerical faults


def _fault_manifest(path: Path) -> Path:
    """Good words plus an empty label, an all-black crop, a 1-pixel crop, a 2x900 and a 900x2
    crop, and a label too long for any allowed width."""
    rng = np.random.default_rng(0)
    crops = [(w, word_crop(w, rng)) for w in ["abc", "de", "fgh", "ij", "bad", "aje"] * 4]
    crops += [
        ("", word_crop("abc", rng)),
        ("abc", np.zeros((20, 36, 3), np.uint8)),
        ("a", np.full((1, 1, 3), 128, np.uint8)),
        ("abcd", np.full((2, 900, 3), 200, np.uint8)),
        ("abcdef", np.full((900, 2, 3), 200, np.uint8)),
        ("abcdefghij" * 8, word_crop("abc", rng)),
    ]
    writer = TableWriter(path, MANIFEST_SCHEMA, 8)
    rows = []
    for i, (label, crop) in enumerate(crops):
        rows.append({
            "image_id": f"img_{i}", "image_path": "/x.jpg", "gt_path": "/gt_x.txt",
            "line_no": 1, "quad": [0, 0, 1, 0, 1, 1, 0, 1], "text": label, "label": label,
            "split": "train", "crop": cv2.imencode(".png", crop)[1].tobytes(),
            "crop_h": crop.shape[0], "crop_w": crop.shape[1],
        })  # fmt: skip
    for row in rows[:6]:
        rows.append({**row, "split": "val"})
    writer.write(rows)
    counts = {"splits": {"train": len(crops), "val": 6}, "kept": len(rows)}
    writer.close({"format_version": 1, "charset": list("abcdefghij"), "case": "keep",
                  "counts": counts})  # fmt: skip
    return path


def test_numerical_faults_are_counted_never_nan(tmp_path):
    manifest = _fault_manifest(tmp_path / "faults.parquet")
    stream = ManifestStream(
        [manifest], "train", StreamConfig(batch_size=64, shuffle=False), epochs=1
    )
    (batch,) = list(stream)
    assert batch.skipped == {"empty_label": 1, "infeasible": 1}
    assert torch.isfinite(batch.images).all() and len(batch.labels) == 24 + 4
    config = TrainConfig(
        manifests=(str(manifest),), out=str(tmp_path / "run"), max_steps=12, eval_every=6,
        batch_size=64, workers=0, log_every=1, lr=3e-3, model="tiny",
    )  # fmt: skip
    metrics = train(config, progress=False)
    records = pd.read_json(tmp_path / "run" / "metrics.jsonl", lines=True)
    losses = records.loc[records["kind"] == "train", "train_loss"]
    assert len(losses) == 12 and np.isfinite(losses).all()
    assert metrics["skipped"] == {"empty_label": 12, "infeasible": 12}


# ---------------------------------------------------------------- disk and paths


def test_unwritable_outputs_give_one_line_errors(synth_dir, shared_run, tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("not a directory")
    runner = CliRunner()
    images, gt = str(synth_dir / "images"), str(synth_dir / "gt")
    manifest = shared_run.manifest
    cases = [
        (manifest_command, ["--images", images, "--gt", gt, "--out", str(blocker / "m")]),
        (train_command, ["--manifest", str(manifest), "--out", str(blocker / "t"),
                         "--max-steps", "1"]),
        (eval_command, ["--checkpoint", str(shared_run.checkpoint), "--manifest",
                        str(manifest), "--split", "val", "--out", str(blocker / "e")]),
    ]  # fmt: skip
    for command, args in cases:
        result = runner.invoke(command, [*args, "--quiet"])
        assert result.exit_code == 2, (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "a file" in lines[0]


def test_spaces_unicode_symlinks_and_relative_paths(synth_dir, tmp_path, monkeypatch):
    odd = tmp_path / "données d'été" / "scènes 1"
    odd.mkdir(parents=True)
    (odd / "images").symlink_to(synth_dir / "images", target_is_directory=True)
    gt = odd / "gt"
    gt.mkdir()
    for f in (synth_dir / "gt").iterdir():  # GT files as symlinks, one by one
        (gt / f.name).symlink_to(f)
    monkeypatch.chdir(odd)
    result = CliRunner().invoke(
        manifest_command, ["--images", "images", "--gt", "gt", "--out", "out m", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    direct = build_manifest(
        ManifestConfig(str(synth_dir / "images"), str(synth_dir / "gt"), str(tmp_path / "d")),
        progress=False,
    )
    monkeypatch.chdir(tmp_path)  # read the manifest from another working directory
    table = pd.read_parquet(odd / "out m" / "manifest.parquet")
    assert len(table) == direct["kept"]
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in table["image_path"])
    stream = ManifestStream([odd / "out m" / "manifest.parquet"], "train", StreamConfig(), epochs=1)
    assert sum(len(b.labels) for b in stream) == (table["split"] == "train").sum()
