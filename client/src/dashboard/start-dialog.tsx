// "Start burn-in": the profile, and badblocks' options with what Kiln chooses when left empty.
import { type FormEvent, useState } from "react";
import { useMutation, useQuery } from "urql";
import { formatDuration } from "../burn-in/scan";
import { Dialog } from "../dialog";
import { failureText, formatBytes } from "../format";
import { graphql } from "../gql";
import type { BurnInOptions, Profile, SanitizeMethod } from "../gql/graphql";

const StartBurnIn_Mutation = graphql(`
  mutation StartBurnIn($driveIds: [ID!]!, $profile: Profile!, $options: BurnInOptions, $confirmSsdWrite: Boolean) {
    startBurnIn(driveIds: $driveIds, profile: $profile, options: $options, confirmSsdWrite: $confirmSsdWrite) {
      __typename
      ... on ValidationError {
        field
      }
      ... on StartBurnInSuccess {
        data {
          id
          status
        }
      }
      ... on Error {
        message
      }
    }
  }
`);

const StartDefaults_Query = graphql(`
  query StartDefaults {
    settings {
      badblocksBlocksAtOnce
      badblocksPasses
      badblocksMaxBadBlocks
    }
  }
`);

const SANITIZE_CHOICES: Array<{ value: SanitizeMethod | ""; label: string }> = [
  { value: "", label: "No sanitize" },
  { value: "block_erase", label: "Block erase (SSDs; a hard drive's firmware overwrites)" },
  { value: "crypto_erase", label: "Crypto erase (self-encrypting drives: seconds)" },
  { value: "overwrite", label: "Overwrite (one pass of zeros, by the drive)" },
];

const PROFILES: Array<{ value: Profile; label: string }> = [
  {
    value: "standard",
    label: "standard: SMART short, one position-checked fio write+verify pass, SMART long, comparison",
  },
  { value: "full", label: "full: SMART short, badblocks write+verify (4 patterns), SMART long, comparison" },
  { value: "quick", label: "quick: SMART short and the comparison, no writes" },
  { value: "ssd", label: "ssd: SMART short and long, comparison (no writes: a scan only wears flash)" },
  { value: "nvme", label: "nvme: NVMe self-tests and the comparison" },
  { value: "simulate", label: "simulate: a timed stand-in, nothing touches the drive" },
];

const StartEstimates_Query = graphql(`
  query StartEstimates {
    drives(includeMissing: false) {
      id
      profileEstimates {
        profile
        seconds
      }
    }
  }
`);

type Defaults = { badblocksBlocksAtOnce: number; badblocksPasses: number; badblocksMaxBadBlocks: number } | undefined;

/** The advanced options: empty means the default (Settings, or Kiln's own), said next to each field. */
const OPTIONS = [
  { key: "blockSize", label: "Block size (-b)", hint: () => "default: fits the drive in 2^32 blocks, at least 4096" },
  {
    key: "blocksAtOnce",
    label: "Blocks at once (-c)",
    hint: (d: Defaults) =>
      d?.badblocksBlocksAtOnce ? `default: ${d.badblocksBlocksAtOnce} (Settings)` : "default: about 1 MiB per request",
  },
  {
    key: "maxBadBlocks",
    label: "Stop after bad blocks (-e)",
    hint: (d: Defaults) => (d?.badblocksMaxBadBlocks ? `default: ${d.badblocksMaxBadBlocks} (Settings)` : "default: never stop early"),
  },
  {
    key: "readDelayFactor",
    label: "Read delay (-d, %)",
    hint: () => "default: none; 100 makes each read wait as long as it took, leaving the drive half its time for other work",
  },
  {
    key: "passes",
    label: "Passes (-p)",
    hint: (d: Defaults) => (d?.badblocksPasses ? `default: ${d.badblocksPasses} (Settings)` : "default: 1"),
  },
] as const;

