# syntax=docker/dockerfile:1.7
#
# Airlock production image: one image for every role.
#
#   docker build -t airlock .
#   docker run --rm -p 8080:8080 --env-file .env airlock serve --roles api,slack
#
# The entry point is the compiled CLI, so any `airlock` sub-command works as the
# container command (`serve`, `config check`, `audit verify`, `audit export`).
# An `airlock` wrapper is on PATH too, for `docker exec` / `kubectl exec`.
# See docs/deployment.md.

# Node 22 LTS: the supported runtime (package.json "engines": >=22.12).
ARG NODE_IMAGE=node:22-bookworm-slim

# ---------------------------------------------------------------------------
# 1. deps: the full dependency tree (dev deps included: tsc is needed to build)
# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json ./
# Native modules (DuckDB for the dev emulator, msgpackr-extract for BullMQ) come
# as prebuilt binaries, so no compiler tool chain is needed.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund

# ---------------------------------------------------------------------------
# 2. build: compile TypeScript to dist/, then drop dev dependencies
# ---------------------------------------------------------------------------
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---------------------------------------------------------------------------
# 3. runtime: compiled code + production node_modules, non-root, read-only friendly
# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime

LABEL org.opencontainers.image.title="airlock" \
      org.opencontainers.image.description="Slack-first approval gateway for AI agents that query Snowflake" \
      org.opencontainers.image.licenses="Apache-2.0"

# A dedicated unprivileged user with a numeric id, so Kubernetes'
# runAsNonRoot can verify it without an explicit runAsUser.
RUN groupadd --system --gid 10001 airlock \
 && useradd --system --uid 10001 --gid airlock --home-dir /home/airlock --create-home --shell /usr/sbin/nologin airlock \
 && printf '#!/bin/sh\nexec node /app/dist/cli/main.js "$@"\n' > /usr/local/bin/airlock \
 && chmod 0755 /usr/local/bin/airlock

WORKDIR /app

# Application files belong to root and are read-only for the runtime user.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The Slack sandbox page of `airlock dev` (plain HTML/CSS/JS that tsc does not copy),
# for compose's `sandbox` profile.
COPY --from=build /app/src/sandbox/page ./dist/sandbox/page
COPY policies ./policies

# - AIRLOCK_HOST: the code defaults to 127.0.0.1 (safe for a laptop); a container
#   must listen on all interfaces to be reachable at all.
# - SF_OCSP_RESPONSE_CACHE_DIR: snowflake-sdk caches OCSP responses on disk
#   (default ~/.cache/snowflake); /tmp is the one writable place when the root
#   file system is read-only (Kubernetes mounts an emptyDir there).
ENV NODE_ENV=production \
    AIRLOCK_HOST=0.0.0.0 \
    AIRLOCK_PORT=8080 \
    HOME=/home/airlock \
    SF_OCSP_RESPONSE_CACHE_DIR=/tmp/snowflake-ocsp

USER 10001:10001
EXPOSE 8080

# Every role (api, slack and worker alike) serves /healthz on AIRLOCK_PORT.
# The slim image has no curl/wget; Node's own fetch does the job.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.AIRLOCK_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# Stop gracefully: the exec-form ENTRYPOINT makes node PID 1, so SIGTERM reaches
# Airlock directly (it drains jobs and closes connections). Compose adds a tiny
# init (`init: true`) to reap zombies; Kubernetes needs nothing extra.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve"]
