// What Kiln knows about the request it is serving, for code far from the HTTP layer: the audit
// log records the client's address without every service passing it along.
import { AsyncLocalStorage } from "node:async_hooks";

export interface RequestScope {
  address: string | null;
}

const storage = new AsyncLocalStorage<RequestScope>();

export function withRequestScope<T>(scope: RequestScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** The address of the client whose request this code serves; null outside a request. */
export function requestAddress(): string | null {
  return storage.getStore()?.address ?? null;
}
