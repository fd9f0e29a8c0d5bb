"""Manifests as others read them: version-1 files, Hugging Face `datasets`; subset files."""

from __future__ import annotations

import json
import os

import cv2
import numpy as np
import pyarrow.parquet as pq
import pytest
from manifest_factory import write_manifest
from word_crops import write_crops

from textrec_data.build import ManifestConfig, build_manifest
from textrec_data.errors import InputError
from textrec_data.manifest import METADATA_KEY, read_manifest_info
from textrec_data.stream import ManifestStream, StreamConfig
from textrec_data.subset import read_subset


def _without_source(source, path, version: int = 1):
    """Rewrite a manifest without its source column, as format ``version``."""
    table = pq.read_table(source).drop_columns(["source"])
    metadata = json.loads(pq.ParquetFile(source).metadata.metadata[METADATA_KEY])
    metadata["format_version"] = version
    table = table.replace_schema_metadata({METADATA_KEY: json.dumps(metadata)})
    pq.write_table(table, path, row_group_size=16)
    return path


def test_version_1_manifests_still_read(tmp_path):
    v2 = write_manifest(tmp_path / "v2.parquet", 40)
    v1 = _without_source(v2, tmp_path / "v1.parquet")
    assert read_manifest_info(v1).metadata["format_version"] == 1
    config = StreamConfig(batch_size=8, shuffle=False)
    batches = list(ManifestStream([v1], "train", config, epochs=1))
    assert sum(len(b.labels) for b in batches) == read_manifest_info(v1).split_count("train")
    broken = _without_source(v2, tmp_path / "b.parquet", version=2)  # version 2 needs it
    with pytest.raises(InputError, match="source"):
        read_manifest_info(broken)


def test_manifest_loads_with_hugging_face_datasets(tmp_path):
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    import datasets

    write_crops(tmp_path / "crops", ["a.png", "b.jpg"])
    (tmp_path / "crops" / "gt.txt").write_text('a.png, "Hello"\nb.jpg, "1,000"\n')
    out = tmp_path / "m"
    config = ManifestConfig(None, str(tmp_path / "crops" / "gt.txt"), str(out), "wordcrops")
    build_manifest(config, progress=False)
    data = datasets.load_dataset(
        "parquet", data_files=str(out / "manifest.parquet"), split="train",
        cache_dir=str(tmp_path / "hf"),
    )  # fmt: skip
    assert data.num_rows == 2 and data["text"] == ["Hello", "1,000"]
    assert data[0]["quad"] is None and data[0]["source"] == "wordcrops"
    crop = cv2.imdecode(np.frombuffer(data[1]["crop"], np.uint8), cv2.IMREAD_COLOR)
    assert crop.shape == (data[1]["crop_h"], data[1]["crop_w"], 3)


def test_subset_files(tmp_path):
    mmocr = {"metainfo": {}, "data_list": [{"img_path": "textrecog_imgs/test/word_3.png",
                                            "instances": [{"text": "x"}]}]}  # fmt: skip
    files = {
        "mmocr.json": json.dumps(mmocr),
        "list.json": json.dumps(["a\\word_1.png", "word_2"]),
        "gt.txt": '\ufeffword_7.png, "a,b"\r\n\r\nword_8.png, "c"\r\n',
        "names.tsv": "dir/word_9.jpg\tlabel\n",
    }
    expected = [["word_3"], ["word_1", "word_2"], ["word_7", "word_8"], ["word_9"]]
    for (name, text), stems in zip(files.items(), expected, strict=True):
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert read_subset(tmp_path / name) == stems
    for name, text in {"e.txt": "\n", "bad.json": '{"data_list": [1]}', "t.json": "[1"}.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(InputError, match=name):
            read_subset(tmp_path / name)
