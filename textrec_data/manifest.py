"""The manifest file format (version 2): Arrow schema, atomic writer, validated reader.

A manifest is a Parquet file with one row per kept word and a ``textrec`` key in its footer
metadata holding JSON (format version, charset, case, build config, counts). Rejected records go
to a sibling ``rejects.parquet``. Column meanings: docs/DESIGN.md.

Version 2 adds the ``source`` column (the format a word was read from) and lets ``quad``,
``gt_path`` and ``line_no`` be null (a pre-cropped word has no quad). Version-1 manifests (no
``source`` column, no nulls) are still read everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from textrec_data.charset import Charset
from textrec_data.errors import InputError

FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
METADATA_KEY = b"textrec"
SPLITS = ("train", "val", "test")
ROW_GROUP_SIZE = 1024

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

    def __init__(self, path: Path, schema: pa.Schema, row_group_size: int = ROW_GROUP_SIZE):
        self.path = path
        self.schema = schema
        self.row_group_size = row_group_size
        self.rows_written = 0
        self._pending = schema.empty_table()
        # PNG/JPEG crops are already compressed and all different: store them as they are (no
        # compression, no dictionary encoding), compress the rest.
        codecs = {name: "none" if name == "crop" else "zstd" for name in schema.names}
        dictionary = [name for name in schema.names if name != "crop"]
        self._writer = pq.ParquetWriter(path, schema, compression=codecs, use_dictionary=dictionary)

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


@dataclass(frozen=True)
class ManifestInfo:
    """What a manifest says about itself: its metadata, charset and row-group layout."""

    path: Path
    metadata: dict
    charset: Charset
    num_rows: int
    row_group_rows: tuple[int, ...]

    def split_count(self, split: str) -> int:
        return int(self.metadata.get("counts", {}).get("splits", {}).get(split, 0))


def read_manifest_info(path: str | Path) -> ManifestInfo:
    """Open and validate a manifest's footer; raises :class:`InputError` naming the file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: manifest not found (run `textrec manifest` first)")
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from exc
    raw = (parquet.metadata.metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise InputError(f"{path}: Parquet file without textrec metadata: not a textrec manifest")
    try:
        metadata = json.loads(raw)
        charset = Charset.from_dict(metadata)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{path}: corrupt textrec metadata ({exc})") from exc
    version = metadata.get("format_version")
    if version not in READABLE_VERSIONS:
        raise InputError(
            f"{path}: manifest format version {version}, this textrec reads {READABLE_VERSIONS}"
        )
    required = MANIFEST_SCHEMA.names if version == FORMAT_VERSION else REQUIRED_COLUMNS
    missing = [n for n in required if n not in parquet.schema_arrow.names]
    if missing:
        raise InputError(f"{path}: manifest lacks columns {missing}")
    groups = tuple(parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups))
    return ManifestInfo(path, metadata, charset, parquet.metadata.num_rows, groups)
