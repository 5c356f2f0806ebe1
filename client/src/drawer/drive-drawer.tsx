// The drive drawer (/drives/:id, or /jobs/:id for one job of it): vitals, pattern meters, charts,
// stages, the SMART comparison, the verdict, the log tail, actions and the drive's past jobs.
import { useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useOutletContext, useParams } from "react-router";
import { useMutation, useQuery } from "urql";
import { DEFAULT_THRESHOLDS, showEta, type TemperatureThresholds } from "../burn-in/scan";
import { failureText, formatBytes, formatDuration, formatLatency, formatMbps, formatMs, formatTime, jobActive } from "../format";
import { graphql } from "../gql";
import { useLiveJob, useRefetchOnReconnect } from "../live";
import { BadBlocks, LoadState, ProgressBar, StatusBadge, Temperature } from "../parts";
import { SpeedCurve, TemperatureChart } from "./charts";
import { PatternMeters } from "./pattern-meters";

const DrawerDrive_Query = graphql(`
  query DrawerDrive($id: ID!) {
    drive(id: $id) {
      id
      serial
      model
      devicePath
      sizeBytes
      temperatureC
      smartHealth
      inUse
      host {
        id
        name
      }
      jobs(first: 20) {
        id
        status
        profile
        createdAt
        finishedAt
        progressPct
        verdict {
          outcome
        }
      }
    }
  }
`);

const DrawerJob_Query = graphql(`
  query DrawerJob($id: ID!, $driveId: ID!, $since: DateTime) {
    job(id: $id) {
      id
      status
      profile
      progressPct
      startedAt
      finishedAt
      errorText
      createdBy
      resumedFromId
      reportUrl
      verdict {
        outcome
        reasons
        warnings
      }
      smartChanges {
        name
        before
        after
        changed
        decides
      }
      smartAttributes {
        id
        name
        value
        worst
        threshold
        rawBefore
        rawAfter
        decides
        failing
      }
      stages {
        id
        name
        status
        progressPct
        startedAt
        finishedAt
        errorText
        elapsedSeconds
        etaSeconds
        pausedAt
        pauseReason
        log
        surfaceScan {
          engine
          mbps
          latency {
            p50Ms
            p99Ms
            maxMs
          }
          badBlocks
        }
        samples {
          phase
          phasePct
          mbps
        }
        ...PatternMeters_stage
      }
    }
    drive(id: $driveId) {
      id
      temperatures(since: $since) {
        at
        celsius
        jobId
      }
    }
  }
`);

const JobOfDrawer_Query = graphql(`
  query JobOfDrawer($id: ID!) {
    job(id: $id) {
      id
      drive {
        id
      }
    }
  }
`);

