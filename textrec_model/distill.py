"""Frame distillation (``textrec train --teacher``): a frozen teacher's per-frame class
distributions as a second training target of a CTC student.

The teacher is :func:`~textrec_model.transfer.init_model` of its source over the student's
charset, so its classes are the student's (class-aligned), and it reads the same input (equal
:class:`~textrec_data.preprocess.InputSpec`), so its frames are the student's. The loss term is
``weight * T^2 * KL(softmax(teacher / T) || softmax(student / T))`` per valid frame, averaged
over the valid frames of the batch (PaddleOCR's DistillCTCLogits idea; Hinton et al.'s ``T^2``
keeps the gradient scale of the temperature-softened term). A teacher that reads other inputs,
or a sequence-to-sequence model on either side, is refused: pseudo-labels
(``textrec label``) work for any pair.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch
from torch import Tensor

from textrec_data.charset import Charset
from textrec_data.errors import InputError
from textrec_data.preprocess import InputSpec
from textrec_model.models import RecognitionModel
from textrec_model.transfer import init_model

#: What a user is pointed to when frame distillation cannot pair the models.
_PSEUDO_LABELS = (
    "distill through pseudo-labels instead: `textrec label --teacher SOURCE --manifest M "
    "--out DIR`, then `textrec train --manifest DIR`"
)


def frame_kl(
    student_logits: Tensor, teacher_logits: Tensor, steps: Tensor, temperature: float = 1.0
) -> Tensor:
    """Mean over valid frames of ``KL(softmax(teacher / T) || softmax(student / T))``, in
    float32.

    Args:
        student_logits: ``(B, T, C)`` raw scores (gradients flow through them).
        teacher_logits: ``(B, T, C)`` raw scores of the same inputs and classes.
        steps: ``(B,)`` valid frames per sample; frames ``>= steps[b]`` are ignored.
        temperature: ``T`` > 0, softening both distributions.

    Returns a scalar: 0 for equal logits (up to rounding), > 0 otherwise; 0 when no frame is
    valid (a zero that still depends on ``student_logits``)."""
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(
            f"student logits {tuple(student_logits.shape)} and teacher logits "
            f"{tuple(teacher_logits.shape)} differ in shape"
        )
    student = (student_logits.float() / temperature).log_softmax(-1)
    teacher = (teacher_logits.float() / temperature).log_softmax(-1)
    per_frame = (teacher.exp() * (teacher - student)).sum(-1)  # (B, T)
    frames = torch.arange(per_frame.shape[1], device=per_frame.device)
    valid = frames[None, :] < steps.to(per_frame.device)[:, None]  # (B, T)
    return (per_frame * valid).sum() / valid.sum().clamp(min=1)


def distill_term(kl: Tensor, weight: float, temperature: float) -> Tensor:
    """The KL term as it is added to the CTC loss: ``weight * T^2 * kl``."""
    return kl * (weight * temperature**2)


def spec_differences(teacher: InputSpec, student: InputSpec) -> list[str]:
    """``field teacher-value vs student-value`` of each input spec field that differs."""
    return [
        f"{f.name} {getattr(teacher, f.name)!r} vs {getattr(student, f.name)!r}"
        for f in fields(InputSpec)
        if getattr(teacher, f.name) != getattr(student, f.name)
    ]


def check_student(student: RecognitionModel, source: str) -> None:
    """Refuse frame distillation into a sequence-to-sequence student (one line, --teacher)."""
    if student.head_kind != "ctc":
        raise InputError(
            f"--teacher {source}: frame distillation trains CTC models, the student is a "
            f"{student.head_kind} model; {_PSEUDO_LABELS}"
        )


def teacher_for(source: str, charset: Charset, student_spec: InputSpec) -> RecognitionModel:
    """The teacher of ``source`` (a checkpoint or a pretrained name) over ``charset``, frozen
    in eval mode: a CTC model reading ``student_spec`` exactly (else :class:`InputError`
    naming --teacher and the fields that differ)."""
    try:
        teacher, _ = init_model(source, charset)
    except InputError as exc:
        raise InputError(str(exc).replace("--init", "--teacher", 1)) from exc
    if teacher.head_kind != "ctc":
        raise InputError(
            f"--teacher {source}: a {teacher.head_kind} model has no frames to distill; "
            f"{_PSEUDO_LABELS}"
        )
    differences = spec_differences(teacher.input_spec, student_spec)
    if differences:
        raise InputError(
            f"--teacher {source}: its input differs from the student's "
            f"({'; '.join(differences)}): frames cannot be paired; {_PSEUDO_LABELS}"
        )
    teacher.eval()
    teacher.requires_grad_(False)
    return teacher


@dataclass(frozen=True)
class Distiller:
    """A run's frame distillation: the frozen ``teacher`` (on the training device) and the
    term's ``weight`` and ``temperature``."""

    teacher: RecognitionModel
    weight: float = 1.0
    temperature: float = 1.0

    def term(
        self, student_logits: Tensor, images: Tensor, steps: Tensor, dtype=None
    ) -> tuple[Tensor, Tensor]:
        """(the weighted term added to the loss, the plain KL, detached) for the student's
        logits ``(B, T, C)`` of ``images`` ``(B, C, H, W)`` with ``steps`` ``(B,)`` valid
        frames."""
        kl = frame_kl(
            student_logits, teacher_logits(self.teacher, images, dtype), steps, self.temperature
        )
        return distill_term(kl, self.weight, self.temperature), kl.detach()


def make_distiller(
    source: str, charset: Charset, student: RecognitionModel, weight: float, temperature: float
) -> Distiller:
    """The :class:`Distiller` of ``train --teacher source`` for ``student`` (a CTC model over
    ``charset``), its teacher on the student's device; refusals are one line."""
    check_student(student, source)
    teacher = teacher_for(source, charset, student.input_spec)
    device = next(student.parameters()).device
    return Distiller(teacher.to(device), weight, temperature)


@torch.no_grad()
def teacher_logits(teacher: RecognitionModel, images: Tensor, dtype=None) -> Tensor:
    """The frozen teacher's logits ``(B, T, C)`` (float32) of ``images`` ``(B, C, H, W)``,
    under autocast of ``dtype`` when given."""
    if dtype is None:
        return teacher(images).float()
    with torch.autocast(images.device.type, dtype=dtype):
        return teacher(images).float()
