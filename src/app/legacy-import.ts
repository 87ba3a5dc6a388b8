// The legacy ("extra usage") importer: a documented export file (core/legacy-export.ts,
// docs/legacy-export.md) → organizations with their members, balance lots (grants of kind
// `migrated`), monthly spending limit, auto-reload and payment methods, and this month's spend.
//
// Load → decide → write, per account and all or nothing: every account is validated before
// anything is written, then accounts are written many per transaction (one round of multi-row
// inserts); if a batch fails, its accounts are retried one per transaction so one bad account never
// takes others down. Each account's legacy id is recorded with a digest of its data in the same
// transaction: a re-run finds it and changes nothing ("unchanged"), or reports a "conflict" if the
// data differs. Then a reconciliation reads every account back through the normal read paths and
// compares old and new field by field; the report's difference count must be zero.

import { createHash } from "node:crypto";
import { canonicalAccount, monthOf, parseLegacyExport, type LegacyAccount, type RowError } from "../core/legacy-export.js";
import type { Clock } from "../ports/clock.js";
import type { Store, StoreTx } from "../ports/store.js";
import type { LegacyImportRecord } from "../ports/legacy-import-store.js";
import type { Admin } from "./admin.js";
import { buildAccount, lotDescription, type Built } from "./legacy-import-build.js";
import type { Catalog } from "./catalog.js";

/** Accounts written per transaction: large enough to amortize commits, small enough to keep locks short. */
export const IMPORT_BATCH = 500;

export type AccountOutcome = "imported" | "would_import" | "unchanged" | "conflict" | "rejected" | "failed";

export interface FieldCheck {
  readonly field: string;
  readonly old: string | null;
  readonly new: string | null;
}

export interface AccountReport {
  readonly legacy_id: string;
  readonly org_id: string | null;
  readonly outcome: AccountOutcome;
  readonly holds_released?: number;
  /** Field by field, old vs new, read back from the database (imported and unchanged accounts). */
  readonly fields?: FieldCheck[];
  readonly differences?: number;
  readonly reason?: string;
}

export interface ImportReport {
  readonly file: string;
  readonly format: "jsonl" | "csv";
  readonly dry_run: boolean;
  readonly lines: number;
  readonly accounts: number;
  readonly imported: number;
  readonly unchanged: number;
  readonly conflicts: number;
  readonly rejected: number;
  readonly failed: number;
  /** Fields that differ between the legacy data and what the database holds now: must be 0. */
  readonly differences: number;
  readonly errors: RowError[];
  readonly ms: { readonly parse: number; readonly write: number; readonly reconcile: number };
  readonly details: AccountReport[];
}

export interface ImportOptions {
  readonly file: string;
  readonly bytes: Uint8Array;
  readonly format: "jsonl" | "csv";
  readonly dryRun: boolean;
  /** Called at most about once a second while writing and reconciling. */
  readonly progress?: (phase: string, done: number, total: number) => void;
}

const money = (m: number | null | undefined): string | null => (m === null || m === undefined ? null : String(m));
const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

/** Splits bytes into lines, decoding each strictly (a line that is not UTF-8 is flagged, not guessed). */
export function decodeLines(bytes: Uint8Array): Array<{ text: string | null; salvage: string }> {
  const strict = new TextDecoder("utf-8", { fatal: true });
  const lenient = new TextDecoder("utf-8");
  const out: Array<{ text: string | null; salvage: string }> = [];
  let start = 0;
  // A leading byte-order mark is not data.
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const slice = bytes.subarray(start, end);
    if (!(end === bytes.length && slice.length === 0)) {
      try {
        const t = strict.decode(slice);
        out.push({ text: t, salvage: t });
      } catch {
        out.push({ text: null, salvage: lenient.decode(slice) });
      }
    }
    start = end + 1;
  }
  return out;
}

export class LegacyImporter {
  constructor(
    private readonly store: Store,
    private readonly admin: Admin,
    private readonly catalog: Catalog,
    private readonly clock: Clock,
  ) {}

