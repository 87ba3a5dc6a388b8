// SQL for the audit-log port (migration 7), shared by SQLite and PostgreSQL. Snapshots are stored
// as JSON text; rows are only ever inserted (triggers refuse UPDATE and DELETE).

import type { AuditAction, AuditActor, AuditEntry, AuditTargetType } from "../../core/audit.js";
import type { AuditQuery, AuditTx } from "../../ports/audit-store.js";
import type { Queryable, Row, SqlValue } from "./driver.js";
import { upsert } from "./sql-bulk.js";
import { n, s, sOrNull } from "./sql-values.js";

const COLS = ["id", "org_id", "at", "actor_type", "actor_id", "actor_member_id", "action", "target_type", "target_id", "before_json", "after_json", "request_id"];

const json = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));
const parse = (v: unknown): unknown => (v === null || v === undefined ? null : (JSON.parse(s(v)) as unknown));

const entryRow = (e: AuditEntry): SqlValue[] => [
  e.id, e.orgId, e.at, e.actor.type, e.actor.id, e.actor.memberId, e.action, e.targetType, e.targetId, json(e.before), json(e.after), e.requestId,
];

const entryFrom = (r: Row): AuditEntry => ({
  id: s(r["id"]),
  orgId: s(r["org_id"]),
  at: n(r["at"]),
  actor: { type: s(r["actor_type"]) as AuditActor["type"], id: sOrNull(r["actor_id"]), memberId: sOrNull(r["actor_member_id"]) },
  action: s(r["action"]) as AuditAction,
  targetType: s(r["target_type"]) as AuditTargetType,
  targetId: s(r["target_id"]),
  before: parse(r["before_json"]),
  after: parse(r["after_json"]),
  requestId: sOrNull(r["request_id"]),
});

export class SqlAuditTx implements AuditTx {
  constructor(private readonly q: Queryable) {}

  async insert(entries: readonly AuditEntry[]): Promise<void> {
    await upsert(this.q, "audit_log", COLS, ["id"], entries.map(entryRow), false); // insert only
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
    return (await this.q.all(`SELECT * FROM audit_log WHERE ${where.join(" AND ")} ORDER BY at DESC, id DESC LIMIT ?`, params)).map(entryFrom);
  }
}
