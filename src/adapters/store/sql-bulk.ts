// Multi-row statements both engines speak: batched upserts and IN-list reads, in chunks that stay
// under either engine's limit on bound parameters.

import type { Queryable, Row, SqlValue } from "./driver.js";
import { marks } from "./sql-values.js";

/** Rows per multi-row statement (and ids per IN list). */
export const BULK_CHUNK = 400;
const CHUNK = BULK_CHUNK;

/**
 * Multi-row INSERT … ON CONFLICT (key) DO UPDATE; both engines speak it. "replace" overwrites the
 * other columns, "add" adds to them (counters written as deltas), "none" inserts only.
 */
export async function upsert(q: Queryable, table: string, cols: readonly string[], key: readonly string[], rows: readonly SqlValue[][], update: boolean | "add" = true): Promise<void> {
  const set = cols
    .filter((c) => !key.includes(c))
    .map((c) => (update === "add" ? `${c} = ${table}.${c} + excluded.${c}` : `${c} = excluded.${c}`))
    .join(", ");
  for (let i = 0; i < rows.length; i += CHUNK) {
    const part = rows.slice(i, i + CHUNK);
    const values = part.map(() => `(${marks(cols.length)})`).join(", ");
    const conflict = update ? `ON CONFLICT (${key.join(", ")}) DO UPDATE SET ${set}` : "";
    await q.run(`INSERT INTO ${table} (${cols.join(", ")}) VALUES ${values} ${conflict}`, part.flat());
  }
}

/** Runs sqlWithIn over `ids` in chunks; `extra` parameters come after the ids, or before with `extraFirst`. */
export async function inList(q: Queryable, sqlWithIn: (list: string) => string, ids: readonly string[], extra: readonly SqlValue[] = [], extraFirst = false): Promise<Row[]> {
  if (ids.length === 0) return [];
  const out: Row[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const part = ids.slice(i, i + CHUNK);
    out.push(...(await q.all(sqlWithIn(marks(part.length)), extraFirst ? [...extra, ...part] : [...part, ...extra])));
  }
  return out;
}

