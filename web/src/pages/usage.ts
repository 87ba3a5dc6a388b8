// Usage: spend and tokens by day, model, surface, member and speed over a chosen range, a table
// grouped by the chosen dimension, and a CSV of exactly that table (same rows, same total).
// Everything is computed from one breakdown query; money sums are BigInt, so the table's total,
// the CSV's total and the server's total are the same number.

import { api, ApiError } from "../api.js";
import { barList, columnChart, type Bar } from "../charts.js";
import type { Page } from "../context.js";
import { clearReady, field, h, markReady, messageBox, section, select, table } from "../dom.js";
import { int, usd } from "../format.js";
import type { Breakdown, List, Member, UsageCell } from "../wire.js";

type Dim = "day" | "model" | "surface" | "member" | "speed";
const DIMS: ReadonlyArray<readonly [Dim, string]> = [
  ["day", "Day"],
  ["model", "Model"],
  ["surface", "Surface"],
  ["member", "Member"],
  ["speed", "Speed"],
];

interface Row {
  readonly key: string;
  requests: number;
  cost: bigint;
  credit: bigint;
  input: number;
  output: number;
}

function group(cells: readonly UsageCell[], keyOf: (c: UsageCell) => string): Row[] {
  const rows = new Map<string, Row>();
  for (const c of cells) {
    const k = keyOf(c);
    const r = rows.get(k) ?? { key: k, requests: 0, cost: 0n, credit: 0n, input: 0, output: 0 };
    r.requests += c.requests;
    r.cost += BigInt(c.cost);
    r.credit += BigInt(c.credit_cost);
    r.input += c.input_tokens;
    r.output += c.output_tokens;
    rows.set(k, r);
  }
  return [...rows.values()];
}

function total(rows: readonly Row[]): Row {
  const t: Row = { key: "Total", requests: 0, cost: 0n, credit: 0n, input: 0, output: 0 };
  for (const r of rows) {
    t.requests += r.requests;
    t.cost += r.cost;
    t.credit += r.credit;
    t.input += r.input;
    t.output += r.output;
  }
  return t;
}

