// A generator of legacy ("extra usage") export files in the documented format
// (docs/legacy-export.md), for the import benchmark and the tests. Deterministic for a seed.
// Run directly: node dist/bench/legacy-export.js <accounts> <out.jsonl|out.csv> [plan]

import { writeFileSync } from "node:fs";
import { LEGACY_CSV_COLUMNS } from "../src/core/legacy-export.js";
import { microsToDecimal } from "../src/core/money.js";
import { rng } from "../test/support/rng.js";

export interface GenerateOptions {
  readonly accounts: number;
  readonly now: number;
  readonly format: "jsonl" | "csv";
  readonly plan?: string;
  readonly seed?: number;
  readonly idPrefix?: string;
}

type Rec = Record<string, string | boolean | null>;

const usd = (micros: number): string => microsToDecimal(micros);
const iso = (t: number): string => new Date(t).toISOString();
const DAY = 86_400_000;

/** The records of one account (account first). */
export function accountRecords(i: number, o: GenerateOptions, rand: () => number): Rec[] {
  const id = `${o.idPrefix ?? "acct"}_${String(i).padStart(6, "0")}`;
  const recs: Rec[] = [];
  const lots: Rec[] = [];
  const lotCount = 1 + Math.floor(rand() * 3);
  let balance = 0;
  for (let l = 0; l < lotCount; l++) {
    const amount = (5 + Math.floor(rand() * 500)) * 1_000_000 + Math.floor(rand() * 1_000_000); // micro-dollar precision
    const remaining = Math.floor(amount * rand());
    balance += remaining;
    const purchased = o.now - Math.floor(rand() * 300) * DAY - 3_600_000;
    lots.push({
      type: "lot", account_id: id, id: `${id}_lot${l}`, amount: usd(amount), remaining: usd(remaining), currency: "USD",
      purchased_at: iso(purchased), expires_at: l === 0 && rand() < 0.3 ? null : iso(purchased + 365 * DAY + 7 * DAY),
    });
  }
  recs.push({ type: "account", id, name: `Legacy account ${i}`, plan: o.plan ?? "pro", currency: "USD", balance: usd(balance), extra_usage_enabled: rand() < 0.9, created_at: iso(o.now - 400 * DAY) });
  recs.push({ type: "member", account_id: id, id: `${id}_m0`, email: `owner${i}@example.com`, name: `Owner ${i}`, role: "owner", extra_usage_enabled: true });
  if (rand() < 0.5) recs.push({ type: "member", account_id: id, id: `${id}_m1`, email: `dev${i}@example.com`, name: `Dev ${i}`, role: "member", extra_usage_enabled: rand() < 0.5 });
  recs.push(...lots);
  const hasPm = rand() < 0.7;
  if (hasPm) recs.push({ type: "payment_method", account_id: id, id: `${id}_pm0`, provider: "stripe", token: `pm_legacy_${id}`, brand: "visa", last4: String(1000 + (i % 9000)) });
  recs.push({ type: "limit", account_id: id, monthly_limit: rand() < 0.2 ? "unlimited" : usd((50 + Math.floor(rand() * 1000)) * 1_000_000), currency: "USD" });
  if (hasPm) {
    recs.push({ type: "auto_reload", account_id: id, enabled: rand() < 0.6, threshold: usd(Math.floor(rand() * 20) * 1_000_000 + 500_000), amount: usd((10 + Math.floor(rand() * 90)) * 1_000_000), payment_method_id: `${id}_pm0`, currency: "USD" });
  }
  recs.push({ type: "period_spend", account_id: id, period: iso(o.now).slice(0, 7), spent: usd(Math.floor(rand() * 40_000_000)), currency: "USD" });
  if (rand() < 0.05 && balance > 1_000_000) recs.push({ type: "hold", account_id: id, id: `${id}_h0`, amount: usd(1_000_000), currency: "USD" });
  return recs;
}

function csvCell(v: string | boolean | null | undefined): string {
  if (v === null || v === undefined) return "";
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function formatRecords(recs: readonly Rec[], format: "jsonl" | "csv"): string[] {
  if (format === "jsonl") return recs.map((r) => JSON.stringify(r));
  return recs.map((r) => LEGACY_CSV_COLUMNS.map((c) => csvCell(r[c])).join(","));
}

export function csvHeader(): string {
  return LEGACY_CSV_COLUMNS.join(",");
}

/** The whole file as text lines (no trailing newline handling: join with "\n"). */
export function generateLegacyExport(o: GenerateOptions): string[] {
  const rand = rng(o.seed ?? 42);
  const lines: string[] = o.format === "csv" ? [csvHeader()] : [];
  for (let i = 0; i < o.accounts; i++) lines.push(...formatRecords(accountRecords(i, o, rand), o.format));
  return lines;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").slice(-2).join("/"))) {
  const n = Number(process.argv[2] ?? 1000);
  const out = process.argv[3] ?? "legacy-export.jsonl";
  const lines = generateLegacyExport({ accounts: n, now: Date.now(), format: out.endsWith(".csv") ? "csv" : "jsonl", plan: process.argv[4] ?? "pro" });
  writeFileSync(out, `${lines.join("\n")}\n`);
  process.stdout.write(`wrote ${n} accounts (${lines.length} lines) to ${out}\n`);
}
