# syntax=docker/dockerfile:1
# One image for every app: `docker build -t registry-triggers .`, then the command picks the app:
# `docker run registry-triggers api` (or `worker`, `logs`). See README "Deploy".
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json turbo.json tsconfig.base.json ./
COPY packages ./packages
COPY apps ./apps
COPY e2e/package.json ./e2e/package.json
# Scripts off: nothing the apps need builds anything at install time.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npx turbo run build --filter='./apps/*' \
 && npm prune --omit=dev --ignore-scripts \
 && rm -rf packages/*/src packages/*/test apps/*/src apps/*/test e2e node_modules/.cache

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    WORKER_METRICS_PORT=9464 \
    WORKER_METRICS_HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json /app/package-lock.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/packages ./packages
COPY --from=build --chown=root:root /app/apps ./apps
COPY --chown=root:root deploy/docker/entrypoint.sh deploy/docker/healthcheck.mjs ./deploy/docker/
# The code belongs to root and is read-only to the app, which runs as the unprivileged `node` user.
USER node
EXPOSE 8080 8081 9464
# /healthz of whichever app runs in the container (api 8080, logs 8081, worker metrics 9464).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "deploy/docker/healthcheck.mjs"]
ENTRYPOINT ["/app/deploy/docker/entrypoint.sh"]
CMD ["api"]
