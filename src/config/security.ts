// Security and operations settings, read from the environment by config.ts: API-key brute-force
// protection, the client address behind a proxy, HSTS, who may read /metrics, the shutdown deadline.
import { envBool, envInt } from "./env.js";

export interface SecurityConfig {
  /** Failed API-key authentications per client address per window before 429 (0: no limit). */
  readonly authFailureLimit: number;
  readonly authFailureWindowMs: number;
  /** Take the client address from the last X-Forwarded-For entry (one trusted reverse proxy in front). */
  readonly trustProxy: boolean;
  /** Strict-Transport-Security max-age on every response (0: no header; set it when served over https). */
  readonly hstsMaxAgeSeconds: number;
  /** /metrics without a key (for a scraper on a private network); else it needs a platform key. */
  readonly metricsPublic: boolean;
  /** How long a SIGTERM waits for in-flight requests and batches before closing connections. */
  readonly shutdownTimeoutMs: number;
  /**
   * How long an authenticated API key is remembered by this instance (0: look it up on every
   * request). Bounds how late a revocation, role change or member removal made through another
   * instance (or the CLI) takes effect here; through this instance it takes effect at once.
   */
  readonly authCacheMs: number;
}

export const SECURITY_ENV_HELP: ReadonlyArray<[string, string, string]> = [
  ["USAGE_CREDITS_AUTH_FAILURE_LIMIT", "20", "failed API-key attempts per client address per window before 429 (0 = off)"],
  ["USAGE_CREDITS_AUTH_FAILURE_WINDOW_SECONDS", "300", "the window of that limit; a blocked address waits for its end"],
  ["USAGE_CREDITS_TRUST_PROXY", "false", "client address from the last X-Forwarded-For entry (behind one reverse proxy)"],
  ["USAGE_CREDITS_HSTS_SECONDS", "0", "Strict-Transport-Security max-age (set when served over https; 0 = no header)"],
  ["USAGE_CREDITS_METRICS_PUBLIC", "false", "serve /metrics without a key (else a platform key is required)"],
  ["USAGE_CREDITS_SHUTDOWN_TIMEOUT_SECONDS", "25", "SIGTERM: wait this long for in-flight requests and batches"],
  ["USAGE_CREDITS_AUTH_CACHE_SECONDS", "5", "remember an authenticated API key this long; a key revoked on another instance is refused here within it (0 = no cache)"],
];

export function loadSecurityConfig(env: NodeJS.ProcessEnv): SecurityConfig {
  return {
    authFailureLimit: envInt(env, "USAGE_CREDITS_AUTH_FAILURE_LIMIT", 20, 0, 1_000_000),
    authFailureWindowMs: envInt(env, "USAGE_CREDITS_AUTH_FAILURE_WINDOW_SECONDS", 300, 1, 86_400) * 1000,
    trustProxy: envBool(env, "USAGE_CREDITS_TRUST_PROXY", false),
    hstsMaxAgeSeconds: envInt(env, "USAGE_CREDITS_HSTS_SECONDS", 0, 0, 63_072_000),
    metricsPublic: envBool(env, "USAGE_CREDITS_METRICS_PUBLIC", false),
    shutdownTimeoutMs: envInt(env, "USAGE_CREDITS_SHUTDOWN_TIMEOUT_SECONDS", 25, 1, 3600) * 1000,
    authCacheMs: envInt(env, "USAGE_CREDITS_AUTH_CACHE_SECONDS", 5, 0, 3600) * 1000,
  };
}
