"""The manifest file format (version 3): Arrow schema, atomic writer, validated reader.

A manifest is a Parquet file with one row per kept word and a ``textrec`` key in its footer
metadata holding JSON (format version, charset, case, build config, counts). Rejected records go
to a sibling ``rejects.parquet``. Column meanings: docs/DESIGN.md.

Version 2 adds the ``source`` column (the format a word was read from) and lets ``quad``,
``gt_path`` and ``line_no`` be null (a pre-cropped word has no quad). Version-1 manifests (no
``source`` column, no nulls) are still read everywhere. Version 3 lets ``text`` and ``label`` be
null: an unlabeled row (a word without transcription, kept by ``--unlabeled keep``, or a crop of
a folder without GT); its metadata counts them by split (``counts.unlabeled``).

A manifest may also be a directory of parts (``part-00000.parquet``, ...) with the same schema and
one ``_textrec.json`` holding the same JSON plus the parts and their row groups; it is written
last, and a directory without it is an incomplete manifest that readers refuse. Paths may be
local or object-storage URLs (:mod:`textrec_data.storage`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from textrec_data.charset import Charset
from textrec_data.errors import InputError
from textrec_data.storage import AnyPath, as_path, open_parquet, parquet_writer

FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
METADATA_KEY = b"textrec"
SPLITS = ("train", "val", "test")
ROW_GROUP_SIZE = 1024
#: The metadata file of a manifest directory (pyarrow, pandas and datasets skip names with "_").
PARTS_METADATA = "_textrec.json"

MANIFEST_SCHEMA = pa.schema(
    [
        ("image_id", pa.string()),
        ("image_path", pa.string()),
        ("gt_path", pa.string()),
        ("line_no", pa.int32()),
        ("quad", pa.list_(pa.float32(), 8)),
        ("text", pa.string()),
        ("label", pa.string()),
        ("split", pa.dictionary(pa.int8(), pa.string())),
        ("crop", pa.binary()),
        ("crop_h", pa.int32()),
        ("crop_w", pa.int32()),
        ("source", pa.dictionary(pa.int8(), pa.string())),
    ]
)
#: Columns every readable manifest has (version 1 lacks ``source``).
REQUIRED_COLUMNS = tuple(n for n in MANIFEST_SCHEMA.names if n != "source")

REJECTS_SCHEMA = pa.schema(
    [
        ("gt_path", pa.string()),
        ("line_no", pa.int32()),
        ("raw", pa.string()),
        ("reason", pa.string()),
    ]
)


class TableWriter:
    """Write rows (dicts, or Arrow tables of the schema) to Parquet in row groups of
    ``row_group_size``, to a temp file.

    Memory holds at most one row group and the last table written. ``close(metadata)`` adds the
    ``textrec`` JSON metadata; ``abort()`` removes the file.
    """

    def __init__(self, path: AnyPath, schema: pa.Schema, row_group_size: int = ROW_GROUP_SIZE):
        self.path = path
        self.schema = schema
        self.row_group_size = row_group_size
        self.rows_written = 0
        self._pending = schema.empty_table()
        # PNG/JPEG crops are already compressed and all different: store them as they are (no
        # compression, no dictionary encoding), compress the rest.
        codecs = {name: "none" if name == "crop" else "zstd" for name in schema.names}
        dictionary = [name for name in schema.names if name != "crop"]
        self._writer = parquet_writer(path, schema, compression=codecs, use_dictionary=dictionary)

    def write(self, rows: Sequence[dict]) -> None:
        if rows:
            self.write_table(pa.Table.from_pylist(list(rows), schema=self.schema))

    def write_table(self, table: pa.Table) -> None:
        """Add ``table``'s rows; write every full row group."""
        self._pending = pa.concat_tables([self._pending, table])  # no copy: chunks are shared
        while self._pending.num_rows >= self.row_group_size:
            self._flush(self._pending.slice(0, self.row_group_size))
            self._pending = self._pending.slice(self.row_group_size)

    def _flush(self, table: pa.Table) -> None:
        if table.num_rows:
            self._writer.write_table(table, row_group_size=table.num_rows)
            self.rows_written += table.num_rows

    def close(self, metadata: dict) -> None:
        self._flush(self._pending)
        self._pending = self.schema.empty_table()
        self._writer.add_key_value_metadata(
            {METADATA_KEY: json.dumps(metadata, ensure_ascii=False)}
        )
        self._writer.close()

    def abort(self) -> None:
        self._writer.close()
        self.path.unlink(missing_ok=True)


def part_name(index: int) -> str:
    """File name of part ``index`` of a manifest directory."""
    return f"part-{index:05d}.parquet"


