// The `usage-credits` command line, as a user runs it: the compiled entry point in real child
// processes against a real SQLite file and a real PostgreSQL database. Nothing is mocked.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { LATEST_VERSION } from "../src/adapters/store/migrations.js";
import { COMMANDS as BASE_COMMANDS } from "../src/cli/commands.js";
import { ENV_HELP } from "../src/config/config.js";
import { OPERATOR_KEY_COMMANDS } from "../src/cli/operator-key-commands.js";
import { LAB_COMMANDS } from "../src/cli/commands/lab.js";
import { backends } from "./support/backends.js";
import { generateLegacyExport } from "../bench/legacy-export.js";

const COMMANDS = [...BASE_COMMANDS, ...OPERATOR_KEY_COMMANDS, ...LAB_COMMANDS];

// The compiled test is dist/test/cli.test.js: the repository root is two levels up.
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = join(ROOT, "dist", "src", "main.js");

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A clean environment: no USAGE_CREDITS_* variable of the caller leaks into the CLI. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("USAGE_CREDITS_")) env[k] = v;
  return env;
}

function cli(args: readonly string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const show = (r: Run): string => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** Runs a command that must succeed and returns its stdout. */
async function ok(args: readonly string[], cwd: string): Promise<string> {
  const r = await cli(args, cwd);
  assert.equal(r.code, 0, `${args.join(" ")}\n${show(r)}`);
  return r.stdout;
}

async function okJson<T = Record<string, unknown>>(args: readonly string[], cwd: string): Promise<T> {
  const out = await ok([...args, "--json"], cwd);
  try {
    return JSON.parse(out) as T;
  } catch {
    assert.fail(`${args.join(" ")} --json printed no JSON:\n${out}`);
  }
}

/** Runs fns with at most `limit` in flight (a handful of node processes at once, not twenty). */
async function pooled<T>(fns: ReadonlyArray<() => Promise<T>>, limit = 6): Promise<T[]> {
  const out: T[] = new Array(fns.length);
  let next = 0;
  const worker = async () => {
    while (next < fns.length) {
      const i = next++;
      out[i] = await fns[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, fns.length) }, worker));
  return out;
}

let work: string;
before(() => {
  // Every process runs here, so the default ./data never lands in the repository.
  work = mkdtempSync(join(tmpdir(), "uc-cli-"));
});
after(() => rmSync(work, { recursive: true, force: true }));

describe("help", () => {
  const builtins: Array<{ name: string; options: string[] }> = [
    { name: "serve", options: ["--port", "--host", "--database", "--production", "--development", "--demo", "--no-demo", "--help"] },
    { name: "init", options: ["--database", "--json", "--demo"] },
    { name: "migrate", options: ["--database", "--json"] },
    { name: "backup", options: ["--to", "--database", "--json", "--help"] },
  ];

  test("the main help exits 0 and lists every command; no command at all prints it and exits 1", async () => {
    for (const flag of ["--help", "-h", "help"]) {
      const r = await cli([flag], work);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /usage-credits <command>/);
      for (const name of ["serve", "init", "migrate", "backup", ...COMMANDS.map((c) => c.name)]) assert.ok(r.stdout.includes(`  ${name} `), `main help lacks ${name}\n${r.stdout}`);
    }
    const bare = await cli([], work);
    assert.equal(bare.code, 1, show(bare));
    assert.match(bare.stdout, /usage-credits <command>/);
  });

  test("serve, init, migrate and backup --help exit 0 and name every option", async () => {
    await pooled(
      builtins.map((b) => async () => {
        const r = await cli([b.name, "--help"], work);
        assert.equal(r.code, 0, `${b.name} --help\n${show(r)}`);
        assert.ok(r.stdout.includes(`usage-credits ${b.name}`), `${b.name} --help\n${r.stdout}`);
        for (const o of b.options) assert.ok(r.stdout.includes(o), `${b.name} --help does not mention ${o}\n${r.stdout}`);
      }),
    );
  });

  test("serve --help lists every environment variable with its default, and docs/configuration.md lists each with the same default", async () => {
    assert.ok(ENV_HELP.length >= 50, "the schema declares every variable");
    assert.equal(new Set(ENV_HELP.map(([name]) => name)).size, ENV_HELP.length, "a variable is declared twice");
    const r = await cli(["serve", "--help"], work);
    assert.equal(r.code, 0, show(r));
    const docs = readFileSync(join(ROOT, "docs", "configuration.md"), "utf8");
    for (const [name, fallback] of ENV_HELP) {
      const line = r.stdout.split("\n").find((l) => l.trimStart().startsWith(`${name} `));
      assert.ok(line?.endsWith(`(default ${fallback})`), `serve --help lacks ${name} with its default ${fallback}\n${r.stdout}`);
      const cell = fallback === "" ? "" : `\`${fallback}\``;
      assert.ok(docs.includes(`| \`${name}\` | ${cell} |`), `docs/configuration.md's list of every variable lacks | \`${name}\` | ${cell} |`);
    }
  });

  test(`--help of every one of the ${COMMANDS.length} table commands exits 0 and names each of its options`, async () => {
    assert.ok(COMMANDS.length >= 15);
    await pooled(
      COMMANDS.map((c) => async () => {
        const r = await cli([...c.name.split(" "), "--help"], work);
        assert.equal(r.code, 0, `${c.name} --help\n${show(r)}`);
        assert.equal(r.stderr, "");
        assert.ok(r.stdout.startsWith(`usage-credits ${c.name} `), `${c.name} --help\n${r.stdout}`);
        assert.ok(r.stdout.includes(c.summary));
        for (const [k, o] of Object.entries(c.options)) {
          const line = r.stdout.split("\n").find((l) => l.trimStart().startsWith(`--${k} `) || l.trim() === `--${k}`);
          assert.ok(line, `${c.name} --help does not list --${k}\n${r.stdout}`);
          if (o.required) assert.match(line, /\(required\)/, `${c.name}: --${k} is required but its help line does not say so`);
        }
        for (const common of ["--json", "--database", "--help"]) assert.ok(r.stdout.includes(common), `${c.name} --help lacks ${common}`);
      }),
    );
  });

  test("a command group alone lists its subcommands (exit 1), with --help exits 0", async () => {
    const bare = await cli(["grants"], work);
    assert.equal(bare.code, 1, show(bare));
    assert.match(bare.stdout, /usage-credits grants <list\|create\|void>/);
    const help = await cli(["grants", "--help"], work);
    assert.equal(help.code, 0, show(help));
    assert.match(help.stdout, /grants void/);
  });
});

