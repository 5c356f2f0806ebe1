// Stand-ins for tools that cannot run on test machines: smartctl cannot read loop devices, and
// there is no ZFS. They go first on the PATH of the test sshd's sessions and replay recorded
// output: smartctl answers per device from ../shared/fixtures/smartctl (mapped in smartctl.map),
// zpool prints zpool.status. Every call is appended to <tool>.calls so tests can tell what ran.
import { appendFileSync, chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const SMARTCTL = `#!/bin/sh
# Kiln test stand-in for smartctl: replays recorded smartctl -j output per device.
here=$(dirname "$0")
echo "$*" >> "$here/smartctl.calls"
case " $* " in
  *" --scan"*)
    printf '{"json_format_version":[1,0],"devices":['
    sep=""
    while read -r dev fixture; do printf '%s{"name":"%s","info_name":"%s","type":"sat","protocol":"ATA"}' "$sep" "$dev" "$dev"; sep=","; done < "$here/smartctl.map"
    printf ']}\\n'
    exit 0 ;;
esac
dev=""
for a in "$@"; do dev="$a"; done
fixture=$(awk -v d="$dev" '$1 == d { print $2 }' "$here/smartctl.map")
if [ -z "$fixture" ]; then
  printf '{"smartctl":{"exit_status":2,"messages":[{"string":"%s: Unable to detect device type","severity":"error"}]}}\\n' "$dev"
  exit 2
fi
cat "$fixture"
`;

const ZPOOL = `#!/bin/sh
# Kiln test stand-in for zpool: prints the recorded status, no importable pools.
here=$(dirname "$0")
echo "$*" >> "$here/zpool.calls"
case "$1" in
  status) if [ -s "$here/zpool.status" ]; then cat "$here/zpool.status"; else echo "no pools available"; fi ;;
  import) echo "no pools available to import"; exit 1 ;;
  *) exit 2 ;;
esac
`;

export function installStandIns(binDir: string): void {
  for (const [name, text] of [
    ["smartctl", SMARTCTL],
    ["zpool", ZPOOL],
  ] as const) {
    writeFileSync(path.join(binDir, name), text);
    chmodSync(path.join(binDir, name), 0o755);
  }
  writeFileSync(path.join(binDir, "smartctl.map"), "");
}

/** Make `device` answer with a recorded smartctl fixture. */
export function mapSmartctl(binDir: string, device: string, fixturePath: string): void {
  appendFileSync(path.join(binDir, "smartctl.map"), `${device} ${fixturePath}\n`);
}

export function setZpoolStatus(binDir: string, text: string): void {
  writeFileSync(path.join(binDir, "zpool.status"), text);
}

export function standInCalls(binDir: string, tool: "smartctl" | "zpool"): string[] {
  const file = path.join(binDir, `${tool}.calls`);
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}
