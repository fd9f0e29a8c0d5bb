"""Generated blocks in Markdown files: the text between

    <!-- BEGIN generated NAME -->
    <!-- END generated NAME -->

is rewritten by a generator (`make docs`, `make results`); the rest of the file is written by
hand. A test regenerates every block in memory and compares (tests/test_docs.py)."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from textrec_data.atomic import atomic_file

_BLOCK = re.compile(
    r"(<!-- BEGIN generated (?P<name>[\w.:-]+) -->\n)(?P<body>.*?)"
    r"(<!-- END generated (?P=name) -->)",
    re.DOTALL,
)


def block_names(text: str) -> list[str]:
    """The names of the generated blocks of ``text``, in order."""
    return [m["name"] for m in _BLOCK.finditer(text)]


def rewrite_blocks(text: str, render: Mapping[str, Callable[[], str]], where: str) -> str:
    """``text`` with every generated block's body replaced by its renderer's output; a block
    without a renderer is an error naming ``where`` and the block."""
    missing = [name for name in block_names(text) if name not in render]
    if missing:
        raise KeyError(f"{where}: no generator for block(s) {', '.join(missing)}")
    return _BLOCK.sub(lambda m: m[1] + render[m["name"]]().rstrip("\n") + "\n" + m[4], text)


def table(header: list[str], rows: list[list[object]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def regenerate(path: Path, render: Mapping[str, Callable[[], str]]) -> tuple[str, str]:
    """(the file's text, the text with its blocks regenerated)."""
    text = path.read_text(encoding="utf-8")
    return text, rewrite_blocks(text, render, str(path))


def write_if_changed(path: Path, render: Mapping[str, Callable[[], str]]) -> bool:
    """Regenerate ``path``'s blocks in place; whether it changed."""
    old, new = regenerate(path, render)
    if new != old:
        with atomic_file(path) as tmp:
            tmp.write_text(new, encoding="utf-8")
    return new != old


def run(docs: list[Path], render: Mapping[str, Callable[[], str]], target: str) -> int:
    """A generator's command line: rewrite ``docs``, or with ``--check`` exit 1 naming the stale
    ones (``target`` is the make target that rewrites them)."""
    parser = argparse.ArgumentParser(description=f"regenerate the blocks of {target}")
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args()
    if args.check:
        stale = [str(p) for p in docs if len(set(regenerate(p, render))) == 2]
        if stale:
            print(f"stale (run {target}): {', '.join(stale)}", file=sys.stderr)
        return 1 if stale else 0
    for path in docs:
        if write_if_changed(path, render):
            print(f"rewrote {path}")
    return 0
