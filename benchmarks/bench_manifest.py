"""Manifest stage rows/s with --workers 2 vs --workers 1, alternated in one run."""

from __future__ import annotations

import shutil
import sys

from benchmarks.common import WORK, dataset_dirs, median, write_result
from textrec_data.build import ManifestConfig, build_manifest


def main(rounds: int = 3) -> dict:
    images, gt = dataset_dirs()
    rates: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(rounds):
        for workers in (1, 2):
            out = WORK / f"manifest_w{workers}"
            shutil.rmtree(out, ignore_errors=True)
            report = build_manifest(
                ManifestConfig(str(images), str(gt), str(out), workers=workers), progress=False
            )
            rates[workers].append(report["kept"] / report["seconds"])
    ratios = [b / a for a, b in zip(rates[1], rates[2], strict=True)]
    result = {
        "benchmark": "manifest rows/s, --workers 2 vs --workers 1",
        "dataset": str(gt),
        "rows": report["kept"],
        "rows_per_s_workers1": rates[1],
        "rows_per_s_workers2": rates[2],
        "ratio_median": median(ratios),
        "target": ">= 1.6",
    }
    path = write_result("manifest_workers", result)
    print(
        f"manifest: {median(rates[1]):.0f} rows/s (1 worker) vs {median(rates[2]):.0f} "
        f"(2 workers): ratio {result['ratio_median']:.2f}  -> {path}"
    )
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
