"""benchmarks/ic15_table.py's rows and columns on a tiny manifest with an untrained tiny model,
its peer skipping, and benchmarks/frontier.py's figure and points from a hand-written table."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from manifest_factory import CHARS, write_manifest

from benchmarks import frontier, ic15_table, results_md
from benchmarks.peers import PEERS, Peer
from textrec_data.charset import Charset
from textrec_model.checkpoint import save_checkpoint
from textrec_model.models import build_model
from textrec_model.scoring import split_rows


@pytest.fixture(scope="module")
def tiny_table(tmp_path_factory):
    """ic15_table.py run on 12 words with a random tiny CRNN, a subset file of three images."""
    folder = tmp_path_factory.mktemp("ic15_table")
    manifest = write_manifest(folder / "manifest.parquet", 12, val_every=1000)
    charset = Charset(tuple(CHARS), "keep")
    model = build_model("tiny", charset.num_classes)
    state = {"model_name": "tiny", "model_args": model.model_args(), "model": model.state_dict()}
    state |= {"charset": charset.to_dict(), "config": {"max_width": 512}, "step": 0}
    save_checkpoint(state, folder / "tiny.pt")
    (folder / "subset.txt").write_text("img_0.png\nimg_1.png\nimg_2.png\n")
    argv = ["--manifest", str(manifest), "--split", "train", "--no-peers", "--rounds", "2"]
    argv += ["--model", str(folder / "tiny.pt"), "--label", "tiny model"]
    argv += ["--subset", str(folder / "subset.txt"), "--out", str(folder / "table.json")]
    return ic15_table.main(argv), folder


def test_a_textrec_row_has_all_words_the_subset_and_a_vertical_column(tiny_table):
    result, folder = tiny_table
    assert json.loads((folder / "table.json").read_text()) == result
    (row,) = result["rows"]
    assert (row["label"], row["kind"]) == ("tiny model", "textrec")
    assert row["all"]["n"] == 12 and row["subset"]["n"] == 6  # 2 words per image
    assert row["rotate"]["vertical"]["all"]["n"] == 12
    assert row["crops_per_s_per_thread"] > 0
    assert result["skipped"] == []


def test_the_docs_table_gets_the_subset_and_vertical_columns(tiny_table, monkeypatch):
    result, _ = tiny_table
    monkeypatch.setattr(results_md, "load", lambda name: result)
    header = results_md.ic15_table().splitlines()[0]
    assert "subset.txt (6 words)" in header and "`--rotate vertical`" in header


def test_a_time_limit_times_fewer_crops_but_scores_every_one(tiny_table):
    _, folder = tiny_table
    argv = ["--manifest", str(folder / "manifest.parquet"), "--split", "train", "--no-peers"]
    argv += ["--model", str(folder / "tiny.pt"), "--time-limit", "3"]
    result = ic15_table.main([*argv, "--out", str(folder / "timed.json")])
    (row,) = result["rows"]
    assert result["time_limit"] == 3 and row["all"]["n"] == 12
    assert row["crops_per_s_per_thread"] > 0


def test_every_row_is_scored_on_each_error_slice(tiny_table):
    result, _ = tiny_table
    (row,) = result["rows"]
    assert set(row["slices"]) == set(ic15_table.SLICES)
    short = row["slices"]["1-2 characters"]
    assert 0 <= short["word_accuracy_alnum"] <= 1


def test_slices_pick_words_by_label_and_crop_shape():
    labels, crops = (
        ["ab", "0123456789", "word"],
        [np.zeros((40, 20, 3)), *[np.zeros((20, 40, 3))] * 2],
    )
    masks = ic15_table.slice_masks(labels, crops)
    assert masks == {
        "vertical (crop taller than wide)": [True, False, False],
        "1-2 characters": [True, False, False],
        "10+ characters": [False, True, False],
        "with digits": [False, True, False],
    }


def test_without_a_subset_file_the_subset_is_letters_and_digits_only(tmp_path):
    manifest = write_manifest(tmp_path / "m.parquet", 4, val_every=1000)
    words = list(split_rows([manifest], "train"))
    words[1] = dataclasses.replace(words[1], label="ab-c")
    assert ic15_table.subset_mask(words, None) == [True, False, True, True]


def test_a_peer_whose_package_is_missing_is_skipped(monkeypatch, capsys):
    monkeypatch.setitem(PEERS, "nothing", Peer("nothing", lambda: None, "no_such_package_x"))
    readers, skipped = ic15_table.peer_readers(["nothing"])
    assert readers == {} and skipped[0]["peer"] == "nothing"
    assert "skipped peer nothing" in capsys.readouterr().out


def test_frontier_draws_every_row_and_writes_its_points(tmp_path):
    def row(label: str, kind: str, alnum: float, speed: float) -> dict:
        return {"label": label, "kind": kind, "all": {"word_accuracy_alnum": alnum, "n": 10},
                "crops_per_s_per_thread": speed}  # fmt: skip

    rows = [row("ours (`crnn-small`)", "textrec", 0.5, 500.0), row("theirs", "peer", 0.7, 20.0)]
    (tmp_path / "t.json").write_text(json.dumps({"rows": rows}))
    png, out = tmp_path / "f.png", tmp_path / "f.json"
    frontier.main(["--table", str(tmp_path / "t.json"), "--png", str(png), "--out", str(out)])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    points = json.loads(out.read_text())["points"]
    assert [(p["kind"], p["word_accuracy_alnum"]) for p in points] == [
        ("textrec", 0.5),
        ("peer", 0.7),
    ]
    assert frontier.short_label(rows[0]["label"]) == "ours"
