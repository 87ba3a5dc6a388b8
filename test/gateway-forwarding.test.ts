// What the gateway forwards and what it answers with, against the simulated upstream over HTTP:
// - recorded requests (test/fixtures/clients, captured from each real client by
//   test/clients/capture-fixtures.mjs, plus one hand-written in the form Python's json.dumps writes)
//   arrive upstream byte for byte: mid-conversation system messages, adaptive thinking,
//   context_management, unknown fields, block types and betas, the rename's old names in a prompt;
// - the unified rate-limit headers, with the same numbers as usage_summary, a stream's own hold
//   included;
// - retry advice on refusals: x-should-retry false when the refusal will not clear soon.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Anthropic, { RateLimitError } from "@anthropic-ai/sdk";
import type { ReceivedRequest, WireServer } from "../src/adapters/upstream/wire-server.js";
import { startSimulatedUpstream } from "../src/adapters/upstream/standalone-upstream.js";
import { backends } from "./support/backends.js";
import { ROOT } from "./support/clients.js";
import { createOrg, grant, startHarness, USD, verifyLedger, type Harness } from "./support/harness.js";

const FIXTURES = join(ROOT, "test/fixtures/clients");
const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith(".body.json"))
  .sort()
  .map((f) => {
    const name = f.replace(/\.body\.json$/, "");
    const meta = JSON.parse(readFileSync(join(FIXTURES, `${name}.headers.json`), "utf8")) as { url: string; headers: Record<string, string> };
    return { name, body: readFileSync(join(FIXTURES, f)), ...meta };
  });

const UNIFIED = "anthropic-ratelimit-unified";

