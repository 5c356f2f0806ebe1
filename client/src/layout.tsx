// The frame of every screen: navigation, who is signed in, and the banner of a lost connection.
import { Suspense, useEffect, useState } from "react";
import { NavLink, Outlet } from "react-router";
import { useConnection } from "./live";

export interface Account {
  name: string;
  scope: string;
}

export function Layout({ user, onSignOut }: { user: Account | null; onSignOut: () => void }) {
  const { online, outage } = useConnection();
  // While Kiln (or its event bus) is away, what the page shows is as of the moment it went: said
  // in the banner, and the figures are shown faded (data-stale), so none passes for live.
  const [staleSince, setStaleSince] = useState<Date | null>(null);
  useEffect(() => setStaleSince(online ? null : (since) => since ?? new Date()), [online]);
  return (
    <>
      <a href="#content" className="skip">
        Skip to content
      </a>
      <header className="top">
        <h1>Kiln</h1>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Dashboard
          </NavLink>
          <NavLink to="/history">History</NavLink>
          <NavLink to="/hosts">Hosts</NavLink>
          <NavLink to="/settings">Settings</NavLink>
          {user?.scope === "admin" ? <NavLink to="/admin">Users</NavLink> : null}
          <a href="/graphql">API</a>
        </nav>
        <p className="account">
          {user ? (
            <>
              Signed in as <strong>{user.name}</strong> ({user.scope}){" "}
              <button type="button" className="secondary" onClick={onSignOut}>
                Sign out
              </button>
            </>
          ) : (
            <span className="hint">Accounts are off (KILN_AUTH=off): anyone on this machine can use Kiln.</span>
          )}
        </p>
      </header>
      {online ? null : (
        <div className="banner" role="alert">
          {outage === "events"
            ? "Live updates paused: Kiln's event bus (Redis) is not reachable. They resume by themselves when it is back."
            : "Connection to Kiln lost. Retrying… the page comes back by itself when Kiln answers."}{" "}
          {staleSince ? (
            <span data-testid="stale-note">The figures below are as of {staleSince.toLocaleTimeString()} and not live.</span>
          ) : null}
        </div>
      )}
      <main id="content" data-stale={staleSince ? "true" : undefined}>
        <Suspense fallback={<p className="hint">Loading…</p>}>
          <Outlet />
        </Suspense>
      </main>
    </>
  );
}
