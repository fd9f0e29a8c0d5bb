"""The committed word crops of tests/fixtures/easyocr_crops and the words rendered into them."""

from __future__ import annotations

from pathlib import Path

CROPS = Path(__file__).parent / "fixtures" / "easyocr_crops"
#: The words tests/fixtures/make_easyocr_fixture.py rendered into those crops.
TRUTH = {
    "hello": "Hello",
    "textrec": "textrec",
    "ocr2024": "OCR-2024",
    "price": "$12.50",
    "apache": "Apache",
    "seven": "7",
}
