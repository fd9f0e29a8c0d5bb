"""Helpers shared by the stage commands."""

from __future__ import annotations

import functools
import sys

import click

from textrec_data.errors import InputError


def user_errors(func):
    """Turn :class:`InputError` into a one-line ``error: ...`` message and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return wrapper
