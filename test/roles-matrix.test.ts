// Tenancy and roles, over real HTTP on SQLite and on PostgreSQL: every route the server answers ×
// every kind of caller (owner, admin, billing, member, another organization's owner key, no key,
// the platform key) → only what the role may do. The table below is written by hand, apart from
// the routes' own declarations: a route added without a row here, or a permission loosened or
// tightened, fails this suite.
//
// Refusals come first and must change nothing (a fingerprint of both organizations, the ledger and
// the audit log is equal before and after). Another organization's ids must be indistinguishable
// from ids that do not exist: same status, same error body apart from the ids and the request id —
// the suite counts and prints the cross-tenant leaks (must be 0). Then every allowed cell is sent
// as a valid request and must succeed.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { newId, type IdKind } from "../src/core/ids.js";
import type { AnyRoute } from "../src/http/server.js";
import { backends } from "./support/backends.js";
import { addMember, createOrg, grant, startHarness, T0, USD, type Harness, type Response } from "./support/harness.js";

type Json = Record<string, unknown>;
type Caller = "owner" | "admin" | "billing" | "member" | "platform" | "other" | "none";
type Role = "owner" | "admin" | "billing" | "member" | "platform";

const OWNER_ADMIN: Role[] = ["owner", "admin", "platform"];
const BILLING: Role[] = ["owner", "admin", "billing", "platform"];
const EVERY_ROLE: Role[] = ["owner", "admin", "billing", "member", "platform"];
const PLATFORM: Role[] = ["platform"];
const AUDIT: Role[] = ["owner", "admin", "billing", "platform"];
/** The gateway meters a member's usage: any organization key, never the platform key. */
const MEMBER_KEYS: Role[] = ["owner", "admin", "billing", "member"];

/** The ids a request refers to (org A's, the victim's, or random ones that exist nowhere). */
interface Ids {
  org: string;
  member: string;
  workspace: string;
  key: string;
  grant: string;
  limit: string;
  hold: string;
  pm: string;
  payment: string;
  creq: string;
  endpoint: string;
  delivery: string;
}

interface Call {
  readonly ids: Ids;
  readonly caller: Caller;
  /** The caller's own member id in org A (undefined for the platform and other keys). */
  readonly self: string | undefined;
  /** A number unique per cell (emails, names, event ids). */
  readonly n: number;
}

interface Req {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
}

interface Row {
  /** Who may: "public" (even without a key) or the roles allowed; everyone else gets 403 (401 without a key). */
  readonly allowed: "public" | readonly Role[];
  readonly req: (c: Call) => Req;
  /** For allowed cells that consume their target (revoke, void, delete, settle…): a fresh one first. */
  readonly fresh?: (w: World, c: Call) => Promise<Partial<Ids>>;
}

interface World {
  h: Harness;
  a: Ids;
  b: { org: string; ownerId: string };
  keys: Record<Exclude<Caller, "none">, string>;
  selves: Partial<Record<Caller, string>>;
  priceBook: Json;
}

/** A member of A with a dashboard password, whom anyone may sign in as (sign-in is public). */
const SIGNIN_EMAIL = "signin@matrix.test";
const MATRIX_PASSWORD = "matrix-password-123";
const O = (c: Call) => `/v1/organizations/${c.ids.org}`;
const forPlatform = (c: Call, body: Json, extra: Json): Json => (c.caller === "platform" || c.caller === "other" ? { ...body, ...extra } : body);
const MESSAGE = { model: "claude-haiku-4-5", messages: [{ role: "user", content: "Hello" }] };

async function ok(w: World, method: string, path: string, body?: unknown, key?: string): Promise<Json> {
  const r = await w.h.request(method, path, { ...(body !== undefined ? { body } : {}), ...(key !== undefined ? { key } : {}) });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}
const idOf = (j: Json, field = "id"): string => String(j[field]);
// The caller's own hold: a plain member may read, settle and release only their own (issue 11).
const holdOf = async (w: World, c: Call) => ({ hold: idOf((await ok(w, "POST", `${O(c)}/authorize`, { model: "claude-haiku-4-5", amount: "1000", member_id: c.self ?? c.ids.member })).hold as Json) });
const creqOf = async (w: World, c: Call) => ({ creq: idOf(await ok(w, "POST", `${O(c)}/credit_requests`, { amount: String(5 * USD), member_id: c.ids.member })) });

/** A Message Batch of organization A, and one of B (for B's owner key), created in before(). */
const BATCHES = { a: "", b: "" };
const batchOf = (c: Call): string => (c.caller === "other" ? BATCHES.b : BATCHES.a);

