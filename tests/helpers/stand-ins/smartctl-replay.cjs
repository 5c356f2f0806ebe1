#!/usr/bin/env node
// Kiln test stand-in for smartctl: replays recorded smartctl -j output per device (smartctl.map:
// "device fixture [serial]" lines; the serial, when given, replaces the recorded one) and keeps
// self-test state, so a test can run short and long tests. smartctl.sh in front of it logs each call
// and keeps the answers that cannot change until a control file does.
// A device listed in selftest.refuse cannot be opened for `-t` (exit 2).
// A self-test takes selftest.seconds (default 2) and is logged as passed unless the device is
// listed in selftest.fail. ATA, SCSI/SAS and NVMe drives each answer in their own JSON shape.
const fs = require("node:fs");
const path = require("node:path");
const here = __dirname;
const args = process.argv.slice(2);
const dev = args[args.length - 1];
const stateFile = path.join(here, `selftest-${String(dev).replace(/[^A-Za-z0-9]/g, "_")}.json`);
const read = (f) => (fs.existsSync(path.join(here, f)) ? fs.readFileSync(path.join(here, f), "utf8").trim() : "");
/** Every control file this device's answer depends on, as read now. */
const inputs = () =>
  ["smartctl.map", path.basename(stateFile), "selftest.fail", "selftest.scsi-legacy", "selftest.seconds"].map(read).join("\0");
