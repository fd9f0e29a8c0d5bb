"""Misuse suite, part 1 (issue #15): every command x its options' bad values, click usage errors,
attempts to make a command destroy data, and concurrent writers. Part 2 (resume, unsafe files,
degenerate data) is tests/test_misuse_data.py; docs/RELIABILITY.md tabulates both.

Every refused case checks README's promise (one line ``error: <path or option>: ...``, exit 2,
no traceback) and that nothing was written or changed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from misuse import cli, refused, snapshot, succeeded

from textrec_data.manifest import read_manifest_info
from textrec_data.outputs import output_lock

ROOT = Path(__file__).resolve().parent.parent

#: A valid call of each command; a case appends one bad option (click keeps the last value).
BASE = {
    "synth": "synth --out {out}/synth --images 1",
    "manifest": "manifest --images {images} --gt {gt} --out {out}/m --workers 1 --quiet",
    "stats": "stats {manifest} --sheet {out}/sheet.png",
    "train": "train --manifest {manifest} --out {out}/run --max-steps 1 --workers 0 --quiet",
    "eval": "eval --checkpoint {checkpoint} --manifest {manifest} --split val --out {out}/e",
    "predict": "predict --checkpoint {checkpoint} {crop}",
    "export": "export --checkpoint {checkpoint} --out {out}/m.onnx",
}

BAD_OPTIONS = [
    ("synth", "--images", ["0", "-1", "1.5", "abc"]),
    ("synth", "--seed", ["-1", "4294967296", "abc"]),
    ("manifest", "--val-fraction", ["-0.1", "1", "1.5", "nan", "inf", "abc"]),
    ("manifest", "--workers", ["-1", "257", "abc"]),
    ("manifest", "--seed", ["-1", "4294967296"]),
    ("manifest", "--split", ["bogus"]),
    ("manifest", "--case", ["title"]),
    ("manifest", "--charset", ["{missing}", "{crop}"]),
    ("stats", "--n", ["0", "-1", "10001", "abc"]),
    ("stats", "--seed", ["-1", "4294967296"]),
    ("stats", "--sheet", ["{out}/sheet", "{out}/sheet.txt", "{out}/sheet.jpg"]),
    ("train", "--max-steps", ["0", "-5", "1.5", "abc"]),
    ("train", "--epochs", ["0", "-1", "nan", "inf", "abc"]),
    ("train", "--batch-size", ["0", "-1", "abc"]),
    ("train", "--lr", ["0", "-1", "nan", "inf", "-inf", "2"]),
    ("train", "--height", ["0", "-32", "48"]),
    ("train", "--max-width", ["0", "3", "15", "4097"]),
    ("train", "--eval-every", ["0", "-1"]),
    ("train", "--workers", ["-1", "65"]),
    ("train", "--seed", ["-1", "4294967296"]),
    ("train", "--model", ["resnet"]),
    ("train", "--device", ["tpu"]),
    ("eval", "--batch-size", ["0", "-1", "65537", "abc"]),
    ("eval", "--beam-width", ["0", "-1", "1001"]),
    ("eval", "--decoder", ["viterbi"]),
    ("eval", "--split", ["test", "bogus"]),
    ("eval", "--lexicon", ["{missing}", "{empty}", "{binary}", "{long_line}"]),
    ("predict", "--batch-size", ["0", "-1"]),
    ("predict", "--beam-width", ["0", "1001"]),
    ("predict", "--decoder", ["viterbi"]),
    ("predict", "--lexicon", ["{missing}", "{long_line}"]),
    ("export", "--format", ["tflite"]),
]
OPTION_CASES = [(c, o, v) for c, o, values in BAD_OPTIONS for v in values]


def _run(world, out: Path, command: str, *extra: str):
    args = [world.fill(a, out) for a in BASE[command].split()]
    return cli(*args, *(world.fill(a, out) for a in extra))


@pytest.mark.parametrize(
    ("command", "option", "value"), OPTION_CASES, ids=[" ".join(c) for c in OPTION_CASES]
)
def test_a_bad_option_value_is_refused_by_name(world, tmp_path, command, option, value):
    value = world.fill(value, tmp_path)
    line = refused(_run(world, tmp_path, command, option, value))
    assert option in line or value in line, line
    assert not list(tmp_path.iterdir())  # nothing written, not even a partial output


USAGE = [
    ["bogus"],
    ["train", "--bogus"],
    ["train", "--out", "x"],  # --manifest missing
    ["export", "--checkpoint", "a.pt", "--out", "b.onnx", "extra"],
    ["eval", "--manifest"],  # option without its value
]


@pytest.mark.parametrize("args", USAGE, ids=[" ".join(a) for a in USAGE])
def test_click_usage_errors_are_one_line(args):
    refused(cli(*args))


def test_help_is_not_an_error():
    assert "train" in succeeded(cli("--help"))


CONFLICTS = [
    ["predict", "--checkpoint", "{checkpoint}", "{crop}", "--images", "{images}", "--gt", "{gt}"],
    ["predict", "--checkpoint", "{checkpoint}", "--images", "{images}"],
    ["eval", "--checkpoint", "{checkpoint}", "--onnx", "{onnx}", "--manifest", "{manifest}"],
    ["predict", "--checkpoint", "{checkpoint}", "--onnx", "{onnx}", "{crop}"],
    ["train", "--manifest", "{manifest}", "--out", "{out}/r", "--resume", "--overwrite"],
    ["train", "--manifest", "{manifest}", "--out", "{out}/r", "--resume"],  # no run to resume
]


@pytest.mark.parametrize(
    "args",
    CONFLICTS,
    ids=["crops and scenes", "--images without --gt", "--checkpoint and --onnx",
         "predict, both models", "--resume and --overwrite", "--resume without a run"],
)  # fmt: skip
def test_options_that_exclude_each_other_are_refused(world, tmp_path, args):
    refused(cli(*(world.fill(a, tmp_path / "o") for a in args)))
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------- no command destroys data


def _copy(src: Path, dst: Path) -> Path:
    (shutil.copytree if src.is_dir() else shutil.copy2)(src, dst)
    return dst


def _foreign(path: Path) -> Path:
    """A folder of the user's own files."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "notes.txt").write_text("the user's, not textrec's")
    return path


