"""textrec data side: dataset sources, quad cropping, vocabulary, the manifest format."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("textrec")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"
