"""Option bounds: the values a numeric or choice option takes.

Every check raises :class:`~textrec_data.errors.InputError` with the option first, so the CLI
prints ``error: <option> <value>: <what is wrong>`` and exits 2. Configs run :func:`check_bounds`
in ``__post_init__``: the CLI and the Python API refuse the same values.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from textrec_data.errors import InputError

#: Seeds feed NumPy, which takes 0 .. 2**32 - 1.
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class Bound:
    """The values a numeric option takes: an integer (``integer``) or a finite number, at least
    ``low`` (more than ``low`` when ``low_open``) and at most ``high``; ``optional``: None too."""

    low: float | None = None
    high: float | None = None
    integer: bool = True
    low_open: bool = False
    optional: bool = False

    def accepts(self, value: object) -> bool:
        if value is None:
            return self.optional
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if (self.integer and not isinstance(value, int)) or not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or value <= self.high

    def describe(self) -> str:
        parts = (
            [f"{'>' if self.low_open else '>='} {_number(self.low)}"]
            if self.low is not None
            else []
        )
        parts += [f"<= {_number(self.high)}"] if self.high is not None else []
        kind = "an integer" if self.integer else "a finite number"
        return " ".join([kind, " and ".join(parts)]).strip()


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def option_name(field: str) -> str:
    """The CLI spelling of a config field: ``batch_size`` -> ``--batch-size``."""
    return "--" + field.replace("_", "-")


def check_value(option: str, value: object, bound: Bound) -> None:
    """Refuse ``value`` of ``option`` unless ``bound`` accepts it."""
    if not bound.accepts(value):
        raise InputError(f"{option} {value}: expected {bound.describe()}")


def check_bounds(config: object, bounds: Mapping[str, Bound]) -> None:
    """Check the fields of a config against their bounds (field names as CLI options)."""
    for field, bound in bounds.items():
        check_value(option_name(field), getattr(config, field), bound)


def check_choice(option: str, value: str, choices: Collection[str]) -> None:
    """Refuse ``value`` unless it is one of ``choices``."""
    if value not in choices:
        raise InputError(f"{option} {value!r}: expected one of {', '.join(sorted(choices))}")
