// The store's reads for the pricing lab (reached as `tx.lab`): the operation log of a period in
// pages (never all of it at once), each organization's state at the start of the period, and what
// actually happened (spend by payer, revenue, breakage, closing balances) to compare against.

import type { OrgOpening, Spend } from "../core/lab.js";
import type { Micros } from "../core/money.js";
import type { LogEntry } from "../core/operation-log.js";

export interface LogPageQuery {
  readonly from: number;
  readonly to: number;
  /** null: every organization. */
  readonly orgIds: readonly string[] | null;
  /** Entries after this sequence number, up to `lastSeq` (logRange). */
  readonly afterSeq: number;
  readonly lastSeq: number;
  readonly limit: number;
}

/** A usage record written before the operation log existed (schema < 11): no token classes, no log entries. */
export interface BareRecord {
  readonly id: string;
  readonly orgId: string;
  readonly memberId: string;
  readonly holdId: string;
  readonly surface: string;
  readonly model: string;
  readonly speed: string;
  readonly cost: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly at: number;
}

export interface ActualFigures {
  readonly spend: Map<string, Spend>;
  readonly members: Map<string, Map<string, Spend>>;
  readonly closingBalance: Map<string, Micros>;
  readonly records: number;
  readonly recordsWithoutClasses: number;
}

export interface LabTx {
  /** Organizations in scope (all when orgIds is null), id order. */
  organizations(orgIds: readonly string[] | null): Promise<Array<{ id: string; name: string }>>;
  /** The sequence numbers of the period's first and last entries (null: none). */
  logRange(from: number, to: number): Promise<{ first: number; last: number } | null>;
  /** Entries of the period (from ≤ at < to), in log order, after `afterSeq`. */
  logPage(q: LogPageQuery): Promise<Array<LogEntry & { readonly seq: number }>>;
  /** Usage records of the period without token classes, (at, id) order, after (afterAt, afterId). */
  bareRecords(q: { from: number; to: number; orgIds: readonly string[] | null; afterAt: number; afterId: string; limit: number }): Promise<BareRecord[]>;
  /** Each organization's state at `from` (balances from the ledger, holds pending then, window and spend counters). */
  openings(orgIds: readonly string[], from: number): Promise<OrgOpening[]>;
  /** What happened in [from, to): usage records by payer, usage revenue and breakage, balances at `to`. */
  actual(orgIds: readonly string[], from: number, to: number): Promise<ActualFigures>;
}
