"""Ablation of `textrec synth` on ICDAR 2015, and the from-scratch recipe with word-mode words.

    python -m benchmarks.synth_ablation --ic15 DIR [--out out/ablation] [--words 150000]
        [--steps 4000] [--headline-steps 12000] [--recipe-steps 14000] [--finetune-steps 16000]
        [--fonts fonts] [--corpus out/corpus/en.tsv] [--rows SECTION/ROW ...]

Every ablation row trains `crnn-small` on synthetic words only (same steps, seed and schedule),
picks the checkpoint on the IC15 *training* words (a val-only manifest: none of them is trained
on) and is scored on the 2077 IC15 test words: the official Task 4.3 crops when
DIR/WordRecognition holds them, and our quad crops. Rows: scene mode (scenes + manifest), word
mode with scene mode's ingredients, then each ingredient added alone (fonts, text, degradations,
backgrounds), all of them, and all with the training stream's crop re-cuts. The headline
row trains on all ingredients for longer (--headline-steps), for the synthetic-only target. Then
the full recipe (synthetic + IC15 train x4, as benchmarks/ic15_recipe.sh) with word mode's
synthetic data and with scene mode's, at the same steps and training options (no crop
re-cuts: they cost the ablation row 9 points), and the word-mode recipe with the official
crops of the IC15 training words (DIR/WordRecognition/TrainingSet) in place of quad crops, and
the two-stage recipe: the headline row's best.pt fine-tuned on its synthetic words and those
official crops (x --finetune-repeats) for --finetune-steps at --finetune-lr; its training time
is both stages' (``total_train_seconds``).
DIR holds ch4_training_images, ch4_training_localization_transcription_gt, ch4_test_images and
Challenge4_Test_Task1_GT.
The run can be stopped and started again with the same command: datasets and scored rows are
kept in OUT (row_NAME.json), and a row's interrupted training continues from its last.pt.
--rows SECTION/ROW ... runs only those rows (e.g. the headline alone with more steps, into its
own OUT and --result).
Writes benchmarks/results/synth_ablation.json (or --result).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import RESULTS, machine, positive_int
from textrec_data.atomic import atomic_file
from textrec_model.config import read_recipe

TEXTREC = [sys.executable, "-m", "pipelines.cli"]
CLASSIC = ["--text", "classic", "--render", "classic", "--crops", "tight"]
WORDS_PER_SCENE = 5.96  # legible words per default scene (make manifest: 7156 of 1200 scenes)
TABLE = {  # the result file's sections and rows, in docs/RESULTS.md's order
    "synthetic_only": ["all"],
    "ablation": [
        "scene_mode",
        "words",
        "fonts",
        "text",
        "degradations",
        "backgrounds",
        "all",
        "all+recut",
    ],
    "recipe": ["scene_mode", "word_mode", "word_mode+official_crops", "two_stage"],
}
#: The recipe files of the rows trained from scratch, and of the two-stage recipe's second stage.
CONFIGS = Path(__file__).resolve().parents[1] / "configs"
SCRATCH, FINETUNE = CONFIGS / "synth_scratch.toml", CONFIGS / "synth_finetune.toml"
#: The two-stage recipe starts from this row's best.pt (it is trained first when missing).
PRETRAINED = "synthetic_only/all"


def run(*args: str) -> float:
    """Run a textrec command; its wall-clock seconds. A failed command (it has printed its own
    one-line error) ends the script with its exit code."""
    start = time.perf_counter()
    code = subprocess.run([*TEXTREC, *args]).returncode
    if code:
        raise SystemExit(code)
    return round(time.perf_counter() - start, 1)


def positive_number(text: str) -> str:
    """argparse type: a finite number > 0, kept as written (it is passed on to textrec)."""
    if not 0 < float(text) < math.inf:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return text


def rows(a: argparse.Namespace, backgrounds: str) -> dict[str, list[str] | None]:
    """Dataset variants by name: `textrec synth --words` options (None: scene mode)."""
    everything = ["--fonts", a.fonts, "--text", "scene", "--corpus", a.corpus]
    everything += ["--render", "scene", "--crops", "mixed", "--backgrounds", backgrounds]
    return {
        "scene_mode": None,
        "words": CLASSIC,
        "fonts": [*CLASSIC, "--fonts", a.fonts],
        "text": ["--text", "scene", "--corpus", a.corpus, *CLASSIC[2:]],
        "degradations": [*CLASSIC[:2], "--render", "scene", "--crops", "mixed"],
        "backgrounds": [*CLASSIC, "--backgrounds", backgrounds],
        "all": everything,
    }


def manifest_once(out: Path, *options: str) -> str:
    """`textrec manifest OPTIONS` with lower-case labels into ``out`` unless it is there; its
    file."""
    if not (out / "manifest.parquet").is_file():
        run("manifest", *options, "--out", str(out), "--case", "lower", "--overwrite", "--quiet")
    return str(out / "manifest.parquet")


def real_manifests(a: argparse.Namespace, out: Path) -> dict[str, str]:
    """IC15 train (for the vocabulary and the recipe), IC15 train as val only, the IC15 test
    words as quad crops and, where DIR/WordRecognition has them, the official crops of the test
    words and of the training words (the latter split train/val by word, for a recipe row)."""
    train = ["--images", f"{a.ic15}/ch4_training_images"]
    train += ["--gt", f"{a.ic15}/ch4_training_localization_transcription_gt"]
    test = ["--images", f"{a.ic15}/ch4_test_images", "--gt", f"{a.ic15}/Challenge4_Test_Task1_GT"]
    vocab = str(out / "train" / "vocab.json")
    fit = ["--charset", vocab]
    manifests = {
        "train": manifest_once(out / "train", *train),
        "val": manifest_once(out / "val", *train, "--split", "val", *fit),
        "test": manifest_once(out / "test", *test, "--split", "test", *fit),
        "vocab": vocab,
    }
    words = Path(a.ic15) / "WordRecognition"
    if (words / "Challenge4_Test_Task3_GT.txt").is_file():  # all 2077 words, none rejected
        manifests["test_crops"] = manifest_once(
            out / "test_crops", "--format", "wordcrops", "--split", "test",
            "--gt", str(words / "Challenge4_Test_Task3_GT.txt"), "--images", str(words / "TestSet"),
        )  # fmt: skip
    if (words / "TrainingSet" / "gt.txt").is_file():
        manifests["train_crops"] = manifest_once(
            out / "train_crops", "--format", "wordcrops", *fit,
            "--gt", str(words / "TrainingSet" / "gt.txt"), "--images", str(words / "TrainingSet"),
        )  # fmt: skip
    return manifests


def synthetic(name: str, options: list[str] | None, a, out: Path, vocab: str) -> dict:
    """Generate one variant (once) as a manifest in the IC15 charset, all in train."""
    target, record = out / f"data_{name}", out / f"data_{name}.json"
    if record.is_file():  # written last: a stop before it makes the variant again
        return json.loads(record.read_text())
    fit = ["--charset", vocab, "--case", "lower", "--overwrite", "--quiet"]
    if options is None:  # scene mode: scenes, then the manifest stage
        images = math.ceil(a.words / WORDS_PER_SCENE)
        seconds = run(
            "synth",
            "--out",
            str(out / "scenes"),
            "--images",
            str(images),
            "--seed",
            str(a.seed),
            "--overwrite",
            "--quiet",
        )
        seconds += run(
            "manifest",
            "--images",
            str(out / "scenes/images"),
            "--gt",
            str(out / "scenes/gt"),
            "--out",
            str(target),
            "--split",
            "train",
            *fit,
        )
    else:
        seconds = run(
            "synth",
            "--words",
            str(a.words),
            "--out",
            str(target),
            "--seed",
            str(a.seed),
            "--val-fraction",
            "0",
            *options,
            *fit,
        )
    kept = json.loads((target / "report.json").read_text())["kept"]
    info = {
        "options": options,
        "words": kept,
        "seconds": seconds,
        "words_per_s": round(kept / seconds, 1),
    }
    with atomic_file(record) as tmp:
        tmp.write_text(json.dumps(info))
    return info


def train_and_score(
    name: str,
    manifests: list[str],
    steps: int,
    tests: dict[str, str],
    out: Path,
    extra: tuple[str, ...] = (),
    init: str | None = None,
    lr: str | None = None,
) -> dict:
    """Train crnn-small by its recipe file (configs/synth_scratch.toml, with ``init``
    configs/synth_finetune.toml) for ``steps`` (from run ``init``'s best.pt when given; ``lr``
    None: the file's); score best.pt
    (chosen on the val split) and last.pt on each test manifest. A scored row is read back from
    OUT/row_NAME.json, a finished training from OUT/trained_NAME.json; an interrupted one
    continues from its last.pt (``train_seconds`` then counts the last invocation only; None when
    a stop came between its end and that file). With ``init``, ``total_train_seconds`` adds
    that run's training time."""
    done = out / f"row_{name}.json"
    if done.is_file():
        return json.loads(done.read_text())
    run_dir = out / f"run_{name}"
    trained = out / f"trained_{name}.json"
    if not trained.is_file():
        resumed = (run_dir / "last.pt").is_file()
        args = [arg for m in manifests for arg in ("--manifest", m)]
        args += ["--config", str(FINETUNE if init else SCRATCH), *(["--lr", lr] if lr else [])]
        if init and not resumed:
            args += ["--init", str(out / f"run_{init}" / "best.pt")]
        seconds = (
            None
            if evaluated_step(run_dir) >= steps
            else run(
                "train",
                *args,
                "--out",
                str(run_dir),
                "--max-steps",
                str(steps),
                "--eval-every",
                str(max(steps // 6, min(steps, 1000))),
                "--quiet",
                *(["--resume"] if resumed else ["--overwrite"]),  # a run killed before last.pt
                *extra,
            )
        )
        with atomic_file(trained) as tmp:
            tmp.write_text(json.dumps({"train_seconds": seconds, "resumed": resumed}))
    recipe = read_recipe(FINETUNE if init else SCRATCH)
    scores = {**json.loads(trained.read_text()), "train_options": list(extra)}
    scores["lr"] = lr or str(recipe["lr"])
    if init:
        first = json.loads((out / f"trained_{init}.json").read_text())["train_seconds"]
        seconds = scores["train_seconds"]
        scores |= {"init": init, "init_train_seconds": first}
        scores["total_train_seconds"] = None if None in (first, seconds) else first + seconds
    for checkpoint in ("best", "last"):
        scores[checkpoint] = {}
        for test_name, test in tests.items():
            eval_dir = out / f"eval_{name}_{checkpoint}_{test_name}"
            run(
                "eval",
                "--checkpoint",
                str(run_dir / f"{checkpoint}.pt"),
                "--manifest",
                test,
                "--split",
                "test",
                "--out",
                str(eval_dir),
                "--quiet",
            )
            report = json.loads((eval_dir / "report.json").read_text())
            scores[checkpoint][test_name] = {
                k: report[k] for k in ("n", "word_accuracy_alnum", "word_accuracy_ci", "cer")
            }
    with atomic_file(done) as tmp:
        tmp.write_text(json.dumps(scores))
    return scores


def evaluated_step(run_dir: Path) -> int:
    """The last step a training in ``run_dir`` evaluated and saved (0 before any)."""
    metrics = run_dir / "metrics.jsonl"
    if not (run_dir / "last.pt").is_file() or not metrics.is_file():
        return 0
    rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    return max((row["step"] for row in rows if row.get("kind") == "val"), default=0)


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--ic15", required=True)
    p.add_argument("--out", default="out/ablation")
    p.add_argument(
        "--words", type=positive_int, default=150_000, help="words per synthetic variant"
    )
    p.add_argument(
        "--steps", type=positive_int, default=4000, help="training steps per ablation row"
    )
    p.add_argument(
        "--headline-steps",
        type=positive_int,
        default=12_000,
        help="steps of the all-ingredients headline",
    )
    p.add_argument(
        "--recipe-steps", type=positive_int, default=14_000, help="steps of the full recipe"
    )
    p.add_argument(
        "--finetune-steps",
        type=positive_int,
        default=16_000,
        help="steps of the two-stage recipe's second stage (from the headline's best.pt)",
    )
    p.add_argument(
        "--finetune-lr",
        type=positive_number,
        default=None,
        help="peak learning rate of that second stage [configs/synth_finetune.toml's]",
    )
    p.add_argument(
        "--finetune-repeats",
        type=positive_int,
        default=16,
        help="times the official training crops are listed beside the synthetic words there",
    )
    p.add_argument("--fonts", default="fonts", help="make fonts' folder")
    p.add_argument("--corpus", default="out/corpus/en.tsv", help="make corpus' file")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--result", default=str(RESULTS / "synth_ablation.json"))
    p.add_argument(
        "--rows",
        nargs="+",
        metavar="SECTION/ROW",
        help="run only these rows, e.g. synthetic_only/all (default: every row)",
    )
    a = p.parse_args()
    unknown = sorted(set(a.rows or ()) - {f"{s}/{r}" for s, rows in TABLE.items() for r in rows})
    if unknown:
        p.error(f"--rows: no such row {', '.join(unknown)} (SECTION/ROW as in the result file)")
    if not Path(a.ic15).is_dir():
        p.error(f"--ic15: {a.ic15} is not a folder")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    real = real_manifests(a, out)
    tests = {"quads": real["test"]}
    if "test_crops" in real:
        tests["official_crops"] = real["test_crops"]
    backgrounds = str(out / "backgrounds")
    if not Path(backgrounds).is_dir():  # IC15 *training* scenes with their words erased
        run(
            "backgrounds",
            "--images",
            f"{a.ic15}/ch4_training_images",
            "--gt",
            f"{a.ic15}/ch4_training_localization_transcription_gt",
            "--out",
            backgrounds,
        )
    variants = rows(a, backgrounds)
    real_x4 = [real["train"]] * 4
    word_mode = [name for name in variants if name not in ("all", "scene_mode")]

    def data(name: str) -> str:
        return str(out / f"data_{name}/manifest.parquet")

    crops = [real["train_crops"]] if "train_crops" in real else []
    crops_recipes = (  # the recipes on the official crops of the training words, where present
        {
            ("recipe", "word_mode+official_crops"): (
                "all", "recipe_word_mode_crops", [data("all"), *crops * 4], a.recipe_steps, {},
            ),
            ("recipe", "two_stage"): (  # fine-tunes the headline row's best.pt
                "all", "recipe_two_stage", [data("all"), *crops * a.finetune_repeats],
                a.finetune_steps, {"init": "all", "lr": a.finetune_lr},
            ),
        }
        if crops
        else {}
    )  # fmt: skip

    # (section, row) -> (dataset, run name, manifests, steps, train_and_score options), in the
    # order they run: the headline row, the rows that reuse its data, the word-mode recipe, the
    # other word mode rows, the recipes on the official training crops, then the two rows on
    # scene-mode words (the slowest to make; the scene-mode recipe last: ic15_recipe.sh
    # measures it too), so that a run stopped part-way already answers most.
    jobs = {
        ("synthetic_only", "all"): ("all", "all", [data("all"), real["val"]], a.headline_steps, {}),
        ("ablation", "all"): ("all", "ablation_all", [data("all"), real["val"]], a.steps, {}),
        ("ablation", "all+recut"): (
            "all", "ablation_all_recut", [data("all"), real["val"]], a.steps,
            {"extra": ("--crop-augment",)},
        ),
        ("recipe", "word_mode"): (
            "all", "recipe_word_mode", [data("all"), *real_x4], a.recipe_steps, {},
        ),
        **{
            ("ablation", name): (name, f"ablation_{name}", [data(name), real["val"]], a.steps, {})
            for name in word_mode
        },
        **crops_recipes,
        ("ablation", "scene_mode"): (
            "scene_mode", "ablation_scene_mode", [data("scene_mode"), real["val"]], a.steps, {},
        ),
        ("recipe", "scene_mode"): (
            "scene_mode", "recipe_scene_mode", [data("scene_mode"), *real_x4], a.recipe_steps, {},
        ),
    }  # fmt: skip
    if a.rows:
        wanted = set(a.rows)
        if "recipe/two_stage" in wanted and ("recipe", "two_stage") in jobs:
            wanted.add(PRETRAINED)  # its first stage (read back from OUT when scored there)
        jobs = {(s, r): job for (s, r), job in jobs.items() if f"{s}/{r}" in wanted}
    done: dict = {"datasets": {}, **{section: {} for section in TABLE}}
    for (section, row), (dataset, name, manifests, steps, options) in jobs.items():
        done["datasets"][dataset] = synthetic(dataset, variants[dataset], a, out, real["vocab"])
        done[section][row] = train_and_score(name, manifests, steps, tests, out, **options)
        write_result(a, done, jobs)
    headline = "official_crops" if "official_crops" in tests else "quads"
    best = {
        f"{section}/{row}": scores["best"][headline]["word_accuracy_alnum"]
        for section in TABLE
        for row, scores in done[section].items()
    }
    print(json.dumps({"test": headline, **best}))


def write_result(a: argparse.Namespace, done: dict, jobs: dict) -> None:
    """The result file with the rows scored so far, in the table's order; rows still to run are
    listed under ``pending``."""
    result = {"machine": machine(), "config": vars(a)}
    result["datasets"] = {
        k: done["datasets"][k] for k in TABLE["ablation"] if k in done["datasets"]
    }
    for section, keys in TABLE.items():
        result[section] = {k: done[section][k] for k in keys if k in done[section]}
    result["pending"] = [f"{s}/{r}" for s, r in jobs if r not in done[s]]
    path = Path(a.result)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
