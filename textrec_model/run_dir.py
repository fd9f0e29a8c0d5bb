"""The run folder of ``textrec train``: what may be written there, and when a run may go on.

A run folder holds only :data:`RUN_FILES` (and textrec's hidden temps). A folder that holds a run
(checkpoints or a training log) is continued with ``--resume`` or replaced with ``--overwrite``,
which removes exactly :data:`RUN_FILES`; without either it is refused.

A resume is exact or refused: the manifests must have the same contents (a digest of each
Parquet footer: row groups, sizes, statistics, metadata) and the same number of processes, and
every option must equal the run's except :data:`RESUME_MAY_CHANGE`, whose new values are applied
and recorded in config.json and later checkpoints.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

from textrec_data.atomic import atomic_file, remove_stale_temps
from textrec_data.bounds import option_name
from textrec_data.errors import InputError
from textrec_data.manifest import PARTS_METADATA, read_manifest_info
from textrec_data.outputs import claim_output, mark_output_dir
from textrec_data.storage import AnyPath, UrlPath, split_url
from textrec_model.checkpoint import Checkpoint, restore_training
from textrec_model.config import TrainConfig
from textrec_model.curves import truncate_metrics
from textrec_model.run import Run

RUN_FILES = ("last.pt", "best.pt", "metrics.jsonl", "curves.png", "config.json")
_HISTORY = ("last.pt", "best.pt", "metrics.jsonl")
#: Options a resumed run may change: how often it logs and validates, where and in which
#: precision it computes. They decide neither the data seen nor the optimizer's arithmetic.
RESUME_MAY_CHANGE = ("eval_every", "log_every", "device", "amp")
_NOT_COMPARED = ("manifests", "out", "resume", "overwrite")  # manifests: by content


def check_run_dir(config: TrainConfig) -> None:
    """Refuse an OUT that holds a manifest, files train does not write, or a run when neither
    ``--resume`` nor ``--overwrite`` is given."""
    inputs = [*(("--manifest", m) for m in config.manifests), ("--init", config.init)]
    claim_output(config.out, "train", RUN_FILES, inputs)
    history = [name for name in _HISTORY if (Path(config.out) / name).exists()]
    if history and not (config.resume or config.overwrite):
        raise InputError(
            f"{config.out}: --out holds a run ({', '.join(history)}); pass --resume to continue "
            "it or --overwrite to replace it"
        )


def manifest_digests(paths: tuple[str, ...]) -> list[str]:
    """SHA-256 of each manifest's Parquet footer: equal digests, same rows. A directory of parts:
    of its metadata file and every part's footer, in order (local or on object storage)."""
    digests = []
    for path in paths:
        info = read_manifest_info(path)
        if not info.path.is_dir():
            digests.append(hashlib.sha256(_footer(info.path)).hexdigest())
            continue
        digest = hashlib.sha256((info.path / PARTS_METADATA).read_bytes())
        for part in dict.fromkeys(file for file, _ in info.groups):
            digest.update(_footer(part))
        digests.append(digest.hexdigest())
    return digests


def _footer(path: AnyPath) -> bytes:
    """The Parquet footer of ``path`` (row groups, sizes, statistics, metadata)."""
    if isinstance(path, UrlPath):
        fs, inner = split_url(path.url)
        handle = fs.open_input_file(inner)
    else:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    with handle:
        handle.seek(-8, os.SEEK_END)
        size = int.from_bytes(handle.read(4), "little")
        handle.seek(-8 - size, os.SEEK_END)
        return handle.read(size)


def _comparable(field: str, value: object) -> object:
    return max(1, value) if field == "workers" else value  # 0 and 1 workers: the same shards


def resume_conflicts(checkpoint: Checkpoint, run: Run) -> list[str]:
    """What differs between ``checkpoint`` (one that can resume) and ``run`` and may not on a
    resume."""
    saved, current = checkpoint.config, asdict(run.config)
    conflicts = [
        f"{option_name(field)} {value} (the run has {saved[field]})"
        for field, value in current.items()
        if field in saved
        and field not in RESUME_MAY_CHANGE + _NOT_COMPARED
        and _comparable(field, value) != _comparable(field, saved[field])
    ]
    resume = checkpoint.resume
    if resume.manifest_digests is not None:
        same_data = resume.manifest_digests == run.manifest_digests
    else:  # a checkpoint written before digests: compare the manifests' metadata
        same_data = list(checkpoint.manifests) == run.manifest_meta
    if not same_data:
        conflicts.insert(0, "--manifest (other contents than the run's manifests)")
    world = resume.stream.get("world_size", run.dist_info.world_size)
    if world != run.dist_info.world_size:
        conflicts.append(f"{run.dist_info.world_size} processes (the run had {world})")
    return conflicts


def resume_run(run: Run) -> None:
    """Load OUT/last.pt into ``run`` (weights, optimizer, schedule, RNG, step) after checking
    that it continues exactly; :class:`InputError` lists what differs."""

    def check(checkpoint: Checkpoint) -> None:
        conflicts = resume_conflicts(checkpoint, run)
        if conflicts:
            raise InputError(
                f"{run.out / 'last.pt'}: cannot resume with {'; '.join(conflicts)}: a resumed "
                "run continues exactly the same run; resume with the run's values, or start a "
                "new run (another --out, or --overwrite)"
            )

    parts = {
        "model": run.model,
        "optimizer": run.optimizer,
        "scheduler": run.scheduler,
        "scaler": run.scaler,
    }
    last = restore_training(run.out / "last.pt", run.model.model_args(), run.charset, parts, check)
    run.step, run.best_accuracy = last.step, last.best_accuracy
    if run.step >= run.total_steps:
        raise InputError(
            f"{run.out / 'last.pt'}: the run finished (step {run.step} of {run.total_steps}); "
            "nothing to resume: start a new run (another --out, or --overwrite)"
        )


def prepare_run_dir(run: Run) -> None:
    """Rank 0: create OUT, clear it for ``--overwrite``, drop temps of killed runs and log
    records past a resumed step, and write config.json."""
    out, config = run.out, run.config
    out.mkdir(parents=True, exist_ok=True)
    mark_output_dir(out, "train")
    if config.overwrite:
        for name in RUN_FILES:
            (out / name).unlink(missing_ok=True)
    remove_stale_temps(out)  # a checkpoint write cut short by a kill
    if config.resume:
        truncate_metrics(out / "metrics.jsonl", run.step)
    with atomic_file(out / "config.json") as tmp:
        tmp.write_text(json.dumps(asdict(config), indent=1) + "\n")
