"""Scoring a model on labelled crops: one path for training validation, ``textrec eval`` and the
benchmarks.

:func:`split_rows` reads a split of one or more manifests (optionally one shard of it);
:func:`score` reads every row's crop through a :class:`~textrec_model.predictor.Predictor`,
which never sees the labels, and only then compares: word accuracy under the three protocols
(:mod:`textrec_model.metrics`), the alphanumeric subset, and the loss of each label the model
can emit at its crop's width. Every row counts: a label outside the charset or longer than the
crop's steps can emit is an error, a crop that does not decode an empty answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path

from tqdm import tqdm

from textrec_data.charset import Charset, apply_case
from textrec_data.manifest import read_manifest_info
from textrec_data.preprocess import decode_crop
from textrec_model.metrics import WordMetrics, compute_metrics, is_alphanumeric_word
from textrec_model.predictor import DecodeConfig, Prediction, Predictor

#: Rows decoded and read at a time: bounds memory on large splits (a reading does not depend
#: on the crops read with it, so the figures do not depend on it).
SCORE_CHUNK = 4096
_COLUMNS = ["split", "image_id", "line_no", "image_path", "label", "crop"]


@dataclass(frozen=True)
class SplitRow:
    """One manifest row of a split: ``index`` is its position among the split's rows (over the
    manifests in turn), ``crop`` its encoded image."""

    index: int
    image_id: str
    line_no: int | None
    image_path: str | None
    label: str
    crop: bytes


def split_rows(
    manifests: Sequence[str | Path],
    split: str,
    keep: Callable[[SplitRow], bool] | None = None,
    shard: int = 0,
    shards: int = 1,
    labelled: bool = True,
) -> Iterator[SplitRow]:
    """The rows of ``split``, in manifest order, read one row group at a time; only those with
    ``index % shards == shard`` (one rank's share) and, with ``keep``, those it keeps. Rows
    without a label (unlabeled rows) are passed over unless ``labelled`` is False."""
    index = 0
    for manifest in manifests:
        info = read_manifest_info(manifest)
        for group in range(len(info.groups)):
            part = info.read_group(group, _COLUMNS).to_pydict()
            for j, row_split in enumerate(part["split"]):
                if row_split != split or (labelled and part["label"][j] is None):
                    continue
                row = SplitRow(index, *(part[c][j] for c in _COLUMNS[1:]))
                index += 1
                if row.index % shards == shard and (keep is None or keep(row)):
                    yield row


def spellable(label: str, charset: Charset) -> bool:
    """True when the model of ``charset`` can write ``label`` (in the charset's case)."""
    return not charset.missing(apply_case(label, charset.case))


@dataclass(frozen=True)
class RowResult:
    """What scoring found for one row: its prediction (empty, confidence 0, for a crop that
    does not decode), and the loss of its label per character (None: not scored)."""

    index: int
    label: str
    prediction: Prediction
    loss: float | None
    readable: bool
    spellable: bool


@dataclass(frozen=True)
class Metrics:
    """The figures of a split: ``words`` over every row, ``alphanumeric`` over rows whose label
    is ASCII letters and digits only, ``loss`` the mean CTC loss per label character over the
    ``loss_n`` rows whose label the model can emit (None when none can), ``out_of_charset``
    labels the model cannot spell, ``unreadable`` the indices of crops that do not decode, and
    the ``predictions`` of the rows in index order (``indices``)."""

    words: WordMetrics
    alphanumeric: WordMetrics
    loss: float | None
    loss_n: int
    out_of_charset: int
    unreadable: tuple[int, ...]
    indices: tuple[int, ...]
    predictions: tuple[Prediction, ...]

    def figures(self) -> dict:
        """The headline figures as plain data: word metrics, loss, loss_n, out_of_charset and
        the number of unreadable crops."""
        return {
            **asdict(self.words),
            "loss": self.loss,
            "loss_n": self.loss_n,
            "out_of_charset": self.out_of_charset,
            "unreadable": len(self.unreadable),
        }


def score(
    predictor: Predictor,
    rows: Iterable[SplitRow],
    decode: DecodeConfig | None = None,
    progress: bool = False,
    combine: Callable[[list[RowResult]], list[list[RowResult]]] | None = None,
) -> Metrics:
    """Read and score ``rows``. With ``combine`` (a gather over processes, each scoring its own
    share of the rows), the figures are those of all processes' rows together."""
    total = len(rows) if isinstance(rows, Sequence) else None
    bar = tqdm(total=total, desc="score", unit="crop", disable=not progress)
    results: list[RowResult] = []
    iterator = iter(rows)
    while chunk := list(islice(iterator, SCORE_CHUNK)):
        results += _score_chunk(predictor, chunk, decode, bar)
    bar.close()
    parts = combine(results) if combine is not None else [results]
    return tally(sorted((r for part in parts for r in part), key=lambda r: r.index))


def _score_chunk(
    predictor: Predictor, chunk: list[SplitRow], decode: DecodeConfig | None, bar: tqdm
) -> list[RowResult]:
    """Results of ``chunk``'s rows: predictions first, then each label's loss."""
    charset = predictor.charset
    crops = [decode_crop(row.crop, predictor.spec.channels) for row in chunk]
    readable = [k for k, crop in enumerate(crops) if crop is not None]
    losses: dict[int, float | None] = {}

    def observe(owners: list[int], outputs, steps) -> None:
        labels = [chunk[readable[o]].label for o in owners]
        for o, value in zip(
            owners, predictor.head.losses(outputs, steps, labels, charset), strict=True
        ):
            losses[readable[o]] = value
        bar.update(len(owners))

    found = predictor.predict([crops[k] for k in readable], decode, observe=observe)
    predictions = dict(zip(readable, found, strict=True))
    bar.update(len(chunk) - len(readable))
    return [
        RowResult(
            index=row.index,
            label=row.label,
            prediction=predictions.get(k, Prediction("", 0.0)),
            loss=losses.get(k),
            readable=k in predictions,
            spellable=spellable(row.label, charset),
        )
        for k, row in enumerate(chunk)
    ]


def tally(results: Sequence[RowResult]) -> Metrics:
    """The :class:`Metrics` of row results (in the order given: sums run in that order)."""
    texts = [r.prediction.text for r in results]
    labels = [r.label for r in results]
    alnum = [k for k, label in enumerate(labels) if is_alphanumeric_word(label)]
    losses = [r.loss for r in results if r.loss is not None]
    return Metrics(
        words=compute_metrics(texts, labels),
        alphanumeric=compute_metrics([texts[k] for k in alnum], [labels[k] for k in alnum]),
        loss=sum(losses) / len(losses) if losses else None,
        loss_n=len(losses),
        out_of_charset=sum(not r.spellable for r in results),
        unreadable=tuple(r.index for r in results if not r.readable),
        indices=tuple(r.index for r in results),
        predictions=tuple(r.prediction for r in results),
    )
