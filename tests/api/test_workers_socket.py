"""`blocklist serve --workers N` accepts connections with Nagle's algorithm off (api/workers.py): with it on (uvicorn
before 0.55), each keep-alive answer after the first waited ~40 ms for the delayed ACK (Kludex/uvicorn#3149)."""

from __future__ import annotations

import asyncio
import socket

from api.workers import worker_config


def _accepted_nodelay(listener: socket.socket) -> int:
    """TCP_NODELAY of a connection that asyncio accepts on `listener`, as uvicorn's workers serve it."""

    async def main() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Report(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Report, sock=listener)
        port = listener.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(seen, 10)
        finally:
            writer.close()
            server.close()

    return asyncio.run(main())


def test_the_workers_listening_socket_gives_connections_without_nagle() -> None:
    listener = worker_config(2, {"host": "127.0.0.1", "port": 0}).bind_socket()
    assert listener.proto == socket.IPPROTO_TCP
    assert _accepted_nodelay(listener) == 1
