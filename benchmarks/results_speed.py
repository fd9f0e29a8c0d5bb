"""The speed and memory tables of docs/RESULTS.md (`make bench`, `make bench-scale`, word mode),
from benchmarks/results/*.json; see benchmarks/results_md.py."""

from __future__ import annotations

from benchmarks.results_common import load, machine_line, med, num
from tools.docblocks import table


def bench_table() -> str:
    """`make bench`: each benchmark's baseline, textrec, ratio and target."""
    workers, loader = load("manifest_workers"), load("loader")
    memory, infer, lmdb = load("manifest_memory"), load("inference"), load("lmdb")
    speed = infer["words_per_s"]
    seed = med(speed["seed_eager"])
    runs = memory["runs"]
    small, large = (runs[str(k)] for k in memory["scenes"])
    rss = lmdb["rss_main_mib"]
    body = [
        [
            "manifest rows/s, `--workers 2` vs `--workers 1`",
            num(med(workers["rows_per_s_workers1"]), 0),
            num(med(workers["rows_per_s_workers2"]), 0),
            f"**{workers['ratio_median']:.2f}x**",
            workers["target"],
        ],
        [
            "loader samples/s vs the seed's `ICDAR_CTCDataset` + `DataLoader`",
            num(med(loader["seed_samples_per_s"]), 0),
            num(med(loader["textrec_samples_per_s"]), 0),
            f"**{loader['ratio_median']:.1f}x**",
            loader["target"],
        ],
        [
            f"loader peak RSS, {loader['rss']['x1']['rows']} vs "
            f"{loader['rss']['x10']['rows']} rows",
            f"{num(loader['rss']['x1']['rss_mib'], 0)} MiB",
            f"{num(loader['rss']['x10']['rss_mib'], 0)} MiB",
            f"**{100 * loader['rss_growth_x10']:+.1f}%**",
            loader["rss_target"],
        ],
        [
            f"manifest stage peak RSS (main process), {small['kept']} vs {large['kept']} words",
            f"{num(small['rss_main_mib'], 0)} MiB",
            f"{num(large['rss_main_mib'], 0)} MiB",
            f"**{100 * memory['rss_main_growth']:+.1f}%**",
            memory["target"],
        ],
    ]
    for key, ratio in infer["ratio_vs_seed_median"].items():
        engine, model = key.removeprefix("textrec_").split("_", 1)
        engine = {"torch": "PyTorch", "onnx": "ONNX Runtime"}.get(engine, engine)
        body.append(
            [
                f"inference words/s vs the seed's eager loop: `{model}`, {engine}",
                num(seed, 0),
                num(med(speed[key]), 0),
                f"**{ratio:.1f}x**",
                infer["target"],
            ]
        )
    body += [
        [
            "LMDB import rows/s vs DTRB's bare `lmdb` + `cv2.imdecode` loop (100k words)",
            num(lmdb["rows_per_s_median_100k"]["bare"], 0),
            num(lmdb["rows_per_s_median_100k"]["import"], 0),
            f"**{lmdb['import_vs_bare']:.2f}x**",
            "≥ 0.8",
        ],
        [
            "same, on two free cores from CPU time",
            "",
            "",
            f"{lmdb['import_vs_bare_two_free_cores']:.2f}x",
            "≥ 0.8",
        ],
        [
            "LMDB export rows/s (100k words)",
            "",
            num(lmdb["rows_per_s_median_100k"]["export"], 0),
            "",
            "",
        ],
        [
            f"peak RSS (main), LMDB import / export, {lmdb['sizes'][0]:,} → "
            f"{lmdb['sizes'][1]:,} words",
            "",
            " / ".join(
                f"{num(rss[k][0], 0)} → {num(rss[k][1], 0)} MiB" for k in ("import", "export")
            ),
            " / ".join(f"**{100 * lmdb['rss_growth'][k]:+.1f}%**" for k in ("import", "export")),
            "flat (≤ +20%)",
        ],
    ]
    return table(["benchmark", "baseline", "textrec", "ratio", "target"], body) + (
        "\n\nMedians of each benchmark's rounds. " + machine_line(workers)
    )


