// One drive on the dashboard: what it is, how warm it is, and its newest job as it runs.
import { Link } from "react-router";
import { showEta, type TemperatureThresholds } from "../burn-in/scan";
import { formatBytes, formatDuration, formatMbps, jobActive } from "../format";
import { type FragmentType, graphql, useFragment } from "../gql";
import { useLiveJob } from "../live";
import { BadBlocks, ProgressBar, StatusBadge, Temperature } from "../parts";

export const DriveRow_drive = graphql(`
  fragment DriveRow_drive on Drive {
    id
    devicePath
    serial
    model
    sizeBytes
    temperatureC
    smartHealth
    inUse
    missing
    usage {
      kind
      name
      active
    }
    jobs(first: 1) {
      id
      status
      profile
      progressPct
      verdict {
        outcome
      }
      stages {
        id
        name
        status
        pausedAt
        pauseReason
      }
    }
  }
`);

export interface RowSelection {
  selected: boolean;
  /** Why the drive cannot be selected, or null. */
  blocked: string | null;
  onToggle: () => void;
}

/** /dev/sdb stays /dev/sdb; a long path (a demo drive's file) shows its last part. */
function deviceName(devicePath: string | null | undefined): string {
  if (!devicePath) return "?";
  return devicePath.startsWith("/dev/") ? devicePath : (devicePath.split("/").pop() ?? devicePath);
}

export function driveBlocked(drive: { missing: boolean; inUse: boolean; usage: ReadonlyArray<{ active: boolean }> }, jobStatus?: string) {
  if (drive.missing) return "missing at the last inventory";
  if (jobActive(jobStatus)) return "a burn-in is queued or running";
  if (drive.usage.some((u) => u.active)) return "in active use on its host";
  return null;
}

export function DriveRow(props: {
  drive: FragmentType<typeof DriveRow_drive>;
  thresholds: TemperatureThresholds;
  selection: RowSelection;
}) {
  const drive = useFragment(DriveRow_drive, props.drive);
  const job = drive.jobs[0];
  const live = useLiveJob(job?.id);
  const status = live?.status ?? job?.status;
  const running = status === "running";
  const stage = running ? (live?.stageName ?? job?.stages.find((s) => s.status === "running")?.name) : null;
  // A paused scan is not running: its processes are stopped on the host (the newest event says, else the stored stage).
  const stored = job?.stages.find((s) => s.status === "running" && s.pausedAt);
  const pauseReason = live ? (live.paused ? (live.pauseReason ?? "operator") : null) : stored ? (stored.pauseReason ?? "operator") : null;
  const paused = running && pauseReason !== null;
  const progress = live?.progressPct ?? job?.progressPct;
  const temperature = live?.temperatureC ?? drive.temperatureC;
  const usage = drive.usage.map((u) => `${u.kind} ${u.name}`).join(", ");
  const { selection } = props;
  return (
    <tr className={selection.selected ? "selected" : undefined} data-serial={drive.serial}>
      <td>
        <input
          type="checkbox"
          aria-label={`Select ${drive.serial}`}
          checked={selection.selected}
          disabled={selection.blocked !== null}
          title={selection.blocked ?? undefined}
          onChange={selection.onToggle}
        />
      </td>
      <td>
        <Link to={`/drives/${drive.id}`} title={drive.devicePath ?? undefined}>
          {deviceName(drive.devicePath)}
        </Link>
      </td>
      <td className="mono">{drive.serial}</td>
      <td data-label="Model" title={drive.model ?? undefined}>
        {drive.model ?? "?"}
      </td>
      <td data-label="Size">{formatBytes(drive.sizeBytes)}</td>
      <td data-label="Temp">
        <Temperature celsius={temperature} thresholds={props.thresholds} />
      </td>
      <td>
        {drive.missing ? (
          <span className="badge unknown">missing</span>
        ) : status ? (
          <StatusBadge
            status={paused ? "paused" : status}
            title={
              paused ? (pauseReason === "heat" ? "paused: the drive is too hot (thermal protection)" : "paused by an operator") : undefined
            }
          />
        ) : drive.inUse ? (
          <span className="badge warn" title={usage}>
            in use
          </span>
        ) : (
          <span className="badge idle">idle</span>
        )}
        {drive.inUse && usage ? <div className="hint">{usage}</div> : null}
      </td>
      <td data-label="Health">
        <SmartHealth health={drive.smartHealth} />
      </td>
      <td data-label="Stage">{stage ?? "–"}</td>
      <td className="progress-cell">{job ? <ProgressBar pct={progress ?? 0} label={`${drive.serial} progress`} /> : "–"}</td>
      <td data-label="MB/s">{running && !paused ? formatMbps(live?.mbps) : "–"}</td>
      <td data-label="ETA">
        {running && !paused && showEta(progress, live?.etaSeconds) ? formatDuration((live?.etaSeconds ?? 0) * 1000) : "–"}
      </td>
      <td data-label="Bad blocks">{live?.badBlocks != null ? <BadBlocks count={live.badBlocks} /> : "–"}</td>
      <td className="hint">{job?.verdict && !running ? `verdict ${job.verdict.outcome}` : ""}</td>
    </tr>
  );
}

/** SMART's overall health as the drive last reported it. */
function SmartHealth({ health }: { health: string }) {
  if (health === "passed")
    return (
      <span className="badge ok" title="SMART overall health: passed">
        ok
      </span>
    );
  if (health === "failed")
    return (
      <span className="badge bad" title="SMART overall health: FAILED">
        FAILED
      </span>
    );
  return (
    <span className="hint" title="the drive reports no overall health">
      –
    </span>
  );
}
