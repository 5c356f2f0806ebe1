#!/usr/bin/env node
// Kiln test stand-in for a drive's own sanitize, for loop devices that have none. The `nvme`
// stand-in (id-ctrl, sanitize, sanitize-log) and the sanitize options of the `hdparm` stand-in
// (-I, --sanitize-*) come here: `sanitize-drive.cjs nvme|ata ARGS...`.
// sanitize.map lines: "DEVICE nvme|ata METHODS SECONDS [frozen|fail]", METHODS a comma list of
// block_erase, crypto_erase, overwrite. A sanitize runs SECONDS after it is issued (time read at
// each status call), then the device is zeroed, as a block erase or overwrite leaves it, and the
// status says it succeeded ("fail": failed, nothing zeroed). A device not in the map goes to the
// real tool (/usr/sbin/nvme, /usr/sbin/hdparm), as on a host where it is not such a drive.
const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const here = __dirname;
const [tool, ...args] = process.argv.slice(2);
// (the hdparm stand-in logged its own call)
if (tool === "nvme") fs.appendFileSync(path.join(here, "nvme.calls"), `${args.join(" ")}\n`);

const map = {};
const mapFile = path.join(here, "sanitize.map");
for (const line of fs.existsSync(mapFile) ? fs.readFileSync(mapFile, "utf8").split("\n").filter(Boolean) : []) {
  const [device, commandSet, methods, seconds, mode] = line.split(" ");
  map[device] = { commandSet, methods: methods.split(","), seconds: Number(seconds), mode: mode ?? "" };
}
const device = args.find((a) => a.startsWith("/dev/"));
const drive = device && map[device] && map[device].commandSet === tool ? map[device] : null;
if (!drive) {
  const real = tool === "nvme" ? "/usr/sbin/nvme" : "/usr/sbin/hdparm";
  const result = spawnSync(real, args, { stdio: "inherit" });
  process.exit(result.status ?? 1);
}

const stateFile = path.join(here, `sanitize-${device.replace(/[^A-Za-z0-9]/g, "_")}.json`);
const state = fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, "utf8")) : null;
const save = (s) => fs.writeFileSync(stateFile, JSON.stringify(s));
const SANACT = { 2: "block_erase", 3: "overwrite", 4: "crypto_erase" };
const SANACT_OF = { block_erase: 2, overwrite: 3, crypto_erase: 4 };

/** The operation's state now: none, in_progress (with a fraction), succeeded, failed. */
function progress() {
  if (!state) return { state: "none", fraction: 0 };
  const fraction = (Date.now() - state.startedMs) / (drive.seconds * 1000);
  if (fraction < 1) return { state: "in_progress", fraction };
  if (drive.mode === "fail") return { state: "failed", fraction: 1 };
  if (!state.zeroed && state.method !== "crypto_erase") {
    // What a block erase or an overwrite leaves: zeros over the whole device.
    const fd = fs.openSync(device, "r+");
    const size = Number(fs.readFileSync(`/sys/class/block/${path.basename(device)}/size`, "utf8").trim()) * 512;
    const zeros = Buffer.alloc(1 << 20);
    for (let at = 0; at < size; at += zeros.length) fs.writeSync(fd, zeros, 0, Math.min(zeros.length, size - at), at);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    state.zeroed = true;
    save(state);
  }
  return { state: "succeeded", fraction: 1 };
}

function start(method) {
  if (!drive.methods.includes(method)) return false;
  save({ method, startedMs: Date.now(), zeroed: false });
  return true;
}

