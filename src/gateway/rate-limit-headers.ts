// The vendor's unified rate-limit headers (DOMAIN.md §7), computed from a member's standing (as an operation's batch left it, or a usage summary),
// plus our balance header. Pure. Sent on every gateway answer to an authenticated request, success
// or refusal. Utilization is a 0–1 fraction of the window's quota used (the vendor's header form;
// the usage_summary endpoint reports the same number as a 0–100 percent); it is display-only, so
// a float. Resets are epoch seconds. A status is "rejected" when the plan (or, for overage, usage
// credits) can no longer pay, "allowed" otherwise.

import type { Standing } from "../app/engine.js";
import type { ErrorCode } from "../core/errors.js";

const WINDOWS: ReadonlyArray<readonly [key: string, name: string]> = [
  ["five_hour", "5h"],
  ["seven_day", "7d"],
];

export type OverageDisabledReason = "org_level_disabled" | "member_level_disabled" | "out_of_credits" | "spend_limit_reached";

/** Why usage credits cannot pay right now, if they cannot. */
export function overageDisabledReason(s: Standing, refused?: ErrorCode): OverageDisabledReason | undefined {
  if (!s.org.usageCreditsEnabled) return "org_level_disabled";
  if (!s.member.usageCreditsEnabled) return "member_level_disabled";
  if (refused === "insufficient_credits" || s.balance <= 0) return "out_of_credits";
  if (refused === "spend_limit_reached" || s.limits.some((l) => l.headroom <= 0)) return "spend_limit_reached";
  return undefined;
}

export function rateLimitHeaders(s: Standing, refused?: ErrorCode): Record<string, string> {
  const headers: Record<string, string> = {};
  let windowFull = false;
  for (const [key, name] of WINDOWS) {
    const w = s.windows.find((x) => x.key === key);
    if (!w) continue; // the plan has no such window (e.g. no session window on the top tier)
    const used = w.idle ? 0 : w.used;
    headers[`anthropic-ratelimit-unified-${name}-utilization`] = fraction(used, w.quota);
    if (!w.idle) headers[`anthropic-ratelimit-unified-${name}-reset`] = String(Math.ceil(w.resetsAt / 1000));
    if (!w.idle && w.used >= w.quota) windowFull = true;
  }
  headers["anthropic-ratelimit-unified-status"] = windowFull || refused === "window_exhausted" ? "rejected" : "allowed";
  const reason = overageDisabledReason(s, refused);
  headers["anthropic-ratelimit-unified-overage-status"] = reason ? "rejected" : "allowed";
  if (reason) headers["anthropic-ratelimit-unified-overage-disabled-reason"] = reason;
  headers["x-usage-credits-balance"] = String(s.balance);
  return headers;
}

function fraction(used: number, quota: number): string {
  if (quota <= 0) return "1";
  return String(Math.round(Math.min(1, Math.max(0, used / quota)) * 10_000) / 10_000);
}
