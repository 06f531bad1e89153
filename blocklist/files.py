"""Writing files that hold secrets (signing keys, the session key): readable by their owner only, whole or absent.

Not for the ISP client (`isp_feed_client` imports nothing of `blocklist`), which writes no secret.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

SECRET_MODE = 0o600


def write_secret_file(path: Path, data: bytes, *, exclusive: bool = True) -> None:
    """Write `data` to `path` with mode 0600 from its first byte, atomically: a reader sees the old file or the
    whole new one, never a part, and a failure leaves nothing behind.

    The bytes go to a temp file in the same directory (created 0600 and O_EXCL by mkstemp; the mode is set again
    whatever the umask), are flushed to disk, then the file takes its name. `exclusive` (the default) refuses to
    replace an existing file (FileExistsError), even one that appears meanwhile: the name is linked, not renamed,
    into place. The parent directory is created if missing.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), SECRET_MODE)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            _link_new(tmp, path)
        else:
            tmp.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()  # after a link, or after a failure: the secret has one name, or none
    sync_directory(path.parent)


def _link_new(tmp: Path, path: Path) -> None:
    """Give `tmp` the name `path` only if nothing has it (a hard link never replaces a file)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise FileExistsError(f"{path} exists already: a secret file is never overwritten") from None
    except OSError:  # a file system without hard links: check, then rename (a race is possible there only)
        if path.exists():
            raise FileExistsError(f"{path} exists already: a secret file is never overwritten") from None
        tmp.replace(path)


def sync_directory(folder: Path) -> None:
    """Make the new name itself durable (a crash right after must not lose the file)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a directory
    finally:
        os.close(fd)
