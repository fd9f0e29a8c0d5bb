"""LMDB import (`manifest --format lmdb`) and `textrec convert` to LMDB and word-crop lists."""

from __future__ import annotations

import cv2
import lmdb
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from dtrb_lmdb import create_dtrb_lmdb
from hypothesis import given, settings
from hypothesis import strategies as st
from word_crops import crop_image, write_crops

from pipelines.convert import command as convert_command
from pipelines.manifest import command as manifest_command
from textrec_data.build import ManifestConfig, build_manifest, process
from textrec_data.charset import normalize_text
from textrec_data.convert import FORMATS
from textrec_data.records import REJECT_REASONS, Reject
from textrec_data.sources import SOURCES
from textrec_data.sources.files import quote
from textrec_data.sources.lmdb_dataset import LmdbChunk, sample_record, write_lmdb
from textrec_data.sources.wordlists import write_wordcrops


def _one_line_error(result, *names: object) -> None:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.output
    for name in names:
        assert str(name) in lines[0]


def _invoke(command, *args: object):
    return CliRunner().invoke(command, [str(a) for a in args])


def _import(gt, out, workers: int = 1, fmt: str = "lmdb") -> dict:
    config = ManifestConfig(None, str(gt), str(out), fmt, split="train", workers=workers)
    return build_manifest(config, progress=False)


def _frame(out, name: str = "manifest.parquet") -> pd.DataFrame:
    return pd.read_parquet(out / name)


@pytest.fixture
def dtrb(tmp_path):
    """An LMDB written the way create_lmdb_dataset.py writes it: 1100 words (two commits), from
    a CRLF gt file that also names a missing and an undecodable image (DTRB skips both)."""
    data = tmp_path / "data"
    names = [f"w{i}.png" for i in range(1100)]
    data.mkdir()
    for i, name in enumerate(names):
        (data / name).write_bytes(cv2.imencode(".png", crop_image(i, 6, 10))[1].tobytes())
    (data / "junk.png").write_bytes(b"junk")
    lines = [f'{name}\tw{i}, "q"' for i, name in enumerate(names)]
    lines[5:5] = ["gone.png\tgone", "junk.png\tjunk"]
    (data / "gt.txt").write_bytes("\r\n".join(lines).encode() + b"\r\n")
    written = create_dtrb_lmdb(data, data / "gt.txt", tmp_path / "lmdb")
    return {"lmdb": tmp_path / "lmdb", "data": data, "names": names, "written": written}


@pytest.mark.parametrize("workers", [1, 2])
def test_dtrb_lmdb_imports_with_every_sample_accounted_for(dtrb, tmp_path, workers):
    assert dtrb["written"] == 1100
    report = _import(dtrb["lmdb"], tmp_path / "out", workers)
    assert (report["kept"], report["rejected"], report["gt_lines"]) == (1100, 0, 1100)
    assert report["accounting_ok"] and report["lmdb_num_samples"] == {"lmdb": 1100}
    rows = _frame(tmp_path / "out")
    assert rows["text"].tolist() == [f'w{i}, "q"' for i in range(1100)]
    assert rows["image_id"].tolist()[:2] == ["lmdb/000000001", "lmdb/000000002"]
    assert rows["line_no"].tolist() == list(range(1, 1101))
    assert rows["image_path"].isna().all() and rows["quad"].isna().all()
    assert set(rows["source"]) == {"lmdb"}
    for i in (0, 777, 1099):  # the image bytes as stored, decoding to the original pixels
        assert rows["crop"][i] == (dtrb["data"] / dtrb["names"][i]).read_bytes()


def test_missing_keys_bad_labels_are_rejected_with_reasons(dtrb, tmp_path):
    env = lmdb.open(str(dtrb["lmdb"]), map_size=1 << 30)
    with env.begin(write=True) as txn:
        txn.delete(b"image-000000002")
        txn.delete(b"label-000000003")
        txn.put(b"label-000000004", b"\xff\xfebad")
        txn.put(b"label-000000005", b"###")
        txn.put(b"label-000000006", b"  ")
        txn.put(b"image-000000007", b"not an image")
        txn.put(b"num-samples", b"1102")  # two more than there are
    env.close()
    report = _import(dtrb["lmdb"], tmp_path / "out")
    assert report["accounting_ok"] and report["gt_lines"] == 1102 and report["kept"] == 1094
    rejects = _frame(tmp_path / "out", "rejects.parquet").set_index("line_no")["reason"]
    assert rejects.to_dict() == {
        2: "missing_image",
        3: "malformed",
        4: "encoding",
        5: "placeholder",
        6: "empty_label",
        7: "unreadable_image",
        1101: "malformed",
        1102: "malformed",
    }