const CancelJob_Mutation = graphql(`
  mutation CancelJob($jobId: ID!) {
    cancelBurnIn(jobId: $jobId) {
      __typename
      ... on CancelBurnInSuccess {
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

const PauseJob_Mutation = graphql(`
  mutation PauseJob($jobId: ID!) {
    pauseBurnIn(jobId: $jobId) {
      __typename
      ... on Error {
        message
      }
    }
  }
`);

const ContinueJob_Mutation = graphql(`
  mutation ContinueJob($jobId: ID!) {
    continueBurnIn(jobId: $jobId) {
      __typename
      ... on Error {
        message
      }
    }
  }
`);

const ResumeJob_Mutation = graphql(`
  mutation ResumeJob($jobId: ID!) {
    resumeBurnIn(jobId: $jobId) {
      __typename
      ... on ResumeBurnInSuccess {
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

/** How often a running job's stages (log tail, samples, phase history) are read again. */
const JOB_REFRESH_MS = 5000;

function useThresholds(): TemperatureThresholds {
  const context = useOutletContext<{ thresholds?: TemperatureThresholds } | undefined>();
  return context?.thresholds ?? DEFAULT_THRESHOLDS;
}

/** Ticks every second while `on`, for elapsed times and predictions. */
function useNow(on: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!on) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [on]);
  return now;
}

export function DriveDrawerRoute() {
  const { id } = useParams();
  return <DriveDrawer driveId={id ?? ""} jobId={null} />;
}

export function JobDrawerRoute() {
  const { id } = useParams();
  const [{ data, fetching, error }] = useQuery({ query: JobOfDrawer_Query, variables: { id: id ?? "" } });
  if (data?.job) return <DriveDrawer driveId={data.job.drive.id} jobId={data.job.id} />;
  return (
    <aside className="drawer" aria-label="Job">
      <DrawerClose />
      <LoadState fetching={fetching} error={error} empty={!data} what="the job">
        <p className="empty">No job {id}.</p>
      </LoadState>
    </aside>
  );
}

/**
 * The drawer's close link. Focus moves to it when the drawer opens (keyboard users land in the
 * drawer, not in the table behind it), and Escape closes the drawer, unless a dialog opened over
 * it takes the key.
 */
function DrawerClose() {
  const navigate = useNavigate();
  const link = useRef<HTMLAnchorElement>(null);
  useEffect(() => {
    link.current?.focus();
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== "Escape" || event.defaultPrevented) return;
      if (event.target instanceof Element && event.target.closest('[role="dialog"], dialog')) return;
      if (document.querySelector("dialog[open]")) return;
      navigate("/");
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [navigate]);
  return (
    <Link ref={link} to="/" className="drawer-close" aria-label="Close the drawer">
      ×
    </Link>
  );
}

function DriveDrawer({ driveId, jobId }: { driveId: string; jobId: string | null }) {
  const thresholds = useThresholds();
  const [{ data, fetching, error }, reexecute] = useQuery({ query: DrawerDrive_Query, variables: { id: driveId } });
  useRefetchOnReconnect(() => reexecute({ requestPolicy: "network-only" }));
  const drive = data?.drive;
  const shownJobId = jobId ?? drive?.jobs[0]?.id ?? null;
  return (
    <aside className="drawer" aria-label={drive ? `Drive ${drive.serial}` : "Drive"}>
      <DrawerClose />
      <LoadState fetching={fetching} error={error} empty={!data} what="the drive">
        {!drive ? (
          <p className="empty">No drive {driveId}: it may have been removed with its host.</p>
        ) : (
          <>
            <header className="drawer-head">
              <h2>
                {drive.model ?? "Drive"} <span className="mono">{drive.serial}</span>
              </h2>
              <p className="hint">
                {drive.host.name} · {drive.devicePath ?? "?"} · {formatBytes(drive.sizeBytes)} · SMART {drive.smartHealth}
                {drive.inUse ? " · holds data" : ""}
              </p>
            </header>
            {shownJobId ? (
              <JobView jobId={shownJobId} driveId={drive.id} driveTemperature={drive.temperatureC} thresholds={thresholds} />
            ) : (
              <p className="empty">No burn-in of this drive yet. Select it on the dashboard and start one.</p>
            )}
            <h3>Past jobs</h3>
            {drive.jobs.length === 0 ? (
              <p className="empty">None.</p>
            ) : (
              <ul className="past-jobs">
                {drive.jobs.map((j) => (
                  <li key={j.id}>
                    <Link to={`/jobs/${j.id}`} aria-current={j.id === shownJobId ? "page" : undefined}>
                      {formatTime(j.createdAt)} · {j.profile}
                    </Link>{" "}
                    <StatusBadge status={j.status} /> {j.verdict ? <span className="hint">verdict {j.verdict.outcome}</span> : null}
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
      </LoadState>
    </aside>
  );
}

function JobView({
  jobId,
  driveId,
  driveTemperature,
  thresholds,
}: {
  jobId: string;
  driveId: string;
  driveTemperature: number | null | undefined;
  thresholds: TemperatureThresholds;
}) {
  const navigate = useNavigate();
  const live = useLiveJob(jobId);
  const since = useMemo(() => new Date(Date.now() - 30 * 86_400_000).toISOString(), []);
  const [{ data, fetching, error }, reexecute] = useQuery({ query: DrawerJob_Query, variables: { id: jobId, driveId, since } });
  useRefetchOnReconnect(() => reexecute({ requestPolicy: "network-only" }));
  const job = data?.job;
  const status = live?.status ?? job?.status;
  const running = status === "running";
  const active = jobActive(status);
  const now = useNow(running);
  // A running job's stages are read again every few seconds (log tail, samples, phase starts).
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => reexecute({ requestPolicy: "network-only" }), JOB_REFRESH_MS);
    return () => clearInterval(timer);
  }, [active, reexecute]);
  // The job's end also ends the refresh: read once more for its final state (verdict, SMART table).
  const wasActive = useRef(active);
  useEffect(() => {
    if (wasActive.current && !active) reexecute({ requestPolicy: "network-only" });
    wasActive.current = active;
  }, [active, reexecute]);

  const [cancelState, cancel] = useMutation(CancelJob_Mutation);
  const [resumeState, resume] = useMutation(ResumeJob_Mutation);
  const [pauseState, pauseJob] = useMutation(PauseJob_Mutation);
  const [continueState, continueJob] = useMutation(ContinueJob_Mutation);
  const [actionProblem, setActionProblem] = useState<string | null>(null);

  if (!job) {
    return (
      <LoadState fetching={fetching} error={error} empty={!data} what="the job">
        <p className="empty">No job {jobId}.</p>
      </LoadState>
    );
  }
  const scanStage = job.stages.find((s) => s.name === "surface_validate");
  const currentStage = job.stages.find((s) => s.status === "running");
  const liveScan = live && live.stageName === "surface_validate" ? live : null;
  const overall = live?.progressPct ?? job.progressPct;
  const elapsed =
    live?.elapsedSeconds ??
    (job.startedAt ? ((job.finishedAt ? Date.parse(job.finishedAt) : now) - Date.parse(job.startedAt)) / 1000 : null);
  const eta = live?.etaSeconds ?? null;
  const badBlocks = live?.badBlocks ?? scanStage?.surfaceScan?.badBlocks ?? 0;
  const scanRunning = running && scanStage?.status === "running";
  const mbps = scanRunning ? (liveScan ? (liveScan.mbps ?? null) : (scanStage?.surfaceScan?.mbps ?? null)) : null;
  // fio reports its requests' latencies (badblocks none): shown for a fio scan only.
  const fioScan = scanStage?.surfaceScan?.engine === "fio";
  const latency = scanRunning ? (liveScan ? (liveScan.latency ?? null) : (scanStage?.surfaceScan?.latency ?? null)) : null;
  const temperatures = (data?.drive?.temperatures ?? []).filter((t) => t.jobId === job.id);
  const logStage = currentStage ?? [...job.stages].reverse().find((s) => s.log);
  const logTail = (logStage?.log ?? "").trimEnd().split("\n").slice(-30).join("\n");

  async function onCancel() {
    if (!window.confirm("Cancel this burn-in? A running scan is stopped; it can be resumed later from its pattern.")) return;
    const result = await cancel({ jobId });
    setActionProblem(failureText(result.error, result.data?.cancelBurnIn));
  }
  async function onPauseOrContinue(paused: boolean) {
    const problem = paused
      ? await continueJob({ jobId }).then((r) => failureText(r.error, r.data?.continueBurnIn))
      : await pauseJob({ jobId }).then((r) => failureText(r.error, r.data?.pauseBurnIn));
    setActionProblem(problem);
    reexecute({ requestPolicy: "network-only" });
  }
  async function onResume() {
    const result = await resume({ jobId });
    const answer = result.data?.resumeBurnIn;
    const problem = failureText(result.error, answer);
    setActionProblem(problem);
    if (!problem && answer?.__typename === "ResumeBurnInSuccess") navigate(`/jobs/${answer.data.id}`);
  }

  return (
    <div className="job-view" data-job-status={status}>
      <div className="job-head">
        <StatusBadge status={status ?? job.status} />
        <span>
          {job.profile} · started {formatTime(job.startedAt)}
          {job.finishedAt ? ` · ended ${formatTime(job.finishedAt)}` : ""}
        </span>
        <ProgressBar pct={overall} label="Overall progress" />
      </div>

      {/* The outcome and what to do about it come first: on a phone they were 900 px down, under the charts. */}
      {job.verdict ? (
        <section className={`verdict ${job.verdict.outcome}`} aria-label="Verdict">
          <h3>Verdict: {job.verdict.outcome}</h3>
          {job.verdict.reasons.length ? (
            <ul>
              {job.verdict.reasons.map((r) => (
                <li key={r}>{r}</li>
              ))}
            </ul>
          ) : null}
          {job.verdict.warnings.length ? (
            <ul className="hint">
              {job.verdict.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          ) : null}
        </section>
      ) : null}
      {status === "unknown" || (status === "failed" && job.errorText) ? (
        <section className={`verdict ${status}`} aria-label="Reason">
          <h3>{status === "unknown" ? "UNKNOWN" : "Failed"}</h3>
          <p>{job.errorText ?? "no reason recorded"}</p>
        </section>
      ) : null}

      {job.reportUrl ? (
        <p className="report-links">
          Report:{" "}
          <a href={job.reportUrl} target="_blank" rel="noreferrer">
            page
          </a>{" "}
          · <a href={`${job.reportUrl}.pdf`}>PDF</a> · <a href={`${job.reportUrl}.json`}>signed JSON</a>
        </p>
      ) : null}
      {scanRunning && scanStage?.pausedAt ? (
        <p className="paused" role="status">
          Paused {scanStage.pauseReason === "heat" ? "for heat" : "by an operator"} since {formatTime(scanStage.pausedAt)}
        </p>
      ) : null}
      <div className="actions">
        {scanRunning ? (
          <button
            type="button"
            onClick={() => onPauseOrContinue(Boolean(scanStage?.pausedAt))}
            disabled={pauseState.fetching || continueState.fetching}
          >
            {scanStage?.pausedAt ? "Continue" : "Pause"}
          </button>
        ) : null}
        {active ? (
          <button type="button" className="danger" onClick={onCancel} disabled={cancelState.fetching}>
            Cancel burn-in
          </button>
        ) : null}
        {status === "unknown" || status === "cancelled" ? (
          <button type="button" onClick={onResume} disabled={resumeState.fetching}>
            Resume
          </button>
        ) : null}
        {actionProblem ? <span role="alert">{actionProblem}</span> : null}
      </div>

      <dl className="vitals" aria-label="Vitals">
        <div>
          <dt>Temp</dt>
          <dd>
            <Temperature celsius={live?.temperatureC ?? driveTemperature} thresholds={thresholds} />
          </dd>
        </div>
        <div>
          <dt>Speed</dt>
          <dd data-testid="vital-speed">{formatMbps(mbps)}</dd>
        </div>
        {fioScan ? (
          <div title="How long the scan's requests took to complete over fio's last status interval: the median, the 99th percentile and the slowest">
            <dt>Latency</dt>
            <dd data-testid="vital-latency">
              {formatLatency(latency)}
              {latency ? <span className="minor"> · max {formatMs(latency.maxMs)}</span> : null}
            </dd>
          </div>
        ) : null}
        <div>
          <dt>Elapsed</dt>
          <dd>{elapsed == null ? "–" : formatDuration(elapsed * 1000)}</dd>
        </div>
        <div>
          <dt>ETA</dt>
          <dd data-testid="vital-eta">{running && showEta(overall, eta) ? formatDuration((eta ?? 0) * 1000) : "–"}</dd>
        </div>
        <div>
          <dt>Bad blocks</dt>
          <dd>
            <BadBlocks count={badBlocks} />
          </dd>
        </div>
      </dl>

      {scanStage && scanStage.status !== "pending" && scanStage.status !== "skipped" ? (
        <section aria-label="Surface scan">
          <PatternMeters stage={scanStage} live={liveScan ? { phase: liveScan.phase, phasePct: liveScan.phasePct } : null} now={now} />
          <SpeedCurve samples={scanStage.samples} engine={scanStage.surfaceScan?.engine} />
        </section>
      ) : null}
      <TemperatureChart readings={temperatures} />

      <h3>Stages</h3>
      <table className="stages">
        <thead>
          <tr>
            <th scope="col">Stage</th>
            <th scope="col">Status</th>
            <th scope="col">Progress</th>
            <th scope="col">Started</th>
            <th scope="col">Took</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {job.stages.map((s) => (
            <tr key={s.id}>
              <td>{s.name}</td>
              <td>
                <StatusBadge status={s.status} />
              </td>
              <td>{Math.floor(s.id === currentStage?.id && live?.stageProgressPct != null ? live.stageProgressPct : s.progressPct)}%</td>
              <td>{formatTime(s.startedAt)}</td>
              <td>{s.elapsedSeconds == null ? "–" : formatDuration(s.elapsedSeconds * 1000)}</td>
              <td>{s.errorText ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>

      {job.smartChanges.length ? (
        <>
          <h3>SMART before and after</h3>
          <p className="hint legend">
            <span className="decides-mark">verdict</span> a rise fails the verdict · <span className="changed-mark">changed</span> moved
            during the job (temperature and power-on hours always do, and are not marked)
          </p>
          <div className="table-scroll">
            <table className="smart">
              <thead>
                <tr>
                  <th scope="col">Figure</th>
                  <th scope="col">Before</th>
                  <th scope="col">After</th>
                </tr>
              </thead>
              <tbody>
                {job.smartChanges.map((r) => (
                  <tr key={r.name} className={r.changed ? "changed" : undefined} data-decides={r.decides || undefined}>
                    <td>
                      {r.name} {r.decides ? <span className="decides-mark">verdict</span> : null}
                      {r.changed ? <span className="changed-mark">changed</span> : null}
                    </td>
                    <td>{r.before ?? "–"}</td>
                    <td>{r.after ?? "–"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
      {job.smartAttributes.length ? (
        <details className="smart-attributes">
          <summary>All {job.smartAttributes.length} SMART attributes (normalised value, worst, threshold)</summary>
          <div className="table-scroll">
            <table className="smart">
              <thead>
                <tr>
                  <th scope="col">ID</th>
                  <th scope="col">Attribute</th>
                  <th scope="col">Value</th>
                  <th scope="col">Worst</th>
                  <th scope="col">Threshold</th>
                  <th scope="col">Raw before</th>
                  <th scope="col">Raw after</th>
                </tr>
              </thead>
              <tbody>
                {job.smartAttributes.map((a) => (
                  <tr key={a.id} className={a.failing ? "failing" : a.rawBefore !== a.rawAfter && a.decides ? "changed" : undefined}>
                    <td>{a.id}</td>
                    <td>
                      {a.name} {a.decides ? <span className="decides-mark">verdict</span> : null}
                      {a.failing ? <span className="failing-mark">at or below threshold</span> : null}
                    </td>
                    <td>{a.value ?? "–"}</td>
                    <td>{a.worst ?? "–"}</td>
                    <td>{a.threshold ?? "–"}</td>
                    <td className="mono">{a.rawBefore ?? "–"}</td>
                    <td className="mono">{a.rawAfter ?? "–"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      ) : null}

      <h3>Log{logStage ? ` (${logStage.name})` : ""}</h3>
      <section aria-label="Log tail">
        <pre className="log">{logTail || "nothing yet"}</pre>
      </section>
    </div>
  );
}
