// A real server on loopback for tests: the composition root with a manual clock, a real store,
// and a tiny fetch-based client. Nothing of ours is mocked.

import { createApp, type App } from "../../src/app.js";
import { Admin } from "../../src/app/admin.js";
import { loadConfig } from "../../src/config/config.js";
import { ManualClock } from "../../src/ports/clock.js";
import { silentLogger, type Logger } from "../../src/ports/logger.js";
import { openTestStore } from "./backends.js";

export const T0 = Date.parse("2026-03-02T09:00:00Z"); // a Monday

export interface Response {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

export interface Harness {
  readonly app: App;
  readonly url: string;
  readonly clock: ManualClock;
  readonly platformKey: string;
  request(method: string, path: string, options?: { key?: string | null; body?: unknown; headers?: Record<string, string>; raw?: string }): Promise<Response>;
  close(): Promise<void>;
}

export async function startHarness(databaseUrl: string, env: Record<string, string> = {}, options: { log?: Logger } = {}): Promise<Harness> {
  const clock = new ManualClock(T0);
  const config = loadConfig({ USAGE_CREDITS_PORT: "0", USAGE_CREDITS_SWEEP_SECONDS: "3600", ...env }, { database: databaseUrl });
  const store = await openTestStore(databaseUrl);
  const app = await createApp(config, { clock, log: options.log ?? silentLogger, store });
  const url = await app.listen();
  const admin: Admin = app.services.admin;
  const platform = await admin.createPlatformKey("test operator");
  const request: Harness["request"] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    const key = options.key === undefined ? platform.secret : options.key;
    if (key !== null) headers["x-api-key"] = key;
    let body: string | undefined = options.raw;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] ??= "application/json";
    }
    const res = await fetch(`${url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      parsed = { _raw: text };
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return { app, url, clock, platformKey: platform.secret, request, close: () => app.close() };
}

export const USD = 1_000_000;

/** Creates an org (owner + key) over the API and returns ids and the owner's key. */
export async function createOrg(h: Harness, options: { plan?: string; usageCredits?: boolean; fastMode?: boolean; fallback?: boolean } = {}) {
  const r = await h.request("POST", "/v1/organizations", {
    body: {
      name: "Acme",
      plan_id: options.plan ?? "pro",
      usage_credits_enabled: options.usageCredits ?? false,
      fast_mode_enabled: options.fastMode ?? true,
      fast_mode_fallback: options.fallback ?? false,
      owner: { email: `owner-${Math.random().toString(36).slice(2)}@acme.test`, name: "Owner" },
    },
  });
  if (r.status !== 201) throw new Error(`create org: ${r.status} ${JSON.stringify(r.body)}`);
  const owner = r.body["owner"] as { id: string };
  const key = r.body["api_key"] as { secret: string };
  return { orgId: String(r.body["id"]), ownerId: owner.id, ownerKey: key.secret };
}

export async function addMember(h: Harness, orgId: string, body: Record<string, unknown>, surface = "interactive") {
  const m = await h.request("POST", `/v1/organizations/${orgId}/members`, { body: { name: "M", email: `m-${Math.random().toString(36).slice(2)}@acme.test`, ...body } });
  if (m.status !== 201) throw new Error(`add member: ${m.status} ${JSON.stringify(m.body)}`);
  const memberId = String(m.body["id"]);
  const k = await h.request("POST", `/v1/organizations/${orgId}/api_keys`, { body: { member_id: memberId, name: "k", surface } });
  if (k.status !== 201) throw new Error(`create key: ${k.status} ${JSON.stringify(k.body)}`);
  return { memberId, key: String(k.body["secret"]) };
}

export async function grant(h: Harness, orgId: string, body: Record<string, unknown>) {
  const r = await h.request("POST", `/v1/organizations/${orgId}/grants`, { body: { kind: "promotional", ...body } });
  if (r.status !== 201) throw new Error(`grant: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function verifyLedger(h: Harness): Promise<{ ok: boolean; violations: unknown[] }> {
  const r = await h.request("GET", "/v1/ledger/verify");
  return r.body as { ok: boolean; violations: unknown[] };
}
