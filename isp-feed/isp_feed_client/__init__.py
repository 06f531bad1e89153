"""The reference ISP client `isp-feed` (its own distribution, isp-feed/) and the feed code the server shares with it:
formats, manifest, delta, splice, stored, signing, errors, canary. Imports nothing of the server."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("be-blocklist-isp-feed")  # pyproject.toml says it once
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "unknown"
