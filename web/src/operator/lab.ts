// Operator console: the pricing lab (issue 18). A period's recorded usage is replayed twice by the
// engine (POST /v1/lab/replays, nothing written) — under book A and under book B, each a price book
// (the one in force, a published one, or pasted/uploaded JSON) with optional plans — and the two
// are shown side by side: spend by payer, revenue, breakage, refusals, the customers whose bill
// moves most, and a histogram of each book's change per customer. Every amount is the API's
// figure; the only arithmetic here is B − A, in integer micro-dollars (BigInt), never floats.

import { histogram, type Bin } from "../charts.js";
import { field, h, messageBox, section, select, table, uid, type Child } from "../dom.js";
import { day, int, pretty, serverNow, usd, when } from "../format.js";
import type { Customer, LabOrg, LabReplay, LabSpend, List } from "../wire.js";
import { errText, type OperatorPage } from "./console.js";

interface BookSpec {
  readonly id: string;
  readonly version: number;
  readonly effective_from: string;
}

/** The payers and money figures of a replay, in the order the totals table shows them. */
const SPEND_ROWS: ReadonlyArray<readonly [keyof LabSpend, string]> = [
  ["plan_window", "Paid by plan windows"],
  ["sdk_credits", "Paid with SDK credits"],
  ["usage_credits", "Paid with usage credits"],
  ["total", "Total at the book's prices"],
  ["revenue", "Revenue"],
  ["breakage", "Breakage"],
];
const TOP = 20;

const minus = (a: string, b: string): string => String(BigInt(a) - BigInt(b));
const signedUsd = (micros: string): string => (BigInt(micros) > 0n ? `+${usd(micros)}` : usd(micros));
const abs = (v: bigint): bigint => (v < 0n ? -v : v);
const count = (m: Readonly<Record<string, number>>): number => Object.values(m).reduce((n, v) => n + v, 0);

/** One side of the comparison: which price book, and optional plans. */
interface Side {
  readonly element: HTMLElement;
  /** The request body's book and plans, or an error message. */
  readonly read: () => { body: { price_book?: unknown; plans?: unknown }; label: string } | string;
}

function jsonInput(name: string, label: string, rows: number, initial: string, hint: string): { element: HTMLElement; text: HTMLTextAreaElement } {
  const text = h("textarea", { name, rows, spellcheck: false, class: "mono" });
  text.value = initial;
  const file = h("input", { type: "file", name: `${name}_file`, accept: "application/json,.json" });
  file.addEventListener("change", () => {
    const f = file.files?.[0];
    if (f) void f.text().then((t) => (text.value = t));
  });
  return { element: h("div", { class: "json-input" }, field(label, text, hint), field(`${label.replace(" (JSON)", "")}: upload a JSON file`, file)), text };
}

/** The plans in force (GET /v1/plans) as the lab takes them: keyed by plan id, each as PUT /v1/plans/:plan_id takes it. */
export function plansSpec(plans: ReadonlyArray<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(plans.map((p) => [String(p["id"]), { name: p["name"], seats: p["seats"], credit_only_surfaces: p["credit_only_surfaces"] }]));
}

