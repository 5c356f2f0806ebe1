-- CreateTable
CREATE TABLE "Host" (
    "id" TEXT NOT NULL,
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
    "lastSeenAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Host_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Drive" (
    "id" TEXT NOT NULL,
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
    "lastSeenAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Drive_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BurnInJob" (
    "id" TEXT NOT NULL,
    "driveId" TEXT NOT NULL,
    "serial" TEXT NOT NULL,
    "profile" TEXT NOT NULL,
    "options" TEXT NOT NULL DEFAULT '{}',
    "status" TEXT NOT NULL DEFAULT 'queued',
    "progressPct" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "verdict" TEXT,
    "errorText" TEXT,
    "idempotencyKey" TEXT,
    "requestHash" TEXT,
    "resumedFromId" TEXT,
    "createdBy" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lockedBy" TEXT,
    "lockedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "BurnInJob_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Stage" (
    "id" TEXT NOT NULL,
    "jobId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "weight" DOUBLE PRECISION NOT NULL DEFAULT 1,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "progressPct" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "errorText" TEXT,
    "log" TEXT NOT NULL DEFAULT '',
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "bbPhase" INTEGER,
    "bbPhasePct" DOUBLE PRECISION,
    "bbPhaseHistory" TEXT,
    "bbMbps" DOUBLE PRECISION,
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

    CONSTRAINT "Stage_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SmartSnapshot" (
    "id" TEXT NOT NULL,
    "driveId" TEXT NOT NULL,
    "jobId" TEXT,
    "kind" TEXT NOT NULL,
    "report" TEXT NOT NULL,
    "takenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SmartSnapshot_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "UnlockGrant" (
    "id" TEXT NOT NULL,
    "driveId" TEXT NOT NULL,
    "serial" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "grantedBy" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "consumedAt" TIMESTAMP(3),
    "consumedByJobId" TEXT,
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "UnlockGrant_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "subjectType" TEXT,
    "subjectId" TEXT,
    "details" TEXT NOT NULL DEFAULT '{}',

    CONSTRAINT "AuditEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Setting" (
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Setting_pkey" PRIMARY KEY ("key")
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

-- AddForeignKey
ALTER TABLE "Drive" ADD CONSTRAINT "Drive_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BurnInJob" ADD CONSTRAINT "BurnInJob_driveId_fkey" FOREIGN KEY ("driveId") REFERENCES "Drive"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Stage" ADD CONSTRAINT "Stage_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "BurnInJob"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SmartSnapshot" ADD CONSTRAINT "SmartSnapshot_driveId_fkey" FOREIGN KEY ("driveId") REFERENCES "Drive"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SmartSnapshot" ADD CONSTRAINT "SmartSnapshot_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "BurnInJob"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UnlockGrant" ADD CONSTRAINT "UnlockGrant_driveId_fkey" FOREIGN KEY ("driveId") REFERENCES "Drive"("id") ON DELETE CASCADE ON UPDATE CASCADE;
