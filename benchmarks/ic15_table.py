"""The ICDAR 2015 table of docs/RESULTS.md: every recognizer on the same official crops, one run.

Rows: the peer recognizers of :mod:`benchmarks.peers` (``--peer NAME``, repeatable; default every
one whose package is installed, the others skipped with a printed line and a note in the JSON),
each through its own package, and any number of textrec models (``--model``: checkpoints,
``.onnx`` exports, float32 or int8, pretrained names such as ``ppocr:v4``). A textrec row is
scored by :func:`textrec_model.scoring.score`, exactly as ``textrec eval`` scores, and once more
per ``--rotate`` setting (default ``vertical``: an extra column); a peer's texts by
:func:`textrec_model.metrics.compute_metrics` on the same labels. Columns: all words and a subset,
each as exact, case-insensitive and alphanumeric (case-insensitive, ``0-9a-z`` only) accuracy;
the alphanumeric accuracy on each error slice (:data:`SLICES`: vertical crops, 1-2 and 10+
characters, words with digits); and crops/s per thread: the median of ``--rounds`` passes,
one thread, the readers timed in turn so a change in the machine's load falls on all of them.

The subset: ``--subset FILE`` (MMOCR's ``textrecog_test_1811.json`` for IC15-1811, or any file
``textrec eval --subset`` reads), else IC15-1811's published rule that can be applied to the GT,
words of letters and digits only (1922 of the 2077; IC15-1811 also drops 111 "extremely
distorted" words by a list the GT does not carry).

    python -m benchmarks.ic15_table --manifest out/ic15_test_crops/manifest.parquet \\
        --model ppocr:v4 --model textrec_model/weights/textrec_ic15.pt --rounds 3 \\
        --out benchmarks/results/ic15_table.json
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import machine, median, positive_int
from benchmarks.peers import PEERS, STAND_INS, missing
from textrec_data.atomic import atomic_file
from textrec_data.preprocess import decode_crop
from textrec_data.subset import name_stem, read_subset
from textrec_model.metrics import compute_metrics, is_alphanumeric_word
from textrec_model.predictor import ROTATIONS, DecodeConfig
from textrec_model.recognizer import Recognizer
from textrec_model.scoring import SplitRow, score, split_rows

#: The subset without a ``--subset`` file: its name in the table, and the rule.
ALNUM_SUBSET = "letters and digits only"
ALNUM_RULE = (
    "words whose label is ASCII letters and digits only (1922 of IC15's 2077): IC15-1811's "
    "published rule without its list of 111 distorted words, which the GT does not carry"
)

#: Crops in, texts out (BGR crops of shape (H, W, 3), uint8).
ReadMany = Callable[[list[np.ndarray]], list[str]]

#: The error slices every row is also scored on (alphanumeric protocol within each): a word is
#: in a slice by its label, or by its crop's shape (H, W).
SLICES: dict[str, Callable[[str, tuple[int, ...]], bool]] = {
    "vertical (crop taller than wide)": lambda label, shape: shape[0] > shape[1],
    "1-2 characters": lambda label, shape: len(label) <= 2,
    "10+ characters": lambda label, shape: len(label) >= 10,
    "with digits": lambda label, shape: any(c.isdigit() for c in label),
}


def textrec_recognizer(source: str) -> Recognizer:
    """A textrec model (checkpoint, ONNX or pretrained name) on one thread."""
    if source.endswith(".onnx"):
        return Recognizer.from_onnx(source, threads=1)
    return Recognizer.from_checkpoint(source)


def subset_mask(words: list[SplitRow], subset_file: str | None) -> list[bool]:
    """Which words the subset column counts: those a subset file names (by file stem), else
    those whose label is letters and digits only."""
    if subset_file:
        keep = set(read_subset(subset_file))
        return [name_stem(w.image_id) in keep for w in words]
    return [is_alphanumeric_word(w.label) for w in words]


def slice_masks(labels: list[str], crops: list[np.ndarray]) -> dict[str, list[bool]]:
    """Which words each of :data:`SLICES` holds."""
    return {
        name: [is_in(label, crop.shape) for label, crop in zip(labels, crops, strict=True)]
        for name, is_in in SLICES.items()
    }


def _on(mask: list[bool], texts: list[str], labels: list[str]) -> dict:
    picked = [i for i, keep in enumerate(mask) if keep]
    return compute_metrics([texts[i] for i in picked], [labels[i] for i in picked]).__dict__


def scores(
    texts: list[str], labels: list[str], subset: list[bool], slices: dict[str, list[bool]]
) -> dict:
    """Metrics of ``texts`` on all words and on the subset; the alphanumeric accuracy and word
    count of each slice."""
    by_slice = {name: _on(mask, texts, labels) for name, mask in slices.items()}
    return {
        "all": compute_metrics(texts, labels).__dict__,
        "subset": _on(subset, texts, labels),
        "slices": {
            name: {"n": m["n"], "word_accuracy_alnum": m["word_accuracy_alnum"]}
            for name, m in by_slice.items()
        },
    }


def time_in_turn(readers: list[ReadMany], crops: list[np.ndarray], rounds: int):
    """Each reader's texts (first pass) and crops/s (median of ``rounds`` passes, the readers
    taking turns within each round)."""
    texts: list[list[str]] = [[] for _ in readers]
    speeds: list[list[float]] = [[] for _ in readers]
    for k in range(rounds):
        for i, read in enumerate(readers):
            start = time.perf_counter()
            out = read(crops)
            speeds[i].append(len(crops) / (time.perf_counter() - start))
            texts[i] = out if k == 0 else texts[i]
    return texts, [round(median(s), 1) for s in speeds]


def peer_readers(names: list[str]) -> tuple[dict[str, ReadMany], list[dict]]:
    """The peers that can run here (name -> reader over a list of crops), and a note for each
    one skipped."""
    readers, skipped = {}, []
    for name in names:
        why = missing(name)
        try:
            read = None if why else PEERS[name].make()
        except ImportError as exc:  # the package is there, a module it imports is not
            why = f"{PEERS[name].module}: {exc}"
        if why or read is None:
            print(f"skipped peer {name}: {why}")
            skipped.append({"peer": name, "why": why, "stand_in": STAND_INS.get(name, [None])[0]})
            continue
        readers[name] = lambda crops, read=read: [read(crop) for crop in crops]
    return readers, skipped


def textrec_reader(recognizer: Recognizer, decode: DecodeConfig) -> ReadMany:
    """The recognizer's texts for BGR crops (it reads RGB)."""
    predict = partial(recognizer.predict, decode=decode)
    return lambda crops: [p.text for p in predict([c[:, :, ::-1] for c in crops])]


