// A real deployment without the demo, as an operator lives it: the compiled CLI and server in their
// own processes against a real PostgreSQL server and real SQLite files. `usage-credits init` (or
// the first `serve` in production mode) creates the database when the role may, or names the
// command that does; it prints one operator key, once; that key creates an organization, grants
// credits and reads /metrics; no demo data is made; restarting changes nothing. Operator keys are
// created, rotated and revoked over the API and the CLI, and each change is in the audit log.

import assert from "node:assert/strict";
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { after, describe, test } from "node:test";
import pg from "pg";
import { PG_ADMIN_URL, pgSkipped } from "./support/backends.js";
import { sql } from "./support/mixed-load.js";
import { MAIN } from "./support/server-process.js";

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A clean environment: no USAGE_CREDITS_* variable of the caller leaks in. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("USAGE_CREDITS_")) env[k] = v;
  return { ...env, USAGE_CREDITS_LOG: "error", ...extra };
}

function run(cmd: string, args: readonly string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const cli = (args: readonly string[], cwd: string, env: Record<string, string> = {}) => run(process.execPath, [MAIN, ...args], cwd, env);
const show = (r: Run): string => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
const secrets = (text: string): string[] => text.match(/uck_[A-Za-z0-9_-]{20,}/g) ?? [];

interface Server {
  readonly url: string;
  readonly banner: string;
  stop(): Promise<void>;
}

/** `serve --port 0` until its whole banner is out (it ends with a line about operator keys or the demo's curl hint). */
function serve(args: readonly string[], cwd: string, env: Record<string, string> = {}): Promise<Server> {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(process.execPath, [MAIN, "serve", "--port", "0", ...args], { cwd, env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`not serving in time\n${out}\n${err}`));
    }, 60_000);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`serve exited before its banner\n--- stdout\n${out}\n--- stderr\n${err}`));
    });
    child.stdout.on("data", (d: string) => {
      out += d;
      const m = /^usage-credits listening on (http:\/\/\S+)\n/.exec(out);
      if (!m?.[1] || !/(operator-keys (create|--help)|Try: curl)[^\n]*\n/.test(out)) return;
      clearTimeout(timer);
      resolve({
        url: m[1],
        banner: out,
        async stop() {
          child.kill("SIGTERM");
          await exited;
        },
      });
    });
  });
}

async function api(url: string, key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { "x-api-key": key, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // /metrics is text
  }
  return { status: res.status, body: parsed, text };
}

