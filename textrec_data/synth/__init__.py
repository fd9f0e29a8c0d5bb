"""Synthetic ICDAR 2015-format scene text: the embedded default dataset.

Every scene is a textured, photo-like background (gradients, blurred-noise texture, wall panels,
soft blobs, poles) with a few non-overlapping words. Each word is rendered upright with PIL on its
own canvas (optionally on a sign plate, with an outline or a drop shadow), warped into the scene
with a rotation and a mild perspective (``cv2.warpPerspective``), and annotated with the warped
corners of its text box: clockwise from the word's own top-left corner, like IC15.

Image K is drawn from ``np.random.default_rng([seed, K])``, so any image can be regenerated alone
and the same config gives byte-identical GT files and identical images (for the same fonts and
library versions).

Modules, in the order a scene is made: ``words`` (charset, word lists in ``words.txt``, the word
sampler), ``fonts`` (discovery, charset coverage, metrics), ``colours``, ``background``,
``canvas`` (a word drawn upright, its text box), ``compositing`` (colouring and warped pasting),
``placement`` (size, rotation, perspective, a free spot), ``scene``, ``config`` and ``dataset``
(the IC15 files on disk).
"""

from textrec_data.synth.config import SynthConfig
from textrec_data.synth.dataset import SynthSummary, write_synth_dataset
from textrec_data.synth.fonts import font_paths
from textrec_data.synth.scene import render_scene
from textrec_data.synth.words import ACCENTED, CHARSET, PLACEHOLDER, PUNCTUATION, WORDS

__all__ = [
    "ACCENTED",
    "CHARSET",
    "PLACEHOLDER",
    "PUNCTUATION",
    "WORDS",
    "SynthConfig",
    "SynthSummary",
    "font_paths",
    "render_scene",
    "write_synth_dataset",
]
