// The vendor's unified rate-limit headers (DOMAIN.md §7), computed from a member's usage summary,
// plus our balance header. Pure. Sent on every gateway answer to an authenticated request, success
// or refusal. Utilization is the usage summary's integer percent divided by 100 (the vendor's 0–1
// header form): settled usage only, floored, so the header and GET /usage_summary always agree
// (docs/money-rules.md "Utilization"). A window is "rejected" when settled plus held usage fills it,
// the test admission applies. Resets are epoch seconds. A status is "rejected" when the plan (or, for overage, usage
// credits) can no longer pay, "allowed" otherwise.

import type { UsageSummary } from "../app/admin.js";
import type { ErrorCode } from "../core/errors.js";
import { utilization } from "../core/plans.js";

const WINDOWS: ReadonlyArray<readonly [key: string, name: string]> = [
  ["five_hour", "5h"],
  ["seven_day", "7d"],
];

export type OverageDisabledReason = "org_level_disabled" | "member_level_disabled" | "out_of_credits" | "spend_limit_reached";

/** Why usage credits cannot pay right now, if they cannot. */
export function overageDisabledReason(s: UsageSummary, refused?: ErrorCode): OverageDisabledReason | undefined {
  if (!s.org.usageCreditsEnabled) return "org_level_disabled";
  if (!s.member.usageCreditsEnabled) return "member_level_disabled";
  if (refused === "insufficient_credits" || s.balance <= 0) return "out_of_credits";
  if (refused === "spend_limit_reached" || s.limits.some((l) => l.limit.stopUsage && l.headroom <= 0)) return "spend_limit_reached";
  return undefined;
}

export function rateLimitHeaders(s: UsageSummary, refused?: ErrorCode): Record<string, string> {
  const headers: Record<string, string> = {};
  let windowFull = false;
  for (const [key, name] of WINDOWS) {
    const w = s.windows.find((x) => x.key === key);
    if (!w) continue; // the plan has no such window (e.g. no session window on the top tier)
    const percent = w.idle ? 0 : utilization(w.used, w.quota);
    headers[`anthropic-ratelimit-unified-${name}-utilization`] = String(percent / 100);
    if (!w.idle) headers[`anthropic-ratelimit-unified-${name}-reset`] = String(Math.ceil(w.resetsAt / 1000));
    if (!w.idle && w.used + w.held >= w.quota) windowFull = true;
  }
  headers["anthropic-ratelimit-unified-status"] = windowFull || refused === "window_exhausted" ? "rejected" : "allowed";
  const reason = overageDisabledReason(s, refused);
  headers["anthropic-ratelimit-unified-overage-status"] = reason ? "rejected" : "allowed";
  if (reason) headers["anthropic-ratelimit-unified-overage-disabled-reason"] = reason;
  headers["x-usage-credits-balance"] = String(s.balance);
  return headers;
}

