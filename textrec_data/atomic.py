"""Atomic writes: every file and directory textrec writes appears whole or not at all.

Writers work on a hidden temp name beside the target (``.NAME.tmp-PID``) and rename it over the
target only when they succeeded. A run killed half-way leaves only the temp name behind;
:func:`remove_stale_temps` deletes those whose process is gone. A write that fails for lack of
room (a full disk or quota, an I/O error; libraries such as torch and LMDB report these in
their own exception types) is one :class:`InputError` naming the target: earlier files stay.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from textrec_data.errors import InputError

_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG, errno.EROFS}
_WRITE_MESSAGES = ("No space left", "Input/output error", "Disk quota", "file write failed")
#: Below this many free bytes a library's failure to write is taken as a full disk.
_NEARLY_FULL = 1 << 20


def _write_failure(path: Path, exc: BaseException) -> InputError | None:
    """The one-line error for ``exc`` raised while writing ``path`` when it is a failed write
    (no room, I/O error), else None."""
    if isinstance(exc, OSError):
        failed = exc.errno in _WRITE_ERRNOS
    else:
        try:
            full = shutil.disk_usage(path.parent).free < _NEARLY_FULL
        except OSError:
            full = False
        failed = full or any(m in str(exc) for m in _WRITE_MESSAGES)
    if not failed or isinstance(exc, InputError):
        return None
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return InputError(
        f"{path}: cannot write ({' '.join(reason.split())[:120]}); is the disk full? earlier "
        "files are left as they were"
    )


def temp_name(path: Path) -> Path:
    """The hidden temp path beside ``path`` that this process writes before renaming."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


@contextmanager
def atomic_file(path: str | Path, fsync: bool = False) -> Iterator[Path]:
    """Yield a temp path beside ``path``; rename it over ``path`` only if the block succeeds.

    ``fsync=True`` flushes the temp file to disk before the rename (checkpoints)."""
    path = Path(path)
    tmp = temp_name(path)
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except Exception as exc:
        error = _write_failure(path, exc)
        if error is None:
            raise
        raise error from exc
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a fresh temp directory beside ``path``; on success it replaces ``path`` (the old
    directory stays whole until the new one is in place), on failure it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path.parent, f".{path.name}.tmp-*")
    tmp = temp_name(path)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
        old = path.with_name(f".{path.name}.old-{os.getpid()}")
        if path.exists():
            os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    except Exception as exc:
        error = _write_failure(path, exc)
        if error is None:
            raise
        raise error from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def pid_alive(pid: int) -> bool:
    """True while process ``pid`` exists (also when it belongs to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temps(directory: Path, pattern: str = ".*.tmp-*") -> None:
    """Delete temp files/dirs ``.<name>.tmp-<pid>`` in ``directory`` matching ``pattern`` whose
    process is gone (left by killed runs). A ``.<name>.old-<pid>`` (a kill during a directory
    swap) is left for the user."""
    for stale in directory.glob(pattern):
        pid = stale.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or pid_alive(int(pid)):
            continue
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
