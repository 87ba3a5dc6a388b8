// The real client packages (test/clients: Claude Code, the Agent SDK, the Vercel AI SDK,
// LangChain), installed apart from the product by `npm ci --prefix test/clients`, which
// scripts/run-tests.mjs runs when they are missing. Nothing here skips: a client that cannot be
// loaded fails its test with the command that installs it.
//
// Every client runs network-free: HOME is a fresh temporary directory, the auto-updater,
// telemetry, error reporting and non-essential traffic are off, ANTHROPIC_BASE_URL is our gateway
// and ANTHROPIC_API_KEY one of our keys; nothing else of the caller's environment is passed on.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The repository root (this file runs from dist/test/support/). */
export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const CLIENTS_DIR = join(ROOT, "test/clients");
const INSTALL = "npm ci --prefix test/clients";

/** Imports a client package from test/clients (its types are the test's own declarations). */
export async function loadClient<T>(name: string): Promise<T> {
  let path: string;
  try {
    path = createRequire(join(CLIENTS_DIR, "package.json")).resolve(name);
  } catch (err) {
    throw new Error(`The real client package ${name} is not installed in test/clients (run \`${INSTALL}\`): ${String(err)}`);
  }
  return (await import(pathToFileURL(path).href)) as T;
}

/** Claude Code's executable (its native binary comes from the npm registry with the package). */
export function claudeExecutable(): string {
  const bin = join(CLIENTS_DIR, "node_modules/.bin/claude");
  if (!existsSync(bin)) throw new Error(`Claude Code is not installed in test/clients (run \`${INSTALL}\`).`);
  return bin;
}

/** A temporary HOME for one client run; `done` removes it. */
export function tempHome(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "uc-client-home-"));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The environment a client runs in: only these variables, so nothing calls home. */
export function offlineEnv(home: string, baseUrl: string, apiKey: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    HOME: home,
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    ANTHROPIC_BASE_URL: baseUrl,
    ANTHROPIC_API_KEY: apiKey,
    ...extra,
  };
}

/** Runs `claude` with the arguments; resolves with its exit code and output (never spawnSync: the gateway runs in this process). */
export function runClaude(args: readonly string[], env: Record<string, string>, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(claudeExecutable(), args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Token usage with the classes the price book rates (a client's report, in the vendor's names). */
export interface TokenUsage {
  readonly input: number;
  readonly output: number;
  readonly cacheWrite5m: number;
  readonly cacheWrite1h: number;
  readonly cacheRead: number;
  readonly webSearches: number;
}

export const NO_TOKENS: TokenUsage = { input: 0, output: 0, cacheWrite5m: 0, cacheWrite1h: 0, cacheRead: 0, webSearches: 0 };

/**
 * DOMAIN.md §6 list prices in hundredths of a micro-dollar per token (USD per MTok × 100), typed in
 * here from the price book's rates so the test prices usage independently of our rating code.
 */
export const RATES: Readonly<Record<string, { input: bigint; w5m: bigint; w1h: bigint; read: bigint; output: bigint }>> = {
  "claude-opus-5-5": { input: 400n, w5m: 500n, w1h: 800n, read: 20n, output: 2000n },
  "claude-opus-5": { input: 500n, w5m: 625n, w1h: 1000n, read: 50n, output: 2500n },
  "claude-sonnet-4-6": { input: 300n, w5m: 375n, w1h: 600n, read: 30n, output: 1500n },
  "claude-haiku-4-5": { input: 100n, w5m: 125n, w1h: 200n, read: 10n, output: 500n },
};
/** Fast mode on the models above (the book's 2x); web search $10 per 1,000 = 1,000,000 hundredths of µ$ each. */
export const FAST_FACTOR = 2n;
const WEB_SEARCH_HUNDREDTHS = 1_000_000n;

/** The exact cost of one request in hundredths of a micro-dollar (no rounding yet). */
export function hundredths(model: string, u: TokenUsage, fast = false): bigint {
  const p = RATES[model];
  if (!p) throw new Error(`the test has no rates for ${model}`);
  const tokens = BigInt(u.input) * p.input + BigInt(u.cacheWrite5m) * p.w5m + BigInt(u.cacheWrite1h) * p.w1h + BigInt(u.cacheRead) * p.read + BigInt(u.output) * p.output;
  return tokens * (fast ? FAST_FACTOR : 1n) + BigInt(u.webSearches) * WEB_SEARCH_HUNDREDTHS;
}

/** Micro-dollars of one request: rounded once, half to even (the book's rule). */
export function micros(model: string, u: TokenUsage, fast = false): number {
  const h = hundredths(model, u, fast);
  const q = h / 100n;
  const r = h % 100n;
  return Number(r > 50n || (r === 50n && q % 2n === 1n) ? q + 1n : q);
}

/** The vendor's usage object as a client received it. */
export function fromWire(u: {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation?: { ephemeral_5m_input_tokens?: number | null; ephemeral_1h_input_tokens?: number | null } | null;
  server_tool_use?: { web_search_requests?: number | null } | null;
}): TokenUsage {
  const w1h = u.cache_creation?.ephemeral_1h_input_tokens ?? 0;
  return {
    input: u.input_tokens ?? 0,
    output: u.output_tokens ?? 0,
    cacheWrite1h: w1h,
    cacheWrite5m: u.cache_creation?.ephemeral_5m_input_tokens ?? (u.cache_creation_input_tokens ?? 0) - w1h,
    cacheRead: u.cache_read_input_tokens ?? 0,
    webSearches: u.server_tool_use?.web_search_requests ?? 0,
  };
}
