// The two refusals of the API, as GraphQL errors with their HTTP status: nobody signed in (401),
// too small a scope (403, naming the field, the scope it needs and the caller's).
import { GraphQLError } from "graphql";
import type { Scope, Viewer } from "./viewer.js";

export function unauthenticated(): GraphQLError {
  return new GraphQLError("sign in (a session cookie) or send an API token (Authorization: Bearer ...)", {
    extensions: { code: "UNAUTHENTICATED", http: { status: 401 } },
  });
}

export function forbidden(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "FORBIDDEN", http: { status: 403 } } });
}

/** `setSetting needs the admin scope; user vera (viewer) has the read scope`. */
export function fieldForbidden(field: string, need: Scope, viewer: Viewer): GraphQLError {
  if (viewer.scope === null) return unauthenticated();
  return forbidden(`${field} needs the ${need} scope; ${viewer.label} has the ${viewer.scope} scope`);
}
