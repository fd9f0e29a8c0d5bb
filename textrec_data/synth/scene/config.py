"""What ``textrec synth`` generates: :class:`SynthConfig` and its validation."""

from __future__ import annotations

from dataclasses import dataclass

from textrec_data.bounds import MAX_SEED, Bound, check_value
from textrec_data.errors import InputError


@dataclass(frozen=True)
class SynthConfig:
    """What to generate; every field has a default (the embedded dataset is the defaults)."""

    images: int = 400  # number of scene images
    seed: int = 0
    width: int = 640
    height: int = 480
    min_words: int = 4
    max_words: int = 9
    placeholder_rate: float = 0.08  # share of words written as ### (drawn tiny/blurred/faint)
    max_rotation_deg: float = 15.0
    min_text_height: float = 16.0  # text box height in pixels (legible words)
    max_text_height: float = 60.0
    perspective: float = 0.08  # corner jitter as a fraction of the text height
    plate_rate: float = 0.3  # share of words drawn on a coloured sign plate
    min_contrast: float = 70.0  # grey-level difference between text and the background under it
    jpeg_quality: int = 90
    fonts: tuple[str, ...] = ()  # folders of TTF/OTF files (none: matplotlib's and the system's)

    def validate(self) -> None:
        """Raise :class:`InputError` (a ``ValueError``) naming an impossible setting."""
        if self.images < 0:
            raise InputError(f"images must be >= 0, got {self.images}")
        check_value("--seed", self.seed, Bound(0, MAX_SEED))
        if self.width < 64 or self.height < 64:
            raise InputError(f"image size must be at least 64x64, got {self.width}x{self.height}")
        if not 1 <= self.min_words <= self.max_words:
            raise InputError(
                f"need 1 <= min_words <= max_words, got {self.min_words}..{self.max_words}"
            )
        if not 0.0 <= self.placeholder_rate <= 1.0:
            raise InputError(f"placeholder_rate must be in [0, 1], got {self.placeholder_rate}")
        if not 0.0 <= self.max_rotation_deg <= 45.0:
            raise InputError(f"max_rotation_deg must be in [0, 45], got {self.max_rotation_deg}")
        if not 4.0 <= self.min_text_height <= self.max_text_height:
            raise InputError("need 4 <= min_text_height <= max_text_height")
        if not 1 <= self.jpeg_quality <= 100:
            raise InputError(f"jpeg_quality must be in [1, 100], got {self.jpeg_quality}")
