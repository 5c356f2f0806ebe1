-- CreateTable
CREATE TABLE "StageSample" (
    "id" TEXT NOT NULL,
    "stageId" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "phase" INTEGER NOT NULL,
    "phasePct" DOUBLE PRECISION NOT NULL,
    "mbps" DOUBLE PRECISION,
    "temperatureC" INTEGER,

    CONSTRAINT "StageSample_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DriveTemperature" (
    "id" TEXT NOT NULL,
    "driveId" TEXT NOT NULL,
    "jobId" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "celsius" INTEGER NOT NULL,

    CONSTRAINT "DriveTemperature_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "StageSample_stageId_at_idx" ON "StageSample"("stageId", "at");

-- CreateIndex
CREATE INDEX "DriveTemperature_driveId_at_idx" ON "DriveTemperature"("driveId", "at");

-- CreateIndex
CREATE INDEX "DriveTemperature_jobId_idx" ON "DriveTemperature"("jobId");

-- AddForeignKey
ALTER TABLE "StageSample" ADD CONSTRAINT "StageSample_stageId_fkey" FOREIGN KEY ("stageId") REFERENCES "Stage"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DriveTemperature" ADD CONSTRAINT "DriveTemperature_driveId_fkey" FOREIGN KEY ("driveId") REFERENCES "Drive"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DriveTemperature" ADD CONSTRAINT "DriveTemperature_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "BurnInJob"("id") ON DELETE CASCADE ON UPDATE CASCADE;
