// One declaration per SQL table: each domain field with its column kind. A declaration yields the
// table's column list (in declaration order), the row of SQL values to write, and the row mapper
// that reads a domain value back — so a column is named, converted and ordered in one place.
// Column names are the fields' names in snake_case unless a kind is `named`.

import type { Row, SqlValue } from "./driver.js";
import { b, bit, n, nOrNull, s, sOrNull } from "./sql-values.js";

/** How one domain field is stored: in one column, or (a group) in several. */
export interface Field<T> {
  columns(key: string): string[];
  write(value: T): SqlValue[];
  read(row: Row, key: string): T;
}

export type Fields<R> = { readonly [K in keyof R]-?: Field<R[K]> };

export interface Table<R> {
  readonly name: string;
  /** Every column, in declaration order (INSERT column lists, upserts). */
  readonly cols: string[];
  /** The SQL values of a domain value, in `cols` order. */
  row(value: R): SqlValue[];
  /** The domain value of a selected row (the row mapper). */
  from(row: Row): R;
}

const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function column<T>(to: (v: T) => SqlValue, from: (raw: unknown) => T, name?: string): Field<T> {
  return {
    columns: (key) => [name ?? snake(key)],
    write: (v) => [to(v)],
    read: (r, key) => from(r[name ?? snake(key)]),
  };
}

/** The same kind stored under another column name. */
export function named<T>(name: string, kind: Field<T>): Field<T> {
  return { columns: () => [name], write: (v) => kind.write(v), read: (r) => kind.read(r, name) };
}

/** A nested object stored flat in several columns (its fields' columns, after `prefix`). */
export function group<R>(prefix: string, fields: Fields<R>): Field<R> {
  const entries = Object.entries(fields) as Array<[string, Field<unknown>]>;
  return {
    columns: () => entries.flatMap(([k, f]) => f.columns(prefix + k)),
    write: (v) => entries.flatMap(([k, f]) => f.write((v as Record<string, unknown>)[k])),
    read: (r) => Object.fromEntries(entries.map(([k, f]) => [k, f.read(r, prefix + k)])) as R,
  };
}

export const text = column<string>((v) => v, s);
export const textOrNull = column<string | null>((v) => v, sOrNull);
export const int = column<number>((v) => v, n);
export const intOrNull = column<number | null>((v) => v, nOrNull);
/** A boolean as INTEGER 0/1. */
export const flag = column<boolean>(bit, b);
/** A boolean as INTEGER 0/1 whose column an older row may lack (then `missing`). */
export const flagOr = (missing: boolean): Field<boolean> => column<boolean>(bit, (raw) => b(raw ?? bit(missing)));
/** An integer whose column an older row may lack (then `missing`). */
export const intOr = (missing: number): Field<number> => column<number>((v) => v, (raw) => n(raw ?? missing));
/**
 * A word of a closed list (a status, a kind, a role). The schema's CHECK constraints and the only
 * writers (this store) hold the list, so the word read back is trusted as T: the one cast here
 * replaces one per field and mapper.
 */
export const word = <T extends string>(): Field<T> => column<T>((v) => v, (raw) => s(raw) as T);
/** A JSON document in a TEXT column. */
export const json = <T>(): Field<T> => column<T>((v) => JSON.stringify(v), (raw) => JSON.parse(s(raw)) as T);
/** A JSON document or NULL. */
export const jsonOrNull = <T>(): Field<T | null> =>
  column<T | null>((v) => (v === null || v === undefined ? null : JSON.stringify(v)), (raw) => (raw === null || raw === undefined ? null : (JSON.parse(s(raw)) as T)));
/** A constant (the column holds it; the domain type allows nothing else). */
export const constant = <const T extends string>(value: T): Field<T> => column<T>(() => value, () => value);

export function table<R>(name: string, fields: Fields<R>): Table<R> {
  const g = group<R>("", fields);
  return { name, cols: g.columns(""), row: (v) => g.write(v), from: (r) => g.read(r, "") };
}
