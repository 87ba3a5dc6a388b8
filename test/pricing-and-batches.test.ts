// Pricing what clients send and the endpoints they call, end to end with the official
// @anthropic-ai/sdk against the real server on SQLite and PostgreSQL: US-only inference at 1.1x,
// the current lineup and its aliases, a clear refusal of unknown models, GET /v1/models, HEAD /,
// and the Message Batches API (issue 12, acceptance 3): a batch of 100 requests is charged at the
// batch price exactly once per succeeded request, and cancelling releases the rest. The simulated
// upstream runs in process and, served over HTTP, behind HttpUpstream. Expected charges are
// computed here from the usage the SDK returned and the vendor's list prices, never with our
// rating code.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import Anthropic, { BadRequestError, NotFoundError } from "@anthropic-ai/sdk";
import type { WireServer } from "../src/adapters/upstream/wire-server.js";
import { startSimulatedUpstream } from "../src/adapters/upstream/standalone-upstream.js";
import { DEFAULT_PRICE_BOOK } from "../src/core/default-price-book.js";
import { backends } from "./support/backends.js";
import { createOrg, grant, startHarness, T0, USD, verifyLedger, type Harness } from "./support/harness.js";

// The compiled test is dist/test/…: the repository root is two levels up.
const MAIN = join(fileURLToPath(new URL("../../", import.meta.url)), "dist", "src", "main.js");

/**
 * Runs the real `usage-credits` entry point in a child process (no USAGE_CREDITS_* of ours leaks
 * in). Asynchronous: the server under test keeps answering (and keeping its connections) meanwhile.
 */
