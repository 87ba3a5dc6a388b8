// The store's part of the legacy importer (reached as `tx.legacyImport`): one row per imported
// legacy account, written in the transaction that creates the account, so a re-run of the same
// file finds it and changes nothing (and a changed record is reported as a conflict).

export interface LegacyImportRecord {
  /** The account's id in the legacy export. */
  readonly legacyId: string;
  readonly orgId: string;
  /** SHA-256 of the account's normalized records: equal digest = same data as imported. */
  readonly digest: string;
  readonly importedAt: number;
}

export interface LegacyImportTx {
  findImports(legacyIds: readonly string[]): Promise<LegacyImportRecord[]>;
  recordImports(records: readonly LegacyImportRecord[]): Promise<void>;
}
