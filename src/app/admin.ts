// Everything that is not the money path: organizations, members, workspaces, API keys, spending
// limits, plans and price books (the read models are in admin-reads.ts, which Admin extends).
// Writes run in one transaction together with their idempotency record.
// Over 400 lines: many short use cases, one per admin resource; split by resource when the edge
// stops opening store reads itself (issue 17 part 2 moves those reads here), not before.

import { domainError, type Result } from "../core/errors.js";
import { newId } from "../core/ids.js";
import { limitEntry, settingsEntry } from "../core/operation-log.js";
import type { LimitPeriod, LimitScope, SpendLimit } from "../core/limits.js";
import type { Member, Organization, Role } from "../core/model.js";
import type { Micros } from "../core/money.js";
import { versionInForce, type PlanDef, type PlanVersion, type SeatTier, type Surface } from "../core/plans.js";
import { PLATFORM_AUDIT_SCOPE } from "../core/audit.js";
import { parsePriceBook, priceBookBoundProblems, type PriceBookSpec } from "../core/price-book.js";
import type { Clock } from "../ports/clock.js";
import type { ApiKeyRow, Store, StoreTx, Workspace } from "../ports/store.js";
import { UniqueViolation } from "../ports/store-errors.js";
import { appendAudit, AuditRecorder } from "./audit.js";
import { authenticate, generateApiKey, hashKey, type Principal } from "./auth.js";
import { idempotencyConflict, type Idempotency, type Outcome } from "./batcher.js";
import type { Catalog } from "./catalog.js";
import { AdminReads } from "./admin-reads.js";

export type { CreditsStatus, UsageSummary } from "./admin-reads.js";

export interface NewOrg {
  readonly name: string;
  readonly planId: string;
  readonly usageCreditsEnabled: boolean;
  readonly fastModeEnabled: boolean;
  readonly fastModeFallback: boolean;
  readonly owner: { readonly email: string; readonly name: string };
}

export interface CreatedKey {
  readonly key: ApiKeyRow;
  /** Shown once. */
  readonly secret: string;
}

class Rollback<T> extends Error {
  constructor(readonly result: Result<T>) {
    super("rollback");
  }
}

const fail = <T>(code: Parameters<typeof domainError>[0], message: string, details?: Record<string, unknown>): Result<T> => ({
  ok: false,
  error: domainError(code, message, details),
});

/** Principals remembered by one instance, at most this many (then the map starts over). */
const AUTH_CACHE_ENTRIES = 10_000;

export class Admin extends AdminReads {
  /**
   * Authenticated API keys by SHA-256 hash, each until a monotonic deadline (performance.now, not
   * the business clock: this is about freshness, not about money time). Only successes are kept:
   * a new key works at once on every instance. Any write through this instance forgets them all,
   * so a revocation, role change or removal made here takes effect at once; one made through
   * another instance takes effect here within `authCacheMs` (docs/performance.md).
   */
  private readonly principals = new Map<string, { principal: Principal; until: number }>();

  constructor(
    store: Store,
    private readonly catalog: Catalog,
    clock: Clock,
    private readonly options: { readonly authCacheMs: number } = { authCacheMs: 0 },
  ) {
    super(store, clock);
  }

  /** The principal of an API key, or undefined (unknown, revoked, or its member gone). */
  async authenticate(secret: string): Promise<Principal | undefined> {
    const ttl = this.options.authCacheMs;
    const hash = ttl > 0 ? hashKey(secret) : "";
    const hit = ttl > 0 ? this.principals.get(hash) : undefined;
    if (hit && hit.until > performance.now()) return hit.principal;
    const asked = performance.now();
    const generation = this.generation;
    const principal = await this.read((tx) => authenticate(tx, secret));
    // A write through this instance began meanwhile: what was read may predate it; do not keep it.
    if (principal && ttl > 0 && generation === this.generation) {
      if (this.principals.size >= AUTH_CACHE_ENTRIES) this.principals.clear();
      // From when the read started: a write through this instance after that point clears the map.
      this.principals.set(hash, { principal, until: asked + ttl });
    } else if (hit) this.principals.delete(hash);
    return principal;
  }

  private generation = 0;

