// Mixed load over HTTP, and the checks that prove nothing acknowledged was lost or applied twice.
// Used by the crash suite (kill -9 at random moments) and by `npm run soak`.
//
// Every mutating request carries an Idempotency-Key. A request is ACKNOWLEDGED when the server
// answered it with a 2xx: from then on it must survive anything (kill -9, a database restart).
// `checkAcknowledged` proves that by replaying each acknowledged request with its key: the server
// must answer from its idempotency record (same hold, same settlement, same payment), never do it
// again. `checkPayments` proves that every payment was granted at most once and every success
// exactly once, and `checkHolds` that no hold outlives its time to live.

import { openDriver } from "../../src/app.js";
export { rng } from "./rng.js";

type Json = Record<string, unknown>;

export interface Tenant {
  readonly orgId: string;
  /** The owner's key: meter and billing rights. */
  readonly key: string;
  /** Sandbox card 4242…: succeeds. */
  readonly card: string;
  /** Sandbox card …0119: the first answer is lost (a provider timeout); the poller's retry succeeds. */
  readonly flakyCard: string;
  /** Sandbox card …0002: declined. */
  readonly declinedCard: string;
}

export interface Ack {
  readonly op: "authorize" | "settle" | "release" | "purchase";
  readonly orgId: string;
  readonly key: string;
  readonly path: string;
  readonly body: unknown;
  readonly status: number;
  /** The hold or payment the answer named. */
  readonly id: string;
  /** For settles: the amount charged, as answered. */
  readonly charged?: string;
  /** When the answer arrived (epoch ms, this machine's clock): what a backup must hold depends on it. */
  readonly at: number;
}

export interface LoadCounts {
  sent: number;
  acknowledged: number;
  /** 4xx answers (refusals: out of credits, expired hold, declined card …): expected, not faults. */
  refused: number;
  /** 5xx answers that were not injected (gateway upstream errors are counted apart). */
  serverErrors: number;
  /** 503 service_unavailable / 507 storage_full with retry-after (the database was down, read-only or full): the documented answer. */
  unavailable: number;
  /** Requests whose connection was cut (the server was killed under them): outcome unknown. */
  cut: number;
  /** Gateway requests (simulated upstream), and those answered with an injected upstream error. */
  gateway: number;
  gatewayInjected: number;
  /** Purchases made with a card that fails or loses its answer on purpose. */
  paymentFaults: number;
}

export const emptyCounts = (): LoadCounts => ({ sent: 0, acknowledged: 0, refused: 0, serverErrors: 0, unavailable: 0, cut: 0, gateway: 0, gatewayInjected: 0, paymentFaults: 0 });

const USD = 1_000_000;
const json = async (res: Response): Promise<Json> => {
  const text = await res.text();
  try {
    return text ? (JSON.parse(text) as Json) : {};
  } catch {
    return { _raw: text };
  }
};

/** One request, bounded in time (a request that hangs is a failure of its own, counted as cut). */
async function call(url: string, method: string, path: string, key: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { "x-api-key": key, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, body: await json(res), headers: res.headers };
}

/** Creates `n` organizations over the API (with a platform key): credits, three sandbox cards, optionally auto-reload. */
export async function setupTenants(url: string, platformKey: string, n: number, options: { credits: number; autoReload?: { threshold: number; amount: number } }): Promise<Tenant[]> {
  const out: Tenant[] = [];
  for (let i = 0; i < n; i++) {
    const org = await call(url, "POST", "/v1/organizations", platformKey, {
      name: `load ${i}`,
      plan_id: "enterprise_usage",
      usage_credits_enabled: true,
      fast_mode_enabled: true,
      fast_mode_fallback: false,
      owner: { email: `load-${i}-${Date.now()}@load.test`, name: "Owner" },
    });
    if (org.status !== 201) throw new Error(`create org: ${org.status} ${JSON.stringify(org.body)}`);
    const orgId = String(org.body["id"]);
    const key = String((org.body["api_key"] as Json)["secret"]);
    const g = await call(url, "POST", `/v1/organizations/${orgId}/grants`, platformKey, { kind: "promotional", amount: String(options.credits) });
    if (g.status !== 201) throw new Error(`grant: ${g.status} ${JSON.stringify(g.body)}`);
    const pm = async (card: string) => {
      const r = await call(url, "POST", `/v1/organizations/${orgId}/payment_methods`, key, { card_number: card });
      if (r.status !== 201) throw new Error(`payment method: ${r.status} ${JSON.stringify(r.body)}`);
      return String(r.body["id"]);
    };
    const tenant: Tenant = { orgId, key, card: await pm("4242424242424242"), flakyCard: await pm("4000000000000119"), declinedCard: await pm("4000000000000002") };
    if (options.autoReload) {
      const r = await call(url, "PUT", `/v1/organizations/${orgId}/auto_reload`, key, {
        enabled: true,
        threshold: String(options.autoReload.threshold),
        mode: "amount",
        amount: String(options.autoReload.amount),
        payment_method_id: tenant.card,
      });
      if (r.status !== 200) throw new Error(`auto-reload: ${r.status} ${JSON.stringify(r.body)}`);
    }
    out.push(tenant);
  }
  return out;
}