def build_rows(args, words: list[SplitRow], crops: list[np.ndarray]) -> tuple[list, list]:
    """Score and time every row: peers first, then textrec models with their rotations."""
    labels = [w.label for w in words]
    subset = subset_mask(words, args.subset)
    slices = slice_masks(labels, crops)
    peers, skipped = peer_readers(list(PEERS) if args.peer is None else args.peer)
    models = [(m, args.label[k] if k < len(args.label) else m) for k, m in enumerate(args.model)]
    stand_ins = [STAND_INS[s["peer"]] for s in skipped if s["stand_in"]]
    models += [(m, label) for m, label in stand_ins if m not in args.model]
    rotations = [r for r in args.rotate or ["vertical"] if r != "none"]
    readers: list[ReadMany] = list(peers.values())
    textrec = []
    for source, label in models:
        recognizer = textrec_recognizer(source)
        for rotate in ["none", *rotations]:
            decode = DecodeConfig(rotate=rotate)
            read = [p.text for p in score(recognizer, words, decode).predictions]
            textrec.append((source, label, rotate, read))
            readers.append(textrec_reader(recognizer, decode))
    timed = crops[: args.time_limit]
    texts, speeds = time_in_turn(readers, timed, args.rounds)
    rows = []
    if args.time_limit:  # the peers' texts on every crop
        texts[: len(peers)] = [read(crops) for read in peers.values()]
    for k, name in enumerate(peers):
        row = {"name": name, "label": PEERS[name].label, "kind": "peer"}
        measured = {**scores(texts[k], labels, subset, slices), "crops_per_s_per_thread": speeds[k]}
        rows.append({**row, **measured})
    for k, (source, label, rotate, read) in enumerate(textrec, start=len(peers)):
        measured = {**scores(read, labels, subset, slices), "crops_per_s_per_thread": speeds[k]}
        if rotate == "none":
            rows.append({"name": source, "label": label, "kind": "textrec", **measured})
        else:
            rows[-1].setdefault("rotate", {})[rotate] = measured
    return rows, skipped


def print_rows(rows: list[dict]) -> None:
    for row in rows:
        a, s = row["all"], row["subset"]
        turned = " ".join(
            f"| --rotate {r} alnum {m['all']['word_accuracy_alnum']:.4f}"
            for r, m in row.get("rotate", {}).items()
        )
        sliced = " ".join(
            f"{name.split(' (')[0]} {m['word_accuracy_alnum']:.3f}"
            for name, m in row["slices"].items()
        )
        print(
            f"{row['name'][:40]:<40} n={a['n']} ci {a['word_accuracy_ci']:.4f} alnum "
            f"{a['word_accuracy_alnum']:.4f} | subset n={s['n']} alnum "
            f"{s['word_accuracy_alnum']:.4f} {turned} | {sliced} | "
            f"{row['crops_per_s_per_thread']} crops/s/thread"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", required=True, help="manifest of the test crops")
    parser.add_argument("--split", default="test")
    parser.add_argument("--peer", action="append", choices=sorted(PEERS), help="(repeat)")
    parser.add_argument("--no-peers", action="store_true", help="textrec rows only")
    parser.add_argument("--model", action="append", default=[], help="textrec model (repeat)")
    parser.add_argument(
        "--label", action="append", default=[], help="each --model's name in the table (repeat)"
    )
    parser.add_argument("--subset", help="subset file (e.g. textrecog_test_1811.json)")
    parser.add_argument(
        "--rotate", action="append", choices=ROTATIONS, help="textrec rows' extra --rotate column"
    )
    parser.add_argument("--rounds", type=positive_int, default=1)
    parser.add_argument("--limit", type=positive_int, help="only the first N crops (quick checks)")
    parser.add_argument(
        "--time-limit",
        type=positive_int,
        help="time on the first N crops only (slow models); all scored",
    )
    parser.add_argument("--out", default="benchmarks/results/ic15_table.json")
    args = parser.parse_args(argv)
    if args.no_peers:
        args.peer = []
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(1)
    words = list(split_rows([args.manifest], args.split))[: args.limit]
    crops = [decode_crop(w.crop, channels=3)[:, :, ::-1].copy() for w in words]  # BGR
    rows, skipped = build_rows(args, words, crops)
    print_rows(rows)
    result = {
        "manifest": args.manifest,
        "limit": args.limit,
        "time_limit": args.time_limit,
        "subset": args.subset,
        "subset_name": Path(args.subset).name if args.subset else ALNUM_SUBSET,
        "subset_rule": None if args.subset else ALNUM_RULE,
        "rounds": args.rounds,
        "rows": rows,
        "skipped": skipped,
        **machine(),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(args.out) as tmp:
        tmp.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
