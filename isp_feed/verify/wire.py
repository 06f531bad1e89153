"""A fast reader for the DNS answers the verifier sees most: A, AAAA and CNAME records, EDE options.

dnspython builds a full object model for every message, which costs more than the rest of a query together.
This reader walks the wire format once and returns exactly what dnspython would give for the common case
(answers grouped into RRsets in order of first appearance, duplicates dropped, the smallest TTL, names and
addresses in dnspython's presentation format). Anything it does not handle exactly (another record type or
class in the answer section, an unusual character in a name, a format error) raises `NotSimple`, and the
caller falls back to dnspython, which is the reference.
"""

from __future__ import annotations

import socket
from functools import lru_cache

import dns.message
import dns.rcode
import dns.rdatatype

Answer = tuple[str, str, int, str]  # (owner name, type, TTL, rdata in presentation format)

_A, _NS, _CNAME, _SOA, _AAAA, _OPT = 1, 2, 5, 6, 28, 41
_EDE = 15
_TYPE_TEXT = {_A: "A", _CNAME: "CNAME", _AAAA: "AAAA"}
# Bytes dnspython prints as they are in a label; anything else it escapes, and we leave that to it.
_PLAIN = bytes(b for b in range(0x21, 0x7F) if chr(b) not in '"().;\\@$')
_MAX_POINTERS = 16  # dnspython's MAX_COMPRESSION_POINTER_CHAIN


class NotSimple(ValueError):
    """The message needs dnspython: an unusual record, name or format."""


@lru_cache(maxsize=64)
def rcode_text(value: int) -> str:
    """dnspython's name for an rcode value ("NOERROR", "NXDOMAIN"...)."""
    return dns.rcode.to_text(dns.rcode.Rcode.make(value))


def _name(data: bytes, offset: int) -> tuple[str, int]:
    """The name at offset in presentation format (absolute, final dot) and the offset just after it."""
    labels: list[str] = []
    end = -1
    jumps = 0
    # As dnspython: each pointer goes strictly backwards, before the part of the name read so far.
    segment_start = offset
    bound = len(data)
    while True:
        if offset >= bound:
            raise NotSimple("name runs past the end")
        size = data[offset]
        if size == 0:
            offset += 1
            break
        if size >= 0xC0:
            if offset + 1 >= bound:
                raise NotSimple("pointer runs past the end")
            if end < 0:
                end = offset + 2
            target = ((size & 0x3F) << 8) | data[offset + 1]
            jumps += 1
            if target >= segment_start or jumps > _MAX_POINTERS:
                raise NotSimple("forward or looping compression pointer")
            bound = segment_start
            segment_start = offset = target
            continue
        if size > 63:
            raise NotSimple("unknown label type")
        if offset + 1 + size > bound:
            raise NotSimple("label runs past the end")
        label = data[offset + 1:offset + 1 + size]
        if label.translate(None, _PLAIN):
            raise NotSimple("label needs escaping")
        labels.append(label.decode("ascii"))
        offset += 1 + size
    if end < 0:
        end = offset
    if not labels:
        return ".", end
    text = ".".join(labels) + "."
    if len(text) > 254:
        raise NotSimple("name too long")
    return text, end


def _record_header(data: bytes, offset: int) -> tuple[str, int, int, int, int, int]:
    """(owner, type, class, ttl, rdata start, rdata end) of the record at offset."""
    owner, offset = _name(data, offset)
    if offset + 10 > len(data):
        raise NotSimple("record header runs past the end")
    rtype = (data[offset] << 8) | data[offset + 1]
    rclass = (data[offset + 2] << 8) | data[offset + 3]
    ttl = int.from_bytes(data[offset + 4:offset + 8], "big")
    start = offset + 10
    end = start + ((data[offset + 8] << 8) | data[offset + 9])
    if end > len(data):
        raise NotSimple("record runs past the end")
    return owner, rtype, rclass, ttl, start, end


def _check_other(data: bytes, rtype: int, rclass: int, start: int, end: int) -> None:
    """Check an authority or additional record as dnspython would read it, or leave it to dnspython."""
    if rclass != 1:
        raise NotSimple("record of another class")
    if (rtype == _A and end - start == 4) or (rtype == _AAAA and end - start == 16):
        return
    if rtype == _NS:
        if _name(data, start)[1] != end:
            raise NotSimple("bad NS length")
        return
    if rtype == _SOA:
        _, after = _name(data, start)
        _, after = _name(data, after)
        if after + 20 != end:
            raise NotSimple("bad SOA length")
        return
    raise NotSimple("record dnspython should read")


