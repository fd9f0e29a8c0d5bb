"""The manifest stage's options (:class:`ManifestConfig`) and their checks, the output folder's
included: what the single-file build (:mod:`textrec_data.build`) and the build as parts
(:mod:`textrec_data.sharded`) both take."""

from __future__ import annotations

from dataclasses import dataclass

from textrec_data.bounds import MAX_SEED, Bound, check_bounds, check_value
from textrec_data.charset import CASE_POLICIES, Charset
from textrec_data.errors import InputError
from textrec_data.manifest import ROW_GROUP_SIZE
from textrec_data.outputs import claim_output
from textrec_data.sources import DEFAULT_FORMAT, Source
from textrec_data.storage import as_path, is_url

SPLIT_MODES = ("auto", "train", "val", "test")
#: What ``--unlabeled`` does with a word without transcription (``###``; a crop without GT):
#: reject it (reason ``placeholder``), or keep it as a row with null ``text`` and ``label``.
UNLABELED_MODES = ("reject", "keep")

#: What the manifest stage writes into --out (and all that --overwrite replaces); the last two
#: are the directories of parts of a manifest written as parts (textrec_data.sharded).
_FILES = ("manifest.parquet", "rejects.parquet", "vocab.json", "report.json")
OUTPUT_FILES = (*_FILES, "manifest", "rejects")
MANIFEST_BOUNDS = {"workers": Bound(0, 256), "seed": Bound(0, MAX_SEED), "row_group_size": Bound(1)}


@dataclass(frozen=True)
class ManifestConfig:
    """Options of the manifest stage (saved in the manifest's metadata and report.json)."""

    images: str | None
    gt: str
    out: str
    format: str = DEFAULT_FORMAT
    split: str = "auto"
    val_fraction: float = 0.1
    seed: int = 0
    case: str = "keep"
    charset: str | None = None
    workers: int = 0  # 0: all cores
    overwrite: bool = False
    row_group_size: int = ROW_GROUP_SIZE
    engine: str = "local"  # local | dask (textrec_data.engines)
    rows_per_part: int | None = None  # None: one file (local engine), else about N rows a part
    address: str | None = None  # the engine's cluster (dask: tcp://host:8786)
    unlabeled: str = "reject"  # UNLABELED_MODES


def validate_config(config: ManifestConfig, source: Source | None = None) -> Charset | None:
    """Check options and the output path (written from ``source``, default: the --format
    read from --images and --gt); return the given charset, if any."""
    check_bounds(config, MANIFEST_BOUNDS)
    if config.rows_per_part is not None:
        check_value("--rows-per-part", config.rows_per_part, Bound(1))
    if config.split not in SPLIT_MODES:
        raise InputError(f"--split {config.split!r}: expected one of {SPLIT_MODES}")
    if config.unlabeled not in UNLABELED_MODES:
        raise InputError(f"--unlabeled {config.unlabeled!r}: expected one of {UNLABELED_MODES}")
    if config.format == "images" and config.unlabeled != "keep":
        raise InputError("--format images: its crops have no labels: pass --unlabeled keep")
    if config.case not in CASE_POLICIES:
        raise InputError(f"--case {config.case!r}: expected one of {CASE_POLICIES}")
    if not 0.0 <= config.val_fraction < 1.0:
        raise InputError(f"--val-fraction {config.val_fraction}: expected 0 <= f < 1")
    if _occupied(config, source) and not config.overwrite:
        raise InputError(
            f"{config.out}: output directory exists and is not empty (pass --overwrite)"
        )
    if config.charset is None:
        return None
    try:
        return Charset.load(config.charset)
    except ValueError as exc:
        raise InputError(str(exc)) from exc


def _occupied(config: ManifestConfig, source: Source | None) -> bool:
    """Whether ``--out`` holds something to replace. A local ``--out`` (or ``file://``) gets the
    local guards (:func:`~textrec_data.outputs.claim_output`: apart from every input, only the
    files of the command that made it, with its marker); an object-storage URL has no such
    paths: it is only checked for being a non-empty prefix."""
    out = as_path(config.out)
    if is_url(config.out):
        if out.exists() and not out.is_dir():
            raise InputError(f"{out}: --out exists and is a file, not a directory")
        return out.is_dir() and any(out.iterdir())
    given = [("--images", config.images), ("--gt", config.gt), ("--charset", config.charset)]
    given += list(getattr(source, "inputs", ()))
    return claim_output(out, output_command(source), OUTPUT_FILES, given)


def output_command(source: Source | None) -> str:
    """The command whose marker a manifest folder written from ``source`` carries."""
    return getattr(source, "command", "manifest")
