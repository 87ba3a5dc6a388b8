// The edge's stages in their order, over real HTTP on a real store (src/http/server.ts):
// authentication comes before the body is read (a caller without a key is refused while its body
// is still arriving), a body declared over the limit is refused from its headers alone, and
// /readyz only reads (it answers while another connection holds the database's write lock).

import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import { sqliteBackend } from "./support/backends.js";
import { startHarness, type Harness } from "./support/harness.js";

/** Sends headers and the first bytes of a chunked body, never the rest; resolves with the answer's status and body. */
function halfSentPost(url: string, headers: Record<string, string>): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers: { "content-type": "application/json", "transfer-encoding": "chunked", ...headers } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown>, ms: performance.now() - started });
      });
    });
    req.on("error", (e) => (e.message === "socket hang up" ? undefined : reject(e)));
    req.write('{"name":"half a bo');
  });
}

describe("the edge's stages", () => {
  const backend = sqliteBackend();
  let h: Harness;
  let file: string;
  before(async () => {
    const url = await backend.createDatabase();
    file = url.slice("sqlite:".length);
    // A request must arrive whole within 10 s; an answer that waited for this body would take that long.
    h = await startHarness(url, { USAGE_CREDITS_REQUEST_TIMEOUT_SECONDS: "10" });
  });
  after(async () => {
    await h.close();
    await backend.cleanup();
  });

  test("authenticate runs before the body is read: no key is 401 at once, while the body is still arriving", async () => {
    const r = await halfSentPost(`${h.url}/v1/organizations`, {});
    assert.equal(r.status, 401);
    assert.equal((r.body["error"] as Record<string, unknown>)["code"], "unauthenticated");
    assert.ok(r.ms < 5_000, `answered in ${Math.round(r.ms)} ms, without waiting for the body`);
  });

  test("authorize runs before the body is read: a key without the permission is 403 at once", async () => {
    const org = await h.request("POST", "/v1/organizations", { body: { name: "Stages", plan_id: "pro", owner: { email: "o@stages.test", name: "O" } } });
    assert.equal(org.status, 201);
    const other = await h.request("POST", "/v1/organizations", { body: { name: "Other", plan_id: "pro", owner: { email: "o@other.test", name: "O" } } });
    const ownerKey = String((org.body["api_key"] as Record<string, unknown>)["secret"]);
    const r = await halfSentPost(`${h.url}/v1/organizations/${String(other.body["id"])}/workspaces`, { "x-api-key": ownerKey });
    assert.equal(r.status, 404, "another organization's ids look like missing ones");
    assert.ok(r.ms < 5_000, `answered in ${Math.round(r.ms)} ms`);
  });

  test("a body declared over the limit is refused from its headers, before authentication", async () => {
    const r = await new Promise<number>((resolve, reject) => {
      const req = request(`${h.url}/v1/organizations`, { method: "POST", headers: { "content-type": "application/json", "content-length": String(64 * 1024 * 1024) } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on("error", (e) => (e.message === "socket hang up" ? undefined : reject(e)));
      req.write("{");
    });
    assert.equal(r, 413);
  });

  test("/readyz only reads: it answers while another connection holds the write lock", async () => {
    const db = new Database(file);
    try {
      db.exec("BEGIN IMMEDIATE");
      const started = performance.now();
      const r = await h.request("GET", "/readyz", { key: null });
      assert.equal(r.status, 200);
      assert.equal(r.body["status"], "ready");
      assert.ok(performance.now() - started < 5_000, "not queued behind the write lock");
    } finally {
      db.exec("ROLLBACK");
      db.close();
    }
  });
});
