"""Misuse suite, inputs (issue #32): every reader validates what it reads before using it and
reports the file and what is wrong in one line; URLs are parsed strictly; a bad byte costs one
record, not a file. docs/RELIABILITY.md tabulates the cases."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from misuse import cli, refused, snapshot, succeeded, textrec_metadata, write_as_manifest

from textrec_data.build import ManifestConfig, build_manifest
from textrec_data.errors import InputError
from textrec_data.manifest import PARTS_METADATA, read_manifest_info


@pytest.fixture(scope="module")
def parts(world, tmp_path_factory) -> Path:
    """The world's dataset as a manifest directory of one part per word."""
    out = tmp_path_factory.mktemp("parts") / "out"
    images, gt = world.dataset / "images", world.dataset / "gt"
    build_manifest(ManifestConfig(str(images), str(gt), str(out), workers=1, rows_per_part=1),
                   progress=False)  # fmt: skip
    return out / "manifest"


def _with_metadata(parts: Path, tmp_path: Path, change) -> Path:
    copy = shutil.copytree(parts, tmp_path / "manifest")
    metadata = json.loads((copy / PARTS_METADATA).read_text())
    (copy / PARTS_METADATA).write_text(json.dumps(change(metadata)))
    return copy


@pytest.mark.parametrize(
    ("change", "words"),
    [(lambda m: {**m, "parts": [p["file"] for p in m["parts"]]}, "part 1"),
     (lambda m: {**m, "parts": [{"file": p["file"]} for p in m["parts"]]}, "part 1"),
     (lambda m: {**m, "parts": [{**p, "row_groups": [1, 1]} for p in m["parts"]]}, "part 1"),
     (lambda m: {**m, "parts": [{**p, "rows": 2, "row_groups": [2]} for p in m["parts"]]},
      "lists [2]"),
     (lambda m: {**m, "parts": [{**p, "row_groups": [1, 0]} for p in m["parts"]]},
      "lists [1, 0]"),
     (lambda m: {**m, "parts": [{**p, "file": "../x"} for p in m["parts"]]}, "part 1"),
     (lambda m: {**m, "counts": {"splits": ["train"]}}, "counts.splits"),
     (lambda m: {**m, "counts": "many"}, "counts.splits"),
     (lambda m: {k: v for k, v in m.items() if k != "charset"}, "corrupt textrec metadata"),
     (lambda m: {**m, "charset": [1, 2, 3]}, "single characters"),
     (lambda m: {**m, "format_version": True}, "format version"),
     (lambda m: [m], "JSON object")],
    ids=["parts as strings", "part without keys", "row groups disagree with rows",
         "more rows than the part has", "more row groups than exist", "file outside the folder",
         "splits a list", "counts a string", "no charset", "charset of integers",
         "version true", "a list"],
)  # fmt: skip
def test_a_malformed_manifest_directory_is_refused_by_name(world, parts, tmp_path, change, words):
    manifest = _with_metadata(parts, tmp_path, change)
    before = snapshot(manifest)
    refused(cli("stats", manifest, "--sheet", tmp_path / "s.png"), words)
    assert snapshot(manifest) == before and not (tmp_path / "s.png").exists()


def _column(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, values)


@pytest.mark.parametrize(
    ("name", "values", "words"),
    [("crop_h", lambda t: pa.array([str(v) for v in t["crop_h"].to_pylist()]), "'crop_h' is"),
     ("crop", lambda t: pa.array(range(t.num_rows)), "'crop' is"),
     ("label", lambda t: pa.array([None] * t.num_rows, pa.string()), "unlabeled rows: corrupt"),
     ("crop", lambda t: pa.array([None] * t.num_rows, pa.binary()), "null values in column")],
    ids=["crop_h as strings", "crop as integers", "null labels", "null crops"],
)  # fmt: skip
def test_a_parquet_of_wrong_types_or_nulls_is_refused_by_name(world, tmp_path, name, values, words):
    table = pq.read_table(world.manifest)
    path = write_as_manifest(_column(table, name, values(table)), tmp_path / "m.parquet",
                             textrec_metadata(world.manifest))  # fmt: skip
    for args in (["stats", path], ["eval", "--checkpoint", world.checkpoint, "--manifest", path,
                                   "--split", "val", "--out", tmp_path / "e"]):  # fmt: skip
        refused(cli(*args), str(path), words)
    assert not (tmp_path / "e").exists()


