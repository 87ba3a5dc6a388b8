// The gateway end to end, with the official @anthropic-ai/sdk configured only with this server's
// base URL and a project API key. Every suite runs on SQLite and PostgreSQL, against the simulated
// upstream in process (the default) and served over HTTP (HttpUpstream, the SSE parser and real
// socket cuts). Expected charges are computed here from the usage the SDK returned and the DOMAIN
// §6 prices, never with our rating code.

import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import Anthropic, { APIError, APIUserAbortError, AuthenticationError, BadRequestError, InternalServerError, PermissionDeniedError, RateLimitError } from "@anthropic-ai/sdk";
import type { WireServer } from "../src/adapters/upstream/wire-server.js";
import { HOUR_MS } from "../src/core/plans.js";
import { startSimulatedUpstream } from "../src/adapters/upstream/standalone-upstream.js";
import { backends } from "./support/backends.js";
import { addMember, createOrg, grant, startHarness, USD, verifyLedger, type Harness } from "./support/harness.js";

// DOMAIN §6, in hundredths of a micro-dollar per token (USD per MTok × 100): exact integers.
const PRICES = {
  "claude-sonnet-4-6": { input: 300n, w5m: 375n, w1h: 600n, read: 30n, output: 1500n },
  "claude-haiku-4-5": { input: 100n, w5m: 125n, w1h: 200n, read: 10n, output: 500n },
} as const;
type Model = keyof typeof PRICES;
const SONNET: Model = "claude-sonnet-4-6";
const HAIKU: Model = "claude-haiku-4-5";

interface WireUsage {
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cache_creation_input_tokens?: number | null;
  readonly cache_read_input_tokens?: number | null;
  readonly cache_creation?: { readonly ephemeral_5m_input_tokens: number; readonly ephemeral_1h_input_tokens: number } | null;
}

/** Cost in µ$ of one request: every class at its price, × 2 for fast mode, rounded once, half to even. */
function cost(usage: WireUsage, options: { model?: Model; fast?: boolean } = {}): number {
  const p = PRICES[options.model ?? SONNET];
  const w1h = usage.cache_creation?.ephemeral_1h_input_tokens ?? 0;
  const w5m = usage.cache_creation?.ephemeral_5m_input_tokens ?? (usage.cache_creation_input_tokens ?? 0) - w1h;
  let hundredths =
    BigInt(usage.input_tokens) * p.input + BigInt(w5m) * p.w5m + BigInt(w1h) * p.w1h + BigInt(usage.cache_read_input_tokens ?? 0) * p.read + BigInt(usage.output_tokens) * p.output;
  if (options.fast) hundredths *= 2n;
  const q = hundredths / 100n;
  const r = hundredths % 100n;
  return Number(r > 50n || (r === 50n && q % 2n === 1n) ? q + 1n : q);
}

const MODES = [
  { name: "simulated upstream in process", http: false },
  { name: "simulated upstream over HTTP", http: true },
] as const;

