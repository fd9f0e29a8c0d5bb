"""Input guards: what every file textrec reads must be before it is read.

Every check raises :class:`~textrec_data.errors.InputError` with the path first, so the CLI
prints ``error: <path>: <what is wrong>`` and exits 2.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable

from textrec_data.errors import InputError
from textrec_data.storage import is_url, parse_location

#: The path options that may be object-storage URLs (README, "Object storage"), and the
#: commands whose --out may be one; any other path option takes local paths and file:// URLs.
URL_OPTIONS = ("--images", "--gt", "--manifest", "manifest")
URL_OUT_COMMANDS = ("manifest",)

_SPECIAL = {
    stat.S_IFIFO: "a named pipe",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def path_option(option: str, value: str, command: str | None = None) -> str:
    """The value of path option ``option`` of ``command`` as textrec reads it: parsed strictly
    (:func:`~textrec_data.storage.parse_location`: a file:// URL becomes a plain path, other
    schemes are refused), a remote URL only where one is taken, a local path never a named
    pipe, device or symlink loop (:func:`check_not_special`)."""
    parsed = parse_location(value)
    if not is_url(parsed):
        check_not_special(parsed)
        return parsed
    if option not in URL_OPTIONS and not (option == "--out" and command in URL_OUT_COMMANDS):
        raise InputError(f"{value}: {option} takes a local path (object storage: README)")
    return parsed


def check_not_special(path: str) -> None:
    """Refuse a path that is a named pipe, a device or a socket (reading one can wait forever,
    or never end), or a symlink loop; a missing path, a file or a folder passes (the reader
    says what is wrong with it)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(f"{path}: a symlink loop (it never reaches a file)") from None
        return
    kind = _SPECIAL.get(stat.S_IFMT(mode))
    if kind is not None:
        raise InputError(f"{path}: {kind}, not a file: textrec reads regular files and folders")


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
