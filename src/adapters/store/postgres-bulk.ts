// PostgreSQL's set-based writes (sql-bulk.ts hands them to the driver as BulkWrite): one statement
// per write whose text depends on the table and columns only, never on the row count, so it is
// prepared once per connection; the column types its arrays are cast to; the statements' names.

import type pg from "pg";
import type { BulkWrite } from "./driver.js";

/**
 * Column types per table, read from the catalog the first time a table is written set-based (the
 * `unnest` arrays are cast to them: `$1::bigint[]`). Reloaded if a column is missing (a migration
 * added it since).
 */
export class ColumnTypes {
  private readonly tables = new Map<string, Map<string, string>>();

  known(table: string, cols: readonly string[]): Map<string, string> | undefined {
    const t = this.tables.get(table);
    return t && cols.every((c) => t.has(c)) ? t : undefined;
  }

  async load(query: (text: string, values: unknown[]) => Promise<pg.QueryResult>, table: string): Promise<void> {
    const res = await query(
      "SELECT attname AS c, format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped",
      [table],
    );
    this.tables.set(table, new Map(res.rows.map((r) => [String(r["c"]), String(r["t"])])));
  }
}

/**
 * Names of the prepared statements, one per distinct text: a few dozen (the combinations of tables
 * and columns the store writes together). Past MAX_PREPARED texts, unnamed: a bug that made texts
 * vary must not grow every connection's statement cache without bound.
 */
const statementNames = new Map<string, string>();
const MAX_PREPARED = 500;
export const nameOf = (text: string): string | undefined => {
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_PREPARED) statementNames.set(text, (name = `uc_${statementNames.size + 1}`));
  return name;
};

/**
 * A set-based write as one statement whose text depends on the table and columns only, never on
 * the row count: `INSERT INTO t (a, b) SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT …`
 * (unnest yields the rows in array order, so a generated key such as operation_log.seq follows the
 * order the rows were given in), or `UPDATE t SET a = $1 … WHERE id = ANY($n::text[])`.
 */
export function bulkStatement(w: BulkWrite, types: Map<string, string>, offset = 0): { text: string; values: unknown[] } {
  const typeOf = (c: string): string => types.get(c) ?? "text";
  const $ = (i: number) => `$${offset + i + 1}`;
  if (w.kind === "update") {
    const set = w.set.map((c, i) => `${c} = ${$(i)}::${typeOf(c)}`).join(", ");
    return { text: `UPDATE ${w.table} SET ${set} WHERE ${w.key} = ANY(${$(w.set.length)}::${typeOf(w.key)}[])`, values: [...w.values, w.ids] };
  }
  const arrays = w.cols.map((c, i) => `${$(i)}::${typeOf(c)}[]`).join(", ");
  const set = w.cols
    .filter((c) => !w.key.includes(c))
    .map((c) => (w.update === "add" ? `${c} = ${w.table}.${c} + excluded.${c}` : `${c} = excluded.${c}`))
    .join(", ");
  const conflict = w.update ? ` ON CONFLICT (${w.key.join(", ")}) DO UPDATE SET ${set}` : "";
  const columns: unknown[] = w.cols.map((_, i) => w.rows.map((r) => r[i] ?? null));
  return { text: `INSERT INTO ${w.table} (${w.cols.join(", ")}) SELECT * FROM unnest(${arrays})${conflict}`, values: columns };
}

export const columnsOf = (w: BulkWrite): readonly string[] => (w.kind === "update" ? [...w.set, w.key] : w.cols);
