// The operation log's rows (the pricing lab's record of every money operation, in order) and the
// token-class columns a usage record gets from its settle's entry. Portable SQL values for both engines.

import type { Hold } from "../../core/model.js";
import type { CostInputs, LogEntry } from "../../core/operation-log.js";
import type { Surface } from "../../core/plans.js";
import { ZERO_USAGE, type Speed } from "../../core/rating.js";
import type { Row, SqlValue } from "./driver.js";
import { bit, n, nOrNull, s, sOrNull } from "./sql-values.js";

export const USAGE_CLASS_COLS = ["fresh_input_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens", "cache_read_tokens", "web_search_requests", "batch", "data_residency", "estimate", "authorized_at"];
export function usageClasses(e: LogEntry | undefined, hold: Hold | undefined): SqlValue[] {
  // Logged with the settle (schema 11 on): the classes, zeros for a cost given as an amount.
  // NULL only on records from before it.
  const u = e?.cost ? (e.cost.usage ?? ZERO_USAGE) : null;
  return [
    u?.input_tokens ?? null, u?.cache_creation_5m_input_tokens ?? null, u?.cache_creation_1h_input_tokens ?? null, u?.cache_read_input_tokens ?? null, u?.web_search_requests ?? null,
    e?.cost ? bit(e.cost.batch) : null, e?.cost ? bit(e.cost.dataResidency) : null, hold?.amount ?? null, hold?.createdAt ?? null,
  ];
}

export const LOG_COLS = [
  "org_id", "at", "kind", "hold_id", "member_id", "workspace_id", "surface", "model", "family", "speed", "micros", "rated", "input_tokens", "output_tokens",
  "cache_write_5m_tokens", "cache_write_1h_tokens", "cache_read_tokens", "web_search_requests", "batch", "data_residency", "ttl_ms", "owner", "actor", "code", "data",
];
export function logRow(e: LogEntry): SqlValue[] {
  const c = e.cost;
  const u = c?.usage ?? null;
  return [
    e.orgId, e.at, e.kind, e.holdId, e.memberId, e.workspaceId, e.surface, e.model, e.family, e.speed, e.micros, c ? ratedCode(c) : null,
    u?.input_tokens ?? null, u?.output_tokens ?? null, u?.cache_creation_5m_input_tokens ?? null, u?.cache_creation_1h_input_tokens ?? null, u?.cache_read_input_tokens ?? null,
    u?.web_search_requests ?? null, c ? bit(c.batch) : null, c ? bit(c.dataResidency) : null, e.ttlMs, e.owner, e.actor, e.code, e.data === null ? null : JSON.stringify(e.data),
  ];
}
/** How a logged cost was priced: 0 an amount as given, 1 rated tokens, 2/3 the gateway's worst case (3: cache writes were candidates). */
function ratedCode(c: CostInputs): number {
  if (c.amount !== null) return 0;
  return c.worstCase === "cache" ? 3 : c.worstCase === "plain" ? 2 : 1;
}
export function logFrom(r: Row): LogEntry & { seq: number } {
  const rated = nOrNull(r["rated"]);
  const usage =
    r["input_tokens"] === null || r["input_tokens"] === undefined
      ? null
      : {
          input_tokens: n(r["input_tokens"]),
          output_tokens: n(r["output_tokens"]),
          cache_creation_5m_input_tokens: n(r["cache_write_5m_tokens"]),
          cache_creation_1h_input_tokens: n(r["cache_write_1h_tokens"]),
          cache_read_input_tokens: n(r["cache_read_tokens"]),
          web_search_requests: n(r["web_search_requests"]),
        };
  const micros = nOrNull(r["micros"]);
  return {
    seq: n(r["seq"]),
    orgId: s(r["org_id"]),
    at: n(r["at"]),
    kind: s(r["kind"]) as LogEntry["kind"],
    holdId: sOrNull(r["hold_id"]),
    memberId: sOrNull(r["member_id"]),
    workspaceId: sOrNull(r["workspace_id"]),
    surface: sOrNull(r["surface"]) as Surface | null,
    model: sOrNull(r["model"]),
    family: sOrNull(r["family"]),
    speed: sOrNull(r["speed"]) as Speed | null,
    micros,
    cost:
      rated === null
        ? null
        : {
            amount: rated === 0 ? micros : null,
            usage,
            batch: n(r["batch"]) === 1,
            dataResidency: n(r["data_residency"]) === 1,
            ...(rated >= 2 ? { worstCase: rated === 3 ? ("cache" as const) : ("plain" as const) } : {}),
          },
    ttlMs: nOrNull(r["ttl_ms"]),
    owner: sOrNull(r["owner"]),
    actor: sOrNull(r["actor"]),
    code: sOrNull(r["code"]),
    data: r["data"] === null || r["data"] === undefined ? null : (JSON.parse(s(r["data"])) as unknown),
  };
}