  /** Forgets every remembered API key (when a write through this instance starts and ends). */
  forgetPrincipals(): void {
    this.generation++;
    this.principals.clear();
  }

  /**
   * Runs a write in one transaction with its idempotency record and the audit entries `fn` records.
   * A failed result rolls the whole transaction back (nothing half-written) and is not recorded, so
   * a corrected retry may reuse the key; a replay runs nothing and so records nothing again.
   */
  async write<T>(idem: Idempotency<T> | undefined, fn: (tx: StoreTx, now: number, audit: AuditRecorder) => Promise<Result<T>>): Promise<Outcome<T>> {
    try {
      return await this.writeOnce(idem, fn);
    } catch (err) {
      // Two requests raced on one unique key (an idempotency key, an email): the retry sees the
      // winner's row and answers with its replay or a clean conflict instead of a 500.
      if (err instanceof UniqueViolation) return this.writeOnce(idem, fn);
      throw err;
    }
  }

  private async writeOnce<T>(idem: Idempotency<T> | undefined, fn: (tx: StoreTx, now: number, audit: AuditRecorder) => Promise<Result<T>>): Promise<Outcome<T>> {
    const now = this.clock.now();
    try {
      return await this.store.transaction(async (tx): Promise<Outcome<T>> => {
        // Keys, roles or members may change here: what this instance remembers is forgotten now
        // and again once the write is visible (a lookup in between must not re-remember the old row).
        this.forgetPrincipals();
        if (idem) {
          const prior = (await tx.getIdempotency(idem.scope, [idem.key]))[0];
          if (prior) {
            if (prior.requestHash !== idem.requestHash) return { kind: "fresh", result: { ok: false, error: idempotencyConflict(idem.key) } };
            return { kind: "replay", rendered: { status: prior.status, body: prior.response } };
          }
        }
        const audit = new AuditRecorder();
        const result = await fn(tx, now, audit);
        if (!result.ok) throw new Rollback(result);
        await appendAudit(tx, audit.drafts, now);
        if (idem) {
          const r = idem.render(result);
          await tx.putIdempotency([{ scope: idem.scope, key: idem.key, requestHash: idem.requestHash, status: r.status, response: r.body, createdAt: now }]);
        }
        return { kind: "fresh", result };
      });
    } catch (err) {
      if (err instanceof Rollback) return { kind: "fresh", result: err.result as Result<T> };
      throw err;
    } finally {
      this.forgetPrincipals();
    }
  }


  // ------------------------------------------------------------ organizations

  async createOrg(input: NewOrg, idem?: Idempotency<{ org: Organization; owner: Member; key: CreatedKey }>) {
    if (!(await this.catalog.plan(input.planId))) return { kind: "fresh" as const, result: fail<never>("invalid_request", `Unknown plan ${JSON.stringify(input.planId)}.`, { field: "plan_id" }) };
    return this.write(idem, async (tx, now, audit) => {
      const org: Organization = {
        id: newId("organization", now),
        name: input.name,
        planId: input.planId,
        usageCreditsEnabled: input.usageCreditsEnabled,
        fastModeEnabled: input.fastModeEnabled,
        fastModeFallback: input.fastModeFallback,
        weeklyAnchor: now,
        debt: 0,
        createdAt: now,
      };
      await tx.insertOrg(org);
      const owner: Member = {
        id: newId("member", now),
        orgId: org.id,
        email: input.owner.email,
        name: input.owner.name,
        role: "owner",
        seatTier: "standard",
        workspaceId: null,
        usageCreditsEnabled: true,
        fastModeEnabled: true,
        createdAt: now,
      };
      await tx.insertMember(owner);
      const key = await this.insertKey(tx, now, org.id, owner.id, "Owner key", "interactive");
      audit.record({ orgId: org.id, action: "organization.created", targetType: "organization", targetId: org.id, before: null, after: org });
      audit.record({ orgId: org.id, action: "member.created", targetType: "member", targetId: owner.id, before: null, after: owner });
      audit.record({ orgId: org.id, action: "api_key.created", targetType: "api_key", targetId: key.key.id, before: null, after: key.key });
      return { ok: true, value: { org, owner, key } };
    });
  }