  async run(opts: ImportOptions): Promise<ImportReport> {
    const t0 = performance.now();
    const now = this.clock.now();
    const plans = new Set((await this.catalog.listPlans()).map((p) => p.id));
    const parsed = parseLegacyExport(opts.format, decodeLines(opts.bytes), { now, plans });
    const errors = [...parsed.errors];
    const details: AccountReport[] = parsed.rejected.map((id) => ({
      legacy_id: id,
      org_id: null,
      outcome: "rejected",
      reason: parsed.errors.filter((e) => e.accountId === id).map((e) => `line ${e.line}: ${e.reason}`).join("; "),
    }));

    const digests = new Map(parsed.accounts.map((a) => [a.id, createHash("sha256").update(canonicalAccount(a)).digest("hex")]));
    const prior = new Map<string, LegacyImportRecord>();
    const ids = parsed.accounts.map((a) => a.id);
    for (let i = 0; i < ids.length; i += 5000) {
      for (const r of await this.store.read((tx) => tx.legacyImport.findImports(ids.slice(i, i + 5000)))) prior.set(r.legacyId, r);
    }
    const fresh: LegacyAccount[] = [];
    const settled: Array<{ account: LegacyAccount; orgId: string; outcome: AccountOutcome }> = [];
    for (const a of parsed.accounts) {
      const p = prior.get(a.id);
      if (!p) fresh.push(a);
      else if (p.digest === digests.get(a.id)) settled.push({ account: a, orgId: p.orgId, outcome: "unchanged" });
      else {
        const reason = `account ${a.id} was imported on ${iso(p.importedAt)} as ${p.orgId} with other data; the importer never changes an imported account`;
        errors.push({ line: a.line, accountId: a.id, reason: `conflict: ${reason}` });
        details.push({ legacy_id: a.id, org_id: p.orgId, outcome: "conflict", reason });
      }
    }
    const t1 = performance.now();

    if (opts.dryRun) {
      for (const a of fresh) details.push({ legacy_id: a.id, org_id: null, outcome: "would_import", holds_released: a.holds.length });
      for (const s of settled) details.push({ legacy_id: s.account.id, org_id: s.orgId, outcome: "unchanged" });
      return this.report(opts, parsed.lines, parsed.accounts.length + parsed.rejected.length, errors, details, 0, { parse: t1 - t0, write: 0, reconcile: 0 });
    }

    const tick = ticker(opts.progress);
    let done = 0;
    for (let i = 0; i < fresh.length; i += IMPORT_BATCH) {
      const built = fresh.slice(i, i + IMPORT_BATCH).map((a) => buildAccount(a, digests.get(a.id) ?? "", now));
      try {
        await this.store.transaction((tx) => this.write(tx, built));
        for (const b of built) settled.push({ account: b.account, orgId: b.orgId, outcome: "imported" });
      } catch {
        // One account's rows were refused by the database: retry one per transaction.
        for (const b of built) {
          try {
            await this.store.transaction((tx) => this.write(tx, [b]));
            settled.push({ account: b.account, orgId: b.orgId, outcome: "imported" });
          } catch (err) {
            const reason = `the database refused the account: ${err instanceof Error ? err.message : String(err)}`;
            errors.push({ line: b.account.line, accountId: b.account.id, reason });
            details.push({ legacy_id: b.account.id, org_id: null, outcome: "failed", reason });
          }
        }
      }
      done += built.length;
      tick("importing", done, fresh.length);
    }
    const t2 = performance.now();

    let differences = 0;
    let checked = 0;
    for (const s of settled) {
      const fields = await this.reconcile(s.account, s.orgId, now);
      const diff = fields.filter((f) => f.old !== f.new).length;
      differences += diff;
      details.push({ legacy_id: s.account.id, org_id: s.orgId, outcome: s.outcome, holds_released: s.account.holds.length, fields, differences: diff });
      tick("reconciling", ++checked, settled.length);
    }
    const t3 = performance.now();
    return this.report(opts, parsed.lines, parsed.accounts.length + parsed.rejected.length, errors, details, differences, { parse: t1 - t0, write: t2 - t1, reconcile: t3 - t2 });
  }

  private report(opts: ImportOptions, lines: number, accounts: number, errors: RowError[], details: AccountReport[], differences: number, ms: ImportReport["ms"]): ImportReport {
    const count = (o: AccountOutcome) => details.filter((d) => d.outcome === o).length;
    const round = (v: number) => Math.round(v);
    return {
      file: opts.file,
      format: opts.format,
      dry_run: opts.dryRun,
      lines,
      accounts,
      imported: count(opts.dryRun ? "would_import" : "imported"),
      unchanged: count("unchanged"),
      conflicts: count("conflict"),
      rejected: count("rejected"),
      failed: count("failed"),
      differences,
      errors: errors.sort((a, b) => a.line - b.line),
      ms: { parse: round(ms.parse), write: round(ms.write), reconcile: round(ms.reconcile) },
      details,
    };
  }

