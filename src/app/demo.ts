// First start: a demo organization (Pro plan, usage credits on, $25 of promotional credits), its
// owner's API key and an operator (platform) key. Secrets are shown once, so for the embedded
// default they are also written to <data dir>/demo-credentials.json (mode 0600) and shown again
// at every start: a local convenience, never done for a PostgreSQL deployment. The owner also gets
// a random dashboard password, printed (and saved) the same way.

import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join, relative, isAbsolute } from "node:path";
import { MICROS_PER_USD } from "../core/money.js";
import type { Admin } from "./admin.js";
import type { Engine } from "./engine.js";
import type { Sessions } from "./sessions.js";

export interface DemoCredentials {
  readonly org_id: string;
  readonly member_id: string;
  readonly api_key: string;
  readonly platform_key: string;
  /** The owner's dashboard sign-in (absent in files written before the dashboard existed). */
  readonly dashboard_email?: string;
  readonly dashboard_password?: string;
}

export async function ensureDemo(admin: Admin, engine: Engine, sessions: Sessions, options: { dataDir: string | null }): Promise<{ created: boolean; credentials: DemoCredentials | null }> {
  const file = options.dataDir ? join(options.dataDir, "demo-credentials.json") : null;
  const orgs = await admin.read((tx) => tx.listOrgs(1, 0));
  if (orgs.length > 0) {
    const saved = file && existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as DemoCredentials) : null;
    return { created: false, credentials: saved };
  }
  const platform = await admin.createPlatformKey("Operator key (created at first start)");
  const out = await admin.createOrg({
    name: "Demo Org",
    planId: "pro",
    usageCreditsEnabled: true,
    fastModeEnabled: true,
    fastModeFallback: false,
    owner: { email: "owner@demo.example", name: "Demo Owner" },
  });
  if (out.kind !== "fresh" || !out.result.ok) throw new Error("could not create the demo organization");
  const { org, owner, key } = out.result.value;
  await engine.createGrant({
    orgId: org.id,
    kind: "promotional",
    amount: 25 * MICROS_PER_USD,
    priority: 5,
    expiresAt: null,
    surfaces: null,
    memberId: null,
    description: "Demo credits",
  });
  const password = randomBytes(12).toString("base64url");
  const set = await sessions.setPassword(org.id, owner.id, password);
  if (!set.ok) throw new Error(`could not set the demo owner's password: ${set.error.message}`);
  const credentials: DemoCredentials = {
    org_id: org.id,
    member_id: owner.id,
    api_key: key.secret,
    platform_key: platform.secret,
    dashboard_email: owner.email,
    dashboard_password: password,
  };
  if (file && options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  }
  return { created: true, credentials };
}

/**
 * `<data dir>/demo.env` (mode 0600): the demo's URL, keys and ids as shell exports, so the README's
 * tour starts with `source data/demo.env` instead of copying secrets by hand. Rewritten at every
 * start because the listen URL may change (`--port`). Returns the path as the user would type it
 * from the working directory.
 */
export function writeDemoEnv(dataDir: string, url: string, c: DemoCredentials): string {
  const file = join(dataDir, "demo.env");
  const vars = { UC_URL: url, UC_KEY: c.api_key, UC_ORG: c.org_id, UC_MEMBER: c.member_id, UC_OPERATOR_KEY: c.platform_key };
  const text = `# usage-credits demo (development only): source this file in a shell\n${Object.entries(vars).map(([k, v]) => `export ${k}=${v}`).join("\n")}\n`;
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600); // writeFileSync's mode applies only when it creates the file
  const typed = relative(process.cwd(), file);
  return typed.startsWith("..") || isAbsolute(typed) ? file : typed;
}