@pytest.mark.parametrize(
    ("num_samples", "message"), [(None, "num-samples"), (b"many", "not a count"), (b"-1", "-1")]
)
def test_bad_num_samples_is_one_line_error(tmp_path, num_samples, message):
    env = lmdb.open(str(tmp_path / "db"), map_size=1 << 24)
    with env.begin(write=True) as txn:
        txn.put(b"label-000000001", b"a")
        if num_samples is not None:
            txn.put(b"num-samples", num_samples)
    env.close()
    args = ("--format", "lmdb", "--gt", tmp_path / "db", "--out", tmp_path / "o")
    result = _invoke(manifest_command, *args)
    _one_line_error(result, tmp_path / "db", message)


def test_not_an_lmdb_is_one_line_error(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "corrupt").mkdir()
    (tmp_path / "corrupt" / "data.mdb").write_bytes(b"\0garbage" * 1000)
    for gt in ("empty", "corrupt"):
        args = ("--format", "lmdb", "--gt", tmp_path / gt, "--out", tmp_path / "o")
        _one_line_error(_invoke(manifest_command, *args), tmp_path / gt)
    args = ("--format", "lmdb", "--gt", tmp_path / "empty", "--images", tmp_path, "--out", "o")
    _one_line_error(_invoke(manifest_command, *args), "--images")


def test_a_folder_of_several_lmdbs(tmp_path):
    data = tmp_path / "data"
    write_crops(data, ["a.png", "b.png"])
    (data / "gt.txt").write_text("a.png\tone\nb.png\ttwo\n")
    for name in ("MJ/MJ_train", "MJ/MJ_valid", "ST"):
        create_dtrb_lmdb(data, data / "gt.txt", tmp_path / "training" / name)
    report = _import(tmp_path / "training", tmp_path / "out", workers=2, fmt="auto")
    assert report["source"] == "lmdb" and report["kept"] == 6 and report["counts"]["gt_files"] == 3
    rows = _frame(tmp_path / "out")
    assert rows["image_id"].tolist() == [
        f"{name}/00000000{i}" for name in ("MJ/MJ_train", "MJ/MJ_valid", "ST") for i in (1, 2)
    ]


# --- convert -----------------------------------------------------------------------------------

LABELS = ['"SCAN"', "back\\slash\\", "1,000", "café", "a b", 'q"', "plain"]


@pytest.fixture
def list_manifest(tmp_path):
    """A manifest of crops with awkward labels, one of them a JPEG kept as it came."""
    folder = tmp_path / "crops"
    names = [f"c{i}.jpg" if i == 3 else f"c{i}.png" for i in range(len(LABELS))]
    write_crops(folder, names)
    gt = folder / "gt.txt"
    gt.write_text("".join(f"{n}, {quote(t)}\n" for n, t in zip(names, LABELS, strict=True)))
    out = tmp_path / "manifest"
    config = ManifestConfig(None, str(gt), str(out), "wordcrops", val_fraction=0.5, workers=1)
    build_manifest(config, progress=False)
    return out / "manifest.parquet"


@pytest.mark.parametrize("target", sorted(FORMATS))
def test_round_trip_gives_same_labels_and_crops(list_manifest, tmp_path, target):
    """Every format convert writes reads back, through the source of the same name, as it was."""
    out = tmp_path / target
    result = _invoke(convert_command, list_manifest, "--to", target, "--out", out)
    assert result.exit_code == 0, result.output
    assert f"wrote {len(LABELS)} words" in result.output
    _import(out if target == "lmdb" else out / "gt.txt", tmp_path / "back", fmt=target)
    before, after = pd.read_parquet(list_manifest), _frame(tmp_path / "back")
    assert after["label"].tolist() == before["label"].tolist() == LABELS
    assert after["crop"].tolist() == before["crop"].tolist()
    for a, b in zip(before["crop"], after["crop"], strict=True):
        pixels = (cv2.imdecode(np.frombuffer(x, np.uint8), cv2.IMREAD_COLOR) for x in (a, b))
        assert np.array_equal(*pixels)
    if target == "wordcrops":
        listing = (out / "gt.txt").read_bytes()
        assert listing.startswith(b'\xef\xbb\xbfword_1.png, "\\"SCAN\\""\r\n')
        assert (out / "word_4.jpg").read_bytes() == before["crop"][3]


def test_every_output_format_has_its_reader():
    assert set(FORMATS) <= set(SOURCES)


def test_lmdb_writer_grows_its_map(tmp_path):
    """A map far smaller than the samples grows until they fit; every sample reads back."""
    rng = np.random.default_rng(0)
    samples = [(f"w{i}", rng.bytes(3000)) for i in range(1500)]  # 4.5 MB, two transactions
    assert write_lmdb(tmp_path, iter(samples), map_size=1 << 16) == len(samples)
    env = lmdb.open(str(tmp_path), readonly=True, lock=False)
    with env.begin() as txn:
        assert int(txn.get(b"num-samples")) == len(samples)
        assert txn.get(b"label-000001500") == b"w1499"
        assert [txn.get(b"image-%09d" % (i + 1)) for i in range(1500)] == [s[1] for s in samples]
    env.close()