@dataclass(frozen=True)
class ManifestInfo:
    """What a manifest says about itself: its metadata, charset and row-group layout.

    ``groups`` names the file and the index in it of each row group, in manifest order (a
    directory's parts one after another); ``row_group_rows`` their row counts."""

    path: AnyPath
    metadata: dict
    charset: Charset
    num_rows: int
    row_group_rows: tuple[int, ...]
    groups: tuple[tuple[AnyPath, int], ...]

    def split_count(self, split: str) -> int:
        return int(self.metadata.get("counts", {}).get("splits", {}).get(split, 0))

    def unlabeled_count(self, split: str) -> int:
        """Rows of ``split`` without label (none before format version 3)."""
        return int(self.metadata.get("counts", {}).get("unlabeled", {}).get(split, 0))

    def read_group(self, k: int, columns: Sequence[str] | None = None) -> pa.Table:
        """Row group ``k`` of the manifest (only that group's column chunks are read)."""
        file, index = self.groups[k]
        return open_parquet(file).read_row_group(index, columns=columns)

    def read_columns(self, columns: Sequence[str]) -> pa.Table:
        """Whole columns (small ones: the crops of a large manifest do not fit in memory)."""
        tables = [self.read_group(k, columns) for k in range(len(self.groups))]
        schema = pa.schema([MANIFEST_SCHEMA.field(c) for c in columns])
        return pa.concat_tables(tables) if tables else schema.empty_table()


def read_manifest_info(path: str | Path) -> ManifestInfo:
    """Open and validate a manifest: a Parquet file, a manifest directory, or the output directory
    of ``textrec manifest`` holding either; raises :class:`InputError` naming the file."""
    path = as_path(path)
    if path.is_dir():
        located = _locate(path)
        return _read_file_info(located) if located.is_file() else _read_dir_info(located)
    if not path.is_file():
        raise InputError(f"{path}: manifest not found (run `textrec manifest` first)")
    return _read_file_info(path)


def _locate(directory: AnyPath) -> AnyPath:
    """The manifest in ``directory``: itself (parts + metadata), its manifest/ directory, or its
    manifest.parquet."""
    candidates = (directory, directory / "manifest")
    for candidate in candidates:
        if (candidate / PARTS_METADATA).is_file():
            return candidate
    if (directory / "manifest.parquet").is_file():
        return directory / "manifest.parquet"
    for candidate in candidates:
        if candidate.is_dir() and any(p.name.startswith("part-") for p in candidate.iterdir()):
            raise InputError(
                f"{candidate}: parts without {PARTS_METADATA}: an incomplete manifest "
                "(its build is still running, or was interrupted)"
            )
    raise InputError(f"{directory}: no textrec manifest in this directory")


def _checked_metadata(path: AnyPath, raw: bytes | str) -> tuple[dict, Charset]:
    """The textrec JSON metadata and its charset, or an InputError naming ``path``."""
    try:
        metadata = json.loads(raw)
    except ValueError as exc:
        raise InputError(f"{path}: corrupt textrec metadata ({exc})") from exc
    if isinstance(metadata, dict) and "part_of_manifest" in metadata:
        raise InputError(f"{path}: one part of a manifest directory: pass the directory")
    try:
        charset = Charset.from_dict(metadata)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{path}: corrupt textrec metadata ({exc})") from exc
    version = metadata.get("format_version")
    if version not in READABLE_VERSIONS:
        raise InputError(
            f"{path}: manifest format version {version}, this textrec reads {READABLE_VERSIONS}"
        )
    return metadata, charset


def _check_columns(path: AnyPath, schema: pa.Schema, version: int) -> None:
    required = MANIFEST_SCHEMA.names if version >= 2 else REQUIRED_COLUMNS
    missing = [n for n in required if n not in schema.names]
    if missing:
        raise InputError(f"{path}: manifest lacks columns {missing}")


def _read_file_info(path: AnyPath) -> ManifestInfo:
    try:
        parquet = open_parquet(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from exc
    raw = (parquet.metadata.metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise InputError(f"{path}: Parquet file without textrec metadata: not a textrec manifest")
    metadata, charset = _checked_metadata(path, raw)
    _check_columns(path, parquet.schema_arrow, metadata["format_version"])
    groups = tuple(parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups))
    refs = tuple((path, i) for i in range(len(groups)))
    return ManifestInfo(path, metadata, charset, parquet.metadata.num_rows, groups, refs)


def _read_dir_info(directory: AnyPath) -> ManifestInfo:
    meta_path = directory / PARTS_METADATA
    metadata, charset = _checked_metadata(meta_path, meta_path.read_bytes())
    parts = metadata.get("parts")
    if not isinstance(parts, list) or not parts:
        raise InputError(f"{meta_path}: corrupt textrec metadata (no list of parts)")
    present = {p.name for p in directory.iterdir()}
    for part in parts:
        if part.get("file") not in present:
            raise InputError(f"{directory / str(part.get('file'))}: listed part is missing")
    first = directory / parts[0]["file"]
    try:
        _check_columns(first, open_parquet(first).schema_arrow, metadata["format_version"])
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{first}: not a readable Parquet file ({exc})") from exc
    rows = tuple(int(n) for part in parts for n in part["row_groups"])
    refs = tuple(
        (directory / part["file"], i) for part in parts for i in range(len(part["row_groups"]))
    )
    return ManifestInfo(directory, metadata, charset, sum(rows), rows, refs)
