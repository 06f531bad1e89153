"""One write transaction per HTTP request, committed durably BEFORE the response leaves the server.

FastAPI runs the clean-up of a `yield` dependency after the response has been sent, so a commit placed there
acknowledges writes that a crash can still lose. This pure ASGI middleware owns the request's write session
instead: the `session` dependency opens it lazily (inside a bounded slot), and the middleware commits it when
the application starts its response, holding that response back until the commit has returned. An error
response (an exception handler ran, see `mark_failed`) or an exception rolls everything back.

A POST with an `Idempotency-Key` from an authenticated caller is buffered whole: its answer is stored in the
SAME transaction as its work, so after a crash a retry either finds the stored answer or finds nothing was
written and does the work once. Nothing is claimed before the work, so no key can be left stuck.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field

import anyio
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.models import IdempotencyRecord
from api.runtime import Runtime
from blocklist.errors import BlocklistError, InvalidInput
from blocklist.models import utcnow

log = logging.getLogger("api.transaction")
STATE_KEY = "blocklist.transaction"
MAX_KEY_LENGTH = 200


class IdempotentReplay(Exception):
    """The stored first answer to this request: sent back as it was, nothing is done again."""

    def __init__(self, status: int, content_type: str, body: bytes) -> None:
        super().__init__("replayed")
        self.status, self.content_type, self.body = status, content_type, body


@dataclass
class RequestTransaction:
    """The write session of one request, and what idempotency needs to know about it."""

    runtime: Runtime
    idempotency_key: str | None = None
    target: str = ""  # "POST /path"
    body_sha256: str = ""
    principal: str | None = None  # set by the credential check; anonymous requests get no idempotency store
    failed: bool = False
    _session: Session | None = field(default=None, repr=False)
    _slot_held: bool = False

    async def session(self) -> Session:
        """The request's write session; the first call waits for a free slot (no thread is held meanwhile)."""
        if self._session is None:
            await self.runtime.request_slots.acquire()
            self._slot_held = True
            self._session = self.runtime.database.sessions()
        return self._session

    @property
    def record_key(self) -> str:
        assert self.principal is not None and self.idempotency_key is not None
        return hashlib.sha256(f"{self.principal}\n{self.idempotency_key}".encode()).hexdigest()

    @property
    def keyed(self) -> bool:
        """Whether this request's answer is stored under its Idempotency-Key."""
        return self.idempotency_key is not None and self.principal is not None

    def commit(self, answer: tuple[int, str, bytes] | None) -> None:
        """Store the answer of a keyed request (if any) and commit; runs in a worker thread."""
        if self._session is None:
            if answer is None or not self.keyed:
                return
            self._session = self.runtime.database.sessions()
        if answer is not None and self.keyed:
            status, content_type, body = answer
            stale = self._session.get(IdempotencyRecord, self.record_key)
            if stale is not None and stale.status_code is None:
                # A claim left by the former claim-first scheme (never completed): this answer completes it.
                stale.method_path, stale.body_sha256 = self.target[:300], self.body_sha256
                stale.status_code, stale.content_type, stale.body = status, content_type[:100], body
            else:
                self._session.add(IdempotencyRecord(
                    key=self.record_key, method_path=self.target[:300], body_sha256=self.body_sha256,
                    status_code=status, content_type=content_type[:100], body=body, created_at=utcnow()))
        self._session.commit()

    def rollback(self) -> None:
        if self._session is not None:
            self._session.rollback()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
        if self._slot_held:
            self._slot_held = False
            self.runtime.request_slots.release()


def current(scope: Scope) -> RequestTransaction:
    """The transaction of the request being served (installed by the middleware)."""
    tx: RequestTransaction = scope["state"][STATE_KEY]
    return tx


def mark_failed(scope: Scope) -> None:
    """An exception handler answered: whatever the request wrote is rolled back."""
    tx = scope.get("state", {}).get(STATE_KEY)
    if tx is not None:
        tx.failed = True


def stored_answer(session: Session, tx: RequestTransaction) -> tuple[int, str, bytes] | None:
    """The stored answer of this keyed request, None if there is none; a key reused for another request: 422."""
    record = session.get(IdempotencyRecord, tx.record_key)
    if record is None or record.status_code is None:  # status None: a claim of the old scheme, never completed
        return None
    if record.method_path != tx.target[:300] or record.body_sha256 != tx.body_sha256:
        raise InvalidInput("this Idempotency-Key was already used for a different request; use a new key",
                           field="Idempotency-Key")
    return record.status_code, record.content_type, record.body


def bind_principal(scope: Scope, session: Session, principal: str) -> None:
    """Called once the caller's credential is known: a keyed request already answered is replayed now."""
    tx = scope.get("state", {}).get(STATE_KEY)
    if tx is None or tx.idempotency_key is None:
        return
    tx.principal = principal
    answer = stored_answer(session, tx)
    if answer is not None:
        raise IdempotentReplay(*answer)


