-- AlterTable
ALTER TABLE "Stage" ADD COLUMN "remoteDir" TEXT;
ALTER TABLE "Stage" ADD COLUMN "remotePgid" INTEGER;
