"""Regenerate the results tables of docs/RESULTS.md and README.md from benchmarks/results/*.json
(`make results`): every figure in a generated block is read from a result file, so the docs
cannot drift from the measurements.

    python -m benchmarks.results_md [--check]     # --check: exit 1 naming the stale files
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

from tools.docblocks import regenerate, table, write_if_changed

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DOCS = [ROOT / "README.md", ROOT / "docs" / "RESULTS.md"]

#: README's summary: the shipped model beside the recognizers a user would pick instead (labels
#: of benchmarks/results/ic15_table.json rows).
SUMMARY = [
    "the shipped model",
    "PP-OCRv4 rec (RapidOCR 1.4.4, ONNX Runtime), zero-shot",
    "PP-OCRv4 rec through textrec (`ppocr:v4`), zero-shot",
    "EasyOCR `english_g2` through textrec, zero-shot",
    "`crnn-vgg` fine-tuned from `english_g2`",
]
ROTATE = " --rotate vertical"


def load(name: str) -> dict:
    """One result file."""
    return json.loads((RESULTS / f"{name}.json").read_text(encoding="utf-8"))


def pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def num(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}"


def machine_line(result: dict) -> str:
    """Where a result was measured, from its own fields."""
    m = result.get("machine", result)
    return f"Measured with Python {m['python']}, torch {m['torch']}, {m['cpus']} CPU cores."


def scored_rows(name: str) -> dict[str, dict]:
    """An ic15_table.py result's rows by name."""
    return {row["name"]: row for row in load(name)["rows"]}


def summary_table() -> str:
    """README: the shipped model and its alternatives on the official IC15 test crops."""
    rows = {row["label"]: row for row in load("ic15_table")["rows"]}
    vertical = {
        row["label"]: row["all"]
        for row in load("ic15_rotate")["rows"]
        if row["name"].endswith(ROTATE)
    }
    body = []
    for label in SUMMARY:
        row, scores = rows[label], rows[label]["all"]
        turned = vertical.get(label, {}).get("word_accuracy_alnum")
        body.append(
            [
                label,
                f"**{pct(scores['word_accuracy_alnum'])}**",
                pct(turned),
                pct(scores["word_accuracy_ci"]),
                f"{scores['cer']:.3f}",
                num(row["crops_per_s_per_thread"]),
            ]
        )
    header = ["recognizer", "alnum", "alnum, `--rotate vertical`", "case-insensitive", "CER"]
    return table([*header, "crops/s per CPU thread"], body)


def ic15_table() -> str:
    """Every recognizer of ic15_table.json on the same official test crops."""
    result = load("ic15_table")
    body = [
        [
            row["label"],
            pct(s["word_accuracy_alnum"]),
            pct(s["word_accuracy_ci"]),
            pct(s["word_accuracy"]),
            f"{s['cer']:.3f}",
            num(row["crops_per_s_per_thread"]),
        ]
        for row in result["rows"]
        for s in [row["all"]]
    ]
    header = ["model", "alnum", "case-insensitive", "exact", "CER", "crops/s per thread"]
    return (
        table(header, body) + f"\n\n{result['rows'][0]['all']['n']} words. " + machine_line(result)
    )


def ic15_rotate() -> str:
    """Each model of ic15_rotate.json as given and with --rotate vertical."""
    result = load("ic15_rotate")
    rows = {row["name"]: row for row in result["rows"]}
    body = []
    for name, row in rows.items():
        if name.endswith(ROTATE):
            continue
        turned = rows[name + ROTATE]
        a, b = row["all"], turned["all"]
        gain = 100 * (b["word_accuracy_alnum"] - a["word_accuracy_alnum"])
        body.append(
            [
                row["label"],
                pct(a["word_accuracy_alnum"]),
                f"**{pct(b['word_accuracy_alnum'])}** ({gain:+.1f})",
                f"{pct(a['word_accuracy_ci'])} / {pct(b['word_accuracy_ci'])}",
                f"{num(row['crops_per_s_per_thread'])} / {num(turned['crops_per_s_per_thread'])}",
            ]
        )
    header = ["model", "alnum, as given", "alnum, `--rotate vertical`"]
    header += ["case-insensitive, as given / vertical", "crops/s per thread, as given / vertical"]
    return table(header, body) + "\n\n" + machine_line(result)


