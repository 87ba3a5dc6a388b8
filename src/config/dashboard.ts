// Dashboard configuration, read from the environment by config.ts: session lifetime, the cookie's
// Secure flag, and sign-in throttling (per account and per client address, in a fixed window).
import { envInt } from "./env.js";

export interface DashboardConfig {
  readonly sessionTtlMs: number;
  /** Mark the session cookie Secure (serve the dashboard over https, e.g. behind a TLS proxy). */
  readonly secureCookies: boolean;
  /** Failed sign-ins per account (email) within the window before further attempts get 429. */
  readonly maxAccountFailures: number;
  /** Failed sign-ins per client address within the window before further attempts get 429. */
  readonly maxAddressFailures: number;
  readonly failureWindowMs: number;
}

export const DASHBOARD_ENV_HELP: ReadonlyArray<[string, string, string]> = [
  ["USAGE_CREDITS_SESSION_HOURS", "12", "how long a dashboard sign-in lasts"],
  ["USAGE_CREDITS_SECURE_COOKIES", "false", "mark the session cookie Secure (set true when served over https)"],
  ["USAGE_CREDITS_SIGNIN_MAX_FAILURES", "5", "failed sign-ins per account in the window before 429"],
  ["USAGE_CREDITS_SIGNIN_MAX_ADDRESS_FAILURES", "50", "failed sign-ins per client address in the window before 429"],
  ["USAGE_CREDITS_SIGNIN_WINDOW_SECONDS", "900", "the sign-in failure window (and the lockout's length)"],
];

export function loadDashboardConfig(env: NodeJS.ProcessEnv): DashboardConfig {
  const secure = env["USAGE_CREDITS_SECURE_COOKIES"] ?? "false";
  if (secure !== "true" && secure !== "false") throw new Error(`USAGE_CREDITS_SECURE_COOKIES must be true or false, got ${JSON.stringify(secure)}`);
  return {
    sessionTtlMs: envInt(env, "USAGE_CREDITS_SESSION_HOURS", 12, 1, 24 * 30) * 3_600_000,
    secureCookies: secure === "true",
    maxAccountFailures: envInt(env, "USAGE_CREDITS_SIGNIN_MAX_FAILURES", 5, 1, 1000),
    maxAddressFailures: envInt(env, "USAGE_CREDITS_SIGNIN_MAX_ADDRESS_FAILURES", 50, 1, 100_000),
    failureWindowMs: envInt(env, "USAGE_CREDITS_SIGNIN_WINDOW_SECONDS", 900, 1, 86_400) * 1000,
  };
}