for (const backend of backends()) {
  describe(`gateway forwarding and headers on ${backend.name}`, () => {
    let h: Harness;
    let sim: WireServer;
    const received: ReceivedRequest[] = [];
    before(async () => {
      sim = await startSimulatedUpstream({ onRequest: (r) => received.push(r), chunkDelayMs: 0 });
      h = await startHarness(await backend.createDatabase(), { USAGE_CREDITS_UPSTREAM: sim.url });
    });
    after(async () => {
      await h.close();
      await sim.close();
      await backend.cleanup();
    });

    async function summary(orgId: string, key: string): Promise<Record<string, Record<string, unknown>>> {
      const r = await h.request("GET", `/v1/organizations/${orgId}/usage_summary`, { key });
      assert.equal(r.status, 200);
      return r.body as Record<string, Record<string, unknown>>;
    }

    test("recorded requests from every client reach the upstream byte for byte, with their betas, and are charged", async () => {
      assert.ok(fixtures.length >= 6, "fixtures from Claude Code, the Agent SDK, the official SDK, the AI SDK, LangChain and a Python-style body");
      const names = new Set(fixtures.map((f) => f.name.replace(/-\d+$/, "")));
      for (const client of ["claude-code", "agent-sdk", "official-sdk", "ai-sdk", "langchain", "python-style"]) assert.ok(names.has(client), `a fixture from ${client}`);
      const seen = { systemRole: false, adaptive: false, contextManagement: false, unknownBeta: false, oldNames: false };
      const org = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, org.orgId, { amount: String(100 * USD) });
      for (const f of fixtures) {
        const parsed = JSON.parse(f.body.toString("utf8")) as Record<string, unknown>;
        const messages = parsed["messages"] as Array<{ role: string }>;
        seen.systemRole ||= messages.some((m, i) => i > 0 && m.role === "system");
        seen.adaptive ||= (parsed["thinking"] as { type?: string } | undefined)?.type === "adaptive";
        seen.contextManagement ||= "context_management" in parsed;
        seen.unknownBeta ||= /a-future-beta-2027-01-01/.test(f.headers["anthropic-beta"] ?? "");
        seen.oldNames ||= /extra_usage/.test(f.body.toString("utf8"));

        const from = received.length;
        const headers: Record<string, string> = { ...f.headers, "x-api-key": org.ownerKey };
        const res = await fetch(`${h.url}${f.url}`, { method: "POST", headers, body: f.body });
        const text = await res.text();
        assert.equal(res.status, 200, `${f.name}: ${text.slice(0, 500)}`);
        const arrived = received.slice(from).filter((r) => r.url.startsWith("/v1/messages"));
        assert.equal(arrived.length, 1, f.name);
        const up = arrived[0];
        assert.ok(up);
        assert.ok(up.body.equals(f.body), `${f.name}: the upstream received the client's exact bytes (${up.body.length} vs ${f.body.length})`);
        assert.equal(up.headers["anthropic-beta"], f.headers["anthropic-beta"], `${f.name}: betas passed through`);
        assert.equal(up.headers["anthropic-version"], f.headers["anthropic-version"], `${f.name}: the API version passed through`);
      }
      assert.deepEqual(seen, { systemRole: true, adaptive: true, contextManagement: true, unknownBeta: true, oldNames: true }, "the fixtures cover what the issue names");
      assert.equal((await verifyLedger(h)).ok, true);
    });

    test("the full unified header set on every answer; a stream's headers count its own hold, as usage_summary does while it runs", async () => {
      const org = await createOrg(h, { plan: "pro", usageCredits: true, fallback: true });
      await grant(h, org.orgId, { amount: String(10 * USD) });
      const limit = await h.request("POST", `/v1/organizations/${org.orgId}/spend_limits`, { body: { scope: "organization", amount: "5000000", period: "monthly" } });
      assert.ok(limit.status < 300, JSON.stringify(limit.body));
      const client = new Anthropic({ baseURL: h.url, apiKey: org.ownerKey, maxRetries: 0 });

      // A slow stream: its headers arrive while its hold is still pending.
      const stream = await client.messages
        .create({ model: "claude-sonnet-4-6", max_tokens: 4096, stream: true, messages: [{ role: "user", content: "Stream slowly." }] }, { headers: { "x-simulate": "chunk_delay_ms:40" } })
        .withResponse();
      const hdr = stream.response.headers;
      const during = await summary(org.orgId, org.ownerKey);
      const five = during["five_hour"] ?? {};
      const held = Number(five["held"]);
      assert.ok(held > 0, "the stream's hold is pending while it runs");
      const fraction = Number(hdr.get(`${UNIFIED}-5h-utilization`));
      assert.ok(fraction > 0, "the stream's own hold is counted");
      assert.equal(Math.floor(fraction * 100 + 1e-9), Number(five["utilization"]), "the header and usage_summary agree (percent vs fraction)");
      assert.equal(fraction, Math.floor(((Number(five["used"]) + held) * 100) / Number(five["quota"])) / 100, "floor((used + held) × 100 ÷ quota) ÷ 100 (money-rules.md R7)");
      assert.equal(hdr.get(`${UNIFIED}-5h-reset`), String(Math.ceil(Date.parse(String(five["resets_at"])) / 1000)));
      for (const name of ["status", "5h-utilization", "5h-reset", "7d-utilization", "7d-reset", "representative-claim", "reset", "fallback", "overage-status", "overage-reset", "overage-in-use"]) {
        assert.ok(hdr.get(`${UNIFIED}-${name}`) !== null, `${UNIFIED}-${name} is sent`);
      }
      assert.equal(hdr.get(`${UNIFIED}-status`), "allowed");
      assert.equal(hdr.get(`${UNIFIED}-representative-claim`), "five_hour", "the session window is the most used");
      assert.equal(hdr.get(`${UNIFIED}-reset`), hdr.get(`${UNIFIED}-5h-reset`));
      assert.equal(hdr.get(`${UNIFIED}-fallback`), "available", "fast mode falls back to standard speed in this organization");
      assert.equal(hdr.get(`${UNIFIED}-overage-status`), "allowed");
      assert.equal(hdr.get(`${UNIFIED}-overage-in-use`), "false", "the plan pays this one");
      const limits = (during["usage_credits"]?.["limits"] ?? []) as Array<{ resets_at: string }>;
      assert.equal(hdr.get(`${UNIFIED}-overage-reset`), String(Math.ceil(Date.parse(limits[0]?.resets_at ?? "") / 1000)));
      for await (const _ of stream.data) void _;

      // Fast mode is paid from usage credits: overage in use.
      const fast = await client.messages.create({ model: "claude-opus-5", max_tokens: 64, speed: "fast", messages: [{ role: "user", content: "Quick" }] } as Anthropic.MessageCreateParamsNonStreaming).withResponse();
      assert.equal(fast.response.headers.get(`${UNIFIED}-overage-in-use`), "true");
    });

    test("refusals carry retry advice: a spending limit that resets in days says x-should-retry false (the SDK does not retry it); a caller's mistake too", async () => {
      const org = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      await grant(h, org.orgId, { amount: String(10 * USD) });
      const limit = await h.request("POST", `/v1/organizations/${org.orgId}/spend_limits`, { body: { scope: "organization", amount: "1000", period: "monthly" } });
      assert.ok(limit.status < 300, JSON.stringify(limit.body));
      const from = received.length;
      // maxRetries 2: the SDK would retry a 429 unless told not to.
      let attempts = 0;
      const counting = new Anthropic({
        baseURL: h.url,
        apiKey: org.ownerKey,
        maxRetries: 2,
        fetch: (input: string | URL | Request, init?: RequestInit) => {
          attempts++;
          return fetch(input, init);
        },
      });
      const err = await counting.messages.create({ model: "claude-sonnet-4-6", max_tokens: 1024, messages: [{ role: "user", content: "Hi" }] }).catch((e: unknown) => e);
      assert.ok(err instanceof RateLimitError, String(err));
      assert.equal(attempts, 1, "x-should-retry: false stops the SDK's retries");
      assert.equal(err.headers.get("x-should-retry"), "false");
      assert.ok(Number(err.headers.get("retry-after")) > 86_400, "the monthly limit resets in days");
      assert.equal(received.length, from, "nothing went upstream");

      // A caller's mistake: never worth retrying.
      const bad = await h.request("POST", "/v1/messages", { key: org.ownerKey, body: { model: "claude-sonnet-4-6", messages: [{ role: "user", content: "Hi" }] } });
      assert.equal(bad.status, 400);
      assert.equal(bad.headers.get("x-should-retry"), "false");
      assert.match(String((bad.body["error"] as Record<string, unknown>)["message"]), /^max_tokens: /, "the vendor's `field: message` form");
    });

    test("an unreachable upstream: 503 with retry-after 2 and x-should-retry true", async () => {
      const down = await startHarness(await backend.createDatabase(), { USAGE_CREDITS_UPSTREAM: "http://127.0.0.1:9" });
      try {
        const org = await createOrg(down, { plan: "pro" });
        const r = await down.request("POST", "/v1/messages", { key: org.ownerKey, body: { model: "claude-sonnet-4-6", max_tokens: 16, messages: [{ role: "user", content: "Hi" }] } });
        assert.equal(r.status, 503);
        assert.equal(r.headers.get("retry-after"), "2");
        assert.equal(r.headers.get("x-should-retry"), "true");
      } finally {
        await down.close();
      }
    });
  });
}
