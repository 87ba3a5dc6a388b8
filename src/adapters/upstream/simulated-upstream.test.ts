// The simulated upstream as a client sees it: tool_use when a tool is forced or asked for (inputs
// from the tool's schema), one round trip per prompt under the directive, web searches counted
// within max_uses, cache writes then reads, thinking tokens, and messages of any role.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { UpstreamResponse } from "../../ports/upstream.js";
import { sampleFromSchema } from "./schema-sample.js";
import { SimulatedUpstream } from "./simulated-upstream.js";

const WEATHER = { name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" }, days: { type: "integer", minimum: 1 }, unit: { enum: ["c", "f"] } }, required: ["city", "days", "unit"] } };
const OTHER = { name: "other", input_schema: { type: "object", properties: {} } };

async function send(body: Record<string, unknown>, simulate?: string): Promise<Record<string, unknown>> {
  const sim = new SimulatedUpstream({ latencyMs: 0 });
  const r: UpstreamResponse = await sim.send({ body: { model: "claude-sonnet-4-6", max_tokens: 1024, ...body }, headers: simulate ? { "x-simulate": simulate } : {} }, new AbortController().signal);
  assert.equal(r.kind, "json", JSON.stringify(r.kind === "error" ? r.body : ""));
  return r.kind === "json" ? r.body : {};
}
const blocks = (m: Record<string, unknown>) => m["content"] as Array<Record<string, unknown>>;
const usage = (m: Record<string, unknown>) => m["usage"] as Record<string, unknown>;
const user = (content: unknown) => ({ role: "user", content });

describe("simulated upstream", () => {
  test("tool_choice naming a tool: a tool_use with an input generated from its schema", async () => {
    const m = await send({ tools: [OTHER, WEATHER], tool_choice: { type: "tool", name: "get_weather" }, messages: [user("Weather?")] });
    assert.equal(m["stop_reason"], "tool_use");
    const call = blocks(m).find((b) => b["type"] === "tool_use");
    assert.deepEqual([call?.["name"], call?.["input"]], ["get_weather", { city: "simulated", days: 1, unit: "c" }]);
    assert.match(String(call?.["id"]), /^toolu_sim_/);
  });

  test("the tool_use directive asks once: after the tool_result the model answers in text", async () => {
    const first = await send({ tools: [OTHER, WEATHER], messages: [user("Weather?")] }, "tool_use:get_weather");
    assert.equal(first["stop_reason"], "tool_use");
    const call = blocks(first).find((b) => b["type"] === "tool_use");
    const second = await send(
      { tools: [OTHER, WEATHER], messages: [user("Weather?"), { role: "assistant", content: blocks(first) }, user([{ type: "tool_result", tool_use_id: call?.["id"], content: "sunny" }])] },
      "tool_use:get_weather",
    );
    assert.equal(second["stop_reason"], "end_turn");
    assert.ok(!blocks(second).some((b) => b["type"] === "tool_use"));
    const none = await send({ messages: [user("No tools offered")] }, "tool_use");
    assert.equal(none["stop_reason"], "end_turn", "no tools offered: no tool_use");
  });

  test("web searches: the directive's count within max_uses, reported as server_tool_use", async () => {
    const m = await send({ tools: [{ type: "web_search_20250305", name: "web_search", max_uses: 2 }], messages: [user("News?")] }, "web_search:5");
    assert.deepEqual(usage(m)["server_tool_use"], { web_search_requests: 2 });
    assert.equal(blocks(m).filter((b) => b["type"] === "server_tool_use").length, 2);
    assert.equal(blocks(m).filter((b) => b["type"] === "web_search_tool_result").length, 2);
    const forced = await send({ tools: [{ type: "web_search_20250305", name: "web_search" }], tool_choice: { type: "tool", name: "web_search" }, messages: [user("News?")] });
    assert.deepEqual(usage(forced)["server_tool_use"], { web_search_requests: 1 });
  });

  test("cache_control: written once, then read; thinking tokens are output tokens; a mid-conversation system message is read like any other", async () => {
    const sim = new SimulatedUpstream({ latencyMs: 0 });
    const body = {
      model: "claude-sonnet-4-6",
      max_tokens: 1024,
      thinking: { type: "adaptive" },
      system: [{ type: "text", text: "x".repeat(4000), cache_control: { type: "ephemeral" } }],
      messages: [user("Hi"), { role: "assistant", content: "Hello" }, { role: "system", content: "Be brief." }, user("Again")],
    };
    const a = await sim.send({ body, headers: {} }, new AbortController().signal);
    const b = await sim.send({ body, headers: {} }, new AbortController().signal);
    assert.ok(a.kind === "json" && b.kind === "json");
    assert.equal(usage(a.body)["cache_creation_input_tokens"], 1000);
    assert.equal(usage(b.body)["cache_read_input_tokens"], 1000);
    assert.ok(blocks(a.body).some((x) => x["type"] === "thinking"));
  });

  test("sampleFromSchema: required properties only, within their bounds", () => {
    assert.deepEqual(sampleFromSchema({ type: "object", properties: { a: { type: "string", minLength: 12 }, b: { type: "number" } }, required: ["a"] }), { a: "simulatedxxx" });
    assert.deepEqual(sampleFromSchema({ type: "array", minItems: 2, items: { type: ["null", "boolean"] } }), [true, true]);
    assert.deepEqual(sampleFromSchema({ anyOf: [{ type: "null" }, { const: 7 }] }), 7);
    assert.deepEqual(sampleFromSchema({ type: "integer", exclusiveMinimum: 0, maximum: 9 }), 1);
  });
});
