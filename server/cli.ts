// The `kiln` command: serve, migrate, parse, verify, and the terminal client.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "./config.js";
import { MigrationError } from "./db/migrations.js";
import { redactUrl } from "./db/url.js";
import { TERMINAL_USAGE } from "./terminal/commands.js";

const USAGE = `usage: kiln <command>

  serve [--port N] [--host ADDR] [--data DIR] [--demo]
        run the API, GraphiQL (/graphql), /health and the web UI
        (defaults: port 4000 or $PORT, host 127.0.0.1 or $HOST, data ./data or $KILN_DATA_DIR;
        DATABASE_URL overrides the SQLite file in the data directory)
  migrate [--data DIR]
        apply pending database migrations and exit
  parse badblocks FILE|- [--pattern 0xNN ...]
  parse smartctl FILE|-          (smartctl -j output, or smartctl --scan -j)
  parse lsblk FILE|- [--zpool FILE] [--zpool-import FILE]
  parse zpool FILE|- [--importable]
        print what Kiln reads from a tool's output, as JSON ("-" reads standard input)
  verify REPORT.json|- [--key PUBLIC.pem] [--data DIR]
        check a signed burn-in report: valid (exit 0), altered (1) or unknown key (3);
        against the key file given, else this machine's Kiln key in the data directory
${TERMINAL_USAGE}`;

export async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "serve":
        return await serve(rest);
      case "migrate":
        return await migrate(rest);
      case "parse":
        return await parse(rest);
      case "verify":
        return await verifyCommand(rest);
      case "status":
      case "watch":
      case "start":
      case "cancel":
      case "jobs": {
        const { runTerminalCommand } = await import("./terminal/commands.js");
        return await runTerminalCommand(command, rest, process.env, {
          log: (line) => console.log(line),
          write: (chunk) => process.stdout.write(chunk),
          isTTY: Boolean(process.stdout.isTTY),
          columns: process.stdout.columns,
        });
      }
      case undefined:
      case "help":
      case "--help":
      case "-h":
        console.log(USAGE);
        return command === undefined ? 2 : 0;
      default:
        console.error(`kiln: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof ConfigError || error instanceof MigrationError || error instanceof UsageError) {
      console.error(`kiln: ${error.message}`);
      return error instanceof UsageError ? 2 : 1;
    }
    console.error(`kiln: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

class UsageError extends Error {}

// Subcommands import what they need when they run: `kiln parse` should not load the server.
async function serve(argv: string[]): Promise<undefined> {
  const config = loadConfig(argv, process.env);
  const { beforeServerStart, afterServerStart } = await import("./serve-memory.js");
  beforeServerStart();
  const { keepServingThroughRejections, startKiln, stopOnSignals } = await import("./main.js");
  const kiln = await startKiln(config);
  keepServingThroughRejections(kiln);
  stopOnSignals(kiln);
  afterServerStart();
  return undefined;
}

async function migrate(argv: string[]): Promise<number> {
  const config = loadConfig(argv, process.env);
  const { openMigratedDatabase } = await import("./db/startup.js");
  const { secureDataDir } = await import("./data-dir.js");
  secureDataDir(config.dataDir, config.databaseUrl);
  // The full check every time: history, checksums and drift, through the schema engine.
  const { database, applied } = await openMigratedDatabase({ url: config.databaseUrl }, { full: true });
  await database.close();
  secureDataDir(config.dataDir, config.databaseUrl);
  console.log(
    applied.length
      ? `kiln: applied ${applied.join(", ")} to ${database.provider} database ${redactUrl(config.databaseUrl)}`
      : `kiln: ${database.provider} database ${redactUrl(config.databaseUrl)} is up to date`,
  );
  return 0;
}

async function parse(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      pattern: { type: "string", multiple: true },
      zpool: { type: "string" },
      "zpool-import": { type: "string" },
      importable: { type: "boolean" },
    },
  });
  const [kind, file] = positionals;
  if (!kind || !file || positionals.length > 2) throw new UsageError(`parse needs a kind and a FILE (or -)\n\n${USAGE}`);
  const text = await readInput(file);
  const { parseBadblocksOutput } = await import("./parsers/badblocks.js");
  const { parseLsblk } = await import("./parsers/lsblk.js");
  const { parseSmartctlJson, parseSmartctlScan } = await import("./parsers/smartctl.js");
  const { parseZpoolStatus } = await import("./parsers/zpool.js");
  let result: unknown;
  switch (kind) {
    case "badblocks":
      result = parseBadblocksOutput(text, values.pattern ? { patterns: values.pattern } : {});
      break;
    case "smartctl": {
      const scan = parseSmartctlScan(text);
      result = scan ?? parseSmartctlJson(text);
      break;
    }
    case "zpool":
      result = parseZpoolStatus(text, { importable: values.importable ?? false });
      break;
    case "lsblk": {
      const pools = [
        ...(values.zpool ? parseZpoolStatus(await readInput(values.zpool)) : []),
        ...(values["zpool-import"] ? parseZpoolStatus(await readInput(values["zpool-import"]), { importable: true }) : []),
      ];
      result = parseLsblk(text, pools);
      break;
    }
    default:
      throw new UsageError(`parse: unknown kind "${kind}" (badblocks, smartctl, lsblk, zpool)`);
  }
  console.log(JSON.stringify(result, null, 2));
  return 0;
}

async function verifyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { key: { type: "string" }, data: { type: "string" } },
  });
  const [file] = positionals;
  if (!file || positionals.length > 1) throw new UsageError(`verify needs a REPORT.json (or -)\n\n${USAGE}`);
  const { existsSync } = await import("node:fs");
  const path = await import("node:path");
  const { ValidationError } = await import("./errors.js");
  const { parseSignedReport, publicReportKey, reportClaims, verifyReport, REPORT_KEY_FILE, loadOrCreateReportKey } = await import(
    "./reports/signing.js"
  );
  try {
    const signed = parseSignedReport(await readInput(file));
    let key: import("./reports/signing.js").ReportKey;
    if (values.key) key = publicReportKey(await readInput(values.key));
    else {
      const dataDir = path.resolve(values.data ?? process.env.KILN_DATA_DIR ?? "data");
      if (!existsSync(path.join(dataDir, REPORT_KEY_FILE)))
        throw new UsageError(`no --key given and no Kiln key in ${dataDir}: pass the public key (/.well-known/kiln-report-key) with --key`);
      key = loadOrCreateReportKey(dataDir);
    }
    const { result, keyId } = verifyReport(signed, [key]);
    const claims = reportClaims(signed);
    const about = `job ${claims.jobId ?? "?"}, drive ${claims.serial ?? "?"}, verdict ${claims.verdict ?? "none"}`;
    if (result === "valid") console.log(`valid: signed by ${keyId} and unchanged (${about})`);
    else if (result === "altered") console.log(`altered: signed by ${keyId}, but changed since it was signed`);
    else console.log(`unknown key: signed by ${keyId}, not by the key given (${key.keyId})`);
    return result === "valid" ? 0 : result === "altered" ? 1 : 3;
  } catch (error) {
    if (error instanceof ValidationError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
}

async function readInput(file: string): Promise<string> {
  if (file === "-") {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}
