"""The local engine: tasks in this process (1 worker) or in a pool of forked processes; and the
ordered, bounded pool tasks of a single-file manifest (textrec_data.build)."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from textrec_data.images import single_threaded_opencv


@contextmanager
def map_tasks(
    fn: Callable, tasks: list, workers: int, address: str | None = None
) -> Iterator[Iterator[Any]]:
    """``fn(task)`` for every task, in completion order. Forking is safe: OpenCV is made
    single-threaded first (the workers inherit it) and the tasks never touch torch."""
    single_threaded_opencv()
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


#: Tasks submitted ahead per worker: results wait in memory only for so many tasks.
IN_FLIGHT_PER_WORKER = 4
#: Records a pool task aims at: units with few words (a scene image each) are sent together, as
#: each task costs the main process a message and a table write; units of hundreds of words (word
#: lists, LMDB chunks) go one a task. Sized on the records per unit of the results so far.
TASK_RECORDS = 128
MAX_TASK_UNITS = 16


def task_size(records: int, units: int) -> int:
    """Units for the next task, given ``records`` read from ``units`` units so far."""
    if not units:
        return 1
    return max(1, min(MAX_TASK_UNITS, round(TASK_RECORDS * units / max(records, 1))))


def ordered_results(pool, fn: Callable, units: list, workers: int) -> Iterator[tuple[int, Any]]:
    """(units, ``fn(task)``) for tasks of consecutive ``units``, in order, where ``fn`` returns
    a result with a ``records`` count; at most IN_FLIGHT_PER_WORKER tasks per worker are
    submitted and not yet consumed (``Pool.imap`` would run ahead and hold every finished result
    in memory)."""
    pending: deque = deque()
    submitted = records = done = 0
    while submitted < len(units) or pending:
        if submitted < len(units) and len(pending) < IN_FLIGHT_PER_WORKER * workers:
            task = units[submitted : submitted + task_size(records, done)]
            submitted += len(task)
            pending.append((len(task), pool.apply_async(fn, (task,))))
            continue
        count, future = pending.popleft()
        result = future.get()
        records, done = records + result.records, done + count
        yield count, result
