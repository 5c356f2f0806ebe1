import { DriveTable } from "./drive-table";
import { JobList } from "./job-list";

export function App({ user, onSignOut }: { user: { name: string; scope: string } | null; onSignOut: () => void }) {
  return (
    <main>
      <header>
        <h1>Kiln</h1>
        <p>
          Drive burn-in. The API and its playground are at <a href="/graphql">/graphql</a>.
        </p>
        {user ? (
          <p className="account">
            Signed in as <strong>{user.name}</strong> ({user.scope}){" "}
            <button type="button" onClick={onSignOut}>
              Sign out
            </button>
          </p>
        ) : (
          <p className="account">Accounts are off (KILN_AUTH=off): anyone on this machine can use Kiln.</p>
        )}
      </header>
      <DriveTable />
      <JobList />
    </main>
  );
}