/** Row counts of every table: what "restarting changes nothing" compares. */
async function tableCounts(db: string): Promise<Record<string, number>> {
  const tables = db.startsWith("sqlite:")
    ? (await sql(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")).map((r) => String(r["name"]))
    : (await sql(db, "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name")).map((r) => String(r["name"]));
  const out: Record<string, number> = {};
  for (const t of tables) out[t] = Number((await sql(db, `SELECT COUNT(*) AS n FROM ${t}`))[0]?.["n"]);
  return out;
}

async function pgAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function pgUrl(database: string, user?: string): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${database}`;
  if (user !== undefined) u.username = user;
  return u.toString();
}

const unique = (prefix: string) => `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`;

/** A working deployment: an organization with credits, created with the operator key, and /metrics read with it. */
async function operate(url: string, key: string): Promise<string> {
  const org = await api(url, key, "POST", "/v1/organizations", { name: "Acme", plan_id: "pro", usage_credits_enabled: true, owner: { email: "ops@acme.test", name: "Ops" } });
  assert.equal(org.status, 201, org.text);
  const orgId = String(org.body["id"]);
  const grant = await api(url, key, "POST", `/v1/organizations/${orgId}/grants`, { kind: "promotional", amount: "25000000" });
  assert.equal(grant.status, 201, grant.text);
  const metrics = await api(url, key, "GET", "/metrics");
  assert.equal(metrics.status, 200, metrics.text);
  assert.match(metrics.text, /^# (HELP|TYPE) /m);
  const orgs = await api(url, key, "GET", "/v1/organizations");
  assert.deepEqual((orgs.body["data"] as Array<{ name: string }>).map((o) => o.name), ["Acme"], "the only organization is the operator's: no demo");
  return orgId;
}

describe("bootstrap on PostgreSQL, without the demo", { skip: pgSkipped() }, () => {
  const databases: string[] = [];
  const roles: string[] = [];
  const work = mkdtempSync(join(tmpdir(), "uc-boot-"));
  after(async () => {
    await pgAdmin(async (c) => {
      for (const d of databases) await c.query(`DROP DATABASE IF EXISTS ${d} WITH (FORCE)`);
      for (const r of roles) await c.query(`DROP ROLE IF EXISTS ${r}`);
    });
    rmSync(work, { recursive: true, force: true });
  });

  test("init on an empty database prints one operator key, once; it creates an organization, grants credits and reads metrics; no demo; restarting changes nothing", async () => {
    const name = unique("uc_boot");
    databases.push(name);
    const db = pgUrl(name);
    const init = await cli(["init", "--database", db], work);
    assert.equal(init.code, 0, show(init));
    assert.match(init.stdout, /created the PostgreSQL database/);
    const [key, ...more] = secrets(init.stdout);
    assert.ok(key, `init printed an operator key\n${show(init)}`);
    assert.deepEqual(more, [], "exactly one secret");

    const first = await serve(["--database", db], work);
    try {
      assert.deepEqual(secrets(first.banner), [], `a start after init prints no secret\n${first.banner}`);
      assert.match(first.banner, /usage-credits operator-keys create/, "and says how to get a key");
      await operate(first.url, key);
    } finally {
      await first.stop();
    }
    const demo = await sql(db, "SELECT COUNT(*) AS n FROM members WHERE email = 'owner@demo.example'");
    assert.equal(Number(demo[0]?.["n"]), 0, "no demo owner in the production database");

    const before = await tableCounts(db);
    const again = await cli(["init", "--database", db], work);
    assert.equal(again.code, 0, show(again));
    assert.deepEqual(secrets(again.stdout), [], show(again));
    assert.match(again.stdout, /already initialised/);
    const second = await serve([], work, { USAGE_CREDITS_DATABASE_URL: db });
    try {
      assert.deepEqual(secrets(second.banner), [], second.banner);
      assert.equal((await api(second.url, key, "GET", "/v1/organizations")).status, 200, "the key still works");
    } finally {
      await second.stop();
    }
    assert.deepEqual(await tableCounts(db), before, "init again and a restart change nothing");
  });

  test("a role that may not create databases is told the exact createdb command, and that command works", async () => {
    const role = unique("uc_boot_role");
    const name = unique("uc_boot_owned");
    roles.push(role);
    databases.push(name);
    await pgAdmin((c) => c.query(`CREATE ROLE ${role} LOGIN`));
    const db = pgUrl(name, role);
    const refused = await cli(["init", "--database", db], work);
    assert.equal(refused.code, 2, show(refused));
    assert.match(refused.stderr, new RegExp(`role "${role}" may not create databases`));
    const line = refused.stderr.split("\n").map((l) => l.trim()).find((l) => l.startsWith("createdb "));
    assert.ok(line, show(refused));
    const [cmd, ...args] = line.split(" ");
    assert.equal(cmd, "createdb");
    assert.ok(args.includes(name) && args.includes(role), line);
    const created = await run("createdb", args, work);
    assert.equal(created.code, 0, `${line}\n${show(created)}`);
    const init = await cli(["init", "--database", db], work);
    assert.equal(init.code, 0, show(init));
    assert.equal(secrets(init.stdout).length, 1, show(init));
  });

  test("the first serve in production mode is init: two instances starting at once on a missing database make it once and print one key between them", async () => {
    const name = unique("uc_boot_serve");
    databases.push(name);
    const db = pgUrl(name);
    const [a, b] = await Promise.all([serve(["--database", db], work), serve(["--database", db], work)]);
    try {
      const printed = [...secrets(a.banner), ...secrets(b.banner)];
      assert.equal(printed.length, 1, `one operator key between the two banners\n${a.banner}\n${b.banner}`);
      assert.doesNotMatch(a.banner + b.banner, /Demo/);
      await operate(a.url, printed[0] ?? "");
      const keys = await sql(db, "SELECT COUNT(*) AS n FROM api_keys WHERE org_id IS NULL");
      assert.equal(Number(keys[0]?.["n"]), 1);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    const before = await tableCounts(db);
    const again = await serve(["--database", db], work);
    await again.stop();
    assert.deepEqual(secrets(again.banner), [], again.banner);
    assert.deepEqual(await tableCounts(db), before, "a restart changes nothing");
  });
});

describe("modes on SQLite", () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), "uc-boot-"));
    dirs.push(d);
    return d;
  };

  test("production mode on an empty data folder: no demo, the operator key once; a development start afterwards adds no demo", async () => {
    const cwd = dir();
    const first = await serve([], cwd, { USAGE_CREDITS_MODE: "production" });
    let key: string | undefined;
    try {
      assert.doesNotMatch(first.banner, /Demo/);
      [key] = secrets(first.banner);
      assert.ok(key, first.banner);
      assert.equal(secrets(first.banner).length, 1);
      await operate(first.url, key);
    } finally {
      await first.stop();
    }
    assert.ok(!existsSync(join(cwd, "data", "demo-credentials.json")), "no demo credentials file");
    const before = await tableCounts(`sqlite:${join(cwd, "data", "usage-credits.db")}`);
    const dev = await serve(["--development"], cwd);
    await dev.stop();
    assert.deepEqual(secrets(dev.banner), [], dev.banner);
    assert.doesNotMatch(dev.banner, /Demo/, "a database that is not empty gets no demo");
    assert.match(dev.banner, /usage-credits operator-keys create/);
    assert.deepEqual(await tableCounts(`sqlite:${join(cwd, "data", "usage-credits.db")}`), before);
  });

  test("--demo asks for the demo in production mode; --production and --development exclude each other", async () => {
    const cwd = dir();
    const s = await serve(["--production", "--demo"], cwd);
    await s.stop();
    assert.match(s.banner, /Created the demo organization/);
    const both = await cli(["serve", "--production", "--development", "--port", "0"], cwd);
    assert.equal(both.code, 1, show(both));
    assert.match(both.stderr, /exclude each other/);
  });

  test("operator keys over the API and the CLI: create, list, rotate, revoke; the last one is kept; every change is audited without secrets", async () => {
    const cwd = dir();
    const db = `sqlite:${join(cwd, "uc.db")}`;
    const init = await cli(["init", "--database", db], cwd);
    assert.equal(init.code, 0, show(init));
    const [k1] = secrets(init.stdout);
    assert.ok(k1);
    const s = await serve(["--database", db], cwd);
    try {
      const created = await api(s.url, k1, "POST", "/v1/operator_keys", { name: "prometheus" }, { "idempotency-key": "ok-1" });
      assert.equal(created.status, 201, created.text);
      const k2 = String(created.body["secret"]);
      const k2id = String(created.body["id"]);
      const replay = await api(s.url, k1, "POST", "/v1/operator_keys", { name: "prometheus" }, { "idempotency-key": "ok-1" });
      assert.equal(replay.body["id"], k2id, "a retried create is answered from its record");
      assert.equal((await api(s.url, k2, "GET", "/metrics")).status, 200);

      const rotated = await api(s.url, k1, "POST", `/v1/operator_keys/${k2id}/rotate`);
      assert.equal(rotated.status, 201, rotated.text);
      const k3 = String(rotated.body["secret"]);
      assert.equal((rotated.body["replaces"] as { id: string }).id, k2id);
      assert.equal((await api(s.url, k2, "GET", "/v1/operator_keys")).status, 401, "the rotated key stops working");
      assert.equal((await api(s.url, k3, "GET", "/v1/operator_keys")).status, 200);

      const list = await api(s.url, k3, "GET", "/v1/operator_keys");
      const ids = (list.body["data"] as Array<{ id: string; revoked_at: string | null }>).map((k) => [k.id, k.revoked_at !== null]);
      assert.equal(ids.length, 3);
      assert.deepEqual(ids.filter(([, revoked]) => !revoked).length, 2);

      const k1id = String((list.body["data"] as Array<{ id: string; name: string }>).find((k) => k.name.includes("first start"))?.id);
      assert.equal((await api(s.url, k3, "POST", `/v1/operator_keys/${k1id}/revoke`)).status, 200);
      assert.equal((await api(s.url, k1, "GET", "/v1/organizations")).status, 401, "a revoked key stops working");
      const last = await api(s.url, k3, "POST", `/v1/operator_keys/${String(rotated.body["id"])}/revoke`);
      assert.equal(last.status, 409, last.text);
      assert.equal((last.body["error"] as { code: string }).code, "conflict");

      const orgId = await operate(s.url, k3);
      const members = (await api(s.url, k3, "GET", `/v1/organizations/${orgId}/members`)).body["data"] as Array<{ id: string }>;
      const owner = await api(s.url, k3, "POST", `/v1/organizations/${orgId}/api_keys`, { member_id: members[0]?.id, name: "owner" });
      assert.equal(owner.status, 201, owner.text);
      assert.ok((await api(s.url, String(owner.body["secret"]), "GET", "/v1/operator_keys")).status >= 400, "a member's key is no operator key");

      const cliCreate = await cli(["operator-keys", "create", "--name", "backup host", "--database", db, "--json"], cwd);
      assert.equal(cliCreate.code, 0, show(cliCreate));
      const k4 = String((JSON.parse(cliCreate.stdout) as { secret: string }).secret);
      assert.equal((await api(s.url, k4, "GET", "/v1/operator_keys")).status, 200, "a key made by the CLI works at once");

      const audit = await api(s.url, k3, "GET", "/v1/audit_log");
      assert.equal(audit.status, 200, audit.text);
      const entries = audit.body["data"] as Array<{ action: string; org_id: string | null; actor: { type: string } }>;
      assert.deepEqual(
        entries.map((e) => `${e.action} by ${e.actor.type}`).reverse(),
        [
          "operator_key.created by cli", // init
          "operator_key.created by platform_key",
          "operator_key.created by platform_key", // rotate: the new key…
          "operator_key.revoked by platform_key", // …and the old one, in one transaction
          "operator_key.revoked by platform_key",
          "operator_key.created by cli",
        ],
      );
      assert.ok(entries.every((e) => e.org_id === null));
      for (const secret of [k1, k2, k3, k4]) assert.ok(!audit.text.includes(secret), "no secret in the audit log");
      assert.doesNotMatch(audit.text, /"hash"/);
      const cliAudit = await cli(["operator-keys", "audit", "--database", db], cwd);
      assert.equal(cliAudit.code, 0, show(cliAudit));
      assert.equal(cliAudit.stdout.trim().split("\n").length, 6, cliAudit.stdout);
    } finally {
      await s.stop();
    }
  });
});