def test_wordcrops_writer_refuses_a_label_with_a_line_break(tmp_path):
    with pytest.raises(ValueError, match="row 2: a label with a line break"):
        write_wordcrops(tmp_path, iter([("ok", b"png"), ("two\nlines", b"png")]))


def test_round_trip_of_scene_crops_is_pixel_identical(tmp_path, scenes):
    quad = ",".join(map(str, scenes.PATCH))
    scenes.write(tmp_path / "img", tmp_path / "gt", "img_1", [f"{quad},AB", f"{quad},cd"])
    scenes.write(tmp_path / "img", tmp_path / "gt", "img_1", None, scenes.image())
    config = ManifestConfig(str(tmp_path / "img"), str(tmp_path / "gt"), str(tmp_path / "m"))
    build_manifest(config, progress=False)
    manifest = tmp_path / "m" / "manifest.parquet"
    result = _invoke(convert_command, manifest, "--to", "lmdb", "--out", tmp_path / "l")
    assert result.exit_code == 0, result.output
    _import(tmp_path / "l", tmp_path / "back")
    before, after = pd.read_parquet(manifest), _frame(tmp_path / "back")
    assert after["label"].tolist() == before["label"].tolist() == ["AB", "cd"]
    assert after["crop"].tolist() == before["crop"].tolist()
    crop = cv2.imdecode(np.frombuffer(after["crop"][0], np.uint8), cv2.IMREAD_COLOR)
    assert np.allclose(scenes.quadrant_means(crop), scenes.LEVELS, atol=2)


def test_convert_one_split_and_its_errors(list_manifest, tmp_path):
    frame = pd.read_parquet(list_manifest)
    out = tmp_path / "val"
    result = _invoke(convert_command, list_manifest, "--to", "lmdb", "--out", out, "--split", "val")
    assert result.exit_code == 0, result.output
    env = lmdb.open(str(out), readonly=True, lock=False)
    with env.begin() as txn:
        assert int(txn.get(b"num-samples")) == (frame["split"] == "val").sum() > 0
        assert txn.get(b"label-000000001").decode() == frame[frame["split"] == "val"].label.iloc[0]
    env.close()
    _one_line_error(_invoke(convert_command, list_manifest, "--to", "lmdb", "--out", out), out)
    args = ("--to", "wordcrops", "--out", tmp_path / "t", "--split", "test")
    _one_line_error(_invoke(convert_command, list_manifest, *args), "test")
    missing = tmp_path / "none.parquet"
    _one_line_error(_invoke(convert_command, missing, "--to", "lmdb", "--out", tmp_path / "x"))


def test_convert_replaces_only_its_own_output(list_manifest, tmp_path):
    out = tmp_path / "converted"
    args = ("--to", "wordcrops", "--out", out, "--split", "val")
    assert _invoke(convert_command, list_manifest, *args).exit_code == 0
    first = sorted(p.name for p in out.iterdir())
    _one_line_error(_invoke(convert_command, list_manifest, *args), "--overwrite")
    result = _invoke(convert_command, list_manifest, *args, "--overwrite")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == first and "gt.txt" in first
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    for extra in ((), ("--overwrite",)):
        bad = ("--to", "lmdb", "--out", foreign, *extra)
        _one_line_error(_invoke(convert_command, list_manifest, *bad), "notes.txt")
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    assert (foreign / "notes.txt").read_text() == "keep me"
    inside = ("--to", "lmdb", "--out", list_manifest)
    _one_line_error(_invoke(convert_command, list_manifest, *inside, "--overwrite"), "input")
    assert pd.read_parquet(list_manifest).shape[0] > 0


@given(st.lists(st.tuples(st.one_of(st.none(), st.binary(max_size=12)), st.binary(max_size=8))))
@settings(max_examples=200, deadline=None)
def test_fuzzed_lmdb_samples_are_each_kept_or_rejected(samples):
    """Any label bytes (or none) and image bytes: no crash, one record per sample, each a word
    or a reject with a known reason, the words' text valid NFC."""
    unit = LmdbChunk("/db", "db", 1, len(samples) + 1)
    records = [sample_record(unit, i, lab, img) for i, (lab, img) in enumerate(samples, 1)]
    assert len(records) == len(samples)
    for record, (label, _) in zip(records, samples, strict=True):
        if isinstance(record, Reject):
            assert record.reason in REJECT_REASONS
        else:
            assert record.text == normalize_text(label.decode()) and record.text.strip()
    result = process(records)  # no 8-byte image decodes: every sample is rejected
    assert result.records == len(result.rejects) == len(samples) and not result.rows
