-- CreateTable
CREATE TABLE "Host" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "transport" TEXT NOT NULL,
    "address" TEXT,
    "port" INTEGER NOT NULL DEFAULT 22,
    "username" TEXT,
    "privateKeyPath" TEXT,
    "passphraseEnv" TEXT,
    "useAgent" BOOLEAN NOT NULL DEFAULT false,
    "useSudo" BOOLEAN NOT NULL DEFAULT false,
    "fingerprint" TEXT,
    "trusted" BOOLEAN NOT NULL DEFAULT false,
    "offeredFingerprint" TEXT,
    "status" TEXT NOT NULL DEFAULT 'unknown',
    "statusReason" TEXT,
    "lastSeenAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "Drive" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "hostId" TEXT NOT NULL,
    "serial" TEXT NOT NULL,
    "wwn" TEXT,
    "model" TEXT,
    "vendor" TEXT,
    "firmware" TEXT,
    "devicePath" TEXT,
    "byIdPath" TEXT,
    "sizeBytes" BIGINT,
    "logicalSectorSize" INTEGER,
    "physicalSectorSize" INTEGER,
    "rotationRate" INTEGER,
    "busType" TEXT,
    "temperatureC" INTEGER,
    "powerOnHours" INTEGER,
    "smartHealth" TEXT NOT NULL DEFAULT 'unknown',
    "usage" TEXT NOT NULL DEFAULT '[]',
    "inUse" BOOLEAN NOT NULL DEFAULT false,
    "missing" BOOLEAN NOT NULL DEFAULT false,
    "lastSeenAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Drive_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "BurnInJob" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "driveId" TEXT NOT NULL,
    "serial" TEXT NOT NULL,
    "profile" TEXT NOT NULL,
    "options" TEXT NOT NULL DEFAULT '{}',
    "status" TEXT NOT NULL DEFAULT 'queued',
    "progressPct" REAL NOT NULL DEFAULT 0,
    "verdict" TEXT,
    "errorText" TEXT,
    "idempotencyKey" TEXT,
    "requestHash" TEXT,
    "resumedFromId" TEXT,
    "createdBy" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lockedBy" TEXT,
    "lockedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" DATETIME,
    "finishedAt" DATETIME,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "BurnInJob_driveId_fkey" FOREIGN KEY ("driveId") REFERENCES "Drive" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Stage" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "jobId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "weight" REAL NOT NULL DEFAULT 1,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "progressPct" REAL NOT NULL DEFAULT 0,
    "errorText" TEXT,
    "log" TEXT NOT NULL DEFAULT '',
    "startedAt" DATETIME,
    "finishedAt" DATETIME,
    "bbPhase" INTEGER,
    "bbPhasePct" REAL,
    "bbPhaseHistory" TEXT,
    "bbMbps" REAL,
    "bbBadBlocks" INTEGER,
    "bbBadBlockList" TEXT,
    "bbBlockSize" INTEGER,
    "bbBlocksAtOnce" INTEGER,
    "bbPatterns" TEXT,
    "remotePid" INTEGER,
    "remoteStartTime" TEXT,
    "remoteBootId" TEXT,
    "remoteLogPath" TEXT,
    "remoteExitPath" TEXT,
    "remoteLogOffset" BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT "Stage_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "BurnInJob" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "SmartSnapshot" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "driveId" TEXT NOT NULL,
    "jobId" TEXT,
    "kind" TEXT NOT NULL,
    "report" TEXT NOT NULL,
    "takenAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "SmartSnapshot_driveId_fkey" FOREIGN KEY ("driveId") REFERENCES "Drive" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "SmartSnapshot_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "BurnInJob" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "UnlockGrant" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "driveId" TEXT NOT NULL,
    "serial" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "grantedBy" TEXT NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "consumedAt" DATETIME,
    "consumedByJobId" TEXT,
    "revokedAt" DATETIME,
    CONSTRAINT "UnlockGrant_driveId_fkey" FOREIGN KEY ("driveId") REFERENCES "Drive" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "subjectType" TEXT,
    "subjectId" TEXT,
    "details" TEXT NOT NULL DEFAULT '{}'
);

-- CreateTable
CREATE TABLE "Setting" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "value" TEXT NOT NULL,
    "updatedAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "Host_name_key" ON "Host"("name");

-- CreateIndex
CREATE INDEX "Drive_wwn_idx" ON "Drive"("wwn");

-- CreateIndex
CREATE UNIQUE INDEX "Drive_hostId_serial_key" ON "Drive"("hostId", "serial");

-- CreateIndex
CREATE UNIQUE INDEX "BurnInJob_idempotencyKey_key" ON "BurnInJob"("idempotencyKey");

-- CreateIndex
CREATE INDEX "BurnInJob_status_idx" ON "BurnInJob"("status");

-- CreateIndex
CREATE INDEX "BurnInJob_driveId_createdAt_idx" ON "BurnInJob"("driveId", "createdAt");

-- CreateIndex
CREATE INDEX "BurnInJob_createdAt_idx" ON "BurnInJob"("createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Stage_jobId_position_key" ON "Stage"("jobId", "position");

-- CreateIndex
CREATE INDEX "SmartSnapshot_driveId_takenAt_idx" ON "SmartSnapshot"("driveId", "takenAt");

-- CreateIndex
CREATE INDEX "UnlockGrant_driveId_expiresAt_idx" ON "UnlockGrant"("driveId", "expiresAt");

-- CreateIndex
CREATE INDEX "AuditEvent_at_idx" ON "AuditEvent"("at");

-- CreateIndex
CREATE INDEX "AuditEvent_subjectType_subjectId_idx" ON "AuditEvent"("subjectType", "subjectId");
