// Small pieces several schema files share: bounded list sizes, the cost of a connection, JSON
// columns read without trusting them (db/stored-json.ts), and bad input said plainly.
import { GraphQLError } from "graphql";
import { ValidationError } from "../errors.js";

/** `first` of a bounded list: the default when absent, clamped to 1..max. */
export function boundedFirst(first: number | null | undefined, fallback: number, max: number): number {
  return Math.min(max, Math.max(1, Math.floor(first ?? fallback)));
}

/**
 * The complexity of a relay connection: its edges count 10x (a list), so `first` (default 50)
 * divided by 10 makes the whole cost about `first` times a node's.
 */
export function connectionComplexity(args: { first?: number | null; last?: number | null }): { field: number; multiplier: number } {
  return { field: 1, multiplier: Math.max(1, Math.ceil((args.first ?? args.last ?? 50) / 10)) };
}

export { parseStoredJson } from "../db/stored-json.js";

/**
 * Runs a resolver whose field has no error union: bad input (ValidationError) becomes a
 * GraphQL error that names the field (code BAD_USER_INPUT), not a masked "Unexpected error."
 */
export async function withInputErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new GraphQLError(error.message, { extensions: { code: "BAD_USER_INPUT", field: error.field } });
    }
    throw error;
  }
}
