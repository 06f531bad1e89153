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


@dataclass(frozen=True)
class RenderedRequisition:
    """What is sent and stored: subject, text body, HTML, the PDF and its SHA-256."""

    subject: str
    text: str
    html: str
    pdf: bytes
    sha256: str


@lru_cache(maxsize=2)
def _environment(autoescape: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
        autoescape=autoescape, keep_trailing_newline=False, trim_blocks=False,
    )


def _refuse_remote(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    # A requisition is self-contained: WeasyPrint must never reach any host, listed or not.
    raise ValueError(f"requisition documents load no external resource (asked for {url!r})")


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
        "deadline": i18n.date_time(doc.deadline, lang),
        "format_date": lambda value: i18n.long_date(value, lang),
    }


def render_texts(doc: RequisitionDocument) -> tuple[str, str, str]:
    """Subject, text body and HTML body in the document's language."""
    folder = f"{doc.kind}/{doc.language}"
    if doc.language not in i18n.LABELS or doc.kind not in i18n.TITLES:
        raise RenderError(f"no requisition template {folder} (kind {doc.kind}, language {doc.language})")
    context = _context(doc)
    try:
        subject = _environment(False).get_template(f"{folder}/subject.txt").render(context).strip()
        text = _environment(False).get_template(f"{folder}/body.txt").render(context)
        html = _environment(True).get_template(f"{folder}/body.html").render(context)
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"no requisition template {exc.name} (kind {doc.kind}, language {doc.language})") from None
    except jinja2.TemplateError as exc:
        raise RenderError(f"requisition template {folder} failed to render: {exc}") from None
    return " ".join(subject.split()), text, html


def render(doc: RequisitionDocument) -> RenderedRequisition:
    """The full requisition, PDF included; raises RenderError naming the template on any failure."""
    from weasyprint import HTML  # imported late: loading Pango is slow and only rendering needs it

    subject, text, html = render_texts(doc)
    try:
        pdf = HTML(string=html, url_fetcher=_refuse_remote).write_pdf(
            pdf_identifier=doc.reference.encode(), custom_metadata=False)
    except Exception as exc:  # WeasyPrint raises many kinds; all mean this document failed
        raise RenderError(f"requisition {doc.reference} ({doc.kind}/{doc.language}) failed to print: {exc}") from exc
    if pdf is None:
        raise RenderError(f"requisition {doc.reference} produced no PDF")
    return RenderedRequisition(subject, text, html, pdf, hashlib.sha256(pdf).hexdigest())
