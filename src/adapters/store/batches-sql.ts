// SQL for the Message Batches port (tables of migration 8), shared by SQLite and PostgreSQL.

import type { MessageBatchesTx, MessageBatchRequestRow, MessageBatchRow } from "../../ports/batch-store.js";
import type { Queryable, SqlValue } from "./driver.js";
import { upsert } from "./sql-bulk.js";
import { bit } from "./sql-values.js";
import { MESSAGE_BATCH_REQUESTS, MESSAGE_BATCHES } from "./tables.js";

export class SqlMessageBatchesTx implements MessageBatchesTx {
  constructor(private readonly q: Queryable) {}

  async insertBatch(batch: MessageBatchRow, requests: readonly MessageBatchRequestRow[]): Promise<void> {
    await upsert(this.q, "message_batches", MESSAGE_BATCHES.cols, ["id"], [MESSAGE_BATCHES.row(batch)], false);
    await upsert(
      this.q,
      "message_batch_requests",
      MESSAGE_BATCH_REQUESTS.cols,
      ["batch_id", "idx"],
      requests.map((r) => [r.batchId, r.index, r.customId, r.holdId, r.estimate, bit(r.dataResidency)]),
      false,
    );
  }

  async getBatch(orgId: string, id: string): Promise<MessageBatchRow | undefined> {
    const r = (await this.q.all("SELECT * FROM message_batches WHERE id = ? AND org_id = ?", [id, orgId]))[0];
    return r ? MESSAGE_BATCHES.from(r) : undefined;
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
      return rows.map(MESSAGE_BATCHES.from).reverse();
    }
    const after = page.afterId !== undefined ? "AND id < ?" : "";
    const args: SqlValue[] = page.afterId !== undefined ? [orgId, page.afterId, page.limit] : [orgId, page.limit];
    return (await this.q.all(`SELECT * FROM message_batches WHERE org_id = ? AND status <> 'failed' ${after} ORDER BY id DESC LIMIT ?`, args)).map(MESSAGE_BATCHES.from);
  }

  async openBatches(limit: number): Promise<MessageBatchRow[]> {
    return (await this.q.all("SELECT * FROM message_batches WHERE status = 'in_progress' ORDER BY created_at, id LIMIT ?", [limit])).map(MESSAGE_BATCHES.from);
  }

  async requests(batchId: string): Promise<MessageBatchRequestRow[]> {
    return (await this.q.all("SELECT * FROM message_batch_requests WHERE batch_id = ? ORDER BY idx", [batchId])).map(MESSAGE_BATCH_REQUESTS.from);
  }
}
