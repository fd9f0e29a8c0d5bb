"""Stream a manifest's word crops as padded, width-bucketed training batches.

:class:`ManifestStream` is an ``IterableDataset`` that never loads the whole table: it reads one
row group at a time, gives row ``i`` (counting across all manifests) to shard
``i % (world_size * num_workers)`` (or, with at least GROUPS_PER_SHARD row groups per shard, the
k-th row group of the epoch's order to shard ``k % shards``: a shard then reads only its own
groups, which matters on object storage), shuffles through a bounded pool, sorts each pool by aspect
ratio into batches (so padding stays small) and yields collated batches. Each DataLoader worker of
each rank is one shard, so every row of the split is seen once per epoch by exactly one worker of
one rank. The stream is a pure function of (seed, epoch, shard): a resumed run skips the batches
already consumed (without decoding them) and continues with exactly the data it would have seen.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from textrec_data.charset import Charset, charset_difference
from textrec_data.cropstyle import loose_view
from textrec_data.errors import InputError
from textrec_data.images import single_threaded_opencv
from textrec_data.manifest import ManifestInfo, read_manifest_info
from textrec_data.preprocess import InputSpec, decode_crop, pad_batch, resized_width, scale_crop

_COLUMNS = ["split", "label", "crop", "crop_h", "crop_w"]
#: Row groups per shard from which whole groups, not rows, are dealt out to the shards.
GROUPS_PER_SHARD = 4


@dataclass(frozen=True)
class StreamConfig:
    """How crops become batches: ``spec`` is the model's input spec (channels, height, time
    stride), ``max_width`` the widest input a crop is scaled to."""

    spec: InputSpec = field(default_factory=InputSpec)
    max_width: int = 256
    batch_size: int = 64
    pool_size: int = 2048
    shuffle: bool = True
    augment: bool = False
    crop_augment: bool = False  # with augment: crops re-cut as loose boxes or slightly off
    seed: int = 0
    #: None: a CTC model's rule (a label needs enough time steps; its crop is widened to
    #: them). A number: a sequence-to-sequence model's, a label of at most this many
    #: characters, whatever the crop's width.
    max_label_length: int | None = None
    #: Unlabeled rows go into batches (label None, no target) for a distillation loss to read
    #: (``train --teacher``); False: they are skipped and counted (``unlabeled``).
    keep_unlabeled: bool = False


@dataclass
class Batch:
    """Collated batch: ``images`` (B, C, H, W) float in [-1, 1], ``widths`` (B,) unpadded widths,
    ``targets`` (sum L,) ids and ``target_lengths`` (N,) of the N labelled rows, in order,
    ``labels`` strings (None: an unlabeled row, kept by ``keep_unlabeled``), ``epoch`` of the
    shard and ``skipped`` counts of rows left out of this batch (by reason)."""

    images: torch.Tensor
    widths: torch.Tensor
    targets: torch.Tensor
    target_lengths: torch.Tensor
    labels: list[str | None]
    epoch: int
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def labelled(self) -> list[int]:
        """Rows with a label (those ``targets`` and ``target_lengths`` are of), in order."""
        return [b for b, label in enumerate(self.labels) if label is not None]

    def pin_memory(self) -> Batch:
        self.images = self.images.pin_memory()
        self.targets = self.targets.pin_memory()
        return self


def check_charsets(infos: Sequence[ManifestInfo]) -> Charset:
    """The manifests' common charset; raises :class:`InputError` naming differing characters."""
    first = infos[0]
    for info in infos[1:]:
        if info.charset.chars != first.charset.chars:
            only_a, only_b = charset_difference(first.charset.chars, info.charset.chars)
            raise InputError(
                f"{info.path}: charset differs from {first.path} "
                f"(only in first: {''.join(only_a)!r}; only in this one: {''.join(only_b)!r}; "
                "same characters in another order count as different)"
            )
    return first.charset


def min_ctc_length(ids: Sequence[int]) -> int:
    """Fewest CTC time steps that can emit ``ids``: its length plus adjacent repeats."""
    return len(ids) + sum(1 for a, b in zip(ids, ids[1:], strict=False) if a == b)


