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
