"""What ``textrec synth --words`` generates: :class:`WordConfig` and its validation."""

from __future__ import annotations

from dataclasses import dataclass, field

from textrec_data.errors import InputError
from textrec_data.synth.scene.config import SynthConfig
from textrec_data.synth.word.tokens import TextConfig

TEXT_STYLES = ("classic", "scene")
RENDER_STYLES = ("classic", "scene")
CROP_STYLES = ("tight", "loose", "mixed")


@dataclass(frozen=True)
class WordConfig:
    """Word mode. ``text``: ``classic`` draws words as the scene mode does, ``scene`` from the
    corpus (or built-in list) and the generators of :mod:`~textrec_data.synth.word.tokens` under
    ``text_config``. ``render``: ``classic`` renders, colours and degrades as the scene mode,
    ``scene`` adds letter styles (spacing, weight, curved baselines), low contrast, occlusion,
    blur, resolution loss, noise and JPEG artefacts. ``crops``: tight rectified quads (jittered
    under ``render=scene``), loose axis-aligned boxes with margin, or a mix (``loose_rate``).
    ``fonts``: folders of TTF/OTF files (none: the scene mode's fonts); ``backgrounds``: a
    folder of photos (none: generated backgrounds). ``labels`` False: the words are written
    without their text (unlabeled rows, for a teacher to read)."""

    words: int = 1000
    seed: int = 0
    fonts: tuple[str, ...] = ()
    corpus: str | None = None
    backgrounds: str | None = None
    text: str = "scene"
    render: str = "scene"
    crops: str = "mixed"
    loose_rate: float = 0.5
    text_config: TextConfig = field(default_factory=TextConfig)
    chunk: int = 512  # words per unit of work
    labels: bool = True  # False (--no-labels): unlabeled rows, text and label null

    def validate(self) -> None:
        """Raise :class:`InputError` naming an impossible setting."""
        if self.words < 1:
            raise InputError(f"--words must be >= 1, got {self.words}")
        for name, choices in (("text", TEXT_STYLES), ("render", RENDER_STYLES)):
            if getattr(self, name) not in choices:
                raise InputError(f"--{name} {getattr(self, name)!r}: expected one of {choices}")
        if self.crops not in CROP_STYLES:
            raise InputError(f"--crops {self.crops!r}: expected one of {CROP_STYLES}")
        if not 0.0 <= self.loose_rate <= 1.0:
            raise InputError(f"loose_rate must be in [0, 1], got {self.loose_rate}")
        self.text_config.validate()

    def scene_like(self) -> SynthConfig:
        """Size, pose and contrast ranges: the scene mode's (classic), or wider (scene)."""
        if self.render == "classic":
            return SynthConfig()
        return SynthConfig(
            max_rotation_deg=25.0,
            min_text_height=10.0,
            max_text_height=40.0,
            perspective=0.15,
            plate_rate=0.2,
            min_contrast=35.0,
        )
