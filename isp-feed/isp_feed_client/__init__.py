"""The reference ISP client `isp-feed` (its own distribution, isp-feed/) and the feed code the server shares with it:
formats, manifest, delta, splice, stored, signing, errors, canary. Imports nothing of the server."""

# The distribution's version, said once: isp-feed/pyproject.toml reads it from here. (Not asked of
# importlib.metadata: that import alone cost 50 ms of every `isp-feed pull` started by a timer.)
__version__ = "0.1.0"
