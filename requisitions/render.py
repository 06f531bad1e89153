"""Render a requisition: subject, text and HTML from the templates in the document's language, then PDF with
WeasyPrint. One template set for every language (the words are in the catalogs, blocklist/i18n.py): subject.txt,
document.txt and document.html, each taking its kind's words from <kind>.txt."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from blocklist import i18n
from blocklist.i18n import N_, Message
from blocklist.vocab import LANGUAGES
from requisitions.document import RequisitionDocument
from requisitions.errors import RenderError

TEMPLATES = Path(__file__).parent / "templates"
# The three parts of a document (HTML is autoescaped, by its name).
PARTS = ("subject.txt", "document.txt", "document.html")
AUTHORITY = N_("Federal Prosecutor's Office")
TITLES: dict[str, Message] = {
    "blocking": N_("Requisition to block access"), "lifting": N_("Requisition to lift a block"),
    "catch_up": N_("Catch-up requisition (list in force)"),
    "removal": N_("Notice of illegal content and request for removal"),
}
# A document's own wording of the scopes (the pages have theirs, blocklist/labels.py SCOPE).
SCOPES: dict[str, Message] = {
    "domain_and_subdomains": N_("the name and all its subdomains"), "exact": N_("this exact name only"),
}


@dataclass(frozen=True)
class RenderedRequisition:
    """What is sent and stored: subject, text body, HTML, the PDF and its SHA-256."""

    subject: str
    text: str
    html: str
    pdf: bytes
    sha256: str


def _refuse_remote(url: str, *args: Any, **kwargs: Any) -> Any:
    # A requisition is self-contained: WeasyPrint must never reach any host, listed or not, nor read local files.
    raise ValueError(f"requisition documents load no external resource (asked for {url!r})")


@lru_cache(maxsize=1)
def _fetcher() -> Any:
    """A WeasyPrint URL fetcher that refuses everything but inline data: URLs, and stops the rendering."""
    from weasyprint.urls import URLFetcher

    class LocalOnly(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:"):  # inline bytes: no host, no file
                return super().fetch(url, headers)
            return _refuse_remote(url)

    # fail_on_errors: a template that asks for a resource is broken; the order must fail, not print without it.
    return LocalOnly(timeout=1, allowed_protocols={"data"}, allow_redirects=False, fail_on_errors=True)


def _context(doc: RequisitionDocument) -> dict[str, Any]:
    lang = doc.language
    return {
        "doc": doc,
        "scopes": {scope: words.translate(lang) for scope, words in SCOPES.items()},
        "title": TITLES[doc.kind].translate(lang),
        "authority_title": AUTHORITY.translate(lang),
        "issued": i18n.date_time(doc.issued_at, lang),
        "issued_iso": doc.issued_at.isoformat(),
        "deadline": i18n.date_time(doc.deadline, lang),
    }


def render_texts(doc: RequisitionDocument, templates: Path = TEMPLATES) -> tuple[str, str, str]:
    """Subject, text body and HTML body in the document's language (templates: the folder of the templates)."""
    where = f"(kind {doc.kind}, language {doc.language}, reference {doc.reference})"
    if doc.language not in LANGUAGES or doc.kind not in TITLES:
        raise RenderError(f"no requisition template {doc.kind}/{doc.language} {where}: kinds are "
                          f"{', '.join(TITLES)}, languages {', '.join(LANGUAGES)}")
    try:
        context = _context(doc)
    except (KeyError, AttributeError, TypeError, ValueError, RuntimeError) as exc:
        raise RenderError(f"requisition {where} cannot be prepared for its templates: {exc}") from None
    # Cached per folder and language: parsing the templates once per process keeps the text part of rendering in
    # the milliseconds.
    env = i18n.environment(str(templates), doc.language)
    out: list[str] = []
    for name in PARTS:
        try:
            out.append(env.get_template(name).render(context))
        except jinja2.TemplateNotFound as exc:
            raise RenderError(f"no requisition template {exc.name} in {templates} {where}") from None
        except jinja2.TemplateSyntaxError as exc:
            raise RenderError(f"requisition template {exc.name or name} has a syntax error at line {exc.lineno} "
                              f"{where}: {exc.message}") from None
        except jinja2.TemplateError as exc:
            raise RenderError(f"requisition template {name} failed to render {where}: {exc}") from None
        except (KeyError, AttributeError, TypeError, ValueError) as exc:  # a filter or label given bad data
            raise RenderError(f"requisition template {name} failed to render {where}: "
                              f"{type(exc).__name__}: {exc}") from None
    subject, text, html = out
    return " ".join(subject.split()), text, html


def render(doc: RequisitionDocument, templates: Path = TEMPLATES) -> RenderedRequisition:
    """The full requisition, PDF included; raises RenderError naming the template on any failure."""
    from weasyprint import HTML  # imported late: loading Pango is slow and only rendering needs it
    from weasyprint.urls import FatalURLFetchingError

    subject, text, html = render_texts(doc, templates)
    try:
        # The PDF title is the reference (from <title>); the identifier makes identical documents byte-identical.
        pdf = HTML(string=html, url_fetcher=_fetcher()).write_pdf(
            pdf_identifier=doc.reference.encode(), custom_metadata=False)
    except FatalURLFetchingError as exc:  # a BaseException in WeasyPrint, so caught by name
        raise RenderError(f"requisition template document.html ({doc.kind}, {doc.language}) asks for an external "
                          f"resource ({exc}: {exc.__cause__}); requisitions must be self-contained") from None
    except Exception as exc:  # WeasyPrint raises many kinds; all mean this document failed
        raise RenderError(f"requisition {doc.reference} ({doc.kind}/{doc.language}) failed to print to PDF: "
                          f"{type(exc).__name__}: {exc}") from exc
    if not pdf:
        raise RenderError(f"requisition {doc.reference} ({doc.kind}/{doc.language}) produced no PDF")
    return RenderedRequisition(subject, text, html, pdf, hashlib.sha256(pdf).hexdigest())
