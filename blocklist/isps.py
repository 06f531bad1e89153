"""The ISP registry: every Belgian access provider, its contact, language, resolvers and feed credential."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from blocklist import audit
from blocklist.errors import Conflict, InvalidInput, NameRefused, NotFound, Unauthenticated
from blocklist.files import write_secret_file
from blocklist.models import Isp, IspResolver, IspSecondary, User, utcnow
from blocklist.names import normalize, public_suffix_lists
from blocklist.roles import actor_label
from blocklist.text import clean_text, is_id, parse_id
from blocklist.tokens import new_token, token_hash, token_prefix
from blocklist.vocab import ISP_POLICIES, LANGUAGES

_LOCAL_PART = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$")


@dataclass(frozen=True)
class ResolverAddress:
    """An ISP resolver to verify: IP address and port."""

    address: str
    port: int = 53


def parse_resolver(text: str, *, what: str = "resolver", field: str = "resolvers") -> ResolverAddress:
    """Parse `IP`, `IP:PORT`, `IPv6` or `[IPv6]:PORT`; names are refused (we query addresses we are given)."""
    raw = text.strip()
    host, port = raw, "53"
    if raw.startswith("["):
        host, _, rest = raw[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else "53"
    elif raw.count(":") == 1:
        host, port = raw.split(":")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise InvalidInput(f"{what} {text!r} is not an IP address (give IP or IP:PORT)", field=field) from None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidInput(f"{what} {text!r} has an invalid port", field=field)
    return ResolverAddress(str(address), int(port))


def validate_email(email: str) -> str:
    """A syntactically valid address whose domain is a proper host name; else InvalidInput."""
    value = email.strip()
    local, sep, domain = value.rpartition("@")
    if not sep or not _LOCAL_PART.match(local):
        raise InvalidInput(f"{email!r} is not a valid e-mail address", field="email")
    try:
        host = normalize(domain).a_label
    except NameRefused as exc:
        raise InvalidInput(f"{email!r} is not a valid e-mail address: its domain {exc.reason}", field="email") from None
    if "." not in host:
        raise InvalidInput(f"{email!r} is not a valid e-mail address: no domain", field="email")
    return f"{local}@{host}"


def add_isp(
    session: Session,
    *,
    actor: User | str,
    name: str,
    email: str,
    language: str,
    resolvers: Sequence[str] = (),
    policy: str = "stoppage",
    operator_id: str = "",
) -> tuple[Isp, str]:
    """Register an ISP; returns it and its feed credential (shown once)."""
    name = clean_text(name, field="name", max_length=100)
    operator_id = clean_text(operator_id, field="operator_id", max_length=100)
    if not name or len(name) > 100:
        raise InvalidInput("an ISP needs a name of 1-100 characters", field="name")
    if language not in LANGUAGES:
        raise InvalidInput(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}", field="language")
    if policy not in ISP_POLICIES:
        raise InvalidInput(f"policy must be one of {', '.join(ISP_POLICIES)}, not {policy!r}", field="policy")
    address = validate_email(email)
    parsed = [parse_resolver(r) for r in resolvers]
    if session.execute(select(Isp.id).where(Isp.name == name)).first():
        raise Conflict(f"an ISP named {name!r} already exists", field="name")
    token = new_token("isp")
    isp = Isp(
        name=name, operator_id=operator_id, email=address, language=language, policy=policy, active=True,
        feed_token_hash=token_hash(token), feed_token_prefix=token_prefix(token), created_at=utcnow(),
    )
    session.add(isp)
    session.flush()
    for r in parsed:
        session.add(IspResolver(isp_id=isp.id, address=r.address, port=r.port))
    session.flush()
    audit.record(
        session, actor=actor_label(actor), action="isp.created", object_type="isp", object_id=isp.id,
        details={"name": name, "email": address, "language": language, "policy": policy,
                 "operator_id": operator_id, "resolvers": [f"{r.address}:{r.port}" for r in parsed]},
    )
    session.refresh(isp)
    return isp, token


def set_active(session: Session, *, actor: User | str, isp: Isp, active: bool) -> Isp:
    """Activate or deactivate an ISP (kept for history; an inactive ISP gets no new requisitions)."""
    isp.active = active
    session.flush()
    audit.record(session, actor=actor_label(actor), action="isp.enabled" if active else "isp.disabled",
                 object_type="isp", object_id=isp.id, details={"name": isp.name})
    return isp


def rotate_credential(session: Session, *, actor: User | str, isp: Isp) -> str:
    """Replace the ISP's feed credential; the old one stops working at once."""
    token = new_token("isp")
    isp.feed_token_hash = token_hash(token)
    isp.feed_token_prefix = token_prefix(token)
    session.flush()
    audit.record(session, actor=actor_label(actor), action="isp.credential_rotated", object_type="isp",
                 object_id=isp.id, details={"prefix": token_prefix(token)})
    return token


def tsig_key_name(isp: Isp) -> str:
    """The name of the ISP's TSIG key, as both ends configure it and the primary's transfer log shows it."""
    return f"isp-{isp.id}"


