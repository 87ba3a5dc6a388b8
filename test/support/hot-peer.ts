// A second process on the same database, for test/hot-orgs.test.ts: opens the app on the database
// named by argv[2] (the CLI's and a second instance's code path), does one operation (argv[3], with
// the JSON input argv[4]), prints its result as one JSON line and exits. With the slow-commit
// preload it can be killed with -9 while its batch is syncing.

import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config/config.js";
import { silentLogger } from "../../src/ports/logger.js";
import { openTestStore } from "./backends.js";

const [db = "", op = "", json = "{}"] = process.argv.slice(2);
const input = JSON.parse(json) as Record<string, string | number>;
const app = await createApp(loadConfig({ USAGE_CREDITS_SWEEP_SECONDS: "86400", USAGE_CREDITS_MODE: "production" }, { database: db }), { log: silentLogger, store: await openTestStore(db, 2) });
const { engine, admin } = app.services;
const str = (k: string) => String(input[k]);
let out: unknown;
switch (op) {
  case "authorize": {
    const r = await engine.authorize({ orgId: str("orgId"), memberId: str("memberId"), surface: "interactive", model: "claude-haiku-4-5", speed: "standard", estimate: { amount: Number(input["amount"]) } });
    out = r.kind === "fresh" ? (r.result.ok ? { ok: true, holdId: r.result.value.hold.id } : { ok: false, code: r.result.error.code }) : { replay: true };
    break;
  }
  case "grant": {
    const r = await engine.createGrant({ orgId: str("orgId"), kind: "purchase", amount: Number(input["amount"]), priority: 5, expiresAt: null, surfaces: null, memberId: null, description: "peer" });
    out = { ok: r.kind === "fresh" && r.result.ok };
    break;
  }
  case "limit": {
    const r = await admin.setLimit(str("orgId"), { scope: "organization", scopeId: null, period: "monthly", amount: Number(input["amount"]) });
    out = { ok: r.kind === "fresh" && r.result.ok };
    break;
  }
  default:
    throw new Error(`unknown operation ${op}`);
}
process.stdout.write(`${JSON.stringify(out)}\n`);
await app.close();
