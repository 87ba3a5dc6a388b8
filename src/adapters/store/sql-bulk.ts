// Multi-row statements both engines speak: batched upserts, set-based updates and IN-list reads.
// Where the driver has set-based writes (PostgreSQL: `unnest` arrays, one prepared statement whose
// text does not depend on the row count) a write is one statement; otherwise multi-row VALUES and
// IN lists in chunks that stay under either engine's limit on bound parameters.

import type { Queryable, Row, SqlValue } from "./driver.js";
import { marks } from "./sql-values.js";

/** Rows per multi-row statement (and ids per IN list). */
export const BULK_CHUNK = 400;
const CHUNK = BULK_CHUNK;

/**
 * Multi-row INSERT … ON CONFLICT (key) DO UPDATE; both engines speak it. "replace" overwrites the
 * other columns, "add" adds to them (counters written as deltas), "none" inserts only.
 * Every chunk is sent at once, in order (one connection runs them in order): all of a write's
 * statements are issued before the call first yields, which a pipelined COMMIT relies on
 * (StoreCapabilities.pipelinedCommit), and they cross to the SQLite thread in one message.
 */
export async function upsert(q: Queryable, table: string, cols: readonly string[], key: readonly string[], rows: readonly SqlValue[][], update: boolean | "add" = true): Promise<void> {
  if (rows.length === 0) return;
  if (q.bulk) {
    await q.bulk({ kind: "upsert", table, cols, key, rows, update });
    return;
  }
  const set = cols
    .filter((c) => !key.includes(c))
    .map((c) => (update === "add" ? `${c} = ${table}.${c} + excluded.${c}` : `${c} = excluded.${c}`))
    .join(", ");
  const sent: Array<Promise<number>> = [];
  for (let i = 0; i < rows.length; i += CHUNK) {
    const part = rows.slice(i, i + CHUNK);
    const values = part.map(() => `(${marks(cols.length)})`).join(", ");
    const conflict = update ? `ON CONFLICT (${key.join(", ")}) DO UPDATE SET ${set}` : "";
    sent.push(q.run(`INSERT INTO ${table} (${cols.join(", ")}) VALUES ${values} ${conflict}`, part.flat()));
  }
  await Promise.all(sent);
}

/**
 * `UPDATE table SET set… = values… WHERE key IN (ids)`: one set-based statement where the driver
 * has them, else one per chunk of ids (all sent at once, as upsert's).
 */
export async function updateIn(q: Queryable, table: string, set: readonly string[], values: readonly SqlValue[], key: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  if (q.bulk) {
    await q.bulk({ kind: "update", table, set, values, key, ids });
    return;
  }
  const assign = set.map((c) => `${c} = ?`).join(", ");
  await inList(q, (l) => `UPDATE ${table} SET ${assign} WHERE ${key} IN (${l})`, ids, values, true);
}

/**
 * Runs sqlWithIn over `ids` in chunks, all sent at once (as upsert's); `extra` parameters come after
 * the ids, or before with `extraFirst`. Rows come back in chunk order.
 */
export async function inList(q: Queryable, sqlWithIn: (list: string) => string, ids: readonly string[], extra: readonly SqlValue[] = [], extraFirst = false): Promise<Row[]> {
  if (ids.length === 0) return [];
  const sent: Array<Promise<Row[]>> = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const part = ids.slice(i, i + CHUNK);
    sent.push(q.all(sqlWithIn(marks(part.length)), extraFirst ? [...extra, ...part] : [...part, ...extra]));
  }
  return (await Promise.all(sent)).flat();
}

