// The per-instance cache of each organization's money state ("read once", issue 16): what a batch's
// snapshot would load of it — the organization row, the members loaded so far with their windows,
// its grants (every one with a balance), spend limits, spend counters of limited scopes, every
// pending hold (due or not) and its plan's versions — kept as of this instance's last commit for
// it, with the organization's version (migration 15: raised by database triggers on any change to
// those rows, by any writer). The batcher assembles a batch's Snapshot from here, decides, and
// sends the writes with a check that every version is still the cached one (one crossing to the
// SQLite writer thread instead of two); a check that fails reruns the batch on a snapshot read in
// its transaction, as every batch did before.
//
// Entries hold pristine copies: the books mutate the objects of the snapshot they are given, so a
// snapshot is assembled from copies, and an entry changes only by a committed batch's `Changes`.
// Assembly mirrors sql-store.ts loadSnapshot's filters exactly (which grants, holds, members,
// windows and spend rows a batch sees), so a cached batch decides what a read batch would.

import type { Changes } from "../core/books.js";
import type { Grant } from "../core/grants.js";
import { earliestPeriodDay, type SpendLimit } from "../core/limits.js";
import type { Hold, Member, Organization, Snapshot, SpendDay, WindowUsage } from "../core/model.js";
import { versionInForce, type PlanDef, type PlanVersion } from "../core/plans.js";
import type { HotRead, SnapshotScope } from "../ports/store.js";

interface HotOrg {
  version: number;
  org: Organization;
  planVersions: readonly PlanVersion[];
  /** Members loaded so far (a batch naming another one reads its snapshot, and adds them). */
  readonly members: Map<string, Member>;
  /** Every active grant with a balance, plus other grants seen (filtered at assembly). */
  readonly grants: Map<string, Grant>;
  limits: readonly SpendLimit[];
  /** The cached members' window rows: memberId → window key → row. */
  readonly windows: Map<string, Map<string, WindowUsage>>;
  /** scopeKey|day, of limited scopes among the org and the cached members (and their workspaces), from `spendFrom` on. */
  readonly spendDays: Map<string, SpendDay>;
  spendFrom: number;
  readonly pendingHolds: Map<string, Hold>;
}

/** What a batch decided on cached state must find unchanged in its transaction. */
export interface CachedSnapshot {
  readonly snapshot: Snapshot;
  readonly versions: ReadonlyArray<readonly [string, number]>;
}

/** Entries as a read batch saw them (before deciding): committed with its changes, or dropped. */
export type HotBase = ReadonlyMap<string, HotOrg>;

const dayKey = (scopeKey: string, day: number) => `${scopeKey}|${day}`;
const copy = <T extends object>(v: T): T => ({ ...v });
/** The first day of spend a batch at `now` reads (sql-store.ts loadSnapshot: a day before the earliest period start). */
const spendFromDay = (now: number) => earliestPeriodDay(now) - 1;
const limitedScopes = (limits: readonly SpendLimit[]) => new Set(limits.map((l) => (l.scope === "organization" ? "org" : l.scopeId)));

