"""Word-crop lists: ICDAR 2015 Task 4.3 (`wordcrops`) and `path<TAB>text` label files (`tsv`)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from word_crops import write_crops

from pipelines.manifest import command as manifest_command
from textrec_data.build import ManifestConfig, build_manifest, process
from textrec_data.charset import normalize_text
from textrec_data.sources.files import quote, unquote
from textrec_data.sources.wordlists import (
    WordCropsSource,
    parse_tsv_line,
    parse_wordcrop_line,
)

BOM = b"\xef\xbb\xbf"


# Lines as ICDAR 2015 Task 4.3 writes them (escaped quotes, commas in text), and faults.
TASK43_LINES = [
    'word_1.png, "Genaxis Theatre"',
    'word_2.png, "\\"SCAN\\""',
    'word_3.png, "READER\\""',
    'word_4.png, "1,000"',
    'word_5.jpg, "café"',
    "word_6.png, bare text",
    'word_7.png, "###"',
    'word_8.png, ""',
    "",
    "no comma here",
    'word_9.png, "unclosed',
    'missing.png, "gone"',
    'word_10.png, "junk"',
]
CROPS = ["word_1.png", "word_2.png", "word_3.png", "word_4.png", "word_5.jpg", "word_6.png"]


@pytest.fixture
def task43(tmp_path):
    folder = tmp_path / "TestSet"
    write_crops(folder, CROPS)
    (folder / "word_10.png").write_bytes(b"not an image")
    body = "\r\n".join(TASK43_LINES).encode() + b"\r\n" + b'word_11.png, "\xff\xfe"\r\n'
    gt = tmp_path / "gt.txt"
    gt.write_bytes(BOM + body)
    return {"folder": folder, "gt": gt, "lines": len(TASK43_LINES) + 1}


def test_task43_words_kept_verbatim_and_faults_rejected(task43, tmp_path):
    out = tmp_path / "out"
    config = ManifestConfig(
        str(task43["folder"]), str(task43["gt"]), str(out), "wordcrops", split="test", workers=1
    )
    report = build_manifest(config, progress=False)
    assert report["accounting_ok"] and report["gt_lines"] == task43["lines"]
    rows = pd.read_parquet(out / "manifest.parquet")
    assert rows["text"].tolist() == [
        "Genaxis Theatre",
        '"SCAN"',
        'READER"',
        "1,000",
        "café",
        "bare text",
    ]
    assert rows["image_id"].tolist() == [name.split(".")[0] for name in CROPS]
    assert rows["quad"].isna().all() and set(rows["source"]) == {"wordcrops"}
    assert rows["gt_path"].iloc[0] == str(task43["gt"].resolve())
    for row, name in zip(rows.itertuples(), CROPS, strict=True):
        assert row.crop == (task43["folder"] / name).read_bytes()  # PNG and JPEG kept as they are
    rejects = pd.read_parquet(out / "rejects.parquet").set_index("line_no")["reason"]
    assert rejects.to_dict() == {
        7: "placeholder",
        8: "empty_label",
        9: "blank_line",
        10: "malformed",
        11: "malformed",
        12: "missing_image",
        13: "unreadable_image",
        14: "encoding",
    }


def test_images_default_to_the_lists_folder_and_auto_detects(task43, tmp_path):
    out = tmp_path / "out"
    args = ["--format", "auto", "--gt", task43["gt"], "--out", out, "--split", "test"]
    (task43["gt"].parent / "word_1.png").write_bytes((task43["folder"] / "word_1.png").read_bytes())
    result = CliRunner().invoke(manifest_command, [str(a) for a in [*args, "--workers", "1"]])
    assert result.exit_code == 0, result.output
    assert "format wordcrops" in result.output
    report = json.loads((out / "report.json").read_text())
    assert report["source"] == "wordcrops" and report["kept"] == 1  # only word_1 is beside it
    assert report["counts"]["reasons"]["missing_image"] == 7  # word_2-6, word_10, missing


def test_tsv_label_file(tmp_path):
    folder = tmp_path / "data"
    write_crops(folder / "test", ["a.png", "b.png"])
    lines = ['test/a.png\tHello, "world"', "test/b.png\ttab\tinside", "nolabel", "test/c.png\tx"]
    gt = folder / "gt.txt"
    gt.write_bytes(("\n".join(lines) + "\n").encode())
    report = build_manifest(
        ManifestConfig(None, str(gt), str(tmp_path / "out"), "tsv", workers=2), progress=False
    )
    assert (report["kept"], report["rejected"], report["accounting_ok"]) == (2, 2, True)
    rows = pd.read_parquet(tmp_path / "out" / "manifest.parquet")
    assert rows["text"].tolist() == ['Hello, "world"', "tab\tinside"]  # tsv text is verbatim
    assert rows["image_id"].tolist() == ["test/a", "test/b"]
    assert report["counts"]["reasons"] == {"malformed": 1, "missing_image": 1}


def test_missing_list_or_folder_is_one_line_error(tmp_path):
    runner = CliRunner()
    for args in (
        ["--format", "wordcrops", "--gt", tmp_path / "none.txt"],
        ["--format", "tsv", "--gt", tmp_path, "--images", tmp_path / "nowhere"],
    ):
        result = runner.invoke(manifest_command, [str(a) for a in [*args, "--out", tmp_path / "o"]])
        assert result.exit_code == 2 and result.output.startswith("error: "), result.output
        assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


@given(st.text())
@settings(max_examples=300, deadline=None)
def test_quote_then_unquote_is_identity(text):
    assert unquote(quote(text)) == text
    name, parsed, reason = parse_wordcrop_line(f"word_1.png, {quote(text)}")
    assert name == "word_1.png"
    assert reason in (None, "placeholder", "empty_label")
    assert reason is not None or parsed == normalize_text(text)


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"))


@given(st.lists(TEXT, max_size=30))
@settings(max_examples=100, deadline=None)
def test_fuzzed_lists_account_for_every_line(tmp_path_factory, lines):
    """Any UTF-8 text (a NUL makes a file UTF-16: tested in test_reliability): no crash, one
    record per line, each kept or rejected."""
    folder = tmp_path_factory.mktemp("fuzz")
    gt = folder / "gt.txt"
    gt.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass"))
    for parse in (parse_wordcrop_line, parse_tsv_line):
        for line in lines:
            name, text, reason = parse(line)
            assert isinstance(name, str) and isinstance(text, str)
    source = WordCropsSource(None, str(gt))
    plan = source.plan()
    results = [process(source.read(unit)) for unit in plan.units]
    count = sum(r.records for r in results)
    assert count == len(gt.read_bytes().splitlines())
    assert sum(len(r.rows) + len(r.rejects) for r in results) == count
