// Webhooks over real HTTP on SQLite and PostgreSQL, with a real receiver (node:http on loopback)
// that verifies every delivery with the official `standardwebhooks` library. The dispatcher is
// driven by hand (USAGE_CREDITS_WEBHOOK_DISPATCH_ON_COMMIT=false) with the manual clock, except in
// the test of the in-process kick. The manual clock is set to the wall clock first: receivers check
// `webhook-timestamp` against their own clock (5 minutes of tolerance in the library).

import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, afterEach, before, describe, test } from "node:test";
import { Webhook } from "standardwebhooks";
import { backends } from "./support/backends.js";
import { addMember, createOrg, grant, startHarness, T0, USD, type Harness } from "./support/harness.js";

type Json = Record<string, unknown>;

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** What the receiver answered. */
  readonly status: number;
}

/** A webhook receiver: answers from `script` (then 200), records every request. */
class Receiver {
  readonly got: Received[] = [];
  script: number[] = [];
  private server: Server | undefined;
  url = "";

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const status = this.script.shift() ?? 200;
        this.got.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), status });
        res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok" : "receiver is down");
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}/hooks`;
    return this;
  }

  /** Verifies every received request with the standard library; returns the parsed payloads. */
  verified(secret: string): Json[] {
    const wh = new Webhook(secret);
    return this.got.map((r) => wh.verify(r.body, r.headers as Record<string, string>) as Json);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const MANUAL = {
  USAGE_CREDITS_WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
  USAGE_CREDITS_WEBHOOK_DISPATCH_ON_COMMIT: "false",
  USAGE_CREDITS_WEBHOOK_RETRY_SECONDS: "5,30,120",
};

for (const backend of backends()) {
  describe(`webhooks on ${backend.name}`, () => {
    let h: Harness;
    let rx: Receiver;
    before(async () => {
      h = await startHarness(await backend.createDatabase(), MANUAL);
      h.clock.set(Math.max(Date.now(), T0));
      rx = await new Receiver().start();
    });
    afterEach(async () => {
      await h.app.services.moneyIn.idle();
      await h.app.services.webhooks.idle();
      rx.got.length = 0;
      rx.script = [];
    });
    after(async () => {
      await h.close();
      await rx.close();
      await backend.cleanup();
    });

    const base = (orgId: string) => `/v1/organizations/${orgId}`;
    const code = (r: { body: Json }) => (r.body["error"] as Json | undefined)?.["code"];
    const dispatch = () => h.app.services.webhooks.dispatch();
    const addEndpoint = async (orgId: string, body: Json = {}, key?: string) => {
      const r = await h.request("POST", `${base(orgId)}/webhook_endpoints`, { ...(key ? { key } : {}), body: { url: rx.url, ...body } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return { id: String(r.body["id"]), secret: String(r.body["secret"]) };
    };
    const deliveries = async (orgId: string, endpointId: string) => {
      const r = await h.request("GET", `${base(orgId)}/webhook_endpoints/${endpointId}/deliveries`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body["data"] as Json[];
    };
    const buy = async (orgId: string, dollars: number) => {
      const pm = await h.request("POST", `${base(orgId)}/payment_methods`, { body: { card_number: "4242424242424242" } });
      assert.equal(pm.status, 201, JSON.stringify(pm.body));
      const r = await h.request("POST", `${base(orgId)}/purchases`, { body: { amount: String(dollars * USD), payment_method_id: pm.body["id"] } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return String(r.body["id"]);
    };
    const events = async (orgId: string, type: string) =>
      ((await h.request("GET", `${base(orgId)}/events?limit=500`)).body["data"] as Json[]).filter((e) => e["type"] === type);

    test("deliveries are signed the Standard Webhooks way; a receiver that fails twice gets the event on the third try", async () => {
      const { orgId } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      const ep = await addEndpoint(orgId, { event_types: ["purchase.succeeded"], description: "billing system" });
      assert.match(ep.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
      const listed = (await h.request("GET", `${base(orgId)}/webhook_endpoints`)).body["data"] as Json[];
      assert.deepEqual(listed.map((e) => [e["id"], e["url"], e["event_types"], "secret" in e]), [[ep.id, rx.url, ["purchase.succeeded"], false]], "the secret is shown once");

      rx.script = [500, 500];
      const paymentId = await buy(orgId, 25);
      const first = await dispatch();
      assert.deepEqual([first.attempted, first.delivered], [1, 0]);
      let [d] = await deliveries(orgId, ep.id);
      assert.equal(d?.["status"], "pending");
      assert.equal(d?.["attempts"], 1);
      assert.equal(d?.["last_status"], 500);
      assert.match(String(d?.["last_error"]), /HTTP 500/);
      assert.equal(d?.["next_attempt_at"], new Date(h.clock.now() + 5_000).toISOString(), "first retry after 5 s");

      assert.equal((await dispatch()).attempted, 0, "not due yet");
      h.clock.advance(5_000);
      assert.equal((await dispatch()).attempted, 1);
      [d] = await deliveries(orgId, ep.id);
      assert.deepEqual([d?.["status"], d?.["attempts"]], ["pending", 2]);
      assert.equal(d?.["next_attempt_at"], new Date(h.clock.now() + 30_000).toISOString(), "second retry after 30 s");
      h.clock.advance(29_000);
      assert.equal((await dispatch()).attempted, 0);
      h.clock.advance(1_000);
      const third = await dispatch();
      assert.deepEqual([third.attempted, third.delivered], [1, 1]);
      [d] = await deliveries(orgId, ep.id);
      assert.deepEqual([d?.["status"], d?.["attempts"], d?.["last_status"], d?.["last_error"], d?.["next_attempt_at"]], ["delivered", 3, 200, null, null]);

      assert.deepEqual(rx.got.map((r) => r.status), [500, 500, 200]);
      const payloads = rx.verified(ep.secret);
      const [event] = await events(orgId, "purchase.succeeded");
      for (const [i, p] of payloads.entries()) {
        assert.equal(rx.got[i]?.headers["webhook-id"], event?.["id"], "webhook-id is the event id on every attempt");
        assert.equal(p["id"], event?.["id"]);
        assert.equal(p["type"], "purchase.succeeded");
        assert.equal(p["org_id"], orgId);
        assert.equal((p["data"] as Json)["payment_id"], paymentId);
      }
      assert.equal(rx.got[0]?.body, rx.got[2]?.body, "the same body every attempt");
      assert.throws(() => new Webhook(ep.secret).verify(rx.got[2]?.body.replace("purchase", "purchasX") ?? "", rx.got[2]?.headers as Record<string, string>), /signature/i);
      const other = await addEndpoint(orgId);
      assert.throws(() => new Webhook(other.secret).verify(rx.got[2]?.body ?? "", rx.got[2]?.headers as Record<string, string>), "another endpoint's secret does not verify");
    });

    test("after the last retry a delivery is failed; replay sends the same event again (same webhook-id) as a new delivery", async () => {
      const { orgId } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      const ep = await addEndpoint(orgId, { event_types: ["purchase.succeeded"] });
      rx.script = [503, 503, 503, 503];
      await buy(orgId, 10);
      for (const wait of [0, 5_000, 30_000, 120_000]) {
        h.clock.advance(wait);
        assert.equal((await dispatch()).attempted, 1);
      }
      h.clock.advance(3_600_000);
      assert.equal((await dispatch()).attempted, 0, "the schedule (5,30,120 s) ran out after 4 attempts");
      const [failed] = await deliveries(orgId, ep.id);
      assert.deepEqual([failed?.["status"], failed?.["attempts"], failed?.["last_status"], failed?.["next_attempt_at"]], ["failed", 4, 503, null]);

      const replay = await h.request("POST", `${base(orgId)}/webhook_endpoints/${ep.id}/deliveries/${String(failed?.["id"])}/replay`, {});
      assert.equal(replay.status, 201, JSON.stringify(replay.body));
      assert.deepEqual([replay.body["status"], replay.body["replay_of"], replay.body["event_id"]], ["pending", failed?.["id"], failed?.["event_id"]]);
      assert.deepEqual([(await dispatch()).delivered], [1]);
      const log = await deliveries(orgId, ep.id);
      assert.deepEqual(log.map((d) => [d["status"], d["replay_of"]]), [["delivered", failed?.["id"]], ["failed", null]], "newest first; the original stays failed");
      const ids = rx.got.map((r) => r.headers["webhook-id"]);
      assert.equal(new Set(ids).size, 1, "every attempt and the replay carry the same webhook-id");
      assert.equal(rx.got.length, 5);
    });

    test("no event is lost when the server restarts between commit and delivery", async () => {
      const url = await backend.createDatabase();
      const first = await startHarness(url, MANUAL);
      first.clock.set(Math.max(Date.now(), T0));
      const { orgId } = await createOrg(first, { plan: "enterprise_usage", usageCredits: true });
      const member = await addMember(first, orgId, { role: "member" });
      const created = await first.request("POST", `${base(orgId)}/webhook_endpoints`, { body: { url: rx.url, event_types: ["credit_request.created"] } });
      assert.equal(created.status, 201);
      const req = await first.request("POST", `${base(orgId)}/credit_requests`, { key: member.key, body: { amount: String(30 * USD), note: "restart" } });
      assert.equal(req.status, 201, JSON.stringify(req.body));
      // The event is committed; the process goes away before any dispatcher ran.
      await first.close();
      assert.equal(rx.got.length, 0);

      const second = await startHarness(url, MANUAL);
      second.clock.set(Math.max(Date.now(), T0) + 1_000);
      try {
        const run = await second.app.services.webhooks.dispatch();
        assert.deepEqual([run.dispatched, run.delivered], [1, 1]);
        await second.app.services.webhooks.dispatch();
        second.clock.advance(3_600_000);
        await second.app.runJobs(); // the scheduled job runs the dispatcher too: nothing is sent twice
        const payloads = rx.verified(String(created.body["secret"]));
        assert.equal(payloads.length, 1, "delivered exactly once");
        assert.equal(payloads[0]?.["type"], "credit_request.created");
        assert.equal((payloads[0]?.["data"] as Json)["credit_request_id"], req.body["id"]);
      } finally {
        await second.close();
      }
    });

    test("right after a commit the in-process kick delivers without waiting for the scheduled job", async () => {
      const kicked = await startHarness(await backend.createDatabase(), { ...MANUAL, USAGE_CREDITS_WEBHOOK_DISPATCH_ON_COMMIT: "true" });
      kicked.clock.set(Math.max(Date.now(), T0));
      try {
        const { orgId } = await createOrg(kicked, { plan: "enterprise_usage", usageCredits: true });
        const ep = await kicked.request("POST", `${base(orgId)}/webhook_endpoints`, { body: { url: rx.url } });
        const pm = await kicked.request("POST", `${base(orgId)}/payment_methods`, { body: { card_number: "4242424242424242" } });
        const buy = await kicked.request("POST", `${base(orgId)}/purchases`, { body: { amount: String(10 * USD), payment_method_id: pm.body["id"] } });
        assert.equal(buy.status, 201);
        for (let i = 0; i < 100 && rx.got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
        await kicked.app.services.webhooks.idle();
        assert.deepEqual(rx.verified(String(ep.body["secret"])).map((p) => p["type"]), ["purchase.succeeded"]);
      } finally {
        await kicked.close();
      }
    });

    test("spend_limit.threshold once per mark and period, spend_limit.reached, credits.depleted once per dip", async () => {
      const { orgId, ownerKey, ownerId } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await addEndpoint(orgId, { event_types: ["spend_limit.threshold", "spend_limit.reached", "credits.depleted"] });
      await grant(h, orgId, { amount: String(10 * USD) });
      const limit = await h.request("POST", `${base(orgId)}/spend_limits`, { body: { scope: "organization", period: "monthly", amount: String(8 * USD) } });
      assert.equal(limit.status, 200, JSON.stringify(limit.body));
      const spend = async (dollars: number) => {
        const r = await h.request("POST", `${base(orgId)}/usage_events`, { key: ownerKey, body: { event_id: `ev-${Math.random().toString(36).slice(2)}`, model: "claude-sonnet-4-5", amount: String(dollars * USD) } });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        await h.app.services.webhooks.idle();
      };
      const marks = async () => (await events(orgId, "spend_limit.threshold")).map((e) => Number((e["data"] as Json)["threshold_percent"])).sort((x, y) => x - y);
      await spend(3); // 37.5 %
      assert.deepEqual(await marks(), []);
      await spend(1); // 50 %
      await spend(0.5); // 56 %: nothing new
      assert.deepEqual(await marks(), [50]);
      await spend(2.5); // 87.5 %: crosses 75
      assert.deepEqual(await marks(), [50, 75]);
      await spend(1); // 100 %: 90 and 100 at once, and reached
      assert.deepEqual(await marks(), [50, 75, 90, 100]);
      const reached = await events(orgId, "spend_limit.reached");
      assert.equal(reached.length, 1);
      assert.equal((reached[0]?.["data"] as Json)["limit_id"], limit.body["id"]);
      assert.equal((await h.request("POST", `${base(orgId)}/usage_events`, { key: ownerKey, body: { event_id: "ev-over", model: "claude-sonnet-4-5", amount: "10000" } })).status, 429);
      assert.deepEqual(await marks(), [50, 75, 90, 100], "once per threshold per period");

      // Depleted: the balance reaches zero after a settle, once per dip; a new grant ends the dip.
      await h.request("DELETE", `${base(orgId)}/spend_limits/${String(limit.body["id"])}`);
      await spend(2);
      // Still at zero: a settle paid by included credits (a $0 event would be refused at a zero
      // balance: docs/money-safety.md) leaves the balance at zero, and sends no second event.
      await grant(h, orgId, { kind: "monthly", amount: String(0.5 * USD), member_id: ownerId });
      await spend(0.5);
      assert.equal((await events(orgId, "credits.depleted")).length, 1);
      await grant(h, orgId, { amount: String(1 * USD) });
      await spend(0.5);
      assert.equal((await events(orgId, "credits.depleted")).length, 1, "the balance is above zero again");
      await spend(0.5);
      assert.equal((await events(orgId, "credits.depleted")).length, 2, "a new dip, a new event");

      // All of them reach the endpoint through the dispatcher.
      await dispatch();
      assert.deepEqual(rx.got.map((r) => (JSON.parse(r.body) as Json)["type"]).sort(), [
        "credits.depleted", "credits.depleted", "spend_limit.reached", "spend_limit.threshold", "spend_limit.threshold", "spend_limit.threshold", "spend_limit.threshold",
      ]);
    });

    test("window.exhausted once per member, window and period", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "pro", usageCredits: false });
      await addEndpoint(orgId, { event_types: ["window.exhausted"] });
      const authorize = (output: number) =>
        h.request("POST", `${base(orgId)}/authorize`, { key: ownerKey, body: { model: "claude-sonnet-4-5", estimated_usage: { output_tokens: output } } });
      const exhaust = async () => {
        const a = await authorize(400_000); // $6 against the $5 session window: admitted while it has room
        assert.equal(a.status, 201, JSON.stringify(a.body));
        await h.request("POST", `${base(orgId)}/holds/${String((a.body["hold"] as Json)["id"])}/settle`, { key: ownerKey, body: { usage: { output_tokens: 400_000 } } });
      };
      await exhaust();
      for (let i = 0; i < 3; i++) {
        assert.equal((await authorize(1000)).status, 429);
        await h.app.services.webhooks.idle();
      }
      const first = await events(orgId, "window.exhausted");
      assert.equal(first.length, 1, "three refusals, one event");
      assert.equal((first[0]?.["data"] as Json)["window"], "five_hour");
      h.clock.advance(5 * 3_600_000); // a new session window
      await exhaust();
      assert.equal((await authorize(1000)).status, 429);
      await h.app.services.webhooks.idle();
      assert.equal((await events(orgId, "window.exhausted")).length, 2, "a new window period, a new event");
    });

    test("endpoints are per organization: another organization's ids answer 404; bad input is refused", async () => {
      const a = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      const b = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      const epA = await addEndpoint(a.orgId, {}, a.ownerKey);
      await buy(a.orgId, 10);
      await dispatch();
      const [dA] = await deliveries(a.orgId, epA.id);
      assert.ok(dA);
      // B's owner, on B's path, naming A's endpoint and delivery: not found. On A's path: not found either.
      const asB = (method: string, path: string) => h.request(method, path, { key: b.ownerKey });
      for (const [method, path] of [
        ["GET", `${base(b.orgId)}/webhook_endpoints/${epA.id}`],
        ["GET", `${base(b.orgId)}/webhook_endpoints/${epA.id}/deliveries`],
        ["DELETE", `${base(b.orgId)}/webhook_endpoints/${epA.id}`],
        ["POST", `${base(b.orgId)}/webhook_endpoints/${epA.id}/deliveries/${String(dA["id"])}/replay`],
        ["GET", `${base(a.orgId)}/webhook_endpoints`],
        ["GET", `${base(a.orgId)}/webhook_endpoints/${epA.id}/deliveries`],
      ] as const) {
        const r = await asB(method, path);
        assert.equal(r.status, 404, `${method} ${path}: ${JSON.stringify(r.body)}`);
      }
      assert.equal(((await h.request("GET", `${base(b.orgId)}/webhook_endpoints`, { key: b.ownerKey })).body["data"] as Json[]).length, 0);

      const bad = (body: Json) => h.request("POST", `${base(a.orgId)}/webhook_endpoints`, { key: a.ownerKey, body });
      for (const [body, reason] of [
        [{ url: "not a url" }, "not_a_url"],
        [{ url: "ftp://example.com/hook" }, "scheme_not_allowed"],
        [{ url: "http://example.com/hook" }, "https_required"],
        [{ url: "https://user:pw@example.com/hook" }, "credentials_in_url"],
      ] as const) {
        const r = await bad(body);
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.equal(((r.body["error"] as Json)["details"] as Json)["reason"], reason);
      }
      const unknownType = await bad({ url: rx.url, event_types: ["credits.stolen"] });
      assert.deepEqual([unknownType.status, code(unknownType), ((unknownType.body["error"] as Json)["details"] as Json)["field"]], [400, "invalid_request", "event_types"]);
      assert.equal((await bad({ url: 42 })).status, 400);
      assert.equal((await bad({ url: rx.url, extra: true })).status, 400);
      const member = await addMember(h, a.orgId, { role: "member" });
      assert.equal((await h.request("POST", `${base(a.orgId)}/webhook_endpoints`, { key: member.key, body: { url: rx.url } })).status, 403);
      assert.equal((await h.request("GET", `${base(a.orgId)}/webhook_endpoints`, { key: member.key })).status, 403);

      // Deleting stops deliveries: the pending one fails with the reason, nothing is sent.
      rx.script = [500];
      await buy(a.orgId, 10);
      await dispatch();
      const del = await h.request("DELETE", `${base(a.orgId)}/webhook_endpoints/${epA.id}`, { key: a.ownerKey });
      assert.equal(del.status, 200);
      assert.equal((await h.request("GET", `${base(a.orgId)}/webhook_endpoints/${epA.id}`, { key: a.ownerKey })).status, 404);
      const sent = rx.got.length;
      h.clock.advance(5_000);
      await dispatch();
      assert.equal(rx.got.length, sent);
    });
  });
}

describe("webhooks: private networks are refused unless allowed", () => {
  test("a loopback or private URL is refused by default", async () => {
    const [backend] = backends();
    assert.ok(backend);
    const h = await startHarness(await backend.createDatabase(), { USAGE_CREDITS_WEBHOOK_DISPATCH_ON_COMMIT: "false" });
    try {
      const { orgId } = await createOrg(h);
      for (const url of ["http://127.0.0.1:9/x", "https://10.0.0.8/x", "https://169.254.169.254/latest/meta-data", "https://[::1]/x", "https://[::ffff:192.168.1.1]/x", "https://localhost/x"]) {
        const r = await h.request("POST", `/v1/organizations/${orgId}/webhook_endpoints`, { body: { url } });
        assert.equal(r.status, 400, url);
        assert.equal((((r.body["error"] as Json)["details"] as Json)["reason"]), "private_address", url);
      }
      const ok = await h.request("POST", `/v1/organizations/${orgId}/webhook_endpoints`, { body: { url: "https://hooks.example.com/usage" } });
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
    } finally {
      await h.close();
      await backend.cleanup();
    }
  });
});
