"""Streaming loader: sharding covers every row once per epoch, bounded pools, batches."""

from __future__ import annotations

import pytest
import torch
from manifest_factory import write_manifest
from torch.utils.data import DataLoader

from textrec_data.errors import InputError
from textrec_data.preprocess import InputSpec, resized_width
from textrec_data.stream import ManifestStream, StreamConfig, min_ctc_length


def _labels_seen(stream: ManifestStream, workers: int) -> list[tuple[int, str]]:
    seen = []
    for batch in DataLoader(stream, batch_size=None, num_workers=workers):
        seen.extend((batch.epoch, label) for label in batch.labels)
    return seen


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    return write_manifest(tmp_path_factory.mktemp("m") / "manifest.parquet", 150)


def _train_labels(manifest) -> list[str]:
    import pandas as pd

    table = pd.read_parquet(manifest, columns=["label", "split"])
    return sorted(table.loc[table["split"] == "train", "label"])


@pytest.mark.parametrize("world_size,workers", [(1, 0), (1, 2), (2, 0), (2, 2), (3, 1)])
def test_shards_cover_every_row_once_per_epoch(manifest, world_size, workers):
    config = StreamConfig(batch_size=8, pool_size=32, seed=3)
    seen = []
    for rank in range(world_size):
        stream = ManifestStream(
            [manifest], "train", config, rank=rank, world_size=world_size, epochs=2
        )
        seen.extend(_labels_seen(stream, workers))
    expected = _train_labels(manifest)
    for epoch in (0, 1):
        assert sorted(label for e, label in seen if e == epoch) == expected


def test_ranks_see_disjoint_rows(manifest):
    config = StreamConfig(batch_size=4, pool_size=16)
    per_rank = []
    for rank in range(2):
        stream = ManifestStream([manifest], "train", config, rank=rank, world_size=2, epochs=1)
        rows = set()
        for plan in stream._epoch_plans(0, rank, 2):
            rows.update(r[0] for r in plan)
        per_rank.append(rows)
    assert per_rank[0] and per_rank[1]
    assert not per_rank[0] & per_rank[1]


def test_epochs_are_reshuffled_but_deterministic(manifest):
    config = StreamConfig(batch_size=8, pool_size=32, seed=1)
    first = _labels_seen(ManifestStream([manifest], "train", config, epochs=2), 0)
    again = _labels_seen(ManifestStream([manifest], "train", config, epochs=2), 0)
    assert first == again
    epoch0 = [label for e, label in first if e == 0]
    epoch1 = [label for e, label in first if e == 1]
    assert epoch0 != epoch1 and sorted(epoch0) == sorted(epoch1)


@pytest.mark.parametrize("workers", [0, 2])
def test_skip_batches_resumes_the_same_stream(manifest, workers):
    config = StreamConfig(batch_size=8, pool_size=32, seed=2)
    full = [
        b.labels
        for _, b in zip(
            range(12),
            DataLoader(
                ManifestStream([manifest], "train", config), batch_size=None, num_workers=workers
            ),
            strict=False,
        )
    ]
    resumed_stream = ManifestStream([manifest], "train", config, skip_batches=5)
    resumed = [
        b.labels
        for _, b in zip(
            range(7), DataLoader(resumed_stream, batch_size=None, num_workers=workers), strict=False
        )
    ]
    assert resumed == full[5:12]


def test_batches_are_padded_bucketed_and_encoded(manifest):
    config = StreamConfig(batch_size=8, pool_size=64, max_width=128)
    stream = ManifestStream([manifest], "train", config, epochs=1)
    for batch in DataLoader(stream, batch_size=None):
        b = len(batch.labels)
        assert batch.images.shape[:3] == (b, 1, 32)
        assert batch.images.shape[3] == int(batch.widths.max())
        assert batch.images.dtype == torch.float32
        assert float(batch.images.min()) >= -1.0 and float(batch.images.max()) <= 1.0
        assert int(batch.target_lengths.sum()) == batch.targets.numel()
        decoded, start = [], 0
        for length in batch.target_lengths.tolist():
            decoded.append(stream.charset.decode(batch.targets[start : start + length].tolist()))
            start += length
        assert decoded == batch.labels
        # every label can be emitted in the time steps its width gives (4 px per step)
        for length_px, label in zip(batch.widths.tolist(), batch.labels, strict=True):
            assert length_px // 4 >= min_ctc_length(stream.charset.encode(label))


def test_long_labels_get_width_or_are_skipped(tmp_path):
    labels = ["ab", "a" * 40, "abababababababababababab"]  # 40 repeats need 79 steps > 64
    path = write_manifest(tmp_path / "m.parquet", 3, labels=labels, val_every=1000)
    config = StreamConfig(batch_size=8, max_width=256)
    batches = list(ManifestStream([path], "train", config, epochs=1))
    kept = [label for b in batches for label in b.labels]
    skipped = sum(b.skipped.get("infeasible", 0) for b in batches)
    assert sorted(kept) == sorted(["ab", "abababababababababababab"])
    assert skipped == 1
    width = dict(zip(batches[0].labels, batches[0].widths.tolist(), strict=True))
    assert width["abababababababababababab"] >= 4 * 24  # stretched to fit 24 steps


def test_resized_width_keeps_aspect_and_clamps():
    spec = InputSpec(height=32)
    assert resized_width(16, 40, spec, 256) == 80
    assert resized_width(100, 10, spec, 256) == 16  # MIN_CROP_WIDTH
    assert resized_width(10, 1000, spec, 256) == 256


def test_mixed_manifests_must_share_charset(tmp_path):
    a = write_manifest(tmp_path / "a.parquet", 10)
    b = write_manifest(tmp_path / "b.parquet", 10, chars="abcdefghijXY")
    with pytest.raises(InputError, match="only in this one: 'XY'"):
        ManifestStream([a, b], "train", StreamConfig())
    both = ManifestStream(
        [a, write_manifest(tmp_path / "c.parquet", 12)], "train", StreamConfig(), epochs=1
    )
    assert sum(len(batch.labels) for batch in both) == both.split_rows
