-- AlterTable
ALTER TABLE "BurnInJob" ADD COLUMN "etaAt" DATETIME;
ALTER TABLE "BurnInJob" ADD COLUMN "etaSeconds" REAL;

-- AlterTable
ALTER TABLE "Stage" ADD COLUMN "etaAt" DATETIME;
ALTER TABLE "Stage" ADD COLUMN "etaSeconds" REAL;
