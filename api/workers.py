"""`blocklist serve --workers N`: uvicorn's own multi-process supervisor on one shared listening socket.

uvicorn before 0.55 bound that socket with its protocol number left at 0; accepted connections inherited it, and
asyncio turns TCP_NODELAY on only for sockets that say IPPROTO_TCP (Kludex/uvicorn#3149). With Nagle on, every
answer on a keep-alive connection after the first waited for the client's delayed ACK: 44 ms for a /healthz that
takes 1 ms, measured here with two and four workers. pyproject.toml requires a uvicorn that binds it as TCP, and
tests/api/test_workers_socket.py keeps the finding from coming back.
"""

from __future__ import annotations

from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

APP = "api.app:app_from_environment"  # each worker builds its own Runtime from the same environment


def worker_config(workers: int, options: dict[str, Any]) -> uvicorn.Config:
    """The configuration every worker process starts from."""
    return uvicorn.Config(APP, factory=True, workers=workers, **options)


def serve_workers(workers: int, options: dict[str, Any]) -> None:
    """Run `workers` processes on one listening socket (what `uvicorn.run(..., workers=N)` does)."""
    config = worker_config(workers, options)
    Multiprocess(config, sockets=[config.bind_socket()]).run()
