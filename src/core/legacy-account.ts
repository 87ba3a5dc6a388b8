// One legacy account of the export (docs/legacy-export.md): the account's rows checked field by
// field (a table of readers, one per record type) and then as a whole (balance equals the lots,
// an owner, a known payment method, holds within the balance). Any bad row rejects the account.
// The file format, line splitting and grouping by account: legacy-export.ts.

import { parseUsd, type Micros } from "./money.js";
import { ROLES, type Role } from "./model.js";
import { isOneOf } from "./one-of.js";

export const LEGACY_RECORD_TYPES = ["account", "member", "lot", "limit", "auto_reload", "payment_method", "period_spend", "hold"] as const;
export type LegacyRecordType = (typeof LEGACY_RECORD_TYPES)[number];

export interface LegacyMember {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly role: Role;
  readonly enabled: boolean;
}

export interface LegacyLot {
  readonly id: string;
  /** What was bought; informational (the carried balance is `remaining`). */
  readonly amount: Micros;
  /** Includes anything reserved by the legacy system's pending holds (they are released at cut-over). */
  readonly remaining: Micros;
  readonly purchasedAt: number;
  readonly expiresAt: number | null;
}

export interface LegacyPaymentMethod {
  readonly id: string;
  readonly provider: string;
  readonly token: string;
  readonly brand: string;
  readonly last4: string;
}

export interface LegacyAutoReload {
  readonly enabled: boolean;
  readonly threshold: Micros;
  readonly amount: Micros;
  /** A legacy payment method id of the same account, or null. */
  readonly paymentMethodId: string | null;
}

export interface LegacyHold {
  readonly id: string;
  readonly amount: Micros;
}

export interface LegacyAccount {
  readonly id: string;
  readonly line: number;
  readonly name: string;
  readonly plan: string;
  readonly enabled: boolean;
  readonly createdAt: number;
  /** The legacy system's stated balance; must equal the lots' remaining. */
  readonly balance: Micros;
  readonly members: LegacyMember[];
  readonly lots: LegacyLot[];
  /** undefined: no limit record (no limit); amount null: explicitly unlimited. */
  readonly monthlyLimit: { readonly amount: Micros | null } | undefined;
  readonly autoReload: LegacyAutoReload | undefined;
  readonly paymentMethods: LegacyPaymentMethod[];
  /** Spend so far in the legacy period `period` ("YYYY-MM", UTC). */
  readonly periodSpend: { readonly period: string; readonly spent: Micros } | undefined;
  readonly holds: LegacyHold[];
}

export interface ParseOptions {
  readonly now: number;
  readonly plans: ReadonlySet<string>;
}

export type Raw = Record<string, unknown>;

class RowProblem extends Error {}

const fail = (reason: string): never => {
  throw new RowProblem(reason);
};

function text(r: Raw, k: string, opts: { optional?: boolean; max?: number } = {}): string {
  const v = r[k];
  if (v === undefined || v === null || v === "") {
    if (opts.optional) return "";
    return fail(`${k} is missing`);
  }
  if (typeof v !== "string") return fail(`${k} must be a string`);
  if (v.length > (opts.max ?? 200)) return fail(`${k} is longer than ${opts.max ?? 200} characters`);
  return v;
}

function amount(r: Raw, k: string): Micros {
  const v = r[k];
  if (v === undefined || v === null || v === "") return fail(`${k} is missing`);
  if (typeof v === "number") return fail(`${k} must be a decimal string such as "12.50" (got the number ${v}; floats are not exact)`);
  if (typeof v !== "string") return fail(`${k} must be a decimal string`);
  if (/^\s*-/.test(v)) return fail(`${k} is negative (${v})`);
  const m = parseUsd(v, 6);
  if (m === null) return fail(`${k} is not an amount in USD with at most 6 decimals: ${JSON.stringify(v)}`);
  return m;
}

function currency(r: Raw): void {
  const v = r["currency"];
  if (v === undefined || v === null || v === "") return;
  if (v !== "USD") fail(`unknown currency ${JSON.stringify(v)} (only USD)`);
}