if (tool === "nvme") {
  const command = args[0];
  if (command === "id-ctrl") {
    const bits = { crypto_erase: 1, block_erase: 2, overwrite: 4 };
    const sanicap = drive.methods.reduce((sum, m) => sum + (bits[m] ?? 0), 0);
    process.stdout.write(`${JSON.stringify({ vid: 5197, sn: "STAND-IN", mn: "Kiln stand-in NVMe", sanicap })}\n`);
    process.exit(0);
  }
  if (command === "sanitize") {
    const sanact = Number((args.find((a) => a.startsWith("--sanact=")) ?? "").slice(9));
    if (progress().state === "in_progress") {
      process.stderr.write(
        "NVMe status: Sanitize In Progress: The requested function is prohibited while a sanitize operation is in progress(0x1d)\n",
      );
      process.exit(1);
    }
    if (!SANACT[sanact] || !start(SANACT[sanact])) {
      process.stderr.write(
        "NVMe status: Invalid Field in Command: A reserved coded value or an unsupported value in a defined field(0x2)\n",
      );
      process.exit(1);
    }
    process.exit(0);
  }
  if (command === "sanitize-log") {
    const now = progress();
    const code = { none: 0, succeeded: 1, in_progress: 2, failed: 3 }[now.state];
    const words = {
      none: "Never sanitized",
      succeeded: "Most Recent Sanitize Command Completed Successfully",
      in_progress: "A Sanitize Operation is Currently in Progress",
      failed: "Most Recent Sanitize Command Failed",
    }[now.state];
    const log = {
      sprog: now.state === "in_progress" ? Math.floor(now.fraction * 65536) : 65535,
      sstat: { global_erased: now.state === "succeeded" ? 1 : 0, no_cmplted_passes: 0, status: `(${code}) ${words}` },
      cdw10_info: state ? SANACT_OF[state.method] : 0,
      time_over_write: drive.methods.includes("overwrite") ? drive.seconds : 4294967295,
      time_block_erase: drive.methods.includes("block_erase") ? drive.seconds : 4294967295,
      time_crypto_erase: drive.methods.includes("crypto_erase") ? drive.seconds : 4294967295,
    };
    process.stdout.write(`${JSON.stringify({ [path.basename(device)]: log }, null, 2)}\n`);
    process.exit(0);
  }
  process.stderr.write(`stand-in nvme: ${command} is not stood in for\n`);
  process.exit(1);
}

// ATA, through hdparm.
const line = (name) => `\t   *\t${name}`;
if (args[0] === "-I") {
  const methods = {
    block_erase: "BLOCK_ERASE_EXT command",
    crypto_erase: "CRYPTO_SCRAMBLE_EXT command",
    overwrite: "OVERWRITE_EXT command",
  };
  const sanitize = drive.methods.length ? [line("SANITIZE feature set"), ...drive.methods.map((m) => line(methods[m]))] : [];
  process.stdout.write(
    [
      `\n${device}:\n`,
      "ATA device, with non-removable media",
      "\tModel Number:       Kiln stand-in ATA",
      "Commands/features:",
      "\tEnabled\tSupported:",
      line("SMART feature set"),
      ...sanitize,
      "Checksum: correct",
      "",
    ].join("\n"),
  );
  process.exit(0);
}
if (args.includes("--sanitize-status")) {
  const now = drive.mode === "frozen" ? { state: "frozen" } : progress();
  const out = [`\n${device}:`, "Issuing SANITIZE_STATUS command", "Sanitize status:"];
  if (now.state === "frozen") out.push("    State:    SD1 Sanitize Frozen");
  else if (now.state === "in_progress")
    out.push(
      "    State:    SD2 Sanitize operation In Process",
      `    Progress: 0x${Math.floor(now.fraction * 65536).toString(16)} (${Math.floor(now.fraction * 100)}%)`,
    );
  else if (now.state === "failed")
    out.push("    State:    SD3 Sanitize Operation Failed", "    Last Sanitize Command completed unsuccessfully");
  else
    out.push(
      "    State:    SD0 Sanitize Idle",
      ...(now.state === "succeeded" ? ["    Last Sanitize Operation Completed Without Error"] : []),
    );
  process.stdout.write(`${out.join("\n")}\n`);
  process.exit(0);
}
const flag = { "--sanitize-block-erase": "block_erase", "--sanitize-crypto-scramble": "crypto_erase", "--sanitize-overwrite": "overwrite" };
const asked = args.map((a) => flag[a]).find(Boolean);
if (asked) {
  if (!args.includes("--yes-i-know-what-i-am-doing")) {
    process.stderr.write(
      "This sanitize command destroys all user data.\nPlease supply the --yes-i-know-what-i-am-doing flag if you really want this.\n",
    );
    process.exit(1);
  }
  if (drive.mode === "frozen" || !start(asked)) {
    process.stderr.write("SANITIZE failed\n");
    process.exit(5);
  }
  process.stdout.write(
    `\n${device}:\nIssuing SANITIZE command\nOperation started in background\nYou may use \`--sanitize-status\` to check progress\n`,
  );
  process.exit(0);
}
process.stderr.write(`stand-in hdparm: ${args.join(" ")} is not stood in for\n`);
process.exit(2);
