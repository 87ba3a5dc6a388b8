// SQL implementation of the legacy importer's records (migration 5: legacy_imports).

import type { LegacyImportRecord, LegacyImportTx } from "../../ports/legacy-import-store.js";
import type { Queryable } from "./driver.js";
import { inList, upsert } from "./sql-bulk.js";
import { n, s } from "./sql-values.js";

export class SqlLegacyImportTx implements LegacyImportTx {
  constructor(private readonly q: Queryable) {}

  async findImports(legacyIds: readonly string[]): Promise<LegacyImportRecord[]> {
    const rows = await inList(this.q, (l) => `SELECT * FROM legacy_imports WHERE legacy_id IN (${l})`, legacyIds);
    return rows.map((r) => ({ legacyId: s(r["legacy_id"]), orgId: s(r["org_id"]), digest: s(r["digest"]), importedAt: n(r["imported_at"]) }));
  }

  async recordImports(records: readonly LegacyImportRecord[]): Promise<void> {
    // Insert only: a second import of one legacy id fails on the primary key (never overwrites).
    await upsert(this.q, "legacy_imports", ["legacy_id", "org_id", "digest", "imported_at"], ["legacy_id"], records.map((r) => [r.legacyId, r.orgId, r.digest, r.importedAt]), false);
  }
}
