// What every resolver gets. Built per request from long-lived dependencies, so a test builds its
// own context on its own database and nothing imports a database singleton.
import type { Db } from "./db/client.js";

export interface Deps {
  db: Db;
}

export interface Context {
  db: Db;
}

export function createContext(deps: Deps): () => Context {
  return () => ({ db: deps.db });
}
