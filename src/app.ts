// The composition root: the only place that picks adapters and wires the application together.

import { Receipts } from "./app/receipts.js";
import { Operator } from "./app/operator.js";
import { PaymentEvents } from "./app/payment-events.js";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Admin } from "./app/admin.js";
import { Catalog } from "./app/catalog.js";
import { Engine } from "./app/engine.js";
import { MoneyIn } from "./app/money-in/index.js";
import { kickingStore, Webhooks } from "./app/webhooks/index.js";
import { HttpWebhookSender } from "./adapters/webhooks/http-sender.js";
import { SdkCredits } from "./app/sdk-credits.js";
import { SandboxProvider } from "./adapters/payments/sandbox.js";
import { StripeProvider } from "./adapters/payments/stripe.js";
import { openPostgres } from "./adapters/store/postgres-driver.js";
import { openSqlite } from "./adapters/store/sqlite-driver.js";
import { SqlStore } from "./adapters/store/sql-store.js";
import type { SqlDriver } from "./adapters/store/driver.js";
import type { Config } from "./config/config.js";
import { HttpUpstream } from "./adapters/upstream/http-upstream.js";
import { SimulatedUpstream } from "./adapters/upstream/simulated-upstream.js";
import { Gateway } from "./gateway/gateway.js";
import { gatewayRoutes } from "./gateway/routes.js";
import { modelRoutes } from "./gateway/models.js";
import { batchRoutes, GatewayBatches } from "./gateway/batches.js";
import { rootRoute } from "./gateway/root-route.js";
import type { Upstream } from "./ports/upstream.js";
import { apiRoutes } from "./http/routes.js";
import { stripeWebhookRoute } from "./http/routes/money-in.js";
import type { Services } from "./app/services.js";
import { buildServer, type AnyRoute } from "./http/server.js";
import { metricsRoute } from "./http/routes/metrics.js";
import { Metrics } from "./app/metrics.js";
import { dashboardPages, loadDashboardFiles } from "./http/dashboard-pages.js";
import { Sessions } from "./app/sessions.js";
import { systemClock, type Clock } from "./ports/clock.js";
import { jsonLogger, type Logger } from "./ports/logger.js";
import type { Store } from "./ports/store.js";
import type { PaymentProvider } from "./ports/payments.js";

export function openDriver(config: Pick<Config, "databaseUrl" | "pgPoolSize">): SqlDriver {
  const url = config.databaseUrl;
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) return openPostgres(url, config.pgPoolSize);
  if (url.startsWith("sqlite:")) return openSqlite(url.slice("sqlite:".length));
  throw new Error(`USAGE_CREDITS_DATABASE_URL must start with sqlite: or postgres://, got ${JSON.stringify(url)}`);
}

/** Opens the configured store, bringing its schema up to date (a newer schema is refused). */
export function openStore(config: Pick<Config, "databaseUrl" | "pgPoolSize">): Promise<Store> {
  return SqlStore.open(openDriver(config));
}

/** The gateway's upstream: the embedded simulator, or the provider at the configured base URL. */
export function openUpstream(config: Pick<Config, "gateway">): Upstream {
  const g = config.gateway;
  if (g.upstream === "simulated") return new SimulatedUpstream({ latencyMs: g.simulatedLatencyMs });
  return new HttpUpstream({ baseUrl: g.upstream.toString(), apiKey: g.upstreamApiKey, timeoutMs: g.upstreamTimeoutMs });
}

/** The payment provider: the offline sandbox (test cards, the default) or Stripe through its SDK. */
export function openPaymentProvider(config: Pick<Config, "moneyIn">, clock: Clock): PaymentProvider {
  const stripe = config.moneyIn.stripe;
  if (config.moneyIn.provider === "stripe" && stripe) return new StripeProvider(stripe);
  return new SandboxProvider(clock, config.moneyIn.sandboxPendingDelayMs);
}

