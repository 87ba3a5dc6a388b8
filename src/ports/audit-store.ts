// The store's audit-log part (reached as `tx.audit` inside any store transaction, so an entry
// commits with the change it describes). Append-only: there is no update or delete here, and the
// database refuses them (migration 7).

import type { AuditAction, AuditEntry, AuditTargetType } from "../core/audit.js";

export interface AuditQuery {
  readonly orgId: string;
  readonly limit: number;
  /** Entries strictly before this (at, id) position, for paging newest first. */
  readonly before?: { at: number; id: string };
  readonly action?: AuditAction;
  readonly targetType?: AuditTargetType;
  readonly targetId?: string;
}

export interface AuditTx {
  insert(entries: readonly AuditEntry[]): Promise<void>;
  /** Newest first. */
  list(q: AuditQuery): Promise<AuditEntry[]>;
}
