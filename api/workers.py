"""`blocklist serve --workers N`: uvicorn's own multi-process supervisor, with a listening socket that keeps
Nagle's algorithm off.

uvicorn binds the shared socket with its protocol number left at 0; accepted connections inherit it, and asyncio
turns TCP_NODELAY on only for sockets that say IPPROTO_TCP (Kludex/uvicorn#3149). With Nagle on, every answer on a
keep-alive connection after the first waited for the client's delayed ACK: 44 ms for a /healthz that takes 1 ms,
measured here with two and four workers (one worker, where asyncio binds the socket itself, was unaffected).
"""

from __future__ import annotations

import socket
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

APP = "api.app:app_from_environment"  # each worker builds its own Runtime from the same environment


class NoDelayConfig(uvicorn.Config):
    """uvicorn's configuration, its listening socket marked as TCP so that asyncio sets TCP_NODELAY on each
    connection it accepts."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return sock  # a Unix socket: no Nagle there
        return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())


def serve_workers(workers: int, options: dict[str, Any]) -> None:
    """Run `workers` processes on one listening socket (what `uvicorn.run(..., workers=N)` does)."""
    config = NoDelayConfig(APP, factory=True, workers=workers, **options)
    Multiprocess(config, sockets=[config.bind_socket()]).run()
