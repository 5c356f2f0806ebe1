-- DropIndex
DROP INDEX "BurnInJob_createdAt_idx";

-- DropIndex
DROP INDEX "BurnInJob_driveId_createdAt_idx";

-- DropIndex
DROP INDEX "BurnInJob_status_idx";

-- AlterTable
ALTER TABLE "BurnInJob" ADD COLUMN "verdictOutcome" TEXT;

-- CreateIndex
CREATE INDEX "BurnInJob_createdAt_id_idx" ON "BurnInJob"("createdAt", "id");

-- CreateIndex
CREATE INDEX "BurnInJob_status_createdAt_id_idx" ON "BurnInJob"("status", "createdAt", "id");

-- CreateIndex
CREATE INDEX "BurnInJob_verdictOutcome_createdAt_id_idx" ON "BurnInJob"("verdictOutcome", "createdAt", "id");

-- CreateIndex
CREATE INDEX "BurnInJob_serial_createdAt_id_idx" ON "BurnInJob"("serial", "createdAt", "id");

-- CreateIndex
CREATE INDEX "BurnInJob_profile_createdAt_id_idx" ON "BurnInJob"("profile", "createdAt", "id");

-- CreateIndex
CREATE INDEX "BurnInJob_driveId_createdAt_id_idx" ON "BurnInJob"("driveId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "BurnInJob_finishedAt_id_idx" ON "BurnInJob"("finishedAt", "id");

-- Backfill: the outcome of verdicts written before this column existed.
UPDATE "BurnInJob" SET "verdictOutcome" = json_extract("verdict", '$.result') WHERE "verdict" IS NOT NULL AND json_valid("verdict");