function csvField(v: string): string {
  const safe = /^[=+@-]/.test(v) && !/^-?\d+(\.\d+)?$/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Exact decimal dollars of a BigInt micro-dollar sum ("12.345678"), for the CSV. */
function decimal(m: bigint): string {
  const neg = m < 0n;
  const a = neg ? -m : m;
  return `${neg ? "-" : ""}${a / 1_000_000n}.${(a % 1_000_000n).toString().padStart(6, "0")}`;
}

const DAY_MS = 86_400_000;
function daysBetween(fromIso: string, toIso: string): string[] {
  const out: string[] = [];
  const end = Date.parse(toIso) - 1;
  for (let t = Math.floor(Date.parse(fromIso) / DAY_MS) * DAY_MS; t <= end; t += DAY_MS) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

let state: { days: string; from: string; to: string; by: Dim } = { days: "30", from: "", to: "", by: "day" };

/** 1500 → "1.5k", 2000000 → "2M" (an axis label; display only). */
const compact = (v: number): string => (v >= 1e6 ? `${+(v / 1e6).toFixed(1)}M` : v >= 1e3 ? `${+(v / 1e3).toFixed(1)}k` : String(v));

export const usagePage: Page = async (ctx, view) => {
  const own = !ctx.canBill;
  if (own) view.append(h("p", { class: "muted", "data-testid": "own-usage-note" }, `Your own usage only: the organization's figures are for owners, admins and billing members (your role: ${ctx.session.member.role}).`));
  const members = await api<List<Member>>("GET", `${ctx.base}/members`);
  const emailOf = new Map(members.data.map((m) => [m.id, m.email]));

  const range = select("range", [["7", "Last 7 days"], ["30", "Last 30 days"], ["90", "Last 90 days"], ["custom", "Custom range"]], state.days);
  const from = h("input", { type: "date", name: "from", value: state.from });
  const to = h("input", { type: "date", name: "to", value: state.to });
  const by = select("group_by", DIMS, state.by);
  const custom = h("div", { class: "row", hidden: state.days !== "custom" }, field("From", from), field("To (inclusive)", to));
  const msg = messageBox();
  const download = h("button", { type: "button", class: "secondary", "data-testid": "csv" }, "Download CSV");
  const form = h("form", { class: "controls", "aria-label": "Usage range" }, field("Range", range), custom, field("Group table by", by), h("button", { type: "submit" }, "Show"), download);
  const out = h("div", { class: "usage-out" });
  view.append(section("Range", form, msg), out);
  range.addEventListener("change", () => {
    custom.hidden = range.value !== "custom";
  });

  let shown: { rows: Row[]; total: Row; dim: Dim; from: string; to: string } | undefined;
  const label = (dim: Dim, key: string): string => (dim === "member" ? (emailOf.get(key) ?? key) : key);

  const load = async (): Promise<void> => {
    msg.clear();
    let query: string;
    if (range.value === "custom") {
      if (!from.value || !to.value) return msg.error("Choose both dates of the custom range.");
      if (from.value > to.value) return msg.error("The range's start must not be after its end.");
      query = `from=${from.value}T00:00:00Z&to=${new Date(Date.parse(`${to.value}T00:00:00Z`) + DAY_MS).toISOString()}`;
    } else {
      query = `days=${range.value}`;
    }
    state = { days: range.value, from: from.value, to: to.value, by: by.value as Dim };
    const all = await api<Breakdown>("GET", `${ctx.base}/usage/breakdown?${query}`);
    // A member without billing rights sees their own usage, not the organization's.
    const b = own ? { ...all, data: all.data.filter((c) => c.member_id === ctx.session.member.id) } : all;
    const dim = state.by;
    const keyOf: Record<Dim, (c: UsageCell) => string> = { day: (c) => c.day, model: (c) => c.model, surface: (c) => c.surface, member: (c) => c.member_id, speed: (c) => c.speed };
    const byDay = new Map(group(b.data, keyOf.day).map((r) => [r.key, r]));
    const days = daysBetween(b.from, b.to);
    const spendBars: Bar[] = days.map((d) => {
      const r = byDay.get(d);
      const cost = r?.cost ?? 0n;
      const paid = r?.credit ?? 0n;
      return { label: d, value: Number(cost), paid: Number(paid), text: `${usd(String(cost))} (${usd(String(paid))} paid with usage credits, ${usd(String(cost - paid))} covered by the plan)` };
    });
    const tokenBars: Bar[] = days.map((d) => {
      const r = byDay.get(d);
      const t = (r?.input ?? 0) + (r?.output ?? 0);
      return { label: d, value: t, text: `${int(t)} tokens` };
    });
    const bars = (d: Dim): Bar[] =>
      group(b.data, keyOf[d])
        .sort((x, y) => (y.cost > x.cost ? 1 : y.cost < x.cost ? -1 : 0))
        .map((r) => ({ label: label(d, r.key), value: Number(r.cost), text: usd(String(r.cost)) }));
    const rows = group(b.data, keyOf[dim]).sort((x, y) => (dim === "day" ? x.key.localeCompare(y.key) : y.cost > x.cost ? 1 : y.cost < x.cost ? -1 : 0));
    const t = total(rows);
    if (!own && String(t.cost) !== b.totals.cost) throw new Error("The usage table does not add up to the server's total; reload the page.");
    shown = { rows, total: t, dim, from: b.from, to: b.to };
    const dimName = DIMS.find(([d]) => d === dim)?.[1] ?? dim;
    out.replaceChildren(
      h(
        "div",
        { class: "totals" },
        h("div", {}, h("span", { class: "muted" }, own ? "Your usage at API prices" : "Usage at API prices"), h("strong", { "data-testid": "usage-total" }, usd(String(t.cost)))),
        h("div", {}, h("span", { class: "muted" }, "Paid with usage credits"), h("strong", { "data-testid": "usage-paid" }, usd(String(t.credit)))),
        h("div", {}, h("span", { class: "muted" }, "Covered by plan and SDK credits"), h("strong", { "data-testid": "usage-plan-value" }, usd(String(t.cost - t.credit)))),
        h("div", {}, h("span", { class: "muted" }, "Requests"), h("strong", {}, int(t.requests))),
        h("div", {}, h("span", { class: "muted" }, "Tokens (in / out)"), h("strong", {}, `${int(t.input)} / ${int(t.output)}`)),
      ),
      h("div", { class: "grid charts" }, columnChart("Usage by day (API prices)", spendBars, usd(String(t.cost)), { axis: (v) => usd(String(Math.round(v))), legend: ["Paid with usage credits", "Covered by plan and SDK credits"] }), columnChart("Tokens by day", tokenBars, `${int(t.input + t.output)} tokens`, { axis: (v) => compact(v) })),
      h("div", { class: "grid charts" }, barList("Spend by model", bars("model")), barList("Spend by surface", bars("surface")), barList("Spend by member", bars("member")), barList("Spend by speed (standard vs fast)", bars("speed"))),
      section(
        `Usage by ${dimName.toLowerCase()}`,
        table(
          [dimName, "Requests", "Spend", "Usage credits", "Input tokens", "Output tokens"],
          rows.map((r) => [label(dim, r.key), int(r.requests), usd(String(r.cost)), usd(String(r.credit)), int(r.input), int(r.output)]),
          { empty: "No usage in this range.", foot: ["Total", int(t.requests), usd(String(t.cost)), usd(String(t.credit)), int(t.input), int(t.output)], label: "Usage table" },
        ),
      ),
    );
  };

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    clearReady();
    load()
      .catch((err: unknown) => msg.error(err instanceof ApiError || err instanceof Error ? err.message : String(err)))
      .finally(() => markReady("usage"));
  });
  download.addEventListener("click", () => {
    if (!shown) return;
    const s = shown;
    const dimName = DIMS.find(([d]) => d === s.dim)?.[1] ?? s.dim;
    const lines = [[dimName.toLowerCase(), "requests", "spend_usd", "usage_credits_usd", "input_tokens", "output_tokens"]];
    for (const r of [...s.rows, s.total]) lines.push([label(s.dim, r.key), String(r.requests), decimal(r.cost), decimal(r.credit), String(r.input), String(r.output)]);
    const text = lines.map((l) => l.map(csvField).join(",")).join("\r\n") + "\r\n";
    const a = h("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv" })), download: `usage-${s.from.slice(0, 10)}-${s.to.slice(0, 10)}-by-${s.dim}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
  });
  await load();
};
