// SQL for the audit-log port (migration 7), shared by SQLite and PostgreSQL. Snapshots are stored
// as JSON text; rows are only ever inserted (triggers refuse UPDATE and DELETE).

import type { AuditEntry } from "../../core/audit.js";
import type { AuditQuery, AuditTx } from "../../ports/audit-store.js";
import type { Queryable, SqlValue } from "./driver.js";
import { upsert } from "./sql-bulk.js";
import { AUDIT_LOG } from "./tables.js";

export class SqlAuditTx implements AuditTx {
  constructor(private readonly q: Queryable) {}

  async insert(entries: readonly AuditEntry[]): Promise<void> {
    await upsert(this.q, "audit_log", AUDIT_LOG.cols, ["id"], entries.map(AUDIT_LOG.row), false); // insert only
  }

  async list(a: AuditQuery): Promise<AuditEntry[]> {
    const where = ["org_id = ?"];
    const params: SqlValue[] = [a.orgId];
    if (a.before) {
      where.push("(at < ? OR (at = ? AND id < ?))");
      params.push(a.before.at, a.before.at, a.before.id);
    }
    if (a.action) {
      where.push("action = ?");
      params.push(a.action);
    }
    if (a.targetType) {
      where.push("target_type = ?");
      params.push(a.targetType);
    }
    if (a.targetId) {
      where.push("target_id = ?");
      params.push(a.targetId);
    }
    params.push(a.limit);
    return (await this.q.all(`SELECT * FROM audit_log WHERE ${where.join(" AND ")} ORDER BY at DESC, id DESC LIMIT ?`, params)).map(AUDIT_LOG.from);
  }
}
