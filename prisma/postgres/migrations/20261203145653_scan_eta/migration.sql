-- AlterTable
ALTER TABLE "BurnInJob" ADD COLUMN     "etaAt" TIMESTAMP(3),
ADD COLUMN     "etaSeconds" DOUBLE PRECISION;

-- AlterTable
ALTER TABLE "Stage" ADD COLUMN     "etaAt" TIMESTAMP(3),
ADD COLUMN     "etaSeconds" DOUBLE PRECISION;
