// `kiln status | watch | start | cancel | jobs`: a running Kiln from a terminal, through the same
// API as everyone else (URL from --url or KILN_URL, token from KILN_TOKEN or --token).
import { parseArgs } from "node:util";
import { SANITIZE_METHODS } from "../parsers/sanitize.js";
import { ENDED_JOB_STATUSES, JOB_STATUSES } from "../runner/job-status.js";
import { formatBytes } from "../units.js";
import { ApiError, type ApiOptions, download, graphql, printable, subscribe } from "./api.js";
import { barLayout, barPayload, formatDuration, PROGRESS_FIELDS, type Progress, progressLine, table } from "./format.js";

export const TERMINAL_USAGE = `  status                      hosts, drives and the jobs that run or wait
  watch [--job ID]            live progress of every job (or one: exits 0 if it passed, 1 if not)
  start --serial S --profile P [--host NAME] [--sanitize block_erase|crypto_erase|overwrite]
                              queue a burn-in (profiles: standard, full, quick, ssd, nvme, simulate)
  cancel JOB                  cancel a job
  jobs [--status S,S] [--serial S] [--limit N] [--csv | --ndjson]
                              job history, newest first (--csv/--ndjson: all of it, streamed)
        these talk to a running Kiln: --url (or KILN_URL, default http://127.0.0.1:4000) and an
        API token in KILN_TOKEN (or --token; a flag shows in ps)`;

const COMMON = {
  url: { type: "string" },
  token: { type: "string" },
} as const;