/** The expected permission of every route: method + pattern → who may, and a valid request. */
const MATRIX: Readonly<Record<string, Row>> = {
  // ---------------------------------------------------------------- service
  "GET /healthz": { allowed: "public", req: () => ({ method: "GET", path: "/healthz" }) },
  "GET /readyz": { allowed: "public", req: () => ({ method: "GET", path: "/readyz" }) },
  "GET /openapi.json": { allowed: "public", req: () => ({ method: "GET", path: "/openapi.json" }) },
  // ---------------------------------------------------------------- dashboard sign-in (API keys sign nobody in or out)
  "GET /v1/dashboard/session": { allowed: "public", req: () => ({ method: "GET", path: "/v1/dashboard/session" }) },
  "POST /v1/dashboard/session": {
    allowed: "public",
    req: (c) => ({ method: "POST", path: "/v1/dashboard/session", body: { email: SIGNIN_EMAIL, password: MATRIX_PASSWORD } }),
  },
  "DELETE /v1/dashboard/session": { allowed: [...EVERY_ROLE], req: () => ({ method: "DELETE", path: "/v1/dashboard/session" }) },
  "PUT /v1/organizations/:org_id/members/:member_id/password": {
    allowed: OWNER_ADMIN,
    req: (c) => ({ method: "PUT", path: `${O(c)}/members/${c.ids.member}/password`, body: { password: MATRIX_PASSWORD } }),
  },
  "GET /metrics": { allowed: PLATFORM, req: () => ({ method: "GET", path: "/metrics" }) },
  // ---------------------------------------------------------------- catalog and platform
  "GET /v1/plans": { allowed: EVERY_ROLE, req: () => ({ method: "GET", path: "/v1/plans" }) },
  "PUT /v1/plans/:plan_id": {
    allowed: PLATFORM,
    req: (c) => ({ method: "PUT", path: `/v1/plans/matrix_${c.n}`, body: { name: "Matrix", seats: { standard: { windows: [], monthly_sdk_credit: "0" } } } }),
  },
  "GET /v1/plans/:plan_id/versions": { allowed: EVERY_ROLE, req: () => ({ method: "GET", path: "/v1/plans/pro/versions" }) },
  "POST /v1/plans/:plan_id/versions": {
    allowed: PLATFORM,
    // Far in the future: the version is stored but never in force during the matrix.
    req: () => ({ method: "POST", path: "/v1/plans/pro/versions", body: { name: "Pro", seats: { standard: { windows: [], monthly_sdk_credit: "0" } }, effective_at: "2100-01-01T00:00:00Z" } }),
  },
  "GET /v1/price_books": { allowed: EVERY_ROLE, req: () => ({ method: "GET", path: "/v1/price_books" }) },
  "POST /v1/price_books": { allowed: PLATFORM, req: () => ({ method: "POST", path: "/v1/price_books", body: "set in before()" }) },
  "GET /v1/ledger/verify": { allowed: PLATFORM, req: () => ({ method: "GET", path: "/v1/ledger/verify" }) },
  "POST /v1/lab/replays": { allowed: PLATFORM, req: () => ({ method: "POST", path: "/v1/lab/replays", body: { period: "2026-03" } }) },
  "GET /v1/bundles": { allowed: EVERY_ROLE, req: () => ({ method: "GET", path: "/v1/bundles" }) },
  "POST /v1/organizations": {
    allowed: PLATFORM,
    req: (c) => ({ method: "POST", path: "/v1/organizations", body: { name: "New", plan_id: "pro", owner: { email: `new-${c.n}@matrix.test`, name: "N" } } }),
  },
  "GET /v1/organizations": { allowed: PLATFORM, req: () => ({ method: "GET", path: "/v1/organizations" }) },
  "GET /v1/operator/customers": { allowed: PLATFORM, req: () => ({ method: "GET", path: "/v1/operator/customers?q=acme" }) },
  "POST /v1/price_books/preview": { allowed: PLATFORM, req: () => ({ method: "POST", path: "/v1/price_books/preview", body: "set in build()" }) },
  // ---------------------------------------------------------------- operator keys
  "GET /v1/operator_keys": { allowed: PLATFORM, req: () => ({ method: "GET", path: "/v1/operator_keys" }) },
  "POST /v1/operator_keys": { allowed: PLATFORM, req: (c) => ({ method: "POST", path: "/v1/operator_keys", body: { name: `matrix ${c.n}` } }) },
  "POST /v1/operator_keys/:key_id/rotate": {
    allowed: PLATFORM,
    req: (c) => ({ method: "POST", path: `/v1/operator_keys/${c.ids.key}/rotate` }),
    fresh: async (w) => ({ key: idOf(await ok(w, "POST", "/v1/operator_keys", { name: "to rotate" })) }),
  },
  "POST /v1/operator_keys/:key_id/revoke": {
    allowed: PLATFORM,
    req: (c) => ({ method: "POST", path: `/v1/operator_keys/${c.ids.key}/revoke` }),
    fresh: async (w) => ({ key: idOf(await ok(w, "POST", "/v1/operator_keys", { name: "doomed" })) }),
  },
  "GET /v1/audit_log": { allowed: PLATFORM, req: () => ({ method: "GET", path: "/v1/audit_log?limit=5" }) },
  // ---------------------------------------------------------------- gateway
  "POST /v1/messages": { allowed: MEMBER_KEYS, req: () => ({ method: "POST", path: "/v1/messages", body: { ...MESSAGE, max_tokens: 16 } }) },
  "POST /v1/messages/count_tokens": { allowed: MEMBER_KEYS, req: () => ({ method: "POST", path: "/v1/messages/count_tokens", body: MESSAGE }) },
  // Models and the base URL: what the price book prices, for any key; the root for anyone.
  "GET /": { allowed: "public", req: () => ({ method: "GET", path: "/" }) },
  "GET /v1/models": { allowed: EVERY_ROLE, req: () => ({ method: "GET", path: "/v1/models?beta=true" }) },
  "GET /v1/models/:model_id": { allowed: EVERY_ROLE, req: () => ({ method: "GET", path: "/v1/models/claude-haiku-4-5" }) },
  // Message Batches belong to the key's organization (no org in the path): each caller asks about its own organization's batch.
  "POST /v1/messages/batches": {
    allowed: MEMBER_KEYS,
    req: (c) => ({ method: "POST", path: "/v1/messages/batches", body: { requests: [{ custom_id: `m${c.n}`, params: { ...MESSAGE, max_tokens: 16 } }] } }),
  },
  "GET /v1/messages/batches": { allowed: MEMBER_KEYS, req: () => ({ method: "GET", path: "/v1/messages/batches" }) },
  "GET /v1/messages/batches/:batch_id": { allowed: MEMBER_KEYS, req: (c) => ({ method: "GET", path: `/v1/messages/batches/${batchOf(c)}` }) },
  "POST /v1/messages/batches/:batch_id/cancel": { allowed: MEMBER_KEYS, req: (c) => ({ method: "POST", path: `/v1/messages/batches/${batchOf(c)}/cancel` }) },
  "GET /v1/messages/batches/:batch_id/results": { allowed: MEMBER_KEYS, req: (c) => ({ method: "GET", path: `/v1/messages/batches/${batchOf(c)}/results` }) },
  // ---------------------------------------------------------------- organization
  "GET /v1/organizations/:org_id": { allowed: EVERY_ROLE, req: (c) => ({ method: "GET", path: O(c) }) },
  "PATCH /v1/organizations/:org_id": { allowed: OWNER_ADMIN, req: (c) => ({ method: "PATCH", path: O(c), body: { name: `Acme ${c.n}` } }) },
  "PUT /v1/organizations/:org_id/usage_credits": { allowed: BILLING, req: (c) => ({ method: "PUT", path: `${O(c)}/usage_credits`, body: { is_enabled: true } }) },
  "GET /v1/organizations/:org_id/usage_credits": { allowed: EVERY_ROLE, req: (c) => ({ method: "GET", path: `${O(c)}/usage_credits` }) },
  // The deprecated aliases of the rename answer under the same permissions as their successors.
  "PUT /v1/organizations/:org_id/extra_usage": { allowed: BILLING, req: (c) => ({ method: "PUT", path: `${O(c)}/extra_usage`, body: { is_enabled: true } }) },
  "GET /v1/organizations/:org_id/extra_usage": { allowed: EVERY_ROLE, req: (c) => ({ method: "GET", path: `${O(c)}/extra_usage` }) },
  // ---------------------------------------------------------------- members, workspaces, keys
  "GET /v1/organizations/:org_id/members": { allowed: EVERY_ROLE, req: (c) => ({ method: "GET", path: `${O(c)}/members` }) },
  "POST /v1/organizations/:org_id/members": {
    allowed: OWNER_ADMIN,
    req: (c) => ({ method: "POST", path: `${O(c)}/members`, body: { email: `m-${c.n}@matrix.test`, name: "M", workspace_id: c.ids.workspace } }),
  },
  "GET /v1/organizations/:org_id/members/:member_id": { allowed: EVERY_ROLE, req: (c) => ({ method: "GET", path: `${O(c)}/members/${c.ids.member}` }) },
  "PATCH /v1/organizations/:org_id/members/:member_id": {
    allowed: OWNER_ADMIN,
    req: (c) => ({ method: "PATCH", path: `${O(c)}/members/${c.ids.member}`, body: { name: `Spare ${c.n}`, workspace_id: c.ids.workspace } }),
  },
  "GET /v1/organizations/:org_id/workspaces": { allowed: EVERY_ROLE, req: (c) => ({ method: "GET", path: `${O(c)}/workspaces` }) },
  "POST /v1/organizations/:org_id/workspaces": { allowed: OWNER_ADMIN, req: (c) => ({ method: "POST", path: `${O(c)}/workspaces`, body: { name: `w${c.n}` } }) },
  "GET /v1/organizations/:org_id/api_keys": { allowed: OWNER_ADMIN, req: (c) => ({ method: "GET", path: `${O(c)}/api_keys` }) },
  "POST /v1/organizations/:org_id/api_keys": { allowed: OWNER_ADMIN, req: (c) => ({ method: "POST", path: `${O(c)}/api_keys`, body: { member_id: c.ids.member, name: "k" } }) },
  "POST /v1/organizations/:org_id/api_keys/:key_id/revoke": {
    allowed: OWNER_ADMIN,
    req: (c) => ({ method: "POST", path: `${O(c)}/api_keys/${c.ids.key}/revoke` }),
    fresh: async (w, c) => ({ key: idOf(await ok(w, "POST", `${O(c)}/api_keys`, { member_id: c.ids.member, name: "doomed" })) }),
  },
  // ---------------------------------------------------------------- grants and limits
  "GET /v1/organizations/:org_id/grants": { allowed: EVERY_ROLE, req: (c) => ({ method: "GET", path: `${O(c)}/grants` }) },
  "POST /v1/organizations/:org_id/grants": {
    allowed: PLATFORM,
    req: (c) => ({ method: "POST", path: `${O(c)}/grants`, body: { kind: "promotional", amount: "1000", member_id: c.ids.member } }),
  },
  "POST /v1/organizations/:org_id/grants/:grant_id/void": {
    allowed: PLATFORM,
    req: (c) => ({ method: "POST", path: `${O(c)}/grants/${c.ids.grant}/void` }),
    fresh: async (w, c) => ({ grant: idOf(await ok(w, "POST", `${O(c)}/grants`, { kind: "promotional", amount: "1000" })) }),
  },
  "GET /v1/organizations/:org_id/spend_limits": { allowed: EVERY_ROLE, req: (c) => ({ method: "GET", path: `${O(c)}/spend_limits` }) },
  "POST /v1/organizations/:org_id/spend_limits": {
    allowed: BILLING,
    req: (c) => ({ method: "POST", path: `${O(c)}/spend_limits`, body: { scope: "member", scope_id: c.ids.member, period: "weekly", amount: String(100 * USD) } }),
  },
  "DELETE /v1/organizations/:org_id/spend_limits/:limit_id": {
    allowed: BILLING,
    req: (c) => ({ method: "DELETE", path: `${O(c)}/spend_limits/${c.ids.limit}` }),
    fresh: async (w, c) => ({ limit: idOf(await ok(w, "POST", `${O(c)}/spend_limits`, { scope: "workspace", scope_id: c.ids.workspace, period: "daily", amount: String(USD) })) }),
  },
  // ---------------------------------------------------------------- metering
  "POST /v1/organizations/:org_id/authorize": {
    allowed: EVERY_ROLE,
    req: (c) => ({ method: "POST", path: `${O(c)}/authorize`, body: forPlatform(c, { model: "claude-haiku-4-5", amount: "1000" }, { member_id: c.ids.member }) }),
  },
  "GET /v1/organizations/:org_id/holds/:hold_id": { allowed: EVERY_ROLE, req: (c) => ({ method: "GET", path: `${O(c)}/holds/${c.ids.hold}` }), fresh: holdOf },
  "POST /v1/organizations/:org_id/holds/:hold_id/settle": {
    allowed: EVERY_ROLE,
    req: (c) => ({ method: "POST", path: `${O(c)}/holds/${c.ids.hold}/settle`, body: { amount: "500" } }),
    fresh: holdOf,
  },
  "POST /v1/organizations/:org_id/holds/:hold_id/release": { allowed: EVERY_ROLE, req: (c) => ({ method: "POST", path: `${O(c)}/holds/${c.ids.hold}/release` }), fresh: holdOf },
  // The event id is an idempotency key: it carries the member id so the victim and random probes never share one.
  "POST /v1/organizations/:org_id/usage_events": {
    allowed: EVERY_ROLE,
    req: (c) => ({ method: "POST", path: `${O(c)}/usage_events`, body: forPlatform(c, { event_id: `ev-${c.n}-${c.ids.member}`, model: "claude-haiku-4-5", amount: "1000" }, { member_id: c.ids.member }) }),
  },
  // ---------------------------------------------------------------- reporting
  "GET /v1/organizations/:org_id/usage_summary": {
    allowed: EVERY_ROLE,
    req: (c) => ({ method: "GET", path: `${O(c)}/usage_summary${c.self ? "" : `?member_id=${c.ids.member}`}` }),
  },
  "GET /v1/organizations/:org_id/usage/breakdown": { allowed: EVERY_ROLE, req: (c) => ({ method: "GET", path: `${O(c)}/usage/breakdown?days=7` }) },
  "GET /v1/organizations/:org_id/usage": { allowed: EVERY_ROLE, req: (c) => ({ method: "GET", path: `${O(c)}/usage?member_id=${c.ids.member}` }) },
  "GET /v1/organizations/:org_id/transactions": { allowed: EVERY_ROLE, req: (c) => ({ method: "GET", path: `${O(c)}/transactions?limit=5` }) },
  "GET /v1/organizations/:org_id/statements/:month": { allowed: EVERY_ROLE, req: (c) => ({ method: "GET", path: `${O(c)}/statements/2026-03` }) },
  "GET /v1/organizations/:org_id/events": { allowed: EVERY_ROLE, req: (c) => ({ method: "GET", path: `${O(c)}/events?limit=5` }) },
  "GET /v1/organizations/:org_id/audit_log": { allowed: AUDIT, req: (c) => ({ method: "GET", path: `${O(c)}/audit_log?limit=5` }) },
  // ---------------------------------------------------------------- money in
  "POST /v1/organizations/:org_id/payment_methods": { allowed: BILLING, req: (c) => ({ method: "POST", path: `${O(c)}/payment_methods`, body: { card_number: "4242424242424242" } }) },
  "GET /v1/organizations/:org_id/payment_methods": { allowed: BILLING, req: (c) => ({ method: "GET", path: `${O(c)}/payment_methods` }) },
  "DELETE /v1/organizations/:org_id/payment_methods/:payment_method_id": {
    allowed: BILLING,
    req: (c) => ({ method: "DELETE", path: `${O(c)}/payment_methods/${c.ids.pm}` }),
    fresh: async (w, c) => ({ pm: idOf(await ok(w, "POST", `${O(c)}/payment_methods`, { card_number: "4242424242424242" })) }),
  },
  "POST /v1/organizations/:org_id/purchases": { allowed: BILLING, req: (c) => ({ method: "POST", path: `${O(c)}/purchases`, body: { amount: String(5 * USD), payment_method_id: c.ids.pm } }) },
  "GET /v1/organizations/:org_id/purchases": { allowed: BILLING, req: (c) => ({ method: "GET", path: `${O(c)}/purchases` }) },
  "GET /v1/organizations/:org_id/purchases/:payment_id": { allowed: BILLING, req: (c) => ({ method: "GET", path: `${O(c)}/purchases/${c.ids.payment}` }) },
  "GET /v1/organizations/:org_id/members/:member_id/credit_requests": {
    allowed: EVERY_ROLE,
    req: (c) => ({ method: "GET", path: `${O(c)}/members/${c.self ?? c.ids.member}/credit_requests` }),
  },
  "GET /v1/organizations/:org_id/purchases/:payment_id/receipt": { allowed: BILLING, req: (c) => ({ method: "GET", path: `${O(c)}/purchases/${c.ids.payment}/receipt` }) },
  "POST /v1/organizations/:org_id/credit_requests": {
    allowed: EVERY_ROLE,
    req: (c) => ({ method: "POST", path: `${O(c)}/credit_requests`, body: forPlatform(c, { amount: String(5 * USD) }, { member_id: c.ids.member }) }),
  },
  "GET /v1/organizations/:org_id/credit_requests": { allowed: OWNER_ADMIN, req: (c) => ({ method: "GET", path: `${O(c)}/credit_requests` }) },
  "POST /v1/organizations/:org_id/credit_requests/:credit_request_id/approve": {
    allowed: OWNER_ADMIN,
    req: (c) => ({ method: "POST", path: `${O(c)}/credit_requests/${c.ids.creq}/approve`, body: { payment_method_id: c.ids.pm } }),
    fresh: creqOf,
  },
  "POST /v1/organizations/:org_id/credit_requests/:credit_request_id/decline": {
    allowed: OWNER_ADMIN,
    req: (c) => ({ method: "POST", path: `${O(c)}/credit_requests/${c.ids.creq}/decline` }),
    fresh: creqOf,
  },
  "GET /v1/organizations/:org_id/auto_reload": { allowed: EVERY_ROLE, req: (c) => ({ method: "GET", path: `${O(c)}/auto_reload` }) },
  "PUT /v1/organizations/:org_id/auto_reload": {
    allowed: BILLING,
    req: (c) => ({ method: "PUT", path: `${O(c)}/auto_reload`, body: { enabled: false, threshold: String(USD), amount: String(10 * USD), payment_method_id: c.ids.pm } }),
  },
  "GET /v1/organizations/:org_id/auto_reload/attempts": { allowed: EVERY_ROLE, req: (c) => ({ method: "GET", path: `${O(c)}/auto_reload/attempts` }) },
  // ---------------------------------------------------------------- SDK credits
  "POST /v1/organizations/:org_id/members/:member_id/sdk_credits/claim": {
    allowed: EVERY_ROLE,
    req: (c) => ({ method: "POST", path: `${O(c)}/members/${c.self ?? c.ids.member}/sdk_credits/claim` }),
  },
  "GET /v1/organizations/:org_id/members/:member_id/sdk_credits": { allowed: EVERY_ROLE, req: (c) => ({ method: "GET", path: `${O(c)}/members/${c.ids.member}/sdk_credits` }) },
  "GET /v1/organizations/:org_id/sdk_credits": { allowed: EVERY_ROLE, req: (c) => ({ method: "GET", path: `${O(c)}/sdk_credits` }) },
  "PUT /v1/organizations/:org_id/sdk_credits": { allowed: OWNER_ADMIN, req: (c) => ({ method: "PUT", path: `${O(c)}/sdk_credits`, body: { pooled: false } }) },
  // ---------------------------------------------------------------- webhooks
  "POST /v1/organizations/:org_id/webhook_endpoints": {
    allowed: OWNER_ADMIN,
    req: (c) => ({ method: "POST", path: `${O(c)}/webhook_endpoints`, body: { url: "http://127.0.0.1:9/hook", description: `e${c.n}` } }),
  },
  "GET /v1/organizations/:org_id/webhook_endpoints": { allowed: OWNER_ADMIN, req: (c) => ({ method: "GET", path: `${O(c)}/webhook_endpoints` }) },
  "GET /v1/organizations/:org_id/webhook_endpoints/:endpoint_id": { allowed: OWNER_ADMIN, req: (c) => ({ method: "GET", path: `${O(c)}/webhook_endpoints/${c.ids.endpoint}` }) },
  "DELETE /v1/organizations/:org_id/webhook_endpoints/:endpoint_id": {
    allowed: OWNER_ADMIN,
    req: (c) => ({ method: "DELETE", path: `${O(c)}/webhook_endpoints/${c.ids.endpoint}` }),
    fresh: async (w, c) => ({ endpoint: idOf(await ok(w, "POST", `${O(c)}/webhook_endpoints`, { url: "http://127.0.0.1:9/doomed" })) }),
  },
  "GET /v1/organizations/:org_id/webhook_endpoints/:endpoint_id/deliveries": {
    allowed: OWNER_ADMIN,
    req: (c) => ({ method: "GET", path: `${O(c)}/webhook_endpoints/${c.ids.endpoint}/deliveries` }),
  },
  "POST /v1/organizations/:org_id/webhook_endpoints/:endpoint_id/test": {
    allowed: OWNER_ADMIN,
    req: (c) => ({ method: "POST", path: `${O(c)}/webhook_endpoints/${c.ids.endpoint}/test` }),
  },
  "POST /v1/organizations/:org_id/webhook_endpoints/:endpoint_id/deliveries/:delivery_id/replay": {
    allowed: OWNER_ADMIN,
    req: (c) => ({ method: "POST", path: `${O(c)}/webhook_endpoints/${c.ids.endpoint}/deliveries/${c.ids.delivery}/replay` }),
  },
};