function side(letter: "A" | "B", books: readonly BookSpec[], initial: "in_force" | "json", draft: string, plansInForce: string): Side {
  const choice = select(
    `book_${letter.toLowerCase()}`,
    [["in_force", "The book in force (as charged)"], ...books.map((b, i): [string, string] => [`published:${i}`, `${b.id} version ${b.version} (from ${day(b.effective_from)})`]), ["json", "Pasted or uploaded JSON"]],
    initial,
  );
  const book = jsonInput(`price_book_${letter.toLowerCase()}`, `Price book ${letter} (JSON)`, 10, draft, "Rates are USD per million tokens, as decimal strings (the price-books import format).");
  const plans = jsonInput(`plans_${letter.toLowerCase()}`, `Plans ${letter} (JSON)`, 6, "", 'Optional: {"<plan id>": <the plan as PUT /v1/plans/:plan_id takes it>, …}; each replaces the plan of that id. Empty: the plans in force.');
  const fill = h("button", { type: "button", class: "secondary" }, `Start from the plans in force (${letter})`);
  fill.addEventListener("click", () => {
    plans.text.value = plansInForce;
  });
  const sync = (): void => {
    book.element.hidden = choice.value !== "json";
  };
  choice.addEventListener("change", sync);
  sync();
  const details = h("details", {}, h("summary", {}, `Plans ${letter} (optional)`), h("div", { class: "json-input" }, fill, plans.element));
  const element = h("fieldset", { class: "lab-side" }, h("legend", {}, `Book ${letter}`), field(`Price book ${letter}`, choice), book.element, details);
  const read = (): ReturnType<Side["read"]> => {
    const body: { price_book?: unknown; plans?: unknown } = {};
    let label = "the book in force";
    if (choice.value === "json") {
      try {
        body.price_book = JSON.parse(book.text.value) as unknown;
      } catch {
        return `Price book ${letter} is not valid JSON.`;
      }
      const b = body.price_book as Partial<BookSpec> | null;
      label = b && typeof b === "object" ? `${String(b.id ?? "pasted book")} version ${String(b.version ?? "?")} (pasted)` : "pasted book";
    } else if (choice.value.startsWith("published:")) {
      const b = books[Number(choice.value.slice("published:".length))];
      if (!b) return `Choose price book ${letter}.`;
      body.price_book = b;
      label = `${b.id} version ${b.version}`;
    }
    if (plans.text.value.trim() !== "") {
      try {
        body.plans = JSON.parse(plans.text.value) as unknown;
      } catch {
        return `Plans ${letter} are not valid JSON.`;
      }
      label += " with its own plans";
    }
    return { body, label };
  };
  return { element, read };
}

/** A money cell with a test id, so the browser suite can compare it with the API's figure. */
const cell = (testid: string, text: string): HTMLElement => h("span", { "data-testid": testid }, text);

function totalsTable(a: LabReplay, b: LabReplay): HTMLElement {
  const rows: Child[][] = SPEND_ROWS.map(([k, label]) => [
    label,
    cell(`total-${k}-actual`, usd(a.totals.actual[k])),
    cell(`total-${k}-a`, usd(a.totals.replayed[k])),
    cell(`total-${k}-b`, usd(b.totals.replayed[k])),
    cell(`total-${k}-change`, signedUsd(minus(b.totals.replayed[k], a.totals.replayed[k]))),
  ]);
  // Refusals by reason (counts summed over organizations), then the windows that would run out.
  const sum = (r: LabReplay, which: "actual" | "replayed", code: string): number => r.organizations.reduce((n, o) => n + (o.refusals[which][code] ?? 0), 0);
  const codes = [...new Set([a, b].flatMap((r) => r.organizations.flatMap((o) => [...Object.keys(o.refusals.actual), ...Object.keys(o.refusals.replayed)])))].sort();
  for (const code of codes) {
    const [x, ya, yb] = [sum(a, "actual", code), sum(a, "replayed", code), sum(b, "replayed", code)];
    rows.push([`Requests refused: ${pretty(code)}`, cell(`refused-${code}-actual`, int(x)), cell(`refused-${code}-a`, int(ya)), cell(`refused-${code}-b`, int(yb)), cell(`refused-${code}-change`, `${yb - ya > 0 ? "+" : ""}${int(yb - ya)}`)]);
  }
  if (codes.length === 0) rows.push(["Requests refused", "0", "0", "0", "0"]);
  const runOut = (r: LabReplay): number => r.organizations.reduce((n, o) => n + o.windows_exhausted.length, 0);
  rows.push(["Windows run out", "—", cell("windows-a", int(runOut(a))), cell("windows-b", int(runOut(b))), cell("windows-change", `${runOut(b) - runOut(a) > 0 ? "+" : ""}${int(runOut(b) - runOut(a))}`)]);
  return table(["", "Charged", "Book A", "Book B", "B − A"], rows, { label: "Lab totals" });
}