/** Money-in use cases over the configured provider and rules. */
function openMoneyIn(config: Pick<Config, "moneyIn">, parts: { store: Store; admin: Admin; clock: Clock; log: Logger }): MoneyIn {
  const m = config.moneyIn;
  return new MoneyIn(parts.store, parts.admin, openPaymentProvider(config, parts.clock), parts.clock, parts.log, { purchases: m.purchases, reload: m.reload, pendingRecheckMs: m.pendingRecheckMs });
}

/** Webhook endpoints, the outbox dispatcher and delivery worker (HTTP sender with the SSRF guard). */
function openWebhooks(config: Pick<Config, "webhooks">, parts: { store: Store; admin: Admin; clock: Clock; log: Logger }): Webhooks {
  const w = config.webhooks;
  const sender = new HttpWebhookSender({ allowPrivateNetworks: w.allowPrivateNetworks, userAgent: "usage-credits-webhooks/1" });
  return new Webhooks(parts.store, parts.admin, sender, parts.clock, parts.log, {
    retry: { scheduleMs: w.retryScheduleMs },
    urls: { allowPrivateNetworks: w.allowPrivateNetworks },
    timeoutMs: w.timeoutMs,
    legacyEventNamesUntil: w.legacyEventNamesUntil,
    dispatchOnCommit: w.dispatchOnCommit,
    maxEndpointsPerOrg: w.maxEndpointsPerOrg,
  });
}

export interface App {
  readonly services: Services;
  readonly server: Server;
  /** Every route the server answers (the API's, the gateway's, /metrics, provider webhooks). */
  readonly routes: readonly AnyRoute[];
  /** Runs this tick's scheduled jobs if this instance claims the tick; false if another did. */
  runJobs(): Promise<boolean>;
  /** Listens; resolves with the base URL. */
  listen(): Promise<string>;
  /**
   * Graceful shutdown: /readyz turns 503, the listener stops accepting, in-flight requests finish
   * (their connections close after the response; past the shutdown deadline the rest are cut),
   * queued batches commit, background work drains, then the store closes. Idempotent.
   */
  close(): Promise<void>;
}

