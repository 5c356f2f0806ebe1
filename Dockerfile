# Kiln in a container: the same steps as the README's Quick start, in two stages. The build stage
# has the compilers (better-sqlite3's and ssh2's native addons), all dependencies and the sources;
# the final stage only what `kiln serve` runs: the packages the compiled server loads, the server
# (dist/), the built web client, the migrations, and the tools a burn-in needs on this machine.
# SQLite lives in /data (mount a volume); set DATABASE_URL for PostgreSQL.
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY schema.prisma prisma.config.ts codegen.ts schema.graphql tsconfig.json ./
COPY prisma ./prisma
COPY tools ./tools
COPY server ./server
COPY client ./client
COPY bin ./bin
# Debian's node image keeps Node headers in /usr/local/include/node, not /usr/include/node.
# A build secret "ca" (npm run image:check passes the machine's CA bundle) is trusted by npm, for
# networks whose TLS proxy signs the registry's certificates; without it Node warns and goes on.
RUN --mount=type=secret,id=ca \
    NODE_EXTRA_CA_CERTS=/run/secrets/ca npm_config_nodedir=/usr/local npm ci --no-audit --no-fund \
 && npm run build:client \
 && npm run build:server \
 && node tools/runtime-packages.mjs --copy /runtime

FROM node:20-bookworm-slim
# badblocks (e2fsprogs), fio, smartmontools, hdparm, nvme-cli (sanitize) and util-linux for burn-ins of the machine Kiln runs
# on; openssh-client for remote hosts. No compilers.
RUN apt-get update \
 && apt-get install -y --no-install-recommends e2fsprogs fio smartmontools hdparm nvme-cli util-linux openssh-client \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./
# Only the packages dist/ loads from node_modules (tools/runtime-packages.mjs); the rest is bundled.
COPY --from=build /runtime/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/client/dist ./client/dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/schema.prisma ./
COPY --from=build /app/prisma ./prisma
ENV KILN_DATA_DIR=/data HOST=0.0.0.0 PORT=4000 NODE_ENV=production
VOLUME /data
EXPOSE 4000
CMD ["node", "bin/kiln.js", "serve"]
