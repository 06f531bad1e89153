"""A fast asyncio DNS querier: one connected UDP socket per resolver, pre-built queries, TCP when truncated.

It sends only to the resolvers it was configured with (checked before every packet, and the UDP sockets are
connected to their resolver, so the kernel refuses any other destination too). Every query is paced by that
resolver's `ResolverLimiter`.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import logging
import os
import random
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from isp_feed.verify import wire
from isp_feed.verify.ratelimit import Clock, ResolverLimiter

log = logging.getLogger(__name__)

Endpoint = tuple[str, int]
Answer = tuple[str, str, int, str]  # (owner name, type, TTL, rdata in presentation format)

EDNS_PAYLOAD = 1232  # the DNS Flag Day 2020 size: big enough for most answers, small enough not to fragment
_QR = 0x80  # in the third header byte
_TC = 0x02  # in the third header byte


class DestinationNotAllowed(PermissionError):
    """Raised instead of sending a DNS query to an address that is not a configured resolver."""


def endpoint(ip: str, port: int) -> Endpoint:
    """The canonical (ip, port) of a resolver; refuses host names (they would need a DNS lookup of their own)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        raise ValueError(f"a resolver must be an IP address, not {ip!r}") from None
    if not 0 < int(port) < 65536:
        raise ValueError(f"a resolver port must be between 1 and 65535 (got {port} for {ip})")
    return address.compressed, int(port)


@dataclass(frozen=True, slots=True)
class Observation:
    """One question asked of one resolver, and what came back (the evidence of a verification)."""

    resolver_ip: str
    resolver_port: int
    qname: str  # the name as the product knows it: lower case, no final dot
    qtype: str
    sent_at: datetime
    received_at: datetime | None
    rcode: str | None  # "NOERROR", "NXDOMAIN", "SERVFAIL"...; None when nothing came back
    answer_wire: bytes | None  # the raw answer message, exactly as received
    answers: list[Answer] = field(default_factory=list)
    ede: list[tuple[int, str]] = field(default_factory=list)  # RFC 8914 Extended DNS Errors: (code, extra text)
    error: str | None = None  # "timeout", or a short description of a local failure; None when answered
    transport: str = "udp"

    @property
    def answer_base64(self) -> str | None:
        """The raw answer, base64-encoded for storage."""
        return base64.b64encode(self.answer_wire).decode("ascii") if self.answer_wire is not None else None

    @property
    def resolver(self) -> str:
        """The resolver as "ip:port" ("[ip]:port" for IPv6)."""
        ip = f"[{self.resolver_ip}]" if ":" in self.resolver_ip else self.resolver_ip
        return f"{ip}:{self.resolver_port}"


@dataclass
class QuerierStats:
    """Counters, for tests and benchmarks."""

    sent: int = 0
    answered: int = 0
    timeouts: int = 0
    unmatched: int = 0  # datagrams whose id or question matched nothing we asked (late, spoofed, or garbled)
    malformed: int = 0
    truncated: int = 0  # answers with TC set, asked again over TCP
    icmp_errors: int = 0
    dnspython_reads: int = 0  # answers the fast reader left to dnspython (unusual records or names)


@lru_cache(maxsize=65536)
def _normalise(qname: str) -> str:
    """The name as the product knows it: lower case, no final dot (validated by dnspython once per name)."""
    return dns.name.from_text(qname).to_text(omit_final_dot=True).lower()


@lru_cache(maxsize=256)
def _rdtype(qtype: str | int) -> int:
    return int(dns.rdatatype.from_text(qtype) if isinstance(qtype, str) else dns.rdatatype.RdataType.make(qtype))


@lru_cache(maxsize=256)
def _rdtype_text(rdtype: int) -> str:
    return dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rdtype))


