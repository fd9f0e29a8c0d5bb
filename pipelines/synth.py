"""`textrec synth`: synthetic ICDAR 2015 scenes (the embedded default), or word crops straight
into a manifest (word mode, `--words N`)."""

from __future__ import annotations

import click

from pipelines.common import user_errors
from textrec_data.build import ManifestConfig
from textrec_data.charset import CASE_POLICIES
from textrec_data.errors import InputError
from textrec_data.synth import SynthConfig, write_synth_dataset
from textrec_data.synth.word.config import CROP_STYLES, RENDER_STYLES, TEXT_STYLES, WordConfig
from textrec_data.synth.word.source import SOURCE_PATH, write_synth_words
from textrec_data.synth.word.tokens import TextConfig

_WORD_ONLY = ("corpus", "backgrounds", "charset")
_PATH = click.Path()
_T = TextConfig()


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise InputError(
            f"--case-weights {text!r}: expected 4 numbers separated by commas"
        ) from None


@click.command("synth")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--images", type=click.IntRange(min=1), help="Scene images [400].")
@click.option("--words", type=click.IntRange(min=1), help="Word mode: word crops into a manifest.")
@click.option("--seed", default=0, show_default=True, help="Random seed.")
@click.option("--fonts", multiple=True, type=_PATH, help="Folder of TTF/OTF fonts (repeatable).")
@click.option("--corpus", type=_PATH, help="Words: 'word<TAB>count' or text lines.")
@click.option("--backgrounds", type=_PATH, help="Words: folder of background photos.")
@click.option("--text", type=click.Choice(TEXT_STYLES), default="scene", show_default=True)
@click.option("--render", type=click.Choice(RENDER_STYLES), default="scene", show_default=True)
@click.option("--crops", type=click.Choice(CROP_STYLES), default="mixed", show_default=True)
@click.option("--case-weights", default=",".join(map(str, _T.case_weights)), show_default=True,
              help="Odds of as written, lower, UPPER, Title words.")  # fmt: skip
@click.option("--length", type=(int, int), default=(_T.min_length, _T.max_length),
              show_default=True, help="Min and max characters per word.")  # fmt: skip
@click.option("--generated-rate", default=_T.generated_rate, show_default=True,
              help="Share of numbers, prices, dates, times, phones, URLs, e-mails.")  # fmt: skip
@click.option("--case", type=click.Choice(CASE_POLICIES), default="keep", show_default=True)
@click.option("--charset", type=_PATH, help="Words: a vocab.json the words must fit.")
@click.option("--val-fraction", default=0.05, show_default=True, help="Words: share in val.")
@click.option("--workers", default=0, show_default=True, help="Words: processes (0: all cores).")
@click.option("--labels/--no-labels", default=True, help="Words: --no-labels: unlabeled rows.")
@click.option("--overwrite", is_flag=True, help="Replace an existing dataset in OUT.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@user_errors
def command(out, images, words, seed, fonts, case_weights, length, generated_rate, **word):
    """Scenes: OUT/images/img_K.jpg and OUT/gt/gt_img_K.txt in the ICDAR 2015 format. Words
    (--words N): OUT/manifest.parquet and the manifest stage's other outputs."""
    overwrite, quiet = word.pop("overwrite"), word.pop("quiet")
    if words is None:
        used = [f"--{k}" for k in _WORD_ONLY if word[k]] + ["--no-labels"] * (not word["labels"])
        if used:
            raise InputError(f"{out}: {', '.join(used)} need word mode (--words N)")
        config = SynthConfig(images=images or SynthConfig.images, seed=seed, fonts=fonts)
        summary = write_synth_dataset(out, config, progress=not quiet, overwrite=overwrite)
        click.echo(
            f"wrote {summary.images} images, {summary.words} words "
            f"({summary.placeholders} ###) to {summary.out_dir}"
        )
        return
    if images is not None:
        raise InputError(f"{out}: --images and --words are exclusive (scenes or word crops)")
    text = TextConfig(generated_rate, _floats(case_weights), _T.edge_punctuation_rate, *length)
    manifest = ManifestConfig(
        SOURCE_PATH, SOURCE_PATH, out, split="auto", val_fraction=word.pop("val_fraction"),
        seed=seed, case=word.pop("case"), charset=word.pop("charset"),
        workers=word.pop("workers"), overwrite=overwrite,
        unlabeled="reject" if word["labels"] else "keep",
    )  # fmt: skip
    config = WordConfig(words, seed, fonts, text_config=text, **word)
    report = write_synth_words(config, manifest, progress=not quiet)
    click.echo(f"{report['accounting']} ({report['rows_per_second']} words/s)")
    synth = report["synth"]
    click.echo(f"{synth['font_families']} font families ({synth['font_files']} files)")
    click.echo(f"wrote {out}/manifest.parquet, rejects.parquet, vocab.json, report.json")
