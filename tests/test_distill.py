"""Knowledge distillation: frame distillation in training (`train --teacher`) and pseudo-labels
(`textrec label`), with the session's shared tiny run as the teacher."""

from __future__ import annotations

import json
from dataclasses import replace

import pyarrow.parquet as pq
import pytest
import torch
from manifest_factory import mixed_manifest
from misuse import cli, refused, succeeded
from shared_run import run_config
from train_faults import crash_at_second_validation

from textrec_data.errors import InputError
from textrec_data.manifest import read_manifest_info
from textrec_data.stream import ManifestStream, StreamConfig
from textrec_model.checkpoint import load_checkpoint, save_checkpoint
from textrec_model.distill import check_student, frame_kl, teacher_for
from textrec_model.models import build_model
from textrec_model.train import train
from textrec_model.transfer import load_source


def test_frame_kl_is_zero_for_equal_logits_and_ignores_frames_past_the_steps():
    torch.manual_seed(0)
    student = torch.randn(2, 6, 5, requires_grad=True)
    steps = torch.tensor([4, 2])
    assert frame_kl(student, student.detach(), steps).abs() < 1e-6
    teacher = torch.randn(2, 6, 5)
    kl = frame_kl(student, teacher, steps, temperature=2.0)
    assert kl > 0
    kl.backward()
    assert student.grad[0, 4:].abs().sum() == 0 and student.grad[1, 2:].abs().sum() == 0
    assert student.grad[0, :4].abs().sum() > 0
    changed = teacher.clone()
    changed[0, 4:], changed[1, 2:] = 50.0, -50.0  # frames past each sample's steps
    assert torch.allclose(frame_kl(student, changed, steps, 2.0), kl)
    # by hand: the mean over the 6 valid frames of sum_c p_t (log p_t - log p_s)
    p_t, log_s = (teacher / 2).softmax(-1), (student / 2).log_softmax(-1)
    per_frame = (p_t * (p_t.log() - log_s)).sum(-1)
    assert torch.allclose(kl, (per_frame[0, :4].sum() + per_frame[1, :2].sum()) / 6)


def test_a_teacher_of_another_input_or_head_is_refused(shared_run, tmp_path):
    charset = load_source(str(shared_run.checkpoint))[2]
    spec = build_model("tiny", charset.num_classes).input_spec
    assert teacher_for(str(shared_run.checkpoint), charset, spec).training is False
    with pytest.raises(InputError, match="height 32 vs 48"):
        teacher_for(str(shared_run.checkpoint), charset, replace(spec, height=48))
    with pytest.raises(InputError, match="--teacher x: .* seq2seq model; .*textrec label"):
        check_student(build_model("ppocr-seq2seq", charset.num_classes), "x")
    args = ("train", "--manifest", shared_run.manifest, "--out", tmp_path / "r", "--quiet")
    line = refused(cli(*args, "--model", "crnn-vgg", "--teacher", shared_run.checkpoint))
    assert "--teacher" in line and "textrec label" in line and "height 32 vs 64" in line
    refused(cli(*args, "--teacher", tmp_path / "missing.pt"), "missing.pt")
    refused(cli(*args, "--teacher", shared_run.checkpoint, "--distill-temperature", "0"))


def test_training_with_a_teacher_logs_the_kl_keeps_unlabeled_rows_and_resumes(
    shared_run, tmp_path, monkeypatch
):
    manifest, _ = mixed_manifest(tmp_path / "m")
    config = replace(
        run_config(manifest, tmp_path / "straight"), max_steps=6, eval_every=3, log_every=2,
        teacher=str(shared_run.checkpoint), distill_temperature=2.0,
    )  # fmt: skip
    metrics = train(config, False)
    assert "unlabeled" not in metrics["skipped"]  # kept: they train through the KL term
    records = [json.loads(x) for x in (tmp_path / "straight" / "metrics.jsonl").open()]
    kls = [r["distill_kl"] for r in records if r["kind"] == "train"]
    assert len(kls) == 3 and all(k > 0 for k in kls)
    saved = json.loads((tmp_path / "straight" / "config.json").read_text())
    assert saved["teacher"] == str(shared_run.checkpoint) and saved["distill_temperature"] == 2.0

    cut = replace(config, out=str(tmp_path / "cut"))
    with monkeypatch.context() as patch:
        crash_at_second_validation(patch)
        with pytest.raises(RuntimeError, match="simulated crash"):
            train(cut, False)
    train(replace(cut, resume=True), False)
    a, b = load_checkpoint(tmp_path / "straight" / "last.pt"), load_checkpoint(cut.out + "/last.pt")
    assert a["step"] == b["step"] == 6
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key

    without = replace(config, out=str(tmp_path / "plain"), teacher=None)
    assert train(without, False)["skipped"]["unlabeled"] > 0  # no teacher: skipped as before


