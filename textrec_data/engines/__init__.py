"""Engines that run the manifest stage's tasks: ``local`` (a process pool on this machine, the
default, no extra) and ``dask`` (a Dask cluster: ``pip install 'textrec[dask]'``).

An engine maps a picklable function over tasks and yields the results as they complete; the
tasks write their own outputs, so only small results travel back. See docs/DESIGN.md for why
Dask.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from textrec_data.engines import dask_engine, local
from textrec_data.errors import InputError

ENGINES: dict[str, Callable[..., AbstractContextManager[Iterator[Any]]]] = {
    "local": local.map_tasks,
    "dask": dask_engine.map_tasks,
}


def run_tasks(
    engine: str, fn: Callable, tasks: list, workers: int, address: str | None
) -> AbstractContextManager[Iterator[Any]]:
    """A context yielding ``fn(task)`` for every task, in completion order, on ``engine``.

    ``workers`` 0 means one per core (local) or the cluster's own (dask with an address)."""
    if engine not in ENGINES:
        raise InputError(f"--engine {engine!r}: expected one of {sorted(ENGINES)}")
    if address and engine == "local":
        raise InputError(f"--address {address}: the local engine runs on this machine only")
    return ENGINES[engine](fn, tasks, workers, address)
