-- CreateTable
CREATE TABLE "StageSample" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "stageId" TEXT NOT NULL,
    "at" DATETIME NOT NULL,
    "phase" INTEGER NOT NULL,
    "phasePct" REAL NOT NULL,
    "mbps" REAL,
    "temperatureC" INTEGER,
    CONSTRAINT "StageSample_stageId_fkey" FOREIGN KEY ("stageId") REFERENCES "Stage" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "DriveTemperature" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "driveId" TEXT NOT NULL,
    "jobId" TEXT NOT NULL,
    "at" DATETIME NOT NULL,
    "celsius" INTEGER NOT NULL,
    CONSTRAINT "DriveTemperature_driveId_fkey" FOREIGN KEY ("driveId") REFERENCES "Drive" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "DriveTemperature_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "BurnInJob" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "StageSample_stageId_at_idx" ON "StageSample"("stageId", "at");

-- CreateIndex
CREATE INDEX "DriveTemperature_driveId_at_idx" ON "DriveTemperature"("driveId", "at");

-- CreateIndex
CREATE INDEX "DriveTemperature_jobId_idx" ON "DriveTemperature"("jobId");
