"""Training-data loader samples/s: textrec's ManifestStream vs the seed's ICDAR_CTCDataset.

Both read the same ICDAR-format data with the same DataLoader worker count and batch size,
alternated in one run. Also measures the peak RSS of a full pass of the stream over a manifest
and over one 10x larger (in fresh subprocesses).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import torch
from torch.utils.data import DataLoader

from benchmarks.common import (
    WORK,
    dataset_dirs,
    median,
    peak_rss_mib,
    run_measured,
    write_result,
)
from benchmarks.seed_baseline import CTCTokenizer, ICDAR_CTCDataset, build_vocab, collate_fn
from textrec_data.build import ManifestConfig, build_manifest
from textrec_data.manifest import MANIFEST_SCHEMA, TableWriter, read_manifest_info
from textrec_data.stream import ManifestStream, StreamConfig

BATCH, WORKERS = 32, 2


def samples_per_s(loader, max_samples: int) -> float:
    """Samples/s over the first ``max_samples`` (after one warm-up batch)."""
    it = iter(loader)
    next(it)
    count, start = 0, time.perf_counter()
    for batch in it:
        count += len(batch[3]) if isinstance(batch, tuple | list) else len(batch.labels)
        if count >= max_samples:
            break
    return count / (time.perf_counter() - start)


def enlarge(manifest: Path, factor: int, out: Path) -> Path:
    """A manifest with every row repeated ``factor`` times, written row group by row group."""
    info = read_manifest_info(manifest)
    parquet = pq.ParquetFile(manifest)
    writer = TableWriter(out, MANIFEST_SCHEMA, max(info.row_group_rows))
    for _ in range(factor):
        for g in range(parquet.num_row_groups):
            writer.write(parquet.read_row_group(g).to_pylist())
    meta = dict(info.metadata)
    meta["counts"] = {
        **meta["counts"],
        "splits": {k: v * factor for k, v in meta["counts"]["splits"].items()},
    }
    writer.close(meta)
    return out


def stream_pass_rss(manifest: str) -> dict:
    """Run in a subprocess: one full pass over the train split; report peak RSS (MiB)."""
    stream = ManifestStream([manifest], "train", StreamConfig(batch_size=BATCH), epochs=1)
    rows = sum(len(b.labels) for b in DataLoader(stream, batch_size=None, num_workers=WORKERS))
    return {"rows": rows, **peak_rss_mib()}


def main(rounds: int = 3) -> dict:
    torch.set_num_threads(1)
    images, gt = dataset_dirs()
    manifest_dir = WORK / "loader_manifest"
    shutil.rmtree(manifest_dir, ignore_errors=True)
    build_manifest(ManifestConfig(str(images), str(gt), str(manifest_dir)), progress=False)
    manifest = manifest_dir / "manifest.parquet"

    tokenizer = CTCTokenizer(build_vocab(images, gt))
    seed_ds = ICDAR_CTCDataset(images, gt, tokenizer)
    seed_loader = DataLoader(
        seed_ds, batch_size=BATCH, shuffle=True, num_workers=WORKERS, collate_fn=collate_fn
    )
    ours = ManifestStream([manifest], "train", StreamConfig(batch_size=BATCH, augment=True))
    ours_loader = DataLoader(ours, batch_size=None, num_workers=WORKERS)
    seed_rates, our_rates = [], []
    for _ in range(rounds):
        seed_rates.append(samples_per_s(seed_loader, 640))
        our_rates.append(samples_per_s(ours_loader, 6400))
    ratios = [o / s for o, s in zip(our_rates, seed_rates, strict=True)]

    big = enlarge(manifest, 10, WORK / "loader_manifest_x10.parquet")
    rss = {}
    for name, path in (("x1", manifest), ("x10", big)):
        rss[name] = run_measured("benchmarks.bench_loader", str(path))
    growth = rss["x10"]["rss_mib"] / rss["x1"]["rss_mib"] - 1
    result = {
        "benchmark": "loader samples/s: ManifestStream vs seed ICDAR_CTCDataset",
        "dataset": str(gt),
        "batch_size": BATCH,
        "workers": WORKERS,
        "seed_samples_per_s": seed_rates,
        "textrec_samples_per_s": our_rates,
        "ratio_median": median(ratios),
        "target": ">= 20",
        "rss": rss,
        "rss_growth_x10": growth,
        "rss_target": "<= 0.20",
    }
    path = write_result("loader", result)
    print(
        f"loader: seed {median(seed_rates):.0f} samples/s vs textrec {median(our_rates):.0f}: "
        f"ratio {result['ratio_median']:.1f}; peak RSS {rss['x1']['rss_mib']:.0f} MiB -> "
        f"{rss['x10']['rss_mib']:.0f} MiB on 10x rows ({growth:+.1%})  -> {path}"
    )
    return result


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--rss":
        print(json.dumps(stream_pass_rss(sys.argv[2])))
    else:
        main()
