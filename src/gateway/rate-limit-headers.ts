// The vendor's unified rate-limit headers (DOMAIN.md §7), computed from a member's standing (as an operation's batch left it, or a usage summary),
// plus our balance header. Pure. Sent on every gateway answer to an authenticated request, success
// or refusal, with the same numbers `usage_summary` reports:
//
//   -status                  allowed | allowed_warning (a window ≥ 90 % used) | rejected (a window is full)
//   -5h-utilization, -7d-…   the summary's utilization ÷ 100: floor((used + held) × 100 ÷ quota), so
//                            what is in flight counts, a stream's own hold included (money-rules.md R7)
//   -5h-reset, -7d-reset     epoch seconds, once the window has started (the summary's resets_at)
//   -representative-claim    the window that binds: the most used one (five_hour, seven_day, …)
//   -reset                   that window's reset
//   -fallback                available when fast mode falls back to standard speed once credits
//                            cannot pay (the organization's fast_mode_fallback), else unavailable
//   -overage-status          allowed | rejected: whether usage credits can pay beyond the plan
//   -overage-disabled-reason org_level_disabled | member_level_disabled | out_of_credits | spend_limit_reached
//   -overage-reset           when the binding spending limit resets (the one with least headroom)
//   -overage-in-use          true when this request is paid (partly) from usage credits
//
// Utilization is display-only, so a float; money stays integer (x-usage-credits-balance, µ$).

import type { Standing } from "../app/engine.js";
import type { ErrorCode } from "../core/errors.js";
import { utilization } from "../core/plans.js";

const PREFIX = "anthropic-ratelimit-unified";
const WINDOWS: ReadonlyArray<readonly [key: string, name: string]> = [
  ["five_hour", "5h"],
  ["seven_day", "7d"],
];
/** A window this full makes the status `allowed_warning` (the vendor warns before it rejects). */
const WARNING_FRACTION = 0.9;

export type OverageDisabledReason = "org_level_disabled" | "member_level_disabled" | "out_of_credits" | "spend_limit_reached";

/** Why usage credits cannot pay right now, if they cannot. */
export function overageDisabledReason(s: Standing, refused?: ErrorCode): OverageDisabledReason | undefined {
  if (!s.org.usageCreditsEnabled) return "org_level_disabled";
  if (!s.member.usageCreditsEnabled) return "member_level_disabled";
  if (refused === "insufficient_credits" || s.balance <= 0) return "out_of_credits";
  if (refused === "spend_limit_reached" || s.limits.some((l) => l.limit.stopUsage && l.headroom <= 0)) return "spend_limit_reached";
  return undefined;
}

export interface HeaderContext {
  /** The refusal this answer carries, if it is one. */
  readonly refused?: ErrorCode | undefined;
  /** Of this request's hold, the part usage credits pay (0: plan or SDK credits pay it all). */
  readonly creditsInUse?: number | undefined;
}

export function rateLimitHeaders(s: Standing, context: HeaderContext = {}): Record<string, string> {
  const headers: Record<string, string> = {};
  let full = false;
  let claim: { key: string; used: number; resetsAt: number } | undefined;
  for (const w of s.windows) {
    if (w.idle) continue;
    const used = w.quota <= 0 ? 1 : (w.used + w.held) / w.quota;
    if (w.used + w.held >= w.quota) full = true;
    if (!claim || used > claim.used || (used === claim.used && w.resetsAt > claim.resetsAt)) claim = { key: w.key, used, resetsAt: w.resetsAt };
  }
  for (const [key, name] of WINDOWS) {
    const w = s.windows.find((x) => x.key === key);
    if (!w) continue; // the plan has no such window (e.g. no session window on the top tier)
    headers[`${PREFIX}-${name}-utilization`] = String((w.idle ? 0 : utilization(w.used + w.held, w.quota)) / 100);
    if (!w.idle) headers[`${PREFIX}-${name}-reset`] = epochSeconds(w.resetsAt);
  }
  headers[`${PREFIX}-status`] = full || context.refused === "window_exhausted" ? "rejected" : claim && claim.used >= WARNING_FRACTION ? "allowed_warning" : "allowed";
  if (claim) {
    headers[`${PREFIX}-representative-claim`] = claim.key;
    headers[`${PREFIX}-reset`] = epochSeconds(claim.resetsAt);
  }
  headers[`${PREFIX}-fallback`] = s.org.fastModeEnabled && s.org.fastModeFallback ? "available" : "unavailable";
  const reason = overageDisabledReason(s, context.refused);
  headers[`${PREFIX}-overage-status`] = reason ? "rejected" : "allowed";
  if (reason) headers[`${PREFIX}-overage-disabled-reason`] = reason;
  const binding = [...s.limits].sort((a, b) => a.headroom - b.headroom)[0];
  if (binding) headers[`${PREFIX}-overage-reset`] = epochSeconds(binding.resetsAt);
  headers[`${PREFIX}-overage-in-use`] = String((context.creditsInUse ?? 0) > 0);
  headers["x-usage-credits-balance"] = String(s.balance);
  return headers;
}

function epochSeconds(ms: number): string {
  return String(Math.ceil(ms / 1000));
}
