"""The manifest stage written as a directory of parts, in parallel, on any engine.

The source's units are cut into tasks of consecutive units (about ``rows_per_part`` words each,
estimated from a sample of the plan); each task runs :func:`textrec_data.rows.process` on its
units, with the rows as one Arrow table (:func:`textrec_data.rows.packed`) as in the single-file
build, and writes its own part ``manifest/part-NNNNN.parquet`` and ``rejects/part-NNNNN.parquet``,
returning only its counts. A small final step merges the counts, builds the charset from the
merged character counts, and writes ``vocab.json``, ``report.json`` and, last, the manifest's
``_textrec.json``: until then the directory is an incomplete manifest that readers refuse.
Tasks depend only on the plan and ``rows_per_part``, so the parts and their rows are the same
whatever the engine and the number of workers.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from textrec_data.accounting import Tally, build_report, final_charset, manifest_metadata
from textrec_data.atomic import atomic_dir
from textrec_data.engines import run_tasks
from textrec_data.images import single_threaded_opencv
from textrec_data.manifest import (
    MANIFEST_SCHEMA,
    PARTS_METADATA,
    REJECTS_SCHEMA,
    TableWriter,
    part_name,
)
from textrec_data.manifest_config import ManifestConfig, output_command
from textrec_data.outputs import mark_output_dir
from textrec_data.records import Reject
from textrec_data.rows import WordRules, packed, process
from textrec_data.sources import Plan, Source
from textrec_data.storage import AnyPath, UrlPath, as_path, remove_tree

#: Without --rows-per-part: parts of at most this many words, and at least MIN_TASKS tasks.
DEFAULT_ROWS_PER_PART = 100_000
MIN_TASKS = 64
#: Units read (not decoded) to estimate the words per unit.
SAMPLE_UNITS = 8


@dataclass(frozen=True)
class PartTask:
    """One engine task: units ``units`` of the plan become part ``index`` under ``out``."""

    index: int
    units: list[Any]
    source: Source
    rules: WordRules
    out: str
    row_group_size: int


@dataclass
class PartResult:
    """What a task sends back: its part's file name and row-group sizes, and its counts."""

    index: int
    units: int
    row_groups: list[int]
    tally: Tally


def words_per_unit(source: Source, units: list) -> float:
    """Mean words (records that are not rejects) per unit, over up to SAMPLE_UNITS units spread
    evenly through the plan."""
    if not units:
        return 0.0
    step = max(1, len(units) // SAMPLE_UNITS)
    sample = units[::step][:SAMPLE_UNITS]
    words = sum(not isinstance(r, Reject) for u in sample for r in source.read(u))
    return words / len(sample)


def units_per_task(units: int, per_unit: float, rows_per_part: int | None) -> int:
    """Units per task: about ``rows_per_part`` words; without it, DEFAULT_ROWS_PER_PART words and
    at least MIN_TASKS tasks (so that small datasets still spread over the workers)."""
    size = round((rows_per_part or DEFAULT_ROWS_PER_PART) / per_unit) if per_unit > 0 else units
    if rows_per_part is None:
        size = min(size, math.ceil(units / MIN_TASKS))
    return max(1, size)


def row_group_sizes(rows: int, row_group_size: int) -> list[int]:
    """The row groups a :class:`TableWriter` writes for ``rows`` rows."""
    full, rest = divmod(rows, row_group_size)
    return [row_group_size] * full + ([rest] if rest else [])


def run_part(task: PartTask) -> PartResult:
    """An engine task: process the units, write the part and its rejects, return the counts."""
    single_threaded_opencv()  # a Dask worker is a spawned process of its own
    out, name = as_path(task.out), part_name(task.index)
    marker = {"part_of_manifest": PARTS_METADATA, "part": task.index}
    rows_out = TableWriter(out / "manifest" / name, MANIFEST_SCHEMA, task.row_group_size)
    rejects_out = TableWriter(out / "rejects" / name, REJECTS_SCHEMA, 64 * 1024)
    tally = Tally()
    try:
        for unit in task.units:
            result = packed(process(task.source.read(unit), task.rules, task.source.name))
            rows_out.write_table(result.rows)
            rejects_out.write(result.rejects)
            tally.add(result)
    except BaseException:
        rows_out.abort()
        rejects_out.abort()
        raise
    rows_out.close(marker)
    rejects_out.close(marker)
    groups = row_group_sizes(rows_out.rows_written, task.row_group_size)
    return PartResult(task.index, len(task.units), groups, tally)


@contextmanager
def output_dir(out: str, command: str = "manifest") -> Iterator[AnyPath]:
    """Where the parts go. Local: a temp directory, marked as ``command``'s output, renamed to
    ``out`` at the end. Object storage:
    ``out`` itself, emptied first (its old metadata file before anything else) and removed
    again on failure; the metadata file written last marks it complete."""
    target = as_path(out)
    if not isinstance(target, UrlPath):  # "." and ".." have no name to put a temp beside
        with atomic_dir(Path(os.path.abspath(target))) as tmp:
            (tmp / "manifest").mkdir()
            (tmp / "rejects").mkdir()
            mark_output_dir(tmp, command)
            yield tmp
        return
    (target / "manifest" / PARTS_METADATA).unlink(missing_ok=True)
    remove_tree(target)
    try:
        yield target
    except BaseException:
        remove_tree(target)
        raise


def plan_tasks(
    config: ManifestConfig, source: Source, plan: Plan, rules: WordRules, out: AnyPath
) -> list[PartTask]:
    """The plan's units cut into tasks of consecutive units."""
    size = units_per_task(len(plan.units), words_per_unit(source, plan.units), config.rows_per_part)
    starts = range(0, len(plan.units), size)
    return [
        PartTask(i, plan.units[s : s + size], source, rules, str(out), config.row_group_size)
        for i, s in enumerate(starts)
    ]


def build_parts(
    config: ManifestConfig, source: Source, plan: Plan, rules: WordRules, progress: bool
) -> dict:
    """Run the manifest stage as parallel tasks on ``config.engine``; return the report."""
    start = time.perf_counter()
    with output_dir(config.out, output_command(source)) as out:
        tasks = plan_tasks(config, source, plan, rules, out)
        tally, groups = Tally(), [[] for _ in tasks]
        bar = tqdm(total=len(plan.units), desc="manifest", unit="img", disable=not progress)
        with bar, run_tasks(config.engine, run_part, tasks, config.workers, config.address) as done:
            for result in done:
                tally.merge(result.tally)
                groups[result.index] = result.row_groups
                bar.update(result.units)
                bar.set_postfix(kept=tally.kept, rejected=tally.rejected)
        charset = final_charset(rules.charset, tally, config.case)
        files = plan.files or len(plan.units)
        metadata = manifest_metadata(config, source.name, files, charset, tally)
        parts = [
            {"file": part_name(t.index), "rows": sum(g), "row_groups": g}
            for t, g in zip(tasks, groups, strict=True)
        ]
        charset.save(out / "vocab.json")
        report = build_report(metadata, tally, plan.notes)
        report["parts"] = len(parts)
        report["seconds"] = round(time.perf_counter() - start, 3)
        report["rows_per_second"] = round(report["kept"] / max(report["seconds"], 1e-9), 1)
        (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
        document = {**metadata, "parts": parts}
        (out / "manifest" / PARTS_METADATA).write_text(json.dumps(document, ensure_ascii=False))
    return report
