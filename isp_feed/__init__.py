"""The signed ISP feed: versions, formats, signing, the publication gate, DNS verification, the client."""
