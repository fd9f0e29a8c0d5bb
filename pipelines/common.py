"""Helpers shared by the stage commands."""

from __future__ import annotations

import functools
import sys

import click

from textrec_data.errors import InputError


def user_errors(func):
    """Turn :class:`InputError` and ``OSError`` into a one-line ``error: ...`` message naming
    the file, and exit code 2 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except OSError as exc:  # unwritable OUT, disk full, a file where a directory should be
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"error: {where}{exc.strerror or exc}", err=True)
            sys.exit(2)

    return wrapper


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
