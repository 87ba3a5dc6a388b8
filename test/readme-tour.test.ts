// The README's five-minute tour, run verbatim, so the README cannot drift from the product. The
// repository's tracked files (`git ls-files`, as a clone has them) are copied into an empty
// directory, built there, and `npm start` is started there as the tour tells a newcomer to; then the
// ```sh blocks between `<!-- tour:begin -->` and `<!-- tour:end -->` in README.md are concatenated
// and run by one bash with `set -e -o pipefail` in that directory (the blocks share variables, as in
// the one terminal the reader pastes them into). Every command must succeed (the tour's curls use
// -f, so an HTTP error fails it) and the outputs must say what the README says they say.
//
// node_modules is a symlink to this checkout's, not a fresh `npm ci`: that would compile
// better-sqlite3 again (about two and a half minutes on this machine) and fetch every package from
// the registry in every test run. What is tested here is the tour; `npm ci` from scratch is what
// .ci/run does.

import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const README = readFileSync(join(ROOT, "README.md"), "utf8");

/** The ```sh blocks between the tour markers, in order. */
export function tourBlocks(readme: string): string[] {
  const begin = readme.indexOf("<!-- tour:begin -->");
  const end = readme.indexOf("<!-- tour:end -->");
  if (begin < 0 || end < begin) return [];
  return [...readme.slice(begin, end).matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? "");
}

/** The environment of a newcomer's shell: nothing of ours set (no USAGE_CREDITS_*, no UC_*). */
function newcomerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("USAGE_CREDITS_") && !k.startsWith("UC_") && !k.startsWith("npm_")) env[k] = v;
  return { ...env, ...extra };
}

function copyCheckout(to: string): void {
  const files = execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" }).split("\0").filter(Boolean);
  for (const f of files) {
    const from = join(ROOT, f);
    let mode: number;
    try {
      mode = statSync(from).mode;
    } catch {
      continue; // deleted in the working tree, not yet committed: a clone of the work would not have it
    }
    mkdirSync(dirname(join(to, f)), { recursive: true });
    copyFileSync(from, join(to, f));
    chmodSync(join(to, f), mode & 0o777);
  }
  symlinkSync(join(ROOT, "node_modules"), join(to, "node_modules"), "dir");
}

describe("README: the five-minute tour, verbatim, in a copy of the repository", () => {
  let dir: string;
  let server: ChildProcess | undefined;
  let out = "";
  let err = "";

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "uc-readme-tour-"));
  });
  after(async () => {
    if (server?.pid !== undefined && server.exitCode === null && server.signalCode === null) {
      const gone = new Promise((resolve) => server?.once("exit", resolve));
      process.kill(-server.pid, "SIGTERM"); // npm and the node it started: one process group
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 15_000).unref())]);
      if (server.exitCode === null && server.signalCode === null) process.kill(-server.pid, "SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test("the README is short and shows the two commands on its first screen", () => {
    const lines = README.split("\n");
    assert.ok(lines.length <= 200, `README.md has ${lines.length} lines`);
    const first = lines.slice(0, 15).join("\n");
    assert.match(first, /^npm ci && npm start\b/m);
    assert.match(first, /^npm test\b/m);
    assert.ok(tourBlocks(README).length >= 6, "the tour section (<!-- tour:begin --> … <!-- tour:end -->) has its sh blocks");
  });

  test("CI runs the README's commands: npm ci, then npm test", () => {
    const ci = readFileSync(join(ROOT, ".ci", "run"), "utf8").trimEnd().split("\n");
    assert.deepEqual(ci.slice(-2), ["npm ci", "npm test"]);
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(README)?.[1] ?? "";
    assert.deepEqual(firstBlock.split("\n").filter(Boolean).map((l) => l.split("#")[0]?.trim()), ["npm ci && npm start", "npm test"]);
  });

  test("copy, build, npm start, then every tour command succeeds", { timeout: 300_000 }, async () => {
    copyCheckout(dir);
    const build = spawnSync("npm", ["run", "build"], { cwd: dir, env: newcomerEnv(), encoding: "utf8" });
    assert.equal(build.status, 0, `npm run build failed:\n${build.stdout}\n${build.stderr}`);

    // `npm start` as the README says; port 0 because this machine may serve something on 8787 and
    // the tour reads the address from data/demo.env, never from the README.
    server = spawn("npm", ["start"], { cwd: dir, env: newcomerEnv({ USAGE_CREDITS_PORT: "0" }), stdio: ["ignore", "pipe", "pipe"], detached: true });
    server.stdout?.setEncoding("utf8").on("data", (d: string) => (out += d));
    server.stderr?.setEncoding("utf8").on("data", (d: string) => (err += d));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start did not print the banner within 60 s\n${out}\n${err}`)), 60_000);
      server?.once("exit", (code) => (clearTimeout(timer), reject(new Error(`npm start exited (${code})\n${out}\n${err}`))));
      server?.stdout?.on("data", () => {
        if (/source data\/demo\.env\n/.test(out)) (clearTimeout(timer), resolve());
      });
    });
    const url = /usage-credits listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    assert.ok(url, out);

    const script = tourBlocks(readFileSync(join(dir, "README.md"), "utf8")).join("\n");
    const tour = spawnSync("bash", ["-e", "-o", "pipefail", "-c", script], { cwd: dir, env: newcomerEnv(), encoding: "utf8", timeout: 120_000 });
    const shown = `--- exit ${tour.status}\n--- stdout\n${tour.stdout}\n--- stderr\n${tour.stderr}`;
    assert.equal(tour.status, 0, shown);

    // What the README's prose promises each step shows.
    assert.match(tour.stdout, /^hold_[0-9a-z]+$/m, shown); // 1. authorize
    assert.match(tour.stdout, /"status":"settled"[^\n]*"charged":"20200"/, shown); // 2. settle
    assert.match(tour.stdout, /"five_hour":\{[^\n]*"usage_credits":\{"is_enabled":true[^\n]*"used_credits":"20200","balance":"24979800"/, shown); // 3.
    assert.match(tour.stdout, /"type":"payment","purpose":"purchase","status":"succeeded","amount":"20000000"[^\n]*"grant_id":"grant_/, shown); // 4.
    assert.ok(tour.stdout.includes(`open ${url}/dashboard/\n`), shown); // 5.
    assert.match(tour.stdout, /^sign in as owner@demo\.example \/ \S{12,}$/m, shown);
    assert.match(tour.stdout, /^\[simulated upstream\] /m, shown); // 6. the SDK's answer
    assert.match(tour.stdout, /output_tokens: \d+/, shown);
    // The official SDK warns on stderr about a deprecated model: the tour must use a current one.
    assert.doesNotMatch(tour.stderr, /deprecated|end-of-life/i, shown);

    // And the books balance after the tour.
    const operatorKey = /^export UC_OPERATOR_KEY=(\S+)$/m.exec(readFileSync(join(dir, "data", "demo.env"), "utf8"))?.[1];
    const verify = await fetch(`${url}/v1/ledger/verify`, { headers: { "x-api-key": operatorKey ?? "" } });
    const body = (await verify.json()) as { ok?: boolean };
    assert.equal(verify.status, 200, JSON.stringify(body));
    assert.equal(body.ok, true, JSON.stringify(body));
  });
});
