// The README quickstart, as a new user lives it: `usage-credits serve` in an empty directory, with
// no configuration at all, serves the OpenAPI document and a working demo organization within a
// minute; a restart keeps the same demo organization; SIGTERM drains and exits 0.

import assert from "node:assert/strict";
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = join(ROOT, "dist", "src", "main.js");
const STARTUP_LIMIT_MS = 60_000;

interface Server {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly url: string;
  readonly banner: string;
  readonly startupMs: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  readonly exited: Promise<number | string | null>;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("USAGE_CREDITS_")) env[k] = v;
  return env;
}

/** Spawns `serve --port 0` in cwd and waits for the whole banner (it ends with the curl hint). */
function startServer(cwd: string): Promise<Server> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [MAIN, "serve", "--port", "0"], { cwd, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d: string) => (err += d));
  const exited = new Promise<number | string | null>((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`not serving within ${STARTUP_LIMIT_MS} ms\n--- stdout\n${out}\n--- stderr\n${err}`));
    }, STARTUP_LIMIT_MS);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before serving\n--- stdout\n${out}\n--- stderr\n${err}`));
    });
    const onData = (d: string) => {
      out += d;
      const first = /^usage-credits listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
      if (!first || !/Try: curl[^\n]*\n/.test(out)) return;
      clearTimeout(timer);
      resolve({
        child,
        url: first[1]!,
        banner: out,
        startupMs: performance.now() - t0,
        stdout: () => out,
        stderr: () => err,
        exited,
      });
    };
    child.stdout.on("data", onData);
  });
}

/** SIGTERM, then the exit code (bounded: a hang is a failure, not a stuck test run). */
async function stop(s: Server): Promise<number | string | null> {
  s.child.kill("SIGTERM");
  const timeout = new Promise<string>((resolve) => setTimeout(() => resolve("did not exit within 15 s of SIGTERM"), 15_000).unref());
  const code = await Promise.race([s.exited, timeout]);
  if (typeof code === "string" && code.startsWith("did not")) s.child.kill("SIGKILL");
  return code;
}

/** `data/demo.env` as the README's tour sources it: exports of the URL, keys and ids, mode 0600. */
function assertDemoEnv(dir: string, s: Server, d: { orgId: string; memberId: string; apiKey: string; platformKey: string }): void {
  assert.match(s.banner, /\n {2}Shell variables \(UC_URL, UC_KEY, UC_ORG, UC_MEMBER, UC_OPERATOR_KEY\): source data\/demo\.env\n/, s.banner);
  const file = join(dir, "data", "demo.env");
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const exports = readFileSync(file, "utf8").split("\n").filter((l) => l.startsWith("export "));
  assert.deepEqual(exports, [`export UC_URL=${s.url}`, `export UC_KEY=${d.apiKey}`, `export UC_ORG=${d.orgId}`, `export UC_MEMBER=${d.memberId}`, `export UC_OPERATOR_KEY=${d.platformKey}`]);
}

function demoFrom(banner: string): { orgId: string; memberId: string; apiKey: string; platformKey: string; email: string; password: string; created: boolean } {
  const org = /(Created the demo organization|Demo organization) (org_[0-9a-z]+) \(Pro plan, \$25\.00 of usage credits\)/.exec(banner);
  const key = /Demo API key \(owner (mem_[0-9a-z]+)\): (uck_\S+)/.exec(banner);
  const platform = /Operator \(platform\) key: (uck_\S+)/.exec(banner);
  const signIn = /Dashboard sign-in \(owner\): (\S+@\S+) \/ (\S+)/.exec(banner);
  assert.ok(org && key && platform && signIn, `the banner lacks the demo organization or its dashboard sign-in:\n${banner}`);
  return { orgId: org[2]!, memberId: key[1]!, apiKey: key[2]!, platformKey: platform[1]!, email: signIn[1]!, password: signIn[2]!, created: org[1] === "Created the demo organization" };
}

describe("quickstart: serve in an empty directory", () => {
  let dir: string;
  const running: Server[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "uc-quickstart-"));
  });
  after(async () => {
    for (const s of running) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  let first: ReturnType<typeof demoFrom>;

  test("first start: OpenAPI 3.1, a demo organization with $25 of usage credits, credentials saved; SIGTERM exits 0", async () => {
    const s = await startServer(dir);
    running.push(s);
    process.stderr.write(`# quickstart: spawn to serving in ${s.startupMs.toFixed(0)} ms\n`);
    assert.ok(s.startupMs < STARTUP_LIMIT_MS, `took ${s.startupMs} ms`);
    assert.match(s.banner, new RegExp(`OpenAPI document: ${s.url}/openapi\\.json`));

    const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    assert.equal(doc.openapi, "3.1.0");
    assert.ok(doc.paths["/v1/organizations/{org_id}/authorize"]?.["post"], `paths: ${Object.keys(doc.paths).join(", ")}`);
    assert.ok(doc.paths["/v1/organizations/{org_id}/usage_summary"]?.["get"]);

    first = demoFrom(s.banner);
    assert.equal(first.created, true, s.banner);
    assert.ok(s.banner.includes(`curl -H "x-api-key: ${first.apiKey}" ${s.url}/v1/organizations/${first.orgId}/usage_summary`));

    const res = await fetch(`${s.url}/v1/organizations/${first.orgId}/usage_summary`, { headers: { "x-api-key": first.apiKey } });
    const summary = (await res.json()) as Record<string, Record<string, unknown>>;
    assert.equal(res.status, 200, JSON.stringify(summary));
    assert.ok(summary["five_hour"], JSON.stringify(summary));
    assert.ok(summary["seven_day"], JSON.stringify(summary));
    assert.equal(summary["usage_credits"]?.["balance"], "25000000");
    assert.equal(summary["usage_credits"]?.["is_enabled"], true);
    const denied = await fetch(`${s.url}/v1/organizations/${first.orgId}/usage_summary`, { headers: { "x-api-key": "uck_not_a_real_key" } });
    assert.equal(denied.status, 401);
    await denied.body?.cancel();

    const credsFile = join(dir, "data", "demo-credentials.json");
    assert.ok(existsSync(credsFile), "data/demo-credentials.json was not written");
    assert.deepEqual(JSON.parse(readFileSync(credsFile, "utf8")), {
      org_id: first.orgId,
      member_id: first.memberId,
      api_key: first.apiKey,
      platform_key: first.platformKey,
      dashboard_email: first.email,
      dashboard_password: first.password,
    });
    assertDemoEnv(dir, s, first);
    // The printed sign-in opens the dashboard served by the same process.
    assert.match(s.banner, new RegExp(`Dashboard: ${s.url}/dashboard/`));
    assert.equal((await fetch(`${s.url}/dashboard/`)).status, 200);
    const signIn = await fetch(`${s.url}/v1/dashboard/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: first.email, password: first.password }) });
    assert.equal(signIn.status, 201, await signIn.text());
    assert.match(signIn.headers.get("set-cookie") ?? "", /^uc_session=.*HttpOnly; SameSite=Strict/);
    assert.ok(existsSync(join(dir, "data", "usage-credits.db")));

    assert.equal(await stop(s), 0, `stdout:\n${s.stdout()}\nstderr:\n${s.stderr()}`);
    assert.match(s.stdout(), /SIGTERM: draining in-flight requests and batches, then exiting\ndrained; exiting\n/);
  });

  test("a restart in the same directory shows the same demo organization and creates no second one", async () => {
    assert.ok(first, "needs the first start");
    const s = await startServer(dir);
    running.push(s);
    process.stderr.write(`# quickstart: restart to serving in ${s.startupMs.toFixed(0)} ms\n`);
    const again = demoFrom(s.banner);
    assert.equal(again.created, false, s.banner);
    assert.deepEqual({ ...again, created: true }, first);
    assertDemoEnv(dir, s, first); // rewritten with this start's URL (another port)

    const orgs = await fetch(`${s.url}/v1/organizations`, { headers: { "x-api-key": first.platformKey } });
    const body = (await orgs.json()) as { data: Array<{ id: string }> };
    assert.equal(orgs.status, 200, JSON.stringify(body));
    assert.deepEqual(body.data.map((o) => o.id), [first.orgId]);

    const res = await fetch(`${s.url}/v1/organizations/${first.orgId}/usage_summary`, { headers: { "x-api-key": first.apiKey } });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as Record<string, Record<string, unknown>>)["usage_credits"]?.["balance"], "25000000");

    assert.equal(await stop(s), 0, `stdout:\n${s.stdout()}\nstderr:\n${s.stderr()}`);
  });
});
