-- AlterTable
ALTER TABLE "Host" ADD COLUMN     "skippedDevices" TEXT NOT NULL DEFAULT '[]';
