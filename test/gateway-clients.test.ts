// The clients people actually use, from npm, on their defaults, through the real gateway on
// loopback (simulated upstream over HTTP): Claude Code (`claude -p --output-format json`) and the
// Agent SDK's query() each run a prompt with one tool round trip; the official SDK, the Vercel AI
// SDK and LangChain make plain, streaming, tool-use and fast-mode calls. Every call's charge (the
// usage records it created) equals the usage the client itself received, priced here from the
// book's rates (support/clients.ts), never by our rating code. Claude Code and the Agent SDK are
// recognised from their own headers and billed as headless CLI and SDK traffic: monthly SDK
// credits first, never the plan windows, and no header can move traffic onto the plan.
// The packages live in test/clients (see support/clients.ts); a missing one fails, never skips.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import type { ReceivedRequest, WireServer } from "../src/adapters/upstream/wire-server.js";
import { startSimulatedUpstream } from "../src/adapters/upstream/standalone-upstream.js";
import { backends } from "./support/backends.js";
import { fromWire, loadClient, micros, offlineEnv, runClaude, tempHome, type TokenUsage } from "./support/clients.js";
import { addMember, createOrg, grant, startHarness, USD, verifyLedger, type Harness } from "./support/harness.js";

// --- the little of each client's API this test uses (the packages carry no types into this build)

interface ClaudeResult {
  readonly is_error: boolean;
  readonly num_turns: number;
  readonly result?: string;
  readonly total_cost_usd?: number;
  readonly modelUsage: Record<
    string,
    { inputTokens: number; outputTokens: number; cacheReadInputTokens: number; cacheCreationEphemeral5mInputTokens?: number; cacheCreationEphemeral1hInputTokens?: number; cacheCreationInputTokens: number; webSearchRequests: number }
  >;
}
interface AgentSdk {
  query(args: { prompt: string; options: Record<string, unknown> }): AsyncIterable<{ type: string; subtype?: string } & Partial<ClaudeResult>>;
}
interface WireUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation?: { ephemeral_5m_input_tokens?: number | null; ephemeral_1h_input_tokens?: number | null } | null;
  server_tool_use?: { web_search_requests?: number | null } | null;
}
interface AiResult {
  readonly text: string;
  readonly toolCalls: ReadonlyArray<{ toolName: string; input: unknown }>;
  readonly providerMetadata?: { anthropic?: { usage?: WireUsage } };
}
interface AiSdk {
  generateText(args: Record<string, unknown>): Promise<AiResult>;
  streamText(args: Record<string, unknown>): { textStream: AsyncIterable<string>; providerMetadata: Promise<AiResult["providerMetadata"]> };
  jsonSchema(schema: Record<string, unknown>): unknown;
  tool(def: Record<string, unknown>): unknown;
}
interface AiAnthropic {
  createAnthropic(options: { baseURL: string; apiKey: string }): (model: string) => unknown;
}
interface LcMessage {
  readonly content: unknown;
  readonly tool_calls?: ReadonlyArray<{ name: string; args: unknown }>;
  readonly usage_metadata?: { input_tokens: number; output_tokens: number; input_token_details?: { cache_read?: number; cache_creation?: number } };
  concat(other: LcMessage): LcMessage;
}
interface LcModel {
  invoke(input: unknown): Promise<LcMessage>;
  stream(input: unknown): Promise<AsyncIterable<LcMessage>>;
  bindTools(tools: unknown[], options?: Record<string, unknown>): LcModel;
}
interface LangChain {
  ChatAnthropic: new (options: Record<string, unknown>) => LcModel;
}

const SONNET = "claude-sonnet-4-6";
/** Fast mode is 2x on this model in the book (support/clients.ts FAST_FACTOR). */
const FAST_MODEL = "claude-opus-5";
const WEATHER = {
  type: "object" as const,
  properties: { city: { type: "string", description: "City name" }, unit: { type: "string", enum: ["celsius", "fahrenheit"] } },
  required: ["city", "unit"],
};

interface UsageRow {
  id: string;
  surface: string;
  model: string;
  speed: string;
  cost: string;
  paid_by: { plan_window: string; sdk_credits: string; usage_credits: string };
}

function lcUsage(m: LcMessage): TokenUsage {
  const u = m.usage_metadata;
  assert.ok(u, "LangChain reported usage_metadata");
  const read = u.input_token_details?.cache_read ?? 0;
  const written = u.input_token_details?.cache_creation ?? 0;
  return { input: u.input_tokens - read - written, output: u.output_tokens, cacheRead: read, cacheWrite5m: written, cacheWrite1h: 0, webSearches: 0 };
}

