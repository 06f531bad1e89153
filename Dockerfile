# Server image: Debian's Python with the libraries WeasyPrint needs. The ISP client needs none of this.
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core minisign \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY blocklist blocklist
COPY requisitions requisitions
COPY isp_feed isp_feed
COPY api api
RUN pip install --no-cache-dir . && useradd --system --home /var/lib/blocklist blocklist \
 && mkdir -p /var/lib/blocklist && chown blocklist /var/lib/blocklist
USER blocklist
ENV BLOCKLIST_DATA_DIR=/var/lib/blocklist
EXPOSE 8000
CMD ["blocklist", "serve", "--host", "0.0.0.0", "--port", "8000"]