for (const mode of MODES) {
  for (const backend of backends()) {
    describe(`gateway on ${backend.name}, ${mode.name}`, () => {
      let h: Harness;
      let sim: WireServer | undefined;
      before(async () => {
        if (mode.http) sim = await startSimulatedUpstream();
        h = await startHarness(await backend.createDatabase(), sim ? { USAGE_CREDITS_UPSTREAM: sim.url } : {});
      });
      after(async () => {
        await h.close();
        await sim?.close();
        await backend.cleanup();
      });

      const sdk = (key: string) => new Anthropic({ baseURL: h.url, apiKey: key, maxRetries: 0 });
      const ask = (content: string, extra: Record<string, unknown> = {}) => ({ model: SONNET, max_tokens: 512, messages: [{ role: "user" as const, content }], ...extra });

      async function counters(orgId: string, key: string) {
        const r = await h.request("GET", `/v1/organizations/${orgId}/usage_summary`, { key });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        const s = r.body as Record<string, Record<string, unknown>>;
        const credits = s["usage_credits"] ?? {};
        const limits = (credits["limits"] ?? []) as Array<Record<string, string>>;
        return {
          balance: Number(credits["balance"]),
          usedCredits: Number(credits["used_credits"]),
          limitSpent: Number(limits[0]?.["spent"] ?? 0),
          fiveHour: Number(s["five_hour"]?.["used"] ?? 0),
          sevenDay: Number(s["seven_day"]?.["used"] ?? 0),
        };
      }

      async function noPendingHolds(): Promise<void> {
        const deadline = Date.now() + 10_000;
        for (;;) {
          const agg = await h.app.services.store.transaction((tx) => tx.ledgerAggregates());
          const pending = agg.holds.filter((x) => x.status === "pending");
          if (pending.length === 0) break;
          if (Date.now() > deadline) assert.fail(`holds still pending: ${pending.map((p) => p.id).join(", ")}`);
          await sleep(20);
        }
        const v = await verifyLedger(h);
        assert.equal(v.ok, true, JSON.stringify(v.violations));
      }

      /** How many ledger transactions of each kind the org has (the manual clock stands still, so their order is not meaningful). */
      async function transactionKinds(orgId: string): Promise<Record<string, number>> {
        const r = await h.request("GET", `/v1/organizations/${orgId}/transactions`);
        const out: Record<string, number> = {};
        for (const t of r.body["data"] as Array<Record<string, string>>) out[String(t["kind"])] = (out[String(t["kind"])] ?? 0) + 1;
        return out;
      }

      async function creditsOrg(amount: number, plan = "enterprise_usage") {
        const org = await createOrg(h, { plan, usageCredits: true });
        if (amount > 0) await grant(h, org.orgId, { amount: String(amount) });
        return org;
      }

      test("1. messages.create with only the base URL and a project key: the plan window grows by exactly the rated cost; simulated, usage.speed and rate-limit headers reported", async () => {
        const { orgId, ownerKey } = await createOrg(h, { plan: "pro", usageCredits: false });
        const before = await counters(orgId, ownerKey);
        const { data: msg, response } = await sdk(ownerKey).messages.create(ask("Hello, gateway. What is a usage credit?")).withResponse();
        const block = msg.content[0];
        assert.equal(block?.type, "text");
        assert.match(block?.type === "text" ? block.text : "", /^\[simulated upstream\]/);
        assert.match(msg.id, /^msg_sim_/);
        assert.equal(msg.usage.speed, "standard");
        assert.ok(msg.usage.input_tokens > 0 && msg.usage.output_tokens > 0);
        const charged = cost(msg.usage);
        const now = await counters(orgId, ownerKey);
        assert.equal(now.fiveHour - before.fiveHour, charged, "the session window grew by the rated cost");
        assert.equal(now.sevenDay - before.sevenDay, charged, "the weekly window grew by the rated cost");
        assert.equal(now.balance, before.balance, "the plan paid: no usage credits moved");

        // Pro session quota: $5 of API value.
        // The header is the usage summary's floored percent over 100 (docs/money-rules.md "Utilization").
        assert.equal(response.headers.get("anthropic-ratelimit-unified-5h-utilization"), String(Math.floor((before.fiveHour + charged) * 100 / (5 * USD)) / 100));
        assert.ok(response.headers.get("anthropic-ratelimit-unified-7d-utilization") !== null);
        assert.ok(Number(response.headers.get("anthropic-ratelimit-unified-5h-reset")) > 0);
        assert.equal(response.headers.get("anthropic-ratelimit-unified-status"), "allowed");
        assert.equal(response.headers.get("anthropic-ratelimit-unified-overage-status"), "rejected");
        assert.equal(response.headers.get("anthropic-ratelimit-unified-overage-disabled-reason"), "org_level_disabled");
        assert.equal(response.headers.get("x-usage-credits-balance"), "0");
        assert.equal(response.headers.get("x-simulated-upstream"), "true");
        await noPendingHolds();
      });

      test("1. messages.create, messages.stream (text and final message) and countTokens on an SDK-surface key: balance and spending-limit counters change by exactly the rated cost; countTokens is free", async () => {
        const { orgId } = await creditsOrg(10 * USD, "pro");
        const member = await addMember(h, orgId, { role: "member" }, "sdk");
        const limit = await h.request("POST", `/v1/organizations/${orgId}/spend_limits`, { body: { scope: "organization", period: "monthly", amount: String(5 * USD) } });
        assert.equal(limit.status, 200, JSON.stringify(limit.body));
        const client = sdk(member.key);
        const expectCharge = async (step: () => Promise<WireUsage>, label: string, fast = false) => {
          const before = await counters(orgId, member.key);
          const usage = await step();
          const charged = cost(usage, { fast });
          const now = await counters(orgId, member.key);
          assert.equal(before.balance - now.balance, charged, `${label}: balance`);
          assert.equal(now.limitSpent - before.limitSpent, charged, `${label}: spending-limit counter`);
          assert.equal(now.usedCredits - before.usedCredits, charged, `${label}: used credits`);
          assert.equal(now.fiveHour, before.fiveHour, `${label}: the SDK surface never draws on the plan windows`);
          return usage;
        };

        // countTokens: answered, never charged.
        const before = await counters(orgId, member.key);
        const counted = await client.messages.countTokens({ model: SONNET, messages: [{ role: "user", content: "How many tokens is this?" }] });
        assert.ok(Number.isInteger(counted.input_tokens) && counted.input_tokens > 0);
        assert.deepEqual(await counters(orgId, member.key), before);

        await expectCharge(async () => (await client.messages.create(ask("Explain holds."))).usage, "create");

        let streamed = "";
        const final = await expectCharge(async () => {
          const stream = client.messages.stream(ask("Stream me a sentence about ledgers."));
          stream.on("text", (t) => {
            streamed += t;
          });
          const m = await stream.finalMessage();
          const text = m.content.find((b) => b.type === "text");
          assert.equal(streamed, text?.type === "text" ? text.text : undefined, "the streamed text is the final message's text");
          assert.match(streamed, /^\[simulated upstream\]/);
          assert.equal(m.usage.speed, "standard");
          return m.usage;
        }, "stream");
        assert.ok(final.output_tokens > 1);

        // Thinking tokens are output tokens.
        await expectCharge(async () => {
          const m = await client.messages.stream(ask("Think first.", { max_tokens: 2048, thinking: { type: "enabled", budget_tokens: 1024 } })).finalMessage();
          assert.deepEqual(
            m.content.map((b) => b.type),
            ["thinking", "text"],
          );
          return m.usage;
        }, "stream with thinking");

        // Prompt caching: the first request writes the cached prefix, the second reads it; 1-hour writes at their own price.
        const system = [{ type: "text" as const, text: "You are a careful accountant. ".repeat(40), cache_control: { type: "ephemeral" as const } }];
        const first = await expectCharge(async () => (await client.messages.create(ask("Cached question?", { system }))).usage, "cache write");
        assert.ok((first.cache_creation_input_tokens ?? 0) > 0 && (first.cache_creation?.ephemeral_5m_input_tokens ?? 0) > 0);
        const second = await expectCharge(async () => (await client.messages.stream(ask("Cached question?", { system })).finalMessage()).usage, "cache read");
        assert.equal(second.cache_read_input_tokens, first.cache_creation_input_tokens);
        const hour = [{ type: "text" as const, text: "Long-lived context. ".repeat(30), cache_control: { type: "ephemeral" as const, ttl: "1h" as const } }];
        const third = await expectCharge(async () => (await client.messages.create(ask("An hour?", { system: hour }))).usage, "1-hour cache write");
        assert.ok((third.cache_creation?.ephemeral_1h_input_tokens ?? 0) > 0);
        await noPendingHolds();
      });

      test("2. the SDK raises its own typed errors for our refusals: RateLimitError with retry-after, BadRequestError for a low credit balance, PermissionDeniedError where fast mode is disabled", async () => {
        // An exhausted session window: 429 rate_limit_error, retry-after until the window resets.
        const pro = await createOrg(h, { plan: "pro", usageCredits: false });
        const big = await h.request("POST", `/v1/organizations/${pro.orgId}/authorize`, { key: pro.ownerKey, body: { model: SONNET, amount: String(5 * USD) } });
        assert.equal(big.status, 201, JSON.stringify(big.body));
        const holdId = String((big.body["hold"] as Record<string, unknown>)["id"]);
        assert.equal((await h.request("POST", `/v1/organizations/${pro.orgId}/holds/${holdId}/settle`, { key: pro.ownerKey, body: { amount: String(5 * USD) } })).status, 200);
        const windowErr = await sdk(pro.ownerKey).messages.create(ask("One more?")).then(
          () => assert.fail("expected a refusal"),
          (e: unknown) => e,
        );
        assert.ok(windowErr instanceof RateLimitError, String(windowErr));
        assert.equal(windowErr.status, 429);
        assert.equal(windowErr.headers?.get("retry-after"), String((5 * HOUR_MS) / 1000));
        assert.equal(windowErr.headers?.get("anthropic-ratelimit-unified-status"), "rejected");
        assert.equal(windowErr.headers?.get("anthropic-ratelimit-unified-5h-utilization"), "1");
        assert.equal((windowErr.error as { error: { type: string } }).error.type, "rate_limit_error");

        // Out of credits: 400 invalid_request_error "Your credit balance is too low…"; nothing moves.
        const poor = await creditsOrg(1_000);
        const beforePoor = await counters(poor.orgId, poor.ownerKey);
        const lowErr = await sdk(poor.ownerKey).messages.create(ask("Expensive?", { max_tokens: 1024 })).then(
          () => assert.fail("expected a refusal"),
          (e: unknown) => e,
        );
        assert.ok(lowErr instanceof BadRequestError, String(lowErr));
        assert.match(lowErr.message, /credit balance is too low/);
        assert.equal((lowErr.error as { error: { type: string } }).error.type, "invalid_request_error");
        assert.equal(lowErr.headers?.get("anthropic-ratelimit-unified-overage-disabled-reason"), "out_of_credits");
        assert.equal(lowErr.headers?.get("x-usage-credits-balance"), "1000");
        assert.deepEqual(await counters(poor.orgId, poor.ownerKey), beforePoor);

        // Fast mode disabled by the organization: 403 permission_error with the vendor's message, even with fallback on.
        const noFast = await createOrg(h, { plan: "max_5x", usageCredits: true, fastMode: false, fallback: true });
        await grant(h, noFast.orgId, { amount: String(10 * USD) });
        const fastErr = await sdk(noFast.ownerKey).messages.create(ask("Fast please.", { speed: "fast" })).then(
          () => assert.fail("expected a refusal"),
          (e: unknown) => e,
        );
        assert.ok(fastErr instanceof PermissionDeniedError, String(fastErr));
        assert.match(fastErr.message, /Fast mode has been disabled by your organization/);

        // An enforced spending limit: 429 with error.details.error_code, retry-after until the period resets.
        const capped = await creditsOrg(10 * USD);
        await h.request("POST", `/v1/organizations/${capped.orgId}/spend_limits`, { body: { scope: "organization", period: "monthly", amount: "1000" } });
        const capErr = await sdk(capped.ownerKey).messages.create(ask("Over the cap?")).then(
          () => assert.fail("expected a refusal"),
          (e: unknown) => e,
        );
        assert.ok(capErr instanceof RateLimitError, String(capErr));
        assert.equal((capErr.error as { error: { details: Record<string, unknown> } }).error.details["error_code"], "enforced_spend_limit_reached");
        assert.ok(Number(capErr.headers?.get("retry-after")) > 0);

        // A key that is not ours: 401 authentication_error.
        await assert.rejects(sdk("uck_not_a_real_key").messages.create(ask("Hi")), AuthenticationError);
        await noPendingHolds();
      });

      test("3. upstream cut mid-stream (or an error event): charged exactly the usage the upstream reported, not the hold; no hold left pending", async () => {
        const { orgId, ownerKey } = await creditsOrg(10 * USD);
        const before = await counters(orgId, ownerKey);
        const stream = sdk(ownerKey).messages.stream(ask("This stream will be cut."), { headers: { "x-simulate": "cut_after:3" } });
        let reported: WireUsage | undefined;
        let deltas = 0;
        stream.on("streamEvent", (e) => {
          if (e.type === "message_start") reported = e.message.usage;
          if (e.type === "content_block_delta") deltas++;
        });
        await assert.rejects(stream.finalMessage(), APIError);
        assert.equal(deltas, 3, "the client got what the upstream sent before the cut");
        assert.ok(reported);
        await noPendingHolds();
        const now = await counters(orgId, ownerKey);
        assert.equal(before.balance - now.balance, cost(reported), "charged the reported usage only");
        assert.ok(cost(reported) < cost({ input_tokens: reported.input_tokens, output_tokens: 512 }), "less than the worst case held");
        assert.deepEqual(await transactionKinds(orgId), { grant: 1, hold: 1, settle: 1 });

        // An upstream `error` event mid-stream (overloaded) is relayed as is, and charged the same way.
        const mid = await counters(orgId, ownerKey);
        const failing = sdk(ownerKey).messages.stream(ask("This stream will be overloaded."), { headers: { "x-simulate": "error_after:2" } });
        let reportedToo: WireUsage | undefined;
        failing.on("streamEvent", (e) => {
          if (e.type === "message_start") reportedToo = e.message.usage;
        });
        const err = await failing.finalMessage().then(
          () => assert.fail("expected the stream to fail"),
          (e: unknown) => e,
        );
        assert.ok(err instanceof APIError && (err.error as { error: { type: string } }).error.type === "overloaded_error", String(err));
        assert.ok(reportedToo);
        await noPendingHolds();
        assert.equal(mid.balance - (await counters(orgId, ownerKey)).balance, cost(reportedToo));
      });

      test("3. upstream 500 or overloaded, streaming or not: nothing charged, the hold released; no hold left pending", async () => {
        const { orgId, ownerKey } = await creditsOrg(10 * USD);
        const client = sdk(ownerKey);
        const before = await counters(orgId, ownerKey);
        await assert.rejects(client.messages.create(ask("Fail please."), { headers: { "x-simulate": "error_500" } }), InternalServerError);
        assert.deepEqual(await transactionKinds(orgId), { grant: 1, hold: 1, release: 1 });
        await assert.rejects(client.messages.stream(ask("Fail the stream."), { headers: { "x-simulate": "error_500" } }).finalMessage(), InternalServerError);
        const overloaded = await client.messages.create(ask("Busy?"), { headers: { "x-simulate": "overloaded" } }).then(
          () => assert.fail("expected an error"),
          (e: unknown) => e,
        );
        assert.ok(overloaded instanceof APIError && overloaded.status === 529, String(overloaded));
        assert.equal((overloaded.error as { error: { type: string } }).error.type, "overloaded_error");
        await noPendingHolds();
        assert.deepEqual(await counters(orgId, ownerKey), before, "failed requests are not charged");
        assert.deepEqual(await transactionKinds(orgId), { grant: 1, hold: 3, release: 3 });
      });

      test("3. client abort after the first text delta: the hold is settled with the usage reported up to then; no hold left pending", async () => {
        const { orgId, ownerKey } = await creditsOrg(10 * USD);
        const before = await counters(orgId, ownerKey);
        const stream = sdk(ownerKey).messages.stream(ask("A slow stream I will abandon.", { model: HAIKU }), { headers: { "x-simulate": "chunk_delay_ms:40" } });
        let reported: WireUsage | undefined;
        stream.on("streamEvent", (e) => {
          if (e.type === "message_start") reported = e.message.usage;
        });
        stream.once("text", () => stream.abort());
        await assert.rejects(stream.finalMessage(), APIUserAbortError);
        assert.ok(reported);
        await noPendingHolds();
        assert.deepEqual(await transactionKinds(orgId), { grant: 1, hold: 1, settle: 1 }, "settled, not released: the upstream reported usage");
        const now = await counters(orgId, ownerKey);
        assert.equal(before.balance - now.balance, cost(reported, { model: HAIKU }));
      });

      test("a reader that stops reading is cut before its hold expires, and the stream is settled, never free", async () => {
        const { orgId, ownerKey } = await creditsOrg(10 * USD);
        const before = await counters(orgId, ownerKey);
        // A raw client that reads the first bytes, then stops reading (its socket paused).
        const req = httpRequest(`${h.url}/v1/messages`, {
          method: "POST",
          headers: { "x-api-key": ownerKey, "content-type": "application/json", "anthropic-version": "2023-06-01", "x-simulate": "chunk_delay_ms:20" },
        });
        req.on("error", () => undefined); // the server cuts it
        const started = new Promise<void>((resolve) => {
          req.on("response", (res) => {
            res.once("data", () => {
              res.pause();
              resolve();
            });
          });
        });
        req.end(JSON.stringify(ask("A very long stream that nobody reads.", { model: HAIKU, stream: true, max_tokens: 4000 })));
        await started;
        // The clock jumps past the watchdog's margin (hold TTL 660 s, cut 30 s before); it acts within ~1 s.
        h.clock.advance(631_000);
        await noPendingHolds();
        assert.deepEqual(await transactionKinds(orgId), { grant: 1, hold: 1, settle: 1 }, "settled with the usage so far, not expired");
        const now = await counters(orgId, ownerKey);
        assert.ok(before.balance - now.balance > 0, "the relayed part was charged");
        req.destroy();
      });

      test("web search: a tool without max_uses is bounded (and priced) at the default; an absurd max_uses is a 400, not a 500", async () => {
        const { orgId, ownerKey } = await creditsOrg(10 * USD);
        const tool = { type: "web_search_20250305", name: "web_search" };
        const r = await h.request("POST", "/v1/messages", { key: ownerKey, headers: { "anthropic-version": "2023-06-01" }, body: ask("Search something.", { model: HAIKU, tools: [tool] }) });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        const holds = (await h.request("GET", `/v1/organizations/${orgId}/transactions`)).body["data"] as Array<Record<string, unknown>>;
        const held = holds.find((t) => t["kind"] === "hold");
        const heldAmount = Number(((held?.["entries"] as Array<Record<string, string>>) ?? []).find((e) => e["account"]?.startsWith("hold:"))?.["amount"]);
        assert.ok(heldAmount >= 10 * 10_000, `the hold covers 10 searches at $10 per 1,000 (held ${heldAmount})`);
        const bad = await h.request("POST", "/v1/messages", { key: ownerKey, headers: { "anthropic-version": "2023-06-01" }, body: ask("x", { model: HAIKU, tools: [{ ...tool, max_uses: 9e15 }] }) });
        assert.equal(bad.status, 400, JSON.stringify(bad.body));
        await noPendingHolds();
      });

      test("4. 100 concurrent streams against credits for 10 worst-case holds: at most 10 served, the rest refused with 400, balance never negative", async () => {
        const { orgId, ownerKey } = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
        const client = sdk(ownerKey);
        const params = ask("Race!", { max_tokens: 64 });
        const { input_tokens } = await client.messages.countTokens({ model: SONNET, messages: params.messages });
        // The worst case the gateway holds: the counted input plus max_tokens of output. Each served
        // stream is made to use all of it (output_tokens:1000 > max_tokens), so nothing comes back.
        const worst = cost({ input_tokens, output_tokens: 64 });
        await grant(h, orgId, { amount: String(10 * worst) });
        const results = await Promise.allSettled(
          Array.from({ length: 100 }, () => client.messages.stream(params, { headers: { "x-simulate": "output_tokens:1000" } }).finalMessage()),
        );
        const served = results.filter((r) => r.status === "fulfilled");
        const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
        assert.ok(served.length <= 10, `${served.length} served`);
        assert.equal(served.length, 10, "every affordable request was served");
        for (const r of served) assert.equal(cost(r.value.usage), worst);
        assert.equal(refused.length, 90);
        for (const r of refused) {
          assert.ok(r.reason instanceof BadRequestError, String(r.reason));
          assert.equal(r.reason.status, 400);
          assert.match(r.reason.message, /credit balance is too low/);
        }
        await noPendingHolds();
        const now = await counters(orgId, ownerKey);
        assert.ok(now.balance >= 0);
        assert.equal(now.balance, 0);
      });

      test("5. fast mode is priced at the fast multiplier and billed to usage credits with plan room left; usage.speed is fast", async () => {
        const { orgId, ownerKey } = await createOrg(h, { plan: "max_5x", usageCredits: true, fastMode: true });
        await grant(h, orgId, { amount: String(10 * USD) });
        const client = sdk(ownerKey);
        let before = await counters(orgId, ownerKey);
        const msg = await client.messages.create(ask("Fast, please.", { speed: "fast" }));
        assert.equal(msg.usage.speed, "fast");
        let now = await counters(orgId, ownerKey);
        assert.equal(before.balance - now.balance, cost(msg.usage, { fast: true }));
        assert.equal(now.fiveHour, 0, "the plan window was not touched although it has room");

        before = now;
        const stream = client.messages.stream(ask("Fast stream.", { speed: "fast" }));
        let startSpeed: string | null | undefined;
        stream.on("streamEvent", (e) => {
          if (e.type === "message_start") startSpeed = e.message.usage.speed;
        });
        const final = await stream.finalMessage();
        assert.equal(startSpeed, "fast");
        assert.equal(final.usage.speed, "fast");
        now = await counters(orgId, ownerKey);
        assert.equal(before.balance - now.balance, cost(final.usage, { fast: true }));
        await noPendingHolds();
      });

      test("5. out of credits with fast_mode_fallback: served at standard speed (usage.speed standard), paid by the plan at standard prices", async () => {
        const { orgId, ownerKey } = await createOrg(h, { plan: "pro", usageCredits: true, fastMode: true, fallback: true });
        const client = sdk(ownerKey);
        const before = await counters(orgId, ownerKey);
        const msg = await client.messages.create(ask("Fast if you can.", { speed: "fast" }));
        assert.equal(msg.usage.speed, "standard");
        const mid = await counters(orgId, ownerKey);
        assert.equal(mid.fiveHour - before.fiveHour, cost(msg.usage), "standard price, on the plan");
        assert.equal(mid.balance, 0);

        const stream = client.messages.stream(ask("Fast stream if you can.", { speed: "fast" }));
        let startSpeed: string | null | undefined;
        stream.on("streamEvent", (e) => {
          if (e.type === "message_start") startSpeed = e.message.usage.speed;
        });
        const final = await stream.finalMessage();
        assert.equal(startSpeed, "standard");
        assert.equal(final.usage.speed, "standard");
        const now = await counters(orgId, ownerKey);
        assert.equal(now.fiveHour - mid.fiveHour, cost(final.usage));
        await noPendingHolds();
      });

      test("5. out of credits without fallback, fast mode is refused and nothing is charged; disabled fast mode is refused even with fallback", async () => {
        const { orgId, ownerKey } = await createOrg(h, { plan: "pro", usageCredits: true, fastMode: true, fallback: false });
        const client = sdk(ownerKey);
        const before = await counters(orgId, ownerKey);
        await assert.rejects(client.messages.create(ask("Fast or nothing.", { speed: "fast" })), (e: unknown) => e instanceof BadRequestError && /credit balance is too low/.test(e.message));
        assert.deepEqual(await counters(orgId, ownerKey), before);
        // Standard speed still works, on the plan.
        assert.equal((await client.messages.create(ask("Standard then."))).usage.speed, "standard");

        const patched = await h.request("PATCH", `/v1/organizations/${orgId}`, { key: ownerKey, body: { fast_mode_enabled: false, fast_mode_fallback: true } });
        assert.equal(patched.status, 200, JSON.stringify(patched.body));
        await assert.rejects(client.messages.create(ask("Fast?", { speed: "fast" })), (e: unknown) => e instanceof PermissionDeniedError && /Fast mode has been disabled by your organization/.test(e.message));
        await noPendingHolds();
      });

      test("the surface comes from the key, or from x-usage-credits-surface, which may only narrow it; platform keys cannot use the gateway", async () => {
        const { orgId, ownerKey } = await creditsOrg(10 * USD, "pro");
        const before = await counters(orgId, ownerKey);
        const asSdk = await sdk(ownerKey).messages.create(ask("From a script."), { headers: { "x-usage-credits-surface": "sdk" } });
        const now = await counters(orgId, ownerKey);
        assert.equal(before.balance - now.balance, cost(asSdk.usage), "an interactive key declaring sdk is paid from credits");
        assert.equal(now.fiveHour, before.fiveHour, "…and leaves the plan windows alone");

        const ci = await addMember(h, orgId, { role: "member" }, "ci");
        await assert.rejects(sdk(ci.key).messages.create(ask("Let me use the plan."), { headers: { "x-usage-credits-surface": "interactive" } }), PermissionDeniedError);
        await assert.rejects(sdk(ownerKey).messages.create(ask("?"), { headers: { "x-usage-credits-surface": "browser" } }), BadRequestError);
        await assert.rejects(sdk(h.platformKey).messages.create(ask("Operator here.")), PermissionDeniedError);
        await noPendingHolds();
      });
    });
  }
}
