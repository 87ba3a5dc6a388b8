// SQL implementation of the legacy importer's records (migration 5: legacy_imports).

import type { ImportedRows, LegacyImportRecord, LegacyImportTx } from "../../ports/legacy-import-store.js";
import { AUTO_RELOAD, LEGACY_IMPORTS, LIMIT_COLS, limitRow, MEMBERS, PAYMENT_METHODS } from "./tables.js";
import type { Queryable } from "./driver.js";
import { inList, upsert } from "./sql-bulk.js";

export class SqlLegacyImportTx implements LegacyImportTx {
  constructor(private readonly q: Queryable) {}

  async insertRows(r: ImportedRows): Promise<void> {
    await upsert(this.q, "members", MEMBERS.cols, ["id"], r.members.map(MEMBERS.row), false);
    await upsert(this.q, "payment_methods", PAYMENT_METHODS.cols, ["id"], r.paymentMethods.map(PAYMENT_METHODS.row), false);
    await upsert(this.q, "auto_reload_settings", AUTO_RELOAD.cols, ["org_id"], r.autoReloads.map(AUTO_RELOAD.row), false);
    await upsert(this.q, "spend_limits", LIMIT_COLS, ["id"], r.limits.map((l) => limitRow(l, r.at)), false);
  }

  async findImports(legacyIds: readonly string[]): Promise<LegacyImportRecord[]> {
    const rows = await inList(this.q, (l) => `SELECT * FROM legacy_imports WHERE legacy_id IN (${l})`, legacyIds);
    return rows.map(LEGACY_IMPORTS.from);
  }

  async recordImports(records: readonly LegacyImportRecord[]): Promise<void> {
    // Insert only: a second import of one legacy id fails on the primary key (never overwrites).
    await upsert(this.q, LEGACY_IMPORTS.name, LEGACY_IMPORTS.cols, ["legacy_id"], records.map(LEGACY_IMPORTS.row), false);
  }
}
