-- AlterTable
ALTER TABLE "Stage" ADD COLUMN     "sanitize" TEXT;
