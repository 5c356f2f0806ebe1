-- AlterTable
ALTER TABLE "Stage" ADD COLUMN     "remoteDir" TEXT,
ADD COLUMN     "remotePgid" INTEGER;
