"""`make bench`: run every benchmark; each writes benchmarks/results/<name>.json.

The IC15 side-by-side with the seed's training recipe (`benchmarks/seed_recipe.py`) needs a
trained model and hours of CPU, so it is run on its own (see README).
"""

from benchmarks import (
    bench_inference,
    bench_lmdb,
    bench_loader,
    bench_manifest,
    bench_manifest_memory,
)


def main() -> None:
    bench_manifest.main()
    bench_manifest_memory.main()
    bench_lmdb.main()
    bench_loader.main()
    bench_inference.main()


if __name__ == "__main__":
    main()
