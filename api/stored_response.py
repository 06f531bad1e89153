"""Serving a stored format file (isp_feed_client/stored.py), whole or as pieces: a whole file through Starlette's
FileResponse (sendfile, ranges, HEAD); pieces as if they were one file: Content-Length, ETag, one byte range (206,
or 416 when it cannot be satisfied) and HEAD.

A request for several ranges at once gets the whole file (200), which HTTP allows (RFC 9110 §14.2). The pieces are
opened before the response starts, so a prune that deletes an older file meanwhile cannot cut a download short.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

from starlette.responses import FileResponse, Response, StreamingResponse

from isp_feed_client import stored

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_CHUNK = 1 << 20


_UNSATISFIABLE = (-1, -1)


def _wanted(range_header: str | None, if_range: str | None, etag: str, size: int) -> tuple[int, int] | None:
    """[start, end) asked for; None for the whole file; _UNSATISFIABLE for a range past its end."""
    if not range_header or (if_range is not None and if_range != etag):
        return None
    match = _RANGE.fullmatch(range_header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None  # several ranges, or not bytes: the whole file
    first, last = match.groups()
    if first == "":
        start, end = max(size - int(last), 0), size
    else:
        start, end = int(first), min(int(last) + 1, size) if last else size
    if start >= size or start >= end:
        return _UNSATISFIABLE
    return start, end


def stored_file_response(path: Path, *, method: str, range_header: str | None, if_range: str | None, etag: str,
                         media_type: str, headers: dict[str, str]) -> Response:
    """The response for the stored file at `path` (whole or as pieces)."""
    if path.exists():
        return FileResponse(path, media_type=media_type, headers=headers)
    stack = ExitStack()
    data = stack.enter_context(stored.open_stored(path))
    size = len(data)
    headers = {**headers, "Accept-Ranges": "bytes"}
    wanted = _wanted(range_header, if_range, etag, size)
    if wanted == _UNSATISFIABLE:
        stack.close()
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    status, (start, end) = (200, (0, size)) if wanted is None else (206, wanted)
    if status == 206:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    headers["Content-Length"] = str(end - start)

    def body() -> Iterator[bytes]:
        with stack:
            if method == "HEAD":
                return
            for _, fd, _, a, b in data.spans(start, end):
                while a < b:
                    chunk = os.pread(fd, min(_CHUNK, b - a), a)
                    if not chunk:
                        raise OSError("a stored piece ended early")
                    yield chunk
                    a += len(chunk)

    return StreamingResponse(body(), status_code=status, media_type=media_type, headers=headers)
