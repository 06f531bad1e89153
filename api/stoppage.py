"""The stop page users see when they reach a blocked name (ISPs point blocked names at this server).

Served for ANY path when the request's Host is the configured stop-page host, a blocked name, or a name under
one blocked with its subdomains. In French, Dutch, German and English (Accept-Language, or ?lang=). It logs and
stores nothing about the visitor: no IP address, no user agent, no cookie; only a count per name per day.
Status 451 (Unavailable For Legal Reasons). It loads nothing from any other host.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from html import escape

import anyio
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Receive, Scope, Send

from api.models import StopPageHit
from api.runtime import Runtime
from blocklist.models import Submission
from blocklist.names import ancestors
from blocklist.schemas import LEGAL_BASIS_TITLES

LANGS = ("fr", "nl", "de", "en")
TEXT = {
    "fr": {"title": "Site bloqué", "lead": "Votre navigateur vous a conduit vers un site dont l'accès est bloqué en "
           "Belgique en raison de son contenu : du matériel d'abus sexuels d'enfants.",
           "basis": "Base légale", "appeal": "Si vous souhaitez exprimer votre désaccord, vous pouvez appeler le "
           "{phone} ou utiliser le formulaire de recours.", "form": "Formulaire de recours",
           "authority": "Parquet fédéral — Federal Computer Crime Unit"},
    "nl": {"title": "Site geblokkeerd", "lead": "Uw browser heeft u naar een site geleid waarvan de toegang in België "
           "geblokkeerd is wegens de inhoud ervan: materiaal van seksueel misbruik van kinderen.",
           "basis": "Rechtsgrond", "appeal": "Wenst u uw bezwaar te laten registreren, bel dan {phone} of gebruik "
           "het bezwaarformulier.", "form": "Bezwaarformulier",
           "authority": "Federaal Parket — Federal Computer Crime Unit"},
    "de": {"title": "Website gesperrt", "lead": "Ihr Browser hat Sie zu einer Website geführt, deren Zugang in "
           "Belgien wegen ihres Inhalts gesperrt ist: Darstellungen sexuellen Kindesmissbrauchs.",
           "basis": "Rechtsgrundlage", "appeal": "Wenn Sie Ihren Widerspruch einlegen möchten, rufen Sie {phone} an "
           "oder nutzen Sie das Widerspruchsformular.", "form": "Widerspruchsformular",
           "authority": "Föderale Staatsanwaltschaft — Federal Computer Crime Unit"},
    "en": {"title": "Site blocked", "lead": "Your browser has taken you to a site that is blocked in Belgium because "
           "of its content: child sexual abuse material.",
           "basis": "Legal basis", "appeal": "If you wish to register your disapproval, you may call {phone} or use "
           "the appeal form.", "form": "Appeal form",
           "authority": "Federal Prosecutor's Office — Federal Computer Crime Unit"},
}
BASES = {
    "fr": {"ecommerce_law": "Loi du 11 mars 2003 (services de la société de l'information)",
           "art39bis": "Article 39bis du Code d'instruction criminelle", "court_order": "Décision judiciaire"},
    "nl": {"ecommerce_law": "Wet van 11 maart 2003 (diensten van de informatiemaatschappij)",
           "art39bis": "Artikel 39bis van het Wetboek van strafvordering", "court_order": "Rechterlijke beslissing"},
    "de": {"ecommerce_law": "Gesetz vom 11. März 2003 (Dienste der Informationsgesellschaft)",
           "art39bis": "Artikel 39bis des Strafprozessgesetzbuches", "court_order": "Gerichtliche Entscheidung"},
    "en": LEGAL_BASIS_TITLES,
}
CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'"


def choose_language(query: str, accept_language: str) -> str:
    """?lang= first, then the first supported language of Accept-Language, else French."""
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key == "lang" and value in LANGS:
            return value
    for item in accept_language.split(","):
        code = item.split(";")[0].strip().lower()[:2]
        if code in LANGS:
            return code
    return "fr"


def render(lang: str, domain: str | None, basis: str | None, phone: str) -> bytes:
    """The page: inline style only, nothing loaded from anywhere."""
    t = TEXT[lang]
    switcher = " · ".join(f'<a href="?lang={code}" lang="{code}">{name}</a>' for code, name in
                          (("fr", "Français"), ("nl", "Nederlands"), ("de", "Deutsch"), ("en", "English")))
    basis_line = (f"<p><strong>{t['basis']}:</strong> {escape(BASES[lang][basis])}</p>" if basis else "")
    shown = f"<p class=name>{escape(domain)}</p>" if domain else ""
    return f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{t['title']}</title>
<style>body{{font-family:"DejaVu Sans",Arial,sans-serif;background:#f4f4f4;color:#111;margin:0}}
main{{max-width:40rem;margin:3rem auto;background:#fff;border-top:6px solid #b00;padding:1.5rem 2rem}}
h1{{color:#b00}} .name{{font-family:monospace;font-size:1.1rem}} nav{{margin-bottom:1rem;font-size:.9rem}}
footer{{color:#555;font-size:.85rem;margin-top:2rem}}</style></head>
<body><main><nav>{switcher}</nav><h1>{t['title']}</h1>{shown}<p>{t['lead']}</p>{basis_line}
<p>{t['appeal'].format(phone=escape(phone))}</p><p><a href="/appeal?lang={lang}">{t['form']}</a></p>
<footer>{t['authority']}</footer></main></body></html>""".encode()


