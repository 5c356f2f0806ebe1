#!/usr/bin/env bash
# npm run image:check: builds Kiln's Docker image from the Dockerfile and runs it: /health must
# answer, a demo burn-in must pass and its PDF report must come back. Not part of `npm test`.
#
# On a machine with no Docker engine and no registry but npm's and Debian's (the machines Kiln is
# developed on), it makes what it needs: Debian's docker.io started with the vfs storage driver and
# no bridge, and, when node:20-bookworm-slim cannot be pulled, a stand-in for it: a
# `debootstrap --variant=minbase bookworm` root with this machine's Node 20 copied in, imported
# under that name. npm inside the build gets this machine's CA bundle as a build secret (a TLS
# proxy may sign the registry's certificates); elsewhere the secret is simply absent.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${KILN_IMAGE:-kiln:check}
BASE=node:20-bookworm-slim
CA=${KILN_BUILD_CA:-/etc/ssl/certs/ca-certificates.crt}
work=$(mktemp -d /tmp/kiln-image-check.XXXXXX)
container=""
dockerd_pid=""
cleanup() {
  [ -n "$container" ] && docker rm -f "$container" >/dev/null 2>&1 || true
  [ -n "$dockerd_pid" ] && kill "$dockerd_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n=== image:check: %s\n' "$*"; }

# BuildKit (build secrets) is in the Docker 20.10 client itself; a newer client without the
# buildx plugin has none, so Debian's client is preferred when both are installed.
if [ -x /usr/bin/docker ]; then docker() { /usr/bin/docker "$@"; }; fi

step "Docker engine"
if ! docker info >/dev/null 2>&1; then
  if ! command -v dockerd >/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "image:check: no Docker engine, and installing one needs root" >&2; exit 1; }
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io
    docker() { /usr/bin/docker "$@"; }
  fi
  dockerd --storage-driver=vfs --iptables=false --bridge=none >"$work/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { cat "$work/dockerd.log" >&2; exit 1; }
fi
docker version --format 'engine {{.Server.Version}}, client {{.Client.Version}}'

step "base image $BASE"
if ! docker image inspect "$BASE" >/dev/null 2>&1 && ! docker pull "$BASE" >/dev/null 2>&1; then
  echo "cannot pull $BASE: making a stand-in (debootstrap minbase bookworm + this machine's Node $(node --version))"
  command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; }
  root="$work/root"
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  node_bin=$(command -v node)
  node_prefix=$(dirname "$(dirname "$(readlink -f "$node_bin")")")
  mkdir -p "$root/usr/local/bin" "$root/usr/local/lib/node_modules" "$root/usr/local/include"
  cp "$(readlink -f "$node_bin")" "$root/usr/local/bin/node"
  cp -r "$node_prefix/lib/node_modules/npm" "$root/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  # The official image keeps Node's headers here (the Dockerfile builds native addons against them).
  cp -r "$node_prefix/include/node" "$root/usr/local/include/node"
  rm -rf "$root/var/cache/apt/archives"/*.deb "$root/var/lib/apt/lists"/*
  tar -C "$root" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'LABEL kiln.stand-in="debootstrap minbase bookworm with the host Node"' \
    - "$BASE" >/dev/null
fi
docker run --rm --network host "$BASE" node --version

step "build $IMAGE"
secret=()
[ -r "$CA" ] && secret=(--secret "id=ca,src=$CA")
DOCKER_BUILDKIT=1 docker build --network host "${secret[@]}" --progress plain -t "$IMAGE" . >"$work/build.log" 2>&1 \
  || { tail -40 "$work/build.log" >&2; exit 1; }
docker image inspect "$IMAGE" --format 'image {{.Id}}, {{.Size}} bytes'

step "run $IMAGE: /health, a demo burn-in, its PDF"
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
container=$(docker run -d --network host -e HOST=127.0.0.1 -e PORT="$port" -e KILN_AUTH=off -e KILN_INVENTORY_INTERVAL=0 \
  "$IMAGE" node bin/kiln.js serve --demo)
url="http://127.0.0.1:$port"
for _ in $(seq 1 120); do curl -fs "$url/health" >/dev/null 2>&1 && break; sleep 1; done
curl -fs "$url/health" || { docker logs "$container" >&2; exit 1; }
echo
KILN_CHECK_URL="$url" node --input-type=module -e '
const url = process.env.KILN_CHECK_URL;
const gql = async (query, variables = {}) => {
  const r = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, variables }) });
  const body = await r.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
};
const { drives } = await gql("{ drives { id serial rotationRate } }");
const drive = drives.find((d) => d.rotationRate !== 0) ?? drives[0];
const started = await gql("mutation($d: [ID!]!) { startBurnIn(driveIds: $d, profile: quick) { __typename ... on StartBurnInSuccess { data { id } } ... on Error { message } } }", { d: [drive.id] });
const id = started.startBurnIn.data?.[0]?.id;
if (!id) throw new Error(`not started: ${JSON.stringify(started)}`);
let job;
for (let i = 0; i < 600; i++) {
  ({ job } = await gql("query($id: ID!) { job(id: $id) { status } }", { id }));
  if (!["queued", "running"].includes(job.status)) break;
  await new Promise((r) => setTimeout(r, 500));
}
if (job.status !== "passed") throw new Error(`the demo job ended ${job.status}`);
const pdf = await fetch(`${url}/reports/${id}.pdf`);
const bytes = Buffer.from(await pdf.arrayBuffer());
if (pdf.status !== 200 || pdf.headers.get("content-type") !== "application/pdf" || bytes.subarray(0, 5).toString() !== "%PDF-")
  throw new Error(`the PDF answered ${pdf.status} ${pdf.headers.get("content-type")}`);
console.log(`demo job ${id} on ${drive.serial}: passed; its PDF report: ${bytes.length} bytes`);
' || { docker logs "$container" >&2; exit 1; }
echo "image:check passed"
