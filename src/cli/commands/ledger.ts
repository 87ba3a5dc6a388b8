// `usage-credits import extra-usage` and `ledger verify`: bring legacy balances in, check the books.

import { writeFile } from "node:fs/promises";
import { LegacyImporter } from "../../app/legacy-import.js";
import { CliError, readInput, str, opt, type Command } from "./shared.js";

export const LEDGER_COMMANDS: readonly Command[] = [
  {
    name: "import extra-usage",
    summary: "Import a legacy extra-usage export (JSON Lines or CSV); --dry-run first. Exits 1 if any row was rejected.",
    positional: { name: "file", help: "the export file (.jsonl / .ndjson or .csv)" },
    options: {
      file: { type: "string", help: "the export file (or give it as the positional FILE)" },
      format: { type: "string", help: "jsonl or csv (default: from the file name)" },
      "dry-run": { type: "boolean", help: "validate and print what would change; write nothing" },
      report: { type: "string", help: "write the full report (errors, per-account reconciliation) to this JSON file" },
      quiet: { type: "boolean", help: "no progress lines on stderr" },
    },
    details: `The format is documented in docs/legacy-export.md. Each account imports all or nothing: a bad row
(bad amount, unknown currency, negative balance, duplicate id, invalid UTF-8…) leaves its account
untouched and is reported with its line number; the other accounts are imported. Re-running a file
changes nothing (accounts already imported are "unchanged"; changed data is a "conflict").
After a real run every imported or unchanged account is read back from the database and compared
with the file field by field; the summary's "differences" must be 0.
Exit status: 0 all accounts imported or unchanged with 0 differences; 1 rows rejected, conflicts,
failures or differences; 2 usage error.`,
    run: async (s, o) => {
      const file = str(o, "file");
      const format = opt(o, "format") ?? (/\.csv$/i.test(file) ? "csv" : /\.(jsonl|ndjson|json)$/i.test(file) ? "jsonl" : "");
      if (format !== "jsonl" && format !== "csv") throw new CliError(`--format must be jsonl or csv (cannot tell from ${JSON.stringify(file)})`);
      const bytes: Uint8Array = await readInput(file);
      const importer = new LegacyImporter(s.store, s.admin, s.catalog, s.clock);
      const progress = o["quiet"] ? undefined : (phase: string, done: number, total: number) => process.stderr.write(`${phase}: ${done}/${total} accounts\n`);
      const r = await importer.run({ file, bytes, format, dryRun: o["dry-run"] === true, ...(progress ? { progress } : {}) });
      const reportFile = opt(o, "report");
      if (reportFile) await writeFile(reportFile, `${JSON.stringify(r, null, 2)}\n`);
      const bad = r.rejected + r.conflicts + r.failed + r.differences > 0;
      if (bad) process.exitCode = 1;
      const { details, ...summary } = r;
      const verb = r.dry_run ? "would import" : "imported";
      const lines = [
        `${r.dry_run ? "DRY RUN (nothing written): " : ""}${r.accounts} accounts in ${r.lines} lines: ${verb} ${r.imported}, unchanged ${r.unchanged}, rejected ${r.rejected}, conflicts ${r.conflicts}, failed ${r.failed}`,
        ...(r.dry_run ? [] : [`reconciliation: ${r.differences} differences (old vs new, field by field)`]),
        ...r.errors.slice(0, 50).map((e) => `  line ${e.line}${e.accountId ? ` (account ${e.accountId})` : ""}: ${e.reason}`),
        ...(r.errors.length > 50 ? [`  … ${r.errors.length - 50} more errors${reportFile ? ` in ${reportFile}` : " (use --report FILE)"}`] : []),
        ...(r.dry_run ? details.filter((d) => d.outcome === "would_import").slice(0, 20).map((d) => `  would import ${d.legacy_id}`) : []),
        `time: parse ${r.ms.parse} ms, write ${r.ms.write} ms, reconcile ${r.ms.reconcile} ms`,
      ];
      return { json: summary, text: lines.join("\n") };
    },
  },
  {
    name: "ledger verify",
    summary: "Check every ledger invariant; exits 1 on any violation.",
    options: {},
    run: async (s) => {
      const r = await s.admin.verify();
      const text = r.violations.length === 0
        ? `ledger ok: ${r.transactions} transactions, every invariant holds`
        : [`ledger VIOLATIONS: ${r.violations.length}`, ...r.violations.map((v) => `  ${v.invariant} ${v.subject}: ${v.detail}`)].join("\n");
      if (r.violations.length > 0) process.exitCode = 1;
      return { json: { ok: r.violations.length === 0, transactions: r.transactions, violations: r.violations }, text };
    },
  },
];
