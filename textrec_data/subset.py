"""Evaluation subsets: which words of a test set a published figure counts (e.g. IC15-1811).

A subset file names images, matched by file stem (``word_12.png`` matches a manifest row whose
image file, or image id, is ``word_12``):

- MMOCR text recognition JSON (``textrecog_test_1811.json``):
  ``{"data_list": [{"img_path": "textrecog_imgs/test/word_1.png", ...}, ...]}``;
- a JSON list of names, ``["word_1.png", ...]``;
- text, one name per line; a line's first field counts, so a Task 4.3 list
  (``word_1.png, "text"``) or a ``path<TAB>text`` file is a subset file too.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath, PureWindowsPath

from textrec_data.errors import InputError
from textrec_data.sources.files import decode_lines


def name_stem(name: str) -> str:
    """The file stem of an image path or id, whatever its separators (``a/b\\\\word_1.png`` ->
    ``word_1``)."""
    return PurePosixPath(PureWindowsPath(name).name).stem


def _json_names(data: object, path: Path) -> list[str]:
    if isinstance(data, dict) and isinstance(data.get("data_list"), list):
        data = [d.get("img_path") if isinstance(d, dict) else None for d in data["data_list"]]
    if not isinstance(data, list) or not all(isinstance(name, str) and name for name in data):
        raise InputError(f"{path}: expected MMOCR JSON (a data_list of img_path) or a JSON list")
    return data


def read_subset(path: str | Path) -> list[str]:
    """The image stems a subset file lists, in order (InputError when unreadable or empty)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read subset file ({exc.strerror})") from exc
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"[")):
        try:
            names = _json_names(json.loads(data.decode("utf-8-sig")), path)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{path}: not valid JSON ({exc})") from exc
    else:
        lines = [line for line in decode_lines(data) if line.text.strip()]
        if any(not line.decoded for line in lines):
            raise InputError(f"{path}: subset file is not UTF-8 text")
        names = [line.text.split("\t")[0].split(",")[0].strip() for line in lines]
    if not names:
        raise InputError(f"{path}: subset file lists no images")
    return [name_stem(name) for name in names]
