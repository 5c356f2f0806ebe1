import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../server/config.js";

describe("configuration", () => {
  it("defaults to port 4000 on 127.0.0.1 with SQLite in ./data", () => {
    const c = loadConfig([], {});
    expect(c).toMatchObject({ port: 4000, host: "127.0.0.1", dataDir: path.resolve("data"), demo: false });
    expect(c.databaseUrl).toBe(`file:${path.resolve("data", "kiln.db")}`);
  });

  it("takes flags over environment over defaults", () => {
    const env = { PORT: "5000", HOST: "0.0.0.0", KILN_DATA_DIR: "/var/lib/kiln" };
    expect(loadConfig([], env)).toMatchObject({ port: 5000, host: "0.0.0.0", dataDir: "/var/lib/kiln" });
    expect(loadConfig(["--port", "6000", "--data", "/srv/kiln", "--demo"], env)).toMatchObject({
      port: 6000,
      dataDir: "/srv/kiln",
      demo: true,
    });
  });

  it("paces the demo host to watch by default, at full speed when asked, or as set, naming a bad part", () => {
    expect(loadConfig([], {}).demoPace).toEqual({
      blocksAtOnce: 1,
      readDelayFactor: 100,
      fioMiBps: 4,
      selfTestSeconds: { short: 8, extended: 15 },
    });
    expect(loadConfig([], { KILN_DEMO_PACE: "fast" }).demoPace).toEqual({
      blocksAtOnce: null,
      readDelayFactor: 0,
      fioMiBps: null,
      selfTestSeconds: { short: 1, extended: 2 },
    });
    expect(loadConfig([], { KILN_DEMO_PACE: "delay=0, short=2, rate=0" }).demoPace).toEqual({
      blocksAtOnce: 1,
      readDelayFactor: 0,
      fioMiBps: null,
      selfTestSeconds: { short: 2, extended: 15 },
    });
    expect(loadConfig([], { KILN_DEMO_PACE: "rate=16" }).demoPace.fioMiBps).toBe(16);
    expect(() => loadConfig([], { KILN_DEMO_PACE: "slow" })).toThrow(
      /^KILN_DEMO_PACE: "slow" is not one of watch, fast, blocks=N, delay=N, rate=N, short=S, long=S$/,
    );
    expect(() => loadConfig([], { KILN_DEMO_PACE: "blocks=0" })).toThrow(
      /^KILN_DEMO_PACE: blocks=0: must be a whole number from 1 to 65536$/,
    );
    expect(() => loadConfig([], { KILN_DEMO_PACE: "long=1.5" })).toThrow(/^KILN_DEMO_PACE: long=1.5: must be a whole number/);
  });

  it("lets DATABASE_URL override the SQLite file", () => {
    expect(loadConfig([], { DATABASE_URL: "postgresql://127.0.0.1:5432/test" }).databaseUrl).toBe("postgresql://127.0.0.1:5432/test");
  });

  it("names the setting and the reason for bad values", () => {
    expect(() => loadConfig(["--port", "70000"], {})).toThrow(new ConfigError("--port", "70000 is out of range (0-65535)"));
    expect(() => loadConfig([], { PORT: "http" })).toThrow(/^PORT: "http" is not a port number$/);
    expect(() => loadConfig([], { DATABASE_URL: "mysql://x/y" })).toThrow(/^DATABASE_URL: unsupported database URL/);
    expect(() => loadConfig(["--colour"], {})).toThrow(/^arguments: Unknown option '--colour'/);
  });

  it("switches to shared mode with PostgreSQL and REDIS_URL, and refuses what cannot work, naming the setting", () => {
    const pgUrl = "postgresql://127.0.0.1:5432/test";
    const shared = loadConfig([], { DATABASE_URL: pgUrl, REDIS_URL: "redis://:secret@127.0.0.1:6379/0", KILN_LEASE_SECONDS: "20" });
    expect(shared).toMatchObject({ redisUrl: "redis://:secret@127.0.0.1:6379/0", leaseMs: 20_000 });
    expect(loadConfig([], {})).toMatchObject({ redisUrl: null, leaseMs: 60_000 });
    // One process on SQLite: Redis would share events with nobody, and two Kilns must not share the file.
    expect(() => loadConfig([], { REDIS_URL: "redis://127.0.0.1:6379" })).toThrow(
      /^REDIS_URL: shared mode .* needs DATABASE_URL=postgresql/,
    );
    expect(() => loadConfig([], { DATABASE_URL: pgUrl, REDIS_URL: "http://x:secret@h" })).toThrow(
      /^REDIS_URL: "http:\/\/x:\*\*\*@h\/" is not a redis:\/\/ or rediss:\/\/ URL$/,
    );
    expect(() => loadConfig([], { KILN_LEASE_SECONDS: "2" })).toThrow(/^KILN_LEASE_SECONDS: 2 is outside 4-3600/);
    expect(() => loadConfig([], { KILN_INSTANCE_ID: "a b" })).toThrow(/^KILN_INSTANCE_ID: "a b" must be/);
    // In containers every instance is pid 1: the default name carries the host name too.
    expect(loadConfig([], {}).instanceId).toMatch(/^kiln-.+-\d+$/);
  });
});
