// Webhook configuration, declared once in the environment schema (env.ts): where deliveries may go (SSRF
// policy), the retry schedule, the attempt timeout and whether commits wake the dispatcher at once.
import { bool, envVar, instant, int, invalid, parser, readEnv, type Invalid } from "./env.js";

import { DEFAULT_RETRY_SCHEDULE_SECONDS } from "../core/webhooks.js";

export interface WebhooksConfig {
  /** Deliver to loopback and private network addresses too (development and tests only). */
  readonly allowPrivateNetworks: boolean;
  /** Delays after each failed attempt; attempts = schedule length + 1, then the delivery fails. */
  readonly retryScheduleMs: readonly number[];
  readonly timeoutMs: number;
  /** Dispatch right after a commit that wrote events (else only on the scheduled job's tick). */
  readonly dispatchOnCommit: boolean;
  readonly maxEndpointsPerOrg: number;
  /**
   * Until this instant, endpoints that subscribed by an old event name (extra_usage.low_balance,
   * extra_usage.depleted) receive those events under the old name; afterwards under the new one.
   */
  readonly legacyEventNamesUntil: number;
}

/** Comma-separated whole seconds (at most a week each), or "none"; as milliseconds. */
const schedule = () =>
  parser((raw): number[] | Invalid => {
    if (raw === undefined || raw.trim() === "none") return [];
    const out: number[] = [];
    for (const part of raw.split(",")) {
      const v = Number(part.trim());
      if (!Number.isInteger(v) || v < 0 || v > 7 * 86_400) return invalid(`must be comma-separated whole seconds (at most a week each), got ${JSON.stringify(raw)}`);
      out.push(v * 1000);
    }
    return out;
  });

export const WEBHOOKS_ENV = {
  allowPrivateNetworks: envVar("USAGE_CREDITS_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "false", "allow webhook URLs on loopback/private addresses (development, tests)", bool()),
  retrySchedule: envVar("USAGE_CREDITS_WEBHOOK_RETRY_SECONDS", DEFAULT_RETRY_SCHEDULE_SECONDS.join(","), "delays between webhook attempts; when they run out the delivery is failed", schedule()),
  timeoutSeconds: envVar("USAGE_CREDITS_WEBHOOK_TIMEOUT_SECONDS", "10", "a receiver must answer within this long", int(1, 300)),
  dispatchOnCommit: envVar("USAGE_CREDITS_WEBHOOK_DISPATCH_ON_COMMIT", "true", "deliver right after the commit (false: only on the scheduled job's tick)", bool()),
  maxEndpoints: envVar("USAGE_CREDITS_WEBHOOK_MAX_ENDPOINTS", "20", "webhook endpoints per organization", int(1, 1000)),
  legacyEventsUntil: envVar("USAGE_CREDITS_WEBHOOK_LEGACY_EVENTS_UNTIL", "2027-10-01", "end of the deprecation period: until then endpoints subscribed by old event names (extra_usage.*) get them under those names", instant()),
};

export function loadWebhooksConfig(env: NodeJS.ProcessEnv): WebhooksConfig {
  const v = readEnv(WEBHOOKS_ENV, env);
  return {
    allowPrivateNetworks: v.allowPrivateNetworks,
    retryScheduleMs: v.retrySchedule,
    timeoutMs: v.timeoutSeconds * 1000,
    dispatchOnCommit: v.dispatchOnCommit,
    maxEndpointsPerOrg: v.maxEndpoints,
    legacyEventNamesUntil: v.legacyEventsUntil,
  };
}
