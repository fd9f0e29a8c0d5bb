"""Where datasets and manifests live: local paths, or URLs (``s3://``, ``gs://``, ``file://``)
read and written through ``pyarrow.fs``.

S3 takes its endpoint, keys and region from the standard AWS environment (``AWS_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``/``AWS_DEFAULT_REGION``, or
``~/.aws``); GCS from Google's (``GOOGLE_APPLICATION_CREDENTIALS``). A local path, and a
``file://`` URL, come back as a plain :class:`pathlib.Path`, so local behaviour never changes.

URLs are parsed strictly (:func:`parse_location`): any other scheme, and a ``file://`` URL with
a host, are refused rather than read as local folder names. Every request has a connect and a
read timeout and a bounded number of retries (:data:`CONNECT_SECONDS`, :data:`READ_SECONDS`,
:data:`RETRIES`, :data:`GCS_RETRY_SECONDS`): without a network a command fails in seconds.
"""

from __future__ import annotations

import datetime
import functools
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from textrec_data.errors import InputError

REMOTE_SCHEMES = ("s3", "gs", "gcs")
#: Seconds to open a connection to object storage, and to wait for a reply; attempts per request.
CONNECT_SECONDS, READ_SECONDS, RETRIES = 10.0, 60.0, 3
#: GCS retries any failed request (credentials included) for at most this many seconds.
GCS_RETRY_SECONDS = 10
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")


def parse_location(text: str) -> str:
    """``text`` as textrec reads it: a local path (a ``file://`` URL becomes one), or an
    ``s3://``/``gs://`` URL with a bucket. Any other ``scheme://`` is refused, as is a
    ``file://`` URL with a host (``file://rel/x`` is not ``rel/x``)."""
    found = _SCHEME.match(text)
    if found is None:
        return text
    scheme, parts = found.group("scheme").lower(), urlsplit(text)
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise InputError(
                f"{text}: a file:// URL names no host (here {parts.netloc!r}); write "
                "file:///absolute/path or a plain path"
            )
        return parts.path or "/"
    if scheme not in REMOTE_SCHEMES:
        raise InputError(
            f"{text}: unknown URL scheme {found.group('scheme')!r}; textrec reads local paths, "
            "file://, s3:// and gs:// URLs"
        )
    if not parts.netloc:
        raise InputError(f"{text}: the URL names no bucket ({scheme}://BUCKET/KEY)")
    return text


def is_url(path: str | Path) -> bool:
    """True for an object-storage URL (``s3://``, ``gs://``, ``gcs://``)."""
    return isinstance(path, str) and _SCHEME.match(parse_location(path)) is not None


@functools.lru_cache(maxsize=16)
def _filesystem(scheme: str, bucket: str, endpoint: str | None) -> pafs.FileSystem:
    """One filesystem per bucket, endpoint and process (creating one may cost a request), with
    timeouts and bounded retries on every request."""
    try:
        if scheme != "s3":
            return pafs.GcsFileSystem(
                retry_time_limit=datetime.timedelta(seconds=GCS_RETRY_SECONDS)
            )
        found = pafs.FileSystem.from_uri(f"s3://{bucket}/")[0]  # resolves the bucket's region
        return pafs.S3FileSystem(
            region=found.region,
            endpoint_override=endpoint,
            connect_timeout=CONNECT_SECONDS,
            request_timeout=READ_SECONDS,
            retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=RETRIES),
        )
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{scheme}://{bucket}: cannot open object storage ({exc})") from exc


def split_url(url: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem of ``url`` and the path on it (``bucket/key``)."""
    parts = urlsplit(parse_location(url))
    path = f"{parts.netloc}{parts.path}".rstrip("/")
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    return _filesystem(parts.scheme.lower(), parts.netloc, endpoint), path


class UrlPath:
    """The part of :class:`pathlib.Path` that sources and manifests use, for a URL.

    Directory listings remember each child's type, so ``is_file()`` on them sends no request."""

    def __init__(self, url: str, file_type: pafs.FileType | None = None):
        self.url = url.rstrip("/")
        self._type = file_type

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"UrlPath({self.url!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UrlPath) and other.url == self.url

    def __hash__(self) -> int:
        return hash(self.url)

    def __lt__(self, other: UrlPath) -> bool:
        return self.url < other.url

    def __truediv__(self, name: str) -> UrlPath:
        return UrlPath(f"{self.url}/{name}")

    @property
    def name(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def stem(self) -> str:
        return Path(self.name).stem

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix

    @property
    def parent(self) -> UrlPath:
        return UrlPath(self.url.rsplit("/", 1)[0])

    def resolve(self) -> UrlPath:
        return self

    def _file_type(self) -> pafs.FileType:
        if self._type is None:
            fs, path = split_url(self.url)
            self._type = fs.get_file_info(path).type
        return self._type

    def exists(self) -> bool:
        return self._file_type() != pafs.FileType.NotFound

    def is_dir(self) -> bool:
        return self._file_type() == pafs.FileType.Directory

    def is_file(self) -> bool:
        return self._file_type() == pafs.FileType.File

    def iterdir(self) -> list[UrlPath]:
        """The children, in name order (one listing request)."""
        fs, path = split_url(self.url)
        infos = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True))
        scheme = urlsplit(self.url).scheme
        return sorted((UrlPath(f"{scheme}://{i.path}", i.type) for i in infos), key=lambda p: p.url)

    def read_bytes(self) -> bytes:
        fs, path = split_url(self.url)
        with fs.open_input_stream(path) as stream:
            return stream.read()

    def write_bytes(self, data: bytes) -> None:
        """One PUT: an object appears whole or not at all."""
        fs, path = split_url(self.url)
        with fs.open_output_stream(path) as stream:
            stream.write(data)

    def read_text(self) -> str:
        return self.read_bytes().decode("utf-8")

    def write_text(self, text: str) -> None:
        self.write_bytes(text.encode("utf-8"))

    def unlink(self, missing_ok: bool = False) -> None:
        fs, path = split_url(self.url)
        if missing_ok and not self.exists():
            return
        fs.delete_file(path)

    def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None:
        """Nothing to do: object stores have no directories."""


AnyPath = Path | UrlPath


def as_path(path: str | Path | UrlPath) -> AnyPath:
    """A :class:`Path` for a local path or ``file://`` URL, else a :class:`UrlPath`."""
    if isinstance(path, Path | UrlPath):
        return path
    path = parse_location(path)
    return UrlPath(path) if is_url(path) else Path(path)


def remove_tree(path: AnyPath) -> None:
    """Delete an object-storage 'directory' and everything under it (no-op if absent)."""
    if isinstance(path, UrlPath) and path.exists():
        fs, inner = split_url(path.url)
        fs.delete_dir(inner)


def open_parquet(path: AnyPath) -> pq.ParquetFile:
    """A Parquet file for random access (row groups are read with range requests)."""
    if isinstance(path, UrlPath):
        fs, inner = split_url(path.url)
        return pq.ParquetFile(fs.open_input_file(inner))
    return pq.ParquetFile(path)


def parquet_writer(path: AnyPath, schema: pa.Schema, **options) -> pq.ParquetWriter:
    """A Parquet writer to a local file or an object (uploaded in parts as it grows)."""
    if isinstance(path, UrlPath):
        fs, inner = split_url(path.url)
        return pq.ParquetWriter(inner, schema, filesystem=fs, **options)
    return pq.ParquetWriter(path, schema, **options)
