# 智慧党建平台 image: the `dangjian` binary and the built web app, on Debian 12 slim.
#   docker build -t dangjian .        (or: docker-compose build)
# Plain Dockerfile syntax on purpose: builds with or without BuildKit.

# ---- backend -------------------------------------------------------------------------------
FROM rust:1-bookworm AS backend
WORKDIR /src
# Download dependencies in their own layer, so editing the source does not download them again.
# (A new workspace member needs its Cargo.toml copied here too.)
COPY Cargo.toml Cargo.lock ./
COPY backend/Cargo.toml backend/Cargo.toml
RUN mkdir -p backend/src \
 && echo 'fn main() {}' > backend/src/main.rs \
 && touch backend/src/lib.rs \
 && cargo fetch --locked
COPY . .
RUN cargo build --release --locked --bin dangjian \
 && install -m 0755 target/release/dangjian /usr/local/bin/dangjian

# ---- frontend: frontend/dist, served by the binary -------------------------------------------
FROM node:20-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
COPY openapi/ /src/openapi/
RUN npm run build

# ---- runtime -------------------------------------------------------------------------------
FROM debian:bookworm-slim
# curl: container health check on /readyz. fonts-noto-cjk: the CJK font the ledger's PDF embeds
# (a subset) from /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc; never fetched at run time.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/dangjian --shell /usr/sbin/nologin dangjian \
 && install -d -o dangjian -g dangjian -m 0750 /var/lib/dangjian
COPY --from=backend /usr/local/bin/dangjian /usr/local/bin/dangjian
COPY --from=frontend /src/frontend/dist /app/frontend/dist
WORKDIR /app
# MIMALLOC_PURGE_DELAY=0: the allocator hands freed pages back at once, so a large import's
# peak stays near what it holds (docs/benchmarks.md, "Reading the import figures").
ENV BIND=0.0.0.0:8080 \
    DANGJIAN_DATA_DIR=/var/lib/dangjian \
    DANGJIAN_STATIC_DIR=/app/frontend/dist \
    MIMALLOC_PURGE_DELAY=0 \
    RUST_LOG=info
USER dangjian
EXPOSE 8080
VOLUME ["/var/lib/dangjian"]
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD curl -fsS -o /dev/null http://127.0.0.1:8080/readyz || exit 1
# Without arguments: `dangjian migrate && dangjian serve` (set DANGJIAN_MIGRATE_ON_START=0 to skip
# the migration, e.g. on all but one of several instances). With arguments, run them instead:
#   docker-compose run --rm app dangjian user create --username admin --grant ...
ENTRYPOINT ["/bin/sh", "-c", "if [ $# -gt 0 ]; then exec \"$@\"; fi; if [ \"${DANGJIAN_MIGRATE_ON_START:-1}\" != 0 ]; then dangjian migrate || exit 1; fi; exec dangjian serve", "entrypoint"]
CMD []
