// Profiling aid: `node --cpu-prof dist/bench/profile.js [sqlite|postgres-url] [orgs] [seconds]`.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchApp, engineLoad, seed } from "./workload.js";

const db = process.argv[2] && process.argv[2] !== "sqlite" ? process.argv[2] : `sqlite:${join(mkdtempSync(join(tmpdir(), "uc-prof-")), "p.db")}`;
const app = await benchApp(db, Number(process.env["UC_MAX_BATCH"] ?? 256));
const tenants = await seed(app, Number(process.argv[3] ?? 1000));
const r = await engineLoad(app, tenants, 1000, Number(process.argv[4] ?? 3));
process.stdout.write(`${Math.round(r.ops)} ops/s, avg batch ${r.batch.toFixed(0)}\n`);
await app.close();
