// Security and operations settings, declared once in the environment schema (env.ts): API-key brute-force
// protection, the client address behind a proxy, HSTS, who may read /metrics, the shutdown deadline.
import { bool, envVar, int, readEnv } from "./env.js";

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

export const SECURITY_ENV = {
  authFailureLimit: envVar("USAGE_CREDITS_AUTH_FAILURE_LIMIT", "20", "failed API-key attempts per client address per window before 429 (0 = off)", int(0, 1_000_000)),
  authFailureWindowSeconds: envVar("USAGE_CREDITS_AUTH_FAILURE_WINDOW_SECONDS", "300", "the window of that limit; a blocked address waits for its end", int(1, 86_400)),
  trustProxy: envVar("USAGE_CREDITS_TRUST_PROXY", "false", "client address from the last X-Forwarded-For entry (behind one reverse proxy)", bool()),
  hstsSeconds: envVar("USAGE_CREDITS_HSTS_SECONDS", "0", "Strict-Transport-Security max-age (set when served over https; 0 = no header)", int(0, 63_072_000)),
  metricsPublic: envVar("USAGE_CREDITS_METRICS_PUBLIC", "false", "serve /metrics without a key (else a platform key is required)", bool()),
  shutdownTimeoutSeconds: envVar("USAGE_CREDITS_SHUTDOWN_TIMEOUT_SECONDS", "25", "SIGTERM: wait this long for in-flight requests and batches", int(1, 3600)),
  authCacheSeconds: envVar("USAGE_CREDITS_AUTH_CACHE_SECONDS", "5", "remember an authenticated API key this long; a key revoked on another instance is refused here within it (0 = no cache)", int(0, 3600)),
};

export function loadSecurityConfig(env: NodeJS.ProcessEnv): SecurityConfig {
  const v = readEnv(SECURITY_ENV, env);
  return {
    authFailureLimit: v.authFailureLimit,
    authFailureWindowMs: v.authFailureWindowSeconds * 1000,
    trustProxy: v.trustProxy,
    hstsMaxAgeSeconds: v.hstsSeconds,
    metricsPublic: v.metricsPublic,
    shutdownTimeoutMs: v.shutdownTimeoutSeconds * 1000,
    authCacheMs: v.authCacheSeconds * 1000,
  };
}