class TransactionMiddleware:
    """Installs a RequestTransaction per HTTP request and commits it before the response is sent."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tx = RequestTransaction(self.runtime)
        scope.setdefault("state", {})[STATE_KEY] = tx
        headers = dict(scope["headers"])
        key = headers.get(b"idempotency-key")
        if scope["method"] == "POST" and key:
            if len(key) > MAX_KEY_LENGTH:
                await _reply(send, *_error(422, "IdempotencyKey", "the Idempotency-Key is longer than 200 characters"))
                return
            body = await _read_body(receive)
            tx.idempotency_key = key.decode(errors="replace")
            tx.target = f"POST {scope['path']}"
            tx.body_sha256 = hashlib.sha256(body).hexdigest()

            async def replay_body() -> Message:
                return {"type": "http.request", "body": body, "more_body": False}

            receive = replay_body
        try:
            if tx.idempotency_key is not None:
                await self._buffered(scope, receive, send, tx)
            else:
                await self._streamed(scope, receive, send, tx)
        finally:
            if tx._session is not None or tx._slot_held:
                await anyio.to_thread.run_sync(tx.close)

    async def _streamed(self, scope: Scope, receive: Receive, send: Send, tx: RequestTransaction) -> None:
        """Commit when the response starts, then let it stream (a feed file may be large)."""
        started = False

        async def commit_then_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start" and not started:
                started = True
                if tx.failed or message["status"] >= 500:
                    await anyio.to_thread.run_sync(tx.rollback)
                else:
                    problem = await _commit(tx, None)
                    if problem is not None:
                        await _reply(send, *problem)
                        raise _Abandoned()
            await send(message)

        try:
            await self.app(scope, receive, commit_then_send)
        except _Abandoned:
            return
        except BaseException:
            await anyio.to_thread.run_sync(tx.rollback)
            raise

    async def _buffered(self, scope: Scope, receive: Receive, send: Send, tx: RequestTransaction) -> None:
        """Hold the whole answer of a keyed POST; store it with the work in one commit; then send it."""
        messages: list[Message] = []

        async def hold(message: Message) -> None:
            messages.append(message)

        try:
            await self.app(scope, receive, hold)
        except BaseException:
            await anyio.to_thread.run_sync(tx.rollback)
            raise
        start = next((m for m in messages if m["type"] == "http.response.start"), None)
        if start is None:
            await anyio.to_thread.run_sync(tx.rollback)
            return
        status = int(start["status"])
        headers = start.get("headers", [])
        if any(k.lower() == b"idempotent-replayed" for k, _ in headers) or tx.failed or status >= 500:
            await anyio.to_thread.run_sync(tx.rollback)
            if not (status == 409 and await self._replay_twin(send, tx)):
                for message in messages:
                    await send(message)
            return
        answer = None
        if tx.keyed and status < 400:
            content_type = next((v.decode() for k, v in headers if k.lower() == b"content-type"),
                                "application/json")
            answer = (status, content_type, b"".join(m.get("body", b"") for m in messages
                                                      if m["type"] == "http.response.body"))
        problem = await _commit(tx, answer)
        if problem is None:
            for message in messages:
                await send(message)
        elif not (problem[0] == 409 and await self._replay_twin(send, tx)):
            await _reply(send, *problem)

    async def _replay_twin(self, send: Send, tx: RequestTransaction) -> bool:
        """A parallel twin with the same key may have committed while this one worked (PostgreSQL waits on the
        unique index, then refuses this one as a duplicate or a key conflict): if so, answer as the twin did."""
        if not tx.keyed:
            return False
        twin = await anyio.to_thread.run_sync(self._twin_answer, tx)
        if twin is None:
            return False
        await _reply(send, *twin, replayed=True)
        return True

    def _twin_answer(self, tx: RequestTransaction) -> tuple[int, str, bytes] | None:
        with self.runtime.database.reading() as session:
            try:
                return stored_answer(session, tx)
            except BlocklistError:
                return None


class _Abandoned(Exception):
    """The commit failed after the application answered: an error was sent instead of its response."""


async def _commit(tx: RequestTransaction, answer: tuple[int, str, bytes] | None) -> tuple[int, str, bytes] | None:
    """Commit in a worker thread; None on success, otherwise the error response to send instead."""
    from api.errors import unavailable_answer

    try:
        await anyio.to_thread.run_sync(tx.commit, answer)
    except IntegrityError:
        await anyio.to_thread.run_sync(tx.rollback)
        log.warning("commit refused by the database (a parallel change)", exc_info=True)
        return _error(409, "Conflict", "the change conflicts with another one made at the same time; nothing was "
                      "written, retry")
    except Exception as exc:
        await anyio.to_thread.run_sync(tx.rollback)
        busy = unavailable_answer(exc)
        if busy is not None:
            return busy
        log.exception("commit failed")
        return _error(500, "InternalError", "the change could not be saved; nothing was written (it was logged)")
    return None


def _error(status: int, kind: str, reason: str) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps({"error": kind, "reason": reason}).encode()


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _reply(send: Send, status: int, content_type: str, body: bytes, replayed: bool = False) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    if replayed:
        headers.append((b"idempotent-replayed", b"true"))
    if status == 503:
        headers.append((b"retry-after", b"2"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
