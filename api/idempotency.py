"""`Idempotency-Key` on POST: a retried request gets the first answer back and writes nothing new.

The key is scoped to the caller's credential; the same key with a different request is refused (422), and a
retry that arrives while the first is still running gets 409.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import anyio
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.models import IdempotencyRecord
from api.runtime import Runtime
from blocklist.models import utcnow


def _json(status: int, reason: str) -> tuple[int, bytes]:
    return status, json.dumps({"error": "IdempotencyKey", "reason": reason}).encode()


class IdempotencyMiddleware:
    """Pure ASGI middleware (it must see the raw body and the raw response)."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode(errors="replace") for k, v in scope["headers"]}
        key = headers.get("idempotency-key")
        if not key:
            await self.app(scope, receive, send)
            return
        if len(key) > 200:
            await _reply(send, *_json(422, "Idempotency-Key is longer than 200 characters"))
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        record_key = hashlib.sha256(f"{headers.get('authorization', '')}\n{key}".encode()).hexdigest()
        target = f"POST {scope['path']}"
        body_hash = hashlib.sha256(body).hexdigest()
        stored = await anyio.to_thread.run_sync(self._claim, record_key, target, body_hash)
        if stored is not None:
            status, content_type, content = stored
            await _reply(send, status, content, content_type, replayed=True)
            return
        captured: dict[str, Any] = {"status": 500, "type": "application/json", "body": []}

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        captured["type"] = value.decode()
            elif message["type"] == "http.response.body":
                captured["body"].append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay, capture)
        finally:
            await anyio.to_thread.run_sync(self._finish, record_key, captured["status"], captured["type"],
                                           b"".join(captured["body"]))

    def _claim(self, record_key: str, target: str, body_hash: str) -> tuple[int, str, bytes] | None:
        """Reserve the key, or return the stored answer (or a refusal) for it."""
        with self.runtime.database.transaction() as session:
            existing = session.get(IdempotencyRecord, record_key)
            if existing is None:
                session.add(IdempotencyRecord(key=record_key, method_path=target[:300], body_sha256=body_hash,
                                              status_code=None, body=b"", created_at=utcnow()))
                try:
                    session.flush()
                except IntegrityError:
                    session.rollback()
                    status, content = _json(409, "a request with this Idempotency-Key is still being processed")
                    return status, "application/json", content
                return None
            if existing.method_path != target[:300] or existing.body_sha256 != body_hash:
                status, content = _json(422, "this Idempotency-Key was used for a different request")
                return status, "application/json", content
            if existing.status_code is None:
                status, content = _json(409, "a request with this Idempotency-Key is still being processed")
                return status, "application/json", content
            return existing.status_code, existing.content_type, existing.body

    def _finish(self, record_key: str, status: int, content_type: str, body: bytes) -> None:
        with self.runtime.database.transaction() as session:
            record = session.get(IdempotencyRecord, record_key)
            if record is None:
                return
            if status >= 500:
                session.delete(record)  # a server failure wrote nothing: a retry may run again
                return
            record.status_code, record.content_type, record.body = status, content_type[:100], body


async def _reply(send: Send, status: int, body: bytes, content_type: str = "application/json",
                 replayed: bool = False) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    if replayed:
        headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
