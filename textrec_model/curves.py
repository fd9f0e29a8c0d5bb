"""The training log: metrics.jsonl (append, read, truncate on resume) and curves.png from it."""

from __future__ import annotations

import json
from pathlib import Path

from textrec_data.atomic import atomic_file
from textrec_data.errors import InputError


def read_metrics(path: str | Path) -> list[dict]:
    """The records of a metrics.jsonl file (an absent file gives []). A last line without its
    newline (an append cut short by a kill) is dropped; any other line that is not a JSON
    object with ``kind`` and ``step`` is an :class:`InputError` naming the file and line."""
    path = Path(path)
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    records = []
    for number, line in enumerate(lines[:-1], 1):  # lines[-1]: "" or a torn last line
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict) or not {"kind", "step"} <= record.keys():
            raise InputError(f"{path}: line {number} is not a record of textrec's training log")
        records.append(record)
    return records


def plot_curves(records: list[dict], out_png: str | Path) -> None:
    """Two panels: train/val loss and val word accuracy against step."""
    # matplotlib is imported by the first plot, not with training: a run (or a test of one)
    # that stops before its first validation starts a second or more sooner
    from matplotlib.figure import Figure

    train = [r for r in records if r.get("kind") == "train"]
    val = [r for r in records if r.get("kind") == "val"]
    fig = Figure(figsize=(11, 4))  # no pyplot: no global figure or backend
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot([r["step"] for r in train], [r["train_loss"] for r in train], label="train")
    ax_loss.plot([r["step"] for r in val], [r["val_loss"] for r in val], "o-", label="val")
    ax_loss.set(xlabel="step", ylabel="CTC loss", yscale="log", title="loss")
    ax_loss.legend()
    for key, name in (("word_accuracy", "exact"), ("word_accuracy_ci", "case-insensitive")):
        ax_acc.plot([r["step"] for r in val], [r[key] for r in val], "o-", label=name)
    ax_acc.set(xlabel="step", ylabel="val word accuracy", ylim=(0, 1), title="accuracy")
    ax_acc.legend()
    fig.tight_layout()
    with atomic_file(out_png) as tmp:
        fig.savefig(tmp, format="png", dpi=90)


def append_metrics(out: Path, record: dict) -> None:
    with open(out / "metrics.jsonl", "a") as handle:
        handle.write(json.dumps(record) + "\n")


def truncate_metrics(path: Path, step: int) -> None:
    """Drop metrics logged after the checkpoint a run resumes from (they will be redone)."""
    records = [r for r in read_metrics(path) if r["step"] <= step]
    if path.exists():
        with atomic_file(path) as tmp:
            tmp.write_text("".join(json.dumps(r) + "\n" for r in records))
