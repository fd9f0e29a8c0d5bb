"""Manifests as directories of parts: the parallel build (local pool, Dask), the directory format,
and every reader on it."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pytest
from click.testing import CliRunner
from sharded_data import manifest_rows, write_dataset

from pipelines.cli import main
from textrec_data.build import ManifestConfig, build_manifest
from textrec_data.errors import InputError
from textrec_data.manifest import PARTS_METADATA, read_manifest_info
from textrec_data.sharded import row_group_sizes, units_per_task
from textrec_data.stream import GROUPS_PER_SHARD, ManifestStream, StreamConfig


@pytest.fixture(scope="module")
def data(tmp_path_factory, scenes) -> dict:
    root = tmp_path_factory.mktemp("sharded")
    images, gt = write_dataset(root, scenes)
    single = ManifestConfig(str(images), str(gt), str(root / "single"), workers=1)
    report = build_manifest(single, progress=False)
    parts = replace(single, out=str(root / "parts"), rows_per_part=12, row_group_size=8)
    return {
        "root": root,
        "config": parts,
        "single": root / "single",
        "report": report,
        "parts": root / "parts",
        "parts_report": build_manifest(parts, progress=False),
    }


def test_parts_hold_the_single_files_rows_in_order(data):
    report = data["parts_report"]
    assert report["parts"] >= 4 and report["accounting_ok"]
    assert report["counts"] == data["report"]["counts"]
    assert report["charset"] == data["report"]["charset"]
    assert manifest_rows(data["parts"]).equals(manifest_rows(data["single"]))
    files = sorted(p.name for p in (data["parts"] / "manifest").iterdir())
    assert files == [PARTS_METADATA] + [f"part-{i:05d}.parquet" for i in range(report["parts"])]
    assert len(list((data["parts"] / "rejects").glob("part-*.parquet"))) == report["parts"]


def test_metadata_lists_parts_with_row_counts(data):
    meta = json.loads((data["parts"] / "manifest" / PARTS_METADATA).read_text())
    assert sum(p["rows"] for p in meta["parts"]) == meta["counts"]["kept"]
    assert all(sum(p["row_groups"]) == p["rows"] for p in meta["parts"])
    info = read_manifest_info(data["parts"])
    assert info.path == data["parts"] / "manifest"
    assert info.num_rows == meta["counts"]["kept"] and info.metadata["charset"] == meta["charset"]


@pytest.mark.parametrize("workers", [2, 3])
def test_same_parts_whatever_the_worker_count(data, tmp_path, workers):
    config = replace(data["config"], out=str(tmp_path / "o"), workers=workers)
    report = build_manifest(config, progress=False)
    assert report["parts"] == data["parts_report"]["parts"]
    assert manifest_rows(tmp_path / "o").equals(manifest_rows(data["parts"]))


def test_generic_parquet_readers_read_the_directory(data):
    directory = data["parts"] / "manifest"
    frame = pd.read_parquet(directory)
    assert len(frame) == data["report"]["kept"]
    assert sorted(frame["text"]) == sorted(manifest_rows(data["single"])["text"].to_pylist())
    assert ds.dataset(directory, format="parquet").count_rows() == len(frame)
    assert len(pd.read_parquet(data["parts"] / "rejects")) == data["report"]["rejected"]


def test_hugging_face_datasets_reads_the_directory(data, tmp_path, monkeypatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    files = str(data["parts"] / "manifest" / "*.parquet")
    loaded = datasets.load_dataset("parquet", data_files=files, cache_dir=str(tmp_path))
    assert loaded["train"].num_rows == data["report"]["kept"]


def test_an_incomplete_directory_is_refused(data, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for part in (data["parts"] / "manifest").glob("part-*"):
        (broken / part.name).write_bytes(part.read_bytes())
    with pytest.raises(InputError, match="incomplete manifest"):
        read_manifest_info(broken)
    with pytest.raises(InputError, match="one part of a manifest directory"):
        read_manifest_info(broken / "part-00000.parquet")
    (broken / PARTS_METADATA).write_bytes(
        (data["parts"] / "manifest" / PARTS_METADATA).read_bytes()
    )
    (broken / "part-00001.parquet").unlink()
    with pytest.raises(InputError, match="part-00001.parquet: listed part is missing"):
        read_manifest_info(broken)


def test_stream_reads_the_same_rows_from_parts(data):
    config = StreamConfig(batch_size=8, shuffle=False)
    labels = {}
    for name in ("single", "parts"):
        stream = ManifestStream([data[name]], "train", config, epochs=1)
        labels[name] = sorted(label for batch in stream for label in batch.labels)
    assert labels["parts"] == labels["single"] and labels["single"]


def test_cli_builds_parts_then_stats_train_and_eval_read_them(data, tmp_path):
    runner = CliRunner()
    config = data["config"]
    args = ["manifest", "--images", config.images, "--gt", config.gt, "--out", tmp_path / "m"]
    result = runner.invoke(main, [str(a) for a in [*args, "--rows-per-part", "20", "--quiet"]])
    assert result.exit_code == 0, result.output
    assert "parts" in result.output and "= 96 of 96 records" in result.output
    result = runner.invoke(main, ["stats", str(tmp_path / "m" / "manifest")])
    assert result.exit_code == 0 and f"{data['report']['kept']} rows" in result.output
    train = ["train", "--manifest", str(tmp_path / "m"), "--out", str(tmp_path / "t")]
    options = ["--max-steps", "2", "--eval-every", "2", "--batch-size", "8", "--workers", "0"]
    result = runner.invoke(main, [*train, *options, "--device", "cpu", "--quiet"])
    assert result.exit_code == 0, result.output
    evaluate = ["eval", "--checkpoint", str(tmp_path / "t" / "last.pt"), "--split", "val"]
    evaluate += ["--manifest", str(tmp_path / "m" / "manifest"), "--out", str(tmp_path / "e")]
    result = runner.invoke(main, [*evaluate, "--quiet"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "e" / "report.json").read_text())
    assert report["n"] == data["report"]["counts"]["splits"]["val"]


def test_engine_option_errors_are_one_line(data, tmp_path):
    config = replace(data["config"], out=str(tmp_path / "o"), address="tcp://127.0.0.1:1")
    with pytest.raises(InputError, match="local engine runs on this machine only"):
        build_manifest(config, progress=False)


def test_units_per_task_and_row_groups():
    assert units_per_task(1000, 4.5, 1000) == 222
    assert units_per_task(1000, 4.5, None) == 16  # at least 64 tasks without --rows-per-part
    assert units_per_task(10, 0.0, 5) == 10
    assert row_group_sizes(20, 8) == [8, 8, 4] and row_group_sizes(16, 8) == [8, 8]


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        yield cluster


def test_dask_engine_gives_the_local_rows(data, dask_cluster, tmp_path):
    config = replace(
        data["config"],
        out=str(tmp_path / "d"),
        engine="dask",
        address=dask_cluster.scheduler_address,
    )
    report = build_manifest(config, progress=False)
    assert report["parts"] == data["parts_report"]["parts"] and report["accounting_ok"]
    assert report["counts"] == data["report"]["counts"]
    assert manifest_rows(tmp_path / "d").equals(manifest_rows(data["single"]))


def test_dask_engine_unreachable_scheduler_is_an_input_error(data, tmp_path):
    dask = pytest.importorskip("dask")
    pytest.importorskip("distributed")
    config = replace(
        data["config"], out=str(tmp_path / "d"), engine="dask", address="tcp://127.0.0.1:9"
    )
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(InputError, match="cannot reach the Dask scheduler"):
            build_manifest(config, progress=False)
    assert not (tmp_path / "d").exists()


def test_with_enough_row_groups_shards_take_whole_groups(data):
    config = StreamConfig(batch_size=4, shuffle=True, seed=1)
    stream = ManifestStream([data["parts"]], "train", config, epochs=1)
    starts = np.cumsum([0] + [n for _, _, n in stream.groups])
    assert len(stream.groups) >= GROUPS_PER_SHARD * 2
    groups = []
    for shard in range(2):
        rows = [r[0] for plan in stream._epoch_plans(0, shard, 2) for r in plan]
        groups.append(set(np.searchsorted(starts, rows, side="right")))
    assert groups[0] and groups[1] and not groups[0] & groups[1]


def test_file_urls_work_like_paths(data, tmp_path):
    config = replace(
        data["config"],
        images=f"file://{data['config'].images}",
        gt=f"file://{data['config'].gt}",
        out=f"file://{tmp_path / 'o'}",
        rows_per_part=None,
    )
    build_manifest(config, progress=False)
    assert manifest_rows(f"file://{tmp_path / 'o'}").equals(manifest_rows(data["single"]))
