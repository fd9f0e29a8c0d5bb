"""textrec data side: dataset sources, quad cropping, vocabulary, the manifest format."""

from importlib.metadata import PackageNotFoundError, version

import cv2

# OpenCV's own thread pool gains nothing on word crops, and a process forked while that pool
# holds a lock (DataLoader workers) deadlocks: keep OpenCV single-threaded everywhere.
cv2.setNumThreads(1)

try:
    __version__ = version("textrec")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"
