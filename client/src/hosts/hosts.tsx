// Hosts: add one, compare and trust its key, read its drives again, see why it is unreachable,
// remove it.
import { type FormEvent, useState } from "react";
import { useMutation, useQuery } from "urql";
import { failureText, formatTime } from "../format";
import { graphql } from "../gql";
import { type LiveInventory, useLiveInventory, useRefetchOnReconnect } from "../live";
import { LoadState } from "../parts";

const Hosts_Query = graphql(`
  query Hosts {
    hosts {
      id
      name
      transport
      address
      port
      username
      useSudo
      status
      statusReason
      trusted
      fingerprint
      offeredFingerprint
      lastSeenAt
      drives {
        id
      }
    }
  }
`);

const AddHost_Mutation = graphql(`
  mutation AddHost($input: HostInput!) {
    addHost(input: $input) {
      __typename
      ... on Error {
        message
      }
    }
  }
`);

const UploadKey_Mutation = graphql(`
  mutation UploadKey($name: String!, $privateKey: String!) {
    uploadSshKey(name: $name, privateKey: $privateKey) {
      __typename
      ... on UploadSshKeySuccess {
        data {
          name
          path
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

const TrustHost_Mutation = graphql(`
  mutation TrustHost($hostId: ID!, $fingerprint: String!) {
    trustHostKey(hostId: $hostId, fingerprint: $fingerprint) {
      __typename
      ... on TrustHostKeySuccess {
        data {
          id
          trusted
          fingerprint
          offeredFingerprint
          status
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

const RefreshHost_Mutation = graphql(`
  mutation RefreshHost($hostId: ID!) {
    refreshInventory(hostId: $hostId) {
      __typename
      ... on RefreshInventorySuccess {
        data {
          joined
          host {
            id
            status
            statusReason
          }
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

const RemoveHost_Mutation = graphql(`
  mutation RemoveHost($id: ID!) {
    removeHost(id: $id) {
      __typename
      ... on Error {
        message
      }
    }
  }
`);

export function Hosts() {
  const [{ data, fetching, error }, reexecute] = useQuery({ query: Hosts_Query });
  useRefetchOnReconnect(() => reexecute({ requestPolicy: "network-only" }));
  const [, trust] = useMutation(TrustHost_Mutation);
  const [, refresh] = useMutation(RefreshHost_Mutation);
  const [, remove] = useMutation(RemoveHost_Mutation);
  const [messages, setMessages] = useState<Record<string, string | null>>({});
  const say = (id: string, text: string | null) => setMessages((m) => ({ ...m, [id]: text }));

  return (
    <section aria-labelledby="hosts-title">
      <h2 id="hosts-title">Hosts</h2>
      <LoadState fetching={fetching} error={error} empty={!data} what="hosts">
        {(data?.hosts ?? []).length === 0 ? <p className="empty">No hosts yet: add one below.</p> : null}
        {(data?.hosts ?? []).map((h) => {
          const offered = h.offeredFingerprint ?? (!h.trusted ? h.fingerprint : null);
          return (
            <article key={h.id} className="host-card" aria-label={`Host ${h.name}`}>
              <h3>
                {h.name} <span className={`badge ${h.status === "ok" ? "ok" : "warn"}`}>{h.status}</span>
              </h3>
              <p className="hint">
                {h.transport === "ssh" ? `${h.username ?? "root"}@${h.address}:${h.port}${h.useSudo ? " (sudo)" : ""}` : h.transport} ·{" "}
                {h.drives.length} drives · last seen {formatTime(h.lastSeenAt)}
              </p>
              {h.statusReason ? <p className="warn-text">{h.statusReason}</p> : null}
              {offered ? (
                <div className="fingerprint">
                  <p>
                    {h.offeredFingerprint ? "The host now offers a different key:" : "Kiln was shown this host key:"} <code>{offered}</code>
                  </p>
                  <p className="hint">
                    Compare it on the host with <code>for k in /etc/ssh/ssh_host_*_key.pub; do ssh-keygen -lf "$k"; done</code> before you
                    trust it.
                  </p>
                  <button
                    type="button"
                    onClick={async () => {
                      const r = await trust({ hostId: h.id, fingerprint: offered });
                      say(h.id, failureText(r.error, r.data?.trustHostKey));
                    }}
                  >
                    Trust this key
                  </button>
                </div>
              ) : null}
              <div className="actions">
                <button
                  type="button"
                  className="secondary"
                  onClick={async () => {
                    say(h.id, null);
                    const r = await refresh({ hostId: h.id });
                    // Started: its steps and end show below as the host tells them.
                    say(h.id, failureText(r.error, r.data?.refreshInventory));
                  }}
                >
                  Refresh inventory
                </button>
                <button
                  type="button"
                  className="danger"
                  onClick={async () => {
                    if (!window.confirm(`Remove ${h.name} and forget its drives' history?`)) return;
                    const r = await remove({ id: h.id });
                    say(h.id, failureText(r.error, r.data?.removeHost));
                  }}
                >
                  Remove
                </button>
                {messages[h.id] ? <span role="status">{messages[h.id]}</span> : null}
                <InventoryStatus hostId={h.id} />
              </div>
            </article>
          );
        })}
      </LoadState>
      <UploadKeyForm />
      <AddHostForm />
    </section>
  );
}

