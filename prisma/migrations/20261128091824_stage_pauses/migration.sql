-- AlterTable: new columns only (SQLite adds them in place; no table rebuild over a large history)
ALTER TABLE "Stage" ADD COLUMN "pausedAt" DATETIME;
ALTER TABLE "Stage" ADD COLUMN "pauseReason" TEXT;
ALTER TABLE "Stage" ADD COLUMN "pausedSeconds" REAL NOT NULL DEFAULT 0;
ALTER TABLE "Stage" ADD COLUMN "pauses" TEXT NOT NULL DEFAULT '[]';
