// Dashboard configuration, declared once in the environment schema (env.ts): session lifetime, the cookie's
// Secure flag, and sign-in throttling (per account and per client address, in a fixed window).
import { envVar, int, oneOf, readEnv } from "./env.js";

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

export const DASHBOARD_ENV = {
  sessionHours: envVar("USAGE_CREDITS_SESSION_HOURS", "12", "how long a dashboard sign-in lasts", int(1, 24 * 30)),
  // Only the words true and false (not 1/0), and an empty value is refused: as before the schema.
  secureCookies: envVar("USAGE_CREDITS_SECURE_COOKIES", "false", "mark the session cookie Secure (set true when served over https)", oneOf(["true", "false"]), { keepEmpty: true }),
  maxFailures: envVar("USAGE_CREDITS_SIGNIN_MAX_FAILURES", "5", "failed sign-ins per account in the window before 429", int(1, 1000)),
  maxAddressFailures: envVar("USAGE_CREDITS_SIGNIN_MAX_ADDRESS_FAILURES", "50", "failed sign-ins per client address in the window before 429", int(1, 100_000)),
  windowSeconds: envVar("USAGE_CREDITS_SIGNIN_WINDOW_SECONDS", "900", "the sign-in failure window (and the lockout's length)", int(1, 86_400)),
};

export function loadDashboardConfig(env: NodeJS.ProcessEnv): DashboardConfig {
  const v = readEnv(DASHBOARD_ENV, env);
  return {
    sessionTtlMs: v.sessionHours * 3_600_000,
    secureCookies: v.secureCookies === "true",
    maxAccountFailures: v.maxFailures,
    maxAddressFailures: v.maxAddressFailures,
    failureWindowMs: v.windowSeconds * 1000,
  };
}