def synth_table(name: str) -> str:
    """A synth_ablation.py result: each row's data, training time and scores of best.pt."""
    result = load(name)
    body = []
    for section in ("synthetic_only", "ablation", "recipe"):
        for row, scores in result.get(section, {}).items():
            data = result["datasets"].get(dataset_of(section, row))
            made = f"{data['words']:,} ({num(data['seconds'], 0)} s)" if data else "–"
            seconds = scores.get("total_train_seconds") or scores["train_seconds"]
            best = scores["best"]
            official = best.get("official_crops")
            body.append(
                [
                    f"`{section}/{row}`",
                    made,
                    f"{num(seconds / 60)} min",
                    " / ".join(
                        [
                            pct(official["word_accuracy_alnum"]),
                            pct(official["word_accuracy_ci"]),
                            f"{official['cer']:.3f}",
                        ]
                    )
                    if official
                    else "–",
                    f"{pct(best['quads']['word_accuracy_alnum'])} / {best['quads']['cer']:.3f}",
                ]
            )
    header = ["row", "synthetic words (time to make)", "training (wall)"]
    header += ["official crops: alnum / case-insensitive / CER", "our quad crops: alnum / CER"]
    config = result["config"]
    steps = ", ".join(
        f"`--{k.replace('_', '-')} {config[k]}`"
        for k in (
            "words",
            "steps",
            "headline_steps",
            "recipe_steps",
            "finetune_steps",
            "finetune_repeats",
            "finetune_lr",
        )
        if k in config
    )
    return table(header, body) + f"\n\nOptions: {steps}. " + machine_line(result)


def dataset_of(section: str, row: str) -> str:
    """The synthetic dataset a synth_ablation.py row trains on."""
    base = row.split("+")[0]
    return base if section != "recipe" or base == "scene_mode" else "all"


def seed_recipe() -> str:
    """The seed notebook's recipe against textrec's, same test words."""
    result = load("seed_recipe")
    seed, ours = result["seed"], result["textrec"]
    body = [
        ["seed notebook, 20 epochs", num(seed["cpu_seconds"], 0), pct(seed["word_accuracy_alnum"])],
        [
            "textrec (`configs/ic15_synth_quads.toml`)",
            num(ours["cpu_seconds"], 0),
            f"**{pct(ours['word_accuracy_alnum'])}**",
        ],
        ["difference", "", f"**{result['points_alnum']:+.1f} points** (target {result['target']})"],
    ]
    return table(["recipe", "training CPU seconds", "IC15-2077 alnum"], body)


def med(values: list[float]) -> float:
    return statistics.median(values)


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


def renderers() -> dict[str, Callable[[], str]]:
    """Block name -> its generator."""
    render: dict[str, Callable[[], str]] = {
        "results:summary": summary_table,
        "results:ic15_table": ic15_table,
        "results:ic15_rotate": ic15_rotate,
        "results:seed_recipe": seed_recipe,
        "results:bench": bench_table,
        "results:scale": scale_table,
        "results:synth_words": synth_words_table,
    }
    for path in sorted(RESULTS.glob("synth_*.json")):
        if path.stem != "synth_words":
            render[f"results:{path.stem}"] = partial(synth_table, path.stem)
    return render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    render = renderers()
    if args.check:
        stale = [str(p) for p in DOCS if len(set(regenerate(p, render))) == 2]
        if stale:
            print(f"stale (run make results): {', '.join(stale)}", file=sys.stderr)
        return 1 if stale else 0
    for path in DOCS:
        if write_if_changed(path, render):
            print(f"rewrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
