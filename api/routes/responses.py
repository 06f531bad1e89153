"""Every answer the JSON API and the feed can give besides the success itself, declared once for the OpenAPI schema.

Errors are JSON `{"error", "reason", "field"?}` (api/errors.py builds them). `COMMON` is declared on the routers
(api/routes/__init__.py, api/routes/feed.py): every route checks a credential (401) and what it may do (403),
parses its input (422, which also answers an Idempotency-Key that is too long or reused for another request) and
may find the database busy (503). A route adds what else it can answer: `errors(404)` when it names an object,
`write(...)` on every POST, and the feed's files their headers, media types and 304.
"""

from __future__ import annotations

from typing import Any

from api.schemas import ErrorOut
from isp_feed_client import formats

Responses = dict[int | str, dict[str, Any]]

_DESCRIPTIONS = {
    400: "The body is not JSON text (not UTF-8, or not parseable)",
    401: "No valid credential: send `Authorization: Bearer <token>`",
    403: "The caller's role, or its relation to the object (four eyes: never your own), does not allow this",
    404: "The object named does not exist, or is not the caller's to see",
    409: "The action clashes with the object's state (already decided, pending or blocked already, a duplicate), "
         "or a parallel request with the same Idempotency-Key was answered first; nothing was written",
    422: "Invalid input: `reason` says why, `field` (or `problems`) names the field; also an Idempotency-Key "
         "longer than 200 characters or already used for another request",
    502: "The mail server refused the message or could not be reached; nothing was written",
    503: "The database is busy or unavailable; nothing was written, retry after `Retry-After` seconds",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}},
    503: {"Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}},
}
# Documented in words rather than as a header parameter: a key is good only once per request, which a schema cannot
# say, so a schema-driven client (schemathesis) would send the same generated key with other requests and be refused.
IDEMPOTENT = ("Done. With an `Idempotency-Key` header (at most 200 characters; a caller with a credential), a retry "
              "with the same key and the same request gets this answer again, marked `idempotent-replayed: true`, "
              "and nothing is done twice; the same key with another request is refused (422)")
REPLAYED = {"idempotent-replayed": {
    "description": "`true` when this is the stored answer to an earlier request with the same Idempotency-Key "
                   "(nothing was done again)",
    "schema": {"type": "string", "enum": ["true"]}}}


def errors(*statuses: int) -> Responses:
    """The error answers `statuses`, each a JSON ErrorOut."""
    return {status: {"model": ErrorOut, "description": _DESCRIPTIONS[status],
                     **({"headers": _HEADERS[status]} if status in _HEADERS else {})} for status in statuses}


COMMON = errors(401, 403, 422, 503)


def write(success: int, *also: int, body: bool = True) -> Responses:
    """A POST: it accepts an Idempotency-Key (a replay gets the stored `success` answer, marked as replayed), may
    meet a conflict (409), and with a JSON body (`body`) may get text that is not JSON (400); `also`: its other
    errors (404 when it names an object)."""
    return {success: {"description": IDEMPOTENT, "headers": REPLAYED},
            **errors(*((400,) if body else ()), 409, *also)}


_FEED_HEADERS = {
    "ETag": {"description": "The SHA-256 of the body, quoted: send it back in If-None-Match",
             "required": True, "schema": {"type": "string"}},
    "X-Feed-Serial": {"description": "The serial of the version served", "required": True,
                      "schema": {"type": "integer"}},
    "Cache-Control": {"description": "`immutable` for /versions/, `no-cache` for latest", "required": True,
                      "schema": {"type": "string"}},
}
FEED_FILE: Responses = {
    200: {"description": "The version in the format asked for, or its minisign signature (`.minisig`, text)",
          "headers": _FEED_HEADERS,
          "content": {media.split(";")[0]: {"schema": {"type": "object" if media == "application/json" else "string"}}
                      for media in (*formats.MEDIA_TYPES.values(), "text/plain")}},
    304: {"description": "Not modified: the If-None-Match ETag is the current one", "headers": _FEED_HEADERS},
    **errors(404),
}

PDF: Responses = {
    200: {"description": "The PDF exactly as sent (its SHA-256 is in the audit chain)",
          "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
          "headers": {"X-Content-SHA256": {"description": "SHA-256 of the PDF", "required": True,
                                           "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
                      "Content-Disposition": {"required": True, "schema": {"type": "string"}}}},
    **errors(404),
}
