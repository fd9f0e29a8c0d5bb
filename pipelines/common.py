"""Helpers shared by the stage commands."""

from __future__ import annotations

import functools
import sys

import click

from textrec_data.errors import InputError
from textrec_data.inputs import check_not_special
from textrec_data.storage import is_url, parse_location

#: The path options that may be object-storage URLs (README, "Object storage"); any other path
#: option takes local paths and file:// URLs only.
URL_OPTIONS = {"images", "gt", "manifest", "manifests"}


def user_errors(func):
    """Turn :class:`InputError` and ``OSError`` into a one-line ``error: ...`` message naming
    the file, and exit code 2 (no traceback). Every path option is parsed first
    (:func:`~textrec_data.storage.parse_location`): file:// URLs become plain paths, other
    schemes are refused; named pipes, devices and symlink loops are refused
    (:func:`~textrec_data.inputs.check_not_special`). Progress bars are drawn only on a
    terminal: written to a file or pipe they are one line per update."""

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
            _fail(f"{where}{exc.strerror or exc}")

    return wrapper


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
    """``kwargs`` with the values of path parameters (click.Path, and --init: a checkpoint or
    a pretrained name) parsed as locations."""
    ctx = click.get_current_context(silent=True)
    params = ctx.command.params if ctx is not None else []
    for param in params:
        value = kwargs.get(param.name)
        if value is None or not (isinstance(param.type, click.Path) or param.name == "init"):
            continue
        if isinstance(value, tuple):
            kwargs[param.name] = tuple(_location(param, v) for v in value)
        else:
            kwargs[param.name] = _location(param, value)
    return kwargs


def _location(param: click.Parameter, value: str) -> str:
    parsed = parse_location(value)
    allowed = param.name in URL_OPTIONS or (param.name == "out" and _command() == "manifest")
    if is_url(parsed) and not allowed:
        option = (param.opts or [param.name])[0]
        raise InputError(f"{value}: {option} takes a local path (object storage: README)")
    if not is_url(parsed):
        check_not_special(parsed)
    return parsed


def _command() -> str | None:
    ctx = click.get_current_context(silent=True)
    return ctx.command.name if ctx is not None else None


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