def _reading_teacher(shared_run, path):
    """The shared run's model with its blank suppressed and its scores sharpened: unlike the
    barely trained run, it reads a character or more in every crop, at varied confidences."""
    state = load_checkpoint(shared_run.checkpoint)
    bias, weight = state["model"]["classifier.bias"], state["model"]["classifier.weight"]
    bias[0], bias[1:] = -30.0, 0.0
    weight *= 20
    save_checkpoint(state, path)
    return path


def test_label_writes_the_predict_readings_with_the_accounting(shared_run, tmp_path):
    manifest, unlabeled = mixed_manifest(tmp_path / "m")
    rows = pq.read_table(manifest).to_pylist()
    crops = tmp_path / "crops"
    crops.mkdir()
    files = {}
    for k, row in enumerate(rows):
        if row["label"] is None:
            files[k] = crops / f"row_{k}.png"
            files[k].write_bytes(row["crop"])
    ckpt = _reading_teacher(shared_run, tmp_path / "teacher.pt")
    read = succeeded(cli("predict", *files.values(), "--checkpoint", ckpt, "--runtime", "torch"))
    predicted = {}
    for line in read.strip().splitlines():
        file, text, confidence = line.split("\t")
        predicted[file] = (text, float(confidence))

    args = ("label", "--teacher", ckpt, "--manifest", manifest, "--runtime", "torch", "--quiet")
    out = succeeded(cli(*args, "--out", tmp_path / "all"))
    assert "kept" in out and "labelled by the teacher" in out
    pseudo = pq.read_table(tmp_path / "all" / "pseudo_labels.parquet").to_pylist()
    labelled = pq.read_table(tmp_path / "all" / "manifest.parquet")["label"].to_pylist()
    rejects = pq.read_table(tmp_path / "all" / "rejects.parquet").to_pylist()
    by_image = {(r["image_id"], r["line_no"]): r for r in pseudo}
    for k, file in files.items():
        text, _ = predicted[str(file)]
        found = by_image[(rows[k]["image_id"], rows[k]["line_no"])]
        assert found["label"] == text != "" and labelled[found["row"]] == text
        assert found["previous_label"] is None
    assert len(pseudo) == sum(unlabeled.values()) and not rejects

    confidences = sorted(r["confidence"] for r in pseudo)
    threshold = confidences[len(confidences) // 2]
    cut = tmp_path / "cut"
    succeeded(cli(*args, "--out", cut, "--min-confidence", threshold))
    report = json.loads((cut / "report.json").read_text())
    low = sum(c < threshold for c in confidences)
    assert low > 0 and report["counts"]["reasons"]["low_confidence"] == low
    assert report["accounting_ok"] and report["kept"] + report["rejected"] == len(rows)
    assert report["unlabeled"] == 0 and report["teacher_labelled"] == len(pseudo) - low
    info = read_manifest_info(cut)
    assert info.num_rows == report["kept"] and info.unlabeled_count("train") == 0
    batches = ManifestStream([cut], "train", StreamConfig(shuffle=False), epochs=1)
    assert sum(len(b.labels) for b in batches) == info.split_count("train")

    refused(cli(*args, "--out", cut), "--overwrite")
    succeeded(cli(*args, "--out", cut, "--overwrite", "--rows", "all"))
    replaced = pq.read_table(cut / "pseudo_labels.parquet")["previous_label"].to_pylist()
    assert sum(p is not None for p in replaced) > 0
    refused(cli(*args, "--out", tmp_path / "x", "--min-confidence", "2"), "--min-confidence")
    refused(cli(*args, "--out", manifest.parent), "--manifest")
