import { DriveTable } from "./drive-table";
import { JobList } from "./job-list";

export function App() {
  return (
    <main>
      <header>
        <h1>Kiln</h1>
        <p>
          Drive burn-in. The API and its playground are at <a href="/graphql">/graphql</a>.
        </p>
      </header>
      <DriveTable />
      <JobList />
    </main>
  );
}
