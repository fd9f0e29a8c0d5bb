"""Faults injected into a training run by tests (a crash between checkpoints)."""

from __future__ import annotations


def crash_at_second_validation(monkeypatch) -> None:
    """Simulate a crash after the first checkpoint: the second validation raises."""
    from textrec_model import train as train_module

    original, calls = train_module.validate, []

    def validate_then_crash(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("simulated crash")
        return original(*args, **kwargs)

    monkeypatch.setattr(train_module, "validate", validate_then_crash)
