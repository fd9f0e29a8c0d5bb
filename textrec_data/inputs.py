"""Input guards: what every file textrec reads must be before it is read.

Every check raises :class:`~textrec_data.errors.InputError` with the path first, so the CLI
prints ``error: <path>: <what is wrong>`` and exits 2.
"""

from __future__ import annotations

from collections.abc import Iterable

from textrec_data.errors import InputError


def check_utf8(names: Iterable[str]) -> None:
    """Refuse file names (or ids made from them) that are not valid UTF-8: the manifest, the
    reports and the predictions store them as UTF-8 text."""
    for name in names:
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            shown = name.encode("utf-8", "backslashreplace").decode("utf-8")
            raise InputError(
                f"{shown}: file name is not valid UTF-8 (textrec stores names as UTF-8 text); "
                "rename it"
            ) from None
