"""The Dask engine: tasks on a Dask cluster (``dask.distributed``).

Without an address: a ``LocalCluster`` of ``workers`` single-threaded worker processes on
127.0.0.1, started and stopped here. With ``--address tcp://HOST:8786`` (or the environment's
``DASK_SCHEDULER_ADDRESS``): that cluster's workers, which need textrec installed and must reach
the inputs and ``--out`` (object storage or a shared filesystem).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from textrec_data.errors import InputError

#: The local cluster has no dashboard, so no statistical profiler (it samples every thread each
#: 10 ms), and its monitors poll less often: an idle 2-worker cluster used 2.65 CPU-seconds in
#: 20 s with Dask's defaults (event-loop tick every 20 ms, system monitor every 0.5 s, memory
#: monitor every 0.1 s), 0.62 with these, CPU that the two cores' tasks do not get.
QUIET_LOCAL_CLUSTER = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "200ms",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}


@contextmanager
def map_tasks(
    fn: Callable, tasks: list, workers: int, address: str | None = None
) -> Iterator[Iterator[Any]]:
    """``fn(task)`` for every task, as Dask tasks, in completion order."""
    try:
        import dask
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        hint = "pip install 'textrec[dask]'"
        raise InputError(f"--engine dask: Dask is not installed ({hint})") from exc
    address = address or dask.config.get("scheduler-address", None)
    with ExitStack() as stack:
        if address:
            try:
                client = stack.enter_context(Client(address))
            except (OSError, TimeoutError) as exc:
                raise InputError(f"{address}: cannot reach the Dask scheduler ({exc})") from exc
        else:
            stack.enter_context(dask.config.set(QUIET_LOCAL_CLUSTER))
            cluster = LocalCluster(
                n_workers=min(workers or os.cpu_count() or 1, max(1, len(tasks))),
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            stack.enter_context(cluster)
            client = stack.enter_context(Client(cluster))
        futures = client.map(fn, tasks, pure=False)
        yield (future.result() for future in as_completed(futures))
