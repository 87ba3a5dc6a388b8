// `usage-credits lab replay`: the pricing lab from the command line (app/lab.ts), the same replay
// as POST /v1/lab/replays. Progress goes to stderr; the report to stdout as text, JSON or CSV.

import { readFile } from "node:fs/promises";
import type { z } from "zod";
import { Lab, type LabReport } from "../../app/lab.js";
import type { Spend } from "../../core/lab.js";
import { formatUsd } from "../../core/money.js";
import type { PriceBookSpec as PriceBookSpecType } from "../../core/price-book.js";
import { presentLabReport } from "../../presenters/lab.js";
import { LabReplay, planFromSpec, PlanSpec, PriceBookSpec } from "../../schemas/requests.js";
import { CliError, type Command } from "./shared.js";

async function readJson(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not JSON (${what}): ${(err as Error).message}`);
  }
}

function problems(file: string, what: string, issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): CliError {
  return new CliError(`${file} is not a valid ${what}:\n${issues.map((i) => `  ${i.path.map(String).join(".") || "(root)"}: ${i.message}`).join("\n")}`);
}

const CSV_HEAD = ["org_id", "name", "member_id", "figure", "plan_window", "sdk_credits", "usage_credits", "total", "revenue", "breakage"];
const csvCell = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const spendCells = (s: Spend): string[] => [s.planWindow, s.sdkCredits, s.usageCredits, s.total, s.revenue, s.breakage].map(String);

/** One row per organization (and member) and figure (actual, replayed, difference), amounts in micro-dollars. */
export function labCsv(r: LabReport): string {
  const rows: string[][] = [CSV_HEAD];
  rows.push(["", "(all)", "", "actual", ...spendCells(r.totals.actual)], ["", "(all)", "", "replayed", ...spendCells(r.totals.replayed)], ["", "(all)", "", "difference", ...spendCells(r.totals.difference)]);
  for (const o of r.organizations) {
    rows.push([o.orgId, o.name, "", "actual", ...spendCells(o.actual)], [o.orgId, o.name, "", "replayed", ...spendCells(o.replayed)], [o.orgId, o.name, "", "difference", ...spendCells(o.difference)]);
    for (const m of o.members) rows.push([o.orgId, o.name, m.memberId, "actual", ...spendCells(m.actual)], [o.orgId, o.name, m.memberId, "replayed", ...spendCells(m.replayed)]);
  }
  return rows.map((r) => r.map(csvCell).join(",")).join("\r\n");
}

function labText(r: LabReport): string {
  const t = r.totals;
  const lines = [
    `period ${new Date(r.from).toISOString().slice(0, 7)}: ${r.entries} operations replayed, ${r.records} usage records (${r.recordsWithoutTokenClasses} without token classes)`,
    `total spend   actual ${formatUsd(t.actual.total)}   replayed ${formatUsd(t.replayed.total)}   difference ${formatUsd(t.difference.total)}`,
    `revenue       actual ${formatUsd(t.actual.revenue)}   replayed ${formatUsd(t.replayed.revenue)}   difference ${formatUsd(t.difference.revenue)}`,
    "organizations by change (largest first):",
  ];
  for (const o of r.organizations.slice(0, 50)) {
    const refused = Object.entries(o.refusals.replayed).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
    lines.push(`  ${o.orgId} ${o.name}: ${formatUsd(o.actual.total)} → ${formatUsd(o.replayed.total)} (${o.difference.total >= 0 ? "+" : ""}${formatUsd(o.difference.total)}), closing balance ${formatUsd(o.closingBalance.actual)} → ${formatUsd(o.closingBalance.replayed)}, refused: ${refused}`);
  }
  if (r.organizations.length > 50) lines.push(`  … ${r.organizations.length - 50} more (use --json or --csv)`);
  return lines.join("\n");
}

export const LAB_COMMANDS: readonly Command[] = [
  {
    name: "lab replay",
    summary: "Pricing lab: replay a month under a proposed price book and/or plans; compare with what happened. Writes nothing.",
    options: {
      period: { type: "string", help: "the calendar month (UTC) to replay, YYYY-MM", required: true },
      "price-book": { type: "string", help: "a proposed price book (JSON, the form of `price-books import`)" },
      plans: { type: "string", help: "proposed plans (JSON object: plan id → the plan as PUT /v1/plans/{id} takes it)" },
      org: { type: "string", help: "replay only this organization (repeat, or separate ids with commas); default: all", multiple: true },
      csv: { type: "boolean", help: "print CSV (one row per organization, member and figure; micro-dollars)" },
      quiet: { type: "boolean", help: "no progress lines on stderr" },
    },
    details: `Every organization starts from its state at the start of the month (balances from the ledger,
holds pending then, window and spending-limit counters) and its operations are decided again, in the
order they were decided, by the same rules that charged them. Without --price-book every amount is
the one rated at the time; without --plans the plans in force apply: such a replay reproduces the
month exactly (every difference 0). docs/pricing-lab.md explains the figures and the limits.`,
    run: async (s, o) => {
      const period = typeof o["period"] === "string" ? o["period"] : "";
      const orgIds = typeof o["org"] === "string" ? o["org"].split(",").map((x) => x.trim()).filter((x) => x !== "") : undefined;
      let priceBook: PriceBookSpecType | undefined;
      const bookFile = typeof o["price-book"] === "string" ? o["price-book"] : undefined;
      if (bookFile) {
        const shape = PriceBookSpec.safeParse(await readJson(bookFile, "price book"));
        if (!shape.success) throw problems(bookFile, "price book", shape.error.issues);
        priceBook = shape.data as unknown as PriceBookSpecType;
      }
      const plansFile = typeof o["plans"] === "string" ? o["plans"] : undefined;
      let plans: ReturnType<typeof planFromSpec>[] | undefined;
      if (plansFile) {
        const shape = LabReplay.shape.plans.safeParse(await readJson(plansFile, "plans"));
        if (!shape.success) throw problems(plansFile, "plan set (an object: plan id → plan)", shape.error.issues);
        plans = Object.entries(shape.data ?? {}).map(([id, spec]) => planFromSpec(id, spec as z.infer<typeof PlanSpec>));
      }
      const started = Date.now();
      let lastNote = 0;
      const progress = o["quiet"]
        ? undefined
        : (p: { entries: number }) => {
            const now = Date.now();
            if (now - lastNote < 1_000) return;
            lastNote = now;
            const secs = (now - started) / 1000;
            process.stderr.write(`replayed ${p.entries} operations (${Math.round(p.entries / Math.max(secs, 0.001))}/s)\n`);
          };
      const out = await new Lab(s.store).replay({ period, ...(orgIds ? { orgIds } : {}), ...(priceBook ? { priceBook } : {}), ...(plans ? { plans } : {}) }, progress);
      if (!out.ok) throw new CliError(`${out.error.code}: ${out.error.message}`);
      if (!o["quiet"]) process.stderr.write(`replayed ${out.value.entries} operations in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      return { json: presentLabReport(out.value), text: o["csv"] === true ? labCsv(out.value) : labText(out.value) };
    },
  },
];
