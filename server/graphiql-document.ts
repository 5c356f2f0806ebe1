// The document GraphiQL opens with: a newcomer runs its operations top to bottom on the demo
// host. A test parses and validates it against the schema and runs it, so it cannot rot.
export const GRAPHIQL_DOCUMENT = `# Kiln's API. Run these top to bottom: pick an operation with the run button's menu.
# With accounts on, sign in at / first; this page then sends your session.

# 1. The drives Kiln knows: copy the ids of demo drives into the variables below.
query Drives {
  drives {
    id
    serial
    model
    sizeBytes
    temperatureC
    inUse
    usage { kind detail }
    host { name status }
  }
}

# 2. Start a quick burn-in (SMART short self-test and final check) on those drives.
mutation StartDemoBurnIn($driveIds: [ID!]!) {
  startBurnIn(driveIds: $driveIds, profile: quick) {
    __typename
    ... on StartBurnInSuccess { data { id serial status } }
    ... on Error { message }
  }
}

# 3. Follow one job live (put its id in the variables): the first event is its state now,
#    the stream ends with the job. jobUpdates follows every job, for a dashboard.
subscription FollowJob($jobId: ID!) {
  jobProgress(jobId: $jobId) {
    status
    progressPct
    stageName
    phase
    pattern
    mode
    phasePct
    mbps
    temperatureC
    badBlocks
    elapsedSeconds
    etaSeconds
  }
}

# 4. The history, newest first, with each stage and the verdict.
query History {
  jobs(first: 10) {
    edges {
      node {
        id
        serial
        profile
        status
        verdict { outcome reasons warnings }
        createdAt
        finishedAt
        stages { name status }
      }
    }
  }
}
`;

export const GRAPHIQL_VARIABLES = JSON.stringify({ driveIds: [], jobId: "" }, null, 2);