/** A private key for hosts, kept in Kiln's keys directory (0600); it is never shown again. */
function UploadKeyForm() {
  const [{ fetching }, upload] = useMutation(UploadKey_Mutation);
  const [problem, setProblem] = useState<string | null>(null);
  const [stored, setStored] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const result = await upload({ name: String(form.get("name") ?? "").trim(), privateKey: String(form.get("privateKey") ?? "") });
    const answer = result.data?.uploadSshKey;
    const failure = failureText(result.error, answer);
    if (failure) {
      setProblem(failure);
      return;
    }
    setProblem(null);
    if (answer?.__typename === "UploadSshKeySuccess") setStored(answer.data.name);
    formElement.reset();
  }

  return (
    <form className="form" onSubmit={submit} aria-labelledby="upload-key-title">
      <h3 id="upload-key-title">Store an SSH key</h3>
      <label>
        Key name
        <input name="name" required placeholder="nas" />
      </label>
      <label>
        Private key (PEM or OpenSSH)
        <textarea name="privateKey" required rows={4} spellCheck={false} />
      </label>
      {problem ? <p role="alert">{problem}</p> : null}
      {stored ? <p role="status">Stored key {stored}: give its name when you add a host.</p> : null}
      <div className="actions">
        <button type="submit" disabled={fetching}>
          Store key
        </button>
      </div>
    </form>
  );
}

function AddHostForm() {
  const [{ fetching }, add] = useMutation(AddHost_Mutation);
  const [problem, setProblem] = useState<string | null>(null);
  const [added, setAdded] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const text = (name: string) => String(form.get(name) ?? "").trim() || undefined;
    const port = text("port");
    const result = await add({
      input: {
        name: text("name") ?? "",
        transport: "ssh",
        address: text("address"),
        port: port ? Number(port) : undefined,
        username: text("username"),
        privateKeyPath: text("privateKeyPath"),
        useSudo: form.get("useSudo") === "on",
      },
    });
    const answer = result.data?.addHost;
    const failure = failureText(result.error, answer);
    if (failure) {
      setProblem(failure);
      return;
    }
    setProblem(null);
    setAdded(text("name") ?? "");
    formElement.reset();
  }

  return (
    <form className="form add-host" onSubmit={submit} aria-labelledby="add-host-title">
      <h3 id="add-host-title">Add an SSH host</h3>
      <label>
        Name
        <input name="name" required />
      </label>
      <label>
        Address
        <input name="address" required placeholder="nas.lan or 192.168.1.20" />
      </label>
      <label>
        Port
        <input name="port" inputMode="numeric" placeholder="22" />
      </label>
      <label>
        User
        <input name="username" placeholder="root" />
      </label>
      <label>
        Key name (uploaded above, or a file in Kiln's keys directory)
        <input name="privateKeyPath" placeholder="nas" />
      </label>
      <label className="inline">
        <input type="checkbox" name="useSudo" /> Run commands with sudo
      </label>
      {problem ? <p role="alert">{problem}</p> : null}
      {added ? <p role="status">Added {added}: compare and trust its key above.</p> : null}
      <div className="actions">
        <button type="submit" disabled={fetching}>
          Add host
        </button>
      </div>
    </form>
  );
}

function inventoryText(inventory: LiveInventory): string {
  if (inventory.running)
    return `reading drives: ${inventory.step}${inventory.total ? ` (step ${inventory.done + 1} of ${inventory.total})` : ""}`;
  if (inventory.error) return `inventory failed: ${inventory.error}`;
  return `drives read again: ${inventory.found ?? 0} found${inventory.missing ? `, ${inventory.missing} now missing` : ""}`;
}

/** What the host's inventory is doing now, or how its last one ended (live, from hostUpdated). */
function InventoryStatus({ hostId }: { hostId: string }) {
  const inventory = useLiveInventory(hostId);
  if (!inventory) return null;
  return (
    <span role="status" aria-label="Inventory" className={inventory.error ? "warn-text" : "hint"}>
      {inventoryText(inventory)}
    </span>
  );
}
