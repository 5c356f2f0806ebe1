import { useQuery } from "urql";
import { graphql } from "./gql";

const JobList_Query = graphql(`
  query JobList_Jobs($first: Int!) {
    jobs(first: $first) {
      edges {
        node {
          id
          profile
          status
          progressPct
          createdAt
          drive {
            id
            serial
            model
          }
        }
      }
    }
  }
`);

export function JobList() {
  const [{ data, fetching, error }] = useQuery({ query: JobList_Query, variables: { first: 50 } });
  if (error) return <p role="alert">Could not load jobs: {error.message}</p>;
  if (fetching && !data) return <p>Loading jobs…</p>;
  const jobs = data?.jobs.edges.map((e) => e.node) ?? [];
  return (
    <section>
      <h2>Burn-in jobs</h2>
      {jobs.length === 0 ? (
        <p>No burn-in jobs yet.</p>
      ) : (
        <ul>
          {jobs.map((job) => (
            <li key={job.id}>
              {job.drive.model ?? "?"} {job.drive.serial}: {job.profile} {job.status} {job.progressPct.toFixed(1)}%
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
