"""The local engine: tasks in this process (1 worker) or in a pool of forked processes."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def map_tasks(
    fn: Callable, tasks: list, workers: int, address: str | None = None
) -> Iterator[Iterator[Any]]:
    """``fn(task)`` for every task, in completion order. Forking is safe: textrec_data keeps
    OpenCV single-threaded and the tasks never touch torch (see textrec_data.build)."""
    workers = min(workers or os.cpu_count() or 1, len(tasks))
    if workers <= 1:
        yield map(fn, tasks)
        return
    pool = mp.get_context().Pool(workers)
    try:
        yield pool.imap_unordered(fn, tasks)
    finally:
        pool.terminate()
        pool.join()
