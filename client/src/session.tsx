// Who is using the UI. Before anything else the browser asks /auth/status: a Kiln with no account
// offers only "create the admin account", a signed-out browser only the sign-in form. Signing in
// and out are plain JSON POSTs to /auth/*; the session itself is an HttpOnly cookie the page
// never sees.
import { type FormEvent, type ReactNode, useCallback, useEffect, useState } from "react";

export interface AuthStatus {
  auth: "on" | "off";
  setupRequired: boolean;
  signedIn: boolean;
  user: string | null;
  scope: "read" | "operate" | "admin" | null;
}

async function fetchStatus(): Promise<AuthStatus> {
  const response = await fetch("/auth/status", { credentials: "same-origin", cache: "no-store" });
  if (!response.ok) throw new Error(`Kiln answered ${response.status}`);
  return (await response.json()) as AuthStatus;
}

async function postAuth(path: string, body: unknown): Promise<void> {
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.ok) return;
  const answer = (await response.json().catch(() => ({}))) as { error?: string };
  throw new Error(answer.error ?? `Kiln answered ${response.status}`);
}

/** Renders its children only for a signed-in user (or with KILN_AUTH=off); otherwise setup or sign-in. */
export function SessionGate({ children }: { children: (session: { status: AuthStatus; signOut: () => void }) => ReactNode }) {
  const [status, setStatus] = useState<AuthStatus | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const refresh = useCallback(() => {
    fetchStatus().then(
      (s) => {
        setStatus(s);
        setFailure(null);
      },
      (error: unknown) => setFailure(error instanceof Error ? error.message : String(error)),
    );
  }, []);
  useEffect(() => {
    refresh();
    // A session that ends elsewhere (expired, signed out in another tab, revoked) sends this page
    // back to the sign-in form on the next API answer of 401.
    window.addEventListener("kiln:unauthenticated", refresh);
    return () => window.removeEventListener("kiln:unauthenticated", refresh);
  }, [refresh]);

  if (failure) return <p role="alert">Cannot reach Kiln: {failure}</p>;
  if (!status) return <p>Loading…</p>;
  if (status.setupRequired) return <CredentialsForm mode="setup" onDone={refresh} />;
  if (!status.signedIn) return <CredentialsForm mode="login" onDone={refresh} />;
  const signOut = () => {
    postAuth("/auth/logout", {}).finally(refresh);
  };
  return <>{children({ status, signOut })}</>;
}

function CredentialsForm({ mode, onDone }: { mode: "setup" | "login"; onDone: () => void }) {
  const [username, setUsername] = useState(mode === "setup" ? "admin" : "");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (mode === "setup" && password !== confirm) {
      setError("the two passwords differ");
      return;
    }
    setBusy(true);
    setError(null);
    postAuth(mode === "setup" ? "/auth/setup" : "/auth/login", { username, password }).then(
      () => onDone(),
      (e: unknown) => {
        setError(e instanceof Error ? e.message : String(e));
        setBusy(false);
      },
    );
  };

  return (
    <main className="auth">
      <form onSubmit={submit} aria-label={mode === "setup" ? "Create the admin account" : "Sign in"}>
        <h1>Kiln</h1>
        {mode === "setup" ? (
          <p>No account exists yet. Create the admin account: it can add hosts, grant unlocks and make other accounts.</p>
        ) : (
          <p>Sign in to burn in drives.</p>
        )}
        <label>
          User name
          <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete={mode === "setup" ? "new-password" : "current-password"}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {mode === "setup" && (
          <label>
            Repeat the password
            <input
              name="confirm"
              type="password"
              autoComplete="new-password"
              value={confirm}
              onChange={(e) => setConfirm(e.target.value)}
              required
            />
          </label>
        )}
        {mode === "setup" && <p className="hint">At least 12 characters.</p>}
        {error && <p role="alert">{error}</p>}
        <button type="submit" disabled={busy}>
          {mode === "setup" ? "Create the admin account" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
