// What `npm test` does about a machine that lacks Chromium or a PostgreSQL server it may use
// (scripts/provision.mjs): provision it (Debian's chromium as root; a private cluster when the
// server binaries are there) or fail with one line that says what is missing and how to get it.
// Never a silent skip. The decisions are table-driven here; the effects were run for real on this
// machine (docs/testing.md, "What npm test needs and provides").

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";

interface ChromiumFound { path: string; fromEnv: boolean; exists: (p: string) => boolean; isRoot: boolean; hasAptGet: boolean }
interface PostgresFound { url: string; fromEnv: boolean; connects: boolean; reason: string; binDir: string | null; skip: boolean }
type Plan = { action: string; commands?: string[][]; message?: string; why?: string };
interface Provision {
  chromiumPlan(found: ChromiumFound): Plan;
  postgresPlan(found: PostgresFound): Plan;
  findPgBin(env?: Record<string, string | undefined>): string | null;
}

const provision = (await import(fileURLToPath(new URL("../../scripts/provision.mjs", import.meta.url)))) as Provision;
const none = () => false;
const all = () => true;

describe("npm test provisions Chromium or says how to get it", () => {
  const base: ChromiumFound = { path: "/usr/bin/chromium", fromEnv: false, exists: none, isRoot: true, hasAptGet: true };
  test("present: nothing to do", () => {
    assert.deepEqual(provision.chromiumPlan({ ...base, exists: all }), { action: "ok" });
  });
  test("missing, as root on Debian: apt-get update, then apt-get install -y chromium", () => {
    assert.deepEqual(provision.chromiumPlan(base), { action: "install", commands: [["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]] });
  });
  const failures: Array<[string, ChromiumFound, RegExp]> = [
    ["missing, not root: the sudo command", { ...base, isRoot: false }, /^Chromium is missing: .*\/usr\/bin\/chromium; run: sudo apt-get install -y chromium \(/],
    ["missing, no apt-get: the package and UC_CHROMIUM", { ...base, hasAptGet: false }, /install your distribution's chromium package and set UC_CHROMIUM/],
    ["UC_CHROMIUM names nothing: never installs over a deliberate choice", { ...base, path: "/opt/none/chrome", fromEnv: true }, /UC_CHROMIUM=\/opt\/none\/chrome does not exist/],
  ];
  for (const [name, found, message] of failures) {
    test(name, () => {
      const plan = provision.chromiumPlan(found);
      assert.equal(plan.action, "fail");
      assert.match(plan.message ?? "", message);
      assert.doesNotMatch(plan.message ?? "", /\n/, "one line");
    });
  }
});

describe("npm test finds PostgreSQL, starts a private cluster, or says how to get one", () => {
  const base: PostgresFound = { url: "postgres://postgres@127.0.0.1:5432/postgres", fromEnv: false, connects: false, reason: "is not reachable", binDir: "/usr/lib/postgresql/15/bin", skip: false };
  test("a server that accepts us: use it", () => {
    assert.deepEqual(provision.postgresPlan({ ...base, connects: true }), { action: "ok" });
  });
  test("none reachable but the binaries are there: a private cluster", () => {
    assert.deepEqual(provision.postgresPlan(base), { action: "private", why: "PostgreSQL at 127.0.0.1:5432 is not reachable" });
  });
  test("Debian's default authentication refuses us: a private cluster too", () => {
    const plan = provision.postgresPlan({ ...base, reason: 'refused us (password authentication failed for user "postgres")' });
    assert.equal(plan.action, "private");
  });
  test("no server and no binaries: one line naming the package", () => {
    const plan = provision.postgresPlan({ ...base, binDir: null });
    assert.equal(plan.action, "fail");
    assert.match(plan.message ?? "", /^PostgreSQL is missing: .*run: sudo apt-get install -y postgresql /);
    assert.doesNotMatch(plan.message ?? "", /\n/);
  });
  test("UC_TEST_PG_URL names a server that does not answer: reported, not worked around", () => {
    const plan = provision.postgresPlan({ ...base, url: "postgres://postgres@127.0.0.1:6543/postgres", fromEnv: true });
    assert.equal(plan.action, "fail");
    assert.match(plan.message ?? "", /^PostgreSQL at 127\.0\.0\.1:6543 \(UC_TEST_PG_URL\) is not reachable: /);
  });
  test("UC_SKIP_PG=1 outside CI: skipped (loudly, by the suites)", () => {
    assert.deepEqual(provision.postgresPlan({ ...base, binDir: null, skip: true }), { action: "skip" });
  });
  test("the binaries are found where Debian puts them, or by UC_PG_BIN", () => {
    const found = provision.findPgBin({});
    if (found !== null) assert.ok(existsSync(`${found}/initdb`), found);
    assert.equal(provision.findPgBin({ UC_PG_BIN: "/nonexistent" }), null);
  });
});
