// Job history: filters in the URL (so a filtered view can be sent as a link), keyset pages, and
// the CSV export of the same filtered set.
import { type FormEvent, useMemo } from "react";
import { Link, useSearchParams } from "react-router";
import { useQuery } from "urql";
import { JOB_STATUSES, VERDICT_OUTCOMES } from "../../../server/runner/job-status";
import { PROFILE_NAMES } from "../../../server/runner/profiles";
import { formatTime } from "../format";
import { graphql } from "../gql";
import type { JobFilter, JobStatus, Profile, VerdictOutcome } from "../gql/graphql";
import { useRefetchOnReconnect } from "../live";
import { LoadState, ProgressBar, StatusBadge } from "../parts";

const History_Query = graphql(`
  query History($filter: JobFilter, $after: String) {
    hosts {
      id
      name
    }
    jobs(first: 50, after: $after, filter: $filter) {
      edges {
        node {
          id
          serial
          profile
          status
          progressPct
          createdAt
          finishedAt
          verdict {
            outcome
          }
          drive {
            id
            model
            host {
              name
            }
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const STATUSES: readonly JobStatus[] = JOB_STATUSES;
const VERDICTS: readonly VerdictOutcome[] = VERDICT_OUTCOMES;
const PROFILES: readonly Profile[] = PROFILE_NAMES;
/** The URL parameters of the page, the same names /api/jobs.csv takes. */
const FILTER_PARAMS = ["status", "verdict", "profile", "hostId", "serial", "model", "createdAfter", "createdBefore"] as const;

function filterFrom(params: URLSearchParams): JobFilter {
  const list = <T extends string>(name: string, allowed: readonly T[]) => {
    const values = (params.get(name) ?? "").split(",").filter((v): v is T => (allowed as readonly string[]).includes(v));
    return values.length ? values : undefined;
  };
  const day = (name: string) => {
    const value = params.get(name);
    return value && /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00`).toISOString() : undefined;
  };
  return {
    status: list("status", STATUSES),
    verdict: list("verdict", VERDICTS),
    profile: list("profile", PROFILES),
    hostId: params.get("hostId") || undefined,
    serial: params.get("serial") || undefined,
    model: params.get("model") || undefined,
    createdAfter: day("createdAfter"),
    createdBefore: day("createdBefore"),
  };
}

export function History() {
  const [params, setParams] = useSearchParams();
  const filter = useMemo(() => filterFrom(params), [params]);
  const after = params.get("after");
  const [{ data, fetching, error }, reexecute] = useQuery({ query: History_Query, variables: { filter, after } });
  useRefetchOnReconnect(() => reexecute({ requestPolicy: "network-only" }));

  const exportParams = new URLSearchParams();
  for (const [key, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    exportParams.set(key, Array.isArray(value) ? value.join(",") : String(value));
  }

  function apply(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next = new URLSearchParams();
    for (const name of FILTER_PARAMS) {
      const values = form.getAll(name).map(String).filter(Boolean);
      if (values.length) next.set(name, values.join(","));
    }
    setParams(next);
  }

  const jobs = data?.jobs.edges.map((e) => e.node) ?? [];
  const chosen = (name: string) => new Set((params.get(name) ?? "").split(","));
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      <form className="filters" onSubmit={apply} key={params.toString()}>
        <fieldset>
          <legend>Status</legend>
          {STATUSES.map((s) => (
            <label key={s}>
              <input type="checkbox" name="status" value={s} defaultChecked={chosen("status").has(s)} /> {s}
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>Verdict</legend>
          {VERDICTS.map((v) => (
            <label key={v}>
              <input type="checkbox" name="verdict" value={v} defaultChecked={chosen("verdict").has(v)} /> {v}
            </label>
          ))}
        </fieldset>
        <label>
          Profile
          <select name="profile" defaultValue={params.get("profile") ?? ""}>
            <option value="">any</option>
            {PROFILES.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </label>
        <label>
          Host
          <select name="hostId" defaultValue={params.get("hostId") ?? ""}>
            <option value="">any</option>
            {(data?.hosts ?? []).map((h) => (
              <option key={h.id} value={h.id}>
                {h.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Serial
          <input name="serial" defaultValue={params.get("serial") ?? ""} />
        </label>
        <label>
          Model contains
          <input name="model" defaultValue={params.get("model") ?? ""} />
        </label>
        <label>
          From
          <input type="date" name="createdAfter" defaultValue={params.get("createdAfter") ?? ""} />
        </label>
        <label>
          Before
          <input type="date" name="createdBefore" defaultValue={params.get("createdBefore") ?? ""} />
        </label>
        <div className="actions">
          <button type="submit">Apply</button>
          <Link to="/history" className="button secondary">
            Clear
          </Link>
          <a className="button secondary" href={`/api/jobs.csv?${exportParams}`} download="kiln-jobs.csv">
            Export CSV
          </a>
        </div>
      </form>
      <LoadState fetching={fetching} error={error} empty={!data} what="history">
        {jobs.length === 0 ? (
          <p className="empty">No jobs{params.toString() ? " match these filters" : " yet"}.</p>
        ) : (
          <div className="table-scroll">
            <table className="history">
              <thead>
                <tr>
                  <th scope="col">Created</th>
                  <th scope="col">Serial</th>
                  <th scope="col">Model</th>
                  <th scope="col">Host</th>
                  <th scope="col">Profile</th>
                  <th scope="col">Status</th>
                  <th scope="col">Verdict</th>
                  <th scope="col">Progress</th>
                  <th scope="col">Finished</th>
                </tr>
              </thead>
              <tbody>
                {jobs.map((j) => (
                  <tr key={j.id}>
                    <td>
                      <Link to={`/jobs/${j.id}`}>{formatTime(j.createdAt)}</Link>
                    </td>
                    <td className="mono">{j.serial}</td>
                    <td>{j.drive.model ?? "?"}</td>
                    <td>{j.drive.host.name}</td>
                    <td>{j.profile}</td>
                    <td>
                      <StatusBadge status={j.status} />
                    </td>
                    <td>{j.verdict?.outcome ?? "–"}</td>
                    <td>
                      <ProgressBar pct={j.progressPct} label={`${j.serial} progress`} />
                    </td>
                    <td>{formatTime(j.finishedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <nav className="pager" aria-label="Pages">
          {after ? (
            <button type="button" className="secondary" onClick={() => history.back()}>
              Previous page
            </button>
          ) : null}
          {data?.jobs.pageInfo.hasNextPage && data.jobs.pageInfo.endCursor ? (
            <button
              type="button"
              onClick={() => {
                const next = new URLSearchParams(params);
                next.set("after", data.jobs.pageInfo.endCursor as string);
                setParams(next);
              }}
            >
              Next page
            </button>
          ) : null}
        </nav>
      </LoadState>
    </section>
  );
}
