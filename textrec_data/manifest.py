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
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

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
#: Columns that hold a value in every row (the others may be null from version 2 on; ``text``
#: and ``label`` from version 3 on, in unlabeled rows).
NEVER_NULL = ("image_id", "text", "label", "split", "crop", "crop_h", "crop_w")


def never_null(version: int) -> tuple[str, ...]:
    """The columns of :data:`NEVER_NULL` a manifest of format ``version`` holds no null in."""
    return NEVER_NULL if version < 3 else tuple(c for c in NEVER_NULL if c not in ("text", "label"))


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
    #: (inode, mtime, size) of each local file when it was opened: a manifest rebuilt while a
    #: run reads it (``--overwrite`` renames a new file into place) is detected, never mixed in.
    stamps: dict = field(default_factory=dict, compare=False)

    def split_count(self, split: str) -> int:
        return int(self.metadata.get("counts", {}).get("splits", {}).get(split, 0))

    def unlabeled_count(self, split: str) -> int:
        """Rows of ``split`` without label (none before format version 3)."""
        return int(self.metadata.get("counts", {}).get("unlabeled", {}).get(split, 0))

    def read_group(self, k: int, columns: Sequence[str] | None = None) -> pa.Table:
        """Row group ``k`` of the manifest (only that group's column chunks are read), checked
        against what the metadata says of it: its size, and no nulls where a manifest has none."""
        file, index = self.groups[k]
        if file in self.stamps and _stamp(file) != self.stamps[file]:
            raise InputError(
                f"{file}: the manifest changed after this run opened it (rebuilt with "
                "--overwrite?); it is not mixed in: run again on the rebuilt manifest"
            )
        try:
            parquet = open_parquet(file)
            if index >= parquet.num_row_groups:
                raise InputError(
                    f"{file}: the manifest lists row group {index + 1}, the file has "
                    f"{parquet.num_row_groups}: corrupt textrec metadata"
                )
            table = parquet.read_row_group(index, columns=columns)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"{file}: not a readable Parquet file ({exc})") from exc
        if table.num_rows != self.row_group_rows[k]:
            raise InputError(
                f"{file}: row group {index} has {table.num_rows} rows, the manifest lists "
                f"{self.row_group_rows[k]}: corrupt textrec metadata"
            )
        for name in never_null(self.metadata["format_version"]):
            if name in table.column_names and table[name].null_count:
                raise InputError(
                    f"{file}: row group {index}: {table[name].null_count} null values in "
                    f"column {name!r} (every row of a manifest has one)"
                )
        return table

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


