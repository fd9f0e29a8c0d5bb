"""`make bench`: run every benchmark; each writes benchmarks/results/<name>.json."""

from benchmarks import bench_loader, bench_manifest


def main() -> None:
    bench_manifest.main()
    bench_loader.main()


if __name__ == "__main__":
    main()
