"""The manifest stage: a source's records (ICDAR 2015 by default) -> manifest.parquet,
rejects.parquet, vocab, report.

Work is parallel over the source's units (each scene image decoded once, in a worker); the main
process writes row groups as results arrive, with a bounded number of units in flight, so memory
does not grow with the dataset. All outputs are written into a hidden temporary directory that
replaces ``out`` only when everything succeeded. A manifest written as a directory of parts
(``--rows-per-part``, another engine, or an object-storage ``out``) is built by
:mod:`textrec_data.sharded` from the same per-unit work (:mod:`textrec_data.rows`).
"""

from __future__ import annotations

import gc
import itertools
import json
import multiprocessing as mp
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
from tqdm import tqdm

from textrec_data.accounting import Tally, build_report, final_charset, manifest_metadata
from textrec_data.atomic import atomic_dir
from textrec_data.engines.local import ordered_results
from textrec_data.images import single_threaded_opencv
from textrec_data.manifest import MANIFEST_SCHEMA, REJECTS_SCHEMA, TableWriter
from textrec_data.manifest_config import ManifestConfig, output_command, validate_config
from textrec_data.outputs import mark_output_dir, output_lock
from textrec_data.rows import UnitResult, WordRules, packed, process
from textrec_data.sharded import build_parts
from textrec_data.sources import Plan, Source, open_source
from textrec_data.storage import AnyPath, as_path, is_url

_WORKER: tuple[Source, WordRules] | None = None


def _init_worker(source: Source, rules: WordRules) -> None:
    global _WORKER
    _WORKER = (source, rules)


def _run_units(units: list) -> UnitResult:
    """A pool task: the records of consecutive ``units`` as one result (one message, one table)."""
    source, rules = _WORKER
    records = itertools.chain.from_iterable(source.read(unit) for unit in units)
    return packed(process(records, rules, source.name))


def build_manifest(
    config: ManifestConfig, progress: bool = True, source: Source | None = None
) -> dict:
    """Run the manifest stage on ``source`` (default: ``config.format`` read from
    ``config.images`` and ``config.gt``); return the report (also written to
    ``out/report.json``). One process at a time writes an ``out``: it is locked from the check to
    the final rename."""
    if is_url(config.out):  # object storage: no lock, no rename (see textrec_data.sharded)
        return _build(config, as_path(config.out), progress, source)
    out = Path(os.path.abspath(as_path(config.out)))  # "." and ".." have no name for a temp
    with output_lock(out):
        return _build(config, out, progress, source)


def _build(config: ManifestConfig, out: AnyPath, progress: bool, source: Source | None) -> dict:
    given_charset = validate_config(config, source)
    if source is None:
        source = open_source(config.format, config.images, config.gt)
    plan = source.plan()
    rules = WordRules(
        config.case, given_charset, config.split, config.seed, config.val_fraction, config.unlabeled
    )
    if config.engine != "local" or config.rows_per_part or is_url(config.out):
        return build_parts(config, source, plan, rules, progress)
    start = time.perf_counter()
    with atomic_dir(out) as tmp:
        report = _write_outputs(config, source, plan, rules, tmp, progress)
        mark_output_dir(tmp, output_command(source))
        report["seconds"] = round(time.perf_counter() - start, 3)
        report["rows_per_second"] = round(report["kept"] / max(report["seconds"], 1e-9), 1)
        (tmp / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    return report


def _write_outputs(
    config: ManifestConfig, source: Source, plan: Plan, rules: WordRules, tmp: Path, progress: bool
) -> dict:
    tally = Tally()
    workers = config.workers or os.cpu_count() or 1
    # The workers start first: opening the writers (and their imports) overlaps their work.
    with _unit_results(source, plan.units, rules, workers) as results:
        rows_out = TableWriter(tmp / "manifest.parquet", MANIFEST_SCHEMA, config.row_group_size)
        rejects_out = TableWriter(tmp / "rejects.parquet", REJECTS_SCHEMA, 64 * 1024)
        bar = tqdm(total=len(plan.units), desc="manifest", unit="unit", disable=not progress)
        try:
            for units, result in results:
                rows_out.write_table(result.rows)
                rejects_out.write(result.rejects)
                tally.add(result)
                bar.update(units)
                bar.set_postfix(kept=tally.kept, rejected=tally.rejected)
        except BaseException:
            rows_out.abort()
            rejects_out.abort()
            raise
        finally:
            bar.close()
    charset = final_charset(rules.charset, tally, config.case)
    files = plan.files or len(plan.units)
    metadata = manifest_metadata(config, source.name, files, charset, tally)
    rows_out.close(metadata)
    rejects_out.close(metadata)
    charset.save(tmp / "vocab.json")
    return build_report(metadata, tally, plan.notes)


@contextmanager
def _unit_results(
    source: Source, units: list, rules: WordRules, workers: int
) -> Iterator[Iterator[tuple[int, UnitResult]]]:
    """(units, UnitResult) pairs in unit order, computed in-process (1 worker, a unit at a time)
    or by a process pool (tasks of one or more units)."""
    single_threaded_opencv()  # before the fork: the workers inherit it
    if workers <= 1:
        yield ((1, packed(process(source.read(u), rules, source.name))) for u in units)
        return
    # Forking is safe here: OpenCV is single-threaded (images.single_threaded_opencv) and the
    # workers never touch torch. "spawn" would re-import the caller's main module.
    # pyarrow imports pandas at its first conversion from Python objects (~1 s): done here,
    # before the fork, the workers share it instead of each paying for it.
    pa.Table.from_pylist([], schema=MANIFEST_SCHEMA)
    # Objects that exist before the fork are left out of the workers' garbage collections, which
    # would otherwise write to every page of the inherited heap (copy-on-write faults).
    gc.freeze()
    pool = mp.get_context().Pool(workers, _init_worker, (source, rules))
    try:
        yield ordered_results(pool, _run_units, units, workers)
    finally:
        pool.terminate()
        pool.join()
        gc.unfreeze()
