# The server's image: `blocklist serve` on port 8000, its data directory a volume at /var/lib/blocklist.
#   docker build -t be-blocklist .        PostgreSQL beside it: compose.yaml        The manual: docs/operations/install.md
# No Docker engine runs in CI: tests/test_image.py lints this file with hadolint and runs its commands (the install
# below, then CMD) in a fresh virtualenv.

# Build: the application and its dependencies into one virtualenv, copied whole into the runtime image, which then
# holds no source tree, pip cache or build tools.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY blocklist blocklist
COPY requisitions requisitions
COPY isp_feed isp_feed
COPY api api
COPY isp-feed isp-feed
# The translations are compiled (.po -> .mo, Babel) before the package is installed, which then ships them.
# The server depends on isp-feed (the client's distribution, with the feed code both share): installed from its folder
# in the same pip command, never from an index.
RUN python -m venv /opt/blocklist \
 && /opt/blocklist/bin/pip install --no-cache-dir "babel>=2.16" \
 && /opt/blocklist/bin/pybabel compile --directory blocklist/locale --domain messages \
 && /opt/blocklist/bin/pip install --no-cache-dir ./isp-feed .

FROM python:3.11-slim-bookworm
# WeasyPrint's libraries and a font (the requisition PDFs), and pg_dump/pg_restore for `blocklist backup` on
# PostgreSQL (bookworm's client is version 15: compose.yaml runs PostgreSQL 15). Debian's versions are not pinned:
# a point release replaces them on the mirrors, and a pinned version would stop the image from building at all.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core postgresql-client \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 blocklist \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/blocklist --shell /usr/sbin/nologin blocklist \
 && mkdir -p /var/lib/blocklist \
 && chown 10001:10001 /var/lib/blocklist
COPY --from=build /opt/blocklist /opt/blocklist
ENV PATH=/opt/blocklist/bin:$PATH \
    BLOCKLIST_DATA_DIR=/var/lib/blocklist \
    PYTHONUNBUFFERED=1
WORKDIR /var/lib/blocklist
# Keys, session secret, checkpoints, feed files and (without DATABASE_URL) the SQLite database: back it up with
# `blocklist backup`, never lose it (the signing key is what every ISP pinned).
VOLUME ["/var/lib/blocklist"]
# By number: an orchestrator can then check it is not root without reading /etc/passwd.
USER 10001:10001
EXPOSE 8000
# /healthz answers as long as the process does; /readyz (database, schema, key, scheduler) is for the load balancer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# `serve` migrates the schema before it listens, so a new image upgrades the database at its first start.
CMD ["blocklist", "serve", "--host", "0.0.0.0", "--port", "8000"]
