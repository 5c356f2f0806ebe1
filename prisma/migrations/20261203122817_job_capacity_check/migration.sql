-- AlterTable
ALTER TABLE "BurnInJob" ADD COLUMN "capacityCheck" TEXT;
