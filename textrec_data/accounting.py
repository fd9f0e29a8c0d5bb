"""The manifest stage's counts: what was read, kept and rejected, and the characters of the kept
labels; the metadata and report made from them.

A :class:`Tally` adds up unit results where they are made (in the main process of the local
engine, or in each task of a parallel build); tallies merge, so the counts, the charset built from
them and the accounting identity (kept + rejected = records read) are the same however the work
was split.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from textrec_data import __version__
from textrec_data.charset import Charset, build_charset
from textrec_data.manifest import FORMAT_VERSION


@dataclass
class Tally:
    """Records read, rows by split (and of them, the unlabeled rows by split), rejects by
    reason, and character counts of the kept labels (train/val apart from test: the charset is
    built from train/val labels; unlabeled rows have none)."""

    records: int = 0
    splits: Counter[str] = field(default_factory=Counter)
    unlabeled: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    chars: Counter[str] = field(default_factory=Counter)
    test_chars: Counter[str] = field(default_factory=Counter)

    @property
    def kept(self) -> int:
        return sum(self.splits.values())

    @property
    def rejected(self) -> int:
        return sum(self.reasons.values())

    def add(self, result: Any) -> None:
        """Count one :class:`textrec_data.rows.UnitResult` (its rows an Arrow table, as
        :func:`textrec_data.rows.packed` makes them, or a list of dicts); characters are
        counted per unit in one call."""
        self.records += result.records
        rows = result.rows
        if isinstance(rows, list):
            splits = [row["split"] for row in rows]
            labels = [row["label"] for row in rows]
        else:
            columns = rows.select(["split", "label"]).to_pydict()
            splits, labels = columns["split"], columns["label"]
        pairs = [(s, label) for s, label in zip(splits, labels, strict=True) if label is not None]
        self.splits.update(splits)
        self.unlabeled.update(s for s, label in zip(splits, labels, strict=True) if label is None)
        self.chars.update("".join(label for split, label in pairs if split != "test"))
        self.test_chars.update("".join(label for split, label in pairs if split == "test"))
        self.reasons.update(r["reason"] for r in result.rejects)

    def merge(self, other: Tally) -> None:
        """Add another tally's counts to this one."""
        self.records += other.records
        for mine, theirs in (
            (self.splits, other.splits),
            (self.unlabeled, other.unlabeled),
            (self.reasons, other.reasons),
            (self.chars, other.chars),
            (self.test_chars, other.test_chars),
        ):
            mine.update(theirs)


def final_charset(given: Charset | None, tally: Tally, case: str) -> Charset:
    """The given ``--charset``, else the vocabulary of train+val labels (of the test labels for a
    test-only manifest)."""
    if given is not None:
        return given
    return build_charset(tally.chars or tally.test_chars, case)


def manifest_metadata(config: Any, source: str, files: int, charset: Charset, tally: Tally) -> dict:
    """The ``textrec`` metadata of a manifest (Parquet footer, or a directory's metadata file):
    ``source`` is the format read, ``files`` the plan's files (``plan.files or len(units)``)."""
    return {
        "format_version": FORMAT_VERSION,
        "source": source,
        "textrec_version": __version__,
        "charset": list(charset.chars),
        "case": config.case,
        "charset_source": config.charset or "built from kept train/val labels",
        "config": asdict(config),
        "counts": {
            "gt_files": files,
            "gt_lines": tally.records,
            "kept": tally.kept,
            "rejected": tally.rejected,
            "splits": dict(sorted(tally.splits.items())),
            "unlabeled": dict(sorted(tally.unlabeled.items())),
            "reasons": dict(sorted(tally.reasons.items())),
        },
    }


def build_report(metadata: dict, tally: Tally, notes: dict) -> dict:
    """report.json: the metadata, the accounting identity, the plan's notes, char frequencies."""
    kept, rejected, lines = tally.kept, tally.rejected, tally.records
    return {
        **metadata,
        "kept": kept,
        "rejected": rejected,
        "gt_lines": lines,
        "unlabeled": sum(tally.unlabeled.values()),
        "accounting_ok": kept + rejected == lines,
        "accounting": f"kept {kept} + rejected {rejected} = {kept + rejected} of {lines} records",
        **notes,
        "char_frequencies": dict(tally.chars.most_common()),
    }
