# syntax=docker/dockerfile:1
# One image for the api, the worker and the migrate job; docker-compose.yml picks the command.
# TypeScript runs directly under tsx (a runtime dependency), so there is no build step.

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-slim
# NODE_ENV=production is set per service: the api and worker need it, the migrate job does not.
ENV API_HOST=0.0.0.0 \
    BLOB_DIR=/data/blobs
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
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