def test_a_charset_file_of_integers_is_refused(world, tmp_path):
    charset = tmp_path / "vocab.json"
    charset.write_text(json.dumps({"charset": [1, 2, 3], "case": "keep"}))
    args = ["manifest", "--images", world.dataset / "images", "--gt", world.dataset / "gt"]
    refused(cli(*args, "--out", tmp_path / "m", "--charset", charset), str(charset), "single")
    assert not (tmp_path / "m").exists()


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),  # fmt: skip
    max_leaves=8,
)
_KEYS = st.sampled_from(["parts", "charset", "counts", "format_version", "case", "file", "rows",
                         "row_groups", "splits"])  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(key=_KEYS, value=_JSON, deep=st.booleans())
def test_fuzzed_manifest_metadata_reads_or_is_refused(parts, tmp_path_factory, key, value, deep):
    """Any value at any key of _textrec.json (top level, or in each part): every row group is
    read, or InputError; never another exception."""
    copy = shutil.copytree(parts, tmp_path_factory.mktemp("fuzz") / "manifest")
    metadata = json.loads((copy / PARTS_METADATA).read_text())
    if deep:
        metadata["parts"] = [{**p, key: value} for p in metadata["parts"]]
    else:
        metadata[key] = value
    (copy / PARTS_METADATA).write_text(json.dumps(metadata))
    try:
        info = read_manifest_info(copy)
        for k in range(len(info.groups)):
            info.read_group(k)
        info.split_count("train")
    except InputError:
        pass


_TYPES = st.sampled_from([pa.int8(), pa.int64(), pa.float32(), pa.string(), pa.binary(),
                          pa.bool_(), pa.list_(pa.float32())])  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(column=st.sampled_from(["image_id", "text", "label", "split", "crop", "crop_h", "quad"]),
       type_=_TYPES, nulls=st.booleans())  # fmt: skip
def test_fuzzed_parquet_schemas_read_or_are_refused(world, tmp_path_factory, column, type_, nulls):
    """A manifest with one column of another type (or all null): read, or InputError."""
    table = pq.read_table(world.manifest)
    values = pa.nulls(table.num_rows, type_) if nulls else pa.array([None] * table.num_rows, type_)
    if not nulls:
        try:
            values = table[column].combine_chunks().cast(type_)
        except (pa.ArrowException, NotImplementedError):
            pass
    path = tmp_path_factory.mktemp("schema") / "m.parquet"
    write_as_manifest(_column(table, column, values), path, textrec_metadata(world.manifest))
    try:
        info = read_manifest_info(path)
        for k in range(len(info.groups)):
            info.read_group(k)
    except InputError:
        pass


@pytest.mark.parametrize(
    ("args", "words"),
    [("stats s3a://bucket/m", "unknown URL scheme 's3a'"),
     ("stats file://rel/m.parquet", "names no host"),
     ("train --manifest {manifest} --out s3a://bucket/run", "unknown URL scheme"),
     ("eval --checkpoint {checkpoint} --manifest {manifest} --split val --out file://rel/x",
      "names no host"),
     ("export --checkpoint {checkpoint} --out s3://bucket/m.onnx", "--out takes a local path"),
     ("stats gs:///m", "names no bucket")],
    ids=["s3a", "file with host", "train out s3a", "eval out file://rel", "export out s3",
         "gs without bucket"],
)  # fmt: skip
def test_urls_are_parsed_strictly(world, tmp_path, monkeypatch, args, words):
    monkeypatch.chdir(tmp_path)
    refused(cli(*world.fill(args, tmp_path).split()), words)
    assert list(tmp_path.iterdir()) == []  # no folder named 's3a:' or 'rel'


def test_a_file_url_without_host_reads_like_its_path(world, tmp_path):
    succeeded(cli("stats", f"file://{world.manifest}", "--sheet", tmp_path / "s.png"))


def _lmdb(path: Path, num_samples: bytes) -> Path:
    import lmdb

    env = lmdb.open(str(path), map_size=1 << 24)
    with env.begin(write=True) as txn:
        for i in (1, 2):
            txn.put(f"label-{i:09d}".encode(), b"ab")
            txn.put(f"image-{i:09d}".encode(), b"not an image")
        txn.put(b"num-samples", num_samples)
    env.close()
    return path


def test_an_lmdb_claiming_more_samples_than_it_holds_is_refused(tmp_path):
    db = _lmdb(tmp_path / "db", str(10**12).encode())
    args = ["manifest", "--format", "lmdb", "--gt", db, "--out", tmp_path / "o", "--quiet"]
    refused(cli(*args), str(db), "num-samples is 1000000000000", "5 keys")
    assert not (tmp_path / "o").exists()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(header=st.one_of(st.binary(max_size=24), st.integers(-5, 10**15).map(lambda n: b"%d" % n)))