describe("usage errors", () => {
  let db: string;
  before(() => {
    db = `sqlite:${join(work, "errors.db")}`;
  });

  test("an unknown command exits 2 and says so", async () => {
    for (const args of [["frobnicate"], ["grants", "frobnicate"]]) {
      const r = await cli(args, work);
      assert.equal(r.code, 2, show(r));
      assert.match(r.stderr, new RegExp(`unknown command: ${args.join(" ")}`));
      assert.equal(r.stdout, "");
    }
  });

  test("an unknown option exits 2 and names it", async () => {
    const r = await cli(["orgs", "list", "--frobnicate"], work);
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /--frobnicate/);
    assert.match(r.stderr, /usage-credits orgs list/);
  });

  test("a missing required option exits 2 and names it", async () => {
    const cases: Array<[string[], string]> = [
      [["grants", "create", "--amount", "1"], "--org"],
      [["grants", "create", "--org", "org_x"], "--amount"],
      [["members", "add", "--org", "org_x"], "--email"],
      [["limits", "set", "--org", "org_x", "--scope", "organization"], "--amount"],
    ];
    await pooled(
      cases.map(([args, flag]) => async () => {
        const r = await cli([...args, "--database", db], work);
        assert.equal(r.code, 2, `${args.join(" ")}\n${show(r)}`);
        assert.ok(r.stderr.startsWith(`${flag} is required`), `${args.join(" ")}\n${show(r)}`);
      }),
    );
  });

  test("a bad value exits 1 with error: and names the option", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["grants", "create", "--org", "org_x", "--amount", "1.2.3"], /^error: --amount must be an amount in USD/],
      [["grants", "create", "--org", "org_x", "--amount", "0"], /^error: --amount must be greater than zero/],
      [["grants", "create", "--org", "org_x", "--amount", "1", "--kind", "gift"], /^error: --kind must be one of/],
      [["limits", "set", "--org", "org_x", "--scope", "galaxy", "--amount", "5"], /^error: --scope must be one of/],
    ];
    for (const [args, message] of cases) {
      const r = await cli([...args, "--database", db], work);
      assert.equal(r.code, 1, `${args.join(" ")}\n${show(r)}`);
      assert.match(r.stderr, message, `${args.join(" ")}\n${show(r)}`);
      assert.equal(r.stdout, "");
    }
  });
});

