// Accounts for tests that run with auth on: the first admin (a session cookie) and one API token
// per scope, made the way an operator makes them, over real HTTP.
export interface Credentials {
  /** `kiln_session=...` of the admin. */
  cookie: string;
  tokens: { read: string; operate: string; admin: string };
}

export async function setUpAccounts(baseUrl: string): Promise<Credentials> {
  const setup = await fetch(`${baseUrl}/auth/setup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password: "correct horse battery" }),
  });
  if (setup.status !== 201) throw new Error(`setup answered ${setup.status}: ${await setup.text()}`);
  const cookie = (setup.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const tokens: Record<string, string> = {};
  for (const scope of ["read", "operate", "admin"] as const) {
    const response = await fetch(`${baseUrl}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie, "x-kiln-csrf": "1" },
      body: JSON.stringify({
        query:
          "mutation($n: String!, $s: Scope!) { createApiToken(name: $n, scope: $s) { ... on CreateApiTokenSuccess { data { secret } } } }",
        variables: { n: `test-${scope}`, s: scope },
      }),
    });
    const body = (await response.json()) as { data?: { createApiToken?: { data?: { secret?: string } } } };
    const secret = body.data?.createApiToken?.data?.secret;
    if (!secret) throw new Error(`could not make a ${scope} token: ${JSON.stringify(body)}`);
    tokens[scope] = secret;
  }
  return { cookie, tokens: tokens as Credentials["tokens"] };
}

/** A GraphQL request with a bearer token. */
export async function gqlAs<T = Record<string, unknown>>(
  baseUrl: string,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<{ status: number; data?: T; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }> {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...((await response.json()) as { data?: T }) };
}