export interface LoadOptions {
  /** Concurrent request loops. */
  readonly concurrency: number;
  /** Hold time to live in seconds (short, so the sweep has work). */
  readonly ttlSeconds: number;
  /** Prefix of every idempotency key of this run (unique per run). */
  readonly keyPrefix: string;
  /** Also send gateway requests (the simulated upstream), a few with an injected upstream error. */
  readonly gateway?: boolean;
  /** Keep at most this many acknowledgements (the oldest are dropped; default: all). */
  readonly maxAcks?: number;
  /** Each loop pauses up to this many ms between requests (a paced load instead of a flood). */
  readonly thinkMs?: number;
  /** Share of requests that are purchases (default 0.1). Lower keeps buying in step with spending. */
  readonly purchaseShare?: number;
}

/**
 * Runs the mixed load against `url` until `stop` aborts. Never throws for a cut connection: a
 * request whose answer never arrived is counted as `cut` (its outcome is unknown, nothing is owed).
 */
export class MixedLoad {
  readonly acks: Ack[] = [];
  /** The first unexpected 5xx answers (status, path, body), for the failure message. */
  readonly unexpected: string[] = [];
  counts: LoadCounts = emptyCounts();
  private seq = 0;
  /** Acknowledged pending holds, waiting for a settle or release. */
  private readonly open: Array<{ orgId: string; key: string; id: string; amount: number }> = [];

  constructor(
    private readonly tenants: readonly Tenant[],
    private readonly random: () => number,
    private readonly options: LoadOptions,
  ) {}

