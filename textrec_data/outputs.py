"""Output guards: outputs that never touch an input, output folders that textrec may replace,
and one writer per output.

Every check raises :class:`~textrec_data.errors.InputError` with the path first, so the CLI
prints ``error: <path>: <what is wrong>`` and exits 2.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from textrec_data.errors import InputError
from textrec_data.storage import is_url

#: The marker a command writes into an output folder whose file names alone do not say that
#: textrec made it (``textrec synth``'s images/ and gt/ look like any ICDAR dataset).
MARKER = ".textrec"
_OWN_HIDDEN = re.compile(r"^\.(?P<name>.+)\.(tmp|old)-\d+$")


def _relation(out: Path, given: Path) -> str | None:
    """How ``out`` stands to the input ``given``: 'is', 'contains', 'lies inside' or None."""
    if out.exists() and os.path.samefile(out, given):
        return "is"
    out, given = Path(os.path.realpath(out)), Path(os.path.realpath(given))
    if out == given:
        return "is"
    if given.is_relative_to(out):
        return "contains"
    if out.is_relative_to(given):
        return "lies inside"
    return None


def check_apart(out: str | Path, inputs: Iterable[tuple[str, object]], what: str = "--out") -> None:
    """Refuse an output ``out`` (option ``what``) that is, contains or lies inside one of the
    ``inputs`` (option, path): textrec never writes over what it reads. Inputs that are None,
    URLs or names of no file (a pretrained model's name) have nothing local to lose."""
    for option, given in inputs:
        if given is None or is_url(str(given)) or not os.path.lexists(given):
            continue
        relation = _relation(Path(out), Path(given))
        if relation:
            raise InputError(
                f"{out}: {what} {relation} the input {option} {given}; textrec never writes "
                "over what it reads: choose another output path"
            )


def claim_output(
    out: str | Path, command: str, names: Collection[str], inputs: Iterable[tuple[str, object]]
) -> bool:
    """The guard every command runs (under :func:`output_lock`) before it writes folder
    ``out``: apart from every one of its ``inputs`` (:func:`check_apart`), holding nothing but
    the ``names`` ``command`` writes, and, when it holds any, carrying ``command``'s
    :data:`MARKER`. Returns True when ``out`` holds an earlier output of ``command`` (the
    caller decides: replace, resume or refuse); the writer then calls :func:`mark_output_dir`
    on what it writes."""
    check_apart(out, inputs)
    return claim_output_dir(out, command, names, marked=True)


def _entries(out: Path, names: Collection[str]) -> list[str]:
    """Names in ``out`` besides the marker and textrec's own hidden temps and locks of
    ``names``."""
    found = []
    for entry in out.iterdir():
        hidden = _OWN_HIDDEN.match(entry.name)
        if entry.name == MARKER or (hidden and hidden.group("name") in names):
            continue
        found.append(entry.name)
    return sorted(found)


def claim_output_dir(
    out: str | Path, command: str, names: Collection[str], marked: bool = False
) -> bool:
    """Check that ``command`` may write its outputs ``names`` into folder ``out``; return True
    when ``out`` already holds some (the caller decides: replace, resume or refuse).

    A folder holding anything ``command`` does not write is refused, so replacing or adding
    files never touches what textrec did not make. ``marked``: the folder must also carry the
    :data:`MARKER` of ``command`` (see :func:`mark_output_dir`) to count as its output."""
    out = Path(out)
    if not out.exists():
        return False
    if not out.is_dir():
        raise InputError(f"{out}: --out exists and is a file, not a directory")
    found = _entries(out, names)
    foreign = [name for name in found if name not in names]
    if foreign:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise InputError(
            f"{out}: --out holds files textrec {command} does not write ({shown}); textrec "
            "never replaces what it did not make: choose another --out"
        )
    if found and marked and _marker(out) != command:
        raise InputError(
            f"{out}: --out holds {', '.join(found)} without the {MARKER} marker of textrec "
            f"{command}: not its output, so it is left alone; choose another --out"
        )
    return bool(found)


def _marker(out: Path) -> str | None:
    try:
        return (out / MARKER).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def mark_output_dir(out: str | Path, command: str) -> None:
    """Write the :data:`MARKER` saying that ``command`` made folder ``out``."""
    (Path(out) / MARKER).write_text(command + "\n", encoding="utf-8")


@contextmanager
def output_lock(out: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on output ``out`` (file or folder) while it is checked and
    written: a second process that asks for it meanwhile fails with :class:`InputError`.

    The lock is a hidden file ``.NAME.lock`` beside ``out``, removed when released (with the
    folders made for it, if they stayed empty); the kernel releases it when a process dies,
    even by SIGKILL."""
    out = Path(out).resolve()
    made = [p for p in (out.parent, *out.parent.parents) if not p.exists()]
    out.parent.mkdir(parents=True, exist_ok=True)
    lock = out.parent / f".{out.name}.lock"
    fd = _acquire(lock, out)
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)
        os.close(fd)
        for folder in made:  # innermost first; a folder the command wrote into stays
            try:
                folder.rmdir()
            except OSError:
                break


def _acquire(lock: Path, out: Path) -> int:
    """An open descriptor of ``lock`` holding its exclusive flock."""
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise InputError(
                f"{out}: another textrec process is writing this output; wait for it to "
                "finish or choose another output path"
            ) from None
        try:  # the holder before us may have removed the file: lock the one that is there
            if os.stat(lock).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)
