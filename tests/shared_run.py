"""The suite's one trained model: a ``tiny`` CRNN trained once per session (tests/conftest.py's
``shared_run`` fixture) for every test that needs a checkpoint but not training settings of its
own (the misuse world, the use, reliability and training tests)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from manifest_factory import write_manifest

from textrec_model.train import TrainConfig, train

#: The run's characters: it cannot spell 'j', which some words of its test manifest hold.
TRAIN_CHARS = "abcdefghi"

#: The run's options as the CLI spells them (all others are the defaults): evaluated and saved
#: every 5 steps, so a run of these options can be stopped between checkpoints.
RUN_OPTIONS = ["--model", "tiny", "--max-steps", "20", "--eval-every", "5", "--batch-size", "8",
               "--workers", "0", "--lr", "0.003", "--warmup-steps", "4"]  # fmt: skip


@dataclass(frozen=True)
class SharedRun:
    """A finished run of :data:`RUN_OPTIONS` and the manifests it goes with (never modified by a
    test: tests copy what they change)."""

    manifest: Path  # what the run trained on: 40 words of TRAIN_CHARS, train and val rows
    test_manifest: Path  # 24 other words, 'j' in the first three; val rows img_4 and img_9
    run: Path  # last.pt, best.pt, metrics.jsonl, config.json, curves.png

    @property
    def checkpoint(self) -> Path:
        return self.run / "last.pt"


def labels(n: int, chars: str, seed: int) -> list[str]:
    """``n`` random words of 1-5 of ``chars``."""
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list(chars), rng.integers(1, 6))) for _ in range(n)]


def train_manifest(path: Path, seed: int = 1) -> Path:
    """A manifest like the shared run's (40 words of TRAIN_CHARS, charset TRAIN_CHARS); another
    ``seed`` gives other words."""
    words = labels(40, TRAIN_CHARS, seed)
    return write_manifest(path, 40, seed=seed, chars=TRAIN_CHARS, labels=words)


def run_config(manifest: Path, out: Path) -> TrainConfig:
    """:data:`RUN_OPTIONS` as a config: training ``manifest`` into ``out``."""
    return TrainConfig(
        manifests=(str(manifest),), out=str(out), model="tiny", max_steps=20, eval_every=5,
        batch_size=8, workers=0, lr=3e-3, warmup_steps=4,
    )  # fmt: skip


def build_shared_run(root: Path) -> SharedRun:
    """Write the manifests under ``root`` and train the run (about a second on a CPU)."""
    (root / "manifest").mkdir(parents=True)
    manifest = train_manifest(root / "manifest" / "manifest.parquet")
    test_labels = labels(24, TRAIN_CHARS, 2)
    test_labels[:3] = ["jab", "j", "hij"]
    test_manifest = write_manifest(root / "test.parquet", 24, labels=test_labels, seed=3)
    train(run_config(manifest, root / "run"), progress=False)
    return SharedRun(manifest, test_manifest, root / "run")
