"""Accuracy against speed for every recognizer of the IC15 table: IC15-2077 alphanumeric word
accuracy over crops/s per thread (log scale), textrec models and peer packages in different
markers, each point labelled, drawn to ``docs/frontier.png``; the points go to
``benchmarks/results/frontier.json`` (docs/RESULTS.md links the figure).

    python -m benchmarks.frontier                       # from benchmarks/results/ic15_table.json
    python -m benchmarks.frontier --manifest M --model ppocr:v4 ...   # run ic15_table.py first

Options other than ``--table``, ``--png`` and ``--out`` go to ``benchmarks.ic15_table``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.results_common import RESULTS, ROOT
from textrec_data.atomic import atomic_file

#: Marker and colour of each kind of row.
STYLE = {"textrec": ("o", "tab:blue"), "peer": ("s", "tab:orange")}


def short_label(label: str) -> str:
    """A row label without its parenthesised details and Markdown (``PP-OCRv4 rec (RapidOCR
    1.4.4, ONNX Runtime), zero-shot`` -> ``PP-OCRv4 rec, zero-shot``)."""
    out, depth = "", 0
    for char in label.replace("`", ""):
        depth += {"(": 1, ")": -1}.get(char, 0)
        out += char if depth == 0 and char != ")" else ""
    return " ".join(out.replace(" ,", ",").split())


def frontier_points(table: dict) -> list[dict]:
    """One point per row of an ic15_table.py result: label, kind, accuracy, speed."""
    return [
        {
            "label": row["label"],
            "kind": row["kind"],
            "word_accuracy_alnum": row["all"]["word_accuracy_alnum"],
            "crops_per_s_per_thread": row["crops_per_s_per_thread"],
        }
        for row in table["rows"]
    ]


def place_labels(axes, points: list[dict], line: float = 10.0) -> None:
    """Label each point beside it, moving a label down (with a line to its point) while it would
    overlap one placed before (labels about ``line`` pixels high, 4.2 pixels a character)."""
    axes.figure.canvas.draw()
    to_pixels = axes.transData.transform
    placed: list[tuple[float, float, float]] = []  # (left, right, y) in pixels
    for p in sorted(points, key=lambda p: -p["word_accuracy_alnum"]):
        text = short_label(p["label"])
        x, y = to_pixels((p["crops_per_s_per_thread"], 100 * p["word_accuracy_alnum"]))
        left, right, top = x + 5, x + 5 + 4.2 * len(text), y + 4
        while any(a < right and left < b and abs(top - c) < line for a, b, c in placed):
            top -= line
        placed.append((left, right, top))
        axes.annotate(
            text,
            (p["crops_per_s_per_thread"], 100 * p["word_accuracy_alnum"]),
            textcoords="offset pixels",
            xytext=(5, top - y),
            fontsize=7,
            arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "grey"} if top < y else None,
        )


def draw(points: list[dict], words: int, png: str | Path) -> None:
    """Scatter ``points`` (log x) with a label on each, to ``png``."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib import ticker

    figure, axes = plt.subplots(figsize=(10, 6.5), dpi=100)
    for kind, (marker, colour) in STYLE.items():
        mine = [p for p in points if p["kind"] == kind]
        axes.scatter(
            [p["crops_per_s_per_thread"] for p in mine],
            [100 * p["word_accuracy_alnum"] for p in mine],
            marker=marker,
            color=colour,
            s=50,
            label="textrec model" if kind == "textrec" else "peer package",
        )
    axes.set_xscale("log")
    speeds = [p["crops_per_s_per_thread"] for p in points]
    axes.set_xlim(min(speeds) / 1.5, max(speeds) * 4)
    axes.xaxis.set_major_locator(ticker.LogLocator(subs=(1, 2, 5)))
    axes.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, _: f"{x:g}"))
    axes.xaxis.set_minor_formatter(ticker.NullFormatter())
    place_labels(axes, points)
    axes.set_xlabel("crops/s per CPU thread (log scale)")
    axes.set_ylabel(f"IC15-{words} word accuracy, alphanumeric (%)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="lower left")
    figure.tight_layout()
    Path(png).parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(png) as tmp:
        figure.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(figure)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default=str(RESULTS / "ic15_table.json"))
    parser.add_argument("--png", default=str(ROOT / "docs" / "frontier.png"))
    parser.add_argument("--out", default=str(RESULTS / "frontier.json"))
    args, rest = parser.parse_known_args(argv)
    if rest:
        from benchmarks import ic15_table

        ic15_table.main([*rest, "--out", args.table])
    table = json.loads(Path(args.table).read_text(encoding="utf-8"))
    points = frontier_points(table)
    words = table["rows"][0]["all"]["n"]
    draw(points, words, args.png)
    result = {"table": Path(args.table).name, "words": words, "points": points}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(args.out) as tmp:
        tmp.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.png} and {args.out}: {len(points)} points")


if __name__ == "__main__":
    main()
