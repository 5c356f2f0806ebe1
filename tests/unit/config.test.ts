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

  it("lets DATABASE_URL override the SQLite file", () => {
    expect(loadConfig([], { DATABASE_URL: "postgresql://127.0.0.1:5432/test" }).databaseUrl).toBe("postgresql://127.0.0.1:5432/test");
  });

  it("names the setting and the reason for bad values", () => {
    expect(() => loadConfig(["--port", "70000"], {})).toThrow(new ConfigError("--port", "70000 is out of range (0-65535)"));
    expect(() => loadConfig([], { PORT: "http" })).toThrow(/^PORT: "http" is not a port number$/);
    expect(() => loadConfig([], { DATABASE_URL: "mysql://x/y" })).toThrow(/^DATABASE_URL: unsupported database URL/);
    expect(() => loadConfig(["--colour"], {})).toThrow(/^arguments: Unknown option '--colour'/);
  });
});