function bool(r: Raw, k: string, fallback?: boolean): boolean {
  const v = r[k];
  if ((v === undefined || v === null || v === "") && fallback !== undefined) return fallback;
  if (v === true || v === "true") return true;
  if (v === false || v === "false") return false;
  return fail(`${k} must be true or false`);
}

const ISO = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;
function instant(r: Raw, k: string, optional = false): number | null {
  const v = r[k];
  if (v === undefined || v === null || v === "") return optional ? null : fail(`${k} is missing`);
  if (typeof v !== "string" || !ISO.test(v) || !Number.isFinite(Date.parse(v))) return fail(`${k} is not an ISO 8601 date: ${JSON.stringify(v)}`);
  return Date.parse(v);
}

export interface AccountRow {
  readonly line: number;
  readonly type: LegacyRecordType;
  readonly raw: Raw;
}

/** What an account's rows add up to, filled in by the readers below. */
interface Parts {
  readonly members: LegacyMember[];
  readonly lots: LegacyLot[];
  readonly paymentMethods: LegacyPaymentMethod[];
  readonly holds: LegacyHold[];
  monthlyLimit?: { readonly amount: Micros | null };
  autoReload?: LegacyAutoReload;
  periodSpend?: { readonly period: string; readonly spent: Micros };
  /** Refuses a second row with the same key (an id, an email, or a record allowed once). */
  readonly once: (key: string, what: string) => void;
}

type Reader = (r: Raw, parts: Parts, opts: ParseOptions) => void;

/** How each record type is read (the account record itself is the head, read apart). */
const READERS: Readonly<Record<Exclude<LegacyRecordType, "account">, Reader>> = {
  member(r, p) {
    const mid = text(r, "id");
    p.once(`member:${mid}`, `member id ${JSON.stringify(mid)}`);
    const email = text(r, "email", { max: 254 });
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) fail(`email is not an address: ${JSON.stringify(email)}`);
    p.once(`email:${email.toLowerCase()}`, `member email ${JSON.stringify(email)}`);
    const role = text(r, "role");
    if (!isOneOf<Role>(ROLES, role)) return fail(`role must be one of ${ROLES.join(", ")}`);
    p.members.push({ id: mid, email, name: text(r, "name", { optional: true }) || email, role, enabled: bool(r, "extra_usage_enabled", true) });
  },
  lot(r, p, opts) {
    const lid = text(r, "id");
    p.once(`lot:${lid}`, `lot id ${JSON.stringify(lid)}`);
    const total = amount(r, "amount");
    const remaining = amount(r, "remaining");
    if (remaining > total) fail(`remaining ${r["remaining"]} exceeds the lot's amount ${r["amount"]}`);
    const purchasedAt = requiredInstant(r, "purchased_at");
    const expiresAt = instant(r, "expires_at", true);
    if (expiresAt !== null && expiresAt <= opts.now && remaining > 0) fail(`the lot expired on ${r["expires_at"]}, before the import (export again)`);
    if (expiresAt !== null && expiresAt <= purchasedAt) fail("expires_at is not after purchased_at");
    p.lots.push({ id: lid, amount: total, remaining, purchasedAt, expiresAt });
  },
  limit(r, p) {
    p.once("limit", "limit record");
    p.monthlyLimit = { amount: r["monthly_limit"] === "unlimited" ? null : amount(r, "monthly_limit") };
  },
  auto_reload(r, p) {
    p.once("auto_reload", "auto_reload record");
    const pm = text(r, "payment_method_id", { optional: true });
    const enabled = bool(r, "enabled");
    const reloadAmount = amount(r, "amount");
    if (enabled && reloadAmount <= 0) fail("an enabled auto-reload needs an amount above zero");
    p.autoReload = { enabled, threshold: amount(r, "threshold"), amount: reloadAmount, paymentMethodId: pm === "" ? null : pm };
  },
  payment_method(r, p) {
    const pid = text(r, "id");
    p.once(`pm:${pid}`, `payment method id ${JSON.stringify(pid)}`);
    const last4 = text(r, "last4");
    if (!/^\d{4}$/.test(last4)) fail("last4 must be 4 digits");
    p.paymentMethods.push({ id: pid, provider: text(r, "provider", { max: 32 }), token: text(r, "token"), brand: text(r, "brand", { max: 32 }), last4 });
  },
  period_spend(r, p) {
    p.once("period_spend", "period_spend record");
    const period = text(r, "period");
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(period)) fail(`period must be YYYY-MM, got ${JSON.stringify(period)}`);
    p.periodSpend = { period, spent: amount(r, "spent") };
  },
  hold(r, p) {
    const hid = text(r, "id");
    p.once(`hold:${hid}`, `hold id ${JSON.stringify(hid)}`);
    p.holds.push({ id: hid, amount: amount(r, "amount") });
  },
};