  async updateOrg(
    orgId: string,
    patch: Partial<Pick<Organization, "name" | "planId" | "usageCreditsEnabled" | "fastModeEnabled" | "fastModeFallback">>,
  ): Promise<Outcome<Organization>> {
    if (patch.planId !== undefined && !(await this.catalog.plan(patch.planId))) {
      return { kind: "fresh", result: fail("invalid_request", `Unknown plan ${JSON.stringify(patch.planId)}.`, { field: "plan_id" }) };
    }
    return this.write(undefined, async (tx, now, audit) => {
      const [org] = await tx.lockOrgs([orgId]);
      if (!org) return fail("not_found", `No organization ${orgId}.`);
      const updated: Organization = { ...org, ...defined(patch) };
      await tx.updateOrg(updated);
      // The pricing lab replays settings changes in the order they happened among the money operations.
      await tx.appendOperationLog([settingsEntry(orgId, now, "org_update", org, updated)]);
      audit.record({ orgId, action: "organization.updated", targetType: "organization", targetId: orgId, before: org, after: updated });
      return { ok: true, value: updated };
    });
  }

  // ------------------------------------------------------------ members and workspaces

  async createMember(
    orgId: string,
    input: { email: string; name: string; role: Role; seatTier: SeatTier; workspaceId: string | null; usageCreditsEnabled: boolean; fastModeEnabled?: boolean },
    idem?: Idempotency<Member>,
  ): Promise<Outcome<Member>> {
    return this.write(idem, async (tx, now, audit) => {
      const [org] = await tx.lockOrgs([orgId]);
      if (!org) return fail("not_found", `No organization ${orgId}.`);
      if (input.workspaceId !== null) {
        const ws = await tx.getWorkspace(input.workspaceId);
        if (!ws || ws.orgId !== orgId) return fail("not_found", `No workspace ${input.workspaceId} in this organization.`, { field: "workspace_id" });
      }
      if ((await tx.listMembers(orgId)).some((m) => m.email.toLowerCase() === input.email.toLowerCase())) {
        return fail("conflict", `A member with email ${input.email} already exists.`, { field: "email" });
      }
      const member: Member = { id: newId("member", now), orgId, createdAt: now, ...input, fastModeEnabled: input.fastModeEnabled ?? true };
      await tx.insertMember(member);
      audit.record({ orgId, action: "member.created", targetType: "member", targetId: member.id, before: null, after: member });
      return { ok: true, value: member };
    });
  }

  async updateMember(
    orgId: string,
    memberId: string,
    patch: Partial<Pick<Member, "name" | "role" | "seatTier" | "workspaceId" | "usageCreditsEnabled" | "fastModeEnabled">>,
  ): Promise<Outcome<Member>> {
    return this.write(undefined, async (tx, now, audit) => {
      await tx.lockOrgs([orgId]);
      const m = await tx.getMember(memberId);
      if (!m || m.orgId !== orgId) return fail("not_found", `No member ${memberId}.`);
      if (patch.workspaceId) {
        const ws = await tx.getWorkspace(patch.workspaceId);
        if (!ws || ws.orgId !== orgId) return fail("not_found", `No workspace ${patch.workspaceId} in this organization.`, { field: "workspace_id" });
      }
      if (m.role === "owner" && patch.role !== undefined && patch.role !== "owner") {
        const owners = (await tx.listMembers(orgId)).filter((x) => x.role === "owner");
        if (owners.length <= 1) return fail("conflict", "An organization keeps at least one owner.", { field: "role" });
      }
      const updated: Member = { ...m, ...defined(patch) };
      await tx.updateMember(updated);
      await tx.appendOperationLog([settingsEntry(orgId, now, "member_update", m, updated)]);
      audit.record({ orgId, action: "member.updated", targetType: "member", targetId: memberId, before: m, after: updated });
      return { ok: true, value: updated };
    });
  }

  async createWorkspace(orgId: string, name: string, idem?: Idempotency<Workspace>): Promise<Outcome<Workspace>> {
    return this.write(idem, async (tx, now, audit) => {
      const [org] = await tx.lockOrgs([orgId]);
      if (!org) return fail("not_found", `No organization ${orgId}.`);
      const ws: Workspace = { id: newId("workspace", now), orgId, name, createdAt: now };
      await tx.insertWorkspace(ws);
      audit.record({ orgId, action: "workspace.created", targetType: "workspace", targetId: ws.id, before: null, after: ws });
      return { ok: true, value: ws };
    });
  }

