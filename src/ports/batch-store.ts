// The store's Message Batches part (reached as `tx.messageBatches`): the gateway's record of each
// batch it forwarded (whose organization and member it is metered for, the upstream's id) and, per
// request, the hold that reserved its worst case. Request rows never change; a batch row records
// when it ended and what its requests came to, once every hold was settled or released.

export type BatchStatus = "submitting" | "in_progress" | "ended" | "failed";

export interface BatchCounts {
  readonly succeeded: number;
  readonly errored: number;
  readonly canceled: number;
  readonly expired: number;
}

export interface MessageBatchRow {
  readonly id: string;
  readonly orgId: string;
  readonly memberId: string;
  readonly upstreamId: string | null;
  readonly status: BatchStatus;
  readonly requestCount: number;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly endedAt: number | null;
  readonly cancelInitiatedAt: number | null;
  readonly counts: BatchCounts;
}

export interface MessageBatchRequestRow {
  readonly batchId: string;
  readonly index: number;
  readonly customId: string;
  readonly holdId: string;
  /** The worst case the hold reserved, in micro-dollars (charged if a result reports no usage). */
  readonly estimate: number;
  /** Priced with US-only inference (the book's data-residency modifier). */
  readonly dataResidency: boolean;
}

export interface MessageBatchesTx {
  insertBatch(batch: MessageBatchRow, requests: readonly MessageBatchRequestRow[]): Promise<void>;
  getBatch(orgId: string, id: string): Promise<MessageBatchRow | undefined>;
  updateBatch(batch: MessageBatchRow): Promise<void>;
  /** An organization's batches, newest first; after/before are batch ids of that list. */
  listBatches(orgId: string, page: { limit: number; afterId?: string; beforeId?: string }): Promise<MessageBatchRow[]>;
  /** Batches still running at the upstream, or whose create got no answer (the reconcile job's work), oldest first. */
  openBatches(limit: number): Promise<MessageBatchRow[]>;
  requests(batchId: string): Promise<MessageBatchRequestRow[]>;
}
