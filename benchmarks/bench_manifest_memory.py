"""Peak RSS of the manifest stage on N and 4N synthetic scenes: it should not grow with N.

The stage writes row groups as results arrive, so memory holds about one row group and one image
per worker whatever the dataset size. Each build runs in a fresh subprocess (peak RSS of the
main process and of its pool workers, from ``getrusage``).
"""

from __future__ import annotations

import json
import shutil
import sys

from benchmarks.common import WORK, peak_rss_mib, run_measured, write_result
from textrec_data.build import ManifestConfig, build_manifest
from textrec_data.synth import SynthConfig, write_synth_dataset

SIZES = (400, 1600)  # both several row groups (1024 rows) past the first


def build_rss(images: str, gt: str, out: str) -> dict:
    """Run in a subprocess: build one manifest (2 workers); report kept rows and peak RSS."""
    report = build_manifest(ManifestConfig(images, gt, out, workers=2, overwrite=True), False)
    return {"kept": report["kept"], **peak_rss_mib()}


def main() -> dict:
    results = {}
    for n in SIZES:
        synth = WORK / f"memory_synth_{n}"
        if not (synth / "gt").is_dir():
            shutil.rmtree(synth, ignore_errors=True)
            write_synth_dataset(synth, SynthConfig(images=n, seed=11), progress=False)
        results[n] = run_measured(
            "benchmarks.bench_manifest_memory",
            str(synth / "images"), str(synth / "gt"), str(WORK / f"memory_manifest_{n}"),
        )  # fmt: skip
    small, big = (results[n] for n in SIZES)
    growth = big["rss_main_mib"] / small["rss_main_mib"] - 1
    result = {
        "benchmark": "manifest stage peak RSS vs number of scenes",
        "scenes": list(SIZES),
        "runs": {str(k): v for k, v in results.items()},
        "rss_main_growth": growth,
        "target": "does not grow with the number of images (<= +20% for 4x the scenes)",
    }
    path = write_result("manifest_memory", result)
    print(
        f"manifest memory: {small['kept']} words {small['rss_main_mib']:.0f} MiB -> "
        f"{big['kept']} words {big['rss_main_mib']:.0f} MiB ({growth:+.1%}); workers "
        f"{small['rss_worker_mib']:.0f} -> {big['rss_worker_mib']:.0f} MiB  -> {path}"
    )
    return result


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--rss":
        print(json.dumps(build_rss(*sys.argv[2:])))
    else:
        main()
