-- AlterTable
ALTER TABLE "BurnInJob" ADD COLUMN     "leaseVersion" INTEGER NOT NULL DEFAULT 0;