  async run(url: string, stop: AbortSignal): Promise<void> {
    const loops = Array.from({ length: this.options.concurrency }, async () => {
      while (!stop.aborted) {
        try {
          await this.step(url);
          const think = this.options.thinkMs ?? 0;
          if (think > 0) await new Promise((r) => setTimeout(r, Math.floor(this.random() * think)));
        } catch {
          this.counts.cut++;
          // The server is gone (killed): wait for the caller to stop us or bring it back.
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    });
    await Promise.all(loops);
  }

  private pick<T>(xs: readonly T[]): T {
    const x = xs[Math.floor(this.random() * xs.length)];
    if (x === undefined) throw new Error("pick from an empty list");
    return x;
  }

  private record(ack: Ack): void {
    this.counts.acknowledged++;
    this.acks.push(ack);
    const max = this.options.maxAcks;
    if (max !== undefined && this.acks.length > max) this.acks.splice(0, this.acks.length - max);
  }

  private classify(status: number, body: Json): "ack" | "refused" | "unavailable" | "error" {
    if (status >= 200 && status < 300) return "ack";
    const code = (body["error"] as Json | undefined)?.["code"];
    if ((status === 503 && code === "service_unavailable") || (status === 507 && code === "storage_full")) return "unavailable";
    if (status >= 500) return "error";
    return "refused";
  }

  private async step(url: string): Promise<void> {
    const r = this.random();
    const t = this.pick(this.tenants);
    const key = `${this.options.keyPrefix}-${++this.seq}`;
    const base = `/v1/organizations/${t.orgId}`;
    let op: Ack["op"];
    let path: string;
    let body: unknown;
    if (this.options.gateway === true && r < 0.15) return this.gateway(url, t);
    const buy = this.options.purchaseShare ?? 0.1;
    if (r >= 1 - buy) {
      op = "purchase";
      path = `${base}/purchases`;
      const c = this.random();
      const pm = c < 0.7 ? t.card : c < 0.85 ? t.flakyCard : t.declinedCard;
      if (pm !== t.card) this.counts.paymentFaults++;
      body = { amount: String((5 + Math.floor(this.random() * 16)) * USD), payment_method_id: pm };
    } else if (r < 0.5 || this.open.length === 0) {
      op = "authorize";
      path = `${base}/authorize`;
      body = { model: "claude-haiku-4-5", amount: String(Math.floor(1 + this.random() * 200) * 10_000), ttl_seconds: this.options.ttlSeconds };
    } else {
      const i = Math.floor(this.random() * this.open.length);
      const [h] = this.open.splice(i, 1);
      if (!h) return;
      const settle = this.random() < 0.8;
      op = settle ? "settle" : "release";
      path = `/v1/organizations/${h.orgId}/holds/${h.id}/${op}`;
      body = settle ? { amount: String(Math.floor(this.random() * h.amount)) } : undefined;
      return this.send(url, op, h.orgId, h.key, key, path, body);
    }
    return this.send(url, op, t.orgId, t.key, key, path, body);
  }

  private async send(url: string, op: Ack["op"], orgId: string, apiKey: string, idem: string, path: string, body: unknown): Promise<void> {
    this.counts.sent++;
    const res = await call(url, "POST", path, apiKey, body, { "idempotency-key": idem });
    const kind = this.classify(res.status, res.body);
    if (kind === "refused") this.counts.refused++;
    else if (kind === "unavailable") this.counts.unavailable++;
    else if (kind === "error") this.noteError(res.status, path, res.body);
    if (kind !== "ack") return;
    const hold = res.body["hold"] as Json | undefined;
    const id = op === "purchase" ? String(res.body["id"]) : String(hold?.["id"]);
    this.record({ op, orgId, key: idem, path, body, status: res.status, id, at: Date.now(), ...(op === "settle" ? { charged: String(res.body["charged"]) } : {}) });
    if (op === "authorize") this.open.push({ orgId, key: apiKey, id, amount: Number(hold?.["amount"]) });
    if (this.open.length > 500) this.open.splice(0, this.open.length - 500); // the rest expire: the sweep's work
  }

  private async gateway(url: string, t: Tenant): Promise<void> {
    this.counts.sent++;
    this.counts.gateway++;
    const injected = this.random() < 0.1;
    const res = await call(url, "POST", "/v1/messages", t.key, { model: "claude-haiku-4-5", max_tokens: 64, messages: [{ role: "user", content: "Soak: say something short." }] }, injected ? { "x-simulate": this.random() < 0.5 ? "overloaded" : "error_500" } : {});
    if (injected && res.status >= 500) {
      this.counts.gatewayInjected++;
      return;
    }
    const kind = this.classify(res.status, res.body);
    if (kind === "ack") this.counts.acknowledged++;
    else if (kind === "refused") this.counts.refused++;
    else if (kind === "unavailable") this.counts.unavailable++;
    else this.noteError(res.status, "/v1/messages", res.body);
  }

  private noteError(status: number, path: string, body: Json): void {
    this.counts.serverErrors++;
    if (this.unexpected.length < 10) this.unexpected.push(`${status} ${path} ${JSON.stringify(body).slice(0, 300)}`);
  }
}

export interface CheckResult {
  /** Acknowledged operations whose effect is missing (must be 0). */
  readonly lost: string[];
  /** Operations applied twice: a replay that did the work again, or a payment granted twice (must be 0). */
  readonly doubleApplied: string[];
}

/**
 * Replays every acknowledged request with its Idempotency-Key. An operation that is present is
 * answered from its record: the same hold, the same charge, the same payment. One that was lost
 * would be done afresh (a new hold id) or refused (the hold is no longer pending).
 */
export async function checkAcknowledged(url: string, acks: readonly Ack[], tenants: readonly Tenant[], concurrency = 8): Promise<CheckResult> {
  const keys = new Map(tenants.map((t) => [t.orgId, t.key]));
  const lost: string[] = [];
  const doubleApplied: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < acks.length; i = next++) {
        const a = acks[i];
        if (!a) continue;
        const res = await call(url, "POST", a.path, keys.get(a.orgId) ?? "", a.body, { "idempotency-key": a.key });
        const hold = res.body["hold"] as Json | undefined;
        const id = a.op === "purchase" ? String(res.body["id"] ?? "") : String(hold?.["id"] ?? "");
        const what = `${a.op} ${a.id} (key ${a.key})`;
        if (a.op === "purchase") {
          // A purchase replay reports the payment as it is now (pending may have become succeeded).
          if (id !== a.id) (res.status < 300 ? doubleApplied : lost).push(`${what}: replay answered ${res.status} ${id || JSON.stringify(res.body)}`);
          continue;
        }
        if (res.status !== a.status || id !== a.id) {
          (res.status < 300 && id !== a.id ? doubleApplied : lost).push(`${what}: replay answered ${res.status} ${id || JSON.stringify(res.body)}`);
        } else if (res.headers.get("idempotent-replayed") !== "true") {
          doubleApplied.push(`${what}: the replay was not answered from the idempotency record`);
        } else if (a.op === "settle" && String(res.body["charged"]) !== a.charged) {
          lost.push(`${what}: charged ${a.charged} then, ${String(res.body["charged"])} now`);
        }
      }
    }),
  );
  return { lost, doubleApplied };
}