  /** Write: a batch of accounts in the caller's transaction (multi-row where the store has it). */
  private async write(tx: StoreTx, built: readonly Built[]): Promise<void> {
    await tx.writeChanges({
      orgs: built.flatMap((b) => b.changes.orgs),
      grants: [],
      newGrants: built.flatMap((b) => b.changes.newGrants),
      holds: [],
      newHolds: [],
      windows: [],
      spendDays: built.flatMap((b) => b.changes.spendDays),
      ledger: built.flatMap((b) => b.changes.ledger),
      usage: [],
    });
    await tx.legacyImport.insertRows({
      members: built.flatMap((b) => b.members),
      paymentMethods: built.flatMap((b) => b.methods),
      autoReloads: built.flatMap((b) => (b.autoReload ? [b.autoReload] : [])),
      limits: built.flatMap((b) => (b.limit ? [b.limit] : [])),
      at: built[0]?.record.importedAt ?? 0,
    });
    await tx.legacyImport.recordImports(built.map((b) => b.record));
  }

  /** Old vs new, field by field, read back through the normal read paths. */
  private async reconcile(a: LegacyAccount, orgId: string, importedAt: number): Promise<FieldCheck[]> {
    const checks: FieldCheck[] = [];
    const check = (field: string, old: string | null, now: string | null) => checks.push({ field, old, new: now });
    const status = await this.admin.creditsStatus(orgId);
    const { grants, reload, methods, members } = await this.admin.read(async (tx) => ({
      grants: await tx.listGrants(orgId),
      reload: await tx.moneyIn.getAutoReload(orgId),
      methods: await tx.moneyIn.listPaymentMethods(orgId),
      members: await tx.listMembers(orgId),
    }));
    if (!status.ok) {
      check("organization", a.id, null);
      return checks;
    }
    const s = status.value;
    check("name", a.name, s.org.name);
    check("plan", a.plan, s.org.planId);
    check("extra_usage_enabled", String(a.enabled), String(s.org.usageCreditsEnabled));
    check("balance", money(a.balance), money(s.balance));
    check("monthly_limit", a.monthlyLimit ? (money(a.monthlyLimit.amount) ?? "unlimited") : "none", s.monthlyLimit ? (money(s.monthlyLimit.amount) ?? "unlimited") : "none");
    const carried = a.periodSpend && a.periodSpend.period === monthOf(importedAt) ? a.periodSpend.spent : 0;
    check("spent_this_period", money(carried), money(s.monthSpent));
    for (const lot of a.lots.filter((l) => l.remaining > 0)) {
      const g = grants.find((x) => x.description === lotDescription(lot.id));
      check(`lot ${lot.id} remaining`, money(lot.remaining), money(g?.remaining));
      check(`lot ${lot.id} purchased_at`, iso(lot.purchasedAt), g ? iso(g.createdAt) : null);
      check(`lot ${lot.id} expires_at`, iso(lot.expiresAt), g ? iso(g.expiresAt) : "(missing)");
    }
    check("lots", String(a.lots.filter((l) => l.remaining > 0).length), String(grants.filter((g) => g.kind === "migrated").length));
    for (const m of a.members) {
      const n = members.find((x) => x.email === m.email);
      check(`member ${m.id} role`, m.role, n?.role ?? null);
      check(`member ${m.id} extra_usage_enabled`, String(m.enabled), n ? String(n.usageCreditsEnabled) : null);
    }
    check("auto_reload enabled", a.autoReload ? String(a.autoReload.enabled) : "none", reload ? String(reload.enabled) : "none");
    if (a.autoReload) {
      check("auto_reload threshold", money(a.autoReload.threshold), money(reload?.threshold));
      check("auto_reload amount", money(a.autoReload.amount), money(reload?.amount));
      const legacyPm = a.paymentMethods.find((p) => p.id === a.autoReload?.paymentMethodId);
      check("auto_reload payment_method", legacyPm?.token ?? null, methods.find((p) => p.id === reload?.paymentMethodId)?.token ?? null);
    }
    for (const p of a.paymentMethods) {
      const n = methods.find((x) => x.token === p.token);
      check(`payment_method ${p.id}`, `${p.provider} ${p.brand} ${p.last4}`, n ? `${n.provider} ${n.brand} ${n.last4}` : null);
    }
    return checks;
  }
}

function ticker(progress: ImportOptions["progress"]): (phase: string, done: number, total: number) => void {
  let last = 0;
  return (phase, done, total) => {
    if (!progress) return;
    const t = performance.now();
    if (done < total && t - last < 1000) return;
    last = t;
    progress(phase, done, total);
  };
}