function cli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("USAGE_CREDITS_")) env[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** USD per MTok × 100 (hundredths of a µ$ per token): exact integers. */
const SONNET_4_6 = { input: 300n, w5m: 375n, w1h: 600n, read: 30n, output: 1500n };
const OPUS_4_7 = { input: 500n, w5m: 625n, w1h: 1000n, read: 50n, output: 2500n };

interface WireUsage {
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cache_creation_input_tokens?: number | null;
  readonly cache_read_input_tokens?: number | null;
}

/** µ$ for one request: Σ tokens × price, × num/den (the stacked modifiers), rounded once, half to even. */
function priced(u: WireUsage, p: typeof SONNET_4_6, num: bigint, den: bigint): number {
  const hundredths = BigInt(u.input_tokens) * p.input + BigInt(u.cache_creation_input_tokens ?? 0) * p.w5m + BigInt(u.cache_read_input_tokens ?? 0) * p.read + BigInt(u.output_tokens) * p.output;
  const n = hundredths * num;
  const d = 100n * den;
  const q = n / d;
  const r = n % d;
  return Number(2n * r > d || (2n * r === d && q % 2n === 1n) ? q + 1n : q);
}

const MODES = [
  { name: "simulated upstream in process", http: false },
  { name: "simulated upstream over HTTP", http: true },
] as const;

for (const mode of MODES) {
  for (const backend of backends()) {
    describe(`pricing and batches on ${backend.name}, ${mode.name}`, () => {
      let h: Harness;
      let sim: WireServer | undefined;
      let databaseUrl = "";
      before(async () => {
        if (mode.http) sim = await startSimulatedUpstream();
        databaseUrl = await backend.createDatabase();
        h = await startHarness(databaseUrl, sim ? { USAGE_CREDITS_UPSTREAM: sim.url } : {});
      });
      after(async () => {
        await h.close();
        await sim?.close();
        await backend.cleanup();
      });

      const sdk = (key: string) => new Anthropic({ baseURL: h.url, apiKey: key, maxRetries: 0 });
      const ask = (content: string, extra: Record<string, unknown> = {}) => ({ model: "claude-sonnet-4-6", max_tokens: 256, messages: [{ role: "user" as const, content }], ...extra });

      async function balance(orgId: string, key: string): Promise<number> {
        const r = await h.request("GET", `/v1/organizations/${orgId}/usage_summary`, { key });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        return Number((r.body["usage_credits"] as Record<string, unknown>)["balance"]);
      }

      async function creditsOrg(amount: number) {
        const org = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
        if (amount > 0) await grant(h, org.orgId, { amount: String(amount) });
        return org;
      }

      async function ledgerClean(): Promise<void> {
        const agg = await h.app.services.store.transaction((tx) => tx.ledgerAggregates());
        assert.deepEqual(agg.holds.filter((x) => x.status === "pending").map((x) => x.id), [], "no hold left pending");
        const v = await verifyLedger(h);
        assert.equal(v.ok, true, JSON.stringify(v.violations));
      }

      async function settles(orgId: string): Promise<number> {
        const r = await h.request("GET", `/v1/organizations/${orgId}/transactions?kind=settle&limit=500`);
        return (r.body["data"] as Array<Record<string, string>>).filter((t) => t["kind"] === "settle").length;
      }

      test('inference_geo "us" is charged 1.1x; an unknown geo is refused before anything is held', async () => {
        const { orgId, ownerKey } = await creditsOrg(10 * USD);
        const client = sdk(ownerKey);
        const b0 = await balance(orgId, ownerKey);
        const msg = await client.messages.create(ask("US-only inference, please.", { inference_geo: "us" }));
        const b1 = await balance(orgId, ownerKey);
        assert.equal(b0 - b1, priced(msg.usage, SONNET_4_6, 11n, 10n));
        const global = await client.messages.create(ask("Anywhere is fine.", { inference_geo: "global" }));
        assert.equal(b1 - (await balance(orgId, ownerKey)), priced(global.usage, SONNET_4_6, 1n, 1n));
        const err = await client.messages.create(ask("Mars?", { inference_geo: "mars" })).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(err instanceof BadRequestError, String(err));
        assert.match(err.message, /inference_geo/);
        await ledgerClean();
      });

      test("the lineup clients default to is priced: claude-opus-4-7 fast at its own 6x; aliases and [1m] work; an unknown model is a 400 naming the priced models", async () => {
        const { orgId, ownerKey } = await creditsOrg(10 * USD);
        const client = sdk(ownerKey);
        const b0 = await balance(orgId, ownerKey);
        const fast = await client.messages.create({ ...ask("Fast Opus."), model: "claude-opus-4-7", speed: "fast", stream: false });
        assert.equal(b0 - (await balance(orgId, ownerKey)), priced(fast.usage, OPUS_4_7, 6n, 1n));
        for (const model of ["opus", "sonnet", "haiku", "claude-opus-4-8", "claude-sonnet-5", "claude-haiku-4-5-20251001", "claude-sonnet-4-5[1m]", "claude-opus-4-1"]) {
          const m = await client.messages.create({ ...ask(`Hello ${model}`), model });
          assert.ok(m.usage.output_tokens > 0, model);
        }
        const r = await h.request("POST", "/v1/messages", { key: ownerKey, body: ask("?", { model: "claude-opus-9" }) });
        assert.equal(r.status, 400);
        const e = r.body["error"] as Record<string, unknown>;
        assert.equal(e["type"], "invalid_request_error");
        assert.equal(e["code"], "unknown_model");
        assert.match(String(e["message"]), /claude-opus-4-8.*claude-haiku-4-5/);
        assert.ok((e["details"] as { priced_models: string[] }).priced_models.includes("claude-opus-4-7"));
        await ledgerClean();
      });

      test("GET /v1/models lists the book in force in the vendor's shape (SDK pagination and ?beta=true); /v1/models/{id} resolves aliases; HEAD / and GET / answer", async () => {
        const { ownerKey } = await creditsOrg(0);
        const client = sdk(ownerKey);
        const ids: string[] = [];
        for await (const m of client.models.list({ limit: 4 })) {
          assert.equal(m.type, "model");
          assert.ok(m.display_name.length > 0 && !Number.isNaN(Date.parse(m.created_at)));
          ids.push(m.id);
        }
        const book = await h.request("GET", "/v1/price_books");
        const specs = book.body["data"] as Array<{ version: number; models: Array<{ id: string }> }>;
        const inForce = specs.reduce((a, b) => (b.version > a.version ? b : a));
        assert.deepEqual(ids, inForce.models.map((m) => m.id));
        assert.ok(ids.includes("claude-opus-4-7") && ids.includes("claude-sonnet-5"));

        const page = await h.request("GET", "/v1/models?beta=true&limit=2", { key: ownerKey });
        assert.equal(page.status, 200);
        assert.equal(page.body["has_more"], true);
        assert.equal(page.body["first_id"], ids[0]);
        assert.equal(page.body["last_id"], ids[1]);
        const next = await h.request("GET", `/v1/models?limit=2&after_id=${ids[1]}`, { key: ownerKey });
        assert.equal((next.body["data"] as Array<{ id: string }>)[0]?.id, ids[2]);

        const opus = await client.models.retrieve("opus");
        assert.equal(opus.id, "claude-opus-4-8");
        assert.equal((await client.models.retrieve("claude-haiku-4-5-20251001")).display_name, "Claude Haiku 4.5");
        const missing = await client.models.retrieve("claude-nope").then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(missing instanceof NotFoundError, String(missing));

        const head = await fetch(`${h.url}/`, { method: "HEAD" });
        assert.equal(head.status, 200);
        assert.equal(await head.text(), "");
        assert.equal((await fetch(`${h.url}/?beta=true`, { method: "HEAD" })).status, 200);
        const root = await fetch(`${h.url}/`, { redirect: "manual" });
        assert.ok(root.status === 200 || root.status === 302, `GET / answered ${root.status}`);
      });

      if (!mode.http) {
        test("price-books import --dry-run names the changed models and rates and the organizations that sent them; import publishes", async () => {
          const opusUser = await creditsOrg(10 * USD);
          await sdk(opusUser.ownerKey).messages.create({ ...ask("Opus 4.7, please."), model: "claude-opus-4-7" });
          await sdk(opusUser.ownerKey).messages.create({ ...ask("Haiku, please."), model: "haiku" });
          const sonnetUser = await creditsOrg(10 * USD);
          await sdk(sonnetUser.ownerKey).messages.create({ ...ask("Sonnet 5, please."), model: "claude-sonnet-5" });

          // The next book: Opus 4.7 input $5 → $6, the `haiku` alias dropped; Sonnet 5 unchanged.
          const next = structuredClone(DEFAULT_PRICE_BOOK);
          next.id = "pb_next";
          next.version = 1;
          next.effective_from = "2099-01-01T00:00:00Z";
          for (const m of next.models) {
            if (m.id === "claude-opus-4-7") m.input = "6";
            if (m.id === "claude-haiku-4-5") m.aliases = [];
          }
          const dir = mkdtempSync(join(tmpdir(), "uc-price-book-"));
          try {
            const file = join(dir, "next.json");
            writeFileSync(file, JSON.stringify(next));
            const since = new Date(T0 - 86_400_000).toISOString();
            const dry = await cli(["price-books", "import", file, "--dry-run", "--json", "--since", since, "--database", databaseUrl]);
            assert.equal(dry.code, 0, dry.stderr);
            const review = JSON.parse(dry.stdout) as {
              changes: Array<{ model: string | null; field: string; from: string | null; to: string | null }>;
              names: Array<{ name: string; from: string | null; to: string | null; change: string }>;
              organizations: Array<{ org_id: string; requests: number; models: Array<{ name: string }> }>;
            };
            assert.deepEqual(review.changes, [
              { model: "claude-opus-4-7", field: "input", from: "5", to: "6" },
              { model: "claude-haiku-4-5", field: "aliases", from: "haiku", to: null },
            ]);
            assert.deepEqual(
              review.names.filter((n) => n.name === "claude-opus-4-7" || n.name === "haiku"),
              [
                { name: "claude-opus-4-7", from: "claude-opus-4-7", to: "claude-opus-4-7", change: "repriced" },
                { name: "haiku", from: "claude-haiku-4-5", to: null, change: "refused" },
              ],
            );
            assert.ok(!review.names.some((n) => n.name === "claude-sonnet-5"), "an unchanged model is not listed");
            const mine = review.organizations.find((o) => o.org_id === opusUser.orgId);
            assert.deepEqual(mine?.models.map((m) => m.name).sort(), ["claude-opus-4-7", "haiku"]);
            assert.ok(!review.organizations.some((o) => o.org_id === sonnetUser.orgId), "an organization that used only unchanged models is not listed");
            const books = async () => (await h.app.services.store.read((tx) => tx.listPriceBooks())).map((b) => `${b.id}@${b.version}`);
            assert.ok(!(await books()).includes("pb_next@1"), "a dry run writes nothing");

            const text = await cli(["price-books", "diff", file, "--since", since, "--database", databaseUrl]);
            assert.equal(text.code, 0, text.stderr);
            assert.match(text.stdout, /claude-opus-4-7\s+input\s+5\s+6/);
            assert.match(text.stdout, new RegExp(opusUser.orgId));

            const real = await cli(["price-books", "import", file, "--database", databaseUrl]);
            assert.equal(real.code, 0, real.stderr);
            assert.match(real.stdout, /published pb_next version 1/);
            assert.ok((await books()).includes("pb_next@1"));
            const again = await cli(["price-books", "import", file, "--database", databaseUrl]);
            assert.notEqual(again.code, 0, "a book version is published once");
            const bad = await cli(["price-books", "diff", join(dir, "missing.json"), "--database", databaseUrl]);
            assert.notEqual(bad.code, 0);
            assert.match(bad.stderr, /cannot read/);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        });
      }

      test("a batch of 100 requests through messages.batches is charged at the batch price, exactly once per succeeded request; errored ones are released", async () => {
        const { orgId, ownerKey } = await creditsOrg(20 * USD);
        const client = sdk(ownerKey);
        const b0 = await balance(orgId, ownerKey);
        const requests = Array.from({ length: 100 }, (_, i) => ({
          custom_id: `req-${i}`,
          params: { ...ask(`Batch request number ${i}: tell me about usage credits.`), ...(i % 4 === 0 ? { inference_geo: "us" } : {}) },
        }));
        const created = await client.messages.batches.create({ requests } as Parameters<typeof client.messages.batches.create>[0], { headers: { "x-simulate": "batch_errored_every:10" } });
        assert.match(created.id, /^msgbatch_/);
        assert.equal(created.type, "message_batch");
        assert.equal(created.results_url, null);

        let batch = created;
        for (let i = 0; batch.processing_status !== "ended"; i++) {
          assert.ok(i < 500, "the batch ends");
          await sleep(20);
          batch = await client.messages.batches.retrieve(created.id);
        }
        assert.deepEqual(batch.request_counts, { processing: 0, succeeded: 90, errored: 10, canceled: 0, expired: 0 });
        assert.ok(batch.results_url?.startsWith(h.url), String(batch.results_url));

        let expected = 0;
        let succeeded = 0;
        const seen = new Set<string>();
        for await (const line of await client.messages.batches.results(created.id)) {
          seen.add(line.custom_id);
          const i = Number(line.custom_id.slice(4));
          if ((i + 1) % 10 === 0) {
            assert.equal(line.result.type, "errored", line.custom_id);
            continue;
          }
          assert.equal(line.result.type, "succeeded", line.custom_id);
          if (line.result.type !== "succeeded") continue;
          succeeded++;
          // Batch 50%, US-only 1.1x on every 4th: × 1/2 or × 11/20.
          expected += i % 4 === 0 ? priced(line.result.message.usage, SONNET_4_6, 11n, 20n) : priced(line.result.message.usage, SONNET_4_6, 1n, 2n);
        }
        assert.equal(seen.size, 100);
        assert.equal(succeeded, 90);
        assert.equal(b0 - (await balance(orgId, ownerKey)), expected, "charged the batch price of each succeeded request");
        assert.equal(await settles(orgId), 90, "one settle per succeeded request");

        // Asking again (retrieve, list, results, the scheduled reconcile) never charges again.
        await client.messages.batches.retrieve(created.id);
        const beta = await h.request("GET", `/v1/messages/batches/${created.id}?beta=true`, { key: ownerKey });
        assert.equal(beta.status, 200, "?beta=true, as the SDK's beta namespace sends it");
        for await (const _ of await client.messages.batches.results(created.id)) void _;
        const listed = [];
        for await (const b of client.messages.batches.list()) listed.push(b.id);
        assert.deepEqual(listed, [created.id]);
        h.clock.advance(3_600_000);
        await h.app.runJobs();
        assert.equal(b0 - (await balance(orgId, ownerKey)), expected);
        assert.equal(await settles(orgId), 90);
        await ledgerClean();
      });

      test("cancelling a batch releases every request not yet processed; the processed ones are charged at the batch price", async () => {
        const { orgId, ownerKey } = await creditsOrg(20 * USD);
        const client = sdk(ownerKey);
        const b0 = await balance(orgId, ownerKey);
        const requests = Array.from({ length: 100 }, (_, i) => ({ custom_id: `c${i}`, params: ask(`Cancel me maybe ${i}`) }));
        const created = await client.messages.batches.create({ requests }, { headers: { "x-simulate": "batch_stop_after:40" } });
        let batch = created;
        for (let i = 0; batch.request_counts.succeeded < 40; i++) {
          assert.ok(i < 500, "40 requests are processed");
          await sleep(20);
          batch = await client.messages.batches.retrieve(created.id);
        }
        assert.equal(batch.processing_status, "in_progress");
        const canceling = await client.messages.batches.cancel(created.id);
        assert.ok(canceling.processing_status === "canceling" || canceling.processing_status === "ended");
        assert.ok(canceling.cancel_initiated_at !== null);
        for (let i = 0; batch.processing_status !== "ended"; i++) {
          assert.ok(i < 500, "the canceled batch ends");
          await sleep(20);
          batch = await client.messages.batches.retrieve(created.id);
        }
        assert.deepEqual(batch.request_counts, { processing: 0, succeeded: 40, errored: 0, canceled: 60, expired: 0 });
        let expected = 0;
        let canceled = 0;
        for await (const line of await client.messages.batches.results(created.id)) {
          if (line.result.type === "succeeded") expected += priced(line.result.message.usage, SONNET_4_6, 1n, 2n);
          else if (line.result.type === "canceled") canceled++;
        }
        assert.equal(canceled, 60);
        assert.equal(b0 - (await balance(orgId, ownerKey)), expected);
        assert.equal(await settles(orgId), 40);
        await ledgerClean();
      });

      test("a batch is admitted like any request, all or nothing: without credits for every worst case it is refused and nothing stays held", async () => {
        // 100 requests at max_tokens 256 on Sonnet 4.6, batch price: each worst case is ≥ 256 × $7.50/MTok ≈ 1,920 µ$.
        const { orgId, ownerKey } = await creditsOrg(0.1 * USD);
        const client = sdk(ownerKey);
        const b0 = await balance(orgId, ownerKey);
        const requests = Array.from({ length: 100 }, (_, i) => ({ custom_id: `p${i}`, params: ask(`Too many ${i}`) }));
        const err = await client.messages.batches.create({ requests }).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(err instanceof BadRequestError, String(err));
        assert.match(err.message, /nothing of the batch was accepted/);
        assert.equal(await balance(orgId, ownerKey), b0);
        const unknown = await client.messages.batches.create({ requests: [{ custom_id: "u", params: ask("?", { model: "claude-nope" }) }] }).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(unknown instanceof BadRequestError, String(unknown));
        assert.match(unknown.message, /requests\.0\.params\.model/);
        const missing = await client.messages.batches.retrieve("msgbatch_nope").then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(missing instanceof NotFoundError, String(missing));
        await ledgerClean();
      });
    });
  }
}
