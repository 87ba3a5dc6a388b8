// The edge's security and observability over real HTTP, on SQLite and on PostgreSQL: security
// headers on every kind of response (HSTS only when configured); API-key brute-force protection
// (429 with retry-after after N failures per address, blocking valid keys from that address too,
// lifted when the window ends, per address behind a trusted proxy); no key ever reaches the logs;
// one access-log line per request carrying its request id; Prometheus /metrics (platform key, or
// open by setting) with request, batch, pending-hold, auto-reload and webhook series; /healthz and
// /readyz (503 while draining).

import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { jsonLogger } from "../src/ports/logger.js";
import { backends } from "./support/backends.js";
import { addMember, createOrg, grant, startHarness, USD, type Harness } from "./support/harness.js";

type Json = Record<string, unknown>;

const SECURITY = { "x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "x-frame-options": "DENY", "cache-control": "no-store" };

function assertSecurityHeaders(headers: Headers, what: string, hsts: string | null = null): void {
  for (const [k, v] of Object.entries(SECURITY)) assert.equal(headers.get(k), v, `${what}: ${k}`);
  assert.equal(headers.get("strict-transport-security"), hsts, `${what}: strict-transport-security`);
}

/** A capturing logger: the JSON lines the server would print. */
function capture(): { lines: string[]; log: ReturnType<typeof jsonLogger> } {
  const lines: string[] = [];
  return { lines, log: jsonLogger((l) => lines.push(l)) };
}

for (const backend of backends()) {
  describe(`security and observability on ${backend.name}`, () => {
    let h: Harness;
    const logs = capture();
    let receiver: Server;
    let receiverUrl: string;

    before(async () => {
      receiver = createServer((req, res) => {
        req.resume();
        req.on("end", () => res.writeHead(200).end("ok"));
      });
      await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
      receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      h = await startHarness(
        await backend.createDatabase(),
        { USAGE_CREDITS_AUTH_FAILURE_LIMIT: "5", USAGE_CREDITS_AUTH_FAILURE_WINDOW_SECONDS: "60", USAGE_CREDITS_WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" },
        { log: logs.log },
      );
    });
    after(async () => {
      await h.close();
      await new Promise((r) => receiver.close(r));
      await backend.cleanup();
    });

    test("every response carries the security headers: JSON, errors, unknown paths, CSV downloads, metrics", async () => {
      const org = await createOrg(h);
      assertSecurityHeaders((await h.request("GET", `/v1/organizations/${org.orgId}`)).headers, "JSON");
      assertSecurityHeaders((await h.request("GET", `/v1/organizations/${org.orgId}`, { key: null })).headers, "401");
      assertSecurityHeaders((await h.request("GET", "/nowhere")).headers, "404");
      assertSecurityHeaders((await h.request("GET", "/healthz", { key: null })).headers, "public");
      const csv = await fetch(`${h.url}/v1/organizations/${org.orgId}/statements/2026-03?format=csv`, { headers: { "x-api-key": org.ownerKey } });
      await csv.text();
      assert.equal(csv.status, 200);
      assertSecurityHeaders(csv.headers, "CSV");
      const metrics = await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${h.platformKey}` } });
      await metrics.text();
      assertSecurityHeaders(metrics.headers, "metrics");
    });

    test("HSTS is sent only when configured (served over https)", async () => {
      const hsts = await startHarness(await backend.createDatabase(), { USAGE_CREDITS_HSTS_SECONDS: "31536000" });
      try {
        assertSecurityHeaders((await hsts.request("GET", "/healthz", { key: null })).headers, "hsts", "max-age=31536000; includeSubDomains");
      } finally {
        await hsts.close();
      }
    });

    test("API keys: N failures from an address → 429 with retry-after for every key from it, until the window ends; valid keys alone are never limited", async () => {
      const org = await createOrg(h);
      const path = `/v1/organizations/${org.orgId}`;
      for (let i = 0; i < 30; i++) assert.equal((await h.request("GET", path, { key: org.ownerKey })).status, 200, "valid keys are never counted");
      for (let i = 0; i < 5; i++) {
        const r = await h.request("GET", path, { key: `uck_wrong${i}${"x".repeat(20)}` });
        assert.equal(r.status, 401, `failure ${i + 1} is a plain 401`);
      }
      const blocked = await h.request("GET", path, { key: "uck_wrong-again-xxxxxxxxxxxxxxxxx" });
      assert.equal(blocked.status, 429);
      assert.equal((blocked.body["error"] as Json)["code"], "too_many_auth_failures");
      assert.equal(blocked.headers.get("retry-after"), "60");
      const valid = await h.request("GET", path, { key: org.ownerKey });
      assert.equal(valid.status, 429, "a blocked address learns nothing, not even that a key is valid");
      const spoofed = await h.request("GET", path, { key: org.ownerKey, headers: { "x-forwarded-for": "203.0.113.9" } });
      assert.equal(spoofed.status, 429, "X-Forwarded-For is ignored unless a proxy is trusted");
      h.clock.advance(30_000);
      assert.equal((await h.request("GET", path, { key: org.ownerKey })).headers.get("retry-after"), "30");
      h.clock.advance(30_000);
      assert.equal((await h.request("GET", path, { key: org.ownerKey })).status, 200, "the window ended");
      const m = await (await fetch(`${h.url}/metrics`, { headers: { "x-api-key": h.platformKey } })).text();
      assert.match(m, /usage_credits_auth_failures_total\{outcome="invalid"\} 5/);
      assert.match(m, /usage_credits_auth_failures_total\{outcome="blocked"\} 4/);
    });

    test("behind a trusted proxy each client address is limited on its own", async () => {
      const proxied = await startHarness(await backend.createDatabase(), { USAGE_CREDITS_AUTH_FAILURE_LIMIT: "2", USAGE_CREDITS_TRUST_PROXY: "true" });
      try {
        const bad = (ip: string) => proxied.request("GET", "/v1/plans", { key: "uck_nope-nope-nope-nope-nope-no", headers: { "x-forwarded-for": `198.51.100.1, ${ip}` } });
        assert.equal((await bad("192.0.2.1")).status, 401);
        assert.equal((await bad("192.0.2.1")).status, 401);
        assert.equal((await bad("192.0.2.1")).status, 429);
        assert.equal((await bad("192.0.2.2")).status, 401, "another client behind the same proxy is not blocked");
        assert.equal((await proxied.request("GET", "/v1/plans", { headers: { "x-forwarded-for": "192.0.2.2" } })).status, 200);
      } finally {
        await proxied.close();
      }
    });

    test("no key ever reaches the logs; one access-log line per request, carrying its request id", async () => {
      const org = await createOrg(h);
      const member = await addMember(h, org.orgId, { role: "member" });
      const revoked = await h.request("POST", `/v1/organizations/${org.orgId}/api_keys`, { body: { member_id: member.memberId, name: "gone" } });
      await h.request("POST", `/v1/organizations/${org.orgId}/api_keys/${String(revoked.body["id"])}/revoke`);
      const revokedSecret = String(revoked.body["secret"]);
      h.clock.advance(120_000); // a fresh brute-force window
      const from = logs.lines.length;
      const wrong = "uck_thisIsNotARealKeyButLooksLike1";
      const sent = [
        await h.request("GET", `/v1/organizations/${org.orgId}`, { key: wrong }),
        await h.request("GET", `/v1/organizations/${org.orgId}`, { key: null, headers: { authorization: `Bearer ${wrong}` } }),
        await h.request("GET", `/v1/organizations/${org.orgId}`, { key: revokedSecret }),
        await h.request("GET", `/v1/organizations/${org.orgId}?api_key=${org.ownerKey}`, { key: org.ownerKey }),
        await h.request("POST", `/v1/organizations/${org.orgId}/workspaces`, { key: member.key, body: { name: "w" } }),
        await h.request("GET", `/v1/organizations/${org.orgId}`, { key: `${org.ownerKey}x` }),
      ];
      const lines = logs.lines.slice(from);
      const text = lines.join("");
      for (const secret of [wrong, revokedSecret, org.ownerKey, member.key, h.platformKey]) {
        assert.ok(!text.includes(secret), `no log line holds a key (${secret.slice(0, 8)}…)`);
        assert.ok(!text.includes(secret.slice(4, 16)), "not even a fragment of one");
      }
      const access = lines.map((l) => JSON.parse(l) as Json).filter((l) => l["msg"] === "request");
      assert.deepEqual(access.map((l) => l["request_id"]), sent.map((r) => r.headers.get("request-id")), "one access line per request, in order");
      for (const l of access) {
        assert.equal(typeof l["time"], "string");
        assert.equal(l["level"], "info");
        assert.equal(l["route"], l["path"] === `/v1/organizations/${org.orgId}` ? "/v1/organizations/:org_id" : "/v1/organizations/:org_id/workspaces");
      }
      assert.deepEqual(access.map((l) => l["status"]), [401, 401, 401, 200, 403, 401]);
    });

    test("/metrics: platform key (or open by setting); request, latency, batch, pending-hold, auto-reload and webhook series", async () => {
      assert.equal((await h.request("GET", "/metrics", { key: null })).status, 401);
      const org = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      const base = `/v1/organizations/${org.orgId}`;
      await grant(h, org.orgId, { amount: String(1 * USD) });
      const holds = await Promise.all([1, 2, 3].map(() => h.request("POST", `${base}/authorize`, { key: org.ownerKey, body: { model: "claude-sonnet-4-5", amount: "1000" } })));
      assert.ok(holds.every((r) => r.status === 201));
      await h.request("POST", `${base}/holds/${String((holds[0]?.body["hold"] as Json)["id"])}/release`, { key: org.ownerKey });
      // Auto-reload: the balance ($1) is below the threshold, so saving the settings starts a reload.
      const pm = await h.request("POST", `${base}/payment_methods`, { key: org.ownerKey, body: { card_number: "4242424242424242" } });
      await h.request("PUT", `${base}/auto_reload`, { key: org.ownerKey, body: { enabled: true, threshold: String(5 * USD), amount: String(10 * USD), payment_method_id: pm.body["id"] } });
      await h.app.services.moneyIn.idle();
      // A webhook endpoint that answers 200 receives the events.
      await h.request("POST", `${base}/webhook_endpoints`, { key: org.ownerKey, body: { url: receiverUrl } });
      await h.request("POST", `${base}/credit_requests`, { key: org.ownerKey, body: { amount: String(5 * USD) } });
      await h.app.services.webhooks.dispatch();

      const res = await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${h.platformKey}` } });
      const text = await res.text();
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const value = (series: string): number => {
        const line = text.split("\n").find((l) => l.startsWith(`${series} `));
        assert.ok(line, `series ${series} is exposed`);
        return Number(line.split(" ")[1]);
      };
      assert.ok(value('usage_credits_http_requests_total{method="POST",route="/v1/organizations/:org_id/authorize",status="201"}') >= 3);
      assert.ok(value('usage_credits_http_request_duration_seconds_count{method="POST",route="/v1/organizations/:org_id/authorize"}') >= 3);
      assert.ok(value('usage_credits_http_request_duration_seconds_bucket{method="POST",route="/v1/organizations/:org_id/authorize",le="+Inf"}') >= 3);
      assert.ok(value("usage_credits_batch_size_count") >= 1);
      assert.equal(value("usage_credits_batch_queue_depth"), 0);
      const pending = await h.app.services.store.read((tx) => tx.pendingHoldCount());
      assert.ok(pending >= 2);
      assert.equal(value("usage_credits_holds_pending"), pending);
      assert.equal(value('usage_credits_auto_reload_total{outcome="started"}'), 1);
      assert.equal(value('usage_credits_auto_reload_total{outcome="succeeded"}'), 1);
      assert.ok(value('usage_credits_webhook_deliveries_total{outcome="delivered"}') >= 1);
      assert.ok(value('usage_credits_process_memory_bytes{kind="rss"}') > 0);
      assert.equal(value("usage_credits_draining"), 0);
      assert.ok(!text.includes(org.orgId), "no organization id in a label (bounded cardinality)");

      const open = await startHarness(await backend.createDatabase(), { USAGE_CREDITS_METRICS_PUBLIC: "true" });
      try {
        assert.equal((await fetch(`${open.url}/metrics`)).status, 200, "USAGE_CREDITS_METRICS_PUBLIC opens it");
      } finally {
        await open.close();
      }
    });

    test("/healthz is up; /readyz reports the database, and 503 (closing the connection) while draining", async () => {
      assert.deepEqual((await h.request("GET", "/healthz", { key: null })).body, { status: "ok" });
      const ready = await h.request("GET", "/readyz", { key: null });
      assert.equal(ready.status, 200);
      assert.equal(ready.body["status"], "ready");
      assert.equal(ready.body["store"], backend.name);
      assert.equal(typeof ready.body["schema_version"], "number");
      h.app.services.lifecycle.draining = true;
      try {
        const draining = await h.request("GET", "/readyz", { key: null });
        assert.equal(draining.status, 503);
        assert.equal(draining.body["status"], "draining");
        assert.equal(draining.headers.get("connection"), "close");
        assert.match(await (await fetch(`${h.url}/metrics`, { headers: { "x-api-key": h.platformKey } })).text(), /usage_credits_draining 1/);
      } finally {
        h.app.services.lifecycle.draining = false;
      }
    });
  });
}
