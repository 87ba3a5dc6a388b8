// Graceful shutdown of the real `serve` process, on SQLite and on PostgreSQL: a burst of usage
// events from many keep-alive clients, SIGTERM in the middle of it. Every request must either get
// an answer that the database reflects, or be refused before the server accepted it (a connection
// error): the holds in the database are exactly the acknowledged events, none is left pending,
// requests in flight at the signal still complete, the ledger verifies and the process exits 0.

import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { Agent, request } from "node:http";
import { createInterface } from "node:readline";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { openPostgres } from "../src/adapters/store/postgres-driver.js";
import { openSqlite } from "../src/adapters/store/sqlite-driver.js";
import { createApp } from "../src/app.js";
import { loadConfig } from "../src/config/config.js";
import { verifyLedger } from "../src/core/ledger-verify.js";
import { silentLogger } from "../src/ports/logger.js";
import { backends, openTestStore } from "./support/backends.js";

const MAIN = fileURLToPath(new URL("../src/main.js", import.meta.url));
const WORKERS = 24;
const SIGNAL_AFTER = 150;

/** One POST over the keep-alive agent: the status, or a rejection when no answer came. */
function post(agent: Agent, url: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", agent, headers: { ...headers, "content-length": String(Buffer.byteLength(body)) } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

function serve(databaseUrl: string): Promise<{ url: string; child: ChildProcess; stdout: () => string; exited: Promise<number | string | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, "serve", "--port", "0", "--no-demo", "--database", databaseUrl], {
      env: { ...process.env, USAGE_CREDITS_LOG: "error" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<number | string | null>((r) => child.on("exit", (code, signal) => r(code ?? signal)));
    let out = "";
    const timer = setTimeout(() => reject(new Error("server did not start")), 30_000);
    createInterface({ input: child.stdout! }).on("line", (l) => {
      out += `${l}\n`;
      const m = /listening on (http:\/\/\S+)/.exec(l);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ url: m[1], child, stdout: () => out, exited });
      }
    });
  });
}

for (const backend of backends()) {
  describe(`graceful shutdown on ${backend.name}`, () => {
    after(() => backend.cleanup());

    test("SIGTERM mid-burst: every answered request is in the database, nothing unanswered is, no hold left pending, exit 0", async () => {
      const db = await backend.createDatabase();
      const setup = await createApp(loadConfig({ USAGE_CREDITS_SWEEP_SECONDS: "86400" }, { database: db }), { log: silentLogger, store: await openTestStore(db) });
      const out = await setup.services.admin.createOrg({ name: "s", planId: "enterprise_usage", usageCreditsEnabled: true, fastModeEnabled: true, fastModeFallback: false, owner: { email: "s@s.test", name: "s" } });
      assert.ok(out.kind === "fresh" && out.result.ok);
      const { org, key } = out.result.value;
      await setup.services.engine.createGrant({ orgId: org.id, kind: "purchase", amount: 1_000_000_000, priority: 5, expiresAt: null, surfaces: null, memberId: null, description: "" });
      await setup.close();

      const server = await serve(db);
      // Keep-alive connections, as a real client pool has them: requests also arrive on sockets the server already holds.
      const agent = new Agent({ keepAlive: true, maxSockets: WORKERS });
      const acknowledged = new Set<string>();
      const answeredOther: string[] = [];
      const refused: string[] = [];
      let signalled = false;
      let answeredAfterSignal = 0;
      let next = 0;
      const worker = async (): Promise<void> => {
        for (;;) {
          const eventId = `ev-${next++}`;
          try {
            const status = await post(
              agent,
              `${server.url}/v1/organizations/${org.id}/usage_events`,
              { "x-api-key": key.secret, "content-type": "application/json" },
              JSON.stringify({ event_id: eventId, model: "claude-haiku-4-5", amount: "1000" }),
            );
            if (signalled) answeredAfterSignal++;
            if (status === 201) acknowledged.add(eventId);
            else answeredOther.push(`${eventId}:${status}`);
            if (acknowledged.size === SIGNAL_AFTER && !signalled) {
              signalled = true;
              server.child.kill("SIGTERM");
            }
          } catch (err) {
            // No answer: the server refused the connection (or closed it before reading this request).
            refused.push(`${eventId}:${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
            return;
          }
        }
      };
      await Promise.all(Array.from({ length: WORKERS }, worker));
      const code = await server.exited;
      agent.destroy();

      assert.equal(code, 0, `exit code 0 after SIGTERM\n${server.stdout()}`);
      assert.match(server.stdout(), /SIGTERM: draining in-flight requests and batches, then exiting\ndrained; exiting\n/);
      assert.ok(signalled, "the burst reached the signal");
      assert.deepEqual(answeredOther, [], "every answered request succeeded (none was cut into an error)");
      assert.ok(answeredAfterSignal >= 1, `requests in flight at the signal were still answered (${answeredAfterSignal})`);
      assert.equal(refused.length, WORKERS, `each client ended with a clean refusal: ${refused.slice(0, 5).join(", ")}`);

      const driver = db.startsWith("sqlite:") ? openSqlite(db.slice(7)) : openPostgres(db, 1);
      try {
        const holds = await driver.transaction((q) => q.all("SELECT status, metadata FROM holds"));
        const inDb = new Set(holds.map((r) => String((JSON.parse(String(r["metadata"])) as Record<string, string>)["event_id"])));
        const lost = [...acknowledged].filter((e) => !inDb.has(e));
        const unanswered = [...inDb].filter((e) => !acknowledged.has(e));
        assert.deepEqual(lost, [], "nothing acknowledged is lost");
        assert.deepEqual(unanswered, [], "nothing was done without an answer");
        assert.deepEqual(holds.filter((r) => r["status"] !== "settled").map((r) => r["status"]), [], "no hold left pending");
        const store = await openTestStore(db);
        try {
          assert.deepEqual(verifyLedger(await store.read((tx) => tx.ledgerAggregates())), []);
        } finally {
          await store.close();
        }
        process.stderr.write(`  shutdown on ${backend.name}: ${acknowledged.size} acknowledged, ${answeredAfterSignal} answered after SIGTERM, ${refused.length} refused (${[...new Set(refused.map((r) => r.split(":")[1]))].join(", ")})\n`);
      } finally {
        await driver.close();
      }
    });
  });
}
