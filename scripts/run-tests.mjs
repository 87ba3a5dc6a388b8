// Runs every compiled test file (or those whose path contains one of the arguments) with node's
// test runner, after making sure the machine has what the suites need (scripts/provision.mjs):
// Chromium for the browser suite, installed from Debian when missing and run as root; PostgreSQL,
// or a private cluster for this run when no server accepts us but the binaries are there. What
// cannot be provided is said in one line and the run fails: suites never skip silently.
// The real client packages for the gateway-clients suite are installed into test/clients when missing.
// A test run changes no file git knows about: the working tree's status is compared before and after.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import pg from "pg";
import { chromiumPlan, DEFAULT_CHROMIUM, DEFAULT_PG_URL, findPgBin, postgresPlan } from "./provision.mjs";

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? find(p) : name.endsWith(".test.js") ? [p] : [];
  });
}

const only = process.argv.slice(2);
const files = find("dist").filter((f) => only.length === 0 || only.some((o) => f.includes(o))).sort();
if (files.length === 0) {
  console.error("no test files found under dist/ (did tsc run?)");
  process.exit(1);
}
const fail = (message) => {
  console.error(`\n*** ${message} ***\n`);
  process.exit(1);
};
const onPath = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;

// --- the real clients (only when their suite is among the files)
// The real client packages (Claude Code, the Agent SDK, the Vercel AI SDK, LangChain: ~900 MB with
// Claude Code's native binary, all from the npm registry) live in their own package, test/clients,
// out of the product's install. Installed here when missing; if that fails, the run fails loudly.
const wantsClients = files.some((f) => f.includes("gateway-clients"));
const clientsInstalled = existsSync("test/clients/node_modules/.package-lock.json") && existsSync("test/clients/node_modules/.bin/claude");
if (wantsClients && !clientsInstalled) {
  console.error("Installing the real client packages: npm ci --prefix test/clients …");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const install = spawnSync(npm, ["ci", "--prefix", "test/clients", "--no-audit", "--no-fund"], { stdio: "inherit" });
  if (install.status !== 0) fail("Could not install test/clients (npm ci --prefix test/clients): the real-client tests cannot run, so the test run FAILS.");
}

// --- Chromium (only when the browser suite is among the files)
if (files.some((f) => f.endsWith("dashboard.test.js"))) {
  const path = process.env.UC_CHROMIUM ?? DEFAULT_CHROMIUM;
  const plan = chromiumPlan({ path, fromEnv: process.env.UC_CHROMIUM !== undefined, exists: existsSync, isRoot: process.getuid?.() === 0, hasAptGet: onPath("apt-get") });
  if (plan.action === "fail") fail(plan.message);
  if (plan.action === "install") {
    console.error(`Chromium is missing at ${path}: installing Debian's package (${plan.commands.map((c) => c.join(" ")).join(" && ")})`);
    for (const [cmd, ...args] of plan.commands) {
      const r = spawnSync(cmd, args, { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
      if (r.status !== 0) fail(`Chromium is missing and \`${[cmd, ...args].join(" ")}\` failed (exit ${r.status}); install Debian's chromium package and run npm test again.`);
    }
    if (!existsSync(path)) fail(`Chromium is still missing at ${path} after apt-get install -y chromium.`);
  }
}

// --- PostgreSQL
const pgUrl = process.env.UC_TEST_PG_URL ?? DEFAULT_PG_URL;
const probe = await (async () => {
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query("select 1");
    return { connects: true, reason: "" };
  } catch (err) {
    const e = /** @type {{ code?: string, message?: string }} */ (err);
    return { connects: false, reason: e.code === "ECONNREFUSED" || e.code === "ENOTFOUND" ? "is not reachable" : `refused us (${e.message ?? e.code})` };
  } finally {
    await client.end().catch(() => {});
  }
})();
const binDir = findPgBin();
const pgPlan = postgresPlan({ url: pgUrl, fromEnv: process.env.UC_TEST_PG_URL !== undefined, ...probe, binDir, skip: process.env.UC_SKIP_PG === "1" && process.env.CI !== "true" });
if (pgPlan.action === "fail") fail(pgPlan.message);
let privatePg = null;
const env = { ...process.env };
if (pgPlan.action === "ok") console.error(`PostgreSQL at ${new URL(pgUrl).host}: the PostgreSQL suites will run against it.`);
if (pgPlan.action === "private") {
  process.env.UC_PG_BIN = binDir; // the private cluster uses the binaries found here
  const { startPrivatePostgres } = await import("../dist/test/support/private-postgres.js");
  privatePg = await startPrivatePostgres(); // initdb, then started
  env.UC_TEST_PG_URL = privatePg.url;
  env.UC_PG_BIN = binDir;
  console.error(`${pgPlan.why}: started a private PostgreSQL cluster for this run at ${new URL(privatePg.url).host} (${binDir}).`);
}

// --- the run, and the working tree before and after
const gitStatus = () => {
  const r = spawnSync("git", ["status", "--porcelain", "--untracked-files=all"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout : null;
};
const before = gitStatus();
const r = spawnSync(process.execPath, ["--test", "--test-concurrency=2", ...files], { stdio: "inherit", env });
if (privatePg) await privatePg.destroy();
let status = r.status ?? 1;
const afterRun = gitStatus();
if (before !== null && afterRun !== null && afterRun !== before) {
  const was = new Set(before.split("\n"));
  const changed = afterRun.split("\n").filter((l) => l && !was.has(l) && !(process.env.UC_SCREENSHOTS === "1" && l.includes("docs/screenshots/")));
  if (changed.length > 0) {
    console.error(`\n*** The test run changed files in the working tree (tests must write to temporary directories):\n${changed.join("\n")} ***\n`);
    status = 1;
  }
}
process.exit(status);
