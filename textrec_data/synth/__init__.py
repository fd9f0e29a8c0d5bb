"""Synthetic text: ICDAR 2015-format scenes (the embedded default dataset) and word crops.

Two modes, a sub-package each: ``scene`` (the ICDAR-format scenes of ``textrec synth``: its
``config``, ``placement`` of a word in a free spot, ``render`` of one scene, ``dataset`` on disk)
and ``word`` (``textrec synth --words``, synthetic word crops as a manifest source: its
``config``, ``corpus``, ``tokens`` (the text of ``--text scene``), background ``photos``,
``render`` of one crop, ``source``). Word mode draws its sizes and poses as the scene mode
places a word, under a :class:`SynthConfig` of its own (``WordConfig.scene_like``).

What both draw with, in the order a word is made: ``transcriptions`` (charset, the word lists
of ``word_lists.txt``, the classic word sampler), ``fonts`` (discovery, coverage, metrics, font
sets), ``colours``, ``background``, ``letters`` (letter styles), ``canvas`` (a word drawn
upright, its text box), ``compositing`` (colouring and warped pasting) and ``effects`` (camera
and scene degradations).
"""

from textrec_data.synth.fonts import font_paths
from textrec_data.synth.scene.config import SynthConfig
from textrec_data.synth.scene.dataset import SynthSummary, write_synth_dataset
from textrec_data.synth.scene.render import render_scene
from textrec_data.synth.transcriptions import ACCENTED, CHARSET, PLACEHOLDER, PUNCTUATION, WORDS

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
