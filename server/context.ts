// What every resolver gets. Built per request from long-lived dependencies, so a test builds its
// own context on its own database and nothing imports a database singleton.
import type { Db } from "./db/client.js";
import type { KilnPubSub } from "./events/pubsub.js";
import type { JobRunner } from "./runner/runner.js";
import type { HostRegistry } from "./services/host-registry.js";

export interface Deps {
  db: Db;
  registry: HostRegistry;
  runner: JobRunner;
  pubsub: KilnPubSub;
}

export interface Context extends Deps {
  /** Who is acting, for the audit log (accounts and API tokens come later). */
  actor: string;
}

export function createContext(deps: Deps): () => Context {
  return () => ({ ...deps, actor: "operator" });
}
