"""Side by side on ICDAR 2015: the seed notebook's training recipe vs a textrec model.

The seed recipe, on the same correctly cropped training words textrec uses (the manifest's
train split; its val split drives the seed's ReduceLROnPlateau): the seed's CRNN (~8M params),
every crop resized to 32x128, labels upper-cased, AdamW lr 2e-4 (weight decay 1e-5), batch 32,
gradient clip 1.0, CTC over all 32 steps, 20 epochs. Then greedy decoding on the test manifest,
scored with textrec's metrics. Training compute is process CPU time (all threads).

textrec's side is an ``eval`` report of a textrec model on the same test manifest and the CPU
seconds its training used, given on the command line (the training is `textrec train`, run
separately; see docs/RESULTS.md). Writes ``benchmarks/results/seed_recipe.json``::

    python -m benchmarks.seed_recipe --train-manifest out/ic15/train/manifest.parquet \\
        --test-manifest out/ic15/test/manifest.parquet \\
        --ours-report out/ic15/eval/report.json --ours-cpu-seconds 7000 [--epochs 20]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time

import numpy as np
import pyarrow.parquet as pq
import torch
from torch import nn

from benchmarks.common import write_result
from benchmarks.seed_baseline import CRNN_CTC_Model, CTCTokenizer, seed_images, seed_predict
from textrec_data.preprocess import decode_crop
from textrec_model.metrics import compute_metrics, is_alphanumeric_word


def seed_label(text: str) -> str:
    """The seed's label transform: strip spaces and quotes, upper-case."""
    return text.strip().strip('"').strip("'").upper()


def load_split(manifest: str, split: str) -> tuple[list[np.ndarray], list[str]]:
    """Grayscale crops and GT texts (as written) of one split."""
    table = pq.read_table(manifest, columns=["split", "text", "crop"]).to_pydict()
    rows = [i for i, s in enumerate(table["split"]) if s == split]
    return [decode_crop(table["crop"][i]) for i in rows], [table["text"][i] for i in rows]


def ctc_batch_loss(model, criterion, images, targets: list[list[int]]) -> torch.Tensor:
    log_probs = model(images).log_softmax(2)
    b, t, _ = log_probs.shape
    flat = torch.tensor([i for seq in targets for i in seq], dtype=torch.long)
    lengths = torch.tensor([len(seq) for seq in targets], dtype=torch.long)
    steps = torch.full((b,), t, dtype=torch.long)
    return criterion(log_probs.permute(1, 0, 2), flat, steps, lengths)


def train_seed(args) -> dict:
    torch.manual_seed(42)
    random.seed(42)
    train_grays, train_texts = load_split(args.train_manifest, "train")
    val_grays, val_texts = load_split(args.train_manifest, "val")
    labels = [seed_label(t) for t in train_texts]
    tokenizer = CTCTokenizer(sorted({c for label in labels for c in label} | {" "}))
    keep = [i for i, label in enumerate(labels) if 1 <= len(label) <= 64]
    x_train = seed_images([train_grays[i] for i in keep])
    y_train = [tokenizer.encode(labels[i]) for i in keep]
    x_val = seed_images(val_grays)
    y_val = [tokenizer.encode(seed_label(t)) for t in val_texts]

    model = CRNN_CTC_Model(tokenizer.vocab_size)
    criterion = nn.CTCLoss(blank=0, zero_infinity=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-4, weight_decay=1e-5)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=3)
    history, cpu_start, wall_start = [], time.process_time(), time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = torch.randperm(len(y_train)).tolist()
        total = 0.0
        batches = math.ceil(len(order) / 32)
        for b in range(batches):
            index = order[b * 32 : (b + 1) * 32]
            loss = ctc_batch_loss(model, criterion, x_train[index], [y_train[i] for i in index])
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            total += loss.item()
        model.eval()
        with torch.no_grad():
            val_loss = float(
                np.mean(
                    [
                        float(
                            ctc_batch_loss(model, criterion, x_val[s : s + 32], y_val[s : s + 32])
                        )
                        for s in range(0, len(y_val), 32)
                    ]
                )
            )
        scheduler.step(val_loss)
        cpu = time.process_time() - cpu_start
        wall = time.perf_counter() - wall_start
        history.append(
            {"epoch": epoch, "train_loss": total / batches, "val_loss": val_loss,
             "cpu_seconds": cpu, "wall_seconds": wall}
        )  # fmt: skip
        print(f"seed epoch {epoch}: loss {total / batches:.3f} val {val_loss:.3f} cpu {cpu:.0f}s")
        if args.max_cpu_seconds and cpu >= args.max_cpu_seconds:
            break
    return {"model": model, "tokenizer": tokenizer, "history": history, "train_words": len(keep)}


