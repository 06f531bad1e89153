"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, optionally with STARTTLS and login.

    with smtp_server(tls=make_pki(tmp_path), login=LOGIN) as server:
        ...  # send to 127.0.0.1:server.port
    server.inbox.messages  # what it accepted, parsed; .raw holds the bytes as received

Certificates are made here with `cryptography` for 127.0.0.1 (a test CA and a server certificate it signed, or
one self-signed certificate); nothing leaves loopback.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.ports import free_port

LOGIN = ("relay", "s3cret-pass")  # the one account the test server accepts when login is on


@dataclass
class Inbox:
    """The server's handler: keeps what it accepts, and answers RCPT and DATA as told (change the replies to test
    refusals: "450 ..." greylisting, "550 ..." no such mailbox)."""

    rcpt_reply: str = "250 OK"
    data_reply: str = "250 2.0.0 Ok: queued as TEST123"
    messages: list[EmailMessage] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    sessions: list[Any] = field(default_factory=list)  # aiosmtpd sessions: .ssl, .authenticated

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.rcpt_reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return self.rcpt_reply

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply.startswith("250"):
            content = bytes(envelope.content)
            self.raw.append(content)
            self.messages.append(email.message_from_bytes(content, policy=email.policy.default))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.sessions.append(session)
        return self.data_reply


@dataclass(frozen=True)
class SmtpServer:
    """A running test server."""

    host: str
    port: int
    inbox: Inbox


@dataclass(frozen=True)
class Pki:
    """The files of a test certificate: the one to trust (`ca_file`), the server's certificate and key."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_pki(folder: Path, *, self_signed: bool = False) -> Pki:
    """A certificate for 127.0.0.1 written into `folder`: signed by a test CA (ca.pem), or self-signed (then the
    file to trust is the certificate itself)."""
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    issuer_key = key if self_signed else ec.generate_private_key(ec.SECP256R1())
    issuer_name = _name("127.0.0.1" if self_signed else "Blocklist test CA")
    builder = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(issuer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
               .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                              critical=False)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                              critical=False))
    cert = builder.sign(issuer_key, hashes.SHA256())
    pki = Pki(folder / ("server.pem" if self_signed else "ca.pem"), folder / "server.pem", folder / "server.key")
    pki.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    if not self_signed:
        ca = (x509.CertificateBuilder().subject_name(issuer_name).issuer_name(issuer_name)
              .public_key(issuer_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
              .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                           content_commitment=False, key_encipherment=False, data_encipherment=False,
                                           key_agreement=False, encipher_only=False, decipher_only=False),
                             critical=True)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(issuer_key.public_key()), critical=False)
              .sign(issuer_key, hashes.SHA256()))
        pki.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return pki


def _authenticator(login: tuple[str, str]) -> Any:
    expected = (login[0].encode(), login[1].encode())

    def check(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == expected
        return AuthResult(success=ok, handled=False)

    return check


@contextmanager
def smtp_server(*, port: int | None = None, tls: Pki | None = None, login: tuple[str, str] | None = None,
                inbox: Inbox | None = None) -> Iterator[SmtpServer]:
    """Run an aiosmtpd server on 127.0.0.1 (`port`, or a free one) until the block ends.

    tls: offer STARTTLS with that certificate and refuse anything before it. login: require AUTH with that
    username and password before MAIL (offered over TLS only when tls is given, in clear otherwise).
    """
    handler = inbox or Inbox()
    options: dict[str, Any] = {}
    if tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls.cert_file, tls.key_file)
        options.update(tls_context=context, require_starttls=True)
    if login is not None:
        options.update(authenticator=_authenticator(login), auth_required=True, auth_require_tls=tls is not None)
    server = SmtpServer("127.0.0.1", port or free_port(), handler)
    controller = Controller(handler, hostname=server.host, port=server.port, **options)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
