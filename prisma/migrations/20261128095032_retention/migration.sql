-- AlterTable
ALTER TABLE "BurnInJob" ADD COLUMN "purgedAt" DATETIME;

-- CreateTable
CREATE TABLE "JobReport" (
    "jobId" TEXT NOT NULL PRIMARY KEY,
    "report" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "JobReport_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "BurnInJob" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "BurnInJob_purgedAt_finishedAt_idx" ON "BurnInJob"("purgedAt", "finishedAt");
