// The pricing lab: what a period would have cost under another price book and/or plan set,
// replayed from the operation log through the same books that charged it (core/lab.ts). Reads
// only: the log is read in pages (memory stays bounded whatever the period's size), each
// organization starts from its state at the period start, and nothing is written.

import { domainError, type Result } from "../core/errors.js";
import { addSpend, bareEntries, diffSpend, OrgReplay, zeroSpend, type Spend, type WindowExhausted } from "../core/lab.js";
import type { LogEntry } from "../core/operation-log.js";
import type { Micros } from "../core/money.js";
import type { PlanDef, PlanVersion } from "../core/plans.js";
import { bookInForce, findModel, parsePriceBook, type PriceBook, type PriceBookSpec } from "../core/price-book.js";
import type { Store } from "../ports/store.js";

export interface LabRequest {
  /** A calendar month, UTC: "2026-11". */
  readonly period: string;
  /** Organizations to replay; all when absent. */
  readonly orgIds?: readonly string[];
  /** A proposed price book; absent: every amount as it was rated. */
  readonly priceBook?: PriceBookSpec;
  /** Proposed plans, replacing those with the same id; absent: the plans in force. */
  readonly plans?: readonly PlanDef[];
}

export interface OrgReport {
  readonly orgId: string;
  readonly name: string;
  readonly actual: Spend;
  readonly replayed: Spend;
  readonly difference: Spend;
  readonly refusals: { readonly actual: Record<string, number>; readonly replayed: Record<string, number> };
  readonly windowsExhausted: readonly WindowExhausted[];
  readonly closingBalance: { readonly actual: Micros; readonly replayed: Micros };
  readonly members: ReadonlyArray<{ readonly memberId: string; readonly actual: Spend; readonly replayed: Spend }>;
  readonly admittedWithoutUsage: number;
  readonly droppedSettles: number;
}

export interface LabReport {
  readonly from: number;
  readonly to: number;
  /** Usage records of the period (actual). */
  readonly records: number;
  /** Of them, written before the lab's schema (no token classes): replayed as recorded amounts only. */
  readonly recordsWithoutTokenClasses: number;
  /** Operation-log entries replayed. */
  readonly entries: number;
  readonly totals: { readonly actual: Spend; readonly replayed: Spend; readonly difference: Spend };
  /** Sorted by the absolute difference in total spend, largest first. */
  readonly organizations: readonly OrgReport[];
  readonly histogram: ReadonlyArray<{ readonly from: Micros; readonly to: Micros; readonly organizations: number }>;
}

export interface LabProgress {
  readonly entries: number;
  readonly organizations: number;
}

/** Log entries read per page. */
const PAGE = 5_000;
/** Entries between two flushes of every organization's books. */
const FLUSH = 20_000;
/** Organizations whose opening state is read at once. */
const ORG_CHUNK = 200;

export function periodBounds(period: string): { from: number; to: number } | null {
  const m = /^(\d{4})-(\d{2})$/.exec(period);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  if (month < 1 || month > 12 || year < 2000 || year > 9999) return null;
  return { from: Date.UTC(year, month - 1, 1), to: Date.UTC(year, month, 1) };
}

export class Lab {
  constructor(private readonly store: Store) {}

