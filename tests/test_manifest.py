"""The manifest stage end to end: build_manifest, the `manifest` CLI, the file format."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipelines.manifest import command as manifest_command
from pipelines.stats import command as stats_command
from textrec_data.build import ManifestConfig, build_manifest
from textrec_data.charset import Charset
from textrec_data.engines.local import MAX_TASK_UNITS, TASK_RECORDS, task_size
from textrec_data.errors import InputError
from textrec_data.manifest import FORMAT_VERSION, MANIFEST_SCHEMA, METADATA_KEY, read_manifest_info
from textrec_data.outputs import MARKER

QA = "10,10,50,10,50,30,10,30"
CAFE = "cafe\u0301"  # decomposed: NFC makes it "café"
OUTPUT_FILES = ("manifest.parquet", "rejects.parquet", "vocab.json", "report.json")

# Reject reasons the main fixture produces, and how often (out_of_charset has its own test).
EXPECTED_REASONS = {
    "bad_coordinates": 2,
    "blank_line": 1,
    "degenerate_quad": 1,
    "empty_label": 1,
    "encoding": 1,
    "malformed": 1,
    "missing_image": 1,
    "outside_image": 1,
    "placeholder": 2,
    "unreadable_image": 1,
}


def _main_lines(patch_quad: str) -> list[str | bytes]:
    return [
        f"{patch_quad},SCAN",
        f"{QA},1,000",
        f'{QA},"SCAN"',
        f"{QA},DON'T",
        f"{QA},New York",
        f"{QA},{CAFE}",
        f"{QA},###",
        "",
        f"{QA},####",
        "1,2,3,4,word",
        "a,2,3,4,5,6,7,8,word",
        "nan,2,3,4,5,6,7,8,word",
        f"{QA},",
        "5,5,5,5,5,5,5,5,dot",
        "300,10,380,10,380,40,300,40,Ωmega",  # outside: Ω must not reach the vocabulary
        "10,10,10,30,50,30,50,10,ccw",
        "10,10,50,30,50,10,10,30,bow",
        f"{QA},b".encode() + b"\xe9d",
    ]


def make_dataset(root: Path, scenes) -> tuple[Path, Path, int]:
    """Scenes covering every reject reason but out_of_charset; returns (images, gt, lines)."""
    images, gt = root / "images", root / "gt"
    patch_quad = ",".join(map(str, scenes.PATCH))
    lines = scenes.write(
        images, gt, "img_1", _main_lines(patch_quad), scenes.image(), newline=b"\r\n", bom=True
    )
    rng = np.random.default_rng(1)
    for i in range(2, 12):
        image = scenes.image()
        image[5:30, 5:55] = rng.integers(0, 255, (25, 50, 3), dtype=np.uint8)
        lines += scenes.write(images, gt, f"img_{i}", [f"{QA},ab{i}", f"{patch_quad},cd"], image)
    lines += scenes.write(images, gt, "img_missing", [f"{QA},gone"])
    lines += scenes.write(images, gt, "img_bad", [f"{QA},bad"], b"\x00not a jpeg", ext=".jpg")
    scenes.write(images, gt, "img_lonely", None, scenes.image())
    return images, gt, lines


def _config(images: Path, gt: Path, out: Path, **kw) -> ManifestConfig:
    kw = {"workers": 1, "val_fraction": 0.5, "row_group_size": 8, **kw}
    return ManifestConfig(str(images), str(gt), str(out), **kw)


@pytest.fixture(scope="module")
def built(tmp_path_factory, scenes):
    root = tmp_path_factory.mktemp("built")
    images, gt, lines = make_dataset(root, scenes)
    out = root / "out"
    report = build_manifest(_config(images, gt, out, case="upper"), progress=False)
    return {"images": images, "gt": gt, "out": out, "lines": lines, "report": report}


def _frame(out: Path, name: str = "manifest.parquet") -> pd.DataFrame:
    return pd.read_parquet(out / name)


def _run(command, args: list[str]):
    return CliRunner().invoke(command, [str(a) for a in args])


def _assert_one_line_error(result, *names: object) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for name in names:
        assert str(name) in lines[0]


# --- outputs and format -----------------------------------------------------------------------


def test_four_output_files(built):
    for name in OUTPUT_FILES:
        assert (built["out"] / name).is_file()
    assert sorted(p.name for p in built["out"].iterdir()) == sorted([*OUTPUT_FILES, MARKER])
    assert (built["out"] / MARKER).read_text() == "manifest\n"
    report = json.loads((built["out"] / "report.json").read_text())
    assert report["kept"] == built["report"]["kept"]


def test_read_parquet_with_and_without_columns(built):
    frame = _frame(built["out"])
    assert list(frame.columns) == MANIFEST_SCHEMA.names
    assert len(frame) == built["report"]["kept"] == 28
    some = pd.read_parquet(built["out"] / "manifest.parquet", columns=["label", "crop_h"])
    assert list(some.columns) == ["label", "crop_h"]
    assert some["label"].tolist() == frame["label"].tolist()


def test_column_types(built):
    schema = pq.read_schema(built["out"] / "manifest.parquet")
    assert schema.field("quad").type == pa.list_(pa.float32(), 8)
    for name in ("line_no", "crop_h", "crop_w"):
        assert schema.field(name).type == pa.int32()
    for name in ("image_id", "image_path", "gt_path", "text", "label"):
        assert schema.field(name).type == pa.string()
    assert schema.field("crop").type == pa.binary()
    assert pa.types.is_dictionary(schema.field("split").type)
    rejects = pq.read_schema(built["out"] / "rejects.parquet")
    assert rejects.names == ["gt_path", "line_no", "raw", "reason"]


def test_quad_and_crops(built, scenes):
    frame = _frame(built["out"])
    for row in frame.itertuples():
        quad = np.asarray(row.quad)
        assert quad.shape == (8,) and quad.dtype == np.float32
        crop = cv2.imdecode(np.frombuffer(row.crop, np.uint8), cv2.IMREAD_COLOR)
        assert crop.shape == (row.crop_h, row.crop_w, 3)
    first = frame[(frame["image_id"] == "img_1") & (frame["line_no"] == 1)].iloc[0]
    assert first["quad"].tolist() == list(scenes.PATCH)
    crop = cv2.imdecode(np.frombuffer(first["crop"], np.uint8), cv2.IMREAD_COLOR)
    assert crop.shape == (40, 80, 3)
    assert np.allclose(scenes.quadrant_means(crop), scenes.LEVELS, atol=2)
    ccw = frame[frame["text"] == "ccw"].iloc[0]  # stored as in the GT, cropped repaired
    assert ccw["quad"].tolist() == [10, 10, 10, 30, 50, 30, 50, 10]
    assert (ccw["crop_h"], ccw["crop_w"]) == (20, 40)


def test_row_groups_are_bounded(built):
    info = read_manifest_info(built["out"] / "manifest.parquet")
    assert info.row_group_rows == (8, 8, 8, 4)
    assert info.num_rows == 28


# --- accounting -------------------------------------------------------------------------------


def test_accounting_identity(built):
    report = built["report"]
    assert report["kept"] + report["rejected"] == built["lines"] == report["gt_lines"] == 40
    assert report["accounting_ok"] is True
    assert report["counts"]["reasons"] == EXPECTED_REASONS
    rejects = _frame(built["out"], "rejects.parquet")
    assert rejects["reason"].value_counts().to_dict() == EXPECTED_REASONS
    assert report["images_without_gt"] == 1


def test_every_gt_line_in_exactly_one_file(built):
    rows = _frame(built["out"])[["gt_path", "line_no"]]
    rejects = _frame(built["out"], "rejects.parquet")[["gt_path", "line_no"]]
    seen = [tuple(r) for r in pd.concat([rows, rejects]).itertuples(index=False)]
    assert len(seen) == len(set(seen)) == built["lines"]
    expected = set()
    for gt_file in built["gt"].iterdir():
        count = len(gt_file.read_bytes().splitlines())
        expected |= {(str(gt_file.resolve()), n) for n in range(1, count + 1)}
    assert set(seen) == expected


def test_rejects_keep_the_raw_line(built):
    rejects = _frame(built["out"], "rejects.parquet")
    img1 = rejects[rejects["gt_path"].str.endswith("gt_img_1.txt")].set_index("line_no")
    assert img1.loc[10, "raw"] == "1,2,3,4,word"  # no CR left over
    assert img1.loc[10, "reason"] == "malformed"
    assert img1.loc[8, "reason"] == "blank_line"
    assert img1.loc[18, "reason"] == "encoding"
    assert set(img1.loc[[7, 9], "reason"]) == {"placeholder"}


# --- text, label, vocabulary ------------------------------------------------------------------


def test_text_verbatim_label_upper(built):
    frame = _frame(built["out"])
    img1 = frame[frame["image_id"] == "img_1"].set_index("line_no")
    assert img1["text"].to_dict() == {
        1: "SCAN",
        2: "1,000",
        3: '"SCAN"',
        4: "DON'T",
        5: "New York",
        6: "café",
        16: "ccw",
        17: "bow",
    }
    assert img1.loc[5, "label"] == "NEW YORK"
    assert img1.loc[6, "label"] == "CAFÉ"
    assert (frame["label"] == frame["text"].str.upper()).all()
    assert not frame["text"].str.contains("#").any()


@pytest.mark.parametrize(
    ("case", "labels"),
    [
        ("keep", ["DON'T", "New York", "café"]),
        ("upper", ["DON'T", "NEW YORK", "CAFÉ"]),
        ("lower", ["don't", "new york", "café"]),
    ],
)
def test_case_policy(tmp_path, scenes, case, labels):
    images, gt = tmp_path / "images", tmp_path / "gt"
    scenes.write(images, gt, "a", [f"{QA},DON'T", f"{QA},New York", f"{QA},{CAFE}"], scenes.image())
    report = build_manifest(_config(images, gt, tmp_path / "out", case=case), progress=False)
    frame = _frame(tmp_path / "out")
    assert frame["text"].tolist() == ["DON'T", "New York", "café"]
    assert frame["label"].tolist() == labels
    assert report["case"] == case
    assert read_manifest_info(tmp_path / "out" / "manifest.parquet").charset.case == case


def test_vocab_matches_metadata_and_train_val_labels(built):
    info = read_manifest_info(built["out"] / "manifest.parquet")
    vocab = json.loads((built["out"] / "vocab.json").read_text(encoding="utf-8"))
    assert vocab == info.charset.to_dict()
    assert Charset.load(built["out"] / "vocab.json") == info.charset
    frame = _frame(built["out"])
    assert set(frame["split"]) <= {"train", "val"}
    assert list(info.charset.chars) == sorted(set("".join(frame["label"])))
    assert "Ω" not in info.charset.chars and "#" not in info.charset.chars
    assert {",", '"', "'", " ", "É"} <= set(info.charset.chars)


def test_given_charset_filters_and_is_kept_unaltered(tmp_path, scenes):
    images, gt = tmp_path / "images", tmp_path / "gt"
    words = ["AB", "ba", "CD", "1,000", "DON'T", CAFE]
    scenes.write(images, gt, "a", [f"{QA},{w}" for w in words], scenes.image())
    given = list("ZYXWVUTSRQPONMLKJIHGFEDCBA")  # deliberately unsorted
    (tmp_path / "vocab.json").write_text(json.dumps({"charset": given, "case": "upper"}))
    config = _config(
        images, gt, tmp_path / "out", case="upper", charset=str(tmp_path / "vocab.json")
    )
    report = build_manifest(config, progress=False)
    frame = _frame(tmp_path / "out")
    assert frame["label"].tolist() == ["AB", "BA", "CD"]
    assert report["counts"]["reasons"] == {"out_of_charset": 3}
    rejects = _frame(tmp_path / "out", "rejects.parquet")
    assert rejects["line_no"].tolist() == [4, 5, 6]
    info = read_manifest_info(tmp_path / "out" / "manifest.parquet")
    assert list(info.charset.chars) == given
    assert json.loads((tmp_path / "out" / "vocab.json").read_text())["charset"] == given


def test_unreadable_charset_file_is_an_input_error(tmp_path, scenes):
    images, gt = tmp_path / "images", tmp_path / "gt"
    scenes.write(images, gt, "a", [f"{QA},ab"], scenes.image())
    (tmp_path / "bad.json").write_text('["a", "b"]')
    result = _run(
        manifest_command,
        ["--images", images, "--gt", gt, "--out", tmp_path / "out", "--charset",
         tmp_path / "bad.json", "--workers", 1, "--quiet"],
    )  # fmt: skip
    _assert_one_line_error(result, tmp_path / "bad.json")


# --- splits -----------------------------------------------------------------------------------


def test_auto_split_is_per_image(built):
    frame = _frame(built["out"])
    per_image = frame.groupby("image_id", observed=True)["split"].nunique()
    assert (per_image == 1).all()
    train = set(frame.loc[frame["split"] == "train", "image_id"])
    val = set(frame.loc[frame["split"] == "val", "image_id"])
    assert train and val and not train & val
    counts = frame["split"].value_counts().to_dict()
    assert built["report"]["counts"]["splits"] == {k: v for k, v in counts.items() if v}


def test_auto_split_stable_across_runs_and_workers(built, tmp_path):
    reference = _frame(built["out"])
    for name, workers in (("again", 1), ("pool", 2)):
        config = _config(
            built["images"], built["gt"], tmp_path / name, case="upper", workers=workers
        )
        build_manifest(config, progress=False)
        pd.testing.assert_frame_equal(_frame(tmp_path / name), reference)
        pd.testing.assert_frame_equal(
            _frame(tmp_path / name, "rejects.parquet"), _frame(built["out"], "rejects.parquet")
        )


def test_pool_tasks_group_small_units_only():
    assert task_size(0, 0) == 1  # nothing measured yet: a unit a task
    assert task_size(records=4 * 100, units=100) == min(MAX_TASK_UNITS, TASK_RECORDS // 4)
    assert task_size(records=1, units=1000) == MAX_TASK_UNITS
    assert task_size(records=512 * 10, units=10) == 1  # word-list chunks: one a task
    assert task_size(records=0, units=3) == MAX_TASK_UNITS  # units of rejects only


def test_split_test_marks_all_rows(built, tmp_path):
    config = _config(built["images"], built["gt"], tmp_path / "out", split="test")
    report = build_manifest(config, progress=False)
    frame = _frame(tmp_path / "out")
    assert len(frame) == built["report"]["kept"]
    assert set(frame["split"]) == {"test"}
    assert report["counts"]["splits"] == {"test": len(frame)}
    info = read_manifest_info(tmp_path / "out" / "manifest.parquet")
    assert list(info.charset.chars) == sorted(set("".join(frame["label"])))


# --- CLI --------------------------------------------------------------------------------------


def _cli_args(built, out: Path, *extra) -> list:
    return ["--images", built["images"], "--gt", built["gt"], "--out", out, "--workers", 1,
            "--val-fraction", 0.5, "--quiet", *extra]  # fmt: skip


def test_cli_builds_then_refuses_then_overwrites(built, tmp_path):
    out = tmp_path / "out"
    result = _run(manifest_command, _cli_args(built, out, "--case", "lower"))
    assert result.exit_code == 0, result.output
    assert "kept 28 + rejected 12 = 40 of 40 records" in result.output
    assert "images without GT: 1" in result.output
    before = {name: (out / name).read_bytes() for name in OUTPUT_FILES}
    assert set(_frame(out)["label"]) >= {"new york", "don't"}

    result = _run(manifest_command, _cli_args(built, out, "--case", "upper"))
    _assert_one_line_error(result, out)
    assert {name: (out / name).read_bytes() for name in OUTPUT_FILES} == before

    (out / "notes.txt").write_text("the user's, not textrec's")
    result = _run(manifest_command, _cli_args(built, out, "--case", "upper", "--overwrite"))
    _assert_one_line_error(result, out)  # --overwrite never removes what textrec did not write
    assert "notes.txt" in result.output and (out / "notes.txt").exists()
    (out / "notes.txt").unlink()
    result = _run(manifest_command, _cli_args(built, out, "--case", "upper", "--overwrite"))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted([*OUTPUT_FILES, MARKER])
    assert set(_frame(out)["label"]) >= {"NEW YORK", "DON'T"}


def test_cli_out_is_a_file(built, tmp_path):
    out = tmp_path / "out"
    out.write_text("keep me")
    _assert_one_line_error(_run(manifest_command, _cli_args(built, out)), out)
    assert out.read_text() == "keep me"


def test_cli_missing_images_dir(built, tmp_path):
    args = _cli_args(built, tmp_path / "out")
    args[1] = tmp_path / "no_such_images"
    _assert_one_line_error(_run(manifest_command, args), tmp_path / "no_such_images")
    assert not (tmp_path / "out").exists()


def test_cli_gt_dir_without_gt_files(built, tmp_path):
    gt = tmp_path / "gt"
    gt.mkdir()
    (gt / "img_1.txt").write_text(f"{QA},word\n")
    args = _cli_args(built, tmp_path / "out")
    args[3] = gt
    _assert_one_line_error(_run(manifest_command, args), gt)


# --- read_manifest_info -----------------------------------------------------------------------


def test_read_manifest_info(built):
    info = read_manifest_info(built["out"] / "manifest.parquet")
    assert info.metadata["format_version"] == FORMAT_VERSION == 3
    assert info.metadata["counts"]["kept"] == 28
    assert info.split_count("train") + info.split_count("val") == 28


def _bad_manifests(built, tmp_path: Path) -> dict[str, Path]:
    paths = {"missing": tmp_path / "missing.parquet"}
    paths["not_parquet"] = tmp_path / "text.parquet"
    paths["not_parquet"].write_text("hello, not parquet\n")
    paths["no_metadata"] = tmp_path / "plain.parquet"
    pq.write_table(pa.table({"a": [1, 2]}), paths["no_metadata"])
    source = pq.ParquetFile(built["out"] / "manifest.parquet")
    metadata = json.loads(source.metadata.metadata[METADATA_KEY])
    metadata["format_version"] = 99
    paths["version_99"] = tmp_path / "v99.parquet"
    with pq.ParquetWriter(paths["version_99"], source.schema_arrow) as writer:
        writer.write_table(source.read())
        writer.add_key_value_metadata({METADATA_KEY: json.dumps(metadata)})
    paths["rejects"] = built["out"] / "rejects.parquet"  # a textrec file but not a manifest
    whole = (built["out"] / "manifest.parquet").read_bytes()
    paths["truncated"] = tmp_path / "truncated.parquet"  # e.g. a copy cut short
    paths["truncated"].write_bytes(whole[: len(whole) // 2])
    return paths


@pytest.mark.parametrize(
    "kind", ["missing", "not_parquet", "no_metadata", "version_99", "rejects", "truncated"]
)
def test_read_manifest_info_errors_name_the_file(built, tmp_path, kind):
    path = _bad_manifests(built, tmp_path)[kind]
    with pytest.raises(InputError) as excinfo:
        read_manifest_info(path)
    assert str(path) in str(excinfo.value)
    if kind == "version_99":
        assert "99" in str(excinfo.value)
    _assert_one_line_error(_run(stats_command, [path]), path)
