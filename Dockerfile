# syntax=docker/dockerfile:1
# Revisit: the PWA is built with Node, the server runs on a slim Python image.
#
#   docker build -t revisit .
#   docker run -d --name revisit -p 8000:8000 -v revisit-data:/data revisit
#
# SQLite (default) lives in the /data volume. For PostgreSQL pass
#   -e DATABASE_URL=postgresql://user:pass@host:5432/revisit
# See docs/operations.md for several processes, backups and upgrades.

# --- stage 1: the PWA -------------------------------------------------------------------
FROM node:20-bookworm-slim AS pwa
# vite 8 / vite-plugin-pwa 2 want npm 11 (the image ships npm 10).
RUN npm install --global --no-audit --no-fund npm@11.19.1
WORKDIR /build/pwa
COPY pwa/package.json pwa/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY pwa/ ./
RUN npm run build

# --- stage 2: the server ----------------------------------------------------------------
FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# pg_dump/pg_restore for `revisit backup` / `revisit restore` against PostgreSQL.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 revisit \
    && useradd --system --uid 10001 --gid revisit --home-dir /app --shell /usr/sbin/nologin revisit

WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY server/ server/
COPY sync/ sync/
RUN pip install -c constraints.txt . && rm -rf /root/.cache
COPY --from=pwa /build/pwa/dist /app/pwa/dist

# REVISIT_DATA_DIR holds the SQLite file (revisit.db) and backups/.
# DATABASE_URL=postgresql://user:pass@host:5432/db switches to PostgreSQL.
# REVISIT_RUN_SCHEDULER=0 on every replica but one; REVISIT_SECRET_KEY is optional.
ENV REVISIT_DATA_DIR=/data \
    REVISIT_STATIC_DIR=/app/pwa/dist
RUN mkdir -p /data && chown revisit:revisit /data
VOLUME ["/data"]

USER revisit
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4); sys.exit(0 if r.status == 200 else 1)"]
CMD ["revisit", "serve", "--host", "0.0.0.0", "--port", "8000"]