def scale_table() -> str:
    """`make bench-scale`: Dask vs local engine, streaming a directory, the whole command."""
    result = load("scale")
    builds, stream, cli = result["builds"], result["streaming"], result["cli_local_engine"]
    runs = builds["runs"]

    def wall(key: str) -> str:
        return f"{num(med([r['wall_s'] for r in runs[key]]), 0)} s"

    def rate(key: str) -> str:
        return num(med(builds["rows_per_s"][key]), 0)

    def ratio(one: str, two: str) -> float:
        return med([r["wall_s"] for r in runs[one]]) / med([r["wall_s"] for r in runs[two]])

    def cpu(key: str) -> str:
        return num(med([r["cpu_s"] for r in runs[key]]), 0)

    walls = {k: [r["wall_s"] for r in v] for k, v in cli["runs"].items()}
    body = [
        [
            "Dask engine, 1 worker / 2 workers",
            f"{wall('dask_w1')} / {wall('dask_w2')}: **{builds['dask_2_vs_1']:.2f}x** "
            f"({rate('dask_w1')} / {rate('dask_w2')} rows/s)",
            f"{cpu('dask_w1')} / {cpu('dask_w2')}",
            builds["dask_2_vs_1_target"],
        ],
        [
            "local engine (parts), 1 worker / 2 workers",
            f"{wall('local_w1')} / {wall('local_w2')}: {ratio('local_w1', 'local_w2'):.2f}x "
            f"({rate('local_w1')} / {rate('local_w2')} rows/s)",
            f"{cpu('local_w1')} / {cpu('local_w2')}",
            "",
        ],
        [
            "Dask vs local at 2 workers",
            f"**{builds['local_vs_dask_at_2']:.2f}x** slower",
            f"{builds['cpu_dask_vs_local_at_2']:.2f}x",
            builds["local_vs_dask_at_2_target"],
        ],
        [
            f"streaming the directory ({stream['large']['rows']:,} train rows, 2 loader workers)",
            f"{num(stream['large']['samples_per_s'], 0)} samples/s "
            f"({stream['small']['words']:,} words: {num(stream['small']['samples_per_s'], 0)})",
            "",
            "",
        ],
        [
            f"peak RSS of that pass: {stream['large']['words']:,} vs "
            f"{stream['small']['words']:,} words",
            f"{num(stream['large']['rss_mib'], 0)} vs {num(stream['small']['rss_mib'], 0)} MiB: "
            f"**{stream['rss_large_vs_small']:.2f}x**",
            "",
            stream["rss_target"],
        ],
        [
            "whole `textrec manifest` on IC15 train, `--workers 2` vs `1`, median",
            f"{num(med(walls['w2']), 2)} s vs {num(med(walls['w1']), 2)} s: "
            f"**{cli['ratio_median']:.2f}x**",
            " / ".join(num(med([r["cpu_s"] for r in cli["runs"][k]]), 2) for k in ("w2", "w1")),
            cli["target"],
        ],
    ]
    head = f"{result['words']:,} words unless said. "
    return table(["measurement", "wall clock", "CPU seconds", "target"], body) + (
        "\n\n" + head + machine_line(result)
    )


def synth_words_table() -> str:
    """`textrec synth --words` speed (bench_synth.py)."""
    result = load("synth_words")
    names = {
        "default": "default assets",
        "extras": "with the extras",
        "scenes_then_manifest": "scene mode, then `textrec manifest`",
    }
    body = [
        [
            names.get(k, k) + (f" (`{' '.join(r['options'])}`)" if r.get("options") else ""),
            f"{r['words']:,}",
            f"{r['seconds']:.1f} s",
            f"**{num(r['words_per_s'])}**",
            f"{r['cpu_seconds']:.1f} s",
        ]
        for k, r in result["rows"].items()
    ]
    return table(["assets", "words", "wall clock", "words/s", "CPU"], body) + (
        f"\n\nTarget {result['target']}. " + machine_line(result)
    )
