"""After a reload, ask the resolver itself whether it serves the new list: every resolver file carries a name unique
to its serial (isp_feed_client/canary.py), and only a resolver that loaded that very file answers it with the stop page.

A reload command's exit status proves nothing on its own (PowerDNS Recursor exits 0 and drops a policy it cannot
parse; `rndc reload` exits 0 with "reload queued"; a restarted daemon may come up without the list), so the client
acknowledges a serial only once this check passes. Queries go only to the resolvers the operator named (`--resolver`).
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass

from isp_feed_client.canary import canary_name

Endpoint = tuple[str, int]
_POLL_SECONDS = 0.1  # a reload (BIND's is queued) or a restart takes a moment before the new list is served


def parse_resolver(text: str) -> Endpoint:
    """`IP`, `IP:PORT` or `[IPv6]:PORT` (port 53 by default); ValueError with a readable reason otherwise."""
    host, port = text, "53"
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":") or "53"
    elif text.count(":") == 1:
        host, port = text.split(":")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{text!r} is not IP[:PORT] (a resolver is given by its address, never a name)") from None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r}: the port must be a number between 1 and 65535")
    return address.compressed, int(port)


@dataclass(frozen=True)
class StopPage:
    """What a blocked name is answered with: a CNAME to `name`, or the address `ipv4`."""

    name: str
    ipv4: str


def answer_of(resolver: Endpoint, qname: str, stop: StopPage, timeout: float = 1.0) -> str | None:
    """None when `resolver` answers `qname` with the stop page; otherwise what it answered, in words."""
    # dnspython only when a resolver is asked: a pull without --resolver does not pay for importing it.
    import dns.exception
    import dns.message
    import dns.query
    import dns.rcode
    import dns.rdatatype

    ip, port = resolver
    try:
        response, _ = dns.query.udp_with_fallback(dns.message.make_query(qname, "A"), ip, port=port, timeout=timeout)
    except (dns.exception.DNSException, OSError) as exc:
        return f"no answer ({type(exc).__name__})"
    targets = {rd.target.to_text(omit_final_dot=True).lower() for rrset in response.answer
               if rrset.rdtype == dns.rdatatype.CNAME for rd in rrset}
    found = {rd.to_text() for rrset in response.answer if rrset.rdtype == dns.rdatatype.A for rd in rrset}
    if stop.name.rstrip(".").lower() in targets or found == {stop.ipv4}:
        return None
    shown = ", ".join(sorted(targets | found)) or "no address"
    return f"{dns.rcode.to_text(response.rcode())} ({shown})"


def serves(resolvers: list[Endpoint], serial: int, stop: StopPage, *, wait: float) -> str | None:
    """Poll every resolver for the canary of content serial `serial` for up to `wait` seconds; None when each answers
    it with the stop page, else which does not and what it answered."""
    name = canary_name(serial, stop.name)
    deadline = time.monotonic() + wait
    pending = list(resolvers)
    last: dict[Endpoint, str] = {}
    while True:
        for resolver in list(pending):
            said = answer_of(resolver, name, stop)
            if said is None:
                pending.remove(resolver)
            else:
                last[resolver] = said
        if not pending:
            return None
        if time.monotonic() >= deadline:
            return "; ".join(f"{ip}:{port} answered {name} with {last[(ip, port)]}, not the stop page"
                             for ip, port in pending)
        time.sleep(_POLL_SECONDS)
