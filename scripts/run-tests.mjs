// Runs every compiled test file with node's test runner. PostgreSQL is checked first so that a
// missing server is reported loudly at the top, not as a puzzling failure deep in the log.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import net from "node:net";

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

// The real client packages (Claude Code, the Agent SDK, the Vercel AI SDK, LangChain: ~900 MB with
// Claude Code's native binary, all from the npm registry) live in their own package, test/clients,
// out of the product's install. Installed here when missing; if that fails, the run fails loudly.
const wantsClients = files.some((f) => f.includes("gateway-clients"));
const clientsInstalled = existsSync("test/clients/node_modules/.package-lock.json") && existsSync("test/clients/node_modules/.bin/claude");
if (wantsClients && !clientsInstalled) {
  console.error("Installing the real client packages: npm ci --prefix test/clients …");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const install = spawnSync(npm, ["ci", "--prefix", "test/clients", "--no-audit", "--no-fund"], { stdio: "inherit" });
  if (install.status !== 0) {
    console.error("\n*** Could not install test/clients (npm ci --prefix test/clients): the real-client tests cannot run, so the test run FAILS. ***\n");
    process.exit(1);
  }
}

const pgUrl = new URL(process.env.UC_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres");
const reachable = await new Promise((resolve) => {
  const s = net.connect({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) }, () => (s.end(), resolve(true)));
  s.on("error", () => resolve(false));
  s.setTimeout(3000, () => (s.destroy(), resolve(false)));
});
if (!reachable) {
  console.error(`\n*** PostgreSQL is NOT reachable at ${pgUrl.host}: the PostgreSQL suites will FAIL (they never skip). ***\n`);
} else {
  console.error(`PostgreSQL reachable at ${pgUrl.host}: PostgreSQL suites will run.`);
}

const r = spawnSync(process.execPath, ["--test", "--test-concurrency=2", ...files], { stdio: "inherit" });
process.exit(r.status ?? 1);
