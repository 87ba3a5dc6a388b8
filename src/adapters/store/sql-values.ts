// Converting between SQL values and domain values, the same way for both engines: BIGINT epoch-ms
// and amounts to numbers, INTEGER 0/1 to booleans, and `?` placeholder lists.

export const n = (v: unknown): number => Number(v);
export const nOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
export const s = (v: unknown): string => String(v);
export const sOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
export const b = (v: unknown): boolean => Number(v) === 1;
export const bit = (v: boolean): number => (v ? 1 : 0);

const markCache: string[] = [];
/** "?, ?, ?" for `count` placeholders (cached: batches build these for every statement). */
export const marks = (count: number): string => (markCache[count] ??= Array.from({ length: count }, () => "?").join(", "));

/** A column value that may have crossed as bytes (sqlite-thread.ts moves large text as bytes): a string, or UTF-8 in a Buffer. */
export function largeText(v: unknown): string | Buffer {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return String(v ?? "");
}
