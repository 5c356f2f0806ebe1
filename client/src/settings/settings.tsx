// Settings: limits, temperature colours, timings; notification channels; and API tokens (made with a scope, its secret
// shown once; listed with their last use; revoked at once).
import { type FormEvent, useState } from "react";
import { useMutation, useQuery } from "urql";
import { failureText, formatTime } from "../format";
import { graphql, useFragment } from "../gql";
import type { Scope } from "../gql/graphql";
import { useRefetchOnReconnect } from "../live";
import { LoadState } from "../parts";
import { Notifications } from "./notifications";

/** Every setting the page edits; the save answers with the same fields, so the page shows what was stored. */
const SettingsPage_settings = graphql(`
  fragment SettingsPage_settings on Settings {
    maxConcurrentJobs
    maxJobsPerHost
    temperatureWarmC
    temperatureHotC
    stuckMinutes
    unreachableGraceMinutes
    pollSeconds
    progressWriteSeconds
    smartPollSeconds
    temperaturePollSeconds
    badblocksBlocksAtOnce
    badblocksPasses
    badblocksMaxBadBlocks
    sshMaxConnectionMinutes
    hostListSeconds
    hostSmartSeconds
    hostControlSeconds
    remoteWorkDir
    notificationRetrySeconds
    publicUrl
    thermalProtection
    thermalPauseAtC
    thermalResumeAtC
    slowDrivePercent
    slowDriveMinPeers
    retentionDays
  }
`);

const Settings_Query = graphql(`
  query SettingsPage {
    settings {
      ...SettingsPage_settings
    }
  }
`);

const Tokens_Query = graphql(`
  query Tokens {
    apiTokens {
      id
      name
      scope
      createdAt
      lastUsedAt
      expiresAt
      revokedAt
      user {
        id
        username
      }
    }
  }
`);