def _tsig_file(folder: Path, isp: Isp, fingerprint: str) -> Path:
    return folder / f"{tsig_key_name(isp)}-{fingerprint[:16]}.key"


def new_tsig_key(session: Session, *, actor: User | str, isp: Isp, folder: Path) -> str:
    """Give the ISP a new TSIG key (HMAC-SHA256) for zone transfers; returns its secret (base64), shown once.

    The secret goes to a new file under `folder` (the data dir's `keys/tsig/`, mode 0600, never overwritten) before
    the row names it by fingerprint: a failed transaction leaves an unused file, never a row without its secret.
    The previous key stops working when the primary's configuration is next written (the sync job does it)."""
    secret = base64.b64encode(secrets.token_bytes(32)).decode()
    fingerprint = hashlib.sha256(secret.encode()).hexdigest()
    write_secret_file(_tsig_file(folder, isp, fingerprint), secret.encode() + b"\n")
    rotated = isp.tsig_fingerprint is not None
    isp.tsig_fingerprint, isp.tsig_created_at = fingerprint, utcnow()
    session.flush()
    audit.record(session, actor=actor_label(actor), action="isp.tsig_rotated" if rotated else "isp.tsig_created",
                 object_type="isp", object_id=isp.id,
                 details={"key": tsig_key_name(isp), "algorithm": "hmac-sha256", "fingerprint": fingerprint[:16]})
    return secret


def tsig_secret(isp: Isp, folder: Path) -> str | None:
    """The ISP's current TSIG secret (None: it has none, or its file is missing from the data dir)."""
    if isp.tsig_fingerprint is None:
        return None
    path = _tsig_file(folder, isp, isp.tsig_fingerprint)
    return path.read_text().strip() if path.is_file() else None


def set_secondaries(session: Session, *, actor: User | str, isp: Isp, signed: Sequence[str] = (),
                    unsigned: Sequence[str] = ()) -> list[IspSecondary]:
    """Replace the ISP's secondaries (IP[:PORT] each): `signed` ones transfer with the ISP's TSIG key, `unsigned`
    ones (Unbound 1.17 cannot sign) are allowed by their address alone. The old rows are marked removed."""
    def parse(text: str) -> ResolverAddress:
        return parse_resolver(text, what="secondary", field="secondaries")

    parsed = [(parse(text), True) for text in signed] + [(parse(text), False) for text in unsigned]
    if len({(r.address, r.port) for r, _ in parsed}) != len(parsed):
        raise InvalidInput("a secondary is given twice", field="secondaries")
    now = utcnow()
    for old in session.execute(select(IspSecondary).where(IspSecondary.isp_id == isp.id,
                                                          IspSecondary.removed_at.is_(None))).scalars():
        old.removed_at = now
    rows = [IspSecondary(isp_id=isp.id, address=r.address, port=r.port, tsig=tsig, added_at=now) for r, tsig in parsed]
    session.add_all(rows)
    session.flush()
    session.expire(isp, ["secondaries"])
    audit.record(session, actor=actor_label(actor), action="isp.secondaries_set", object_type="isp", object_id=isp.id,
                 details={"signed": [f"{r.address}:{r.port}" for r, t in parsed if t],
                          "unsigned": [f"{r.address}:{r.port}" for r, t in parsed if not t]})
    return rows


def isp_by_token(session: Session, token: str) -> Isp:
    """The ISP holding this feed credential (active or not: the caller decides), or Unauthenticated."""
    # One statement: the resolvers and secondaries load only if the caller asks (every feed request comes here, and
    # their eager loads were two more queries in each).
    query = select(Isp).where(Isp.feed_token_hash == token_hash(token)).options(lazyload(Isp.resolvers),
                                                                                lazyload(Isp.secondaries))
    isp = session.execute(query).scalar_one_or_none()
    if isp is None:
        raise Unauthenticated("invalid ISP credential")
    return isp


def get_isp(session: Session, name_or_id: str | int) -> Isp:
    """The ISP by id or name, or NotFound."""
    if isinstance(name_or_id, int) or is_id(name_or_id):
        query = select(Isp).where(Isp.id == parse_id(name_or_id, field="isp"))
    else:  # a name: no control character can be in one (add_isp refuses them), nor reach the database
        query = select(Isp).where(Isp.name == clean_text(name_or_id, field="isp", max_length=1000))
    isp = session.execute(query).scalar_one_or_none()
    if isp is None:
        raise NotFound(f"no ISP {name_or_id!r}")
    return isp


def list_isps(session: Session, *, active_only: bool = False) -> list[Isp]:
    """Every ISP (or only the active ones), by name."""
    query = select(Isp).order_by(Isp.name)
    if active_only:
        query = query.where(Isp.active.is_(True))
    return list(session.execute(query).scalars())


def isp_own_domains(session: Session) -> list[str]:
    """The registrable domains of the ISPs' contact addresses: protected from blocking."""
    psl = public_suffix_lists()[0]
    domains = set()
    for (email,) in session.execute(select(Isp.email)):
        registrable = psl.privatesuffix(email.rpartition("@")[2])
        if registrable:
            domains.add(registrable)
    return sorted(domains)