const CALLERS: readonly Caller[] = ["owner", "admin", "billing", "member", "platform", "other", "none"];

/** What a caller must get: "allowed", or the refusal's status and code. */
function expected(route: AnyRoute, row: Row, caller: Caller): "allowed" | { status: number; code: string } {
  if (row.allowed === "public") return "allowed";
  if (caller === "none") return { status: 401, code: "unauthenticated" };
  // Another organization's key: inside org A every id is "not found"; elsewhere it is just an owner.
  if (caller === "other") {
    if (route.path.includes(":org_id")) return { status: 404, code: "not_found" };
    return row.allowed.includes("owner") ? "allowed" : { status: 403, code: "forbidden" };
  }
  return row.allowed.includes(caller) ? "allowed" : { status: 403, code: "forbidden" };
}

const randomIds = (): Ids => {
  const r = (k: IdKind) => newId(k, T0);
  return {
    org: r("organization"), member: r("member"), workspace: r("workspace"), key: r("apiKey"), grant: r("grant"), limit: r("spendLimit"),
    hold: r("hold"), pm: r("paymentMethod"), payment: r("payment"), creq: r("creditRequest"), endpoint: r("webhookEndpoint"), delivery: r("webhookDelivery"),
  };
};

/** An answer with everything that may legitimately differ between two ids removed. */
const normalized = (r: Response): string =>
  JSON.stringify({ status: r.status, body: r.body, type: r.headers.get("content-type") })
    .replace(/"request_id":"req_[0-9a-z]+"/g, '"request_id":"<request>"')
    .replace(/\b[a-z]{2,5}_[0-9a-z]{26}\b/g, "<id>");

