"""Free loopback ports for servers the tests start (tests talk to 127.0.0.1 only)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A 127.0.0.1 port free for both UDP and TCP right now (DNS servers need both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