def parse(data: bytes) -> tuple[str, list[Answer], list[tuple[int, str]]]:
    """(rcode, answers, EDE options) of a response whose single question the caller already matched."""
    if len(data) < 12:
        raise NotSimple("shorter than a header")
    qdcount = (data[4] << 8) | data[5]
    ancount = (data[6] << 8) | data[7]
    nscount = (data[8] << 8) | data[9]
    arcount = (data[10] << 8) | data[11]
    if qdcount != 1:
        raise NotSimple("not exactly one question")
    offset = _name(data, 12)[1] + 4
    if offset > len(data):
        raise NotSimple("question runs past the end")
    # RRsets in order of first appearance: key -> [owner text, type text, ttl, rdata texts in order]
    rrsets: dict[tuple[str, int], list] = {}  # type: ignore[type-arg]
    for _ in range(ancount):
        owner, rtype, rclass, ttl, start, offset = _record_header(data, offset)
        if rclass != 1 or rtype not in _TYPE_TEXT or ttl > 0x7FFFFFFF:
            raise NotSimple("record dnspython should read")
        if rtype == _A:
            if offset - start != 4:
                raise NotSimple("bad A length")
            rdata = socket.inet_ntop(socket.AF_INET, data[start:offset])
        elif rtype == _AAAA:
            if offset - start != 16:
                raise NotSimple("bad AAAA length")
            rdata = socket.inet_ntop(socket.AF_INET6, data[start:offset])
        else:
            rdata, used = _name(data, start)
            if used != offset:
                raise NotSimple("bad CNAME length")
        key = (owner.lower(), rtype)
        rrset = rrsets.get(key)
        if rrset is None:
            rrsets[key] = [owner, _TYPE_TEXT[rtype], ttl, [rdata]]
        elif rtype == _CNAME:
            raise NotSimple("two CNAMEs for one owner: dnspython keeps the last")
        else:
            if rdata not in rrset[3]:
                rrset[3].append(rdata)
            if ttl < rrset[2]:
                rrset[2] = ttl
    for _ in range(nscount):
        _, rtype, rclass, _ttl, start, offset = _record_header(data, offset)
        _check_other(data, rtype, rclass, start, offset)
    extended_rcode = 0
    ede: list[tuple[int, str]] = []
    opt_seen = False
    for _ in range(arcount):
        owner, rtype, rclass, ttl, start, offset = _record_header(data, offset)
        if rtype == _OPT:
            if opt_seen or owner != "." or (ttl >> 16) & 0xFF != 0:
                raise NotSimple("a second OPT record, or one dnspython should read")
            opt_seen = True
            extended_rcode = ttl >> 24
            ede = _ede_options(data, start, offset)
        else:
            _check_other(data, rtype, rclass, start, offset)
    if offset != len(data):
        raise NotSimple("trailing bytes")
    rcode = ((extended_rcode << 4) | (data[3] & 0x0F))
    answers = [(owner, rtype_text, ttl, rdata)
               for owner, rtype_text, ttl, rdatas in rrsets.values() for rdata in rdatas]
    return rcode_text(rcode), answers, ede


def _ede_options(data: bytes, offset: int, end: int) -> list[tuple[int, str]]:
    """The Extended DNS Errors (RFC 8914) of an OPT record's options; any other option goes to dnspython."""
    found: list[tuple[int, str]] = []
    while offset < end:
        if offset + 4 > end:
            raise NotSimple("option header runs past the end")
        code = (data[offset] << 8) | data[offset + 1]
        size = (data[offset + 2] << 8) | data[offset + 3]
        value = data[offset + 4:offset + 4 + size]
        offset += 4 + size
        if offset > end:
            raise NotSimple("option runs past the end")
        if code != _EDE or size < 2:
            raise NotSimple("an EDNS option dnspython should read")
        text = value[2:]
        if text and text[-1] == 0:  # the text MAY be null-terminated
            text = text[:-1]
        try:
            found.append(((value[0] << 8) | value[1], text.decode("utf8")))
        except UnicodeDecodeError:
            raise NotSimple("EDE text is not UTF-8") from None
    return found


def parse_with_dnspython(data: bytes) -> tuple[str, list[Answer], list[tuple[int, str]]]:
    """The reference reading of the same message (raises dns.exception.DNSException when it is malformed)."""
    message = dns.message.from_wire(data)
    answers = [(rrset.name.to_text(), dns.rdatatype.to_text(rrset.rdtype), rrset.ttl, rdata.to_text())
               for rrset in message.answer for rdata in rrset]
    ede = [(int(option.code), option.text or "") for option in message.extended_errors()]
    return dns.rcode.to_text(message.rcode()), answers, ede