@lru_cache(maxsize=65536)
def _template(qname: str, rdtype: int, payload: int) -> tuple[bytes, bytes, bytes]:
    """A query without its 2-byte id, plus the question's name (lower case) and type/class bytes for matching."""
    query = dns.message.make_query(qname, dns.rdatatype.RdataType.make(rdtype), use_edns=0, payload=payload, id=0)
    wire = query.to_wire()
    name_length = len(dns.name.from_text(qname).to_wire() or b"")
    question_name = wire[12:12 + name_length].lower()
    type_class = wire[12 + name_length:16 + name_length]
    return wire[2:], question_name, type_class


def _matches(data: bytes, question_name: bytes, type_class: bytes) -> bool:
    """Whether a datagram is a response whose single question is the one we asked (the name case-insensitively)."""
    end = 12 + len(question_name)
    return (len(data) >= end + 4 and data[2] & _QR != 0 and data[4:6] == b"\x00\x01"
            and data[12:end].lower() == question_name and data[end:end + 4] == type_class)


class _Pending:
    __slots__ = ("deadline", "future", "question_name", "type_class")

    def __init__(self, future: asyncio.Future[bytes | None], question_name: bytes, type_class: bytes,
                 deadline: float) -> None:
        self.future = future
        self.question_name = question_name
        self.type_class = type_class
        self.deadline = deadline


