// Who did what: starts, cancels, unlocks, host-key trust, host changes, settings.
import type { Db } from "../db/client.js";
import { requestAddress } from "../request-scope.js";

export interface AuditInput {
  actor: string;
  action: string;
  subjectType?: string;
  subjectId?: string;
  details?: Record<string, unknown>;
}

/** Db, or the client of a transaction, so an audit row commits with the change it records. */
type DbLike = Pick<Db, "auditEvent">;

export async function audit(db: DbLike, input: AuditInput): Promise<void> {
  await db.auditEvent.create({
    data: {
      actor: input.actor,
      address: requestAddress(),
      action: input.action,
      subjectType: input.subjectType ?? null,
      subjectId: input.subjectId ?? null,
      details: JSON.stringify(input.details ?? {}),
    },
  });
}
