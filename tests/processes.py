"""Subprocesses a test starts, never left behind: each runs in a session of its own, and the
whole session (a training and its loader workers) is killed when the test leaves it, passed,
failed or interrupted by Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress


@contextmanager
def running(args: list[str], **popen) -> Iterator[subprocess.Popen]:
    """``subprocess.Popen(args, **popen)`` in a new session (its process group is its pid)."""
    proc = subprocess.Popen(args, start_new_session=True, **popen)
    try:
        yield proc
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
