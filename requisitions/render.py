"""Render a requisition: subject, text and HTML from its template folder, then PDF with WeasyPrint."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from requisitions import i18n
from requisitions.document import RequisitionDocument
from requisitions.errors import RenderError

TEMPLATES = Path(__file__).parent / "templates"
# The three files of a template folder, and whether each is HTML (autoescaped).
PARTS = (("subject.txt", False), ("body.txt", False), ("body.html", True))


@dataclass(frozen=True)
class RenderedRequisition:
    """What is sent and stored: subject, text body, HTML, the PDF and its SHA-256."""

    subject: str
    text: str
    html: str
    pdf: bytes
    sha256: str


@lru_cache(maxsize=8)
def _environment(folder: str, autoescape: bool) -> jinja2.Environment:
    # Cached: parsing the templates once per process keeps the text part of rendering in the milliseconds.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder), undefined=jinja2.StrictUndefined,
        autoescape=autoescape, keep_trailing_newline=False, trim_blocks=False,
    )


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
        "L": i18n.LABELS[lang],
        "bases": i18n.LEGAL_BASES[lang],
        "scopes": i18n.SCOPES[lang],
        "title": i18n.TITLES[doc.kind][lang],
        "authority_title": i18n.AUTHORITY[lang],
        "issued": i18n.date_time(doc.issued_at, lang),
        "issued_iso": doc.issued_at.isoformat(),
        "deadline": i18n.date_time(doc.deadline, lang),
        "format_date": lambda value: i18n.long_date(value, lang),
    }


def render_texts(doc: RequisitionDocument, templates: Path = TEMPLATES) -> tuple[str, str, str]:
    """Subject, text body and HTML body in the document's language (templates: a folder of kind/language)."""
    folder = f"{doc.kind}/{doc.language}"
    where = f"(kind {doc.kind}, language {doc.language}, reference {doc.reference})"
    if doc.language not in i18n.LABELS or doc.kind not in i18n.TITLES:
        raise RenderError(f"no requisition template {folder} {where}: kinds are {', '.join(i18n.TITLES)}, "
                          f"languages {', '.join(i18n.LABELS)}")
    try:
        context = _context(doc)
    except (KeyError, AttributeError, TypeError, ValueError, RuntimeError) as exc:
        raise RenderError(f"requisition {where} cannot be prepared for its templates: {exc}") from None
    out: list[str] = []
    for part, autoescape in PARTS:
        name = f"{folder}/{part}"
        try:
            out.append(_environment(str(templates), autoescape).get_template(name).render(context))
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
        raise RenderError(f"requisition template {doc.kind}/{doc.language}/body.html asks for an external resource "
                          f"({exc}: {exc.__cause__}); requisitions must be self-contained") from None
    except Exception as exc:  # WeasyPrint raises many kinds; all mean this document failed
        raise RenderError(f"requisition {doc.reference} ({doc.kind}/{doc.language}) failed to print to PDF: "
                          f"{type(exc).__name__}: {exc}") from exc
    if not pdf:
        raise RenderError(f"requisition {doc.reference} ({doc.kind}/{doc.language}) produced no PDF")
    return RenderedRequisition(subject, text, html, pdf, hashlib.sha256(pdf).hexdigest())