const inputsAtStart = inputs();
const map = {};
for (const line of fs.readFileSync(path.join(here, "smartctl.map"), "utf8").split("\n").filter(Boolean)) {
  const [device, fixture, serial] = line.split(" ");
  map[device] = { fixture, serial };
}
if (args.includes("--scan") || args.includes("--scan-open")) {
  const devices = Object.keys(map).map((name) => ({ name, info_name: name, type: "sat", protocol: "ATA" }));
  process.stdout.write(`${JSON.stringify({ json_format_version: [1, 0], devices })}\n`);
  process.exit(0);
}
// A loop device number this test mapped may belong to another test's file by now.
if (!map[dev] || !require("./own-loops.cjs").isOwn(here, dev)) {
  process.stdout.write(
    JSON.stringify({ smartctl: { exit_status: 2, messages: [{ string: `${dev}: Unable to detect device type`, severity: "error" }] } }) +
      "\n",
  );
  process.exit(2);
}
const state = fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, "utf8")) : { tests: [] };
const seconds = Number(read("selftest.seconds") || 2);
const failing = read("selftest.fail").split("\n").includes(dev);
const now = Date.now();
const t = args.indexOf("-t");
if (t >= 0 && read("selftest.refuse").split("\n").includes(dev)) {
  // The device went away between two commands (a cable, a reset): open failed, exit bit 1.
  process.stdout.write(
    `${JSON.stringify({ smartctl: { exit_status: 2, messages: [{ string: `Smartctl open device: ${dev} failed: No such device`, severity: "error" }] } })}\n`,
  );
  process.exit(2);
}
// A self-test started or aborted changes what the device answers: smartctl.sh's copy goes (after
// the state is written: a read that copied the old state either sees the new one or loses its copy).
const dropCopy = () => fs.rmSync(path.join(here, "smartctl-cache", `${path.basename(dev)}.json`), { force: true });
if (t >= 0) {
  state.tests.push({ kind: args[t + 1] === "long" ? "extended" : "short", startedAt: now });
  fs.writeFileSync(stateFile, JSON.stringify(state));
  dropCopy();
  process.stdout.write(`${JSON.stringify({ smartctl: { exit_status: 0 } })}\n`);
  process.exit(0);
}
if (args.includes("-X")) {
  state.tests = state.tests.filter((x) => now - x.startedAt >= seconds * 1000);
  fs.writeFileSync(stateFile, JSON.stringify(state));
  dropCopy();
  process.exit(0);
}
const report = JSON.parse(fs.readFileSync(map[dev].fixture, "utf8"));
if (map[dev].serial) report.serial_number = map[dev].serial;
const running = state.tests.find((x) => now - x.startedAt < seconds * 1000);
const finished = state.tests.filter((x) => x !== running).reverse();
const percentDone = running ? Math.min(90, Math.floor(((now - running.startedAt) / (seconds * 1000)) * 10) * 10) : 0;
const protocol = String(report.device?.protocol || "").toLowerCase();
if (protocol === "scsi") {
  // As smartctl's scsiprint writes it: the log's newest entry is the running test ("NOW"); 7.4
  // and later also say how far it is (devices listed in selftest.scsi-legacy: an older smartctl that
  // does not).
  const code = (x) => (x.kind === "short" ? { value: 1, string: "Background short" } : { value: 2, string: "Background long" });
  if (!read("selftest.scsi-legacy").split("\n").includes(dev)) {
    report.scsi_self_test_status = running ? { in_progress: true, completion_percent: percentDone } : { in_progress: false };
  }
  const entries = [
    ...(running ? [{ code: code(running), result: { value: 15, string: "Self test in progress ..." }, self_test_in_progress: true }] : []),
    ...finished.map((x) => ({
      code: code(x),
      result: failing ? { value: 7, string: "Failed in segment" } : { value: 0, string: "Completed" },
      ...(failing ? { failed_segment: { value: 3, aka: "self_test_number" }, lba_first_failure: { value: 123456 } } : {}),
      power_on_time: { hours: 100, aka: "accumulated_power_on_hours" },
    })),
  ];
  entries.slice(0, 20).forEach((entry, i) => {
    report[`scsi_self_test_${i}`] = entry;
  });
}
if (protocol === "nvme") {
  const code = (x) => (x.kind === "short" ? { value: 1, string: "Short self-test" } : { value: 2, string: "Extended self-test" });
  report.nvme_self_test_log = {
    current_self_test_operation: running ? code(running) : { value: 0, string: "No self-test in progress" },
    ...(running ? { current_self_test_completion_percent: percentDone } : {}),
    table: finished.map((x) => ({
      self_test_code: code(x),
      self_test_result: failing ? { value: 7, string: "Completed: failed segments" } : { value: 0, string: "Completed without error" },
      power_on_hours: 100,
      ...(failing ? { lba: { value: 123456 } } : {}),
    })),
  };
}
if (report.ata_smart_data) {
  report.ata_smart_data.self_test = {
    status: running
      ? {
          value: 249,
          string: "in progress, 90% remaining",
          remaining_percent: Math.max(10, Math.ceil((1 - (now - running.startedAt) / (seconds * 1000)) * 10) * 10),
        }
      : { value: 0, string: "completed without error", passed: true },
    polling_minutes: { short: 1, extended: 1 },
  };
  const done = finished.map((x) => ({
    type: { value: x.kind === "short" ? 1 : 2, string: x.kind === "short" ? "Short offline" : "Extended offline" },
    status: failing
      ? { value: 121, string: "Completed: read failure", passed: false }
      : { value: 0, string: "Completed without error", passed: true },
    lifetime_hours: 100,
    ...(failing ? { lba: 123456 } : {}),
  }));
  const log = report.ata_smart_self_test_log || { standard: { revision: 1, table: [] } };
  const standard = log.standard || { revision: 1, table: [] };
  standard.table = [...done, ...(standard.table || [])].slice(0, 21);
  report.ata_smart_self_test_log = { standard };
}
const answer = `${JSON.stringify(report)}\n`;
process.stdout.write(answer);
// With no self-test running, this answer holds until a control file changes (smartctl.sh).
const cache = process.env.KILN_SMARTCTL_CACHE;
if (cache && !running) {
  // A test that changes a control file removes the copies' directory, maybe while this writes to
  // it: then there is no copy, and the answer above stands (an error here would be smartctl's exit 1).
  try {
    fs.mkdirSync(path.dirname(cache), { recursive: true });
    fs.writeFileSync(`${cache}.${process.pid}`, answer);
    fs.renameSync(`${cache}.${process.pid}`, cache);
    // A self-test started, or a test changed a control file, while this answer was made: not a copy.
    if (inputs() !== inputsAtStart) fs.rmSync(cache, { force: true });
  } catch {
    fs.rmSync(`${cache}.${process.pid}`, { force: true });
  }
}