/** Each member's total under A and B (the largest change first), folded away. */
function membersCell(oa: LabOrg, ob: LabOrg): HTMLElement | string {
  if (ob.members.length === 0) return "—";
  const inA = new Map(oa.members.map((m) => [m.member_id, m]));
  const rows = ob.members.map((m) => {
    const a = inA.get(m.member_id)?.replayed.total ?? "0";
    return { id: m.member_id, a, b: m.replayed.total, change: abs(BigInt(m.replayed.total) - BigInt(a)) };
  });
  rows.sort((x, y) => (y.change > x.change ? 1 : y.change < x.change ? -1 : x.id.localeCompare(y.id)));
  return h(
    "details",
    { class: "members" },
    h("summary", {}, `${int(ob.members.length)} ${ob.members.length === 1 ? "member" : "members"}`),
    h("ul", {}, ...rows.map((r) => h("li", {}, h("span", { class: "mono" }, r.id), ": ", cell(`member-${ob.org_id}-${r.id}`, `${usd(r.a)} → ${usd(r.b)}`)))),
  );
}

function customersTable(a: LabReplay, b: LabReplay): { element: HTMLElement; changed: number } {
  const inA = new Map(a.organizations.map((o) => [o.org_id, o]));
  const pairs = b.organizations.flatMap((ob) => {
    const oa = inA.get(ob.org_id);
    return oa ? [{ a: oa, b: ob, change: BigInt(ob.replayed.total) - BigInt(oa.replayed.total) }] : [];
  });
  // The largest change (either way) first; ties by name, then id, so the order is stable.
  pairs.sort((x, y) => {
    const d = abs(y.change) - abs(x.change);
    return d !== 0n ? (d > 0n ? 1 : -1) : x.b.name.localeCompare(y.b.name) || x.b.org_id.localeCompare(y.b.org_id);
  });
  const changed = pairs.filter((p) => p.change !== 0n).length;
  const refused = (o: LabOrg): number => count(o.refusals.replayed);
  const rows = pairs.slice(0, TOP).map(({ a: oa, b: ob, change }) => {
    const id = ob.org_id;
    const runOut = ob.windows_exhausted[0];
    return [
      h("a", { href: `#/operator/org/${encodeURIComponent(id)}`, "data-testid": "lab-org", "data-org": id }, ob.name),
      cell(`org-actual-${id}`, usd(ob.actual.total)),
      cell(`org-a-${id}`, usd(oa.replayed.total)),
      cell(`org-b-${id}`, usd(ob.replayed.total)),
      cell(`org-change-${id}`, signedUsd(String(change))),
      cell(`org-refused-${id}`, `${int(refused(oa))} → ${int(refused(ob))}`),
      cell(`org-balance-${id}`, `${usd(oa.closing_balance.replayed)} → ${usd(ob.closing_balance.replayed)}`),
      membersCell(oa, ob),
      runOut ? h("span", { title: ob.windows_exhausted.map((w) => `${pretty(w.window)}: ${when(w.at)}`).join("\n") }, `${pretty(runOut.window)}, ${when(runOut.at)}${ob.windows_exhausted.length > 1 ? ` (+${ob.windows_exhausted.length - 1})` : ""}`) : "—",
    ];
  });
  return {
    element: table(["Customer", "Charged", "Book A", "Book B", "B − A", "Refused A → B", "Closing balance A → B", "Members A → B", "First window run out (B)"], rows, { label: "Customers affected", empty: "No organization had usage in this period." }),
    changed,
  };
}

/** A bin wholly below zero is cheaper, wholly above dearer; one that holds zero (no change), about the same. */
const sideOf = (from: bigint, to: bigint): Bin["side"] => (to < 0n ? "down" : from > 0n ? "up" : "even");