def test_fuzzed_lmdb_headers_read_or_are_refused(tmp_path_factory, header):
    """Any num-samples: every sample read (kept + rejected = the count, which the LMDB's keys
    bound), or InputError; never another exception, never a hang."""
    from textrec_data.sources.lmdb_dataset import LmdbSource

    db = _lmdb(tmp_path_factory.mktemp("lmdb") / "db", header)
    try:
        source = LmdbSource(None, str(db))
        plan = source.plan()
    except InputError:
        return
    records = [r for unit in plan.units for r in source.read(unit)]
    assert len(records) == int(header) <= 5


def _special(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / kind
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to(path)
    return path


@pytest.mark.parametrize(
    ("args", "kind", "words"),
    [("predict {special}", "fifo", "a named pipe"),
     ("predict --checkpoint {checkpoint} {crop} --out {special}", "fifo", "a named pipe"),
     ("predict --checkpoint {checkpoint} --lexicon {special} {crop}", "fifo", "a named pipe"),
     ("train --manifest {manifest} --init {special} --out {out}/r", "fifo", "a named pipe"),
     ("stats {special}", "loop", "a symlink loop"),
     ("manifest --images {images} --gt {gt} --charset {special} --out {out}/m", "loop",
      "a symlink loop")],
    ids=["predict a fifo", "predict --out a fifo", "lexicon a fifo", "init a fifo",
         "stats a symlink loop", "charset a symlink loop"],
)  # fmt: skip
def test_special_files_are_refused_not_waited_on(world, tmp_path, args, kind, words):
    special = _special(tmp_path, kind)
    filled = world.fill(args.replace("{special}", str(special)), tmp_path)
    refused(cli(*filled.split()), str(special), words)
    assert sorted(p.name for p in tmp_path.iterdir()) == [kind]


def test_eval_without_split_scores_val_when_the_manifest_has_no_test_rows(world, tmp_path):
    result = cli("eval", "--checkpoint", world.checkpoint, "--manifest", world.manifest,
                 "--out", tmp_path / "e", "--quiet")  # fmt: skip
    succeeded(result)
    report = json.loads((tmp_path / "e" / "report.json").read_text())
    assert report["config"]["split"] == "val"


def test_the_recognizer_imports_from_the_package():
    from textrec_model import Recognizer
    from textrec_model.recognizer import Recognizer as Defined

    assert Recognizer is Defined


@pytest.mark.parametrize(
    ("args", "words"),
    [("train --manifest {manifest} --init {onnx} --out {out}/r", "an ONNX model? eval and predict"),
     ("export --checkpoint {onnx} --out {out}/x.onnx", "not a torch file"),
     ("synth --words 2 --out {out}/s --case-weights 0,0,0,0", "whose sum is more than 0")],
    ids=["onnx as init", "onnx as checkpoint", "case weights summing to 0"],
)  # fmt: skip
def test_messages_say_what_the_file_or_value_is(world, tmp_path, args, words):
    refused(cli(*world.fill(args, tmp_path).split()), words)
    assert list(tmp_path.iterdir()) == []


def test_black_text_on_a_transparent_png_reads_as_on_white(world, tmp_path):
    """Transparent pixels are black underneath: composited on white (manifest crops and predict
    files alike), the crop reads as the same crop drawn on white."""
    import numpy as np
    from PIL import Image

    from textrec_data.preprocess import decode_crop

    grey = np.asarray(Image.open(world.crop).convert("L"))
    alpha = (255 - grey).astype(np.uint8)  # the dark text opaque, the light ground transparent
    rgba = np.dstack([np.zeros_like(grey)] * 3 + [alpha])
    on_white = (255 - alpha).astype(np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    Image.fromarray(on_white, "L").convert("RGB").save(tmp_path / "white.png")
    decoded = decode_crop((tmp_path / "rgba.png").read_bytes())
    assert np.abs(decoded.astype(int) - on_white).max() <= 1
    outputs = [succeeded(cli("predict", "--checkpoint", world.checkpoint, tmp_path / name))
               for name in ("rgba.png", "white.png")]  # fmt: skip
    assert [o.split("\t")[1:] for o in outputs][0] == [o.split("\t")[1:] for o in outputs][1]


def test_file_names_with_tab_or_newline_stay_one_predict_line(world, tmp_path):
    crop = tmp_path / "a\tb\nc.png"
    shutil.copy2(world.crop, crop)
    lines = succeeded(cli("predict", "--checkpoint", world.checkpoint, crop)).splitlines()
    assert len(lines) == 1 and lines[0].split("\t")[0] == str(tmp_path / "a\\tb\\nc.png")


def test_a_file_where_an_output_folder_is_needed_is_named(world, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("mine")
    refused(cli("synth", "--images", "1", "--out", blocker / "sub"), str(blocker),
            "a file is where a folder is needed")  # fmt: skip
    assert blocker.read_text() == "mine"
