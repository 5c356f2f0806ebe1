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

const UpdateSettings_Mutation = graphql(`
  mutation UpdateSettings($input: SettingsInput!) {
    updateSettings(input: $input) {
      __typename
      ... on UpdateSettingsSuccess {
        data {
          ...SettingsPage_settings
        }
      }
      ... on SettingsRejectedError {
        message
        problems {
          field
          message
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

type Kind = "int" | "float" | "text" | "toggle";

interface Field {
  key: string;
  label: string;
  unit?: string;
  kind: Kind;
  min?: number;
  max?: number;
  hint?: string;
}

/** The settings by what they are about; each with its type, its unit and the limits the server checks. */
const GROUPS: Array<{ title: string; fields: Field[] }> = [
  {
    title: "Burn-ins at once",
    fields: [
      { key: "maxConcurrentJobs", label: "On all hosts", kind: "int", min: 1, max: 1000 },
      { key: "maxJobsPerHost", label: "On one host", kind: "int", min: 1, max: 256 },
    ],
  },
  {
    title: "Temperatures",
    fields: [
      { key: "temperatureWarmC", label: "Shown warm from", unit: "°C", kind: "int", min: 20, max: 99 },
      { key: "temperatureHotC", label: "Shown hot from", unit: "°C", kind: "int", min: 21, max: 100 },
      {
        key: "thermalProtection",
        label: "Thermal protection: pause a hard drive's scan while it is too hot",
        kind: "toggle",
      },
      { key: "thermalPauseAtC", label: "Pause when the drive reads (twice in a row)", unit: "°C", kind: "int", min: 30, max: 100 },
      { key: "thermalResumeAtC", label: "Continue at or below", unit: "°C", kind: "int", min: 20, max: 99 },
    ],
  },
  {
    title: "badblocks defaults (a job's own options win)",
    fields: [
      {
        key: "badblocksBlocksAtOnce",
        label: "-c, blocks per request",
        unit: "blocks",
        kind: "int",
        min: 0,
        max: 65536,
        hint: "0: about 1 MiB",
      },
      { key: "badblocksPasses", label: "-p, passes", kind: "int", min: 0, max: 16, hint: "0: one pass" },
      {
        key: "badblocksMaxBadBlocks",
        label: "-e, stop after this many bad blocks",
        kind: "int",
        min: 0,
        max: 10_000_000,
        hint: "0: never",
      },
    ],
  },
  {
    title: "Verdicts and history",
    fields: [
      {
        key: "slowDrivePercent",
        label: "Slow drive: under this share of its model's median speed",
        unit: "%",
        kind: "float",
        min: 1,
        max: 99,
      },
      { key: "slowDriveMinPeers", label: "Slow drive: other drives of the model needed to compare", kind: "int", min: 1, max: 1000 },
      {
        key: "retentionDays",
        label: "Keep logs, samples and raw SMART of finished jobs",
        unit: "days",
        kind: "int",
        min: 0,
        max: 36_500,
        hint: "0: forever; reports always stay",
      },
    ],
  },
  {
    title: "Timings",
    fields: [
      { key: "pollSeconds", label: "Read a scan's log every", unit: "s", kind: "float", min: 0.1, max: 600 },
      { key: "progressWriteSeconds", label: "Write progress at most every", unit: "s", kind: "float", min: 1, max: 600 },
      { key: "smartPollSeconds", label: "Check self-tests every", unit: "s", kind: "float", min: 0.5, max: 3600 },
      { key: "temperaturePollSeconds", label: "Read temperatures every", unit: "s", kind: "float", min: 1, max: 3600 },
      { key: "stuckMinutes", label: "A scan with no progress is stuck after", unit: "min", kind: "float", min: 0.05, max: 10_080 },
      {
        key: "notificationRetrySeconds",
        label: "Retry an undelivered notification after (then 4x longer)",
        unit: "s",
        kind: "float",
        min: 0.1,
        max: 3600,
      },
    ],
  },
  {
    title: "Hosts",
    fields: [
      {
        key: "unreachableGraceMinutes",
        label: "A job on an unreachable host turns unknown after",
        unit: "min",
        kind: "float",
        min: 0.05,
        max: 43_200,
      },
      { key: "sshMaxConnectionMinutes", label: "Renew SSH connections after", unit: "min", kind: "float", min: 0.05, max: 10_080 },
      {
        key: "hostListSeconds",
        label: "Wait for a host's disk listing (lsblk, zpool) at most",
        unit: "s",
        kind: "float",
        min: 1,
        max: 3600,
      },
      { key: "hostSmartSeconds", label: "Wait for one disk's SMART report at most", unit: "s", kind: "float", min: 1, max: 3600 },
      { key: "hostControlSeconds", label: "Wait for other host commands at most", unit: "s", kind: "float", min: 1, max: 3600 },
      { key: "remoteWorkDir", label: "Work directory on hosts", kind: "text", hint: "an absolute path; created 0700" },
    ],
  },
  {
    title: "Links",
    fields: [
      { key: "publicUrl", label: "Kiln's address, for links in notifications and report QR codes", kind: "text", hint: "empty: no links" },
    ],
  },
];

type Values = Record<string, string | boolean>;

function valuesOf(settings: Record<string, unknown>): Values {
  const values: Values = {};
  for (const f of GROUPS.flatMap((g) => g.fields)) {
    const v = settings[f.key];
    values[f.key] = f.kind === "toggle" ? Boolean(v) : String(v ?? "");
  }
  return values;
}

/** The field's value as the API takes it, or why it cannot be (said before anything is sent). */
function parseField(f: Field, raw: string | boolean): { value: unknown } | { problem: string } {
  if (f.kind === "toggle") return { value: Boolean(raw) };
  const text = String(raw).trim();
  if (f.kind === "text") return { value: text };
  if (text === "") return { problem: "give a number" };
  const n = Number(text);
  if (!Number.isFinite(n)) return { problem: `"${text}" is not a number` };
  if (f.kind === "int" && !Number.isInteger(n)) return { problem: "must be a whole number" };
  if (f.min !== undefined && n < f.min) return { problem: `must be at least ${f.min}` };
  if (f.max !== undefined && n > f.max) return { problem: `must be at most ${f.max}` };
  return { value: n };
}

export function SettingsPage() {
  const [{ data, fetching, error }, reexecute] = useQuery({ query: Settings_Query });
  useRefetchOnReconnect(() => reexecute({ requestPolicy: "network-only" }));
  const settings = useFragment(SettingsPage_settings, data?.settings);

  return (
    <section aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <LoadState fetching={fetching} error={error} empty={!data} what="settings">
        {settings ? <SettingsForm stored={valuesOf(settings as Record<string, unknown>)} /> : null}
      </LoadState>
      <Notifications />
      <Tokens />
    </section>
  );
}

/** One form for every setting: typed controls, one Save for what changed, each problem at its field. */
function SettingsForm({ stored }: { stored: Values }) {
  const [values, setValues] = useState<Values>(stored);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const [{ fetching }, update] = useMutation(UpdateSettings_Mutation);
  const fields = GROUPS.flatMap((g) => g.fields);
  const changed = fields.filter((f) => values[f.key] !== stored[f.key]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const input: Record<string, unknown> = {};
    const found: Record<string, string> = {};
    for (const f of changed) {
      const parsed = parseField(f, values[f.key] ?? "");
      if ("problem" in parsed) found[f.key] = parsed.problem;
      else input[f.key] = parsed.value;
    }
    setProblems(found);
    if (Object.keys(found).length) {
      setStatus({
        ok: false,
        text: `Nothing saved: ${Object.keys(found).length === 1 ? "a setting needs" : "settings need"} a look (marked below).`,
      });
      return;
    }
    const result = await update({ input });
    const answer = result.data?.updateSettings;
    if (answer?.__typename === "SettingsRejectedError") {
      setProblems(Object.fromEntries(answer.problems.map((p) => [p.field, p.message])));
      setStatus({ ok: false, text: "Nothing saved: Kiln refused what is marked below." });
      return;
    }
    const failure = failureText(result.error, answer);
    if (failure) {
      setStatus({ ok: false, text: failure });
      return;
    }
    if (answer?.__typename === "UpdateSettingsSuccess") {
      const saved = valuesOf(answer.data as unknown as Record<string, unknown>);
      setValues(saved);
      setStatus({ ok: true, text: `Saved ${changed.length} setting${changed.length === 1 ? "" : "s"}.` });
    }
  }

  return (
    <form className="settings-form" onSubmit={submit} noValidate>
      {GROUPS.map((group) => (
        <fieldset key={group.title}>
          <legend>{group.title}</legend>
          {group.fields.map((f) => (
            <SettingControl
              key={f.key}
              field={f}
              value={values[f.key] ?? ""}
              problem={problems[f.key]}
              onChange={(v) => setValues((old) => ({ ...old, [f.key]: v }))}
            />
          ))}
        </fieldset>
      ))}
      <div className="actions settings-actions">
        <button type="submit" disabled={fetching || changed.length === 0}>
          {changed.length ? `Save ${changed.length} change${changed.length === 1 ? "" : "s"}` : "Saved"}
        </button>
        <button
          type="button"
          className="secondary"
          disabled={changed.length === 0}
          onClick={() => {
            setValues(stored);
            setProblems({});
          }}
        >
          Undo changes
        </button>
        {status ? <span role={status.ok ? "status" : "alert"}>{status.text}</span> : null}
      </div>
    </form>
  );
}

function SettingControl({
  field,
  value,
  problem,
  onChange,
}: {
  field: Field;
  value: string | boolean;
  problem?: string;
  onChange: (value: string | boolean) => void;
}) {
  const id = `setting-${field.key}`;
  const described = [field.hint ? `${id}-hint` : null, problem ? `${id}-problem` : null].filter(Boolean).join(" ") || undefined;
  if (field.kind === "toggle") {
    return (
      <div className="setting toggle">
        <label htmlFor={id} className="toggle-label">
          <input
            id={id}
            type="checkbox"
            checked={Boolean(value)}
            onChange={(e) => onChange(e.target.checked)}
            aria-describedby={described}
          />{" "}
          {field.label}
        </label>
        {problem ? (
          <span id={`${id}-problem`} className="field-problem">
            {problem}
          </span>
        ) : null}
      </div>
    );
  }
  return (
    <div className="setting">
      <label htmlFor={id}>{field.label}</label>
      <span className="with-unit">
        <input
          id={id}
          name={field.key}
          type={field.kind === "text" ? "text" : "number"}
          inputMode={field.kind === "int" ? "numeric" : field.kind === "float" ? "decimal" : "text"}
          step={field.kind === "int" ? 1 : "any"}
          min={field.min}
          max={field.max}
          value={String(value)}
          onChange={(e) => onChange(e.target.value)}
          aria-invalid={problem ? true : undefined}
          aria-describedby={described}
        />
        {field.unit ? <span>{field.unit}</span> : null}
      </span>
      {field.hint ? (
        <span id={`${id}-hint`} className="hint">
          {field.hint}
        </span>
      ) : null}
      {problem ? (
        <span id={`${id}-problem`} className="field-problem">
          {problem}
        </span>
      ) : null}
    </div>
  );
}

/**
 * Put a token's secret on the clipboard. The Clipboard API needs a secure context (https or
 * localhost); elsewhere the secret is selected for Ctrl+C.
 */
async function copySecret(secret: string): Promise<string> {
  try {
    await navigator.clipboard.writeText(secret);
    return "copied";
  } catch {
    const code = document.getElementById("token-secret");
    if (code) window.getSelection()?.selectAllChildren(code);
    return "selected: press Ctrl+C (this page is not https, so it cannot copy by itself)";
  }
}

function Tokens() {
  const [{ data, fetching, error }, reexecute] = useQuery({ query: Tokens_Query });
  useRefetchOnReconnect(() => reexecute({ requestPolicy: "network-only" }));
  const [, create] = useMutation(CreateToken_Mutation);
  const [, revoke] = useMutation(RevokeToken_Mutation);
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
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
          <div className="table-scroll">
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
          </div>
        )}
      </LoadState>
      {secret ? (
        <div className="secret" role="status">
          <p>
            The secret of <strong>{secret.name}</strong>, shown this once: copy it now.
          </p>
          <code className="mono" id="token-secret">
            {secret.secret}
          </code>
          <button type="button" className="secondary" onClick={() => copySecret(secret.secret).then(setCopied)}>
            Copy
          </button>{" "}
          {copied ? <span className="hint">{copied}</span> : null}
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