def _manifest_into(world, tmp_path, out: str, *extra: str):
    data = _copy(world.dataset, tmp_path / "D")
    before = snapshot(data)
    args = ["manifest", "--images", data / "images", "--gt", data / "gt", "--out", out]
    return data, before, [*args, "--workers", "1", "--quiet", *extra]


@pytest.mark.parametrize(
    ("out", "words"),
    [("{D}", "contains the input --images"), ("{D}/gt", "is the input --gt"),
     ("{D}/images/sub", "lies inside the input --images")],
    ids=["out=dataset", "out=gt", "out inside images"],
)  # fmt: skip
def test_manifest_never_writes_over_its_inputs(world, tmp_path, out, words):
    data, before, args = _manifest_into(world, tmp_path, out.format(D=tmp_path / "D"))
    refused(cli(*args, "--overwrite"), words)
    assert snapshot(data) == before


def test_manifest_out_dot_in_the_dataset_is_refused(world, tmp_path, monkeypatch):
    data, before, _ = _manifest_into(world, tmp_path, ".")
    monkeypatch.chdir(data)
    refused(cli("manifest", "--images", "images", "--gt", "gt", "--out", ".", "--overwrite"))
    assert snapshot(data) == before


def test_manifest_overwrite_never_removes_a_foreign_folder(world, tmp_path):
    foreign = _foreign(tmp_path / "mine")
    _, _, args = _manifest_into(world, tmp_path, str(foreign), "--overwrite")
    refused(cli(*args), "notes.txt")
    assert (foreign / "notes.txt").exists()


def test_manifest_overwrite_refuses_an_output_holding_its_charset(world, tmp_path):
    built = _copy(world.built, tmp_path / "built")
    before = snapshot(built)
    _, _, args = _manifest_into(world, tmp_path, str(built), "--overwrite")
    refused(cli(*args, "--charset", built / "vocab.json"), "contains the input --charset")
    assert snapshot(built) == before


def test_export_never_overwrites_its_checkpoint(world, tmp_path):
    ckpt = _copy(world.checkpoint, tmp_path / "x.pt")
    before = ckpt.read_bytes()
    refused(cli("export", "--checkpoint", ckpt, "--out", ckpt), "is the input --checkpoint")
    assert ckpt.read_bytes() == before