function histogramOf(title: string, r: LabReplay, testid: string): HTMLElement {
  const bins: Bin[] = r.histogram.map((b) => ({ from: usd(b.from), to: usd(b.to), count: b.organizations, side: sideOf(BigInt(b.from), BigInt(b.to)) }));
  const rows = r.histogram.map((b, i) => [cell(`${testid}-from-${i}`, usd(b.from)), cell(`${testid}-to-${i}`, usd(b.to)), cell(`${testid}-count-${i}`, int(b.organizations))]);
  return h(
    "div",
    { "data-testid": testid },
    histogram(title, bins, "organizations", ["cheaper", "about the same", "dearer"]),
    h("details", {}, h("summary", {}, "As a table"), table(["From", "To", "Organizations"], rows, { label: `${title} (table)`, empty: "No organizations." })),
  );
}

/** All organizations, or those chosen: the first 200 customers, and any the address names beyond them (a link from its page). */
function scopeField(customers: readonly Customer[], asked: readonly string[]): { element: HTMLElement; read: () => string[] | undefined } {
  const name = uid("scope");
  const all = h("input", { type: "radio", name, value: "all", checked: asked.length === 0 });
  const some = h("input", { type: "radio", name, value: "some", checked: asked.length > 0 });
  const listed = new Set(customers.map((c) => c.id));
  const options = [...customers.map((c) => [c.id, `${c.name} (${c.id})`] as const), ...asked.filter((id) => !listed.has(id)).map((id) => [id, id] as const)];
  const orgs = h("select", { name: "org_ids", multiple: true, size: Math.min(6, Math.max(2, options.length)) }, ...options.map(([id, label]) => h("option", { value: id, selected: asked.includes(id) }, label)));
  const orgField = field("Organizations to replay", orgs, "Hold Ctrl (⌘ on a Mac) to choose several.");
  const sync = (): void => {
    orgField.hidden = !some.checked;
  };
  all.addEventListener("change", sync);
  some.addEventListener("change", sync);
  sync();
  return {
    element: h("fieldset", {}, h("legend", {}, "Scope"), h("label", { class: "choice" }, all, "All organizations"), h("label", { class: "choice" }, some, "Chosen organizations"), orgField),
    read: () => (some.checked ? [...orgs.selectedOptions].map((o) => o.value) : undefined),
  };
}

export const labPage: OperatorPage = async (ctx, view) => {
  const [books, customers, plans] = await Promise.all([
    ctx.call<List<BookSpec>>("GET", "/v1/price_books"),
    ctx.call<List<Customer>>("GET", "/v1/operator/customers?limit=200"),
    ctx.call<List<Record<string, unknown>>>("GET", "/v1/plans"),
  ]);
  const now = serverNow();
  const sorted = books.data.slice().sort((x, y) => Date.parse(x.effective_from) - Date.parse(y.effective_from) || x.version - y.version);
  const inForce = sorted.filter((b) => Date.parse(b.effective_from) <= now).at(-1) ?? sorted.at(-1);
  const d = new Date(now);
  const lastMonth = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
  const asked = new URLSearchParams(location.hash.split("?")[1] ?? "");

  const period = h("input", { type: "month", name: "period", value: asked.get("period") ?? lastMonth, required: true });
  const scope = scopeField(customers.data, asked.getAll("org"));

  const draft = inForce ? JSON.stringify(inForce, null, 2) : "{}";
  const plansInForce = JSON.stringify(plansSpec(plans.data), null, 2);
  const sideA = side("A", sorted, "in_force", draft, plansInForce);
  const sideB = side("B", sorted, "json", draft, plansInForce);
  const run = h("button", { type: "submit" }, "Compare books");
  const msg = messageBox();
  const out = h("div", { class: "lab-results", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "lab-form", novalidate: true, "aria-label": "Replay setup" },
    h("div", { class: "controls" }, field("Period (month)", period), scope.element),
    h("div", { class: "grid two lab-sides" }, sideA.element, sideB.element),
    h("div", { class: "actions" }, run),
    msg,
  );

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    msg.clear();
    if (!/^\d{4}-\d{2}$/.test(period.value)) return msg.error("Choose the month to replay.");
    const orgIds = scope.read();
    if (orgIds && orgIds.length === 0) return msg.error("Choose at least one organization, or replay all of them.");
    const a = sideA.read();
    const b = sideB.read();
    if (typeof a === "string") return msg.error(a);
    if (typeof b === "string") return msg.error(b);
    const base = { period: period.value, ...(orgIds ? { org_ids: orgIds } : {}) };
    delete document.body.dataset["ready"];
    run.disabled = true;
    form.setAttribute("aria-busy", "true");
    out.replaceChildren(h("p", { class: "muted loading", role: "status" }, `Replaying ${period.value} under book A and book B…`));
    void Promise.allSettled([ctx.call<LabReplay>("POST", "/v1/lab/replays", { ...base, ...a.body }), ctx.call<LabReplay>("POST", "/v1/lab/replays", { ...base, ...b.body })])
      .then(([ra, rb]) => {
        if (ra?.status !== "fulfilled" || rb?.status !== "fulfilled") {
          out.replaceChildren();
          const why = [ra?.status === "rejected" ? `Book A: ${errText(ra.reason)}` : "", rb?.status === "rejected" ? `Book B: ${errText(rb.reason)}` : ""].filter(Boolean);
          return msg.error(`The replay was refused. ${why.join(" ")}`);
        }
        out.replaceChildren(...results(ra.value, rb.value, a.label, b.label));
      })
      .finally(() => {
        run.disabled = false;
        form.removeAttribute("aria-busy");
        document.body.dataset["ready"] = "operator-lab";
      });
  });

  view.append(
    section(
      "Replay a month",
      h("p", { class: "hint" }, "The month's recorded usage is run again through the engine's charge router and rating under each book, from the month's opening grants, limits and windows. Nothing is charged or written."),
      form,
    ),
    out,
  );
};

