-- AlterTable
ALTER TABLE "BurnInJob" ADD COLUMN "scanMbps" REAL;
