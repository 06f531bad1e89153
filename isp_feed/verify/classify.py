"""Verdicts from what an ISP resolver and the control resolver answered (in the order OONI's method uses).

A and AAAA are judged together: a name counts as `blocked` when either answer is the agreed block answer and
neither is a real address; any real answer makes it `not_blocked`. The HTTPS (type 65) answer is asked too: an
HTTPS record whose address hints are not the stop page's hands browsers the real server despite a blocked A/AAAA, so
it makes the name `not_blocked` (an HTTPS question that fails changes nothing: A/AAAA decide then).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.svcbbase

from blocklist.i18n import N_
from isp_feed.verify.querier import Observation

# Each verdict's reason: stored in English (VerificationResult.reason, old rows alike), read back into the reader's
# language with i18n.recognise (DNS_REASONS). A failed query's reason ("A: SERVFAIL") is technical and stays as is.
STOP_PAGE = N_("the stop page (CNAME or its addresses)")
STOP_PAGE_NOT_NXDOMAIN = N_("the stop page, where the agreed answer is NXDOMAIN")
NXDOMAIN_AGREED = N_("NXDOMAIN, the ISP's agreed block answer, while the control resolves it")
NXDOMAIN_NOT_STOP_PAGE = N_("NXDOMAIN instead of the stop page, while the control resolves it")
DEAD_NXDOMAIN = N_("NXDOMAIN at the ISP and no address from the control either")
DEAD_EMPTY = N_("no address at the ISP nor at the control")
AS_CONTROL = N_("the same answer as the control (%(addresses)s)")
NON_ROUTABLE = N_("a non-routable answer (%(addresses)s)")
REAL_ANSWER = N_("a real answer (%(addresses)s)")
OTHER_CNAME = N_("a CNAME to %(names)s that is not the stop page")
EMPTY_ANSWER = N_("an empty answer while the control resolves it")
HTTPS_LEAK = N_("an HTTPS record with the address hints %(hints)s (browsers connect to those), although A/AAAA gave "
                "%(reason)s")
DISAGREE = N_("two observations disagree (%(first)s; %(second)s)")
NOT_ASKED = N_("not asked")
DNS_REASONS = (STOP_PAGE, STOP_PAGE_NOT_NXDOMAIN, NXDOMAIN_AGREED, NXDOMAIN_NOT_STOP_PAGE, DEAD_NXDOMAIN, DEAD_EMPTY,
               AS_CONTROL, NON_ROUTABLE, REAL_ANSWER, OTHER_CNAME, EMPTY_ANSWER, HTTPS_LEAK, DISAGREE, NOT_ASKED)
NESTED_REASONS = frozenset({"reason", "first", "second"})  # placeholders that hold another reason

VERDICTS = ("blocked", "blocked_other_way", "not_blocked", "domain_dead", "inconclusive")
FAILURES = ("SERVFAIL", "REFUSED")


@dataclass(frozen=True)
class StopPage:
    """What the agreed block answer looks like."""

    name: str
    ipv4: str
    ipv6: str | None = None


@dataclass(frozen=True)
class Verdict:
    """A verdict and the reason, in words."""

    value: str
    reason: str


def _addresses(obs: Observation) -> set[str]:
    return {rdata for _, rtype, _, rdata in obs.answers if rtype in ("A", "AAAA")}


def _cnames(obs: Observation) -> set[str]:
    return {rdata.rstrip(".").lower() for _, rtype, _, rdata in obs.answers if rtype == "CNAME"}


def _bogon(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    # Addresses that never reach a site: what resolvers that "block" without a stop page answer.
    return ip.is_unspecified or ip.is_loopback or ip.is_link_local or ip.is_multicast


def _hints(obs: Observation) -> set[str]:
    """The address hints (ipv4hint, ipv6hint) of the HTTPS/SVCB records in an answer."""
    found: set[str] = set()
    keys = (dns.rdtypes.svcbbase.ParamKey.IPV4HINT, dns.rdtypes.svcbbase.ParamKey.IPV6HINT)
    for _, rtype, _, text in obs.answers:
        if rtype not in ("HTTPS", "SVCB"):
            continue
        try:
            rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rtype), text)
        except dns.exception.DNSException:
            continue
        params = getattr(rdata, "params", {})
        found.update(str(address) for key in keys if key in params for address in params[key].addresses)
    return found


def _resolves(obs: Observation) -> bool:
    return obs.error is None and obs.rcode == "NOERROR" and bool(_addresses(obs))


def classify(isp: list[Observation], control: list[Observation], *, policy: str, stop: StopPage) -> Verdict:
    """Judge one name at one ISP resolver from its A/AAAA (and HTTPS) answers and the control's."""
    stop_addresses = {stop.ipv4, *([stop.ipv6] if stop.ipv6 else [])}
    https = [o for o in isp if o.qtype == "HTTPS" and o.error is None]
    leaked = set().union(*(_hints(o) for o in https)) - stop_addresses
    verdict = _by_addresses([o for o in isp if o.qtype != "HTTPS"], [o for o in control if o.qtype != "HTTPS"],
                            policy=policy, stop=stop)
    if leaked and verdict.value in ("blocked", "blocked_other_way"):
        return Verdict("not_blocked", str(HTTPS_LEAK.fill(hints=", ".join(sorted(leaked)), reason=verdict.reason)))
    return verdict


def _by_addresses(isp: list[Observation], control: list[Observation], *, policy: str, stop: StopPage) -> Verdict:
    if any(o.error is not None or o.rcode in FAILURES for o in isp):
        failed = next(o for o in isp if o.error is not None or o.rcode in FAILURES)
        return Verdict("inconclusive", f"{failed.qtype}: {failed.error or failed.rcode}")
    control_resolves = any(_resolves(o) for o in control)
    stop_addresses = {stop.ipv4, *( [stop.ipv6] if stop.ipv6 else [])}
    addresses = set().union(*(_addresses(o) for o in isp))
    cnames = set().union(*(_cnames(o) for o in isp))
    nxdomain = all(o.rcode == "NXDOMAIN" for o in isp)
    if nxdomain:
        if not control_resolves:
            return Verdict("domain_dead", str(DEAD_NXDOMAIN))
        if policy == "nxdomain":
            return Verdict("blocked", str(NXDOMAIN_AGREED))
        return Verdict("blocked_other_way", str(NXDOMAIN_NOT_STOP_PAGE))
    if stop.name.rstrip(".").lower() in cnames or (addresses and addresses <= stop_addresses):
        if policy == "nxdomain":
            return Verdict("blocked_other_way", str(STOP_PAGE_NOT_NXDOMAIN))
        return Verdict("blocked", str(STOP_PAGE))
    control_addresses = set().union(*(_addresses(o) for o in control))
    if addresses & control_addresses:
        return Verdict("not_blocked", str(AS_CONTROL.fill(addresses=", ".join(sorted(addresses)))))
    if addresses and all(_bogon(a) for a in addresses):
        return Verdict("blocked_other_way", str(NON_ROUTABLE.fill(addresses=", ".join(sorted(addresses)))))
    if addresses:
        return Verdict("not_blocked", str(REAL_ANSWER.fill(addresses=", ".join(sorted(addresses)))))
    if cnames:
        return Verdict("blocked_other_way", str(OTHER_CNAME.fill(names=", ".join(sorted(cnames)))))
    if not control_resolves:
        return Verdict("domain_dead", str(DEAD_EMPTY))
    return Verdict("blocked_other_way", str(EMPTY_ANSWER))