function results(a: LabReplay, b: LabReplay, labelA: string, labelB: string): HTMLElement[] {
  const { element: customers, changed } = customersTable(a, b);
  const orgCount = b.organizations.length;
  return [
    section(
      "Totals",
      h(
        "p",
        { "data-testid": "lab-summary" },
        `${when(a.period.from)} to ${when(a.period.to)}: `,
        h("strong", { "data-testid": "lab-records" }, int(a.records)),
        " usage records replayed for ",
        h("strong", { "data-testid": "lab-orgs" }, int(orgCount)),
        ` organizations. Book A: ${labelA}. Book B: ${labelB}.`,
      ),
      a.records_without_token_classes > 0 ? h("p", { class: "hint", "data-testid": "lab-untyped" }, `${int(a.records_without_token_classes)} ${a.records_without_token_classes === 1 ? "record carries" : "records carry"} no token counts (metered by amount, or recorded before the operation log): no book re-rates ${a.records_without_token_classes === 1 ? "it" : "them"}.`) : null,
      h("div", { class: "totals" }, h("div", {}, h("span", { class: "muted" }, "Book A, total"), h("strong", { "data-testid": "lab-total-a" }, usd(a.totals.replayed.total))), h("div", {}, h("span", { class: "muted" }, "Book B, total"), h("strong", { "data-testid": "lab-total-b" }, usd(b.totals.replayed.total))), h("div", {}, h("span", { class: "muted" }, "B − A"), h("strong", { "data-testid": "lab-total-change" }, signedUsd(minus(b.totals.replayed.total, a.totals.replayed.total))))),
      totalsTable(a, b),
      h("p", { class: "hint" }, "Charged: what the month actually cost. Revenue: credits consumed by usage (the ledger's usage revenue); breakage: credits that expired unused. Refusals and windows are counted over all organizations."),
    ),
    section("Customers affected most", h("p", { "data-testid": "lab-changed" }, `Organizations paying a different amount under book B than under book A: ${int(changed)} of ${int(orgCount)}. The ${int(Math.min(TOP, orgCount))} largest changes, either way:`), customers),
    section(
      "Change per customer",
      h("p", { class: "hint" }, "How many organizations fall in each band of change against what they were charged."),
      h("div", { class: "grid two" }, histogramOf("Book A against what was charged", a, "histogram-a"), histogramOf("Book B against what was charged", b, "histogram-b")),
    ),
  ];
}