for (const backend of backends()) {
  describe(`a full administration flow on ${backend.name}`, () => {
    let db: string;
    let orgId: string;
    let ownerId: string;
    let voidedGrant: string;
    before(async () => {
      db = await backend.createDatabase();
    });
    after(() => backend.cleanup());

    const D = () => ["--database", db];

    test("migrate on an empty database creates the schema and prints its version; again is a no-op", async () => {
      assert.equal((await ok(["migrate", ...D()], work)).trim(), `schema at version ${LATEST_VERSION} (was 0)`);
      assert.equal((await ok(["migrate", ...D()], work)).trim(), `schema at version ${LATEST_VERSION} (was ${LATEST_VERSION})`);
      assert.deepEqual(await okJson(["migrate", ...D()], work), { from: LATEST_VERSION, to: LATEST_VERSION });
    });

    test("init --demo creates the demo organization once, with its secrets", async () => {
      const first = await okJson<{ demo: { created: boolean; credentials: Record<string, string> }; operator_key: unknown }>(["init", "--demo", ...D()], work);
      assert.equal(first.demo.created, true);
      assert.equal(first.operator_key, null, "the demo's operator key is the database's first one");
      const c = first.demo.credentials;
      assert.match(c["org_id"] ?? "", /^org_/);
      assert.match(c["member_id"] ?? "", /^mem_/);
      assert.match(c["api_key"] ?? "", /^uck_/);
      assert.match(c["platform_key"] ?? "", /^uck_/);
      orgId = c["org_id"]!;
      ownerId = c["member_id"]!;
      const again = await cli(["init", "--demo", ...D()], work);
      assert.equal(again.code, 0, show(again));
      assert.match(again.stdout, /already initialised/);

      const orgs = await okJson<Array<Record<string, unknown>>>(["orgs", "list", ...D()], work);
      assert.equal(orgs.length, 1, JSON.stringify(orgs));
      assert.equal(orgs[0]?.["id"], orgId);
      assert.equal(orgs[0]?.["name"], "Demo Org");
      assert.equal(orgs[0]?.["plan_id"], "pro");
      assert.equal(orgs[0]?.["usage_credits_enabled"], true);
      assert.match(await ok(["orgs", "list", ...D()], work), new RegExp(`${orgId}\\s+Demo Org\\s+pro\\s+on`));
    });

    test("members add, keys create (the secret is shown once), keys list", async () => {
      const m = await okJson(["members", "add", "--org", orgId, "--email", "alice@example.test", "--role", "admin", ...D()], work);
      assert.match(String(m["id"]), /^mem_/);
      assert.equal(m["role"], "admin");
      assert.equal(m["seat_tier"], "standard");
      const members = await okJson<Array<Record<string, unknown>>>(["members", "list", "--org", orgId, ...D()], work);
      assert.deepEqual(members.map((x) => x["email"]).sort(), ["alice@example.test", "owner@demo.example"]);

      const text = await ok(["keys", "create", "--org", orgId, "--member", String(m["id"]), "--name", "alice laptop", ...D()], work);
      const secret = /api key \(shown once\): (\S+)/.exec(text)?.[1];
      assert.ok(secret, text);
      assert.match(secret, /^uck_[A-Za-z0-9_-]{16,}$/);
      const keys = await cli(["keys", "list", "--org", orgId, "--json", ...D()], work);
      assert.equal(keys.code, 0, show(keys));
      assert.ok(!keys.stdout.includes(secret), "keys list must never print a secret");
      const listed = JSON.parse(keys.stdout) as Array<Record<string, unknown>>;
      assert.equal(listed.length, 2); // the demo owner's key and alice's
      assert.ok(listed.every((k) => !("secret" in k)));
      assert.ok(listed.some((k) => k["member_id"] === m["id"] && k["name"] === "alice laptop"));

      const dup = await cli(["members", "add", "--org", orgId, "--email", "alice@example.test", ...D()], work);
      assert.equal(dup.code, 1, show(dup));
      assert.match(dup.stderr, /^error: /);

      // A dashboard password: generated and printed once, or given; too short is refused.
      const generated = await ok(["members", "set-password", "--org", orgId, "--member", String(m["id"]), ...D()], work);
      assert.match(generated, /password \(shown once\): [\w-]{16}/);
      const given = await okJson(["members", "set-password", "--org", orgId, "--member", String(m["id"]), "--password", "alice's long password", ...D()], work);
      assert.deepEqual(given, { member_id: m["id"], email: "alice@example.test" });
      const short = await cli(["members", "set-password", "--org", orgId, "--member", String(m["id"]), "--password", "short", ...D()], work);
      assert.equal(short.code, 1, show(short));
      assert.match(short.stderr, /at least 12 characters/);
    });

    test("grants create --amount 12.50 is exact; limits set to $5 then unlimited; usage summary", async () => {
      const g = await okJson(["grants", "create", "--org", orgId, "--amount", "12.50", "--description", "cli test", ...D()], work);
      assert.equal(g["amount"], "12500000");
      assert.equal(g["remaining"], "12500000");
      assert.equal(g["kind"], "promotional");
      voidedGrant = String(g["id"]);
      const grants = await okJson<Array<Record<string, unknown>>>(["grants", "list", "--org", orgId, ...D()], work);
      assert.deepEqual(
        grants.map((x) => [x["amount"], x["status"]]).sort(),
        [["12500000", "active"], ["25000000", "active"]],
      );
      assert.equal(grants.find((x) => x["id"] === voidedGrant)?.["description"], "cli test");

      const five = await okJson(["limits", "set", "--org", orgId, "--scope", "organization", "--amount", "5", ...D()], work);
      assert.equal(five["amount"], "5000000");
      assert.equal(five["scope"], "organization");
      assert.equal(five["period"], "monthly");
      const unlimited = await okJson(["limits", "set", "--org", orgId, "--scope", "organization", "--amount", "unlimited", ...D()], work);
      assert.equal(unlimited["amount"], null);
      const limits = await okJson<Array<Record<string, unknown>>>(["limits", "list", "--org", orgId, ...D()], work);
      assert.equal(limits.length, 1, `the second set replaces the first: ${JSON.stringify(limits)}`);
      assert.equal(limits[0]?.["amount"], null);
      assert.match(await ok(["limits", "list", "--org", orgId, ...D()], work), /organization\s+\S+\s+monthly\s+unlimited/);
      // An alert-only budget (docs/money-rules.md R6): counts and alerts, never refuses.
      const budget = await okJson(["limits", "set", "--org", orgId, "--scope", "organization", "--period", "daily", "--amount", "2", "--alert-only", ...D()], work);
      assert.equal(budget["stop_usage"], false);
      assert.equal(unlimited["stop_usage"], true, "a limit stops usage unless --alert-only");
      assert.match(await ok(["limits", "list", "--org", orgId, ...D()], work), /daily\s+\$2\.00\s+no \(alert-only\)/);

      const summary = await okJson<Record<string, Record<string, unknown>>>(["usage", "summary", "--org", orgId, "--member", ownerId, ...D()], work);
      assert.ok(summary["five_hour"], JSON.stringify(summary));
      assert.ok(summary["seven_day"], JSON.stringify(summary));
      assert.equal(summary["usage_credits"]?.["balance"], "37500000");
      assert.equal(summary["usage_credits"]?.["is_enabled"], true);
      assert.match(await ok(["usage", "summary", "--org", orgId, "--member", ownerId, ...D()], work), /balance\s+\$37\.50/);
    });

    test("grants void returns the balance; the ledger verifies", async () => {
      const v = await okJson(["grants", "void", "--org", orgId, "--grant", voidedGrant, ...D()], work);
      assert.equal(v["status"], "voided");
      assert.equal(v["remaining"], "0");
      const again = await cli(["grants", "void", "--org", orgId, "--grant", voidedGrant, ...D()], work);
      assert.equal(again.code, 1, show(again));
      assert.match(again.stderr, /^error: /);
      const summary = await okJson<Record<string, Record<string, unknown>>>(["usage", "summary", "--org", orgId, "--member", ownerId, ...D()], work);
      assert.equal(summary["usage_credits"]?.["balance"], "25000000");

      const r = await cli(["ledger", "verify", ...D()], work);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /^ledger ok: \d+ transactions, every invariant holds/);
      const j = await okJson(["ledger", "verify", ...D()], work);
      assert.equal(j["ok"], true);
      assert.ok(Number(j["transactions"]) >= 3, JSON.stringify(j)); // two grants and a void
      assert.deepEqual(j["violations"], []);
    });

    test("import extra-usage: dry run, import with a report, a rejected row exits 1, a re-run changes nothing", async () => {
      const lines = generateLegacyExport({ accounts: 5, now: Date.now(), format: "jsonl", idPrefix: `cli${backend.name}` });
      lines.push(JSON.stringify({ type: "account", id: "broken", name: "B", plan: "pro", currency: "GBP", balance: "1", extra_usage_enabled: true, created_at: "2026-01-01" }));
      const file = join(work, `legacy-${backend.name}.jsonl`);
      const report = join(work, `report-${backend.name}.json`);
      writeFileSync(file, `${lines.join("\n")}\n`);
      const dry = await cli(["import", "extra-usage", file, "--dry-run", ...D()], work);
      assert.equal(dry.code, 1, show(dry));
      assert.match(dry.stdout, /DRY RUN \(nothing written\): 6 accounts in \d+ lines: would import 5, unchanged 0, rejected 1/);
      const real = await cli(["import", "extra-usage", file, "--report", report, ...D()], work);
      assert.equal(real.code, 1, show(real));
      assert.match(real.stdout, /imported 5, unchanged 0, rejected 1/);
      assert.match(real.stdout, /reconciliation: 0 differences/);
      assert.match(real.stdout, new RegExp(`line ${lines.length} \\(account broken\\): unknown currency "GBP"`));
      assert.match(real.stderr, /importing: 5\/5 accounts/);
      const written = JSON.parse(readFileSync(report, "utf8")) as { differences: number; details: Array<{ outcome: string; fields?: unknown[] }> };
      assert.equal(written.differences, 0);
      assert.equal(written.details.filter((d) => d.outcome === "imported" && (d.fields?.length ?? 0) > 5).length, 5);
      const good = join(work, `legacy-good-${backend.name}.jsonl`);
      writeFileSync(good, `${lines.slice(0, -1).join("\n")}\n`);
      const again = await okJson<{ imported: number; unchanged: number; differences: number }>(["import", "extra-usage", "--file", good, "--quiet", ...D()], work);
      assert.deepEqual([again.imported, again.unchanged, again.differences], [0, 5, 0]);
      assert.match(await ok(["ledger", "verify", ...D()], work), /ledger ok/);
    });

    test("the old command name and --extra-usage still work, with a deprecation note", async () => {
      const r = await new Promise<Run>((resolve, reject) => {
        const child = spawn(process.execPath, [join(ROOT, "bin", "extra-usage.js"), "orgs", "create", "--name", "Old", "--owner-email", "old@cli.test", "--extra-usage", "--json", ...D()], { cwd: work, env: cleanEnv() });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
        child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout, stderr }));
      });
      assert.equal(r.code, 0, show(r));
      assert.match(r.stderr, /`extra-usage` is deprecated/);
      assert.match(r.stderr, /--extra-usage is deprecated; use --usage-credits/);
      assert.equal((JSON.parse(r.stdout) as Record<string, unknown>)["usage_credits_enabled"], true);
    });

    test("the ledger tables refuse UPDATE and DELETE; a corrupted cached balance makes ledger verify exit 1", async () => {
      // Straight to the database, bypassing the application: what an operator's stray SQL would do.
      const sql = await rawConnection(db);
      try {
        for (const stmt of [
          "UPDATE ledger_entries SET amount = amount + 1",
          "DELETE FROM ledger_entries",
          "UPDATE ledger_transactions SET at = at + 1",
          "DELETE FROM ledger_transactions",
        ]) {
          await assert.rejects(sql.run(stmt), /append-only/, stmt);
        }
        // The grants table is a cache of the ledger, not append-only: corrupt the voided grant.
        assert.equal(await sql.run(`UPDATE grants SET remaining = remaining + 1 WHERE id = '${voidedGrant}'`), 1);
      } finally {
        await sql.close();
      }
      const r = await cli(["ledger", "verify", ...D()], work);
      assert.equal(r.code, 1, show(r));
      assert.match(r.stdout, /ledger VIOLATIONS/);
      assert.match(r.stdout, new RegExp(`grant_balance ${voidedGrant}: cached remaining 1 ≠ ledger 0`));
      const j = await cli(["ledger", "verify", "--json", ...D()], work);
      assert.equal(j.code, 1, show(j));
      const body = JSON.parse(j.stdout) as { ok: boolean; violations: Array<{ invariant: string; subject: string }> };
      assert.equal(body.ok, false);
      assert.ok(body.violations.some((v) => v.invariant === "grant_balance" && v.subject === voidedGrant), j.stdout);
    });
  });
}

/** A connection of the database's own driver, outside the application. */
async function rawConnection(url: string): Promise<{ run(sql: string): Promise<number>; close(): Promise<void> }> {
  if (url.startsWith("sqlite:")) {
    const db = new Database(url.slice("sqlite:".length));
    return { run: async (sql) => db.prepare(sql).run().changes, close: async () => void db.close() };
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return { run: async (sql) => (await c.query(sql)).rowCount ?? 0, close: () => c.end() };
}
