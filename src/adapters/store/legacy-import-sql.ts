// SQL implementation of the legacy importer's records (migration 5: legacy_imports).

import type { ImportedRows, LegacyImportRecord, LegacyImportTx } from "../../ports/legacy-import-store.js";
import { methodCols, methodRow, reloadCols, reloadRow } from "./money-in-sql.js";
import { limitCols, limitRow, memberCols, memberRow } from "./sql-store.js";
import type { Queryable } from "./driver.js";
import { inList, upsert } from "./sql-bulk.js";
import { n, s } from "./sql-values.js";

export class SqlLegacyImportTx implements LegacyImportTx {
  constructor(private readonly q: Queryable) {}

  async insertRows(r: ImportedRows): Promise<void> {
    await upsert(this.q, "members", memberCols, ["id"], r.members.map(memberRow), false);
    await upsert(this.q, "payment_methods", methodCols, ["id"], r.paymentMethods.map(methodRow), false);
    await upsert(this.q, "auto_reload_settings", reloadCols, ["org_id"], r.autoReloads.map(reloadRow), false);
    await upsert(this.q, "spend_limits", limitCols, ["id"], r.limits.map((l) => limitRow(l, r.at)), false);
  }

  async findImports(legacyIds: readonly string[]): Promise<LegacyImportRecord[]> {
    const rows = await inList(this.q, (l) => `SELECT * FROM legacy_imports WHERE legacy_id IN (${l})`, legacyIds);
    return rows.map((r) => ({ legacyId: s(r["legacy_id"]), orgId: s(r["org_id"]), digest: s(r["digest"]), importedAt: n(r["imported_at"]) }));
  }

  async recordImports(records: readonly LegacyImportRecord[]): Promise<void> {
    // Insert only: a second import of one legacy id fails on the primary key (never overwrites).
    await upsert(this.q, "legacy_imports", ["legacy_id", "org_id", "digest", "imported_at"], ["legacy_id"], records.map((r) => [r.legacyId, r.orgId, r.digest, r.importedAt]), false);
  }
}
