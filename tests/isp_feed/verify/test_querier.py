"""The querier's own socket handling, against small UDP stubs on loopback: timeouts, cancellation, forged answers."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import dns.message
import dns.rrset

from isp_feed.verify import wire
from isp_feed.verify.querier import Observation, Querier
from tests.support.resolvers import RPZ_ZONE, STOP_NAME, start_unbound


def _silent_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def _answer_to(query_wire: bytes, address: str = "192.0.2.7", *, query_id: int | None = None) -> bytes:
    query = dns.message.from_wire(query_wire)
    response = dns.message.make_response(query)
    response.answer.append(dns.rrset.from_text(query.question[0].name, 60, "IN", "A", address))
    if query_id is not None:
        response.id = query_id
    return response.to_wire()


def test_a_silent_resolver_gives_a_timeout_and_nothing_stays_in_flight() -> None:
    server = _silent_socket()
    port = server.getsockname()[1]

    async def go() -> None:
        async with Querier([("127.0.0.1", port)], rate_qps=None, timeout=0.2) as querier:
            observation = await querier.query("127.0.0.1", port, "quiet.test")
            assert observation.error == "timeout" and observation.rcode is None and observation.received_at is None
            assert querier.stats.timeouts == 1
            assert not querier._channels[("127.0.0.1", port)].pending

    try:
        asyncio.run(go())
    finally:
        server.close()


def test_a_cancelled_query_is_forgotten() -> None:
    server = _silent_socket()
    port = server.getsockname()[1]

    async def go() -> None:
        async with Querier([("127.0.0.1", port)], rate_qps=None, timeout=30) as querier:
            task = asyncio.create_task(querier.query("127.0.0.1", port, "quiet.test"))
            await asyncio.sleep(0.05)
            assert len(querier._channels[("127.0.0.1", port)].pending) == 1
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            assert not querier._channels[("127.0.0.1", port)].pending
            assert querier.limiters[("127.0.0.1", port)].in_flight == 0

    try:
        asyncio.run(go())
    finally:
        server.close()


def test_answers_from_elsewhere_or_with_another_id_are_not_taken() -> None:
    server = _silent_socket()
    forger = _silent_socket()
    port = server.getsockname()[1]

    async def go() -> None:
        loop = asyncio.get_running_loop()
        async with Querier([("127.0.0.1", port)], rate_qps=None, timeout=1.0) as querier:
            task = asyncio.create_task(querier.query("127.0.0.1", port, "target.test"))
            server.settimeout(2)
            query_wire, client = await loop.run_in_executor(None, server.recvfrom, 4096)
            # A forged answer from another port: the connected socket never even sees it.
            forger.sendto(_answer_to(query_wire, "192.0.2.66"), client)
            # From the resolver's address but with the wrong id: seen, and counted as unmatched.
            wrong_id = (int.from_bytes(query_wire[:2], "big") + 1) % 65536
            server.sendto(_answer_to(query_wire, "192.0.2.67", query_id=wrong_id), client)
            await asyncio.sleep(0.1)
            server.sendto(_answer_to(query_wire), client)
            observation = await task
            assert observation.error is None
            assert [a[3] for a in observation.answers] == ["192.0.2.7"]
            assert querier.stats.unmatched == 1

    try:
        asyncio.run(go())
    finally:
        server.close()
        forger.close()


def test_real_unbound_answers_are_read_without_dnspython_and_as_dnspython_reads_them(tmp_path: Path) -> None:
    rpz = tmp_path / "feed.rpz"
    rpz.write_text(f"$TTL 60\n@ IN SOA localhost. hostmaster.blocklist.invalid. 1 3600 600 604800 60\n"
                   f"@ IN NS localhost.\ncsam-gallery.test.{RPZ_ZONE}. IN CNAME {STOP_NAME}.\n"
                   f"second.test.{RPZ_ZONE}. IN CNAME .\n")
    questions = [("csam-gallery.test", "A"), ("csam-gallery.test", "AAAA"), ("second.test", "A"),
                 ("good.test", "A"), ("good.test", "AAAA"), ("gone.test", "A"), ("exact-only.test", "AAAA")]

    async def go(port: int) -> list[Observation]:
        async with Querier([("127.0.0.1", port)], rate_qps=None) as querier:
            found = [await querier.query("127.0.0.1", port, name, qtype) for name, qtype in questions]
            assert querier.stats.dnspython_reads == 0
            return found

    with start_unbound(tmp_path, rpz) as unbound:
        observations = asyncio.run(go(unbound.port))
    by_question = {(o.qname, o.qtype): o for o in observations}
    for o in observations:
        assert o.answer_wire is not None and (o.rcode, o.answers, o.ede) == wire.parse_with_dnspython(o.answer_wire)
    assert by_question[("csam-gallery.test", "A")].answers[0][1] == "CNAME"
    assert by_question[("csam-gallery.test", "A")].answers[0][3] == f"{STOP_NAME}."
    assert by_question[("second.test", "A")].rcode == "NXDOMAIN"
    assert by_question[("gone.test", "A")].rcode == "NXDOMAIN"
    assert by_question[("exact-only.test", "AAAA")].rcode == "NOERROR" and not by_question[
        ("exact-only.test", "AAAA")].answers
    assert [(owner, rtype, rdata) for owner, rtype, _ttl, rdata in by_question[("good.test", "AAAA")].answers] == [
        ("good.test.", "AAAA", "2001:db8::10")]