  async replay(req: LabRequest, onProgress?: (p: LabProgress) => void): Promise<Result<LabReport>> {
    const bounds = periodBounds(req.period);
    if (!bounds) return { ok: false, error: domainError("invalid_request", `period: a calendar month as YYYY-MM (e.g. 2026-11), not ${JSON.stringify(req.period)}.`, { field: "period" }) };
    const { from, to } = bounds;
    let book: PriceBook | null = null;
    if (req.priceBook) {
      const parsed = parsePriceBook(req.priceBook);
      if (!parsed.ok) return { ok: false, error: domainError("invalid_request", `price_book is not valid: ${parsed.problems.join("; ")}`, { problems: parsed.problems }) };
      book = parsed.book;
    }
    const wanted = req.orgIds ? [...new Set(req.orgIds)] : null;
    const { orgs, plans, versions, specs } = await this.store.read(async (tx) => ({
      orgs: await tx.lab.organizations(wanted),
      plans: await tx.listPlans(from), // as in force when the period started
      versions: await tx.listPlanVersions(),
      specs: await tx.listPriceBooks(),
    }));
    if (wanted) {
      const found = new Set(orgs.map((o) => o.id));
      const missing = wanted.filter((id) => !found.has(id));
      if (missing.length > 0) return { ok: false, error: domainError("not_found", `No organization ${missing.join(", ")}.`, { org_ids: missing }) };
    }
    const planMap = new Map<string, PlanDef>(plans.map((p) => [p.id, p]));
    for (const p of req.plans ?? []) planMap.set(p.id, p);
    // A proposed plan replaces the plan of its id with all its versions; the others keep their recorded versions.
    const proposed = new Set((req.plans ?? []).map((p) => p.id));
    const planVersions = new Map<string, PlanVersion[]>();
    for (const v of versions) if (!proposed.has(v.planId)) planVersions.set(v.planId, [...(planVersions.get(v.planId) ?? []), v]);
    const scenario = { plans: planMap, planVersions, book };

    const ids = orgs.map((o) => o.id);
    const replays = new Map<string, OrgReplay>();
    for (let i = 0; i < ids.length; i += ORG_CHUNK) {
      const chunk = ids.slice(i, i + ORG_CHUNK);
      const openings = await this.store.read((tx) => tx.lab.openings(chunk, from));
      for (const o of openings) {
        if (!planMap.has(o.org.planId)) return { ok: false, error: domainError("invalid_request", `Organization ${o.org.id} is on plan ${o.org.planId}, which is neither in force nor proposed.`, { plan_id: o.org.planId }) };
        replays.set(o.org.id, new OrgReplay(o.org.id, o, scenario));
      }
    }

    const entries = await this.replayLog(replays, { from, to, wanted, specs, organizations: ids.length }, onProgress);
    const { totals, reports, records, bare } = await this.compare(replays, orgs, from, to);
    reports.sort((a, b) => Math.abs(b.difference.total) - Math.abs(a.difference.total) || (a.orgId < b.orgId ? -1 : 1));
    return {
      ok: true,
      value: {
        from,
        to,
        records,
        recordsWithoutTokenClasses: bare,
        entries,
        totals: { ...totals, difference: diffSpend(totals.replayed, totals.actual) },
        organizations: reports,
        histogram: histogram(reports.map((r) => r.difference.total)),
      },
    };
  }

  /**
   * The period's log, page by page, in the order it was decided; records from before the log (no
   * token classes) merged in by time, as input/output-only requests. Returns the entries replayed.
   */
  private async replayLog(
    replays: ReadonlyMap<string, OrgReplay>,
    p: { from: number; to: number; wanted: readonly string[] | null; specs: readonly PriceBookSpec[]; organizations: number },
    onProgress?: (p: LabProgress) => void,
  ): Promise<number> {
    const { from, to, wanted, specs } = p;
    const range = await this.store.read((tx) => tx.lab.logRange(from, to));
    // Two cursors, each a page at a time: the log by sequence number, bare records by (at, id).
    // The next page is read while this one is replayed (the store reads on its own thread).
    let afterSeq = range ? range.first - 1 : 0;
    let logDone = range === null;
    const readLogPage = (): Promise<Array<LogEntry & { readonly seq: number }>> =>
      range ? this.store.read((tx) => tx.lab.logPage({ from, to, orgIds: wanted, afterSeq, lastSeq: range.last, limit: PAGE })) : Promise.resolve([]);
    let ahead: Promise<Array<LogEntry & { readonly seq: number }>> | null = range ? readLogPage() : null;
    const nextLogPage = async (): Promise<LogEntry[]> => {
      if (logDone || !ahead) return [];
      const page = await ahead;
      ahead = null;
      const last = page.at(-1);
      if (last) afterSeq = last.seq;
      if (page.length < PAGE) logDone = true;
      else ahead = readLogPage();
      return page;
    };
    const bareRecords = bareCursor(this.store, { from, to, wanted }, familiesAt(specs, to - 1));
    let logPage = await nextLogPage();
    let barePage = await bareRecords.next();
    let li = 0;
    let bi = 0;
    let entries = 0;
    const touched = new Set<OrgReplay>();
    for (;;) {
      if (li >= logPage.length && !logDone) {
        logPage = await nextLogPage();
        li = 0;
        onProgress?.({ entries, organizations: p.organizations });
      }
      if (bi >= barePage.length && !bareRecords.done) {
        barePage = await bareRecords.next();
        bi = 0;
      }
      const l = logPage[li];
      const b = barePage[bi];
      if (!l && !b) break;
      // By time; the log first at one instant (a record from before the log is older than the log).
      let e: LogEntry;
      if (l && (!b || l.at <= b.at)) {
        e = l;
        li++;
      } else {
        e = b as LogEntry;
        bi++;
      }
      const replay = replays.get(e.orgId);
      if (replay) {
        replay.apply(e);
        touched.add(replay);
      }
      // What the books decided is folded into the totals every FLUSH entries, whatever the number
      // of organizations: memory stays bounded by the page and the organizations' state.
      if (++entries % FLUSH === 0) {
        for (const r of touched) r.flush();
        touched.clear();
      }
    }
    onProgress?.({ entries, organizations: p.organizations });

    return entries;
  }

