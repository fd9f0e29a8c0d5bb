"""Fine-tuning candidates on two val sets and the test crops, one table (issue: gain on
ICDAR 2015 without forgetting elsewhere). Each candidate is a checkpoint scored by
``textrec eval`` on IC15 val (held-out official training crops), a general val set (synthetic
words in many fonts, never trained on by the candidates it judges) and the official IC15 test
crops; this script reads the ``report.json`` of each eval folder. Selection uses the two val
columns only; the test column is reported, never used to choose.

    textrec eval --checkpoint C --manifest ic15_train --split val --out evals/NAME.ic15val
    textrec eval --checkpoint C --manifest synth_general --split val --out evals/NAME.genval
    textrec eval --checkpoint C --manifest ic15_test --out evals/NAME.test
    python -m benchmarks.finetune_candidates --evals evals --row NAME="what it is" ... \\
        --out benchmarks/results/v6_finetune.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.common import machine

#: Eval folder suffix -> column.
COLUMNS = {"ic15val": "ic15_val", "genval": "general_val", "test": "ic15_test"}
#: Figures kept per column.
KEYS = ("n", "word_accuracy_alnum", "word_accuracy_ci", "word_accuracy", "cer")


def read_row(evals: Path, name: str) -> dict:
    """The figures of ``evals/NAME.{ic15val,genval,test}/report.json`` that exist."""
    row = {}
    for suffix, column in COLUMNS.items():
        path = evals / f"{name}.{suffix}" / "report.json"
        if path.is_file():
            report = json.loads(path.read_text())
            metrics = report.get("metrics", report)
            row[column] = {k: metrics[k] for k in KEYS}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evals", required=True, type=Path, help="folder of eval outputs")
    parser.add_argument("--row", action="append", required=True, help="NAME=label (repeat)")
    parser.add_argument("--note", default="", help="how the candidates were made")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    rows = []
    for spec in args.row:
        name, _, label = spec.partition("=")
        rows.append({"name": name, "label": label or name, **read_row(args.evals, name)})
    result = {"note": args.note, "rows": rows, **machine()}
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
