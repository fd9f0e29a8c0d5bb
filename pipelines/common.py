"""Helpers shared by the stage commands."""

from __future__ import annotations

import errno
import functools
import sys

import click

from textrec_data.errors import InputError
from textrec_data.inputs import path_option


def user_errors(func):
    """Turn :class:`InputError` and ``OSError`` into a one-line ``error: ...`` message naming
    the file, and exit code 2 (no traceback). Every path option is checked and parsed first
    (:func:`~textrec_data.inputs.path_option`). Progress bars are drawn only on a terminal:
    written to a file or pipe they are one line per update."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if "quiet" in kwargs and not sys.stderr.isatty():  # no bars flooding a log file
            kwargs["quiet"] = True
        try:
            return func(*args, **_parsed_paths(kwargs))
        except InputError as exc:
            _fail(_own_message(str(exc)))
        except OSError as exc:  # unwritable OUT, disk full, a file where a directory should be
            where = f"{exc.filename}: " if exc.filename else ""
            _fail(f"{where}{_CLEARER.get(exc.errno, exc.strerror or exc)}")

    return wrapper


_CLEARER = {
    errno.EEXIST: "a file is where a folder is needed (File exists)",
    errno.ENOTDIR: "a file is where a folder is needed (Not a directory)",
}


def _own_message(message: str) -> str:
    """An InputError's message; raised in a DataLoader worker, torch re-raises it with the
    worker's traceback in front: the original message is its last line."""
    if not message.startswith("Caught InputError"):
        return message
    last = message.strip().splitlines()[-1]
    return last.split("InputError: ", 1)[-1]


def _fail(message: str) -> None:
    click.echo(f"error: {' '.join(message.split())}", err=True)
    sys.exit(2)


def _parsed_paths(kwargs: dict) -> dict:
    """``kwargs`` with the values of path parameters (click.Path, --init and --teacher: a
    checkpoint or a pretrained name) checked and parsed by :func:`path_option`."""
    ctx = click.get_current_context(silent=True)
    for param in ctx.command.params if ctx is not None else []:
        value = kwargs.get(param.name)
        source = param.name in ("init", "teacher")  # a checkpoint path or a pretrained name
        if value is None or not (isinstance(param.type, click.Path) or source):
            continue
        option, command = (param.opts or [param.name])[0], ctx.command.name
        values = value if isinstance(value, tuple) else (value,)
        parsed = [path_option(option, v, command) for v in values]
        kwargs[param.name] = tuple(parsed) if isinstance(value, tuple) else parsed[0]
    return kwargs


def usage_line(exc: click.ClickException) -> str:
    """A click error as ``<option or command>: <what is wrong>``, on one line."""
    param = getattr(exc, "param", None)
    if isinstance(exc, click.BadParameter) and param is not None and exc.message:
        where, what = (param.opts or [param.human_readable_name])[0], exc.message
    else:
        ctx = getattr(exc, "ctx", None)
        where = getattr(exc, "option_name", None) or (ctx.command_path if ctx else "textrec")
        what = exc.format_message()
    return f"{where}: {' '.join(what.split())}"


class OneLineErrors(click.Group):
    """A group whose usage errors (bad option values, unknown options, missing arguments) print
    one line ``error: <option>: <what is wrong>`` and exit 2, as every other user error does."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)
        except click.ClickException as exc:
            click.echo(f"error: {usage_line(exc)}", err=True)
            sys.exit(2)
        except click.Abort:  # Ctrl-C outside training (training handles it itself)
            click.echo("error: interrupted", err=True)
            sys.exit(130)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)
