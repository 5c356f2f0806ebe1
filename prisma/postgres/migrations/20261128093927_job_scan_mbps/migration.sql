-- AlterTable
ALTER TABLE "BurnInJob" ADD COLUMN     "scanMbps" DOUBLE PRECISION;
