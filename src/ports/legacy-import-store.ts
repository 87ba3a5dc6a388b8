// The store's part of the legacy importer (reached as `tx.legacyImport`): one row per imported
// legacy account, written in the transaction that creates the account, so a re-run of the same
// file finds it and changes nothing (and a changed record is reported as a conflict).

import type { SpendLimit } from "../core/limits.js";
import type { AutoReloadSettings, PaymentMethod } from "../core/money-in-model.js";
import type { Member } from "../core/model.js";

export interface LegacyImportRecord {
  /** The account's id in the legacy export. */
  readonly legacyId: string;
  readonly orgId: string;
  /** SHA-256 of the account's normalized records: equal digest = same data as imported. */
  readonly digest: string;
  readonly importedAt: number;
}

/** The rows of imported accounts that the money path's writeChanges does not cover. */
export interface ImportedRows {
  readonly members: readonly Member[];
  readonly paymentMethods: readonly PaymentMethod[];
  readonly autoReloads: readonly AutoReloadSettings[];
  readonly limits: readonly SpendLimit[];
  readonly at: number;
}

export interface LegacyImportTx {
  /** Multi-row inserts of new accounts' members, payment methods, auto-reload settings and limits. */
  insertRows(rows: ImportedRows): Promise<void>;
  findImports(legacyIds: readonly string[]): Promise<LegacyImportRecord[]>;
  recordImports(records: readonly LegacyImportRecord[]): Promise<void>;
}
