// Dashboard helpers for tests: set a member's password over the API, sign in over HTTP and make
// requests the way the dashboard's browser code does (session cookie + x-csrf-token).

import assert from "node:assert/strict";
import type { Harness, Response } from "./harness.js";

export interface CookieSession {
  readonly cookie: string;
  readonly csrf: string;
  readonly setCookie: string;
  request(method: string, path: string, options?: { body?: unknown; csrf?: string | null; headers?: Record<string, string> }): Promise<Response>;
}

export async function setPassword(h: Harness, orgId: string, memberId: string, password: string, key?: string): Promise<void> {
  const r = await h.request("PUT", `/v1/organizations/${orgId}/members/${memberId}/password`, { ...(key ? { key } : {}), body: { password } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

export async function cookieRequest(h: Harness, cookie: string | null, method: string, path: string, options: { body?: unknown; csrf?: string | null; headers?: Record<string, string> } = {}): Promise<Response> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (cookie) headers["cookie"] = cookie;
  if (options.csrf) headers["x-csrf-token"] = options.csrf;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${h.url}${path}`, { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = { _raw: text };
  }
  return { status: res.status, body, headers: res.headers };
}

export async function signIn(h: Harness, email: string, password: string): Promise<CookieSession> {
  const r = await cookieRequest(h, null, "POST", "/v1/dashboard/session", { body: { email, password } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const setCookie = r.headers.get("set-cookie") ?? "";
  const cookie = setCookie.split(";")[0] ?? "";
  const csrf = String(r.body["csrf_token"]);
  return {
    cookie,
    csrf,
    setCookie,
    request: (method, path, options = {}) => cookieRequest(h, cookie, method, path, { ...options, csrf: options.csrf === undefined ? csrf : options.csrf }),
  };
}