  /** What happened beside what the replay decided, organization by organization (their replays end here). */
  private async compare(replays: Map<string, OrgReplay>, orgs: ReadonlyArray<{ id: string; name: string }>, from: number, to: number) {
    const ids = orgs.map((o) => o.id);
    const totals = { actual: zeroSpend(), replayed: zeroSpend() };
    const reports: OrgReport[] = [];
    let records = 0;
    let bare = 0;
    for (let i = 0; i < ids.length; i += ORG_CHUNK) {
      const chunk = ids.slice(i, i + ORG_CHUNK);
      const actual = await this.store.read((tx) => tx.lab.actual(chunk, from, to));
      records += actual.records;
      bare += actual.recordsWithoutClasses;
      for (const id of chunk) {
        const replay = replays.get(id);
        if (!replay) continue;
        const out = replay.finish(to);
        replays.delete(id);
        const act = actual.spend.get(id) ?? zeroSpend();
        addSpend(totals.actual, act);
        addSpend(totals.replayed, out.spend);
        const actualMembers = actual.members.get(id) ?? new Map<string, Spend>();
        const memberIds = [...new Set([...actualMembers.keys(), ...out.members.keys()])].sort();
        reports.push({
          orgId: id,
          name: orgs.find((o) => o.id === id)?.name ?? id,
          actual: act,
          replayed: out.spend,
          difference: diffSpend(out.spend, act),
          refusals: { actual: sortKeys(out.refusalsActual), replayed: sortKeys(out.refusals) },
          windowsExhausted: out.windowsExhausted,
          closingBalance: { actual: actual.closingBalance.get(id) ?? 0, replayed: out.closingBalance },
          members: memberIds.map((m) => ({ memberId: m, actual: actualMembers.get(m) ?? zeroSpend(), replayed: out.members.get(m) ?? zeroSpend() })),
          admittedWithoutUsage: out.admittedWithoutUsage,
          droppedSettles: out.droppedSettles,
        });
      }
    }
    return { totals, reports, records, bare };
  }
}

/** Usage records without token classes (from before the log), a page at a time in (at, id) order, as log entries. */
function bareCursor(store: Store, q: { from: number; to: number; wanted: readonly string[] | null }, familyOf: (model: string) => string | null) {
  let afterAt = -1;
  let afterId = "";
  let done = false;
  return {
    get done(): boolean {
      return done;
    },
    async next(): Promise<LogEntry[]> {
      if (done) return [];
      const page = await store.read((tx) => tx.lab.bareRecords({ from: q.from, to: q.to, orgIds: q.wanted, afterAt, afterId, limit: PAGE }));
      const last = page.at(-1);
      if (last) {
        afterAt = last.at;
        afterId = last.id;
      }
      if (page.length < PAGE) done = true;
      return page.flatMap((r) => bareEntries({ ...r, family: familyOf(r.model) }));
    },
  };
}

/** The model family as the book in force at `at` names it (null: not priced), for records from before the log. */
function familiesAt(specs: readonly PriceBookSpec[], at: number): (model: string) => string | null {
  const books = specs.flatMap((sp) => {
    const p = parsePriceBook(sp);
    return p.ok ? [p.book] : [];
  });
  const inForce = bookInForce(books, at);
  return (model) => (inForce && findModel(inForce, model)?.family) ?? null;
}

function sortKeys(r: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * Per-organization change in total spend, in at most 10 equal buckets from the smallest to the
 * largest change (integer micro-dollar bounds; the last bucket includes its upper bound).
 */
export function histogram(diffs: readonly Micros[]): Array<{ from: Micros; to: Micros; organizations: number }> {
  if (diffs.length === 0) return [];
  const lo = Math.min(...diffs);
  const hi = Math.max(...diffs);
  if (lo === hi) return [{ from: lo, to: hi, organizations: diffs.length }];
  const buckets = Math.min(10, diffs.length);
  const width = Math.ceil((hi - lo) / buckets);
  const out = Array.from({ length: buckets }, (_, i) => ({ from: lo + i * width, to: Math.min(hi, lo + (i + 1) * width), organizations: 0 }));
  for (const d of diffs) {
    const i = Math.min(buckets - 1, Math.floor((d - lo) / width));
    const b = out[i];
    if (b) b.organizations++;
  }
  return out;
}