export class HotOrgs {
  /** Least recently used first (a Map keeps insertion order; a use re-inserts). */
  private readonly entries = new Map<string, HotOrg>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * The batch's snapshot from cached state, or undefined when any part of it is not cached (an
   * organization, a member, a named hold that is not pending, a drawn or named grant) or the scope
   * asks for more than the cache keeps (every active grant, every scope's spend, a sweep's chunk).
   */
  snapshotFor(scope: SnapshotScope): CachedSnapshot | undefined {
    if (scope.allActiveGrants === true || scope.allSpend === true || typeof scope.dueHolds === "number") return undefined;
    const fromDay = spendFromDay(scope.now);
    const entries: HotOrg[] = [];
    for (const id of scope.orgIds) {
      const e = this.entries.get(id);
      if (!e || fromDay < e.spendFrom) return undefined;
      entries.push(e);
    }
    const byOrg = new Map(entries.map((e) => [e.org.id, e]));
    const pendingHold = (id: string): Hold | undefined => {
      for (const e of entries) {
        const h = e.pendingHolds.get(id);
        if (h) return h;
      }
      return undefined;
    };
    // Holds: the named ones (each must be pending here), then the due ones, oldest first.
    const holds = new Map<string, Hold>();
    for (const id of [...new Set(scope.holdIds)].sort()) {
      const h = pendingHold(id);
      if (!h) return undefined;
      holds.set(id, copy(h));
    }
    if (scope.dueHolds === "all") {
      const due = entries.flatMap((e) => [...e.pendingHolds.values()].filter((h) => h.expiresAt <= scope.now && !holds.has(h.id)));
      for (const h of due.sort((a, b) => a.expiresAt - b.expiresAt)) holds.set(h.id, copy(h));
    }
    // Members in the order the scope named them, then the holds'.
    const members = new Map<string, Member>();
    for (const id of [...scope.memberIds, ...[...holds.values()].map((h) => h.memberId)]) {
      if (members.has(id)) continue;
      const m = entries.map((e) => e.members.get(id)).find((x) => x !== undefined);
      if (!m) return undefined;
      members.set(id, copy(m));
    }
    // Grants: every active one with a balance, and every one a loaded hold drew from or the scope named.
    const grants = new Map<string, Grant>();
    for (const e of entries) for (const g of e.grants.values()) if (g.status === "active" && g.remaining > 0) grants.set(g.id, copy(g));
    for (const id of [...[...holds.values()].flatMap((h) => h.draws.map((d) => d.grantId)), ...(scope.grantIds ?? [])]) {
      if (grants.has(id)) continue;
      const g = entries.map((e) => e.grants.get(id)).find((x) => x !== undefined);
      if (!g) return undefined;
      grants.set(id, copy(g));
    }
    const limits = entries.flatMap((e) => e.limits);
    const windows: WindowUsage[] = [];
    for (const m of members.values()) for (const w of byOrg.get(m.orgId)?.windows.get(m.id)?.values() ?? []) windows.push(copy(w));
    const limited = limitedScopes(limits);
    const scopeKeys = new Set(["org", ...members.keys(), ...[...members.values()].map((m) => m.workspaceId).filter((w): w is string => w !== null)].filter((k) => limited.has(k)));
    const spendDays: SpendDay[] = [];
    for (const e of entries) for (const d of e.spendDays.values()) if (d.day >= fromDay && scopeKeys.has(d.scopeKey)) spendDays.push(copy(d));
    const planVersions = new Map<string, PlanVersion[]>();
    const plans = new Map<string, PlanDef>();
    for (const e of entries) {
      if (e.planVersions.length === 0) continue;
      planVersions.set(e.org.planId, [...e.planVersions]);
      const current = versionInForce(e.planVersions, scope.now);
      if (current) plans.set(e.org.planId, current.definition);
    }
    for (const e of entries) this.touch(e);
    return {
      snapshot: { orgs: new Map(entries.map((e) => [e.org.id, copy(e.org)])), plans, planVersions, members, grants, limits, windows, spendDays, holds },
      versions: entries.map((e) => [e.org.id, e.version] as const),
    };
  }

  /** Entries as a batch's snapshot (read in its transaction, not yet decided on) shows them. */
  static baseOf(snapshot: Snapshot, hot: HotRead, now: number): HotBase {
    const out = new Map<string, HotOrg>();
    for (const org of snapshot.orgs.values()) {
      const version = hot.versions.get(org.id);
      if (version === undefined) continue;
      const members = new Map([...snapshot.members.values()].filter((m) => m.orgId === org.id).map((m) => [m.id, copy(m)]));
      const limits = snapshot.limits.filter((l) => l.orgId === org.id);
      const limited = limitedScopes(limits);
      out.set(org.id, {
        version,
        org: copy(org),
        planVersions: snapshot.planVersions?.get(org.planId) ?? [],
        members,
        grants: new Map([...snapshot.grants.values()].filter((g) => g.orgId === org.id).map((g) => [g.id, copy(g)])),
        limits,
        windows: windowsOf(snapshot.windows.filter((w) => members.has(w.memberId))),
        // Only limited scopes (a report's snapshot reads every scope; only limited ones are kept current).
        spendDays: new Map(snapshot.spendDays.filter((d) => d.orgId === org.id && limited.has(d.scopeKey)).map((d) => [dayKey(d.scopeKey, d.day), copy(d)])),
        spendFrom: spendFromDay(now),
        pendingHolds: new Map(hot.pendingHolds.filter((h) => h.orgId === org.id).map((h) => [h.id, copy(h)])),
      });
    }
    return out;
  }

  /**
   * A committed batch: its organizations' entries (from `base` for a read batch, else the cached
   * ones) take its changes and the versions read after its writes. A read batch's entry keeps what
   * the cached entry knew beyond it (other members) only if the version it read is the cached one.
   */
  commit(orgIds: readonly string[], base: HotBase | undefined, changes: Changes, versionsAfter: ReadonlyMap<string, number>): void {
    for (const id of orgIds) {
      const cached = this.entries.get(id);
      let e = base ? base.get(id) : cached;
      const after = versionsAfter.get(id);
      if (!e || after === undefined) {
        this.entries.delete(id);
        continue;
      }
      if (base && cached && cached.version === e.version && cached.spendFrom <= e.spendFrom) e = merged(cached, e);
      apply(e, changes);
      e.version = after;
      this.entries.delete(id);
      this.entries.set(id, e);
    }
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }

  /** Forgets organizations (a failed or stale batch): their next batch reads committed state. */
  drop(orgIds: readonly string[]): void {
    for (const id of orgIds) this.entries.delete(id);
  }

  private touch(e: HotOrg): void {
    this.entries.delete(e.org.id);
    this.entries.set(e.org.id, e);
  }
}

