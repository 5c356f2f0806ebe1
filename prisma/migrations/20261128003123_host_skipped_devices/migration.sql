-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Host" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "transport" TEXT NOT NULL,
    "address" TEXT,
    "port" INTEGER NOT NULL DEFAULT 22,
    "username" TEXT,
    "privateKeyPath" TEXT,
    "passphraseEnv" TEXT,
    "useAgent" BOOLEAN NOT NULL DEFAULT false,
    "useSudo" BOOLEAN NOT NULL DEFAULT false,
    "fingerprint" TEXT,
    "trusted" BOOLEAN NOT NULL DEFAULT false,
    "offeredFingerprint" TEXT,
    "status" TEXT NOT NULL DEFAULT 'unknown',
    "statusReason" TEXT,
    "skippedDevices" TEXT NOT NULL DEFAULT '[]',
    "lastSeenAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);
INSERT INTO "new_Host" ("address", "createdAt", "fingerprint", "id", "lastSeenAt", "name", "offeredFingerprint", "passphraseEnv", "port", "privateKeyPath", "status", "statusReason", "transport", "trusted", "updatedAt", "useAgent", "useSudo", "username") SELECT "address", "createdAt", "fingerprint", "id", "lastSeenAt", "name", "offeredFingerprint", "passphraseEnv", "port", "privateKeyPath", "status", "statusReason", "transport", "trusted", "updatedAt", "useAgent", "useSudo", "username" FROM "Host";
DROP TABLE "Host";
ALTER TABLE "new_Host" RENAME TO "Host";
CREATE UNIQUE INDEX "Host_name_key" ON "Host"("name");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