def _stamp(path: AnyPath) -> tuple[int, int, int] | None:
    """What tells a local file from its replacement: inode, modification time, size."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_ino, found.st_mtime_ns, found.st_size


def _stamps(files) -> dict:
    return {f: _stamp(f) for f in dict.fromkeys(files) if isinstance(f, Path)}


def default_split(path: str | Path) -> str:
    """The split ``textrec eval`` scores when none is named: test, or val when the manifest
    has no test rows (the default manifest of synthetic scenes has none)."""
    return "test" if read_manifest_info(path).split_count("test") else "val"


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
    if not isinstance(metadata, dict):
        raise InputError(f"{path}: corrupt textrec metadata (a JSON object expected)")
    if "part_of_manifest" in metadata:
        raise InputError(f"{path}: one part of a manifest directory: pass the directory")
    try:
        charset = Charset.from_dict(metadata)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise InputError(f"{path}: corrupt textrec metadata ({exc!r})") from exc
    version = metadata.get("format_version")
    if version not in READABLE_VERSIONS or isinstance(version, bool):
        raise InputError(
            f"{path}: manifest format version {version!r}, this textrec reads {READABLE_VERSIONS}"
        )
    splits = metadata.get("counts", {"splits": {}})
    splits = splits.get("splits") if isinstance(splits, dict) else None
    if not isinstance(splits, dict) or not all(_count(n) for n in splits.values()):
        raise InputError(f"{path}: corrupt textrec metadata (counts.splits: split -> rows)")
    return metadata, charset


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_columns(path: AnyPath, schema: pa.Schema, version: int) -> None:
    required = MANIFEST_SCHEMA.names if version >= 2 else REQUIRED_COLUMNS
    missing = [n for n in required if n not in schema.names]
    if missing:
        raise InputError(f"{path}: manifest lacks columns {missing}")
    for name in required:
        expected, found = MANIFEST_SCHEMA.field(name).type, schema.field(name).type
        if not _same_kind(expected, found):
            raise InputError(f"{path}: column {name!r} is {found}, a manifest's is {expected}")


def _check_nulls(path: AnyPath, parquet: pq.ParquetFile, version: int) -> int:
    """Refuse a file whose footer statistics count nulls in a column of :func:`never_null` (a
    file without statistics is checked as each row group is read); the labels it leaves null
    (its unlabeled rows, by those statistics)."""
    names, checked = parquet.schema_arrow.names, never_null(version)
    null_labels = 0
    for g in range(parquet.num_row_groups):
        group = parquet.metadata.row_group(g)
        for c in range(group.num_columns):
            column = group.column(c)
            name = column.path_in_schema
            stats = column.statistics
            if name in checked and name in names and stats is not None and stats.null_count:
                raise InputError(
                    f"{path}: row group {g}: {stats.null_count} null values in column {name!r} "
                    "(every row of a manifest has one)"
                )
            if name == "label" and stats is not None:
                null_labels += stats.null_count or 0
    return null_labels


def _check_unlabeled(path: AnyPath, metadata: dict, null_labels: int) -> None:
    """Refuse a manifest whose null labels are not the unlabeled rows its metadata counts."""
    counted = sum(metadata.get("counts", {}).get("unlabeled", {}).values())
    if null_labels != counted:
        raise InputError(
            f"{path}: {null_labels} null values in column 'label', the metadata counts "
            f"{counted} unlabeled rows: corrupt manifest"
        )


def _same_kind(expected: pa.DataType, found: pa.DataType) -> bool:
    """Whether a column of type ``found`` reads as ``expected`` (dictionary-encoded or not,
    large or not)."""
    plain = {pa.large_string(): pa.string(), pa.large_binary(): pa.binary()}
    if pa.types.is_dictionary(expected):
        expected = expected.value_type
    if pa.types.is_dictionary(found):
        found = found.value_type
    return plain.get(found, found) == expected


def _checked_parts(meta_path: AnyPath, metadata: dict) -> list[dict]:
    """The ``parts`` list of a manifest directory's metadata: plain file names, row counts and
    row-group sizes that agree (InputError naming the metadata file otherwise)."""
    parts = metadata.get("parts")
    if not isinstance(parts, list) or not parts:
        raise InputError(f"{meta_path}: corrupt textrec metadata (no list of parts)")
    for k, part in enumerate(parts):
        groups = part.get("row_groups") if isinstance(part, dict) else None
        if (
            not isinstance(part, dict)
            or not isinstance(part.get("file"), str)
            or "/" in part["file"]
            or part["file"] in ("", ".", "..")
            or not isinstance(groups, list)
            or not all(_count(n) for n in groups)
            or (_count(part.get("rows")) and part["rows"] != sum(groups))
        ):
            raise InputError(
                f"{meta_path}: corrupt textrec metadata (part {k + 1}: expected "
                '{"file": NAME, "rows": N, "row_groups": [sizes]})'
            )
    return parts


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
    _check_unlabeled(path, metadata, _check_nulls(path, parquet, metadata["format_version"]))
    groups = tuple(parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups))
    refs = tuple((path, i) for i in range(len(groups)))
    rows = parquet.metadata.num_rows
    return ManifestInfo(path, metadata, charset, rows, groups, refs, _stamps([path]))


def _read_dir_info(directory: AnyPath) -> ManifestInfo:
    meta_path = directory / PARTS_METADATA
    metadata, charset = _checked_metadata(meta_path, meta_path.read_bytes())
    parts = _checked_parts(meta_path, metadata)
    present = {p.name for p in directory.iterdir()}
    for part in parts:
        if part.get("file") not in present:
            raise InputError(f"{directory / str(part.get('file'))}: listed part is missing")
    # Local parts: each footer is checked now (cheap); on object storage the first, and each
    # row group when it is read (a request per part would cost more than the check is worth).
    local = isinstance(directory, Path)
    null_labels = 0
    for part in parts if local else parts[:1]:
        file = directory / part["file"]
        try:
            footer = open_parquet(file)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"{file}: not a readable Parquet file ({exc})") from exc
        _check_columns(file, footer.schema_arrow, metadata["format_version"])
        null_labels += _check_nulls(file, footer, metadata["format_version"])
        found = [footer.metadata.row_group(i).num_rows for i in range(footer.num_row_groups)]
        if found != part["row_groups"]:
            raise InputError(
                f"{file}: row groups of {found} rows, {PARTS_METADATA} lists "
                f"{part['row_groups']}: corrupt textrec metadata"
            )
    if local:
        _check_unlabeled(meta_path, metadata, null_labels)
    rows = tuple(int(n) for part in parts for n in part["row_groups"])
    refs = tuple(
        (directory / part["file"], i) for part in parts for i in range(len(part["row_groups"]))
    )
    stamps = _stamps(file for file, _ in refs)
    return ManifestInfo(directory, metadata, charset, sum(rows), rows, refs, stamps)
