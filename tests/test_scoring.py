"""One scoring path: a run's logged val figures are exactly what `textrec eval` gives its
best.pt, for every model preset of both head kinds and a TrOCR from a Hugging Face folder;
predictions never depend on the labels."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from click.testing import CliRunner
from manifest_factory import write_manifest

from pipelines.cli import main
from textrec_data.charset import Charset
from textrec_model.checkpoint import load_checkpoint
from textrec_model.models import DEFAULT_MODEL, PRESETS, build_model
from textrec_model.predictor import Predictor
from textrec_model.scoring import score, split_rows
from textrec_model.train import TrainConfig, train

#: The figures the run logs and eval reports under the same names.
SHARED = ("n", "word_accuracy", "word_accuracy_ci", "word_accuracy_alnum", "cer", "ned",
          "out_of_charset", "unreadable")  # fmt: skip


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    return write_manifest(tmp_path_factory.mktemp("m") / "manifest.parquet", 40)


@pytest.mark.parametrize(
    "preset",
    [
        p if p in (DEFAULT_MODEL, "ppocr-seq2seq") else pytest.param(p, marks=pytest.mark.slow)
        for p in sorted(PRESETS)
    ],
)
def test_eval_of_best_pt_gives_exactly_the_logged_val_figures(preset, manifest, tmp_path):
    check_eval_equals_validation(manifest, tmp_path, model=preset)


def test_a_trocr_run_from_an_hf_folder_evals_as_it_validated(manifest, tmp_path):
    """``--init hf:DIR`` (a tiny Hugging Face TrOCR) trains on the manifest; eval of its
    best.pt gives the logged figures; predict reads crops with it."""
    pytest.importorskip("transformers")
    from tiny_trocr import save_tiny_trocr

    save_tiny_trocr(tmp_path / "hf")
    best = check_eval_equals_validation(manifest, tmp_path, init=f"hf:{tmp_path / 'hf'}")
    assert best["model_args"]["arch"] == "trocr" and "tokenizer" in best["model_args"]
    crop = tmp_path / "crop.png"
    crop.write_bytes(next(split_rows([manifest], "val")).crop)
    args = ["--checkpoint", str(tmp_path / "run" / "best.pt"), str(crop), "--decoder", "beam"]
    result = CliRunner().invoke(main, ["predict", *args])  # the group's -h, as users run it
    assert result.exit_code == 0, result.output
    assert "crop.png" in result.output


def check_eval_equals_validation(manifest, tmp_path, **model) -> dict:
    """Train 2 steps (``model``: --model or --init), then `textrec eval` its best.pt: the
    figures equal the logged val figures exactly. Returns best.pt's state."""
    config = TrainConfig(
        manifests=(str(manifest),), out=str(tmp_path / "run"), max_steps=2,
        eval_every=1, batch_size=4, workers=0, warmup_steps=1, log_every=1, pool_size=16,
        lr=3e-3, **model,
    )  # fmt: skip
    train(config, progress=False)
    best = load_checkpoint(tmp_path / "run" / "best.pt")
    log = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    (logged,) = [r for r in log if r["kind"] == "val" and r["step"] == best["step"]]
    args = ["--checkpoint", str(tmp_path / "run" / "best.pt"), "--manifest", str(manifest)]
    # The PyTorch runtime, as training validated: every figure equal, not approximately equal.
    # ONNX Runtime (eval's default): the same readings and accuracies, the loss within float32.
    for runtime in ("torch", "onnx"):
        out = tmp_path / f"eval-{runtime}"
        result = CliRunner().invoke(
            main,
            ["eval", *args, "--split", "val", "--out", str(out), "--quiet", "--runtime", runtime],
        )
        assert result.exit_code == 0, result.output
        report = json.loads((out / "report.json").read_text())
        assert report["n"] == 8
        for key in SHARED:
            assert report[key] == logged[key], (runtime, key)
        assert report["loss_n"] == logged["val_loss_n"] > 0
        if runtime == "torch":
            assert report["loss"] == logged["val_loss"]
        else:
            assert report["loss"] == pytest.approx(logged["val_loss"], rel=1e-5)
        assert f"{report['word_accuracy']:.4f}" in result.output
    assert best["metrics"] == logged  # what best.pt says of itself
    return best


def test_predictions_never_depend_on_the_labels(manifest):
    """The label neither widens a crop nor pads a batch: other labels, same readings."""
    charset = Charset(tuple("abcdefghij"))
    model = build_model("crnn-small", charset.num_classes).eval()
    predictor = Predictor.from_model(model, charset, max_width=256)
    rows = list(split_rows([manifest], "val"))
    relabelled = [replace(row, label="abcdefghij" * 5) for row in rows]  # needs 50 steps
    a, b = score(predictor, rows), score(predictor, relabelled)
    assert a.predictions == b.predictions and a.indices == b.indices
    assert b.loss_n == 0 and b.loss is None and b.words.word_accuracy == 0.0
    assert a.loss_n == len(rows) and a.loss > 0


def test_a_shard_per_process_scores_as_one_process(manifest):
    """Each rank reads its share of the rows; gathered, the figures are one process's."""
    charset = Charset(tuple("abcdefghij"))
    model = build_model("crnn-small", charset.num_classes).eval()
    predictor = Predictor.from_model(model, charset, max_width=256)
    whole = score(predictor, split_rows([manifest], "val"))
    gathered: list = []
    for shard in range(3):
        rows = split_rows([manifest], "val", shard=shard, shards=3)
        score(predictor, rows, combine=lambda results: gathered.append(results) or [results])
    assert sorted(len(part) for part in gathered) == [2, 3, 3]
    together = score(predictor, [], combine=lambda _: gathered)
    assert together.indices == whole.indices == tuple(range(8))
    assert [p.text for p in together.predictions] == [p.text for p in whole.predictions]
    assert together.words == whole.words and together.loss == pytest.approx(whole.loss)
