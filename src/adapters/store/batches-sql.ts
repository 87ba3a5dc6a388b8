// SQL for the Message Batches port (tables of migration 8), shared by SQLite and PostgreSQL.

import type { BatchStatus, MessageBatchesTx, MessageBatchRequestRow, MessageBatchRow } from "../../ports/batch-store.js";
import type { Queryable, Row, SqlValue } from "./driver.js";
import { upsert } from "./sql-bulk.js";
import { b, bit, n, nOrNull, s, sOrNull } from "./sql-values.js";

const batchCols = [
  "id",
  "org_id",
  "member_id",
  "upstream_id",
  "status",
  "request_count",
  "created_at",
  "expires_at",
  "ended_at",
  "cancel_initiated_at",
  "succeeded",
  "errored",
  "canceled",
  "expired",
];
const batchRow = (x: MessageBatchRow): SqlValue[] => [
  x.id,
  x.orgId,
  x.memberId,
  x.upstreamId,
  x.status,
  x.requestCount,
  x.createdAt,
  x.expiresAt,
  x.endedAt,
  x.cancelInitiatedAt,
  x.counts.succeeded,
  x.counts.errored,
  x.counts.canceled,
  x.counts.expired,
];
const batchFrom = (r: Row): MessageBatchRow => ({
  id: s(r["id"]),
  orgId: s(r["org_id"]),
  memberId: s(r["member_id"]),
  upstreamId: sOrNull(r["upstream_id"]),
  status: s(r["status"]) as BatchStatus,
  requestCount: n(r["request_count"]),
  createdAt: n(r["created_at"]),
  expiresAt: n(r["expires_at"]),
  endedAt: nOrNull(r["ended_at"]),
  cancelInitiatedAt: nOrNull(r["cancel_initiated_at"]),
  counts: { succeeded: n(r["succeeded"]), errored: n(r["errored"]), canceled: n(r["canceled"]), expired: n(r["expired"]) },
});

const requestCols = ["batch_id", "idx", "custom_id", "hold_id", "estimate", "data_residency"];
const requestFrom = (r: Row): MessageBatchRequestRow => ({
  batchId: s(r["batch_id"]),
  index: n(r["idx"]),
  customId: s(r["custom_id"]),
  holdId: s(r["hold_id"]),
  estimate: n(r["estimate"]),
  dataResidency: b(r["data_residency"]),
});

export class SqlMessageBatchesTx implements MessageBatchesTx {
  constructor(private readonly q: Queryable) {}

  async insertBatch(batch: MessageBatchRow, requests: readonly MessageBatchRequestRow[]): Promise<void> {
    await upsert(this.q, "message_batches", batchCols, ["id"], [batchRow(batch)], false);
    await upsert(
      this.q,
      "message_batch_requests",
      requestCols,
      ["batch_id", "idx"],
      requests.map((r) => [r.batchId, r.index, r.customId, r.holdId, r.estimate, bit(r.dataResidency)]),
      false,
    );
  }

  async getBatch(orgId: string, id: string): Promise<MessageBatchRow | undefined> {
    const r = (await this.q.all("SELECT * FROM message_batches WHERE id = ? AND org_id = ?", [id, orgId]))[0];
    return r ? batchFrom(r) : undefined;
  }

  async updateBatch(x: MessageBatchRow): Promise<void> {
    await this.q.run(
      "UPDATE message_batches SET upstream_id = ?, status = ?, expires_at = ?, ended_at = ?, cancel_initiated_at = ?, succeeded = ?, errored = ?, canceled = ?, expired = ? WHERE id = ?",
      [x.upstreamId, x.status, x.expiresAt, x.endedAt, x.cancelInitiatedAt, x.counts.succeeded, x.counts.errored, x.counts.canceled, x.counts.expired, x.id],
    );
  }

  async listBatches(orgId: string, page: { limit: number; afterId?: string; beforeId?: string }): Promise<MessageBatchRow[]> {
    // Ids are time-ordered, so id order is creation order.
    if (page.beforeId !== undefined) {
      const rows = await this.q.all("SELECT * FROM message_batches WHERE org_id = ? AND status <> 'failed' AND id > ? ORDER BY id ASC LIMIT ?", [orgId, page.beforeId, page.limit]);
      return rows.map(batchFrom).reverse();
    }
    const after = page.afterId !== undefined ? "AND id < ?" : "";
    const args: SqlValue[] = page.afterId !== undefined ? [orgId, page.afterId, page.limit] : [orgId, page.limit];
    return (await this.q.all(`SELECT * FROM message_batches WHERE org_id = ? AND status <> 'failed' ${after} ORDER BY id DESC LIMIT ?`, args)).map(batchFrom);
  }

  async openBatches(limit: number): Promise<MessageBatchRow[]> {
    return (await this.q.all("SELECT * FROM message_batches WHERE status IN ('in_progress', 'submitting') ORDER BY created_at, id LIMIT ?", [limit])).map(batchFrom);
  }

  async requests(batchId: string): Promise<MessageBatchRequestRow[]> {
    return (await this.q.all("SELECT * FROM message_batch_requests WHERE batch_id = ? ORDER BY idx", [batchId])).map(requestFrom);
  }
}