/** Runs a read-only SQL query on the database behind `databaseUrl` (the product's own driver). */
export async function sql(databaseUrl: string, query: string, params: Array<string | number> = []): Promise<Array<Record<string, unknown>>> {
  const driver = openDriver({ databaseUrl, pgPoolSize: 1 });
  try {
    return await driver.read((q) => q.all(query, params));
  } finally {
    await driver.close();
  }
}

export interface PaymentCheck {
  readonly payments: number;
  readonly succeeded: number;
  readonly pending: number;
  /** Grants of a payment beyond its first (must be 0), and purchase grants no payment names. */
  readonly doubleGranted: string[];
  /** Acknowledged successes no longer succeeded, or succeeded payments without their grant. */
  readonly lostSuccesses: string[];
}

/** Every succeeded payment has exactly one grant of its credit amount; no purchase grant without a payment. */
export async function checkPayments(databaseUrl: string, acks: readonly Ack[]): Promise<PaymentCheck> {
  const payments = await sql(databaseUrl, "SELECT id, status, grant_id, credit_amount FROM payments");
  const grants = await sql(databaseUrl, "SELECT id, amount FROM grants WHERE kind = 'purchase'");
  const grantById = new Map(grants.map((g) => [String(g["id"]), Number(g["amount"])]));
  const doubleGranted: string[] = [];
  const lostSuccesses: string[] = [];
  const named = new Map<string, string>();
  for (const p of payments) {
    const id = String(p["id"]);
    const grantId = p["grant_id"] === null ? null : String(p["grant_id"]);
    if (p["status"] === "succeeded") {
      if (grantId === null || !grantById.has(grantId)) lostSuccesses.push(`${id}: succeeded without its grant`);
      else if (grantById.get(grantId) !== Number(p["credit_amount"])) doubleGranted.push(`${id}: grant ${grantId} of ${grantById.get(grantId)} ≠ ${String(p["credit_amount"])}`);
    }
    if (grantId !== null) {
      const prior = named.get(grantId);
      if (prior) doubleGranted.push(`${id} and ${prior} name one grant ${grantId}`);
      named.set(grantId, id);
    }
  }
  for (const g of grants) if (!named.has(String(g["id"]))) doubleGranted.push(`purchase grant ${String(g["id"])} belongs to no payment`);
  const byId = new Map(payments.map((p) => [String(p["id"]), p]));
  for (const a of acks) {
    if (a.op !== "purchase" || a.status !== 201) continue;
    const p = byId.get(a.id);
    if (p?.["status"] !== "succeeded") lostSuccesses.push(`${a.id}: acknowledged as succeeded, now ${String(p?.["status"] ?? "missing")}`);
  }
  return {
    payments: payments.length,
    succeeded: payments.filter((p) => p["status"] === "succeeded").length,
    pending: payments.filter((p) => p["status"] === "pending").length,
    doubleGranted,
    lostSuccesses,
  };
}

/** Holds still pending although their time to live is over by more than `graceMs` (must be none). */
export async function overdueHolds(databaseUrl: string, now: number, graceMs: number): Promise<string[]> {
  const rows = await sql(databaseUrl, "SELECT id FROM holds WHERE status = 'pending' AND expires_at < ?", [now - graceMs]);
  return rows.map((r) => String(r["id"]));
}

/** Waits (polling, bounded) until `probe` returns true; returns its last answer. */
export async function eventually<T>(probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (done(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
