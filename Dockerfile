# syntax=docker/dockerfile:1
#
# Tollgate image: `docker build -t tollgate:0.1.0 .`
#   docker run --rm -p 9001:9001 -p 9002:9002 tollgate:0.1.0            # tollgate serve
#   docker run --rm -e DATABASE_URL=mysql://… tollgate:0.1.0 migrate     # tollgate migrate
#
# Three stages: `build` compiles TypeScript with the dev dependencies, `prod-deps` installs only the
# runtime dependencies (better-sqlite3 is a native module: both need python3/make/g++ in case no
# prebuilt binary matches), and the final stage copies the results into a clean node image without
# compilers, npm caches, sources or tests. All stages share one base so the native module is built
# against the same Node ABI and glibc it runs on.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app

FROM toolchain AS build
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
RUN npm run build

FROM toolchain AS prod-deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY package.json package-lock.json ./
# Default embedded-SQLite location (./.tollgate) must be writable by the runtime user;
# with a read-only root filesystem, mount a volume here (deploy/base does).
RUN mkdir -p /app/.tollgate && chown 1000:1000 /app/.tollgate
# The base image's "node" user, by number so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
# 9001: ext_authz gRPC (+ grpc.health.v1); 9002: /metrics, /healthz, /readyz.
EXPOSE 9001 9002
# Liveness from Docker's side: Tollgate's HTTP /healthz on the port TOLLGATE_HTTP_ADDR names.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const a=process.env.TOLLGATE_HTTP_ADDR||'0.0.0.0:9002';require('http').get({host:'127.0.0.1',port:a.slice(a.lastIndexOf(':')+1),path:'/healthz',timeout:2000},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/tollgate.js"]
CMD ["serve"]