export async function createApp(config: Config, overrides: { clock?: Clock; log?: Logger; store?: Store; upstream?: Upstream } = {}): Promise<App> {
  const clock = overrides.clock ?? systemClock;
  const log = overrides.log ?? jsonLogger(undefined, config.logLevel);
  const store = overrides.store ?? (await openStore(config));
  const catalog = new Catalog(store, clock);
  await catalog.seedDefaults();
  const engine = new Engine(store, catalog, clock, { holdTtlMs: config.holdTtlMs, maxBatch: config.maxBatch, cachedOrgs: config.cachedOrgs });
  // Commits that write outbox events (money in, admin writes) wake the webhook dispatcher at once;
  // the metering batches keep the bare store (they write no events).
  const outbox = kickingStore(store, () => webhooks.kick());
  const admin = new Admin(outbox, catalog, clock, { authCacheMs: config.security.authCacheMs });
  const moneyIn = openMoneyIn(config, { store: outbox, admin, clock, log });
  const webhooks = openWebhooks(config, { store, admin, clock, log });
  // Money-path webhook events (credits.depleted, spend_limit.*) are evaluated after settles commit.
  engine.onSettled((orgId) => webhooks.noteSettled(orgId));
  engine.onRefused((orgId, memberId, error) => webhooks.noteRefused(orgId, memberId, error));
  // Auto-reload is evaluated after every settle commits (coalesced per organization).
  engine.onSettled((orgId) => moneyIn.evaluateSoon(orgId));
  const metrics = new Metrics();
  const lifecycle = { draining: false };
  engine.batcher.onBatch((size) => metrics.batchSize.observe(size));
  metrics.batchQueue.collect(() => [{ labels: {}, value: engine.batcher.depth }]);
  metrics.batchPaths.collect(() => {
    const s = engine.batcher.stats;
    return [{ labels: { path: "cached" }, value: s.cached }, { labels: { path: "read" }, value: s.batches - s.cached }, { labels: { path: "stale" }, value: s.stale }];
  });
  metrics.draining.collect(() => [{ labels: {}, value: lifecycle.draining ? 1 : 0 }]);
  moneyIn.onReload((outcome) => metrics.reloads.inc({ outcome }));
  webhooks.onAttempt((outcome) => metrics.webhookDeliveries.inc({ outcome }));
  const sessions = new Sessions(store, clock, config.dashboard);
  const receipts = new Receipts(store, clock, config.seller);
  const operator = new Operator(store, admin, catalog, clock);
  const services: Services = { store, engine, admin, catalog, clock, log, moneyIn, webhooks, metrics, lifecycle, sessions, receipts, operator };
  // Gateway holds outlive the longest upstream request by a minute, so none expires under a live one.
  const upstream = overrides.upstream ?? openUpstream(config);
  const gateway = new Gateway(services, upstream, { holdTtlMs: Math.max(config.holdTtlMs, config.gateway.upstreamTimeoutMs + 60_000) });
  const batches = new GatewayBatches(services, upstream, { submitGraceMs: config.gateway.upstreamTimeoutMs + 60_000 });
  // Stripe's webhooks are received only when Stripe is the provider.
  const provider = moneyIn.provider;
  const webhookRoutes = provider instanceof StripeProvider ? [stripeWebhookRoute(new PaymentEvents(provider, moneyIn, clock, log))] : [];
  const routes = apiRoutes([...gatewayRoutes(gateway), ...modelRoutes(), ...batchRoutes(batches), rootRoute(), ...webhookRoutes, metricsRoute(config.security.metricsPublic)]);
  const server = buildServer(routes, services, {
    maxBodyBytes: config.maxBodyBytes,
    requestTimeoutMs: config.requestTimeoutMs,
    headersTimeoutMs: config.headersTimeoutMs,
    security: config.security,
    legacyResponseFields: config.legacyResponseFields,
    pages: dashboardPages(loadDashboardFiles()),
  });

  // Scheduled jobs (expiry sweeps, the payment poller): every instance ticks, and the one that
  // claims the tick's slot in the database runs it, so each run happens exactly once.
  const sdkCredits = new SdkCredits(store, admin, clock);
  const runJobs = async (): Promise<boolean> => {
    const now = clock.now();
    const slot = Math.floor(now / config.sweepIntervalMs);
    if (!(await store.transaction((tx) => tx.claimJobRun("sweep", slot, now)))) return false;
    // The SDK-credit refresh grants each opted-in member the new cycle's credit (once: a record per
    // member and cycle); the expiry sweep turns the last cycle's leftovers into breakage.
    // Message Batches that ended upstream are settled even if no client asks about them again.
    await Promise.all([engine.sweep(store), moneyIn.resolvePending(), sdkCredits.refresh(), batches.reconcileOpen()]);
    // Webhooks: fan the outbox out to deliveries and attempt what is due (retries, missed kicks).
    await webhooks.dispatch();
    return true;
  };
  let sweeping: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    sweeping = runJobs().catch((err: unknown) => log.error("scheduled jobs failed", { error: String(err) }));
  }, config.sweepIntervalMs);
  timer.unref();

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    lifecycle.draining = true;
    clearInterval(timer);
    // In-flight requests get until the deadline; then their connections are cut (a cut request's
    // batch still commits below, so nothing acknowledged — or half-done — is lost).
    const deadline = setTimeout(() => server.closeAllConnections(), config.security.shutdownTimeoutMs);
    deadline.unref();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    clearTimeout(deadline);
    await engine.batcher.idle();
    await moneyIn.idle();
    await sweeping;
    await webhooks.close();
    await catalog.settled();
    await store.close();
    metrics.close();
  };

  return {
    services,
    server,
    routes,
    runJobs,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(config.port, config.host, () => {
          const { port } = server.address() as AddressInfo;
          resolve(`http://${config.host}:${port}`);
        });
      }),
    close: () => (closing ??= close()),
  };
}
