"""`make bench`: run every benchmark; each writes benchmarks/results/<name>.json.

The IC15 side-by-side with the seed's training recipe (`benchmarks/seed_recipe.py`) and the
synthetic engine's ablation (`benchmarks/synth_ablation.py`) train models for hours of CPU, so
they are run on their own (see docs/RESULTS.md).
"""

from benchmarks import (
    bench_inference,
    bench_lmdb,
    bench_loader,
    bench_manifest,
    bench_manifest_memory,
    bench_synth,
)


def main() -> None:
    bench_manifest.main()
    bench_manifest_memory.main()
    bench_lmdb.main()
    bench_loader.main()
    bench_inference.main()
    bench_synth.main([])


if __name__ == "__main__":
    main()