for (const backend of backends()) {
  describe(`roles × routes on ${backend.name}`, () => {
    let w: World;
    let routes: readonly AnyRoute[];
    let n = 0;
    const cells = { refused: 0, allowed: 0, crossTenant: 0 };
    let leaks: string[] = [];

    const send = (r: Req, caller: Caller, extra: { key?: string } = {}): Promise<Response> =>
      w.h.request(r.method, r.path, { key: extra.key ?? (caller === "none" ? null : w.keys[caller]), ...(r.body !== undefined ? { body: r.body } : {}) });
    const build = (route: AnyRoute, row: Row, caller: Caller, ids: Ids, num = ++n): Req => {
      const req = row.req({ ids, caller, self: w.selves[caller], n: num });
      if (route.method === "POST" && route.path === "/v1/price_books/preview") return { ...req, body: { ...w.priceBook, version: Number(w.priceBook["version"]) + 1 } };
      return route.method === "POST" && route.path === "/v1/price_books" ? { ...req, body: { ...w.priceBook, version: Number(w.priceBook["version"]) + num, effective_from: new Date(w.h.clock.now() + 86_400_000).toISOString() } } : req;
    };

    /** Everything both organizations, the ledger and the audit log show (platform key). */
    const fingerprint = async (): Promise<unknown> => {
      const get = async (path: string) => {
        const r = await w.h.request("GET", path);
        assert.equal(r.status, 200, `fingerprint ${path}: ${JSON.stringify(r.body)}`);
        return r.body;
      };
      const org = async (id: string) => {
        const base = `/v1/organizations/${id}`;
        const parts = ["", "/members", "/workspaces", "/api_keys", "/grants", "/spend_limits", "/transactions?limit=500", "/payment_methods", "/purchases", "/credit_requests", "/auto_reload", "/webhook_endpoints", "/sdk_credits", "/audit_log?limit=500", "/events?limit=500"];
        return Promise.all(parts.map((p) => get(`${base}${p}`)));
      };
      return {
        a: await org(w.a.org),
        b: await org(w.b.org),
        orgs: await get("/v1/organizations?limit=500"),
        plans: await get("/v1/plans"),
        books: await get("/v1/price_books"),
        aggregates: await w.h.app.services.store.read((tx) => tx.ledgerAggregates()),
        pending: await w.h.app.services.store.read((tx) => tx.pendingHoldCount()),
      };
    };

    before(async () => {
      const h = await startHarness(await backend.createDatabase(), { USAGE_CREDITS_WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true", USAGE_CREDITS_WEBHOOK_DISPATCH_ON_COMMIT: "false" });
      const a = await createOrg(h, { plan: "pro", usageCredits: true });
      const pa = `/v1/organizations/${a.orgId}`;
      const stub = { h } as World;
      const ws = idOf(await ok(stub, "POST", `${pa}/workspaces`, { name: "Research" }));
      const admin = await addMember(h, a.orgId, { role: "admin" });
      const billing = await addMember(h, a.orgId, { role: "billing" });
      const member = await addMember(h, a.orgId, { role: "member" });
      const spare = await addMember(h, a.orgId, { role: "member", workspace_id: ws });
      const signer = await addMember(h, a.orgId, { role: "member", email: SIGNIN_EMAIL });
      await ok(stub, "PUT", `${pa}/members/${signer.memberId}/password`, { password: MATRIX_PASSWORD });
      const spareKey = ((await ok(stub, "GET", `${pa}/api_keys`)).data as Json[]).find((k) => k["member_id"] === spare.memberId);
      await grant(h, a.orgId, { amount: String(100 * USD) });
      const g = idOf(await grant(h, a.orgId, { amount: String(USD) }));
      const limit = idOf(await ok(stub, "POST", `${pa}/spend_limits`, { scope: "organization", period: "monthly", amount: String(500 * USD) }));
      const hold = idOf((await ok(stub, "POST", `${pa}/authorize`, { model: "claude-haiku-4-5", amount: "1000" }, a.ownerKey)).hold as Json);
      const pm = idOf(await ok(stub, "POST", `${pa}/payment_methods`, { card_number: "4242424242424242" }));
      const payment = idOf(await ok(stub, "POST", `${pa}/purchases`, { amount: String(5 * USD), payment_method_id: pm }));
      const endpoint = idOf(await ok(stub, "POST", `${pa}/webhook_endpoints`, { url: "http://127.0.0.1:9/hook" }));
      const creq = idOf(await ok(stub, "POST", `${pa}/credit_requests`, { amount: String(5 * USD) }, member.key));
      await h.app.services.webhooks.dispatch();
      const delivery = idOf(((await ok(stub, "GET", `${pa}/webhook_endpoints/${endpoint}/deliveries`)).data as Json[])[0] ?? {});
      const b = await createOrg(h, { plan: "pro", usageCredits: true });
      await grant(h, b.orgId, { amount: String(100 * USD) });
      const batch = { requests: [{ custom_id: "matrix", params: { ...MESSAGE, max_tokens: 16 } }] };
      BATCHES.a = idOf(await ok(stub, "POST", "/v1/messages/batches", batch, a.ownerKey));
      BATCHES.b = idOf(await ok(stub, "POST", "/v1/messages/batches", batch, b.ownerKey));
      // Both end (and are settled) before the fingerprints of the refusal tests are taken.
      for (const [id, key] of [[BATCHES.a, a.ownerKey], [BATCHES.b, b.ownerKey]] as const) {
        while ((await ok(stub, "GET", `/v1/messages/batches/${id}`, undefined, key))["processing_status"] !== "ended") await new Promise((r) => setTimeout(r, 10));
      }
      const books = (await ok(stub, "GET", "/v1/price_books")).data as Json[];
      w = {
        h,
        a: { org: a.orgId, member: spare.memberId, workspace: ws, key: idOf(spareKey ?? {}), grant: g, limit, hold, pm, payment, creq, endpoint, delivery },
        b: { org: b.orgId, ownerId: b.ownerId },
        keys: { owner: a.ownerKey, admin: admin.key, billing: billing.key, member: member.key, platform: h.platformKey, other: b.ownerKey },
        selves: { owner: a.ownerId, admin: admin.memberId, billing: billing.memberId, member: member.memberId },
        priceBook: books[books.length - 1] ?? {},
      };
      routes = h.app.routes;
    });
    after(async () => {
      await w.h.app.services.moneyIn.idle();
      await w.h.close();
      await backend.cleanup();
    });

    test("every route the server answers has a row in the matrix, and every row a route", () => {
      const served = routes.map((r) => `${r.method} ${r.path}`).sort();
      assert.deepEqual(served.filter((k) => !(k in MATRIX)), [], "routes without an expected-permission row");
      assert.deepEqual(Object.keys(MATRIX).filter((k) => !served.includes(k)).sort(), [], "rows without a route");
    });

    test("refusals: no key → 401, a role without the permission → 403, another organization → 404; none changes anything", async () => {
      const before0 = await fingerprint();
      const wrong: string[] = [];
      for (const route of routes) {
        const row = MATRIX[`${route.method} ${route.path}`];
        if (!row) continue;
        for (const caller of CALLERS) {
          const want = expected(route, row, caller);
          if (want === "allowed") continue;
          cells.refused++;
          const r = await send(build(route, row, caller, w.a), caller);
          const code = (r.body["error"] as Json | undefined)?.["code"];
          if (r.status !== want.status || code !== want.code) wrong.push(`${caller} ${route.method} ${route.path}: ${r.status} ${String(code)} (want ${want.status} ${want.code})`);
        }
      }
      assert.deepEqual(wrong, []);
      assert.deepEqual(await fingerprint(), before0, "refused calls changed nothing: both organizations, the ledger, holds and the audit log are as they were");
    });

    test("another organization's ids are indistinguishable from ids that do not exist (cross-tenant leaks: 0)", async () => {
      const before0 = await fingerprint();
      leaks = [];
      for (const route of routes.filter((r) => r.path.includes(":org_id"))) {
        const row = MATRIX[`${route.method} ${route.path}`];
        if (!row) continue;
        const num = ++n;
        // 1. The victim's organization and ids, with the other organization's owner key, vs. ids that exist nowhere.
        const victim = await send(build(route, row, "other", w.a, num), "other");
        const nowhere = await send(build(route, row, "other", randomIds(), num), "other");
        cells.crossTenant++;
        if (victim.status !== 404 || normalized(victim) !== normalized(nowhere)) leaks.push(`org ${route.method} ${route.path}: ${normalized(victim)} vs ${normalized(nowhere)}`);
        // 2. Its own organization in the path, the victim's ids for everything else (path and body).
        const own = { ...w.a, org: w.b.org };
        const withVictimIds = build(route, row, "other", own, num);
        const withRandomIds = build(route, row, "other", { ...randomIds(), org: w.b.org }, num);
        if (JSON.stringify(withVictimIds) === JSON.stringify(withRandomIds)) continue; // refers to no other id
        cells.crossTenant++;
        const v = await send(withVictimIds, "other");
        const x = await send(withRandomIds, "other");
        if (normalized(v) !== normalized(x)) leaks.push(`ids ${route.method} ${route.path}: ${normalized(v)} vs ${normalized(x)}`);
      }
      process.stderr.write(`  cross-tenant leaks on ${backend.name}: ${leaks.length} of ${cells.crossTenant} probes\n`);
      assert.deepEqual(leaks, [], "cross-tenant leaks");
      assert.deepEqual(await fingerprint(), before0, "the probes changed nothing");
    });

    test("every allowed cell, sent as a valid request, succeeds", async () => {
      const wrong: string[] = [];
      for (const route of routes) {
        const row = MATRIX[`${route.method} ${route.path}`];
        if (!row) continue;
        for (const caller of CALLERS) {
          if (expected(route, row, caller) !== "allowed") continue;
          cells.allowed++;
          const num = ++n;
          const ids = row.fresh && caller !== "other" ? { ...w.a, ...(await row.fresh(w, { ids: w.a, caller, self: w.selves[caller], n: num })) } : w.a;
          const r = await send(build(route, row, caller, ids, num), caller);
          if (r.status < 200 || r.status >= 300) wrong.push(`${caller} ${route.method} ${route.path}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
        }
      }
      assert.deepEqual(wrong, []);
      await w.h.app.services.moneyIn.idle();
      const v = (await w.h.request("GET", "/v1/ledger/verify")).body;
      assert.deepEqual(v["violations"], []);
      process.stderr.write(`  roles matrix on ${backend.name}: ${routes.length} routes × ${CALLERS.length} callers: ${cells.refused} refused + ${cells.allowed} allowed cells, ${cells.crossTenant} cross-tenant probes\n`);
    });
  });
}