export function StartDialog({
  drives,
  onClose,
}: {
  drives: Array<{
    id: string;
    serial: string;
    inUse: boolean;
    model: string | null;
    sizeBytes: number | null;
    devicePath: string | null;
    hostName: string;
  }>;
  onClose: (started: boolean) => void;
}) {
  const [profile, setProfile] = useState<Profile>("standard");
  const [sanitize, setSanitize] = useState<SanitizeMethod | "">("");
  const [values, setValues] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<string | null>(null);
  // Kiln refused a write scan on SSDs until confirmed: the dialog asks.
  const [ssdRefused, setSsdRefused] = useState(false);
  const [confirmSsdWrite, setConfirmSsdWrite] = useState(false);
  const [{ fetching }, start] = useMutation(StartBurnIn_Mutation);
  const [{ data: defaults }] = useQuery({ query: StartDefaults_Query });
  const [{ data: estimates }] = useQuery({ query: StartEstimates_Query });
  // The chosen profile on the slowest of the chosen drives: when the batch is done.
  const chosen = new Set(drives.map((d) => d.id));
  const seconds = (estimates?.drives ?? [])
    .filter((d) => chosen.has(d.id))
    .flatMap((d) => d.profileEstimates.filter((e) => e.profile === profile).map((e) => e.seconds));
  const estimate = seconds.length ? Math.max(...seconds) : null;
  const writes = profile === "full" || profile === "standard" || sanitize !== "";
  // Erasing is typed for, not clicked through: the serial of one drive, the number of several.
  const [typed, setTyped] = useState("");
  const single = drives.length === 1 ? drives[0] : undefined;
  const confirmWord = single ? single.serial : String(drives.length);
  const confirmed = !writes || typed.trim() === confirmWord;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!confirmed) {
      setProblem(single ? `Type the serial ${single.serial} to erase it` : `Type ${drives.length}, the number of drives to erase`);
      return;
    }
    const options: BurnInOptions = sanitize ? { sanitize } : {};
    for (const { key, label } of OPTIONS) {
      const raw = values[key]?.trim();
      if (!raw) continue;
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0) {
        setProblem(`${label}: a whole number, or empty for the default`);
        return;
      }
      (options as Record<string, number>)[key] = n;
    }
    const result = await start({ driveIds: drives.map((d) => d.id), profile, options, confirmSsdWrite });
    const answer = result.data?.startBurnIn;
    const failure = failureText(result.error, answer);
    if (failure) {
      setProblem(failure);
      if (answer?.__typename === "ValidationError" && answer.field === "confirmSsdWrite") setSsdRefused(true);
      return;
    }
    onClose(true);
  }

  return (
    <Dialog title={`Start burn-in on ${drives.length} drive${drives.length === 1 ? "" : "s"}`} onClose={() => onClose(false)}>
      <form onSubmit={submit} className="form">
        <ul className="start-drives" aria-label="Drives to start">
          {drives.map((d) => (
            <li key={d.id}>
              <span className="mono">{d.serial}</span> · {d.model ?? "unknown model"} · {formatBytes(d.sizeBytes)} · {d.hostName}
              {d.devicePath ? <span className="hint"> {d.devicePath}</span> : null}
              {d.inUse ? <span className="badge warn">holds data</span> : null}
            </li>
          ))}
        </ul>
        {drives.some((d) => d.inUse) ? (
          <p className="warn-text">Some of these drives hold data: each needs an unlock first, and the burn-in erases it.</p>
        ) : null}
        <label>
          Profile
          <select value={profile} onChange={(e) => setProfile(e.target.value as Profile)}>
            {PROFILES.map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
          </select>
        </label>
        {estimate !== null ? (
          <p className="hint" data-testid="profile-estimate">
            About {formatDuration(estimate * 1000)}
            {drives.length > 1 ? " for the slowest of these drives" : ""}, estimated from the size and a typical speed curve for the drive's
            kind
          </p>
        ) : null}
        <label>
          Then sanitize
          <select value={sanitize} onChange={(e) => setSanitize(e.target.value as SanitizeMethod | "")}>
            {SANITIZE_CHOICES.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
          </select>
          <span className="hint">
            The drive's own erase of everything it stores, after the burn-in (NVMe and SATA drives that support it; Kiln asks each drive
            first). It cannot be stopped once it runs.
          </span>
        </label>
        <details>
          <summary>Advanced badblocks options</summary>
          {OPTIONS.map((o) => (
            <label key={o.key}>
              {o.label}
              <input
                inputMode="numeric"
                placeholder="auto"
                value={values[o.key] ?? ""}
                onChange={(e) => setValues({ ...values, [o.key]: e.target.value })}
              />
              <span className="hint">{o.hint(defaults?.settings)}</span>
            </label>
          ))}
        </details>
        {problem ? <p role="alert">{problem}</p> : null}
        {ssdRefused && writes ? (
          <label>
            <input type="checkbox" checked={confirmSsdWrite} onChange={(e) => setConfirmSsdWrite(e.target.checked)} /> Write to the SSDs
            anyway (it wears their flash)
          </label>
        ) : null}
        {writes ? (
          <label>
            {single
              ? `This erases every block of ${single.serial}. Type its serial to confirm`
              : `This erases every block of ${drives.length} drives. Type ${drives.length} to confirm`}
            <input
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
              autoComplete="off"
              spellCheck={false}
              placeholder={confirmWord}
              aria-invalid={typed.trim() !== "" && !confirmed}
            />
          </label>
        ) : null}
        <div className="actions">
          <button type="button" className="secondary" onClick={() => onClose(false)}>
            Close
          </button>
          <button type="submit" disabled={fetching || !confirmed}>
            {writes ? "Erase and start" : "Start"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
