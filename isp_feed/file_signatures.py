"""Each format file's own minisign signature, added once its version is committed and served.

The manifest's signature covers every file's SHA-256 already, and that is what the client checks. A file's own
signature is for an ISP that checks a file by hand (`minisign -V`). Its BLAKE2b-512 prehash over every file (about
720 MB at 1,000,000 names) was half the cost of publishing a version, so it is computed after the commit:
`sign_pending` right after each publication (isp_feed.jobs.publish_feed) and in the hourly reconciliation, and
`signature_of` when a signature is asked for before then (the same bytes: Ed25519 signatures are deterministic).
A signature is derived data (the file and the key give it again), so adding one is not an audit event; a file that
does not read back as its recorded SHA-256 is never signed.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import select, update

from blocklist.db import Database
from blocklist.errors import NotFound
from isp_feed.keys import KeyStore
from isp_feed.models import FeedArtifact
from isp_feed.publish import trusted_comment
from isp_feed_client import stored

log = logging.getLogger(__name__)


def _sign(data_dir: Path, keys: KeyStore, serial: int, ext: str, sha256: str, path: str) -> str | None:
    """The signature of one stored file, or None when it cannot be read whole or is not the file recorded."""
    digests = stored.stored_digests(data_dir / path)
    if digests is None or digests[0] != sha256:
        return None
    return keys.sign_prehashed(digests[1], trusted_comment(serial, sha256, ext))


def signature_of(data_dir: Path, keys: KeyStore, artifact: FeedArtifact) -> str:
    """The file's signature: stored, or made now when its version was committed an instant ago."""
    if artifact.signature is not None:
        return artifact.signature
    made = None if artifact.path is None else _sign(data_dir, keys, artifact.serial, artifact.ext, artifact.sha256,
                                                    artifact.path)
    if made is None:
        raise NotFound(f"the {artifact.ext} file of feed version {artifact.serial} is not kept: no signature")
    return made


def sign_pending(database: Database, data_dir: Path, keys: KeyStore) -> int:
    """Sign every kept file that has no signature yet (two at a time: hashing releases the GIL); how many."""
    with database.reading() as session:
        pending = session.execute(select(FeedArtifact.serial, FeedArtifact.ext, FeedArtifact.sha256, FeedArtifact.path)
                                  .where(FeedArtifact.signature.is_(None), FeedArtifact.path.is_not(None))
                                  .order_by(FeedArtifact.serial, FeedArtifact.ext)).all()
    if not pending:
        return 0
    with ThreadPoolExecutor(max_workers=2) as pool:
        made = list(pool.map(lambda row: _sign(data_dir, keys, row[0], row[1], row[2], row[3]), pending))
    signed = 0
    with database.transaction() as session:
        for (serial, ext, _, _), signature in zip(pending, made, strict=True):
            if signature is None:
                log.warning("feed: the %s file of version %s does not read back as recorded: not signed", ext, serial)
                continue
            session.execute(update(FeedArtifact).where(FeedArtifact.serial == serial, FeedArtifact.ext == ext,
                                                       FeedArtifact.signature.is_(None)).values(signature=signature))
            signed += 1
    return signed