  // ------------------------------------------------------------ API keys

  private async insertKey(tx: StoreTx, now: number, orgId: string | null, memberId: string | null, name: string, surface: Surface): Promise<CreatedKey> {
    const { secret, hash, prefix } = generateApiKey();
    const key: ApiKeyRow = { id: newId("apiKey", now), orgId, memberId, name, surface, hash, prefix, createdAt: now, revokedAt: null };
    await tx.insertApiKey(key);
    return { key, secret };
  }

  async createApiKey(orgId: string, input: { memberId: string; name: string; surface: Surface }, idem?: Idempotency<CreatedKey>): Promise<Outcome<CreatedKey>> {
    return this.write(idem, async (tx, now, audit) => {
      const m = await tx.getMember(input.memberId);
      if (!m || m.orgId !== orgId) return fail("not_found", `No member ${input.memberId} in this organization.`, { field: "member_id" });
      const created = await this.insertKey(tx, now, orgId, m.id, input.name, input.surface);
      // The row, never the secret (and the snapshot drops the hash).
      audit.record({ orgId, action: "api_key.created", targetType: "api_key", targetId: created.key.id, before: null, after: created.key });
      return { ok: true, value: created };
    });
  }

  /** The operators' key: may create organizations and act on any of them. */
  async createPlatformKey(name: string): Promise<CreatedKey> {
    return this.store.transaction((tx) => this.insertKey(tx, this.clock.now(), null, null, name, "interactive"));
  }

  async revokeApiKey(orgId: string, keyId: string): Promise<Outcome<ApiKeyRow>> {
    return this.write(undefined, async (tx, now, audit) => {
      const key = (await tx.listApiKeys(orgId)).find((k) => k.id === keyId);
      if (!key) return fail("not_found", `No API key ${keyId}.`);
      await tx.revokeApiKey(keyId, now);
      const revoked = { ...key, revokedAt: key.revokedAt ?? now };
      if (key.revokedAt === null) audit.record({ orgId, action: "api_key.revoked", targetType: "api_key", targetId: keyId, before: key, after: revoked });
      return { ok: true, value: revoked };
    });
  }

  // ------------------------------------------------------------ spending limits

  /** Sets the limit for (scope, scope id, period); one per combination, replaced in place. */
  async setLimit(
    orgId: string,
    input: { scope: LimitScope; scopeId: string | null; period: LimitPeriod; amount: Micros | null; stopUsage?: boolean },
    idem?: Idempotency<SpendLimit>,
  ): Promise<Outcome<SpendLimit>> {
    return this.write(idem, async (tx, now, audit) => {
      const [org] = await tx.lockOrgs([orgId]);
      if (!org) return fail("not_found", `No organization ${orgId}.`);
      let scopeId = input.scopeId ?? "";
      switch (input.scope) {
        case "organization":
          if (input.scopeId !== null && input.scopeId !== orgId) return fail("invalid_request", "scope_id of an organization limit is the organization itself.", { field: "scope_id" });
          scopeId = orgId;
          break;
        case "workspace": {
          const ws = input.scopeId ? await tx.getWorkspace(input.scopeId) : undefined;
          if (!ws || ws.orgId !== orgId) return fail("not_found", `No workspace ${input.scopeId ?? "(missing scope_id)"} in this organization.`, { field: "scope_id" });
          break;
        }
        case "member": {
          const m = input.scopeId ? await tx.getMember(input.scopeId) : undefined;
          if (!m || m.orgId !== orgId) return fail("not_found", `No member ${input.scopeId ?? "(missing scope_id)"} in this organization.`, { field: "scope_id" });
          break;
        }
      }
      const existing = (await tx.listLimits(orgId)).find((l) => l.scope === input.scope && l.scopeId === scopeId && l.period === input.period);
      const limit: SpendLimit = { id: existing?.id ?? newId("spendLimit", now), orgId, scope: input.scope, scopeId, period: input.period, amount: input.amount, stopUsage: input.stopUsage ?? true };
      await tx.upsertLimit(limit, now);
      // The pricing lab replays limit changes in the order they happened among the money operations.
      await tx.appendOperationLog([limitEntry(orgId, now, existing ?? null, limit)]);
      audit.record({ orgId, action: "spend_limit.set", targetType: "spend_limit", targetId: limit.id, before: existing ?? null, after: limit });
      return { ok: true, value: limit };
    });
  }