class _UdpChannel:
    """One connected UDP socket to one resolver; many queries in flight on it, told apart by id and question.

    A raw non-blocking socket read until it is empty on each wake-up: asyncio's datagram transport reads one
    datagram per event-loop iteration, which costs more than the rest of a query. Timeouts are found by one
    sweep over the queries in flight (oldest first, as they were sent), not by one timer per query.
    """

    SWEEP_SECONDS = 0.05

    def __init__(self, querier: Querier, target: Endpoint, loop: asyncio.AbstractEventLoop) -> None:
        self.querier = querier
        self.target = target
        self.loop = loop
        family = socket.AF_INET6 if ":" in target[0] else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self.sock.setblocking(False)
            # Room for bursts of answers when the rate limit is off (benchmarks).
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
            # Connected: the kernel itself refuses to send anywhere else, and drops datagrams from elsewhere.
            self.sock.connect(target)
            loop.add_reader(self.sock.fileno(), self._readable)
        except BaseException:
            self.sock.close()
            raise
        self.pending: dict[int, _Pending] = {}  # insertion order = send order = deadline order
        self.closed = False
        self._sweeper: asyncio.TimerHandle | None = None

    def send(self, query_id: int, wire: bytes, pending: _Pending) -> None:
        """Send one query (raises OSError when the socket refuses it)."""
        self.sock.send(wire)
        self.pending[query_id] = pending
        if self._sweeper is None:
            self._sweeper = self.loop.call_later(self.SWEEP_SECONDS, self._sweep)

    def forget(self, query_id: int, pending: _Pending) -> None:
        """Drop a query whose caller stopped waiting."""
        if self.pending.get(query_id) is pending:
            del self.pending[query_id]

    def _readable(self) -> None:
        stats = self.querier.stats
        recv = self.sock.recv
        pendings = self.pending
        while True:
            try:
                data = recv(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # An ICMP error (e.g. port unreachable) cannot be tied to one query: those queries time out.
                stats.icmp_errors += 1
                log.debug("ICMP error from %s:%s: %s", *self.target, exc)
                continue
            if len(data) < 12:
                stats.malformed += 1
                continue
            query_id = (data[0] << 8) | data[1]
            pending = pendings.get(query_id)
            if pending is None or not _matches(data, pending.question_name, pending.type_class):
                stats.unmatched += 1
                continue
            del pendings[query_id]
            if not pending.future.done():
                pending.future.set_result(data)

    def _sweep(self) -> None:
        self._sweeper = None
        now = self.loop.time()
        expired = []
        for query_id, pending in self.pending.items():
            if pending.deadline > now:
                break
            expired.append((query_id, pending))
        for query_id, pending in expired:
            del self.pending[query_id]
            if not pending.future.done():
                pending.future.set_result(None)
        if self.pending and not self.closed:
            self._sweeper = self.loop.call_later(self.SWEEP_SECONDS, self._sweep)

    def close(self) -> None:
        """Stop reading, close the socket; queries still in flight end as timeouts."""
        if self.closed:
            return
        self.closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        self.loop.remove_reader(self.sock.fileno())
        self.sock.close()
        for pending in self.pending.values():
            if not pending.future.done():
                pending.future.set_result(None)
        self.pending.clear()


class Querier:
    """Asks DNS questions of a fixed set of resolvers, paced per resolver, and returns `Observation`s."""

    def __init__(self, resolvers: Iterable[tuple[str, int]], *, timeout: float = 2.0, rate_qps: float | None = 50.0,
                 max_in_flight: int = 64, per_resolver_qps: Mapping[tuple[str, int], float | None] | None = None,
                 payload: int = EDNS_PAYLOAD, clock: Clock | None = None) -> None:
        self._allowed: frozenset[Endpoint] = frozenset(endpoint(ip, port) for ip, port in resolvers)
        if not self._allowed:
            raise ValueError("a Querier needs at least one resolver to ask")
        overrides = {endpoint(ip, port): qps for (ip, port), qps in (per_resolver_qps or {}).items()}
        strays = set(overrides) - self._allowed
        if strays:
            raise ValueError(f"rate overrides for resolvers that are not configured: {sorted(strays)}")
        self.timeout = timeout
        self.payload = payload
        self.stats = QuerierStats()
        self.limiters: dict[Endpoint, ResolverLimiter] = {
            ep: ResolverLimiter(overrides.get(ep, rate_qps), max_in_flight=max_in_flight, clock=clock)
            for ep in self._allowed}
        self._channels: dict[Endpoint, _UdpChannel] = {}
        self._opening: dict[Endpoint, asyncio.Future[_UdpChannel]] = {}
        self._random = random.Random(os.urandom(16))  # unpredictable ids, without a system call per query

    @property
    def allowed(self) -> frozenset[Endpoint]:
        """The (ip, port) pairs this querier may send to."""
        return self._allowed

    def check_destination(self, ip: str, port: int) -> Endpoint:
        """Return the canonical endpoint, or raise DestinationNotAllowed if it is not a configured resolver."""
        if (ip, port) in self._allowed:  # already canonical and allowed: the common case, without parsing
            return ip, port
        try:
            target = endpoint(ip, port)
        except ValueError as exc:
            raise DestinationNotAllowed(f"refusing to send a DNS query to {ip!r} port {port}: {exc}") from None
        if target not in self._allowed:
            configured = ", ".join(f"{i}:{p}" for i, p in sorted(self._allowed))
            raise DestinationNotAllowed(f"refusing to send a DNS query to {target[0]} port {target[1]}: "
                                        f"it is not one of the configured resolvers ({configured})")
        return target

    async def __aenter__(self) -> Querier:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close every socket; queries still in flight end as timeouts."""
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()
        await asyncio.sleep(0)  # let the waiters of queries still in flight see their timeout

    async def query(self, ip: str, port: int, qname: str, qtype: str = "A") -> Observation:
        """Ask one question of one configured resolver (paced by its limiter) and return what happened."""
        target = self.check_destination(ip, port)
        name = _normalise(qname)
        rdtype = _rdtype(qtype)
        limiter = self.limiters[target]
        await limiter.acquire()
        observation: Observation | None = None
        try:
            observation = await self._ask_udp(target, name, rdtype)
            if observation.error is None and observation.answer_wire is not None and observation.answer_wire[2] & _TC:
                self.stats.truncated += 1
                await limiter.take_token()  # the TCP retry is a second query to this resolver
                observation = await self._ask_tcp(target, name, rdtype)
            return observation
        finally:
            limiter.release(timed_out=observation is not None and observation.error == "timeout")

    async def _channel(self, target: Endpoint) -> _UdpChannel:
        channel = self._channels.get(target)
        if channel is not None and not channel.closed:
            return channel
        self.check_destination(*target)
        channel = _UdpChannel(self, target, asyncio.get_running_loop())
        self._channels[target] = channel
        return channel

    def _new_id(self, channel: _UdpChannel) -> int:
        for _ in range(64):
            query_id = self._random.getrandbits(16)
            if query_id not in channel.pending:
                return query_id
        raise RuntimeError(f"no free DNS query id towards {channel.target}: {len(channel.pending)} queries in flight")

    async def _ask_udp(self, target: Endpoint, name: str, rdtype: int) -> Observation:
        rest, question_name, type_class = _template(name, rdtype, self.payload)
        channel = await self._channel(target)
        query_id = self._new_id(channel)
        loop = channel.loop
        future: asyncio.Future[bytes | None] = loop.create_future()
        pending = _Pending(future, question_name, type_class, loop.time() + self.timeout)
        sent_at = time.time()
        if channel.target not in self._allowed:  # the allow-list, once more, right before the packet leaves
            self.check_destination(*channel.target)
        try:
            channel.send(query_id, query_id.to_bytes(2, "big") + rest, pending)
        except OSError as exc:
            return self._failed(target, name, rdtype, sent_at, f"send failed: {exc}", "udp")
        self.stats.sent += 1
        try:
            data = await future
        finally:
            channel.forget(query_id, pending)  # when cancelled while waiting
        if data is None:
            self.stats.timeouts += 1
            return self._failed(target, name, rdtype, sent_at, "timeout", "udp")
        return self._observe(target, name, rdtype, sent_at, time.time(), data, "udp")

    async def _ask_tcp(self, target: Endpoint, name: str, rdtype: int) -> Observation:
        rest, question_name, type_class = _template(name, rdtype, self.payload)
        query_id = self._random.getrandbits(16)
        wire = query_id.to_bytes(2, "big") + rest
        sent_at = time.time()
        self.check_destination(*target)  # the allow-list, once more, right before connecting
        writer: asyncio.StreamWriter | None = None
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_connection(*target)
                writer.write(len(wire).to_bytes(2, "big") + wire)
                await writer.drain()
                self.stats.sent += 1
                while True:
                    length = int.from_bytes(await reader.readexactly(2), "big")
                    data = await reader.readexactly(length)
                    if data[:2] == wire[:2] and _matches(data, question_name, type_class):
                        break
                    self.stats.unmatched += 1
        except TimeoutError:
            self.stats.timeouts += 1
            return self._failed(target, name, rdtype, sent_at, "timeout", "tcp")
        except (OSError, asyncio.IncompleteReadError) as exc:
            return self._failed(target, name, rdtype, sent_at, f"tcp failed: {exc}", "tcp")
        finally:
            if writer is not None:
                writer.close()
        return self._observe(target, name, rdtype, sent_at, time.time(), data, "tcp")

    def _failed(self, target: Endpoint, name: str, rdtype: int, sent_at: float, error: str,
                transport: str) -> Observation:
        return Observation(target[0], target[1], name, _rdtype_text(rdtype),
                           datetime.fromtimestamp(sent_at, UTC), None, None, None, [], [], error, transport)

    def _observe(self, target: Endpoint, name: str, rdtype: int, sent_at: float, received_at: float, data: bytes,
                 transport: str) -> Observation:
        try:
            rcode, answers, ede = wire.parse(data)
        except wire.NotSimple:
            self.stats.dnspython_reads += 1
            try:
                rcode, answers, ede = wire.parse_with_dnspython(data)
            except dns.exception.DNSException as exc:
                # The header and question matched our query: keep the raw bytes as evidence, without a parse.
                self.stats.malformed += 1
                return Observation(target[0], target[1], name, _rdtype_text(rdtype),
                                   datetime.fromtimestamp(sent_at, UTC), datetime.fromtimestamp(received_at, UTC),
                                   None, data, [], [], f"malformed answer: {exc}", transport)
        self.stats.answered += 1
        return Observation(target[0], target[1], name, _rdtype_text(rdtype),
                           datetime.fromtimestamp(sent_at, UTC), datetime.fromtimestamp(received_at, UTC),
                           rcode, data, answers, ede, None, transport)