@pytest.mark.parametrize("victim", ["best.pt", "notes.txt"])
def test_export_never_replaces_a_file_it_did_not_write(world, tmp_path, victim):
    target = tmp_path / victim
    _copy(world.run / "best.pt", target) if victim == "best.pt" else target.write_text("mine")
    before = target.read_bytes()
    refused(cli("export", "--checkpoint", world.checkpoint, "--out", target), "not a textrec")
    assert target.read_bytes() == before


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_export_replaces_its_own_earlier_export(world, tmp_path, fmt):
    out = tmp_path / f"m.{fmt}"
    if fmt == "onnx":
        shutil.copy2(world.onnx, out)
    else:
        succeeded(cli("export", "--checkpoint", world.checkpoint, "--format", fmt, "--out", out))
    succeeded(cli("export", "--checkpoint", world.checkpoint, "--format", fmt, "--out", out))


def _train_args(world, out: Path, *extra) -> list:
    return ["train", "--manifest", world.manifest, "--out", out, "--max-steps", "1", "--workers",
            "0", "--batch-size", "8", "--quiet", *extra]  # fmt: skip


def test_train_into_a_run_needs_resume_or_overwrite(world, tmp_path):
    run = _copy(world.run, tmp_path / "run")
    before = snapshot(run)
    refused(cli(*_train_args(world, run)), "--resume", "--overwrite")
    assert snapshot(run) == before


def test_train_overwrite_replaces_the_run_and_its_log(world, tmp_path):
    run = _copy(world.run, tmp_path / "run")
    succeeded(cli(*_train_args(world, run, "--overwrite", "--eval-every", "1")))
    log = pd.read_json(run / "metrics.jsonl", lines=True)
    assert set(log["step"]) == {1}  # the old run's steps (5-20) are gone, not appended to


def test_train_overwrite_never_removes_a_foreign_file(world, tmp_path):
    run = _copy(world.run, tmp_path / "run")
    (run / "notes.txt").write_text("mine")
    before = snapshot(run)
    refused(cli(*_train_args(world, run, "--overwrite")), "notes.txt")
    assert snapshot(run) == before


def test_train_out_holding_its_manifest_is_refused(world, tmp_path):
    manifest = _copy(world.manifest.parent, tmp_path / "data")
    args = _train_args(world, manifest)
    args[2] = manifest / "manifest.parquet"
    before = snapshot(manifest)
    refused(cli(*args), "contains the input --manifest")
    assert snapshot(manifest) == before


def _eval_into(world, out: Path, *extra):
    return cli("eval", "--checkpoint", world.checkpoint, "--manifest", world.manifest, "--split",
               "val", "--out", out, "--quiet", *extra)  # fmt: skip


def test_eval_refuses_an_out_holding_a_manifest(world, tmp_path):
    built = _copy(world.built, tmp_path / "built")
    before = snapshot(built)
    refused(_eval_into(world, built), "manifest.parquet")
    assert snapshot(built) == before


def test_eval_refuses_an_out_holding_its_checkpoint(world, tmp_path):
    run = _copy(world.run, tmp_path / "run")
    before = snapshot(run)
    args = ["eval", "--checkpoint", run / "last.pt", "--manifest", world.manifest]
    refused(cli(*args, "--split", "val", "--out", run), "contains the input --checkpoint")
    assert snapshot(run) == before


def test_eval_refuses_a_foreign_out_and_its_own_lexicon(world, tmp_path):
    foreign = _foreign(tmp_path / "mine")
    refused(_eval_into(world, foreign), "notes.txt")
    lexicon = _copy(world.lexicon, _foreign(tmp_path / "lex") / "words.txt")
    refused(_eval_into(world, lexicon.parent, "--lexicon", lexicon), "contains the input --lex")
    assert (foreign / "notes.txt").exists() and lexicon.read_bytes() == world.lexicon.read_bytes()


def test_eval_replaces_its_own_earlier_report(world, tmp_path):
    succeeded(_eval_into(world, tmp_path / "e"))
    succeeded(_eval_into(world, tmp_path / "e", "--decoder", "beam"))
    assert '"decoder": "beam"' in (tmp_path / "e" / "report.json").read_text()


