// Money safety, tried as a hostile member of an organization would (issue 11): only their own
// API keys, against the real server on SQLite and PostgreSQL. One test per attack; each was seen
// failing before the fix (docs/money-safety.md lists them with their results). After every attack
// the money is checked against the ledger: what was relayed is charged, and `ledger verify` is
// clean. Expected charges are computed here from the DOMAIN §6 prices, never with our rating code.

import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { MAX_MICROS } from "../src/core/money.js";
import { backends } from "./support/backends.js";
import { addMember, createOrg, grant, startHarness, USD, verifyLedger, type Harness } from "./support/harness.js";

type Json = Record<string, unknown>;

const SONNET = "claude-sonnet-4-6";
/** Sonnet 4.6 (DOMAIN §6): $3 input, $15 output per MTok, i.e. 3 and 15 µ$ per token. */
const sonnetCost = (input: number, output: number) => input * 3 + output * 15;

const code = (r: { body: Json }) => (r.body["error"] as Json | undefined)?.["code"];
const holdOf = (r: { body: Json }) => r.body["hold"] as Json;

for (const backend of backends()) {
  describe(`money safety on ${backend.name}: a hostile member with their own keys`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(await backend.createDatabase());
    });
    after(async () => {
      await h.close();
      await backend.cleanup();
    });

    const O = (orgId: string) => `/v1/organizations/${orgId}`;
    const authorize = (orgId: string, key: string, body: Json, headers: Record<string, string> = {}) => h.request("POST", `${O(orgId)}/authorize`, { key, body, headers });

    async function ledgerClean(): Promise<void> {
      assert.deepEqual((await verifyLedger(h)).violations, [], "ledger verify is clean");
    }

    /** Every transaction of the org (platform view), oldest last. */
    async function transactions(orgId: string): Promise<Json[]> {
      const r = await h.request("GET", `${O(orgId)}/transactions?limit=500`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body["data"] as Json[];
    }

    /** What the ledger says a hold's usage earned (settle and relayed_charge transactions). */
    async function billed(orgId: string, holdId: string): Promise<number> {
      let total = 0;
      for (const t of await transactions(orgId)) {
        if (t["ref"] !== holdId || (t["kind"] !== "settle" && t["kind"] !== "relayed_charge")) continue;
        for (const e of t["entries"] as Json[]) if (e["account"] === "revenue:usage") total += Number(e["amount"]);
      }
      return total;
    }

    async function holdStatus(orgId: string, holdId: string): Promise<string> {
      return String((await h.request("GET", `${O(orgId)}/holds/${holdId}`)).body["status"]);
    }

    /** Waits (bounded) until the hold is no longer pending: the gateway resolves it after the last byte. */
    async function resolved(orgId: string, holdId: string): Promise<string> {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const s = await holdStatus(orgId, holdId);
        if (s !== "pending" || Date.now() > deadline) return s;
        await new Promise((r) => setTimeout(r, 20));
      }
    }

    /**
     * A streaming POST /v1/messages, slowed down by the simulated upstream so an attack can run
     * while it is in flight. Resolves once the first content arrived; `finish` reads the rest.
     */
    async function openStream(key: string, outputTokens = 40) {
      const res = await fetch(`${h.url}/v1/messages`, {
        method: "POST",
        headers: { "x-api-key": key, "content-type": "application/json", "anthropic-version": "2023-06-01", "x-simulate": `chunk_delay_ms:60,output_tokens:${outputTokens}` },
        body: JSON.stringify({ model: SONNET, max_tokens: 256, stream: true, messages: [{ role: "user", content: "Stream me something while I try to make it free." }] }),
      });
      assert.equal(res.status, 200);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      let text = "";
      const readUntil = async (done: (t: string) => boolean) => {
        try {
          while (!done(text)) {
            const chunk = await reader.read();
            if (chunk.done) break;
            text += decoder.decode(chunk.value, { stream: true });
          }
        } catch {
          // The gateway may cut the stream (its hold expired): what was read so far is the answer.
        }
        return text;
      };
      await readUntil((t) => t.includes("content_block_delta"));
      return { finish: () => readUntil(() => false) };
    }

    /** Input and output tokens of a streamed answer, from its message_start and last message_delta. */
    function streamUsage(sse: string): { input: number; output: number } {
      let input = 0;
      let output = 0;
      for (const line of sse.split("\n")) {
        if (!line.startsWith("data: ")) continue;
        const data = JSON.parse(line.slice(6)) as Json;
        const usage = (data["type"] === "message_start" ? (data["message"] as Json)["usage"] : data["usage"]) as Json | undefined;
        if (usage?.["input_tokens"] !== undefined) input = Number(usage["input_tokens"]);
        if (usage?.["output_tokens"] !== undefined) output = Number(usage["output_tokens"]);
      }
      return { input, output };
    }

    /** An org paid from usage credits only (no plan windows), $10 granted, two plain members. */
    async function creditsOrg() {
      const org = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, org.orgId, { amount: String(10 * USD) });
      const a = await addMember(h, org.orgId, { role: "member" });
      const b = await addMember(h, org.orgId, { role: "member" });
      return { ...org, a, b };
    }

    // ------------------------------------------------------------------ attack 1: free gateway usage

    test("attack 1a: releasing (or settling at $0) the hold of my own in-flight gateway stream is refused; the stream is billed in full", async () => {
      const { orgId, a } = await creditsOrg();
      const stream = await openStream(a.key);
      // The attacker finds the stream's hold among their own transactions…
      const listed = await h.request("GET", `${O(orgId)}/transactions?kind=hold`, { key: a.key });
      const holdId = String(((listed.body["data"] as Json[])[0] ?? {})["ref"]);
      assert.match(holdId, /^hold_/);
      // …and tries to resolve it first.
      const release = await h.request("POST", `${O(orgId)}/holds/${holdId}/release`, { key: a.key });
      assert.equal(release.status, 409, JSON.stringify(release.body));
      assert.equal(code(release), "hold_owned_by_gateway");
      const settle = await h.request("POST", `${O(orgId)}/holds/${holdId}/settle`, { key: a.key, body: { amount: "0" } });
      assert.equal(settle.status, 409);
      assert.equal(code(settle), "hold_owned_by_gateway");
      const usage = streamUsage(await stream.finish());
      assert.equal(await resolved(orgId, holdId), "settled");
      assert.ok(usage.output > 0);
      assert.equal(await billed(orgId, holdId), sonnetCost(usage.input, usage.output), "every relayed token is charged");
      await ledgerClean();
    });

    test("attack 1b: a colleague's in-flight stream: its hold id is not listed to me, and resolving it anyway is refused; it is billed in full", async () => {
      const { orgId, a, b } = await creditsOrg();
      const stream = await openStream(a.key);
      const all = await transactions(orgId);
      const holdId = String(all.find((t) => t["kind"] === "hold")?.["ref"]);
      const seen = await h.request("GET", `${O(orgId)}/transactions?kind=hold`, { key: b.key });
      assert.equal(seen.status, 200);
      assert.ok(!(seen.body["data"] as Json[]).some((t) => t["ref"] === holdId), "another member's hold id is not shown");
      for (const path of ["release", "settle"]) {
        const r = await h.request("POST", `${O(orgId)}/holds/${holdId}/${path}`, { key: b.key, ...(path === "settle" ? { body: { amount: "0" } } : {}) });
        assert.equal(r.status, 409, JSON.stringify(r.body));
        assert.equal(code(r), "hold_owned_by_gateway");
      }
      const usage = streamUsage(await stream.finish());
      assert.equal(await resolved(orgId, holdId), "settled");
      assert.equal(await billed(orgId, holdId), sonnetCost(usage.input, usage.output));
      await ledgerClean();
    });

    test("attack 1c: a stream outliving its hold (expired and swept meanwhile) is still billed for what was relayed, as a relayed_charge", async () => {
      const { orgId, a } = await creditsOrg();
      const stream = await openStream(a.key, 200);
      const holdId = String((await transactions(orgId)).find((t) => t["kind"] === "hold")?.["ref"]);
      const expiresAt = Date.parse(String((await h.request("GET", `${O(orgId)}/holds/${holdId}`)).body["expires_at"]));
      h.clock.set(expiresAt);
      await h.app.services.engine.sweep(h.app.services.store);
      assert.equal(await holdStatus(orgId, holdId), "expired", "the sweep released the gateway's hold under the live stream");
      const sse = await stream.finish(); // the gateway cuts a stream whose hold is gone
      const usage = streamUsage(sse);
      assert.ok(usage.input > 0);
      const deadline = Date.now() + 15_000;
      let kinds: unknown[] = [];
      while (Date.now() < deadline) {
        kinds = (await transactions(orgId)).filter((t) => t["ref"] === holdId).map((t) => t["kind"]);
        if (kinds.includes("relayed_charge")) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(kinds.includes("relayed_charge"), `the relayed usage was billed: ${JSON.stringify(kinds)}`);
      assert.ok((await billed(orgId, holdId)) >= sonnetCost(usage.input, 0), "at least what the client saw reported");
      await ledgerClean();
    });

    test("attack 1d: on the plan, a stream outliving its hold still counts against the plan windows (no money moves, no debt)", async () => {
      const org = await createOrg(h, { plan: "pro", usageCredits: false });
      const a = await addMember(h, org.orgId, { role: "member" });
      const used = async () => Number(((await h.request("GET", `${O(org.orgId)}/usage_summary`, { key: a.key })).body["five_hour"] as Json)["used"]);
      const before = await used();
      const stream = await openStream(a.key, 200);
      h.clock.advance(3 * 3_600_000); // past the gateway hold's TTL, inside the 5-hour window
      await h.app.services.engine.sweep(h.app.services.store);
      const usage = streamUsage(await stream.finish());
      assert.ok(usage.input > 0);
      const deadline = Date.now() + 15_000;
      let records: Json[] = [];
      while (Date.now() < deadline) {
        records = (await h.request("GET", `${O(org.orgId)}/usage?member_id=${a.memberId}`)).body["data"] as Json[];
        if (records.length > 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(records.length, 1, "the relayed usage was recorded");
      assert.equal(records[0]?.["payer"], "plan");
      assert.equal((await used()) - before, Number(records[0]?.["cost"]), "and counted against the session window");
      assert.ok(Number(records[0]?.["cost"]) >= sonnetCost(usage.input, 0));
      assert.equal((await h.request("GET", `${O(org.orgId)}/usage_credits`)).body["balance"], "0", "no debt");
      await ledgerClean();
    });

    // ------------------------------------------------------------------ attack 2: other members' holds

    test("attack 2: settling or releasing another member's hold is refused (403); their hold ids are hidden from me; owner and billing keys may", async () => {
      const { orgId, ownerKey, a, b } = await creditsOrg();
      const billing = await addMember(h, orgId, { role: "billing" });
      const held = await authorize(orgId, a.key, { model: SONNET, amount: String(USD) });
      assert.equal(held.status, 201, JSON.stringify(held.body));
      const holdId = String(holdOf(held)["id"]);
      const steal = await h.request("POST", `${O(orgId)}/holds/${holdId}/settle`, { key: b.key, body: { amount: String(9 * USD) } });
      assert.equal(steal.status, 403, JSON.stringify(steal.body));
      assert.equal(code(steal), "hold_owned_by_other_member");
      const drop = await h.request("POST", `${O(orgId)}/holds/${holdId}/release`, { key: b.key });
      assert.equal(drop.status, 403);
      assert.equal(code(drop), "hold_owned_by_other_member");
      assert.equal((await h.request("GET", `${O(orgId)}/holds/${holdId}`, { key: b.key })).status, 404);
      const listed = (await h.request("GET", `${O(orgId)}/transactions`, { key: b.key })).body["data"] as Json[];
      assert.ok(!listed.some((t) => t["ref"] === holdId));
      assert.equal(await holdStatus(orgId, holdId), "pending", "A's hold is untouched");
      // The hold's member settles it; owner/admin/billing may resolve anyone's.
      assert.equal((await h.request("POST", `${O(orgId)}/holds/${holdId}/settle`, { key: a.key, body: { amount: "500000" } })).status, 200);
      const other = String(holdOf(await authorize(orgId, a.key, { model: SONNET, amount: "1000" }))["id"]);
      assert.equal((await h.request("POST", `${O(orgId)}/holds/${other}/release`, { key: billing.key })).status, 200);
      const third = String(holdOf(await authorize(orgId, a.key, { model: SONNET, amount: "1000" }))["id"]);
      assert.equal((await h.request("POST", `${O(orgId)}/holds/${third}/settle`, { key: ownerKey, body: { amount: "1000" } })).status, 200);
      await ledgerClean();
    });

    // ------------------------------------------------------------------ attack 3: $0 estimates

    test("attack 3a: a $0 hold with usage credits disabled is refused like any other", async () => {
      const { orgId, a } = await creditsOrg();
      await h.request("PUT", `${O(orgId)}/usage_credits`, { body: { is_enabled: false } });
      for (const body of [{ model: SONNET, amount: "0" }, { model: SONNET, estimated_usage: { input_tokens: 0, output_tokens: 0 } }]) {
        const r = await authorize(orgId, a.key, body);
        assert.equal(r.status, 403, JSON.stringify(r.body));
        assert.equal(code(r), "usage_credits_disabled");
      }
      await ledgerClean();
    });

    test("attack 3b: a $0 hold while the organization is in debt is refused", async () => {
      const org = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, org.orgId, { amount: "100000" });
      const a = await addMember(h, org.orgId, { role: "member" });
      const held = await authorize(org.orgId, a.key, { model: SONNET, amount: "60000" });
      const s = await h.request("POST", `${O(org.orgId)}/holds/${String(holdOf(held)["id"])}/settle`, { key: a.key, body: { amount: "250000" } });
      assert.equal(s.body["debt"], "150000", "delivered usage beyond the balance is owed");
      const r = await authorize(org.orgId, a.key, { model: SONNET, amount: "0" });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(code(r), "insufficient_credits");
      await ledgerClean();
    });

    test("attack 3c: a $0 hold at a spent limit is refused, and no settle takes spend past a limit", async () => {
      const { orgId, a } = await creditsOrg();
      const limit = await h.request("POST", `${O(orgId)}/spend_limits`, { body: { scope: "user", scope_id: a.memberId, period: "monthly", amount: String(2 * USD) } });
      assert.equal(limit.status, 200, JSON.stringify(limit.body));
      // A $1 hold settled at $50: the settle may add only the limit's headroom.
      const held = await authorize(orgId, a.key, { model: SONNET, amount: String(USD) });
      assert.equal(held.status, 201, JSON.stringify(held.body));
      const s = await h.request("POST", `${O(orgId)}/holds/${String(holdOf(held)["id"])}/settle`, { key: a.key, body: { amount: String(50 * USD) } });
      assert.equal(s.status, 200, JSON.stringify(s.body));
      assert.equal(s.body["charged"], String(2 * USD));
      assert.equal(s.body["unbilled"], String(48 * USD));
      const zero = await authorize(orgId, a.key, { model: SONNET, amount: "0" });
      assert.equal(zero.status, 429, JSON.stringify(zero.body));
      assert.equal(code(zero), "spend_limit_reached");
      const summary = (await h.request("GET", `${O(orgId)}/usage_summary`, { key: a.key })).body["usage_credits"] as Json;
      const spent = ((summary["limits"] as Json[])[0] ?? {})["spent"];
      assert.equal(spent, String(2 * USD), "the member's $2 limit was never passed");
      await ledgerClean();
    });

    test("attack 3d: with usage credits switched off under a $0 hold, a settle adds nothing beyond the hold: no debt", async () => {
      const { orgId, a } = await creditsOrg();
      const held = await authorize(orgId, a.key, { model: SONNET, amount: "0" });
      assert.equal(held.status, 201, JSON.stringify(held.body));
      await h.request("PUT", `${O(orgId)}/usage_credits`, { body: { is_enabled: false } });
      const s = await h.request("POST", `${O(orgId)}/holds/${String(holdOf(held)["id"])}/settle`, { key: a.key, body: { amount: String(40 * USD) } });
      assert.equal(s.status, 200, JSON.stringify(s.body));
      assert.equal(s.body["debt"], "0");
      assert.equal(s.body["charged"], "0");
      const org = (await h.request("GET", `${O(orgId)}/usage_credits`)).body;
      assert.equal(org["balance"], String(10 * USD), "no money moved and no debt was created");
      await ledgerClean();
    });

    // ------------------------------------------------------------------ attack 4: surface widening

    test("attack 4: a key made for the sdk surface may not widen to interactive (plan windows) on authorize or usage events", async () => {
      const org = await createOrg(h, { plan: "pro", usageCredits: true });
      await grant(h, org.orgId, { amount: String(10 * USD) });
      const sdkKey = await addMember(h, org.orgId, { role: "member" }, "sdk");
      const before = (await h.request("GET", `${O(org.orgId)}/usage_credits`)).body["balance"];
      const r = await authorize(org.orgId, sdkKey.key, { model: SONNET, amount: "1000", surface: "interactive" });
      assert.equal(r.status, 403, JSON.stringify(r.body));
      assert.equal(code(r), "forbidden");
      const ev = await h.request("POST", `${O(org.orgId)}/usage_events`, { key: sdkKey.key, body: { event_id: "ev-widen", model: SONNET, amount: "1000", surface: "interactive" } });
      assert.equal(ev.status, 403, JSON.stringify(ev.body));
      assert.equal(code(ev), "forbidden");
      // Narrowing stays allowed: an interactive key may declare sdk.
      const narrow = await authorize(org.orgId, org.ownerKey, { model: SONNET, amount: "1000", surface: "sdk" });
      assert.equal(narrow.status, 201, JSON.stringify(narrow.body));
      assert.equal(holdOf(narrow)["surface"], "sdk");
      assert.equal((await h.request("GET", `${O(org.orgId)}/usage_credits`)).body["balance"], String(Number(before) - 1000));
      await ledgerClean();
    });

    // ------------------------------------------------------------------ attack 5: idempotency across members

    test("attack 5: reusing a colleague's Idempotency-Key and body (or usage event id) never returns their hold or event; my request runs as mine", async () => {
      const { orgId, a, b } = await creditsOrg();
      const body = { model: SONNET, amount: "1000" };
      const first = await authorize(orgId, a.key, body, { "idempotency-key": "shared-key-1" });
      assert.equal(first.status, 201);
      const again = await authorize(orgId, a.key, body, { "idempotency-key": "shared-key-1" });
      assert.equal(holdOf(again)["id"], holdOf(first)["id"], "the same caller replays");
      const mine = await authorize(orgId, b.key, body, { "idempotency-key": "shared-key-1" });
      assert.equal(mine.status, 201, JSON.stringify(mine.body));
      assert.notEqual(holdOf(mine)["id"], holdOf(first)["id"]);
      assert.equal(holdOf(mine)["member_id"], b.memberId);
      assert.equal(mine.headers.get("idempotent-replayed"), null);
      const event = { event_id: "ev-shared-1", model: SONNET, amount: "2000" };
      const ea = await h.request("POST", `${O(orgId)}/usage_events`, { key: a.key, body: event });
      const eb = await h.request("POST", `${O(orgId)}/usage_events`, { key: b.key, body: event });
      assert.equal(ea.status, 201);
      assert.equal(eb.status, 201, JSON.stringify(eb.body));
      assert.equal(holdOf(eb)["member_id"], b.memberId, "B's event is B's, charged to B");
      assert.notEqual(holdOf(eb)["id"], holdOf(ea)["id"]);
      await ledgerClean();
    });

    // ------------------------------------------------------------------ attack 6: abandoned holds

    test("attack 6: 20,000 abandoned holds never block: at their TTL the next admission unwinds them, and one sweep drains them all", async () => {
      const engine = h.app.services.engine;
      const abandon = async (orgId: string, memberId: string, count: number) => {
        for (let i = 0; i < count; i += 2_000) {
          const outs = await Promise.all(
            Array.from({ length: Math.min(2_000, count - i) }, () =>
              engine.authorize({ orgId, memberId, surface: "interactive", model: SONNET, speed: "standard", estimate: { amount: 500 }, ttlMs: 60_000 }),
            ),
          );
          for (const o of outs) assert.ok(o.kind === "fresh" && o.result.ok);
        }
      };
      // Two orgs, each with 20,000 holds of $0.0005 blocking $10 of a $20 balance.
      const orgs = [];
      for (let i = 0; i < 2; i++) {
        const org = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
        await grant(h, org.orgId, { amount: String(20 * USD) });
        const m = await addMember(h, org.orgId, { role: "member" });
        await abandon(org.orgId, m.memberId, 20_000);
        assert.equal(code(await authorize(org.orgId, m.key, { model: SONNET, amount: String(15 * USD) })), "insufficient_credits", "half the balance is held");
        orgs.push({ orgId: org.orgId, key: m.key });
      }
      const [x, y] = orgs as [(typeof orgs)[number], (typeof orgs)[number]];
      h.clock.advance(60_000); // exactly the TTL: no sweep has run yet
      // Org X: its next admission decision unwinds them first, so the balance is usable at once.
      const xr = await authorize(x.orgId, x.key, { model: SONNET, amount: String(15 * USD) });
      assert.equal(xr.status, 201, JSON.stringify(xr.body));
      assert.equal(xr.body["balance"], String(5 * USD));
      // Org Y: one sweep drains all 20,000 (in chunks), not 500 a tick.
      const swept = await engine.sweep(h.app.services.store);
      assert.ok(swept.holds >= 20_000, `one sweep drained every due hold: ${JSON.stringify(swept)}`);
      const pending = await h.app.services.store.read((tx) => tx.pendingHoldCount());
      assert.ok(pending < 100, `the sweep left ${pending} holds pending (only a few live ones of other tests may remain)`);
      const yr = await authorize(y.orgId, y.key, { model: SONNET, amount: String(15 * USD) });
      assert.equal(yr.status, 201, JSON.stringify(yr.body));
      assert.equal(yr.body["balance"], String(5 * USD));
      await ledgerClean();
    });

    // ------------------------------------------------------------------ attack 7: overflow

    test("attack 7a: an extreme price book is refused (400 amount_out_of_range); extreme token counts are 400, never 500", async () => {
      const books = (await h.request("GET", "/v1/price_books")).body["data"] as Json[];
      const base = books[books.length - 1] as Json;
      const models = (base["models"] as Json[]).map((m) => ({ ...m, input: "999999999", output: "999999999" }));
      const huge = await h.request("POST", "/v1/price_books", { body: { ...base, id: "pb_extreme", version: 1, effective_from: "2030-01-01T00:00:00Z", models } });
      assert.equal(huge.status, 400, JSON.stringify(huge.body).slice(0, 300));
      assert.equal(code(huge), "amount_out_of_range");
      const { orgId, a } = await creditsOrg();
      const tooMany = await authorize(orgId, a.key, { model: SONNET, estimated_usage: { input_tokens: 2 ** 53, output_tokens: 1 } });
      assert.equal(tooMany.status, 400);
      assert.equal(code(tooMany), "invalid_request");
      const largest = await authorize(orgId, a.key, { model: SONNET, estimated_usage: { input_tokens: 1e9, output_tokens: 1e9, cache_read_input_tokens: 1e9 } });
      assert.equal(largest.status, 400, "the largest accepted usage is rated, and refused for want of credits");
      assert.equal(code(largest), "insufficient_credits");
      await ledgerClean();
    });

    test("attack 7b: a price book stored before books were bounded cannot make authorize or settle answer 500; the hold stays resolvable", async () => {
      const { orgId, a } = await creditsOrg();
      const held = await authorize(orgId, a.key, { model: SONNET, amount: "1000" });
      const holdId = String(holdOf(held)["id"]);
      const books = (await h.request("GET", "/v1/price_books")).body["data"] as Json[];
      const base = books[books.length - 1] as Json;
      const now = h.clock.now();
      const spec = { ...base, id: "pb_legacy_extreme", version: 1, effective_from: new Date(now - 1).toISOString(), models: (base["models"] as Json[]).map((m) => ({ ...m, output: "999999999" })) };
      await h.app.services.store.transaction((tx) => tx.insertPriceBook(spec as never, now - 1, now));
      await h.app.services.catalog.refresh();
      try {
        const r = await authorize(orgId, a.key, { model: SONNET, estimated_usage: { input_tokens: 1, output_tokens: 1e9 } });
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.equal(code(r), "amount_out_of_range");
        const late = await authorize(orgId, a.key, { model: SONNET, amount: "1000" });
        assert.equal(late.status, 201);
        const s = await h.request("POST", `${O(orgId)}/holds/${String(holdOf(late)["id"])}/settle`, { key: a.key, body: { usage: { output_tokens: 1e9 } } });
        assert.equal(s.status, 400, JSON.stringify(s.body));
        assert.equal(code(s), "amount_out_of_range");
        assert.equal((await h.request("POST", `${O(orgId)}/holds/${String(holdOf(late)["id"])}/release`, { key: a.key })).status, 200);
      } finally {
        // Later books would price everything else in this harness: publish a sane one after it.
        const fixed = { ...base, id: "pb_after_extreme", version: 1, effective_from: new Date(h.clock.now() + 1_000).toISOString() };
        assert.equal((await h.request("POST", "/v1/price_books", { body: fixed })).status, 201);
        h.clock.advance(1_000);
        await h.app.services.catalog.refresh();
      }
      assert.equal((await h.request("POST", `${O(orgId)}/holds/${holdId}/release`, { key: a.key })).status, 200);
      await ledgerClean();
    });
  });

  describe(`money safety on ${backend.name}: an upstream reporting 2^53 tokens`, () => {
    let h: Harness;
    let upstream: Server;
    before(async () => {
      // A stand-in for the model provider (outside the machine), speaking the Messages API: it
      // answers every request with absurd usage counts.
      upstream = createServer((req, res) => {
        req.resume();
        req.on("end", () => {
          res.writeHead(200, { "content-type": "application/json", "request-id": "req_fake" });
          res.end(
            JSON.stringify({
              id: "msg_fake",
              type: "message",
              role: "assistant",
              model: SONNET,
              content: [{ type: "text", text: "absurd" }],
              stop_reason: "end_turn",
              stop_sequence: null,
              usage: { input_tokens: 2 ** 53, output_tokens: 2 ** 53, cache_read_input_tokens: 2 ** 53 },
            }),
          );
        });
      });
      await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
      const port = (upstream.address() as AddressInfo).port;
      h = await startHarness(await backend.createDatabase(), { USAGE_CREDITS_UPSTREAM: `http://127.0.0.1:${port}` });
    });
    after(async () => {
      await h.close();
      await new Promise((r) => upstream.close(r));
      await backend.cleanup();
    });

    test("attack 7c: the answer is relayed and billed with the counts capped (never a 500, never a pending hold); the ledger verifies", async () => {
      const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, orgId, { amount: String(10 * USD) });
      const res = await fetch(`${h.url}/v1/messages`, {
        method: "POST",
        headers: { "x-api-key": ownerKey, "content-type": "application/json", "anthropic-version": "2023-06-01" },
        body: JSON.stringify({ model: SONNET, max_tokens: 16, messages: [{ role: "user", content: "Hi" }] }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      await res.text();
      const txs = (await h.request("GET", `/v1/organizations/${orgId}/transactions?limit=50`)).body["data"] as Json[];
      const holdId = String(txs.find((t) => t["kind"] === "hold")?.["ref"]);
      assert.equal(String((await h.request("GET", `/v1/organizations/${orgId}/holds/${holdId}`)).body["status"]), "settled");
      let revenue = 0;
      for (const t of txs) if (t["ref"] === holdId) for (const e of t["entries"] as Json[]) if (e["account"] === "revenue:usage") revenue += Number(e["amount"]);
      // 10^9 tokens per class at most, far above 200,000 input tokens, so at the book's long-context
      // rates for this model: 10^9 × ($6 input + $22.50 output + $0.60 cache read) per MTok.
      const expected = 1e9 * 6 + 1e9 * 22.5 + (1e9 * 6) / 10;
      assert.equal(revenue, expected);
      assert.ok(expected <= MAX_MICROS);
      assert.deepEqual((await verifyLedger(h)).violations, []);
    });
  });
}
