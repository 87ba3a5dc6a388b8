// `npm run bench:import`: the legacy importer at scale, as an operator runs it. Generates an
// export of UC_BENCH_IMPORT_ACCOUNTS accounts (default 100,000), then on a fresh SQLite file and a
// fresh PostgreSQL database (UC_BENCH_PG_URL, skipped with UC_BENCH_IMPORT_PG=0) runs the CLI:
// `import extra-usage FILE --report` (import + reconciliation), the same again (must change
// nothing) and `ledger verify`, timing each. Prints the figures and writes bench/results/import.json.

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { generateLegacyExport } from "./legacy-export.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = join(ROOT, "dist/src/main.js");
const ACCOUNTS = Number(process.env["UC_BENCH_IMPORT_ACCOUNTS"] ?? 100_000);
const PG_ADMIN = process.env["UC_BENCH_PG_URL"] ?? process.env["UC_TEST_PG_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres";
const WITH_PG = process.env["UC_BENCH_IMPORT_PG"] !== "0";

interface Step {
  readonly seconds: number;
  readonly code: number | null;
  readonly stdout: string;
}

function cli(args: string[]): Step {
  const t = performance.now();
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, env: { ...process.env, USAGE_CREDITS_LOG: "error" } });
  const seconds = (performance.now() - t) / 1000;
  if (r.status !== 0) process.stderr.write(`${args.join(" ")} exited ${r.status}\n${r.stdout}\n${r.stderr}\n`);
  return { seconds, code: r.status, stdout: r.stdout };
}

async function pgDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `uc_bench_import_${Date.now().toString(36)}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: PG_ADMIN });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const u = new URL(PG_ADMIN);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

const dir = mkdtempSync(join(tmpdir(), "uc-bench-import-"));
const file = join(dir, "legacy.jsonl");
const g0 = performance.now();
const lines = generateLegacyExport({ accounts: ACCOUNTS, now: Date.now(), format: "jsonl" });
writeFileSync(file, `${lines.join("\n")}\n`);
process.stdout.write(`generated ${ACCOUNTS.toLocaleString("en-US")} accounts, ${lines.length.toLocaleString("en-US")} lines in ${((performance.now() - g0) / 1000).toFixed(1)} s\n`);

const results: Record<string, unknown>[] = [];
const engines: Array<{ name: string; url: () => Promise<{ url: string; drop: () => Promise<void> }> }> = [
  { name: "sqlite", url: async () => ({ url: `sqlite:${join(dir, "bench.db")}`, drop: async () => undefined }) },
  ...(WITH_PG ? [{ name: "postgres", url: pgDatabase }] : []),
];
for (const engine of engines) {
  const db = await engine.url();
  try {
    const D = ["--database", db.url];
    cli(["init", ...D, "--json"]);
    const report = join(dir, `report-${engine.name}.json`);
    const first = cli(["import", "extra-usage", file, "--quiet", "--report", report, ...D]);
    const r = JSON.parse(readFileSync(report, "utf8")) as { imported: number; differences: number; rejected: number; ms: { parse: number; write: number; reconcile: number } };
    const second = cli(["import", "extra-usage", file, "--quiet", "--json", ...D]);
    const again = JSON.parse(second.stdout) as { imported: number; unchanged: number; differences: number };
    const verify = cli(["ledger", "verify", ...D]);
    const row = {
      engine: engine.name,
      accounts: ACCOUNTS,
      import_seconds: +first.seconds.toFixed(1),
      parse_ms: r.ms.parse,
      write_ms: r.ms.write,
      reconcile_ms: r.ms.reconcile,
      accounts_per_second_written: Math.round(ACCOUNTS / (r.ms.write / 1000)),
      imported: r.imported,
      rejected: r.rejected,
      differences: r.differences,
      rerun_seconds: +second.seconds.toFixed(1),
      rerun_imported: again.imported,
      rerun_unchanged: again.unchanged,
      rerun_differences: again.differences,
      verify_seconds: +verify.seconds.toFixed(1),
      verify_ok: verify.code === 0,
    };
    results.push(row);
    process.stdout.write(
      `${engine.name.padEnd(9)} import ${row.import_seconds} s (parse ${(r.ms.parse / 1000).toFixed(1)} s, write ${(r.ms.write / 1000).toFixed(1)} s = ${row.accounts_per_second_written} accounts/s, ` +
        `reconcile ${(r.ms.reconcile / 1000).toFixed(1)} s): imported ${r.imported}, differences ${r.differences}; ` +
        `re-run ${row.rerun_seconds} s: imported ${again.imported}, unchanged ${again.unchanged}, differences ${again.differences}; ledger verify ${row.verify_seconds} s ${row.verify_ok ? "ok" : "FAILED"}\n`,
    );
  } finally {
    await db.drop();
  }
}
mkdirSync(join(ROOT, "bench/results"), { recursive: true });
writeFileSync(join(ROOT, "bench/results/import.json"), `${JSON.stringify({ at: new Date().toISOString(), results }, null, 2)}\n`);
rmSync(dir, { recursive: true, force: true });
if (results.some((r) => r["differences"] !== 0 || r["rerun_imported"] !== 0 || r["verify_ok"] !== true)) process.exitCode = 1;
