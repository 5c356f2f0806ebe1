# Kiln in a container: the same steps as the README's Quick start.
# SQLite lives in /data (mount a volume); set DATABASE_URL for PostgreSQL.
FROM node:20-bookworm-slim

# Build tools for better-sqlite3 / ssh2 native addons; badblocks (e2fsprogs), smartmontools and
# util-linux for burn-ins of the machine Kiln runs on; openssh-client for remote hosts.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ e2fsprogs smartmontools util-linux openssh-client \
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
RUN npm_config_nodedir=/usr/local npm ci --no-audit --no-fund && npm run build:client

ENV KILN_DATA_DIR=/data HOST=0.0.0.0 PORT=4000 NODE_ENV=production
VOLUME /data
EXPOSE 4000
CMD ["node", "bin/kiln.js", "serve"]
