-- AlterTable
ALTER TABLE "Stage" ADD COLUMN "scanResume" TEXT;
