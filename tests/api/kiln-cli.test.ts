import { chmodSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { runKiln, serveKiln } from "../helpers/kiln-process.js";
import { FIXTURES, smartctlFixtureDir, smartctlFixtures } from "../helpers/shared-fixtures.js";
import { removeTempDirs, tempDir, tempPostgres } from "../helpers/temp-db.js";

afterAll(removeTempDirs);

describe("kiln parse", () => {
  it("prints the badblocks parser's result for every recorded run", async () => {
    const files = readdirSync(path.join(FIXTURES, "badblocks")).filter((f) => f.endsWith(".raw"));
    expect(files.length).toBe(6);
    for (const file of files) {
      const { code, stdout, stderr } = await runKiln(["parse", "badblocks", path.join(FIXTURES, "badblocks", file)]);
      expect(code, stderr).toBe(0);
      const result = JSON.parse(stdout);
      for (const key of ["phase", "phasePct", "overallPct", "pattern", "mode", "badBlocks", "done", "history"])
        expect(result, file).toHaveProperty(key);
      if (file.includes("interrupted")) expect(result).toMatchObject({ done: false, interruptedAt: 54818 });
      else expect(result, file).toMatchObject({ done: true, overallPct: 100 });
    }
  });

  it("reads standard input when the file is -", async () => {
    const { readFileSync } = await import("node:fs");
    const raw = readFileSync(path.join(FIXTURES, "badblocks", "write-mode-bad-blocks-48M-on-40M-tmpfs.raw"), "latin1");
    const { code, stdout } = await runKiln(["parse", "badblocks", "-"], { stdin: raw });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ badBlocks: 2064, reportedBadBlocks: 2064, done: true });
  });

  it.runIf(smartctlFixtureDir() !== null)("prints a normalised report (or device list) for every smartctl fixture", async () => {
    const dir = smartctlFixtureDir() as string;
    for (const file of smartctlFixtures()) {
      const { code, stdout, stderr } = await runKiln(["parse", "smartctl", path.join(dir, file)]);
      expect(code, `${file}: ${stderr}`).toBe(0);
      const result = JSON.parse(stdout);
      expect(result.serial ?? result.devices, file).toBeTruthy();
    }
  });

  it("fails with a clear message on a file that is not smartctl JSON, or is missing", async () => {
    const bad = await runKiln(["parse", "smartctl", path.join(FIXTURES, "badblocks", "read-only-64MiB-file.raw")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/kiln: smartctl -j: not valid JSON/);
    const missing = await runKiln(["parse", "smartctl", "/nonexistent/smart.json"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read \/nonexistent\/smart.json: ENOENT/);
    const usage = await runKiln(["parse", "hdparm", "-"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/unknown kind "hdparm"/);
  });

  it("parses lsblk together with zpool output", async () => {
    const { code, stdout } = await runKiln([
      "parse",
      "lsblk",
      path.join(FIXTURES, "lsblk", "nas-constructed.json"),
      "--zpool",
      path.join(FIXTURES, "zpool", "status-P-constructed.txt"),
    ]);
    expect(code).toBe(0);
    const disks = JSON.parse(stdout) as Array<{ name: string; usage: Array<{ kind: string; name: string }> }>;
    expect(disks.find((d) => d.name === "sda")?.usage).toContainEqual(expect.objectContaining({ kind: "zfs", name: "tank" }));
  });
});

describe("kiln serve and migrate", () => {
  it("refuses a bad --port naming the flag and the reason", async () => {
    const { code, stderr } = await runKiln(["serve", "--port", "abc", "--data", tempDir()]);
    expect(code).toBe(1);
    expect(stderr).toContain('--port: "abc" is not a port number');
    const env = await runKiln(["serve", "--data", tempDir()], { env: { DATABASE_URL: "mysql://localhost/kiln" } });
    expect(env.code).toBe(1);
    expect(env.stderr).toMatch(/DATABASE_URL: unsupported database URL/);
  });

  it("never prints the password of a PostgreSQL URL it cannot parse", async () => {
    const { code, stderr } = await runKiln(["serve", "--data", tempDir()], {
      env: { DATABASE_URL: "postgresql://kiln:s3cret@127.0.0.1:99999/kiln" },
    });
    expect(code).toBe(1);
    expect(stderr).toBe(
      'kiln: DATABASE_URL: "postgresql://kiln:***@127.0.0.1:99999/kiln" is not a valid URL (check the host and that the port is 0-65535)\n',
    );
  });

  it("keeps its data private whatever the umask: data directory 0700, database files and the report key 0600", async () => {
    const data = path.join(tempDir(), "data");
    // As an older Kiln (or a loose umask) left them: readable by everyone.
    expect((await runKiln(["migrate", "--data", data])).code).toBe(0);
    chmodSync(data, 0o755);
    chmodSync(path.join(data, "kiln.db"), 0o644);
    const kiln = await serveKiln(["--port", "0", "--data", data], {}, { umask: "000" });
    try {
      const modes = Object.fromEntries(readdirSync(data).map((f) => [f, statSync(path.join(data, f)).mode & 0o777]));
      expect(statSync(data).mode & 0o777).toBe(0o700);
      expect(modes).toEqual({
        "kiln.db": 0o600,
        "kiln.db-shm": 0o600,
        "kiln.db-wal": 0o600,
        keys: 0o700,
        "report-signing-key.pem": 0o600,
      });
    } finally {
      kiln.child.kill("SIGTERM");
      await kiln.exited;
    }
    // A new data directory made under umask 000 is private from the start.
    const fresh = path.join(tempDir(), "fresh");
    const second = await serveKiln(["--port", "0", "--data", fresh], {}, { umask: "000" });
    second.child.kill("SIGTERM");
    await second.exited;
    expect(statSync(fresh).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(fresh, "kiln.db")).mode & 0o777).toBe(0o600);
  });

  it("migrates a new data directory with `kiln migrate` and is idempotent", async () => {
    const data = tempDir();
    const first = await runKiln(["migrate", "--data", data]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/applied \d{14}_init/);
    const second = await runKiln(["migrate", "--data", data]);
    expect(second.stdout).toMatch(/is up to date/);
  });

  it("serves /health on a new SQLite file and stops on SIGTERM well within 10 s", async () => {
    const data = tempDir();
    const kiln = await serveKiln(["--port", "0", "--data", data]);
    expect((await fetch(`${kiln.url}/health`)).status).toBe(200);
    const started = Date.now();
    kiln.child.kill("SIGTERM");
    const { code } = await kiln.exited;
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(readdirSync(data)).toContain("kiln.db");
  });

  it("will not start on a database whose applied migration no longer matches, and says why", async () => {
    const data = tempDir();
    expect((await runKiln(["migrate", "--data", data])).code).toBe(0);
    const sqlite = new Database(path.join(data, "kiln.db"));
    sqlite.prepare("UPDATE _prisma_migrations SET checksum = 'edited'").run();
    sqlite.close();
    const { code, stderr } = await runKiln(["serve", "--port", "0", "--data", data]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/were edited after they ran.*Kiln does not reset databases/);
  });

  it("starts on PostgreSQL from DATABASE_URL after applying the PostgreSQL migrations", async () => {
    const pg = await tempPostgres();
    try {
      const kiln = await serveKiln(["--port", "0", "--data", tempDir()], { DATABASE_URL: pg.url });
      expect(kiln.output()).toMatch(/postgresql database .*applied \d{14}_init/);
      expect((await fetch(`${kiln.url}/health`)).status).toBe(200);
      kiln.child.kill("SIGTERM");
      expect((await kiln.exited).code).toBe(0);
    } finally {
      await pg.drop();
    }
  });
});
