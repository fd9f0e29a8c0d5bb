"""``--format auto``: tell a dataset's format from its ``--gt`` path where that is unambiguous.

- a folder with ``data.mdb`` in it or below: ``lmdb``;
- a folder of ``gt_*.txt``: ``icdar15`` (8 coordinates, then text) or ``icdar13`` (4 numbers,
  then quoted text), by the first lines of its first GT files;
- a JSON file: ``cocotext`` (``legibility`` / ``imgToAnns`` keys) or ``textocr`` (``points`` /
  ``img2Anns``);
- another file: ``wordcrops`` (``word_1.png, "text"``) or ``tsv`` (``path<TAB>text``), by its
  first lines.

When the evidence fits several formats (e.g. empty GT files) or none, the error says which
formats it could be.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from textrec_data.errors import InputError
from textrec_data.sources.files import IMAGE_EXTENSIONS, decode_lines
from textrec_data.sources.icdar13 import parse_ic13_line
from textrec_data.sources.icdar15 import GTReject, GTWord, list_gt_files, parse_gt_line

#: Lines and GT files looked at.
SAMPLE_LINES = 20
SAMPLE_FILES = 3
#: Keys that only one JSON format has, looked for in the file's bytes.
JSON_MARKERS = {
    "cocotext": (b'"legibility"', b'"imgToAnns"'),
    "textocr": (b'"img2Anns"', b'"points"'),
}
_SCAN_BYTES = 1 << 20
_IMAGE_NAME = re.compile(r"\.(" + "|".join(e[1:] for e in IMAGE_EXTENSIONS) + r")$", re.I)


def _well_formed(result: GTWord | GTReject) -> bool:
    """A parsed GT line of the right shape (a word, ``###`` included, or an empty
    transcription)."""
    return isinstance(result, GTWord) or result.reason == "empty_label"


def _is_ic15(line: str) -> bool:
    return _well_formed(parse_gt_line(line, 1))


def _is_ic13(line: str) -> bool:
    return not _is_ic15(line) and _well_formed(parse_ic13_line(line, 1))


def _is_wordcrops(line: str) -> bool:
    name, comma, rest = line.partition(",")
    return bool(comma and _IMAGE_NAME.search(name.strip()) and rest.lstrip(" ").startswith('"'))


def _is_tsv(line: str) -> bool:
    name, tab, _ = line.partition("\t")
    return bool(tab and _IMAGE_NAME.search(name.strip()))


def _fitting(lines: list[str], tests: dict[str, Callable[[str], bool]]) -> list[str]:
    """Formats whose line test accepts most of ``lines`` (a few faulty lines do not hide the
    format); every format when there are no lines."""
    if not lines:
        return list(tests)
    return [name for name, test in tests.items() if 2 * sum(map(test, lines)) > len(lines)]


def _sample_lines(files: list[Path]) -> list[str]:
    lines: list[str] = []
    for path in files[:SAMPLE_FILES]:
        decoded = decode_lines(path.read_bytes()[:_SCAN_BYTES])
        lines += [line.text for line in decoded if line.decoded and line.text.strip()]
    return lines[:SAMPLE_LINES]


def _json_formats(path: Path) -> list[str]:
    """JSON formats one of whose keys occurs in the file (read in 1 MiB blocks until found)."""
    found: set[str] = set()
    tail = b""
    with path.open("rb") as handle:
        while not found and (block := handle.read(_SCAN_BYTES)):
            window = tail + block
            found = {name for name, keys in JSON_MARKERS.items() if any(k in window for k in keys)}
            tail = block[-16:]
    return sorted(found)


def candidates(gt: Path) -> list[str]:
    """The formats ``gt`` could be in, by what it holds."""
    if gt.is_dir():
        if (gt / "data.mdb").is_file() or any(gt.rglob("data.mdb")):
            return ["lmdb"]
        files = list_gt_files(gt)
        if not files:
            return []
        return _fitting(_sample_lines(files), {"icdar15": _is_ic15, "icdar13": _is_ic13})
    with gt.open("rb") as handle:
        start = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.startswith(b"{"):
        return _json_formats(gt)
    return _fitting(_sample_lines([gt]), {"wordcrops": _is_wordcrops, "tsv": _is_tsv})


def detect_format(gt: str) -> str:
    """The one format ``gt`` is in; InputError naming the candidates otherwise."""
    path = Path(gt)
    if not path.exists():
        raise InputError(f"{path}: --gt not found")
    found = candidates(path)
    if len(found) == 1:
        return found[0]
    if not found:
        raise InputError(
            f"{path}: --format auto: not like any format textrec reads (lmdb, icdar15, icdar13, "
            "cocotext, textocr, wordcrops, tsv); pass --format"
        )
    raise InputError(f"{path}: --format auto: it could be {' or '.join(found)}; pass --format")
