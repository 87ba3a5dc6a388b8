// Configuration: read once, in the composition root, from the environment and CLI flags.
import { envBool, envInt } from "./env.js";

import { loadMoneyInConfig, MONEY_IN_ENV_HELP, type MoneyInConfig } from "./money-in.js";
import { GATEWAY_ENV_HELP, loadGatewayConfig, type GatewayConfig } from "./gateway.js";
import { loadWebhooksConfig, WEBHOOKS_ENV_HELP, type WebhooksConfig } from "./webhooks.js";
import { loadSecurityConfig, SECURITY_ENV_HELP, type SecurityConfig } from "./security.js";
import { DASHBOARD_ENV_HELP, loadDashboardConfig, type DashboardConfig } from "./dashboard.js";

export interface Config {
  /** development or production (app/bootstrap.ts); null: decided by the database (postgres:// → production). */
  readonly mode: "development" | "production" | null;
  /** "sqlite:<file>" (embedded default) or a postgres:// URL. */
  readonly databaseUrl: string;
  readonly host: string;
  readonly port: number;
  readonly holdTtlMs: number;
  readonly maxBatch: number;
  readonly pgPoolSize: number;
  readonly sweepIntervalMs: number;
  readonly maxBodyBytes: number;
  /** Slow clients (slowloris): a request's headers must arrive within this, the whole request within requestTimeoutMs. */
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly logLevel: "info" | "error";
  readonly dataDir: string;
  /** Purchases, bundles, auto-reload and the payment provider (config-money-in.ts). */
  readonly moneyIn: MoneyInConfig;
  /** The Messages API gateway's upstream (gateway/config.ts). */
  readonly gateway: GatewayConfig;
  /** Send the rename's old field names (extra_usage…) beside the new ones in every answer (deprecation period). */
  readonly legacyResponseFields: boolean;
  /** Webhook delivery: SSRF policy, retries, timeout (config/webhooks.ts). */
  readonly webhooks: WebhooksConfig;
  /** Brute-force protection, proxy, HSTS, /metrics access, shutdown deadline (config/security.ts). */
  readonly security: SecurityConfig;
  /** Dashboard sessions and sign-in throttling (config/dashboard.ts). */
  readonly dashboard: DashboardConfig;
}

export const ENV_HELP: ReadonlyArray<[string, string, string]> = [
  ["USAGE_CREDITS_DATABASE_URL", "sqlite:./data/usage-credits.db", "sqlite:<file> or postgres://user@host:5432/db"],
  ["USAGE_CREDITS_MODE", "by database", "development (demo organization on an empty SQLite file) or production (no demo; one operator key printed once); default production for postgres://, development for sqlite:"],
  ["USAGE_CREDITS_HOST", "127.0.0.1", "address to listen on"],
  ["USAGE_CREDITS_PORT", "8787", "port to listen on (0 = any free port)"],
  ["USAGE_CREDITS_HOLD_TTL_SECONDS", "600", "default time a hold lives before it is released"],
  ["USAGE_CREDITS_MAX_BATCH", "256", "most money operations committed in one transaction"],
  ["USAGE_CREDITS_PG_POOL", "8", "PostgreSQL connections per instance"],
  ["USAGE_CREDITS_SWEEP_SECONDS", "30", "how often expired holds and grants are swept"],
  ["USAGE_CREDITS_MAX_BODY_BYTES", "1048576", "largest request body accepted (larger: 413 payload_too_large)"],
  ["USAGE_CREDITS_HEADERS_TIMEOUT_SECONDS", "10", "a client must send its request headers within this (else 408 and the socket is closed)"],
  ["USAGE_CREDITS_REQUEST_TIMEOUT_SECONDS", "30", "a client must send its whole request, body included, within this (else 408)"],
  ["USAGE_CREDITS_LOG", "info", "info (a line per request) or error"],
  ["USAGE_CREDITS_DATA_DIR", "./data", "where the embedded database and demo credentials live"],
  ["USAGE_CREDITS_LEGACY_RESPONSE_FIELDS", "true", "also answer with the old field names (extra_usage, extra_usage_enabled) beside the new ones"],
  ...MONEY_IN_ENV_HELP,
  ...GATEWAY_ENV_HELP,
  ...WEBHOOKS_ENV_HELP,
  ...SECURITY_ENV_HELP,
  ...DASHBOARD_ENV_HELP,
];


function requestTimeouts(env: NodeJS.ProcessEnv): { headersTimeoutMs: number; requestTimeoutMs: number } {
  const headers = envInt(env, "USAGE_CREDITS_HEADERS_TIMEOUT_SECONDS", 10, 1, 3600);
  const request = envInt(env, "USAGE_CREDITS_REQUEST_TIMEOUT_SECONDS", 30, 1, 3600);
  if (request < headers) throw new Error("USAGE_CREDITS_REQUEST_TIMEOUT_SECONDS must be at least USAGE_CREDITS_HEADERS_TIMEOUT_SECONDS");
  return { headersTimeoutMs: headers * 1000, requestTimeoutMs: request * 1000 };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, flags: Record<string, string | undefined> = {}): Config {
  const dataDir = flags["data-dir"] ?? env["USAGE_CREDITS_DATA_DIR"] ?? "./data";
  const merged = { ...env };
  if (flags["port"] !== undefined) merged["USAGE_CREDITS_PORT"] = flags["port"];
  const log = env["USAGE_CREDITS_LOG"] ?? "info";
  if (log !== "info" && log !== "error") throw new Error(`USAGE_CREDITS_LOG must be info or error, got ${JSON.stringify(log)}`);
  const mode = flags["mode"] ?? env["USAGE_CREDITS_MODE"] ?? null;
  if (mode !== null && mode !== "development" && mode !== "production") throw new Error(`USAGE_CREDITS_MODE must be development or production, got ${JSON.stringify(mode)}`);
  return {
    mode,
    databaseUrl: flags["database"] ?? env["USAGE_CREDITS_DATABASE_URL"] ?? `sqlite:${dataDir}/usage-credits.db`,
    host: flags["host"] ?? env["USAGE_CREDITS_HOST"] ?? "127.0.0.1",
    port: envInt(merged, "USAGE_CREDITS_PORT", 8787, 0, 65535),
    holdTtlMs: envInt(env, "USAGE_CREDITS_HOLD_TTL_SECONDS", 600, 1, 86_400) * 1000,
    maxBatch: envInt(env, "USAGE_CREDITS_MAX_BATCH", 256, 1, 10_000),
    pgPoolSize: envInt(env, "USAGE_CREDITS_PG_POOL", 8, 1, 200),
    sweepIntervalMs: envInt(env, "USAGE_CREDITS_SWEEP_SECONDS", 30, 1, 86_400) * 1000,
    maxBodyBytes: envInt(env, "USAGE_CREDITS_MAX_BODY_BYTES", 1_048_576, 1024, 64 * 1_048_576),
    ...requestTimeouts(env),
    logLevel: log,
    dataDir,
    moneyIn: loadMoneyInConfig(env),
    gateway: loadGatewayConfig(env),
    webhooks: loadWebhooksConfig(env),
    security: loadSecurityConfig(env),
    legacyResponseFields: envBool(env, "USAGE_CREDITS_LEGACY_RESPONSE_FIELDS", true),
    dashboard: loadDashboardConfig(env),
  };
}
