"""What a :class:`~textrec_data.synth.fonts.FontSet` holds, for the synthetic-text tests."""

from __future__ import annotations

from textrec_data.synth.fonts import FontSet


def family_names(fonts: FontSet) -> list[str]:
    """The set's family names, in its order (sorted)."""
    return [faces[0].family for faces in fonts.families]


def face_paths(fonts: FontSet) -> list[str]:
    """Every face's file path, family by family."""
    return [face.path for faces in fonts.families for face in faces]
