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
from typing import cast

import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

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
    __slots__ = ("future", "question_name", "timer", "type_class")

    def __init__(self, future: asyncio.Future[bytes | None], question_name: bytes, type_class: bytes) -> None:
        self.future = future
        self.question_name = question_name
        self.type_class = type_class
        self.timer: asyncio.TimerHandle | None = None


class _UdpChannel(asyncio.DatagramProtocol):
    """One connected UDP socket to one resolver; many queries in flight on it, told apart by id and question."""

    def __init__(self, querier: Querier, target: Endpoint) -> None:
        self.querier = querier
        self.target = target
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[int, _Pending] = {}
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio's selector datagram transport is not a registered DatagramTransport subclass: no isinstance.
        self.transport = cast(asyncio.DatagramTransport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Room for bursts of answers when the rate limit is off (benchmarks).
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        stats = self.querier.stats
        if len(data) < 12:
            stats.malformed += 1
            return
        pending = self.pending.get((data[0] << 8) | data[1])
        if pending is None or not _matches(data, pending.question_name, pending.type_class):
            stats.unmatched += 1
            return
        del self.pending[(data[0] << 8) | data[1]]
        if pending.timer is not None:
            pending.timer.cancel()
        if not pending.future.done():
            pending.future.set_result(data)

    def error_received(self, exc: Exception) -> None:
        # An ICMP error (e.g. port unreachable) cannot be tied to one query: those queries simply time out.
        self.querier.stats.icmp_errors += 1
        log.debug("ICMP error from %s:%s: %s", *self.target, exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        for pending in self.pending.values():
            if pending.timer is not None:
                pending.timer.cancel()
            if not pending.future.done():
                pending.future.set_result(None)
        self.pending.clear()

    def expire(self, query_id: int, pending: _Pending) -> None:
        if self.pending.get(query_id) is pending:
            del self.pending[query_id]
            if not pending.future.done():
                pending.future.set_result(None)


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
            if channel.transport is not None:
                channel.transport.close()
        self._channels.clear()
        await asyncio.sleep(0)  # let connection_lost run

    async def query(self, ip: str, port: int, qname: str, qtype: str = "A") -> Observation:
        """Ask one question of one configured resolver (paced by its limiter) and return what happened."""
        target = self.check_destination(ip, port)
        name = dns.name.from_text(qname).to_text(omit_final_dot=True).lower()
        rdtype = dns.rdatatype.from_text(qtype) if isinstance(qtype, str) else dns.rdatatype.RdataType.make(qtype)
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
        opening = self._opening.get(target)
        if opening is not None:
            return await asyncio.shield(opening)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_UdpChannel] = loop.create_future()
        self._opening[target] = future
        try:
            self.check_destination(*target)
            family = socket.AF_INET6 if ":" in target[0] else socket.AF_INET
            transport, protocol = await loop.create_datagram_endpoint(lambda: _UdpChannel(self, target),
                                                                      remote_addr=target, family=family)
            # connection_made runs on a later loop iteration: the socket is usable now.
            protocol.transport = transport
            self._channels[target] = protocol
            future.set_result(protocol)
            return protocol
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters (if any) re-raise it themselves
            raise
        finally:
            del self._opening[target]

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
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bytes | None] = loop.create_future()
        pending = _Pending(future, question_name, type_class)
        sent_at = time.time()
        try:
            self.check_destination(*channel.target)  # the allow-list, once more, right before the packet leaves
            assert channel.transport is not None
            channel.pending[query_id] = pending
            channel.transport.sendto(query_id.to_bytes(2, "big") + rest)
        except DestinationNotAllowed:
            channel.pending.pop(query_id, None)
            raise
        except OSError as exc:
            channel.pending.pop(query_id, None)
            return self._failed(target, name, rdtype, sent_at, f"send failed: {exc}", "udp")
        self.stats.sent += 1
        pending.timer = loop.call_later(self.timeout, channel.expire, query_id, pending)
        try:
            data = await future
        finally:
            if channel.pending.get(query_id) is pending:  # cancelled while waiting
                del channel.pending[query_id]
                if pending.timer is not None:
                    pending.timer.cancel()
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
        return Observation(target[0], target[1], name, dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rdtype)),
                           datetime.fromtimestamp(sent_at, UTC), None, None, None, [], [], error, transport)

    def _observe(self, target: Endpoint, name: str, rdtype: int, sent_at: float, received_at: float, data: bytes,
                 transport: str) -> Observation:
        try:
            message = dns.message.from_wire(data)
        except dns.exception.DNSException as exc:
            # The header and question matched our query: keep the raw bytes as evidence, without a parse.
            self.stats.malformed += 1
            return Observation(target[0], target[1], name, dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rdtype)),
                               datetime.fromtimestamp(sent_at, UTC), datetime.fromtimestamp(received_at, UTC),
                               None, data, [], [], f"malformed answer: {exc}", transport)
        self.stats.answered += 1
        answers = [(rrset.name.to_text(), dns.rdatatype.to_text(rrset.rdtype), rrset.ttl, rdata.to_text())
                   for rrset in message.answer for rdata in rrset]
        ede = [(int(option.code), option.text or "") for option in message.extended_errors()]
        return Observation(target[0], target[1], name, dns.rdatatype.to_text(dns.rdatatype.RdataType.make(rdtype)),
                           datetime.fromtimestamp(sent_at, UTC), datetime.fromtimestamp(received_at, UTC),
                           dns.rcode.to_text(message.rcode()), data, answers, ede, None, transport)
