"""The reference ISP client `isp-feed`: needs only the feed format and signature modules, never the server."""
