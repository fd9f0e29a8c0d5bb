"""A training run once set up (:class:`Run`): what the step, log, validation and run-folder
functions share, and the :class:`~textrec_model.checkpoint.Checkpoint` it writes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from textrec_data.charset import Charset
from textrec_model.checkpoint import Checkpoint, ResumeState, rng_state
from textrec_model.config import TrainConfig
from textrec_model.distill import Distiller
from textrec_model.distributed import DistInfo
from textrec_model.models import RecognitionModel
from textrec_model.transfer import InitReport


@dataclass
class Run:
    """The model, optimizer, schedule and data facts of a run, and where it stands."""

    config: TrainConfig
    out: Path
    device: torch.device
    dtype: torch.dtype | None
    dist_info: DistInfo
    charset: Charset
    model: RecognitionModel
    ddp_model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler
    per_epoch: int
    total_steps: int
    manifest_meta: list[dict]
    manifest_digests: list[str]
    init_report: InitReport | None = None
    freeze: tuple[str | None, int] = (None, 0)
    step: int = 0
    best_accuracy: float = -1.0
    skipped: dict[str, int] = field(default_factory=dict)
    distiller: Distiller | None = None  # train --teacher
    kl_sum: float = 0.0  # the distillation KL of the log window's steps, times their samples

    def checkpoint(self, metrics: dict | None = None) -> Checkpoint:
        """The model, its hyper-parameters and everything needed to resume, at this step."""
        return Checkpoint(
            model_args=self.model.model_args(),
            model=self.model.state_dict(),
            charset=self.charset,
            config=asdict(self.config),
            step=self.step,
            model_name=self.config.model_name,
            epoch=self.step / self.per_epoch,
            best_accuracy=self.best_accuracy,
            metrics=metrics,
            init=asdict(self.init_report) if self.init_report else None,
            manifests=tuple(self.manifest_meta),
            resume=ResumeState(
                optimizer=self.optimizer.state_dict(),
                scheduler=self.scheduler.state_dict(),
                scaler=self.scaler.state_dict(),
                rng=rng_state(),
                stream={
                    "batches_consumed": self.step,
                    "workers": self.config.workers,
                    "world_size": self.dist_info.world_size,
                },
                manifest_digests=self.manifest_digests,
            ),
        )