function apiOptions(values: { url?: string; token?: string }, env: NodeJS.ProcessEnv): ApiOptions {
  const url = values.url ?? env.KILN_URL ?? "http://127.0.0.1:4000";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ApiError(`--url: "${printable(url, 80)}" is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new ApiError("--url: use http:// or https://");
  const token = values.token ?? env.KILN_TOKEN ?? null;
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(parsed.hostname);
  if (token && parsed.protocol === "http:" && !loopback) {
    console.error(`kiln: warning: sending the API token over plain http to ${parsed.host}; use https through a proxy`);
  }
  return { url: parsed.origin, token };
}

type Out = { log: (line: string) => void; write: (chunk: Uint8Array | string) => void; isTTY: boolean; columns?: number };

export async function runTerminalCommand(command: string, argv: string[], env: NodeJS.ProcessEnv, out: Out): Promise<number> {
  switch (command) {
    case "status":
      return status(argv, env, out);
    case "watch":
      return watch(argv, env, out);
    case "start":
      return start(argv, env, out);
    case "cancel":
      return cancel(argv, env, out);
    case "jobs":
      return jobs(argv, env, out);
    default:
      throw new Error(`not a terminal command: ${command}`);
  }
}

interface StatusData {
  hosts: Array<{
    name: string;
    status: string;
    drives: Array<{
      serial: string;
      model: string | null;
      devicePath: string | null;
      sizeBytes: number | null;
      temperatureC: number | null;
      inUse: boolean;
      missing: boolean;
    }>;
  }>;
  jobs: {
    edges: Array<{
      node: {
        id: string;
        serial: string;
        status: string;
        profile: string;
        progressPct: number;
        stages: Array<{ name: string; status: string }>;
      };
    }>;
  };
}

async function status(argv: string[], env: NodeJS.ProcessEnv, out: Out): Promise<number> {
  const { values } = parseArgs({ args: argv, options: COMMON });
  const api = apiOptions(values, env);
  const data = await graphql<StatusData>(
    api,
    `{ hosts { name status drives { serial model devicePath sizeBytes temperatureC inUse missing } }
       jobs(first: 200, filter: { status: [running, queued] }, orderBy: { field: createdAt, direction: asc }) {
         edges { node { id serial status profile progressPct stages { name status } } } } }`,
  );
  const rows = data.hosts.flatMap((h) =>
    h.drives.map((d) => [
      printable(h.name, 30),
      printable(h.status, 20),
      printable(d.devicePath ?? "?", 40),
      printable(d.serial, 40),
      printable(d.model ?? "?", 40),
      formatBytes(d.sizeBytes),
      d.temperatureC == null ? "--" : `${d.temperatureC}°C`,
      d.missing ? "missing" : d.inUse ? "in use" : "free",
    ]),
  );
  out.log(table(["HOST", "STATUS", "DEVICE", "SERIAL", "MODEL", "SIZE", "TEMP", "STATE"], rows));
  const active = data.jobs.edges.map(({ node: j }) => [
    j.id,
    printable(j.serial, 40),
    j.profile,
    j.status,
    `${j.progressPct.toFixed(1)}%`,
    printable(j.stages.find((s) => s.status === "running")?.name ?? "-", 30),
  ]);
  out.log("");
  out.log(active.length ? table(["JOB", "SERIAL", "PROFILE", "STATUS", "DONE", "STAGE"], active) : "No jobs running or queued.");
  return 0;
}

async function watch(argv: string[], env: NodeJS.ProcessEnv, out: Out): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...COMMON, job: { type: "string" } } });
  const api = apiOptions(values, env);
  const labels = new Map<string, string>();
  const label = async (jobId: string) => {
    let l = labels.get(jobId);
    if (!l) {
      const data = await graphql<{ job: { serial: string; drive: { host: { name: string } } } | null }>(
        api,
        "query($id: ID!) { job(id: $id) { serial drive { host { name } } } }",
        { id: jobId },
      );
      l = data.job ? `${printable(data.job.drive.host.name, 20)}/${printable(data.job.serial, 30)}` : jobId;
      labels.set(jobId, l);
    }
    return l;
  };
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once("SIGINT", onSignal);
  const stream = values.job
    ? subscribe<Progress>(
        api,
        `subscription($id: ID!) { jobProgress(jobId: $id) { ${PROGRESS_FIELDS} } }`,
        { id: values.job },
        controller.signal,
      )
    : subscribe<Progress>(api, `subscription { jobUpdates { ${PROGRESS_FIELDS} } }`, {}, controller.signal);
  const view = out.isTTY ? await barView(out.columns ?? 80) : lineView(out);
  let last: Progress | null = null;
  try {
    for await (const event of stream) {
      last = event;
      view.update(await label(event.jobId), event);
    }
  } finally {
    process.off("SIGINT", onSignal);
    view.stop();
  }
  if (!values.job) return 0;
  return last?.status === "passed" ? 0 : 1;
}

/** Plain lines (a pipe, a log): every change of state, stage or phase, else at most one a second per job. */
function lineView(out: Out) {
  const shown = new Map<string, { key: string; at: number }>();
  return {
    update(label: string, p: Progress) {
      const key = `${p.status}|${p.stageName}|${p.phase}`;
      const before = shown.get(p.jobId);
      const now = Date.now();
      if (before && before.key === key && now - before.at < 1000 && !ENDED_JOB_STATUSES.has(p.status)) return;
      shown.set(p.jobId, { key, at: now });
      out.log(progressLine(label, p));
    },
    stop() {},
  };
}

/** One live bar per job on a terminal `columns` wide. */
async function barView(columns: number) {
  // A CommonJS package: in the bundle (dist/) only its default export is its module.exports
  // (the named ones were undefined: `kiln watch` crashed in every terminal).
  const { MultiBar, Presets } = (await import("cli-progress")).default;
  const layout = barLayout(columns);
  const bars = new MultiBar(
    {
      format: layout.format,
      barsize: layout.barsize,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      autopadding: true,
    },
    Presets.shades_classic,
  );
  const byJob = new Map<string, ReturnType<typeof bars.create>>();
  return {
    update(label: string, p: Progress) {
      const payload = barPayload(layout, label, p);
      const bar = byJob.get(p.jobId);
      const value = Math.round(p.progressPct * 10) / 10;
      if (bar) bar.update(value, payload);
      else byJob.set(p.jobId, bars.create(100, value, payload));
    },
    stop() {
      bars.stop();
    },
  };
}

async function start(argv: string[], env: NodeJS.ProcessEnv, out: Out): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...COMMON, serial: { type: "string" }, profile: { type: "string" }, host: { type: "string" }, sanitize: { type: "string" } },
  });
  if (!values.serial) throw new ApiError("start: --serial is required");
  if (values.sanitize !== undefined && !(SANITIZE_METHODS as readonly string[]).includes(values.sanitize)) {
    throw new ApiError(`start: --sanitize ${printable(values.sanitize, 40)}: use one of ${SANITIZE_METHODS.join(", ")}`);
  }
  const api = apiOptions(values, env);
  const found = await graphql<{ drives: Array<{ id: string; serial: string; host: { name: string } }> }>(
    api,
    "{ drives { id serial host { name } } }",
  );
  const matches = found.drives.filter((d) => d.serial === values.serial && (!values.host || d.host.name === values.host));
  if (matches.length === 0)
    throw new ApiError(
      `start: no drive with serial ${printable(values.serial, 60)}${values.host ? ` on ${printable(values.host, 40)}` : ""}`,
    );
  if (matches.length > 1) throw new ApiError(`start: serial ${printable(values.serial, 60)} is on several hosts: add --host`);
  const drive = matches[0] as (typeof matches)[number];
  const { drive: estimated } = await graphql<{ drive: { profileEstimates: Array<{ profile: string; seconds: number }> } | null }>(
    api,
    "query($id: ID!) { drive(id: $id) { profileEstimates { profile seconds } } }",
    { id: drive.id },
  );
  const estimates = estimated?.profileEstimates ?? [];
  if (!values.profile) {
    // What each profile would take on this drive, to choose by.
    out.log(`profiles for ${printable(drive.serial, 60)} on ${printable(drive.host.name, 40)} (estimates from its size and kind):`);
    out.log(
      table(
        ["PROFILE", "ABOUT"],
        estimates.map((e) => [e.profile, formatDuration(e.seconds)]),
      ),
    );
    throw new ApiError("start: --profile is required (standard, full, quick, ssd, nvme, simulate)");
  }
  const result = await graphql<{ startBurnIn: { __typename: string; message?: string; data?: Array<{ id: string }> } }>(
    api,
    "mutation($ids: [ID!]!, $p: Profile!, $o: BurnInOptions) { startBurnIn(driveIds: $ids, profile: $p, options: $o) { __typename ... on StartBurnInSuccess { data { id } } ... on Error { message } } }",
    { ids: [drive.id], p: values.profile, o: values.sanitize ? { sanitize: values.sanitize } : {} },
  );
  const answer = result.startBurnIn;
  if (answer.__typename !== "StartBurnInSuccess") {
    out.log(`kiln: not started: ${printable(answer.message ?? answer.__typename, 500)}`);
    return 1;
  }
  const jobId = answer.data?.[0]?.id ?? "?";
  out.log(
    `queued job ${jobId} (${values.profile}${values.sanitize ? `, then the drive's own sanitize: ${values.sanitize}` : ""}) for ${printable(drive.serial, 60)} on ${printable(drive.host.name, 40)}`,
  );
  const estimate = estimates.find((e) => e.profile === values.profile);
  if (estimate) out.log(`estimated: about ${formatDuration(estimate.seconds)} (from the drive's size and a speed curve for its kind)`);
  out.log(`follow it: kiln watch --job ${jobId}`);
  return 0;
}

async function cancel(argv: string[], env: NodeJS.ProcessEnv, out: Out): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: COMMON, allowPositionals: true });
  const jobId = positionals[0];
  if (!jobId) throw new ApiError("cancel: which job? kiln cancel JOB");
  const api = apiOptions(values, env);
  const result = await graphql<{ cancelBurnIn: { __typename: string; message?: string; data?: { status: string } } }>(
    api,
    "mutation($id: ID!) { cancelBurnIn(jobId: $id) { __typename ... on CancelBurnInSuccess { data { status } } ... on Error { message } } }",
    { id: jobId },
  );
  if (result.cancelBurnIn.__typename !== "CancelBurnInSuccess") {
    out.log(`kiln: not cancelled: ${printable(result.cancelBurnIn.message ?? result.cancelBurnIn.__typename, 500)}`);
    return 1;
  }
  out.log(`job ${printable(jobId, 60)}: ${result.cancelBurnIn.data?.status}`);
  return 0;
}

