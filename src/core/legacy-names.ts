// The rename "extra usage" → "usage credits" (DOMAIN.md §8): the one table of old names that keep
// working as deprecated aliases (API fields and query parameters, webhook event types, CLI words),
// and the pure translations between the two vocabularies. The HTTP alias table (old paths) lives in
// src/http/aliases.ts and uses these.

/** When the old names were deprecated (the rename's release): the `Deprecation: @<seconds>` date. */
export const LEGACY_DEPRECATED_AT = Date.UTC(2026, 9, 1); // 2026-10-01T00:00:00Z

/** New field name → old field name, in request bodies, query parameters and response bodies. */
export const FIELD_RENAMES: Readonly<Record<string, string>> = {
  usage_credits: "extra_usage",
  usage_credits_enabled: "extra_usage_enabled",
};
const OLD_FIELDS: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(FIELD_RENAMES).map(([n, o]) => [o, n]));

/** New webhook event type → old event type (delivered to endpoints that subscribed by the old name). */
export const EVENT_RENAMES: Readonly<Record<string, string>> = {
  "credits.low_balance": "extra_usage.low_balance",
  "credits.depleted": "extra_usage.depleted",
};
const OLD_EVENTS: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(EVENT_RENAMES).map(([n, o]) => [o, n]));

/** Old CLI word → new one (`extra-usage` anywhere `usage-credits` is a word). */
export const CLI_RENAMES: Readonly<Record<string, string>> = { "extra-usage": "usage-credits" };

/** A table lookup that never reaches Object.prototype ("constructor", "__proto__"). */
const own = (table: Readonly<Record<string, string>>, k: string): string | undefined => (Object.hasOwn(table, k) ? table[k] : undefined);

function renameKeys(value: unknown, table: Readonly<Record<string, string>>, depth = 0): unknown {
  if (depth > 64 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => renameKeys(v, table, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const name = own(table, k) ?? k;
    // If a body names a field both ways, the new name wins: it is what the schema documents.
    if (name !== k && Object.hasOwn(value, name)) continue;
    out[name] = renameKeys(v, table, depth + 1);
  }
  return out;
}

/** Renames new field names to the old ones, recursively (a response for an old-form request). */
export const toLegacyFields = (value: unknown): unknown => renameKeys(value, FIELD_RENAMES);
/** Renames old field names to the new ones, recursively (an old-form request body or query). */
export const fromLegacyFields = (value: unknown): unknown => renameKeys(value, OLD_FIELDS);

/**
 * Adds the old name beside each renamed field, recursively (current-form answers during the
 * deprecation). A value with no renamed field anywhere is returned as it is, not copied.
 */
export function withLegacyFields(value: unknown): unknown {
  return hasKeyIn(value, FIELD_RENAMES) ? addLegacyFields(value) : value;
}

function addLegacyFields(value: unknown, depth = 0): unknown {
  if (depth > 64 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => addLegacyFields(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const inner = addLegacyFields(v, depth + 1);
    out[k] = inner;
    const old = own(FIELD_RENAMES, k);
    if (old !== undefined && !Object.hasOwn(value, old)) out[old] = inner;
  }
  return out;
}

/** Does the value use an old field name anywhere (then the client speaks the old vocabulary)? */
export const usesLegacyFields = (value: unknown): boolean => hasKeyIn(value, OLD_FIELDS);

/** Does a key of `table` appear anywhere in the value (to 64 levels, as the translations go)? */
function hasKeyIn(value: unknown, table: Readonly<Record<string, string>>, depth = 0): boolean {
  if (depth > 64 || value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return value.some((v) => hasKeyIn(v, table, depth + 1));
  return Object.entries(value).some(([k, v]) => Object.hasOwn(table, k) || hasKeyIn(v, table, depth + 1));
}

/** The new event type an old one names, or the type itself. */
export const currentEventType = (t: string): string => own(OLD_EVENTS, t) ?? t;
/** The old event type of a new one, if it was renamed. */
export const legacyEventType = (t: string): string | undefined => own(EVENT_RENAMES, t);