def recut_crop(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A crop cut as others cut words: 40% as a loose axis-aligned box around the word turned by
    up to 15 degrees, with up to 30% of its height as margin; 30% with its edges moved in or out
    by up to 6% of its height; the rest as it is (see :mod:`textrec_data.cropstyle`)."""
    r = rng.random()
    if r < 0.4:
        return loose_view(rng, image, 15.0, 0.3, 0.05)
    if r < 0.7:
        return loose_view(rng, image, 0.0, 0.0, 0.06)
    return image


def augment_crop(image: np.ndarray, rng: np.random.Generator, recut: bool = False) -> np.ndarray:
    """Light photometric/geometric noise on a uint8 crop (H, W) or (H, W, 3): small rotation and
    shear, blur, contrast and Gaussian noise; first, with ``recut``, :func:`recut_crop`. Labels
    stay valid."""
    if recut:
        image = recut_crop(image, rng)
    h, w = image.shape[:2]
    if rng.random() < 0.5:
        angle = rng.uniform(-3, 3)
        shear = rng.uniform(-0.15, 0.15)
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        matrix[0, 1] += shear
        matrix[0, 2] -= shear * h / 2
        image = cv2.warpAffine(image, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
    if rng.random() < 0.3:
        image = cv2.GaussianBlur(image, (3, 3), rng.uniform(0.3, 1.2))
    out = image.astype(np.float32)
    if rng.random() < 0.5:
        out = (out - out.mean()) * rng.uniform(0.6, 1.3) + out.mean() + rng.uniform(-25, 25)
    if rng.random() < 0.3:
        out += rng.normal(0, rng.uniform(2, 10), out.shape)
    if rng.random() < 0.5:
        out = 255 - out  # light-on-dark and dark-on-light text both occur in scenes
    return np.clip(out, 0, 255).astype(np.uint8)


def prepare_image(
    data: bytes,
    width: int,
    config: StreamConfig,
    rng: np.random.Generator | None = None,
    min_width: int = 0,
) -> np.ndarray | None:
    """Decode a manifest crop, optionally augment it, then :func:`scale_crop` it: float32
    ``(channels, height, width)``; None when the crop does not decode. A crop re-cut by
    ``config.crop_augment`` gets the width of its new aspect ratio (at least ``min_width``)."""
    image = decode_crop(data, config.spec.channels)
    if image is None:
        return None
    if rng is not None:
        image = augment_crop(image, rng, config.crop_augment)
        if config.crop_augment:
            new_width = resized_width(*image.shape[:2], config.spec, config.max_width)
            width = max(new_width, min_width)
    return scale_crop(image, width, config.spec)


class ManifestStream(IterableDataset):
    """Batches of one split of one or more manifests, sharded over ranks x DataLoader workers.

    ``epochs=None`` streams forever (training); ``epochs=1`` is one pass (evaluation).
    ``skip_batches`` (per rank, as counted by the consumer) resumes a stream mid-way.
    """

    def __init__(
        self,
        manifests: Sequence[str | Path],
        split: str,
        config: StreamConfig,
        charset: Charset | None = None,
        rank: int = 0,
        world_size: int = 1,
        epochs: int | None = None,
        skip_batches: int = 0,
    ):
        super().__init__()
        self.infos = [read_manifest_info(m) for m in manifests]
        self.charset = charset or check_charsets(self.infos)
        self.split = split
        self.config = config
        self.rank, self.world_size = rank, world_size
        self.epochs = epochs
        self.skip_batches = skip_batches
        self.groups = [
            (info, g, n) for info in self.infos for g, n in enumerate(info.row_group_rows)
        ]
        self.split_rows = sum(info.split_count(split) for info in self.infos)

    def __iter__(self) -> Iterator[Batch]:
        single_threaded_opencv()  # in the main process too: DataLoader workers fork from it
        worker = get_worker_info()
        num_workers, worker_id = (worker.num_workers, worker.id) if worker else (1, 0)
        if worker is not None:
            torch.set_num_threads(1)
        # DataLoader hands out worker batches round-robin from worker 0, so batch k of the
        # original run came from worker k % workers. A stream resumed after B batches starts
        # with its worker 0 playing the original worker B % workers, and so on.
        role = (worker_id + self.skip_batches) % num_workers
        skip = max(0, -(-(self.skip_batches - role) // num_workers))
        shard = self.rank * num_workers + role
        num_shards = self.world_size * num_workers
        epoch = 0
        while self.epochs is None or epoch < self.epochs:
            produced = False
            for plan in self._epoch_plans(epoch, shard, num_shards):
                produced = True
                if skip:
                    skip -= 1
                    continue
                yield self._collate(plan, epoch)
            if not produced:
                return  # this shard has no rows of the split
            epoch += 1

    def _epoch_plans(self, epoch: int, shard: int, num_shards: int) -> Iterator[list[tuple]]:
        """Batches (lists of rows) of one epoch of one shard, in order. Rows are tuples
        (global_index, label, png, width); nothing is decoded here."""
        cfg = self.config
        rng = np.random.default_rng((cfg.seed, epoch, shard))
        order = np.arange(len(self.groups))
        if cfg.shuffle:
            order = np.random.default_rng((cfg.seed, epoch)).permutation(len(self.groups))
        starts = np.concatenate([[0], np.cumsum([g[2] for g in self.groups])])
        by_group = len(self.groups) >= GROUPS_PER_SHARD * num_shards
        pool: list[tuple] = []
        for position, g in enumerate(order):
            if by_group and position % num_shards != shard:
                continue  # another shard's row group: not even read
            info, group, _ = self.groups[g]
            table = info.read_group(group, _COLUMNS)
            first = int(starts[g])
            local = np.arange(table.num_rows)
            mine = local if by_group else local[(first + local) % num_shards == shard]
            if not len(mine):
                continue
            part = table.take(mine).to_pydict()
            for j, idx in enumerate(mine):
                if part["split"][j] != self.split:
                    continue
                width = resized_width(part["crop_h"][j], part["crop_w"][j], cfg.spec, cfg.max_width)
                pool.append((first + int(idx), part["label"][j], part["crop"][j], width))
            while len(pool) >= cfg.pool_size:
                if cfg.shuffle:
                    rng.shuffle(pool)
                yield from self._bucket(pool[: cfg.pool_size], rng)
                pool = pool[cfg.pool_size :]
        if cfg.shuffle:
            rng.shuffle(pool)
        yield from self._bucket(pool, rng)

    def _bucket(self, rows: list[tuple], rng: np.random.Generator) -> Iterator[list[tuple]]:
        """Sort rows by width, cut into batches, shuffle the batch order."""
        rows = sorted(rows, key=lambda r: (r[3], r[0]))
        size = self.config.batch_size
        batches = [rows[i : i + size] for i in range(0, len(rows), size)]
        if self.config.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        yield from batches

    def _target(self, label: str | None) -> tuple[list[int], int, str | None]:
        """A row's target ids, the width its label needs and why the row is left out (None:
        kept). An unlabeled row (kept for a distillation loss) has no target, needs no width."""
        cfg = self.config
        if label is None:
            return [], 0, None
        if not label or self.charset.missing(label):
            return [], 0, "out_of_charset" if label else "empty_label"
        ids = self.charset.encode(label)
        needed = cfg.spec.width_for_steps(min_ctc_length(ids))
        if cfg.max_label_length is not None:  # a decoder writes it at any width
            needed = 0 if len(ids) <= cfg.max_label_length else cfg.max_width + 1
        if needed > cfg.max_width:  # cannot be emitted at any allowed width: never fed to CTC
            return [], 0, "infeasible"
        return ids, needed, None

    def _collate(self, rows: list[tuple], epoch: int) -> Batch:
        cfg = self.config
        images, widths, targets, lengths, labels = [], [], [], [], []
        skipped: dict[str, int] = {}
        for index, label, png, width in rows:
            if label is None and not cfg.keep_unlabeled:  # manifest format 3: nothing for CTC
                skipped["unlabeled"] = skipped.get("unlabeled", 0) + 1
                continue
            ids, needed, reason = self._target(label)
            if reason is not None:
                skipped[reason] = skipped.get(reason, 0) + 1
                continue
            width = max(width, needed)  # give a long label enough time steps
            rng = np.random.default_rng((cfg.seed, epoch, index)) if cfg.augment else None
            image = prepare_image(png, width, cfg, rng, needed)
            if image is None:  # a corrupt crop: counted, never fed to the model
                skipped["unreadable_crop"] = skipped.get("unreadable_crop", 0) + 1
                continue
            images.append(image)
            widths.append(image.shape[2])
            targets.extend(ids)
            if label is not None:
                lengths.append(len(ids))
            labels.append(label)
        return Batch(
            images=torch.from_numpy(pad_batch(images, cfg.spec)),
            widths=torch.tensor(widths, dtype=torch.long),
            targets=torch.tensor(targets, dtype=torch.long),
            target_lengths=torch.tensor(lengths, dtype=torch.long),
            labels=labels,
            epoch=epoch,
            skipped=skipped,
        )


def steps_per_epoch(split_rows: int, batch_size: int, world_size: int) -> int:
    """Optimizer steps that cover ``split_rows`` once across all ranks (at least 1)."""
    return max(1, math.ceil(split_rows / (batch_size * world_size)))
