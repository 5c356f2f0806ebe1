// Notification channels (admins): email, webhook, ntfy, Gotify; the events each one sends; a test
// message at once; the delivery log of each channel. Secrets are typed in, never shown again.
import { type FormEvent, useState } from "react";
import { useMutation, useQuery } from "urql";
import { failureText, formatTime } from "../format";
import { graphql } from "../gql";
import { useRefetchOnReconnect } from "../live";
import { LoadState } from "../parts";

const Channels_Query = graphql(`
  query NotificationChannels {
    notificationEvents
    notificationChannels {
      id
      name
      kind
      config
      secretsSet
      events
      foldBatch
      enabled
      deliveries(first: 5) {
        id
        event
        title
        status
        attempts
        lastError
        createdAt
      }
    }
  }
`);

const AddChannel_Mutation = graphql(`
  mutation AddNotificationChannel($input: NotificationChannelInput!) {
    addNotificationChannel(input: $input) {
      __typename
      ... on AddNotificationChannelSuccess {
        data {
          id
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

const TestChannel_Mutation = graphql(`
  mutation TestNotificationChannel($id: ID!) {
    testNotificationChannel(id: $id) {
      __typename
      ... on TestNotificationChannelSuccess {
        data {
          id
          status
          lastError
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

const RemoveChannel_Mutation = graphql(`
  mutation RemoveNotificationChannel($id: ID!) {
    removeNotificationChannel(id: $id) {
      __typename
      ... on Error {
        message
      }
    }
  }
`);

type Kind = "email" | "webhook" | "ntfy" | "gotify";
const KIND_FIELDS: Record<Kind, Array<{ key: string; label: string; secret?: boolean; optional?: boolean }>> = {
  webhook: [
    { key: "url", label: "URL" },
    { key: "secret", label: "Signing secret (16+ characters)", secret: true },
  ],
  ntfy: [
    { key: "url", label: "Topic URL (https://ntfy.sh/your-topic)" },
    { key: "token", label: "Access token", secret: true, optional: true },
  ],
  gotify: [
    { key: "url", label: "Server URL" },
    { key: "token", label: "Application token", secret: true },
  ],
  email: [
    { key: "host", label: "SMTP host" },
    { key: "port", label: "Port" },
    { key: "security", label: "Security (tls, starttls, none)" },
    { key: "username", label: "User", optional: true },
    { key: "password", label: "Password", secret: true, optional: true },
    { key: "from", label: "From" },
    { key: "to", label: "To (comma-separated)" },
  ],
};

export function Notifications() {
  const [{ data, fetching, error }, reexecute] = useQuery({ query: Channels_Query });
  useRefetchOnReconnect(() => reexecute({ requestPolicy: "network-only" }));
  const refresh = () => reexecute({ requestPolicy: "network-only" });
  const [, test] = useMutation(TestChannel_Mutation);
  const [, remove] = useMutation(RemoveChannel_Mutation);
  const [result, setResult] = useState<Record<string, string>>({});
  const forbidden = error?.response?.status === 403 || /403|admin/i.test(error?.message ?? "");

  return (
    <section aria-labelledby="notifications-title">
      <h3 id="notifications-title">Notifications</h3>
      {forbidden ? (
        <p className="hint">Only admins manage notification channels.</p>
      ) : (
        <LoadState fetching={fetching} error={error} empty={!data} what="notification channels">
          {data ? (
            <>
              {data.notificationChannels.length === 0 ? <p className="hint">No channel yet: add one below.</p> : null}
              {data.notificationChannels.map((c) => (
                <article key={c.id} className="channel" aria-label={`Channel ${c.name}`}>
                  <h4>
                    {c.name} <span className="hint">{c.kind}</span>
                    {c.enabled ? null : <span className="hint"> (off)</span>}
                  </h4>
                  <p className="hint">
                    {c.events.join(", ")}
                    {c.foldBatch ? " · batches as one summary" : " · every job"}
                    {c.secretsSet.length ? ` · ${c.secretsSet.join(", ")} set` : ""}
                  </p>
                  <div className="actions">
                    <button
                      type="button"
                      onClick={async () => {
                        const r = await test({ id: c.id });
                        const failure = failureText(r.error, r.data?.testNotificationChannel);
                        const d =
                          r.data?.testNotificationChannel.__typename === "TestNotificationChannelSuccess"
                            ? r.data.testNotificationChannel.data
                            : null;
                        setResult((s) => ({
                          ...s,
                          [c.id]: failure ?? (d?.status === "sent" ? "test sent" : `test failed: ${d?.lastError ?? "?"}`),
                        }));
                        refresh();
                      }}
                    >
                      Send test
                    </button>
                    <button
                      type="button"
                      className="secondary"
                      onClick={async () => {
                        if (!window.confirm(`Remove the channel ${c.name}?`)) return;
                        await remove({ id: c.id });
                        refresh();
                      }}
                    >
                      Remove
                    </button>
                    {result[c.id] ? <span role={result[c.id] === "test sent" ? "status" : "alert"}>{result[c.id]}</span> : null}
                  </div>
                  {c.deliveries.length ? (
                    <table className="deliveries">
                      <tbody>
                        {c.deliveries.map((d) => (
                          <tr key={d.id}>
                            <td>{formatTime(d.createdAt)}</td>
                            <td>{d.title}</td>
                            <td>
                              {d.status}
                              {d.attempts > 1 ? ` (${d.attempts} attempts)` : ""}
                            </td>
                            <td className="hint">{d.lastError ?? ""}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  ) : null}
                </article>
              ))}
              <AddChannel events={data.notificationEvents} onAdded={refresh} />
            </>
          ) : null}
        </LoadState>
      )}
    </section>
  );
}

function AddChannel({ events, onAdded }: { events: string[]; onAdded: () => void }) {
  const [kind, setKind] = useState<Kind>("ntfy");
  const [name, setName] = useState("");
  const [values, setValues] = useState<Record<string, string>>({});
  const [chosen, setChosen] = useState<string[]>(["job.failed", "job.unknown", "batch.finished"]);
  const [foldBatch, setFoldBatch] = useState(true);
  const [message, setMessage] = useState<string | null>(null);
  const [, add] = useMutation(AddChannel_Mutation);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const config: Record<string, unknown> = {};
    for (const f of KIND_FIELDS[kind]) {
      const v = (values[f.key] ?? "").trim();
      if (!v && f.optional) continue;
      config[f.key] =
        f.key === "port"
          ? Number(v)
          : f.key === "to"
            ? v
                .split(",")
                .map((x) => x.trim())
                .filter(Boolean)
            : v;
    }
    const r = await add({ input: { name, kind, config: JSON.stringify(config), events: chosen, foldBatch } });
    const failure = failureText(r.error, r.data?.addNotificationChannel);
    setMessage(failure ?? `added ${name}`);
    if (!failure) {
      setName("");
      setValues({});
      onAdded();
    }
  };

  return (
    <form className="add-channel" onSubmit={submit} aria-label="Add a notification channel">
      <h4>Add a channel</h4>
      <label>
        Name <input value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <label>
        Kind{" "}
        <select value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
          <option value="ntfy">ntfy</option>
          <option value="gotify">Gotify</option>
          <option value="webhook">Webhook (signed JSON)</option>
          <option value="email">Email (SMTP)</option>
        </select>
      </label>
      {KIND_FIELDS[kind].map((f) => (
        <label key={`${kind}-${f.key}`}>
          {f.label}
          <input
            type={f.secret ? "password" : "text"}
            autoComplete="off"
            value={values[f.key] ?? ""}
            onChange={(e) => setValues((v) => ({ ...v, [f.key]: e.target.value }))}
            required={!f.optional}
          />
        </label>
      ))}
      <fieldset>
        <legend>Events</legend>
        {events.map((event) => (
          <label key={event} className="check">
            <input
              type="checkbox"
              checked={chosen.includes(event)}
              onChange={(e) => setChosen((c) => (e.target.checked ? [...c, event] : c.filter((x) => x !== event)))}
            />
            {event}
          </label>
        ))}
      </fieldset>
      <label className="check">
        <input type="checkbox" checked={foldBatch} onChange={(e) => setFoldBatch(e.target.checked)} />
        Tell the jobs of a batch in its summary only
      </label>
      <button type="submit">Add channel</button>
      {message ? <span role={message.startsWith("added") ? "status" : "alert"}>{message}</span> : null}
    </form>
  );
}