const SetSetting_Mutation = graphql(`
  mutation SetSetting($key: String!, $value: String!) {
    setSetting(key: $key, value: $value) {
      __typename
      ... on SetSettingSuccess {
        data {
          ...SettingsPage_settings
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

const CreateToken_Mutation = graphql(`
  mutation CreateToken($name: String!, $scope: Scope!, $expiresInDays: Int) {
    createApiToken(name: $name, scope: $scope, expiresInDays: $expiresInDays) {
      __typename
      ... on CreateApiTokenSuccess {
        data {
          secret
          token {
            id
            name
          }
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

const RevokeToken_Mutation = graphql(`
  mutation RevokeToken($id: ID!) {
    revokeApiToken(id: $id) {
      __typename
      ... on RevokeApiTokenSuccess {
        data {
          id
          revokedAt
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

const FIELDS: Array<{ key: string; label: string; unit: string }> = [
  { key: "maxConcurrentJobs", label: "Burn-ins at once (all hosts)", unit: "" },
  { key: "maxJobsPerHost", label: "Burn-ins at once per host", unit: "" },
  { key: "temperatureWarmC", label: "Warm from", unit: "°C" },
  { key: "temperatureHotC", label: "Hot from", unit: "°C" },
  { key: "stuckMinutes", label: "A scan with no progress is stuck after", unit: "min" },
  { key: "unreachableGraceMinutes", label: "A job on an unreachable host turns unknown after", unit: "min" },
  { key: "pollSeconds", label: "Read a scan's log every", unit: "s" },
  { key: "progressWriteSeconds", label: "Write progress at most every", unit: "s" },
  { key: "smartPollSeconds", label: "Check self-tests every", unit: "s" },
  { key: "temperaturePollSeconds", label: "Read temperatures every", unit: "s" },
  { key: "sshMaxConnectionMinutes", label: "Renew SSH connections after", unit: "min" },
  { key: "hostListSeconds", label: "Wait for a host's disk listing (lsblk, zpool) at most", unit: "s" },
  { key: "hostSmartSeconds", label: "Wait for one disk's SMART report at most", unit: "s" },
  { key: "hostControlSeconds", label: "Wait for other host commands (starting, polling scans) at most", unit: "s" },
  { key: "badblocksBlocksAtOnce", label: "badblocks -c by default (0: about 1 MiB per request)", unit: "blocks" },
  { key: "badblocksPasses", label: "badblocks -p by default (0: one pass)", unit: "" },
  { key: "badblocksMaxBadBlocks", label: "badblocks -e by default (0: never stop early)", unit: "" },
  { key: "notificationRetrySeconds", label: "Retry an undelivered notification after (then 4x longer)", unit: "s" },
  { key: "thermalProtection", label: "Thermal protection for hard drives (true or false)", unit: "" },
  { key: "thermalPauseAtC", label: "Pause a scan when the drive reads (twice)", unit: "°C" },
  { key: "thermalResumeAtC", label: "Continue it at or below", unit: "°C" },
  { key: "slowDrivePercent", label: "Slow drive: under this share of its model's median speed", unit: "%" },
  { key: "slowDriveMinPeers", label: "Slow drive: other drives of the model needed to compare", unit: "" },
  { key: "retentionDays", label: "Keep logs, samples and raw SMART of finished jobs (0: forever; reports stay)", unit: "days" },
];

export function SettingsPage() {
  const [{ data, fetching, error }, reexecute] = useQuery({ query: Settings_Query });
  useRefetchOnReconnect(() => reexecute({ requestPolicy: "network-only" }));
  const settings = useFragment(SettingsPage_settings, data?.settings);
  const [, set] = useMutation(SetSetting_Mutation);
  const [status, setStatus] = useState<Record<string, string>>({});

  async function save(key: string, value: string) {
    const result = await set({ key, value });
    const failure = failureText(result.error, result.data?.setSetting);
    setStatus((s) => ({ ...s, [key]: failure ?? "saved" }));
  }

  return (
    <section aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <LoadState fetching={fetching} error={error} empty={!data} what="settings">
        {settings ? (
          <div className="settings-grid">
            {FIELDS.map((f) => (
              <SettingField
                key={f.key}
                label={f.label}
                unit={f.unit}
                value={String((settings as Record<string, unknown>)[f.key])}
                status={status[f.key]}
                onSave={(v) => save(f.key, v)}
              />
            ))}
            <SettingField
              label="Work directory on hosts"
              unit=""
              text
              value={settings.remoteWorkDir}
              status={status.remoteWorkDir}
              onSave={(v) => save("remoteWorkDir", JSON.stringify(v))}
            />
            <SettingField
              label="Kiln's address, for links in notifications"
              unit=""
              text
              value={settings.publicUrl}
              status={status.publicUrl}
              onSave={(v) => save("publicUrl", JSON.stringify(v))}
            />
          </div>
        ) : null}
      </LoadState>
      <Notifications />
      <Tokens />
    </section>
  );
}

function SettingField(props: {
  label: string;
  unit: string;
  value: string;
  status?: string;
  text?: boolean;
  onSave: (value: string) => void;
}) {
  const [value, setValue] = useState(props.value);
  return (
    <form
      className="setting"
      onSubmit={(e) => {
        e.preventDefault();
        props.onSave(value.trim());
      }}
    >
      <label>
        {props.label}
        <span className="with-unit">
          <input value={value} inputMode={props.text ? "text" : "decimal"} onChange={(e) => setValue(e.target.value)} />
          {props.unit}
        </span>
      </label>
      <button type="submit" className="secondary" disabled={value.trim() === props.value}>
        Save
      </button>
      {props.status ? <span role={props.status === "saved" ? "status" : "alert"}>{props.status}</span> : null}
    </form>
  );
}

function Tokens() {
  const [{ data, fetching, error }, reexecute] = useQuery({ query: Tokens_Query });
  useRefetchOnReconnect(() => reexecute({ requestPolicy: "network-only" }));
  const [, create] = useMutation(CreateToken_Mutation);
  const [, revoke] = useMutation(RevokeToken_Mutation);
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const days = String(form.get("expiresInDays") ?? "").trim();
    const result = await create({
      name: String(form.get("name") ?? "").trim(),
      scope: String(form.get("scope")) as Scope,
      expiresInDays: days ? Number(days) : undefined,
    });
    const answer = result.data?.createApiToken;
    const failure = failureText(result.error, answer);
    setProblem(failure);
    if (!failure && answer?.__typename === "CreateApiTokenSuccess") setSecret({ name: answer.data.token.name, secret: answer.data.secret });
  }

  const tokens = data?.apiTokens ?? [];
  return (
    <section aria-labelledby="tokens-title">
      <h3 id="tokens-title">API tokens</h3>
      <LoadState fetching={fetching} error={error} empty={!data} what="tokens">
        {tokens.length === 0 ? (
          <p className="empty">No tokens.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Scope</th>
                <th scope="col">Owner</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span className="sr-only">Revoke</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.map((t) => (
                <tr key={t.id}>
                  <td>{t.name}</td>
                  <td>{t.scope}</td>
                  <td>{t.user.username}</td>
                  <td>{formatTime(t.createdAt)}</td>
                  <td>{t.lastUsedAt ? formatTime(t.lastUsedAt) : "never"}</td>
                  <td>{t.expiresAt ? formatTime(t.expiresAt) : "never"}</td>
                  <td>
                    {t.revokedAt ? (
                      <span className="hint">revoked {formatTime(t.revokedAt)}</span>
                    ) : (
                      <button
                        type="button"
                        className="danger"
                        onClick={async () => {
                          if (!window.confirm(`Revoke ${t.name}? Scripts using it stop at once.`)) return;
                          const r = await revoke({ id: t.id });
                          setProblem(failureText(r.error, r.data?.revokeApiToken));
                        }}
                      >
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </LoadState>
      {secret ? (
        <div className="secret" role="status">
          <p>
            The secret of <strong>{secret.name}</strong>, shown this once: copy it now.
          </p>
          <code className="mono">{secret.secret}</code>
        </div>
      ) : null}
      <form className="form inline-form" onSubmit={submit}>
        <label>
          Name
          <input name="name" required placeholder="grafana" />
        </label>
        <label>
          Scope
          <select name="scope" defaultValue="read">
            <option value="read">read: see drives, jobs, history</option>
            <option value="operate">operate: also start and cancel burn-ins</option>
            <option value="admin">admin: everything</option>
          </select>
        </label>
        <label>
          Expires in days
          <input name="expiresInDays" inputMode="numeric" placeholder="never" />
        </label>
        <button type="submit">Create token</button>
        {problem ? <p role="alert">{problem}</p> : null}
      </form>
    </section>
  );
}
