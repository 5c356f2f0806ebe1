// Prisma's schema engine, compiled to WebAssembly, driven through the same driver adapters the
// application uses. Prisma 7's CLI needs a native engine binary downloaded at run time, which
// cannot happen offline; the wasm engine is the same Rust code, so migration SQL, the
// prisma/migrations/<ts>_<name>/migration.sql layout and the _prisma_migrations table are exactly
// what `prisma migrate` would produce.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from "@prisma/driver-adapter-utils";
import type { SchemaEngine } from "@prisma/schema-engine-wasm";
import { type DatabaseTarget, pgConnectionString, providerOf } from "./url.js";

const require = createRequire(import.meta.url);

interface PanicRegistry {
  message: string;
  get(): string;
  set_message(message: string): void;
}

declare global {
  // The wasm module reports a Rust panic through this global instead of aborting the process.
  var PRISMA_WASM_PANIC_REGISTRY: PanicRegistry | undefined;
}

/** An engine plus the connections it opened, closed together. */
export interface EngineHandle {
  engine: SchemaEngine;
  close(): Promise<void>;
}

export async function openSchemaEngine(schemaPath: string, target: DatabaseTarget): Promise<EngineHandle> {
  globalThis.PRISMA_WASM_PANIC_REGISTRY ??= {
    message: "",
    get() {
      return this.message;
    },
    set_message(message: string) {
      this.message = `RuntimeError: ${message}`;
    },
  };
  const opened: SqlDriverAdapter[] = [];
  const factory = tracked(await migrationAdapterFactory(target), opened);
  const bg = await loadWasmModule();
  const log = (message: string) => {
    if (process.env.KILN_MIGRATE_DEBUG) process.stderr.write(`${message}\n`);
  };
  const engine = await bg.SchemaEngine.new(
    { datamodels: [[schemaPath, await readFile(schemaPath, "utf8")]] },
    log,
    bindMigrationAwareSqlAdapterFactory(factory),
  );
  return {
    engine,
    async close() {
      for (const adapter of opened.splice(0)) {
        await adapter.dispose().catch(() => {});
      }
      engine.free();
    },
  };
}

type WasmBindings = { __wbg_set_wasm(exports: WebAssembly.Exports): void; SchemaEngine: typeof SchemaEngine };
let wasmModule: Promise<WasmBindings> | null = null;

// The bindings module keeps its wasm instance in module state: instantiate it once per process.
// A second instantiation over the same bindings corrupts that state ("RuntimeError: unreachable").
function loadWasmModule(): Promise<WasmBindings> {
  wasmModule ??= (async () => {
    const bgPath = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg");
    const bg = (await import(bgPath)) as WasmBindings;
    const wasm = await WebAssembly.compile(new Uint8Array(await readFile(path.join(path.dirname(bgPath), "schema_engine_bg.wasm"))));
    const instance = await WebAssembly.instantiate(wasm, { "./schema_engine_bg.js": bg as unknown as WebAssembly.ModuleImports });
    bg.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return bg;
  })();
  return wasmModule;
}

/** The message of a panic inside the engine, when an error came from one. */
export function enginePanicMessage(): string {
  return globalThis.PRISMA_WASM_PANIC_REGISTRY?.message ?? "";
}

function tracked(factory: SqlMigrationAwareDriverAdapterFactory, opened: SqlDriverAdapter[]): SqlMigrationAwareDriverAdapterFactory {
  const connect = factory.connect.bind(factory);
  const connectToShadowDb = factory.connectToShadowDb.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    opened.push(adapter);
    return adapter;
  };
  factory.connectToShadowDb = async () => {
    const adapter = await connectToShadowDb();
    opened.push(adapter);
    return adapter;
  };
  return factory;
}

async function migrationAdapterFactory(target: DatabaseTarget): Promise<SqlMigrationAwareDriverAdapterFactory> {
  return providerOf(target) === "sqlite" ? sqliteFactory(target.url) : postgresFactory(target.url);
}

async function sqliteFactory(url: string): Promise<SqlMigrationAwareDriverAdapterFactory> {
  const { PrismaBetterSqlite3 } = await import("@prisma/adapter-better-sqlite3");
  const factory = new PrismaBetterSqlite3({ url, timeout: 10_000 });
  // Workaround (adapter-better-sqlite3 7.10): the engine replays whole migration scripts on the
  // in-memory shadow database through executeRaw, which better-sqlite3 prepares as a single
  // statement ("more than one statement"). Argument-less SQL can go through executeScript.
  const connectToShadowDb = factory.connectToShadowDb.bind(factory);
  factory.connectToShadowDb = async () => {
    const adapter = await connectToShadowDb();
    const executeRaw = adapter.executeRaw.bind(adapter);
    adapter.executeRaw = async (query) => {
      try {
        return await executeRaw(query);
      } catch (error) {
        if (query.args.length === 0 && /more than one statement/i.test(String((error as Error)?.message))) {
          await adapter.executeScript(query.sql);
          return 0;
        }
        throw error;
      }
    };
    return adapter;
  };
  return factory;
}

// PostgreSQL catalog types the engine's introspection reads and adapter-pg 7.10 cannot decode:
// "char", int2vector, regproc, xid, oidvector, pg_node_tree, regclass, regtype. The migration
// pool reports them as text (oid 25); the application's pool is untouched.
const PG_CATALOG_TEXT_TYPES = new Set([18, 22, 24, 28, 30, 194, 2205, 2206]);

async function postgresFactory(url: string): Promise<SqlMigrationAwareDriverAdapterFactory> {
  const { PrismaPg } = await import("@prisma/adapter-pg");
  const pg = (await import("pg")).default;
  class CatalogTextPool extends pg.Pool {
    // biome-ignore lint/suspicious/noExplicitAny: pg.Pool.query is heavily overloaded
    override async query(...args: any[]): Promise<any> {
      // biome-ignore lint/suspicious/noExplicitAny: see above
      const result = await (super.query as (...a: any[]) => Promise<any>)(...args);
      for (const field of result?.fields ?? []) {
        if (PG_CATALOG_TEXT_TYPES.has(field.dataTypeID)) field.dataTypeID = 25;
      }
      return result;
    }
  }
  const make = (connectionString: string) =>
    new PrismaPg(new CatalogTextPool({ connectionString: pgConnectionString(connectionString) }), { disposeExternalPool: true });
  const factory = make(url);
  // Workaround (adapter-pg 7.10): connectToShadowDb ignores the database name when given a
  // connection string, so the "shadow" database would be the main one, and it drops the shadow
  // database before closing its pool. Create, use and drop a uniquely named one ourselves.
  factory.connectToShadowDb = async () => {
    const admin = await make(url).connect();
    const database = `prisma_migrate_shadow_db_${globalThis.crypto.randomUUID()}`;
    await admin.executeScript(`CREATE DATABASE "${database}"`);
    const shadowUrl = new URL(url);
    shadowUrl.pathname = `/${database}`;
    const shadow = await make(shadowUrl.toString()).connect();
    const dispose = shadow.dispose.bind(shadow);
    shadow.dispose = async () => {
      try {
        await dispose();
      } finally {
        await admin.executeScript(`DROP DATABASE IF EXISTS "${database}"`);
        await admin.dispose();
      }
    };
    return shadow;
  };
  return factory;
}