  async deleteLimit(orgId: string, limitId: string): Promise<Outcome<SpendLimit>> {
    return this.write(undefined, async (tx, now, audit) => {
      await tx.lockOrgs([orgId]);
      const limit = (await tx.listLimits(orgId)).find((l) => l.id === limitId);
      if (!limit) return fail("not_found", `No spending limit ${limitId}.`);
      await tx.deleteLimit(limitId);
      await tx.appendOperationLog([limitEntry(orgId, now, limit, null)]);
      audit.record({ orgId, action: "spend_limit.deleted", targetType: "spend_limit", targetId: limitId, before: limit, after: null });
      return { ok: true, value: limit };
    });
  }

  // ------------------------------------------------------------ catalog

  /** PUT /v1/plans/:id (kept for compatibility): a new version of the plan, effective now. */
  async putPlan(plan: PlanDef, createdBy = "system"): Promise<Outcome<PlanDef>> {
    const out = await this.addPlanVersion(plan, null, createdBy, undefined, true);
    if (out.kind === "replay") return out;
    return { kind: "fresh", result: out.result.ok ? { ok: true, value: out.result.value.definition } : out.result };
  }

  /**
   * A new version of a plan, in force from `effectiveAt` (null: now), never in the past: windows
   * already counted under a version keep its quota (money-rules.md, "a plan changes"). `create`:
   * an unknown plan is created (PUT) rather than refused (POST …/versions). Audited on the
   * platform's log.
   */
  async addPlanVersion(plan: PlanDef, effectiveAt: number | null, createdBy: string, idem?: Idempotency<PlanVersion>, create = false): Promise<Outcome<PlanVersion>> {
    const out = await this.write(idem, async (tx, now, audit) => {
      const at = effectiveAt ?? now;
      if (at < now) {
        return fail("invalid_request", "effective_at is in the past; a plan version takes effect now or later.", { field: "effective_at", now: new Date(now).toISOString() });
      }
      const versions = await tx.listPlanVersions([plan.id]);
      if (versions.length === 0 && !create) return fail("not_found", `No plan ${plan.id}.`);
      const before = versionInForce(versions, at) ?? null;
      const stored = await tx.addPlanVersion({ definition: plan, effectiveAt: at, createdAt: now, createdBy });
      audit.record({ orgId: PLATFORM_AUDIT_SCOPE, action: "plan_version.created", targetType: "plan", targetId: plan.id, before, after: stored });
      return { ok: true, value: stored };
    });
    await this.catalog.refresh();
    return out;
  }

  async addPriceBook(spec: PriceBookSpec, idem?: Idempotency<PriceBookSpec>): Promise<Outcome<PriceBookSpec>> {
    const parsed = parsePriceBook(spec);
    if (!parsed.ok) return { kind: "fresh", result: fail("invalid_request", `Invalid price book: ${parsed.problems.join("; ")}`, { problems: parsed.problems }) };
    const bounds = priceBookBoundProblems(parsed.book);
    if (bounds.length > 0) return { kind: "fresh", result: fail("amount_out_of_range", `Price book rates too large: ${bounds.join("; ")}`, { problems: bounds }) };
    const out = await this.write(idem, async (tx, now) => {
      const clash = (await tx.listPriceBooks()).some((b) => b.id === spec.id && b.version === spec.version);
      if (clash) return fail("conflict", `Price book ${spec.id} version ${spec.version} exists; books are immutable, publish a new version.`);
      // Prices are history: a book takes effect now or later, never retroactively (it would re-price
      // holds already taken, which settle with the book in force when they were taken).
      if (parsed.book.effectiveFrom < now) {
        return fail("invalid_request", "effective_from is in the past; a price book takes effect now or later.", { field: "effective_from", now: new Date(now).toISOString() });
      }
      await tx.insertPriceBook(spec, parsed.book.effectiveFrom, now);
      return { ok: true, value: spec };
    });
    await this.catalog.refresh();
    return out;
  }

}

function defined<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}