class StopPageMiddleware:
    """Answers every request whose Host is listed (or the stop-page host) with the stop page."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode(errors="replace") for k, v in scope["headers"]}
        host = headers.get("host", "").rsplit(":", 1)[0].strip("[]").lower().rstrip(".")
        if not host or host == "localhost" or _is_ip(host) or "." not in host:
            await self.app(scope, receive, send)
            return
        stop_host = self.runtime.settings.stop_page_host.lower().rstrip(".")
        match = None if host == stop_host else await anyio.to_thread.run_sync(self._blocked, host)
        if host != stop_host and match is None:
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/appeal":
            await self.app(scope, receive, send)
            return
        lang = choose_language(scope.get("query_string", b"").decode(errors="replace"),
                               headers.get("accept-language", ""))
        domain, basis = match if match else (None, None)
        body = render(lang, domain, basis, self.runtime.settings.stop_page_phone)
        await send({"type": "http.response.start", "status": 451, "headers": [
            (b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode()),
            (b"content-security-policy", CSP.encode()), (b"cache-control", b"no-store"),
            (b"referrer-policy", b"no-referrer"), (b"content-language", lang.encode()),
        ]})
        await send({"type": "http.response.body", "body": body})

    def _blocked(self, host: str) -> tuple[str, str] | None:
        """The blocked name covering `host` and its legal basis (counting the hit), or None."""
        candidates = ancestors(host)
        with self.runtime.database.transaction() as session:
            rows = session.execute(
                select(Submission.domain, Submission.scope, Submission.legal_basis)
                .where(Submission.status == "approved", Submission.domain.in_(candidates))
            ).all()
            for domain, scope, basis in sorted(rows, key=lambda r: -len(r[0])):
                if domain == host or scope == "domain_and_subdomains":
                    _count(session, domain)
                    return domain, basis
        return None


def _count(session: object, domain: str) -> None:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    today = dt.datetime.now(dt.UTC).date()
    updated = session.execute(update(StopPageHit).where(StopPageHit.domain == domain, StopPageHit.day == today)
                              .values(count=StopPageHit.count + 1))
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        try:
            with session.begin_nested():
                session.add(StopPageHit(domain=domain, day=today, count=1))
        except IntegrityError:
            session.execute(update(StopPageHit).where(StopPageHit.domain == domain, StopPageHit.day == today)
                            .values(count=StopPageHit.count + 1))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def install(app: FastAPI, rt: Runtime) -> None:
    """Add the Host-based stop page in front of everything else."""
    app.add_middleware(StopPageMiddleware, runtime=rt)
