"""A free TCP port on 127.0.0.1 for the servers and rendezvous the tests start, so that test
processes running side by side (``pytest -n``) never ask for the same one."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
