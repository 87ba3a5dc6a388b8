// Webhook configuration, read from the environment by config.ts: where deliveries may go (SSRF
// policy), the retry schedule, the attempt timeout and whether commits wake the dispatcher at once.
import { envBool as bool, envInt, envInstant } from "./env.js";

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

export const WEBHOOKS_ENV_HELP: ReadonlyArray<[string, string, string]> = [
  ["USAGE_CREDITS_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "false", "allow webhook URLs on loopback/private addresses (development, tests)"],
  ["USAGE_CREDITS_WEBHOOK_RETRY_SECONDS", DEFAULT_RETRY_SCHEDULE_SECONDS.join(","), "delays between webhook attempts; when they run out the delivery is failed"],
  ["USAGE_CREDITS_WEBHOOK_TIMEOUT_SECONDS", "10", "a receiver must answer within this long"],
  ["USAGE_CREDITS_WEBHOOK_DISPATCH_ON_COMMIT", "true", "deliver right after the commit (false: only on the scheduled job's tick)"],
  ["USAGE_CREDITS_WEBHOOK_MAX_ENDPOINTS", "20", "webhook endpoints per organization"],
  ["USAGE_CREDITS_WEBHOOK_LEGACY_EVENTS_UNTIL", "2027-10-01", "end of the deprecation period: until then endpoints subscribed by old event names (extra_usage.*) get them under those names"],
];

function schedule(env: NodeJS.ProcessEnv): number[] {
  const name = "USAGE_CREDITS_WEBHOOK_RETRY_SECONDS";
  const raw = env[name];
  if (raw === undefined || raw === "") return DEFAULT_RETRY_SCHEDULE_SECONDS.map((s) => s * 1000);
  if (raw.trim() === "none") return [];
  return raw.split(",").map((part) => {
    const v = Number(part.trim());
    if (!Number.isInteger(v) || v < 0 || v > 7 * 86_400) throw new Error(`${name} must be comma-separated whole seconds (at most a week each), got ${JSON.stringify(raw)}`);
    return v * 1000;
  });
}

export function loadWebhooksConfig(env: NodeJS.ProcessEnv): WebhooksConfig {
  return {
    allowPrivateNetworks: bool(env, "USAGE_CREDITS_WEBHOOK_ALLOW_PRIVATE_NETWORKS", false),
    retryScheduleMs: schedule(env),
    timeoutMs: envInt(env, "USAGE_CREDITS_WEBHOOK_TIMEOUT_SECONDS", 10, 1, 300) * 1000,
    dispatchOnCommit: bool(env, "USAGE_CREDITS_WEBHOOK_DISPATCH_ON_COMMIT", true),
    maxEndpointsPerOrg: envInt(env, "USAGE_CREDITS_WEBHOOK_MAX_ENDPOINTS", 20, 1, 1000),
    legacyEventNamesUntil: envInstant(env, "USAGE_CREDITS_WEBHOOK_LEGACY_EVENTS_UNTIL", "2027-10-01"),
  };
}