for (const backend of backends()) {
  describe(`real clients through the gateway on ${backend.name}`, () => {
    let h: Harness;
    let sim: WireServer;
    const received: ReceivedRequest[] = [];
    before(async () => {
      sim = await startSimulatedUpstream({ onRequest: (r) => received.push(r) });
      h = await startHarness(await backend.createDatabase(), { USAGE_CREDITS_UPSTREAM: sim.url });
    });
    after(async () => {
      await h.close();
      await sim.close();
      await backend.cleanup();
    });

    async function records(orgId: string): Promise<UsageRow[]> {
      const r = await h.request("GET", `/v1/organizations/${orgId}/usage`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body["data"] as UsageRow[];
    }

    /** Runs one client call; returns the usage records it created (by id, the clock stands still). */
    async function charged<T>(orgId: string, call: () => Promise<T>): Promise<{ value: T; rows: UsageRow[] }> {
      const before = new Set((await records(orgId)).map((r) => r.id));
      const value = await call();
      const rows = (await records(orgId)).filter((r) => !before.has(r.id));
      return { value, rows };
    }

    /** One call, one record, charged exactly the usage the client received. */
    function assertOneCharge(rows: UsageRow[], model: string, usage: TokenUsage, fast = false, label = ""): void {
      assert.equal(rows.length, 1, `${label}: one usage record`);
      const row = rows[0];
      assert.ok(row);
      assert.equal(row.model, model, label);
      assert.equal(row.speed, fast ? "fast" : "standard", label);
      assert.equal(Number(row.cost), micros(model, usage, fast), `${label}: the charge equals the client's usage at the book's rates`);
    }

    /** Claude Code / Agent SDK: per model, the rows' total equals the model's usage, within each request's rounding. */
    function assertRunCharges(rows: UsageRow[], result: ClaudeResult, label: string): void {
      const models = Object.keys(result.modelUsage);
      assert.ok(models.length > 0, `${label}: the client reported usage`);
      for (const model of models) {
        const mu = result.modelUsage[model];
        assert.ok(mu);
        const w1h = mu.cacheCreationEphemeral1hInputTokens ?? 0;
        const usage: TokenUsage = {
          input: mu.inputTokens,
          output: mu.outputTokens,
          cacheRead: mu.cacheReadInputTokens,
          cacheWrite1h: w1h,
          cacheWrite5m: mu.cacheCreationEphemeral5mInputTokens ?? mu.cacheCreationInputTokens - w1h,
          webSearches: mu.webSearchRequests,
        };
        const mine = rows.filter((r) => r.model === model);
        const total = mine.reduce((t, r) => t + Number(r.cost), 0);
        // Each request is rounded once to the micro-dollar; the client reports the sum of the requests.
        assert.ok(Math.abs(total - micros(model, usage)) <= mine.length / 2, `${label}: ${model} charged ${total} µ$ for usage worth ${micros(model, usage)} µ$ (${mine.length} requests)`);
      }
      assert.deepEqual(new Set(rows.map((r) => r.model)), new Set(models), `${label}: no request charged outside the client's own report`);
    }

    /** A Pro organization with usage credits and $100 of purchased credits; the owner has claimed the monthly SDK credit ($20). */
    async function proOrg(claim: boolean) {
      const org = await createOrg(h, { plan: "pro", usageCredits: true });
      await grant(h, org.orgId, { amount: String(100 * USD) });
      if (claim) {
        const c = await h.request("POST", `/v1/organizations/${org.orgId}/members/${org.ownerId}/sdk_credits/claim`, { key: org.ownerKey });
        assert.equal(c.status < 300, true, JSON.stringify(c.body));
      }
      return org;
    }

    async function planUsed(orgId: string, key: string): Promise<number> {
      const s = await h.request("GET", `/v1/organizations/${orgId}/usage_summary`, { key });
      const w = s.body as Record<string, Record<string, unknown>>;
      return Number(w["five_hour"]?.["used"] ?? 0) + Number(w["seven_day"]?.["used"] ?? 0);
    }

    /** The upstream saw a tool_result answering a simulated tool_use after `from`: a full round trip. */
    function sawToolRoundTrip(from: number): boolean {
      return received.slice(from).some((r) => {
        const body = JSON.parse(r.body.toString("utf8")) as { messages?: Array<{ content?: unknown }> };
        const last = body.messages?.[body.messages.length - 1];
        return Array.isArray(last?.content) && last.content.some((b: { type?: string; tool_use_id?: string }) => b.type === "tool_result" && String(b.tool_use_id).startsWith("toolu_sim_"));
      });
    }

    test("Claude Code: `claude -p --output-format json` on its defaults completes a prompt with one tool round trip; headless CLI traffic draws the monthly SDK credit first; charged exactly what it reports", async () => {
      const org = await proOrg(true);
      const home = tempHome();
      try {
        const from = received.length;
        // The only test knob: the simulated upstream answers the first turn with a Read tool call.
        const env = offlineEnv(home.dir, h.url, org.ownerKey, { ANTHROPIC_CUSTOM_HEADERS: "x-simulate: tool_use:Read" });
        const { value: run, rows } = await charged(org.orgId, () => runClaude(["-p", "--output-format", "json", "Read the file notes.txt and summarise it."], env, home.dir));
        assert.equal(run.code, 0, `claude exited ${run.code}: ${run.stderr}\n${run.stdout}`);
        const result = JSON.parse(run.stdout) as ClaudeResult;
        assert.equal(result.is_error, false, run.stdout);
        assert.equal(result.num_turns, 2, "one tool round trip: the tool call, then the answer");
        assert.match(result.result ?? "", /^\[simulated upstream\]/);
        assert.ok(sawToolRoundTrip(from), "the upstream received the tool_result of the simulated tool_use");
        assert.ok(rows.length >= 2);
        assertRunCharges(rows, result, "claude -p");
        for (const r of rows) {
          assert.equal(r.surface, "cli_headless", "recognised from user-agent claude-cli/… (external, sdk-cli)");
          assert.equal(r.paid_by.sdk_credits, r.cost, "the monthly SDK credit paid");
          assert.equal(r.paid_by.plan_window, "0");
        }
        assert.equal(await planUsed(org.orgId, org.ownerKey), 0, "never the plan windows");
      } finally {
        home.done();
      }
      assert.equal((await verifyLedger(h)).ok, true);
    });

    test("Agent SDK: query() completes a prompt with one tool round trip; SDK traffic draws the monthly SDK credit first; charged exactly what it reports", async () => {
      const { query } = await loadClient<AgentSdk>("@anthropic-ai/claude-agent-sdk");
      const org = await proOrg(true);
      const home = tempHome();
      try {
        const from = received.length;
        const env = offlineEnv(home.dir, h.url, org.ownerKey, { ANTHROPIC_CUSTOM_HEADERS: "x-simulate: tool_use:Read" });
        const { value: result, rows } = await charged(org.orgId, async () => {
          let last: ClaudeResult | undefined;
          for await (const m of query({ prompt: "Read the file notes.txt and summarise it.", options: { env, cwd: home.dir, maxTurns: 4 } })) {
            if (m.type === "result") last = m as unknown as ClaudeResult;
          }
          assert.ok(last, "query() ended with a result message");
          return last;
        });
        assert.equal(result.is_error, false, JSON.stringify(result));
        assert.equal(result.num_turns, 2, "one tool round trip");
        assert.ok(sawToolRoundTrip(from));
        assertRunCharges(rows, result, "Agent SDK");
        for (const r of rows) {
          assert.equal(r.surface, "sdk", "recognised from user-agent claude-cli/… (external, sdk-ts)");
          assert.equal(r.paid_by.sdk_credits, r.cost);
        }
        assert.equal(await planUsed(org.orgId, org.ownerKey), 0);
      } finally {
        home.done();
      }
    });

    test("a forged Claude Code header never moves traffic onto the plan windows: an SDK key stays on SDK credits; an interactive key's own traffic uses the plan", async () => {
      const org = await proOrg(true);
      const sdkMember = await addMember(h, org.orgId, { role: "member" }, "sdk");
      const interactive = { "x-app": "cli", "user-agent": "claude-cli/2.1.332 (external, cli)" };
      const ask = { model: SONNET, max_tokens: 64, messages: [{ role: "user" as const, content: "Hi" }] };
      const client = (key: string) => new Anthropic({ baseURL: h.url, apiKey: key, maxRetries: 0 });

      const forged = await charged(org.orgId, () => client(sdkMember.key).messages.create(ask, { headers: interactive }));
      assert.equal(forged.rows[0]?.surface, "sdk", "the key's surface stands");
      assert.equal(forged.rows[0]?.paid_by.plan_window, "0");
      assert.equal(await planUsed(org.orgId, org.ownerKey), 0);

      // An interactive key with interactive Claude Code headers: the plan pays (nothing narrowed).
      const plain = await charged(org.orgId, () => client(org.ownerKey).messages.create(ask, { headers: interactive }));
      assert.equal(plain.rows[0]?.surface, "interactive");
      assert.equal(plain.rows[0]?.paid_by.plan_window, plain.rows[0]?.cost);
      // The same key, headers saying Agent SDK: narrowed onto the SDK credit.
      const narrowed = await charged(org.orgId, () => client(org.ownerKey).messages.create(ask, { headers: { "x-app": "cli", "user-agent": "claude-cli/2.1.332 (external, sdk-ts)" } }));
      assert.equal(narrowed.rows[0]?.surface, "sdk");
      assert.equal(narrowed.rows[0]?.paid_by.sdk_credits, narrowed.rows[0]?.cost);
    });

    test("official SDK (@anthropic-ai/sdk): plain, streaming, tool-use, fast-mode and web-search calls, each charged exactly its usage", async () => {
      const org = await proOrg(false);
      const sdkKey = (await addMember(h, org.orgId, { role: "member" }, "sdk")).key;
      const client = new Anthropic({ baseURL: h.url, apiKey: sdkKey, maxRetries: 0 });

      const plain = await charged(org.orgId, () => client.messages.create({ model: SONNET, max_tokens: 256, messages: [{ role: "user", content: "Hello" }] }));
      assertOneCharge(plain.rows, SONNET, fromWire(plain.value.usage), false, "plain");

      const streamed = await charged(org.orgId, async () => {
        const s = client.messages.stream({ model: SONNET, max_tokens: 256, messages: [{ role: "user", content: "Stream, please" }] });
        return s.finalMessage();
      });
      assertOneCharge(streamed.rows, SONNET, fromWire(streamed.value.usage), false, "streaming");

      const tools = await charged(org.orgId, () =>
        client.messages.create({
          model: SONNET,
          max_tokens: 512,
          tools: [{ name: "get_weather", description: "Weather for a city", input_schema: WEATHER }],
          tool_choice: { type: "tool", name: "get_weather" },
          messages: [{ role: "user", content: "Weather in Paris?" }],
        }),
      );
      const call = tools.value.content.find((b) => b.type === "tool_use");
      assert.equal(tools.value.stop_reason, "tool_use");
      assert.deepEqual(call?.type === "tool_use" ? call.input : undefined, { city: "simulated", unit: "celsius" }, "input generated from the tool's schema");
      assertOneCharge(tools.rows, SONNET, fromWire(tools.value.usage), false, "tool use");

      const fast = await charged(org.orgId, () => client.messages.create({ model: FAST_MODEL, max_tokens: 256, messages: [{ role: "user", content: "Quick!" }], speed: "fast" } as Anthropic.MessageCreateParamsNonStreaming));
      assert.equal((fast.value.usage as unknown as { speed?: string }).speed, "fast");
      assertOneCharge(fast.rows, FAST_MODEL, fromWire(fast.value.usage), true, "fast mode");

      const search = await charged(org.orgId, () =>
        client.messages.create(
          { model: SONNET, max_tokens: 512, tools: [{ type: "web_search_20250305", name: "web_search", max_uses: 5 }], messages: [{ role: "user", content: "Search the news" }] },
          { headers: { "x-simulate": "web_search:3" } },
        ),
      );
      assert.equal(search.value.usage.server_tool_use?.web_search_requests, 3);
      assert.ok(search.value.content.some((b) => b.type === "server_tool_use") && search.value.content.some((b) => b.type === "web_search_tool_result"));
      assertOneCharge(search.rows, SONNET, fromWire(search.value.usage), false, "web search ($10 per 1,000)");
    });

    test("Vercel AI SDK (ai + @ai-sdk/anthropic): plain, streaming, tool-use and fast-mode calls, each charged exactly its usage", async () => {
      const ai = await loadClient<AiSdk>("ai");
      const { createAnthropic } = await loadClient<AiAnthropic>("@ai-sdk/anthropic");
      const org = await proOrg(false);
      const sdkKey = (await addMember(h, org.orgId, { role: "member" }, "sdk")).key;
      const anthropic = createAnthropic({ baseURL: `${h.url}/v1`, apiKey: sdkKey });
      const usageOf = (m: AiResult["providerMetadata"]): TokenUsage => {
        const u = m?.anthropic?.usage;
        assert.ok(u, "the AI SDK passed the provider's usage through");
        return fromWire(u);
      };

      const plain = await charged(org.orgId, () => ai.generateText({ model: anthropic(SONNET), prompt: "Hello", maxRetries: 0 }));
      assert.match(plain.value.text, /^\[simulated upstream\]/);
      assertOneCharge(plain.rows, SONNET, usageOf(plain.value.providerMetadata), false, "plain");

      const streamed = await charged(org.orgId, async () => {
        const s = ai.streamText({ model: anthropic(SONNET), prompt: "Stream, please", maxRetries: 0 });
        let text = "";
        for await (const part of s.textStream) text += part;
        assert.match(text, /^\[simulated upstream\]/);
        return s.providerMetadata;
      });
      assertOneCharge(streamed.rows, SONNET, usageOf(streamed.value), false, "streaming");

      const tools = await charged(org.orgId, () =>
        ai.generateText({
          model: anthropic(SONNET),
          prompt: "Weather in Paris?",
          tools: { get_weather: ai.tool({ description: "Weather for a city", inputSchema: ai.jsonSchema(WEATHER) }) },
          toolChoice: { type: "tool", toolName: "get_weather" },
          maxRetries: 0,
        }),
      );
      assert.deepEqual(tools.value.toolCalls.map((c) => [c.toolName, c.input]), [["get_weather", { city: "simulated", unit: "celsius" }]]);
      assertOneCharge(tools.rows, SONNET, usageOf(tools.value.providerMetadata), false, "tool use");

      const fast = await charged(org.orgId, () => ai.generateText({ model: anthropic(FAST_MODEL), prompt: "Quick!", providerOptions: { anthropic: { speed: "fast" } }, maxRetries: 0 }));
      assertOneCharge(fast.rows, FAST_MODEL, usageOf(fast.value.providerMetadata), true, "fast mode");
    });

    test("LangChain (@langchain/anthropic): plain, streaming, tool-use and fast-mode calls, each charged exactly its usage", async () => {
      const { ChatAnthropic } = await loadClient<LangChain>("@langchain/anthropic");
      const org = await proOrg(false);
      const sdkKey = (await addMember(h, org.orgId, { role: "member" }, "sdk")).key;
      const model = (name: string, extra: Record<string, unknown> = {}) => new ChatAnthropic({ model: name, anthropicApiUrl: h.url, apiKey: sdkKey, maxRetries: 0, maxTokens: 512, ...extra });

      const plain = await charged(org.orgId, () => model(SONNET).invoke("Hello"));
      assertOneCharge(plain.rows, SONNET, lcUsage(plain.value), false, "plain");

      const streamed = await charged(org.orgId, async () => {
        let all: LcMessage | undefined;
        for await (const chunk of await model(SONNET, { streamUsage: true }).stream("Stream, please")) all = all ? all.concat(chunk) : chunk;
        assert.ok(all);
        return all;
      });
      // LangChain adds message_start's output_tokens (the simulator, like the vendor, reports 1
      // there) to message_delta's count, which is already cumulative; the charge follows the
      // vendor's rule, so it is one output token less than LangChain's sum.
      const lcStreamed = lcUsage(streamed.value);
      assertOneCharge(streamed.rows, SONNET, { ...lcStreamed, output: lcStreamed.output - 1 }, false, "streaming");

      const tools = await charged(org.orgId, () =>
        model(SONNET)
          .bindTools([{ name: "get_weather", description: "Weather for a city", input_schema: WEATHER }], { tool_choice: { type: "tool", name: "get_weather" } })
          .invoke("Weather in Paris?"),
      );
      assert.deepEqual(tools.value.tool_calls?.map((c) => [c.name, c.args]), [["get_weather", { city: "simulated", unit: "celsius" }]]);
      assertOneCharge(tools.rows, SONNET, lcUsage(tools.value), false, "tool use");

      const fast = await charged(org.orgId, () => model(FAST_MODEL, { invocationKwargs: { speed: "fast" } }).invoke("Quick!"));
      assertOneCharge(fast.rows, FAST_MODEL, lcUsage(fast.value), true, "fast mode");
      assert.equal((await verifyLedger(h)).ok, true);
    });
  });
}
