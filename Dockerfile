# syntax=docker/dockerfile:1
# Multi-stage: the build stage compiles the TypeScript (npm run build → build/); the runtime image holds the
# compiled JavaScript, the templates and assets, and the production dependencies only, runs it with plain
# node (no TypeScript loader), as an unprivileged user. Node 26 is the current LTS, the version CI tests
# (.ci/run). In a container, point DATABASE_URL at a PostgreSQL server (the embedded one is for
# `npm start` on a workstation).

FROM node:26-trixie-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:26-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run typecheck && npm run build

FROM node:26-trixie-slim AS runtime
ENV NODE_ENV=production PORT=3000 DATA_DIR=/app/.data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/package.json ./
# The compiled code keeps the sources' layout: /app/src/server.js, /app/migrations/*.js.
COPY --from=build /app/build/src ./src
COPY --from=build /app/build/migrations ./migrations
COPY --from=build /app/views ./views
COPY --from=build /app/public ./public
COPY --from=build /app/seeds ./seeds
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 3000
# SIGTERM (docker stop) ends the app gracefully within SHUTDOWN_GRACE_SECONDS (8 s), inside docker stop's default
# 10 s before SIGKILL. Raise both together: SHUTDOWN_GRACE_SECONDS and `docker stop --time` (or stop_grace_period).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:3000/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--expose-gc", "src/server.js"]
