-- AlterTable
ALTER TABLE "BurnInJob" ADD COLUMN     "purgedAt" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "JobReport" (
    "jobId" TEXT NOT NULL,
    "report" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "JobReport_pkey" PRIMARY KEY ("jobId")
);

-- CreateIndex
CREATE INDEX "BurnInJob_purgedAt_finishedAt_idx" ON "BurnInJob"("purgedAt", "finishedAt");

-- AddForeignKey
ALTER TABLE "JobReport" ADD CONSTRAINT "JobReport_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "BurnInJob"("id") ON DELETE CASCADE ON UPDATE CASCADE;