async function jobs(argv: string[], env: NodeJS.ProcessEnv, out: Out): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...COMMON,
      status: { type: "string" },
      serial: { type: "string" },
      limit: { type: "string" },
      csv: { type: "boolean" },
      ndjson: { type: "boolean" },
    },
  });
  const api = apiOptions(values, env);
  const statuses = values.status ? values.status.split(",").filter(Boolean) : [];
  for (const s of statuses)
    if (!(JOB_STATUSES as readonly string[]).includes(s))
      throw new ApiError(`jobs: --status ${printable(s, 40)} is not one of ${JOB_STATUSES.join(", ")}`);
  if (values.csv || values.ndjson) {
    const params = new URLSearchParams();
    if (statuses.length) params.set("status", statuses.join(","));
    if (values.serial) params.set("serial", values.serial);
    await download(api, `/api/jobs.${values.csv ? "csv" : "ndjson"}?${params}`, (chunk) => out.write(chunk));
    return 0;
  }
  const limit = Number(values.limit ?? 20);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new ApiError("jobs: --limit must be 1-500");
  const data = await graphql<{
    jobs: {
      edges: Array<{
        node: {
          id: string;
          serial: string;
          profile: string;
          status: string;
          createdAt: string;
          finishedAt: string | null;
          verdict: { outcome: string } | null;
        };
      }>;
    };
  }>(
    api,
    "query($f: JobFilter, $n: Int) { jobs(first: $n, filter: $f) { edges { node { id serial profile status createdAt finishedAt verdict { outcome } } } } }",
    { n: limit, f: { ...(statuses.length ? { status: statuses } : {}), ...(values.serial ? { serial: values.serial } : {}) } },
  );
  const rows = data.jobs.edges.map(({ node: j }) => [
    j.id,
    printable(j.serial, 40),
    j.profile,
    j.status,
    j.verdict?.outcome ?? "-",
    j.createdAt.slice(0, 19).replace("T", " "),
    j.finishedAt ? formatDuration((Date.parse(j.finishedAt) - Date.parse(j.createdAt)) / 1000) : "-",
  ]);
  out.log(rows.length ? table(["JOB", "SERIAL", "PROFILE", "STATUS", "VERDICT", "CREATED (UTC)", "TOOK"], rows) : "No jobs.");
  return 0;
}
