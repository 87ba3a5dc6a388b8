// Configuration: read once, in the composition root, from the environment and CLI flags. Every
// variable is declared once (env.ts explains the schema): here the server's own, beside each
// feature's config the feature's; `loadConfig` and `ENV_HELP` (serve --help) both come from them.
import { bool, envHelp, envVar, int, maybeText, oneOf, optional, readEnv, text } from "./env.js";

import { loadMoneyInConfig, MONEY_IN_ENV, type MoneyInConfig } from "./money-in.js";
import { GATEWAY_ENV, loadGatewayConfig, type GatewayConfig } from "./gateway.js";
import { loadWebhooksConfig, WEBHOOKS_ENV, type WebhooksConfig } from "./webhooks.js";
import { loadSecurityConfig, SECURITY_ENV, type SecurityConfig } from "./security.js";
import { DASHBOARD_ENV, loadDashboardConfig, type DashboardConfig } from "./dashboard.js";
import { loadSellerConfig, SELLER_ENV } from "./seller.js";
import type { SellerDetails } from "../core/receipts.js";

export interface Config {
  /** development or production (app/bootstrap.ts); null: decided by the database (postgres:// → production). */
  readonly mode: (typeof MODES)[number] | null;
  /** "sqlite:<file>" (embedded default) or a postgres:// URL. */
  readonly databaseUrl: string;
  readonly host: string;
  readonly port: number;
  readonly holdTtlMs: number;
  readonly maxBatch: number;
  /** Organizations whose money state each instance keeps between batches (0: none; app/hot-orgs.ts). */
  readonly cachedOrgs: number;
  readonly pgPoolSize: number;
  readonly sweepIntervalMs: number;
  readonly maxBodyBytes: number;
  /** Slow clients (slowloris): a request's headers must arrive within this, the whole request within requestTimeoutMs. */
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly logLevel: (typeof LOG_LEVELS)[number];
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
  /** The seller's details on receipts and statement PDFs (config/seller.ts). */
  readonly seller: SellerDetails;
}

export const LOG_LEVELS = ["info", "error"] as const;
export const MODES = ["development", "production"] as const;

/** The server's own variables; each feature declares its own beside its config (money-in.ts, …). */
export const SERVER_ENV = {
  databaseUrl: envVar("USAGE_CREDITS_DATABASE_URL", undefined, "sqlite:<file> or postgres://user@host:5432/db", maybeText(), { shown: "sqlite:./data/usage-credits.db", keepEmpty: true }),
  mode: envVar("USAGE_CREDITS_MODE", undefined, "development (demo organization on an empty SQLite file) or production (no demo; one operator key printed once); default production for postgres://, development for sqlite:", optional(oneOf(MODES)), { shown: "by database", keepEmpty: true }),
  host: envVar("USAGE_CREDITS_HOST", "127.0.0.1", "address to listen on", text(), { keepEmpty: true }),
  port: envVar("USAGE_CREDITS_PORT", "8787", "port to listen on (0 = any free port)", int(0, 65535)),
  holdTtlSeconds: envVar("USAGE_CREDITS_HOLD_TTL_SECONDS", "600", "default time a hold lives before it is released", int(1, 86_400)),
  maxBatch: envVar("USAGE_CREDITS_MAX_BATCH", "256", "most money operations committed in one transaction", int(1, 10_000)),
  orgCache: envVar("USAGE_CREDITS_ORG_CACHE", "10000", "organizations whose money state is kept in memory between batches (0: every batch reads it in its transaction)", int(0, 1_000_000)),
  pgPool: envVar("USAGE_CREDITS_PG_POOL", "8", "PostgreSQL connections per instance", int(1, 200)),
  sweepSeconds: envVar("USAGE_CREDITS_SWEEP_SECONDS", "30", "how often expired holds and grants are swept", int(1, 86_400)),
  maxBodyBytes: envVar("USAGE_CREDITS_MAX_BODY_BYTES", "1048576", "largest request body accepted (larger: 413 payload_too_large)", int(1024, 64 * 1_048_576)),
  headersTimeoutSeconds: envVar("USAGE_CREDITS_HEADERS_TIMEOUT_SECONDS", "10", "a client must send its request headers within this (else 408 and the socket is closed)", int(1, 3600)),
  requestTimeoutSeconds: envVar("USAGE_CREDITS_REQUEST_TIMEOUT_SECONDS", "30", "a client must send its whole request, body included, within this (else 408)", int(1, 3600)),
  log: envVar("USAGE_CREDITS_LOG", "info", "info (a line per request) or error", oneOf(LOG_LEVELS), { keepEmpty: true }),
  dataDir: envVar("USAGE_CREDITS_DATA_DIR", "./data", "where the embedded database and demo credentials live", text(), { keepEmpty: true }),
  legacyResponseFields: envVar("USAGE_CREDITS_LEGACY_RESPONSE_FIELDS", "true", "also answer with the old field names (extra_usage, extra_usage_enabled) beside the new ones", bool()),
};

/** Every variable, in `serve --help` order: [name, default, help]. */
export const ENV_HELP: ReadonlyArray<[string, string, string]> = envHelp(SERVER_ENV, MONEY_IN_ENV, GATEWAY_ENV, WEBHOOKS_ENV, SECURITY_ENV, DASHBOARD_ENV, SELLER_ENV);

/** serve's flags, and the variable each one stands in for. */
const FLAG_VARS = { "data-dir": "USAGE_CREDITS_DATA_DIR", database: "USAGE_CREDITS_DATABASE_URL", host: "USAGE_CREDITS_HOST", port: "USAGE_CREDITS_PORT", mode: "USAGE_CREDITS_MODE" } as const;

export function loadConfig(env: NodeJS.ProcessEnv = process.env, flags: Record<string, string | undefined> = {}): Config {
  const merged = { ...env };
  for (const [flag, name] of Object.entries(FLAG_VARS)) if (flags[flag] !== undefined) merged[name] = flags[flag];
  const v = readEnv(SERVER_ENV, merged);
  if (v.requestTimeoutSeconds < v.headersTimeoutSeconds) throw new Error("USAGE_CREDITS_REQUEST_TIMEOUT_SECONDS must be at least USAGE_CREDITS_HEADERS_TIMEOUT_SECONDS");
  return {
    mode: v.mode ?? null,
    databaseUrl: v.databaseUrl ?? `sqlite:${v.dataDir}/usage-credits.db`,
    host: v.host,
    port: v.port,
    holdTtlMs: v.holdTtlSeconds * 1000,
    maxBatch: v.maxBatch,
    cachedOrgs: v.orgCache,
    pgPoolSize: v.pgPool,
    sweepIntervalMs: v.sweepSeconds * 1000,
    maxBodyBytes: v.maxBodyBytes,
    headersTimeoutMs: v.headersTimeoutSeconds * 1000,
    requestTimeoutMs: v.requestTimeoutSeconds * 1000,
    logLevel: v.log,
    dataDir: v.dataDir,
    moneyIn: loadMoneyInConfig(env),
    gateway: loadGatewayConfig(env),
    webhooks: loadWebhooksConfig(env),
    security: loadSecurityConfig(env),
    legacyResponseFields: v.legacyResponseFields,
    dashboard: loadDashboardConfig(env),
    seller: loadSellerConfig(env),
  };
}
