// Captures the request bodies the real clients send, as test/fixtures/clients/<client>.body.json
// (the exact bytes) and <client>.headers.json (the headers that matter to a gateway). Run after a
// build, with the clients installed: `npm ci --prefix test/clients && npx tsc -p tsconfig.json &&
// node test/clients/capture-fixtures.mjs`. The clients talk to the simulated upstream directly
// (no gateway in between), with the same network-free settings the client tests use.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { pathToFileURL } from "node:url";

const root = new URL("../../", import.meta.url).pathname;
const clients = createRequire(join(root, "test/clients/package.json"));
const load = async (name) => import(pathToFileURL(clients.resolve(name)).href);
const { startSimulatedUpstream } = await import(pathToFileURL(join(root, "dist/src/adapters/upstream/standalone-upstream.js")).href);

const out = join(root, "test/fixtures/clients");
mkdirSync(out, { recursive: true });
let current = "";
let n = 0;
const KEEP = ["anthropic-version", "anthropic-beta", "user-agent", "x-app", "content-type"];
const sim = await startSimulatedUpstream({
  onRequest: (r) => {
    if (!r.url.startsWith("/v1/messages") || r.url.startsWith("/v1/messages/count_tokens")) return;
    const name = `${current}-${++n}`;
    writeFileSync(join(out, `${name}.body.json`), r.body);
    const headers = Object.fromEntries(KEEP.filter((k) => typeof r.headers[k] === "string").map((k) => [k, r.headers[k]]));
    writeFileSync(join(out, `${name}.headers.json`), `${JSON.stringify({ url: r.url, headers }, null, 2)}\n`);
  },
});
const home = mkdtempSync(join(tmpdir(), "uc-capture-"));
const env = {
  PATH: process.env.PATH ?? "",
  HOME: home,
  DISABLE_AUTOUPDATER: "1",
  DISABLE_TELEMETRY: "1",
  DISABLE_ERROR_REPORTING: "1",
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  ANTHROPIC_BASE_URL: sim.url,
  ANTHROPIC_API_KEY: "uck_capture",
  ANTHROPIC_CUSTOM_HEADERS: "x-simulate: tool_use:Read",
};
const begin = (name) => {
  current = name;
  n = 0;
};
try {
  begin("claude-code");
  // Not spawnSync: the simulated upstream answers from this process's event loop.
  const child = spawn(join(root, "test/clients/node_modules/.bin/claude"), ["-p", "--output-format", "json", "Read the file notes.txt"], { env, cwd: home, stdio: ["ignore", "ignore", "inherit"] });
  await new Promise((done) => child.on("close", done));
  begin("agent-sdk");
  const { query } = await load("@anthropic-ai/claude-agent-sdk");
  for await (const _ of query({ prompt: "Read the file notes.txt", options: { env, cwd: home, maxTurns: 4 } })) void _;
  begin("official-sdk");
  const { default: Anthropic } = await import("@anthropic-ai/sdk");
  const sdk = new Anthropic({ baseURL: sim.url, apiKey: "uck_capture" });
  await sdk.beta.messages.create({
    model: "claude-opus-4-5",
    max_tokens: 2048,
    thinking: { type: "adaptive" },
    betas: ["context-management-2025-06-27", "a-future-beta-2027-01-01"],
    context_management: { edits: [{ type: "clear_tool_uses_20250919" }] },
    messages: [{ role: "user", content: "Hello" }],
  });
  begin("ai-sdk");
  const { generateText } = await load("ai");
  const { createAnthropic } = await load("@ai-sdk/anthropic");
  const anthropic = createAnthropic({ baseURL: `${sim.url}/v1`, apiKey: "uck_capture" });
  await generateText({ model: anthropic("claude-sonnet-4-6"), system: "Be brief.", prompt: "Hello", providerOptions: { anthropic: { thinking: { type: "enabled", budgetTokens: 1024 } } } });
  begin("langchain");
  const { ChatAnthropic } = await load("@langchain/anthropic");
  const lc = new ChatAnthropic({ model: "claude-sonnet-4-6", anthropicApiUrl: sim.url, apiKey: "uck_capture", maxRetries: 0 });
  await lc.invoke([["system", "Be brief."], ["human", "Hello"]]);
} finally {
  await sim.close();
  rmSync(home, { recursive: true, force: true });
}