def test_predict_never_overwrites_its_inputs(world, tmp_path):
    crop, ckpt = _copy(world.crop, tmp_path / "c.png"), _copy(world.checkpoint, tmp_path / "x.pt")
    data = _copy(world.dataset, tmp_path / "D")
    before = snapshot(tmp_path)
    refused(cli("predict", "--checkpoint", ckpt, crop, "--out", crop), "is the input CROPS")
    refused(cli("predict", "--checkpoint", ckpt, crop, "--out", ckpt), "is the input --checkpoint")
    scenes = ["--images", data / "images", "--gt", data / "gt", "--out", data / "gt" / "p.csv"]
    refused(cli("predict", "--checkpoint", ckpt, *scenes), "lies inside the input --gt")
    assert snapshot(tmp_path) == before


def test_predict_replaces_only_its_own_predictions(world, tmp_path):
    notes = tmp_path / "notes.csv"
    notes.write_text("name,phone\nann,123\n")
    refused(cli("predict", "--checkpoint", world.checkpoint, world.crop, "--out", notes))
    assert notes.read_text() == "name,phone\nann,123\n"
    for out in (tmp_path / "p.csv", tmp_path / "p.jsonl"):
        for _ in range(2):
            succeeded(cli("predict", "--checkpoint", world.checkpoint, world.crop, "--out", out))


def test_stats_sheet_never_overwrites_the_manifest(world, tmp_path):
    manifest = _copy(world.manifest, tmp_path / "manifest.png")  # a manifest named like a sheet
    before = manifest.read_bytes()
    refused(cli("stats", manifest, "--sheet", manifest), "is the input MANIFEST")
    refused(cli("stats", world.manifest, "--sheet", world.manifest), "--sheet")
    assert manifest.read_bytes() == before


def test_stats_sheet_replaces_only_its_own_sheets(world, tmp_path):
    photo = tmp_path / "holiday.png"
    photo.write_bytes(world.crop.read_bytes())
    refused(cli("stats", world.manifest, "--sheet", photo), "not a textrec contact sheet")
    assert photo.read_bytes() == world.crop.read_bytes()
    for _ in range(2):
        succeeded(cli("stats", world.manifest, "--sheet", tmp_path / "sheet.png", "--n", "4"))


def test_synth_overwrite_never_removes_a_dataset_it_did_not_make(world, tmp_path):
    data = _copy(world.dataset, tmp_path / "D")
    before = snapshot(data)
    refused(cli("synth", "--out", data, "--images", "1", "--overwrite"), ".textrec")
    foreign = _foreign(tmp_path / "mine")
    refused(cli("synth", "--out", foreign, "--images", "1", "--overwrite"), "notes.txt")
    assert snapshot(data) == before and (foreign / "notes.txt").exists()


def test_synth_overwrite_replaces_its_own_dataset(tmp_path):
    for _ in range(2):
        succeeded(cli("synth", "--out", tmp_path / "s", "--images", "1", "--overwrite"))


# ---------------------------------------------------------------- concurrent writers


#: The output each BASE call writes (predict's is added to its call).
OUTPUTS = {"synth": "synth", "manifest": "m", "stats": "sheet.png", "train": "run", "eval": "e",
           "predict": "p.csv", "export": "m.onnx"}  # fmt: skip


@pytest.mark.parametrize("command", sorted(BASE))
def test_an_output_being_written_is_refused_to_a_second_writer(world, tmp_path, command):
    out = tmp_path / OUTPUTS[command]
    args = [world.fill(a, tmp_path) for a in BASE[command].split()]
    args += ["--out", out] if command == "predict" else []
    with output_lock(out):  # another textrec process writing this output
        refused(cli(*args), "another textrec process")
    assert not Path(out).exists()


def test_two_manifest_runs_into_one_new_out(world, tmp_path):
    """Started together: one writes the manifest, the other fails with a clear error (the lock,
    or the first one's finished output); the output is whole."""
    out = tmp_path / "m"
    args = [sys.executable, "-m", "pipelines.cli", "manifest", "--images",
            world.dataset / "images", "--gt", world.dataset / "gt", "--out", out, "--workers",
            "1", "--quiet"]  # fmt: skip
    procs = [
        subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [(p.wait(timeout=300), p.communicate()[1]) for p in procs]
    assert sorted(code for code, _ in results) == [0, 2], results
    (error,) = [err.strip() for code, err in results if code == 2]
    assert error.startswith(f"error: {out}") and len(error.splitlines()) == 1
    assert "another textrec process" in error or "not empty" in error
    assert read_manifest_info(out / "manifest.parquet").num_rows == 2
