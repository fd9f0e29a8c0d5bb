"""Where and how a training process runs: device choice, mixed precision, stop signals."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from textrec_data.errors import InputError


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise InputError("--device cuda: no CUDA device is available (use --device cpu)")
    return torch.device(name)


def amp_dtype(device: torch.device, enabled: bool) -> torch.dtype | None:
    """bf16 where the GPU supports it, fp16 otherwise; None (no autocast) on CPU or when off."""
    if not enabled or device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def leave_stop_signals_to_the_main_process(_worker_id: int = 0) -> None:
    """A DataLoader worker's ``worker_init_fn``: the worker moves to a process group of its
    own, so SIGTERM and SIGINT sent to the training's group (``timeout``, a shell's Ctrl-C,
    ``kill -TERM -PGID``) reach only the main process, which stops the run cleanly and then
    shuts its workers down. (A worker killed by the signal would end the run without its
    "stopped" save; one that ignored SIGTERM could not be terminated at exit.) Workers still end
    with their parent (torch's watchdog). Under systemd use ``KillMode=mixed``."""
    os.setpgid(0, 0)


@contextmanager
def stop_on_signal() -> Iterator[dict]:
    """While active, SIGTERM/SIGINT set a flag: the loop finishes its step, writes last.pt and
    exits. The previous handlers come back afterwards. Loader workers leave both to the main
    process (:func:`leave_stop_signals_to_the_main_process`), so a signal to the process group
    stops the run the same way."""
    flag = {"stop": False, "signal": None}

    def handler(signum, _frame):
        flag["stop"], flag["signal"] = True, signal.Signals(signum).name

    previous = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            previous[sig] = signal.signal(sig, handler)
        except ValueError:  # not the main thread (e.g. called from a test runner thread)
            pass
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
