// Admin (`/admin`, for admins): the accounts (add one with its role, change a role, disable or
// enable it) and the audit log (who did what, from where, newest first, 50 a page).
import { type FormEvent, useState } from "react";
import { useMutation, useQuery } from "urql";
import { failureText, formatTime } from "../format";
import { graphql } from "../gql";
import type { Role } from "../gql/graphql";
import { useRefetchOnReconnect } from "../live";
import { LoadState } from "../parts";

const Users_Query = graphql(`
  query AdminUsers {
    users {
      id
      username
      role
      createdAt
      disabledAt
    }
  }
`);

const CreateUser_Mutation = graphql(`
  mutation AdminCreateUser($username: String!, $password: String!, $role: Role!) {
    createUser(username: $username, password: $password, role: $role) {
      __typename
      ... on CreateUserSuccess {
        data {
          id
          username
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

const UpdateUser_Mutation = graphql(`
  mutation AdminUpdateUser($id: ID!, $role: Role, $disabled: Boolean) {
    updateUser(id: $id, role: $role, disabled: $disabled) {
      __typename
      ... on UpdateUserSuccess {
        data {
          id
          role
          disabledAt
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

const Audit_Query = graphql(`
  query AdminAudit($after: String) {
    auditEvents(first: 50, after: $after) {
      edges {
        node {
          id
          at
          actor
          action
          subjectType
          subjectId
          address
          details
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const ROLES: Array<{ value: Role; label: string }> = [
  { value: "viewer", label: "viewer: sees drives, jobs, history" },
  { value: "operator", label: "operator: also starts and cancels burn-ins" },
  { value: "admin", label: "admin: everything, hosts, settings and accounts too" },
];

export function AdminPage() {
  return (
    <section aria-labelledby="admin-title">
      <h2 id="admin-title">Users and audit log</h2>
      <Users />
      <AuditLog />
    </section>
  );
}

function Users() {
  const [{ data, fetching, error }, reexecute] = useQuery({ query: Users_Query });
  useRefetchOnReconnect(() => reexecute({ requestPolicy: "network-only" }));
  const [, create] = useMutation(CreateUser_Mutation);
  const [, update] = useMutation(UpdateUser_Mutation);
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const result = await create({
      username: String(form.get("username") ?? "").trim(),
      password: String(form.get("password") ?? ""),
      role: String(form.get("role")) as Role,
    });
    const answer = result.data?.createUser;
    const failure = failureText(result.error, answer);
    if (failure) {
      setStatus({ ok: false, text: failure });
      return;
    }
    formElement.reset();
    setStatus({ ok: true, text: `Added ${answer?.__typename === "CreateUserSuccess" ? answer.data.username : "the account"}.` });
    reexecute({ requestPolicy: "network-only" });
  }

  async function change(id: string, changes: { role?: Role; disabled?: boolean }, what: string) {
    const result = await update({ id, ...changes });
    const failure = failureText(result.error, result.data?.updateUser);
    setStatus(failure ? { ok: false, text: failure } : { ok: true, text: what });
  }

  const users = data?.users ?? [];
  return (
    <section aria-labelledby="users-title">
      <h3 id="users-title">Users</h3>
      <LoadState fetching={fetching} error={error} empty={!data} what="users">
        {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a box that scrolls sideways on a phone must take focus, so a keyboard can scroll it */}
        <section className="table-scroll" tabIndex={0} aria-label="Users, scrolls sideways">
          <table className="users">
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Role</th>
                <th scope="col">Since</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.id} data-username={u.username}>
                  <td>{u.username}</td>
                  <td>
                    <select
                      aria-label={`Role of ${u.username}`}
                      value={u.role}
                      onChange={(e) => change(u.id, { role: e.target.value as Role }, `${u.username} is now ${e.target.value}.`)}
                    >
                      {ROLES.map((r) => (
                        <option key={r.value} value={r.value}>
                          {r.value}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>{formatTime(u.createdAt)}</td>
                  <td>
                    {u.disabledAt ? (
                      <span className="badge warn">disabled {formatTime(u.disabledAt)}</span>
                    ) : (
                      <span className="badge ok">active</span>
                    )}{" "}
                    <button
                      type="button"
                      className={u.disabledAt ? "secondary" : "danger"}
                      onClick={() => {
                        if (!u.disabledAt && !window.confirm(`Disable ${u.username}? Their sessions and tokens stop at once.`)) return;
                        void change(u.id, { disabled: !u.disabledAt }, `${u.username} ${u.disabledAt ? "enabled" : "disabled"}.`);
                      }}
                    >
                      {u.disabledAt ? "Enable" : "Disable"}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </LoadState>
      <form className="form inline-form" onSubmit={submit} aria-label="Add a user">
        <label>
          User name
          <input name="username" required autoComplete="off" />
        </label>
        <label>
          Password (at least 12 characters)
          <input name="password" type="password" required minLength={12} autoComplete="new-password" />
        </label>
        <label>
          Role
          <select name="role" defaultValue="viewer">
            {ROLES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Add user</button>
      </form>
      {status ? <p role={status.ok ? "status" : "alert"}>{status.text}</p> : null}
    </section>
  );
}

function AuditLog() {
  const [after, setAfter] = useState<string[]>([]);
  const cursor = after.at(-1) ?? null;
  const [{ data, fetching, error }, reexecute] = useQuery({
    query: Audit_Query,
    variables: { after: cursor },
    requestPolicy: "cache-and-network",
  });
  useRefetchOnReconnect(() => reexecute({ requestPolicy: "network-only" }));
  const page = data?.auditEvents;
  return (
    <section aria-labelledby="audit-title">
      <h3 id="audit-title">Audit log</h3>
      <LoadState fetching={fetching} error={error} empty={!data} what="the audit log">
        {page && page.edges.length === 0 ? (
          <p className="empty">Nothing yet.</p>
        ) : (
          // biome-ignore lint/a11y/noNoninteractiveTabindex: a box that scrolls sideways on a phone must take focus, so a keyboard can scroll it
          <section className="table-scroll" tabIndex={0} aria-label="Audit log, scrolls sideways">
            <table className="audit">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Who</th>
                  <th scope="col">What</th>
                  <th scope="col">Of</th>
                  <th scope="col">From</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {(page?.edges ?? []).map(({ node: e }) => (
                  <tr key={e.id}>
                    <td>{formatTime(e.at)}</td>
                    <td>{e.actor}</td>
                    <td className="mono">{e.action}</td>
                    <td>{e.subjectType ? `${e.subjectType} ${e.subjectId ?? ""}` : "–"}</td>
                    <td>{e.address ?? "–"}</td>
                    <td className="mono audit-details">{e.details === "{}" ? "" : e.details}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        )}
      </LoadState>
      <div className="pager">
        <button type="button" className="secondary" disabled={after.length === 0} onClick={() => setAfter((a) => a.slice(0, -1))}>
          Newer
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!page?.pageInfo.hasNextPage}
          onClick={() => page?.pageInfo.endCursor && setAfter((a) => [...a, page.pageInfo.endCursor as string])}
        >
          Older
        </button>
      </div>
    </section>
  );
}
