"""ICDAR 2013 focused scene text (Challenge 2): images ``<stem>.*`` with GT files
``gt_<stem>.txt`` of axis-aligned boxes ``x1 y1 x2 y2 "text"`` (left, top, right, bottom).

The training set separates the numbers by spaces, the test set by commas and spaces
(``38, 43, 920, 215, "Tiredness"``); both are read. The transcription is in double quotes with
``\\"`` for a quote inside it (a bare one is taken verbatim). Each box becomes the clockwise quad
of its corners, so cropping, rejects and accounting are those of ICDAR 2015.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import ClassVar

from textrec_data.sources.files import decode_lines, transcription
from textrec_data.sources.icdar15 import GTReject, GTWord, Icdar15Source

_BOX_LINE = re.compile(r"^\s*([^\s,]+)[\s,]+([^\s,]+)[\s,]+([^\s,]+)[\s,]+([^\s,]+)[\s,]+(.*)$")


def parse_ic13_line(line: str, line_no: int) -> GTWord | GTReject:
    """Parse one decoded ICDAR 2013 GT line (without its line ending); ``"###"``: a word
    without transcription (text None), as in ICDAR 2015."""
    if not line.strip():
        return GTReject(line_no, line, "blank_line")
    match = _BOX_LINE.match(line)
    if match is None:
        return GTReject(line_no, line, "malformed")
    try:
        x1, y1, x2, y2 = (float(v) for v in match.groups()[:4])
    except ValueError:
        return GTReject(line_no, line, "bad_coordinates")
    if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
        return GTReject(line_no, line, "bad_coordinates")
    text, reason = transcription(match.group(5))
    if reason not in (None, "placeholder"):
        return GTReject(line_no, line, reason)
    quad = (x1, y1, x2, y1, x2, y2, x1, y2)
    return GTWord(line_no, line, quad, None if reason == "placeholder" else text)


@dataclass(frozen=True)
class Icdar13Source(Icdar15Source):
    """The folders ``images`` and ``gt`` (``gt_<stem>.txt``); one unit per GT file."""

    name: ClassVar[str] = "icdar13"

    def parse(self, data: bytes) -> list[GTWord | GTReject]:
        """One parsed line per line of a GT file's bytes (invalid UTF-8: ``encoding``)."""
        return [
            parse_ic13_line(line.text, line.line_no)
            if line.decoded
            else GTReject(line.line_no, line.text, "encoding")
            for line in decode_lines(data)
        ]