def score(predictions: list[str], texts: list[str]) -> dict:
    alnum = [i for i, t in enumerate(texts) if is_alphanumeric_word(t)]
    overall = compute_metrics(predictions, texts)
    subset = compute_metrics([predictions[i] for i in alnum], [texts[i] for i in alnum])
    return {
        "n": overall.n,
        "word_accuracy": overall.word_accuracy,
        "word_accuracy_ci": overall.word_accuracy_ci,
        "word_accuracy_alnum": overall.word_accuracy_alnum,
        "cer": overall.cer,
        "alphanumeric_subset": {"n": subset.n, "word_accuracy_alnum": subset.word_accuracy_alnum},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train-manifest", required=True)
    parser.add_argument("--test-manifest", required=True)
    parser.add_argument("--ours-report", required=True, help="textrec eval report.json")
    parser.add_argument("--ours-cpu-seconds", type=float, required=True)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument(
        "--max-cpu-seconds", type=float, default=0, help="Stop the seed after the epoch that "
        "crosses this CPU time (0: run all epochs). The result records the epochs run.",
    )  # fmt: skip
    args = parser.parse_args()
    seed = train_seed(args)
    test_grays, test_texts = load_split(args.test_manifest, "test")
    predictions = seed_predict(seed["model"], seed["tokenizer"], test_grays)
    seed_scores = score(predictions, test_texts)
    ours = json.loads(open(args.ours_report, encoding="utf-8").read())
    seed_cpu = seed["history"][-1]["cpu_seconds"]
    per_epoch = seed_cpu / len(seed["history"])
    result = {
        "benchmark": "seed recipe vs textrec on IC15 test (word_accuracy_alnum)",
        "test_manifest": args.test_manifest,
        "seed": {
            **seed_scores,
            "epochs_planned": args.epochs,
            "epochs_run": len(seed["history"]),
            "train_words": seed["train_words"],
            "cpu_seconds": seed_cpu,
            "cpu_seconds_for_planned_epochs_estimate": per_epoch * args.epochs,
            "history": seed["history"],
        },
        "textrec": {
            "n": ours["n"],
            "word_accuracy": ours["word_accuracy"],
            "word_accuracy_ci": ours["word_accuracy_ci"],
            "word_accuracy_alnum": ours["word_accuracy_alnum"],
            "cer": ours["cer"],
            "decoder": ours["decoder"],
            "cpu_seconds": args.ours_cpu_seconds,
        },
        "points_alnum": 100 * (ours["word_accuracy_alnum"] - seed_scores["word_accuracy_alnum"]),
        "target": ">= 15 points, with no more training CPU seconds than the seed's 20 epochs",
    }
    path = write_result("seed_recipe", result)
    print(
        f"IC15 test alnum: seed {seed_scores['word_accuracy_alnum']:.4f} "
        f"({len(seed['history'])}/{args.epochs} epochs, {seed_cpu:.0f} CPU s) vs textrec "
        f"{ours['word_accuracy_alnum']:.4f} ({args.ours_cpu_seconds:.0f} CPU s): "
        f"{result['points_alnum']:+.1f} points  -> {path}"
    )


if __name__ == "__main__":
    main()
