"""Domain names: normalisation (IDNA 2008 + UTS-46) and the safeguards against overblocking.

Rules, and why:
- names only: an IP literal (v4, v6, or a numeric form a browser would read as IPv4) is refused, since
  blocking by address took down ~250,000 sites in Australia in 2013;
- a bare TLD or any public suffix (Public Suffix List, shipped offline) is refused: it is not one site;
- a protected name protects itself AND every name under it (`www.google.com` is a subdomain of the
  protected `google.com`, so it is refused too: blocking it would still hit the platform); a name that is an
  ancestor of a protected name is refused when its scope covers subdomains; a magistrate's written override
  for that exact name lifts the refusal;
- names under shared-hosting or platform suffixes, and labels mixing scripts (homographs), are flagged
  for the magistrate, not refused.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import idna
from publicsuffixlist import PublicSuffixList

from blocklist.errors import NameRefused
from blocklist.i18n import N_, Message

SCOPES = ("domain_and_subdomains", "exact")
MAX_NAME = 253
MAX_LABEL = 63
_LDH = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_DOTS = re.compile("[\u002e\u3002\uff0e\uff61]")
_NUMERIC = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")


@dataclass(frozen=True)
class Name:
    """A normalised name: what was typed, the host taken from it, its A-label and U-label."""

    typed: str
    a_label: str
    u_label: str


@dataclass(frozen=True)
class CheckedName:
    """A name that may be listed, with the warnings a magistrate must see."""

    name: Name
    flags: tuple[str, ...] = ()
    override_for: str | None = None


@dataclass(frozen=True)
class NameVerdict:
    """What `blocklist name check` prints for one input: accepted (with flags) or refused (with reason)."""

    typed: str
    accepted: bool
    a_label: str | None
    u_label: str | None
    flags: tuple[str, ...] = ()
    reason: str | None = None
    code: str | None = None


def _refuse(typed: str, reason: Message, code: str) -> NameRefused:
    return NameRefused(typed, reason, code=code)


def _host_part(typed: str, raw: str) -> str:
    """The host from a bare name, `host:port`, `host/path` or a URL."""
    if "://" in raw or raw.startswith("//"):
        try:
            parts = urlsplit(raw if "://" in raw else "http:" + raw)
            host = parts.hostname
            _ = parts.port  # a malformed port is a malformed URL
        except ValueError as exc:
            raise _refuse(typed, N_("not a valid URL (%(detail)s)", detail=str(exc)), "bad_url") from None
        if not host:
            raise _refuse(typed, N_("the URL has no host name"), "bad_url")
        if parts.netloc.rstrip("]").split("@")[-1].startswith("["):
            raise _refuse(typed, N_("an IP address literal: block names, never addresses"), "ip_literal")
        return host
    host = re.split(r"[/?#]", raw, maxsplit=1)[0]
    if host.startswith("["):
        raise _refuse(typed, N_("an IP address literal: block names, never addresses"), "ip_literal")
    if host.count(":") > 1:
        _reject_ip(typed, host)
        raise _refuse(typed, N_("contains characters not allowed in a host name (':')"), "bad_characters")
    if ":" in host:
        host, port = host.split(":", 1)
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise _refuse(typed, N_("%(port)s is not a port number", port=repr(port)), "bad_characters")
    return host


def _reject_ip(typed: str, host: str) -> None:
    candidate = host.strip("[]").rstrip(".")
    try:
        ipaddress.ip_address(candidate.split("%")[0])
    except ValueError:
        pass
    else:
        raise _refuse(typed, N_("an IP address literal: block names, never addresses"), "ip_literal")
    labels = candidate.lower().split(".")
    if labels and _NUMERIC.match(labels[-1]):
        raise _refuse(
            typed, N_("a numeric final label reads as an IP address in browsers: block names only"), "ip_literal"
        )


def normalize(typed: str) -> Name:
    """Turn what an operator typed into a Name, or raise NameRefused saying why it is not a host name."""
    if not isinstance(typed, str):
        raise _refuse(repr(typed), N_("not text"), "empty")
    raw = typed.strip()
    if not raw:
        raise _refuse(typed, N_("empty"), "empty")
    if len(raw) > 2048:
        raise _refuse(typed[:40] + "...", N_("far too long to be a host name"), "too_long")
    if any(ch.isspace() for ch in raw):
        raise _refuse(typed, N_("contains white space"), "bad_characters")
    host = _host_part(typed, raw)
    _reject_ip(typed, host)
    host = _DOTS.sub(".", host)
    if host.endswith("."):
        host = host[:-1]
    if not host:
        raise _refuse(typed, N_("empty"), "empty")
    if host.startswith(".") or ".." in host:
        raise _refuse(typed, N_("has an empty label ('..' or a leading dot)"), "empty_label")
    if "@" in host:
        raise _refuse(typed, N_("contains '@': give the host name alone"), "bad_characters")
    try:
        a_label = idna.encode(host, uts46=True, std3_rules=True, transitional=False).decode("ascii")
    except idna.IDNAError as exc:
        reason = str(exc)
        if "too long" in reason.lower():
            raise _refuse(typed, N_("too long (%(detail)s)", detail=reason), "too_long") from None
        raise _refuse(typed, N_("not a valid host name (%(detail)s)", detail=reason), "bad_characters") from None
    except (UnicodeError, ValueError) as exc:
        raise _refuse(typed, N_("not a valid host name (%(detail)s)", detail=str(exc)), "bad_characters") from None
    a_label = a_label.lower().rstrip(".")
    _reject_ip(typed, a_label)
    if len(a_label) > MAX_NAME:
        raise _refuse(typed, N_("too long: %(length)s characters, at most %(limit)s",
                                length=len(a_label), limit=MAX_NAME), "too_long")
    for label in a_label.split("."):
        if len(label) > MAX_LABEL:
            raise _refuse(typed, N_("label %(label)s... is longer than %(limit)s characters",
                                    label=repr(label[:20]), limit=MAX_LABEL), "too_long")
        if not _LDH.match(label):
            raise _refuse(typed, N_("label %(label)s has characters not allowed in a host name",
                                    label=repr(label)), "bad_characters")
    try:
        u_label = idna.decode(a_label)
        canonical = idna.encode(u_label, uts46=True, transitional=False).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError, ValueError) as exc:
        raise _refuse(typed, N_("invalid internationalised label (%(detail)s)",
                                detail=str(exc)), "bad_characters") from None
    if canonical != a_label:
        raise _refuse(typed, N_("A-label is not in canonical form (expected %(canonical)s)",
                                canonical=canonical), "bad_characters")
    return Name(typed=typed, a_label=a_label, u_label=u_label)


def ancestors(a_label: str) -> list[str]:
    """The name and every parent of it, nearest first: a.b.c -> [a.b.c, b.c, c]."""
    labels = a_label.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def _scripts(label: str) -> set[str]:
    scripts = set()
    for ch in label:
        if ch.isascii() and not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        if not name or name.startswith(("DIGIT", "HYPHEN", "COMBINING")):
            continue
        scripts.add(name.split(" ")[0])
    return scripts


def _load_list(filename: str) -> list[str]:
    text = (Path(__file__).parent / "data" / filename).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def public_suffix_lists() -> tuple[PublicSuffixList, PublicSuffixList]:
    """The full Public Suffix List and its ICANN section, parsed once from the copy shipped offline."""
    return PublicSuffixList(), PublicSuffixList(only_icann=True)


@dataclass
class NamePolicy:
    """The protected names and platform suffixes the checks apply (shipped lists plus configuration)."""

    protected: frozenset[str]
    platforms: frozenset[str]
    _protected_ancestors: dict[str, list[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, extra_protected: Iterable[str] = (), extra_platforms: Iterable[str] = ()) -> NamePolicy:
        """The shipped lists plus the given extra names (each normalised; unusable entries are skipped)."""
        protected = {normalize(n).a_label for n in [*_load_list("protected.txt"), *extra_protected] if n}
        platforms = {normalize(n).a_label for n in [*_load_list("platforms.txt"), *extra_platforms] if n}
        policy = cls(frozenset(protected), frozenset(platforms))
        for entry in protected:
            for parent in ancestors(entry)[1:]:
                policy._protected_ancestors.setdefault(parent, []).append(entry)
        return policy

    def protected_match(self, a_label: str, scope: str) -> str | None:
        """The protected name this name is, is under, or (with subdomains in scope) covers; else None."""
        for candidate in ancestors(a_label):
            if candidate in self.protected:
                return candidate
        if scope == "domain_and_subdomains":
            covered = self._protected_ancestors.get(a_label)
            if covered:
                return sorted(covered)[0]
        return None

    def check(
        self, typed: str, *, scope: str = "domain_and_subdomains", overrides: Iterable[str] = ()
    ) -> CheckedName:
        """Normalise and apply every safeguard; raise NameRefused or return the name with its flags."""
        if scope not in SCOPES:
            raise _refuse(typed, N_("unknown scope %(scope)s (use one of %(choices)s)",
                                    scope=repr(scope), choices=", ".join(SCOPES)), "bad_scope")
        name = normalize(typed)
        a_label = name.a_label
        if "." not in a_label:
            raise _refuse(typed, N_("%(name)s is a bare top-level domain, not a site", name=repr(a_label)), "tld")
        psl, icann = public_suffix_lists()
        if psl.is_public(a_label):
            raise _refuse(typed, N_("%(name)s is a public suffix: many unrelated sites live under it",
                                    name=repr(a_label)) if icann.is_public(a_label) else
                          N_("%(name)s is a platform suffix (Public Suffix List): many unrelated sites live under it",
                             name=repr(a_label)), "public_suffix")
        flags: list[str] = []
        override_for = None
        match = self.protected_match(a_label, scope)
        if match is not None:
            if a_label not in set(overrides):
                values = {"name": a_label, "protected": match}
                raise _refuse(typed, N_("protected: %(name)s is the protected name %(protected)s; only a magistrate's "
                                        "written override can allow it", **values) if match == a_label else
                              N_("protected: %(name)s is under the protected name %(protected)s; only a magistrate's "
                                 "written override can allow it", **values) if a_label.endswith("." + match) else
                              N_("protected: %(name)s with its subdomains would cover the protected name "
                                 "%(protected)s; only a magistrate's written override can allow it", **values),
                              "protected")
            flags.append("protected_override")
            override_for = match
        if psl.publicsuffix(a_label) != icann.publicsuffix(a_label) or any(
            parent in self.platforms for parent in ancestors(a_label)[1:]
        ):
            flags.append("platform_host")
        if any(len(_scripts(label)) > 1 for label in name.u_label.split(".")):
            flags.append("homograph")
        if name.u_label != a_label:
            flags.append("idn")
        return CheckedName(name=name, flags=tuple(flags), override_for=override_for)

    def verdict(self, typed: str, *, scope: str = "domain_and_subdomains") -> NameVerdict:
        """Check without raising: the form `blocklist name check` prints."""
        try:
            checked = self.check(typed, scope=scope)
        except NameRefused as exc:
            try:
                name: Name | None = normalize(typed)
            except NameRefused:
                name = None
            return NameVerdict(
                typed, False, name.a_label if name else None, name.u_label if name else None,
                reason=exc.reason, code=exc.code,
            )
        return NameVerdict(typed, True, checked.name.a_label, checked.name.u_label, checked.flags)
