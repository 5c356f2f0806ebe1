-- AlterTable
ALTER TABLE "Stage" ADD COLUMN     "pauseReason" TEXT,
ADD COLUMN     "pausedAt" TIMESTAMP(3),
ADD COLUMN     "pausedSeconds" DOUBLE PRECISION NOT NULL DEFAULT 0,
ADD COLUMN     "pauses" TEXT NOT NULL DEFAULT '[]';