function requiredInstant(r: Raw, k: string): number {
  return instant(r, k) ?? fail(`${k} is missing`);
}

/** The account record's own fields. */
function readHead(r: Raw, opts: ParseOptions): Pick<LegacyAccount, "name" | "plan" | "enabled" | "createdAt" | "balance"> {
  currency(r);
  const plan = text(r, "plan", { max: 64 });
  if (!opts.plans.has(plan)) fail(`unknown plan ${JSON.stringify(plan)}`);
  return { name: text(r, "name"), plan, enabled: bool(r, "extra_usage_enabled"), createdAt: requiredInstant(r, "created_at"), balance: amount(r, "balance") };
}

/** What is wrong with the account as a whole (its rows each being fine). */
function accountProblems(balance: Micros, p: Parts): string[] {
  const problems: string[] = [];
  const lotTotal = p.lots.reduce((t, l) => t + l.remaining, 0);
  if (lotTotal !== balance) problems.push(`balance ${balance} micros does not equal the lots' remaining ${lotTotal} micros`);
  if (!p.members.some((m) => m.role === "owner")) problems.push("the account has no member with role owner");
  const pm = p.autoReload?.paymentMethodId;
  if (pm && !p.paymentMethods.some((x) => x.id === pm)) problems.push(`auto_reload names payment method ${JSON.stringify(pm)}, which the account does not have`);
  const heldTotal = p.holds.reduce((t, h) => t + h.amount, 0);
  if (heldTotal > balance) problems.push(`pending holds (${heldTotal} micros) exceed the balance`);
  return problems;
}

/** The checked account of legacy id `id`, or null after reporting each of its problems to `reject`. */
export function buildAccount(id: string, head: { line: number; raw: Raw }, rows: readonly AccountRow[], opts: ParseOptions, reject: (line: number, reason: string) => void): LegacyAccount | null {
  let bad = false;
  const at = <T>(line: number, f: () => T): T | undefined => {
    try {
      return f();
    } catch (err) {
      if (!(err instanceof RowProblem)) throw err;
      reject(line, err.message);
      bad = true;
      return undefined;
    }
  };
  const base = at(head.line, () => readHead(head.raw, opts));
  const seen = new Map<string, number>();
  let current = head.line;
  const parts: Parts = {
    members: [],
    lots: [],
    paymentMethods: [],
    holds: [],
    once: (key, what) => {
      const first = seen.get(key);
      if (first !== undefined) fail(`duplicate ${what} (first on line ${first})`);
      seen.set(key, current);
    },
  };
  for (const { line, type, raw } of rows) {
    current = line;
    if (type === "account") continue;
    at(line, () => {
      currency(raw);
      READERS[type](raw, parts, opts);
    });
  }
  if (base === undefined || bad) return null;
  const problems = accountProblems(base.balance, parts);
  for (const p of problems) reject(head.line, p);
  if (problems.length > 0) return null;
  const { members, lots, paymentMethods, holds, monthlyLimit, autoReload, periodSpend } = parts;
  return { id, line: head.line, ...base, members, lots, monthlyLimit, autoReload, paymentMethods, periodSpend, holds };
}