function setWindow(windows: Map<string, Map<string, WindowUsage>>, w: WindowUsage): void {
  let byKey = windows.get(w.memberId);
  if (!byKey) windows.set(w.memberId, (byKey = new Map()));
  byKey.set(w.key, copy(w));
}

function windowsOf(rows: readonly WindowUsage[]): Map<string, Map<string, WindowUsage>> {
  const out = new Map<string, Map<string, WindowUsage>>();
  for (const w of rows) setWindow(out, w);
  return out;
}

/** `fresh` (read now) over `old` (cached at the same version, from an earlier or the same day): what only `old` knew is still true. */
function merged(old: HotOrg, fresh: HotOrg): HotOrg {
  for (const [k, v] of old.members) if (!fresh.members.has(k)) fresh.members.set(k, v);
  for (const [k, v] of old.grants) if (!fresh.grants.has(k)) fresh.grants.set(k, v);
  for (const [k, v] of old.windows) if (!fresh.windows.has(k)) fresh.windows.set(k, v);
  for (const [k, v] of old.spendDays) if (!fresh.spendDays.has(k)) fresh.spendDays.set(k, v);
  return fresh;
}

/** What a committed batch wrote, applied to an entry (the same rows, the same spend deltas). */
function apply(e: HotOrg, c: Changes): void {
  const id = e.org.id;
  for (const o of c.orgs) if (o.id === id) e.org = copy(o);
  for (const g of [...c.newGrants, ...c.grants]) if (g.orgId === id) e.grants.set(g.id, copy(g));
  for (const h of [...c.newHolds, ...c.holds]) {
    if (h.orgId !== id) continue;
    if (h.status === "pending") e.pendingHolds.set(h.id, copy(h));
    else e.pendingHolds.delete(h.id);
  }
  for (const w of c.windows) if (e.members.has(w.memberId)) setWindow(e.windows, w);
  // Deltas only where the entry holds the counter (limited scopes, days it loaded): elsewhere it
  // never loaded the stored value, and a delta alone would not be it.
  const limited = limitedScopes(e.limits);
  for (const d of c.spendDays) {
    if (d.orgId !== id || d.day < e.spendFrom || !limited.has(d.scopeKey)) continue;
    const k = dayKey(d.scopeKey, d.day);
    const row = e.spendDays.get(k) ?? { orgId: id, scopeKey: d.scopeKey, day: d.day, spent: 0, held: 0 };
    e.spendDays.set(k, { ...row, spent: row.spent + d.spent, held: row.held + d.held });
  }
}
