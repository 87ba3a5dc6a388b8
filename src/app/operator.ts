// The operator's back office, the use cases behind the operator console: customers with their
// balance, debt, plan and this month's spend (searchable), and a proposed price book previewed
// against a past month's real usage before it is published (core/price-preview.ts).

import { domainError, type Result } from "../core/errors.js";
import type { Micros } from "../core/money.js";
import type { Organization } from "../core/model.js";
import { bookInForce, parsePriceBook, type PriceBookSpec } from "../core/price-book.js";
import { previewPriceBook, type PricePreview } from "../core/price-preview.js";
import { cycleOf, parseMonth } from "../core/sdk-credits.js";
import type { Clock } from "../ports/clock.js";
import type { Store } from "../ports/store.js";
import type { Admin } from "./admin.js";
import type { Catalog } from "./catalog.js";

/** Customers scanned per search (the console pages through them by offset). */
const SCAN = 1000;

export interface Customer {
  readonly org: Organization;
  readonly balance: Micros;
  readonly monthSpent: Micros;
}

export class Operator {
  constructor(
    private readonly store: Store,
    private readonly admin: Admin,
    private readonly catalog: Catalog,
    private readonly clock: Clock,
  ) {}

  /** Customers whose name or id contains `q` (case-insensitive), with balance and this month's spend. */
  async customers(q: string, limit: number, offset: number): Promise<Customer[]> {
    const needle = q.trim().toLowerCase();
    const orgs = await this.store.read((tx) => tx.listOrgs(SCAN, 0));
    const hits = orgs.filter((o) => needle === "" || o.name.toLowerCase().includes(needle) || o.id.toLowerCase().includes(needle)).slice(offset, offset + limit);
    const out: Customer[] = [];
    for (const org of hits) {
      const s = await this.admin.creditsStatus(org.id);
      if (s.ok) out.push({ org: s.value.org, balance: s.value.balance, monthSpent: s.value.monthSpent });
    }
    return out;
  }

  /** Re-rates `month`'s usage (default: last month) of every customer with the book in force then and with `spec`. */
  async previewPriceBook(spec: PriceBookSpec, month: string | undefined): Promise<Result<PricePreview & { month: string }>> {
    const parsed = parsePriceBook(spec);
    if (!parsed.ok) return { ok: false, error: domainError("invalid_request", `The price book is not valid: ${parsed.problems.join("; ")}`, { problems: parsed.problems }) };
    const now = this.clock.now();
    const cycle = month === undefined ? cycleOf(cycleOf(now).start - 1) : parseMonth(month);
    if (!cycle) return { ok: false, error: domainError("invalid_request", `month: expected YYYY-MM, got ${JSON.stringify(month)}.`, { field: "month" }) };
    const books = await this.catalog.allBooks();
    const records = await this.store.read(async (tx) => {
      const orgs = await tx.listOrgs(SCAN, 0);
      const all = [];
      for (const o of orgs) all.push(...(await tx.listUsage({ orgId: o.id, from: cycle.start, to: cycle.end })));
      return all;
    });
    return { ok: true, value: { month: cycle.label, ...previewPriceBook(records, (at) => bookInForce(books, at), parsed.book) } };
  }
}
