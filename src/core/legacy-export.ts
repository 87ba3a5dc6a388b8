// The legacy ("extra usage") export format and its validation (docs/legacy-export.md): lines of a
// JSON Lines or CSV file → one checked account per legacy id, or that account's row errors with
// line numbers. Pure: the caller reads the bytes and writes the accounts (app/legacy-import.ts).
//
// Amounts are decimal USD strings with at most 6 decimals ("12.345678"), parsed exactly into
// micro-dollars (money.ts); a JSON number is refused because a float may already have lost cents.
// Any bad row rejects its whole account (all or nothing per account); other accounts are unaffected.

import { parseUsd, type Micros } from "./money.js";
import { ROLES, type Role } from "./model.js";

export const LEGACY_RECORD_TYPES = ["account", "member", "lot", "limit", "auto_reload", "payment_method", "period_spend", "hold"] as const;
export type LegacyRecordType = (typeof LEGACY_RECORD_TYPES)[number];

/** The CSV flavour: one header row with these columns (any order); each row fills its type's columns. */
export const LEGACY_CSV_COLUMNS = [
  "type", "account_id", "id", "name", "email", "role", "plan", "currency", "balance", "extra_usage_enabled", "created_at",
  "amount", "remaining", "purchased_at", "expires_at", "monthly_limit", "enabled", "threshold", "payment_method_id",
  "provider", "token", "brand", "last4", "period", "spent",
] as const;

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

export interface RowError {
  readonly line: number;
  /** The legacy account the row belongs to, when it could be told. */
  readonly accountId: string | null;
  readonly reason: string;
}

export interface ParsedExport {
  /** Accounts with no bad row, in file order. */
  readonly accounts: LegacyAccount[];
  /** Every row error, in line order. */
  readonly errors: RowError[];
  /** Legacy ids of accounts rejected because of a bad row. */
  readonly rejected: string[];
  readonly lines: number;
}

export interface ParseOptions {
  readonly now: number;
  readonly plans: ReadonlySet<string>;
}

type Raw = Record<string, unknown>;

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

/** "YYYY-MM" of an instant (UTC). */
export const monthOf = (t: number): string => new Date(t).toISOString().slice(0, 7);

interface Draft {
  account?: { line: number; raw: Raw };
  rows: Array<{ line: number; type: LegacyRecordType; raw: Raw }>;
  bad: boolean;
}

/** Splits CSV text into rows of fields (RFC 4180 quoting; a quoted field may not span lines here). */
export function csvFields(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let v = "";
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return null;
        v += line.slice(i, q);
        if (line[q + 1] === '"') {
          v += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      out.push(v);
      if (i === line.length) return out;
      if (line[i] !== ",") return null;
      i++;
    } else {
      const c = line.indexOf(",", i);
      if (c < 0) {
        out.push(line.slice(i));
        return out;
      }
      out.push(line.slice(i, c));
      i = c + 1;
    }
  }
}

/**
 * Validates the lines of an export. `lines[i]` is line i+1 as text, or null when its bytes are not
 * valid UTF-8 (then `salvage` is the same line decoded leniently, only to tell which account it is).
 */
export function parseLegacyExport(format: "jsonl" | "csv", lines: ReadonlyArray<{ text: string | null; salvage: string }>, opts: ParseOptions): ParsedExport {
  const errors: RowError[] = [];
  const drafts = new Map<string, Draft>();
  const draft = (id: string): Draft => {
    let d = drafts.get(id);
    if (!d) drafts.set(id, (d = { rows: [], bad: false }));
    return d;
  };
  const reject = (line: number, accountId: string | null, reason: string) => {
    errors.push({ line, accountId, reason });
    if (accountId !== null) draft(accountId).bad = true;
  };
  let header: string[] | null = null;

  const toRaw = (t: string): Raw | string => {
    if (format === "jsonl") {
      let v: unknown;
      try {
        v = JSON.parse(t);
      } catch {
        return "not valid JSON";
      }
      return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Raw) : "a line must be a JSON object";
    }
    const fields = csvFields(t);
    if (!fields || !header) return "malformed CSV (unbalanced quotes)";
    if (fields.length !== header.length) return `expected ${header.length} columns, found ${fields.length}`;
    const raw: Raw = {};
    header.forEach((h, i) => {
      const v = fields[i] ?? "";
      if (v !== "") raw[h] = v;
    });
    return raw;
  };
  const accountOf = (raw: Raw): string | null => {
    const id = raw["type"] === "account" ? raw["id"] : raw["account_id"];
    return typeof id === "string" && id !== "" ? id : null;
  };

  lines.forEach((l, i) => {
    const line = i + 1;
    const body = (l.text ?? l.salvage).replace(/\r$/, "");
    if (body.trim() === "") return;
    if (format === "csv" && header === null) {
      const h = csvFields(body);
      const unknown = h?.filter((c) => !(LEGACY_CSV_COLUMNS as readonly string[]).includes(c)) ?? ["(unreadable)"];
      if (!h || !h.includes("type") || unknown.length > 0) {
        errors.push({ line, accountId: null, reason: `the first line must be the CSV header (unknown columns: ${unknown.join(", ")})` });
        header = [];
      } else header = h;
      return;
    }
    const raw = toRaw(body);
    if (typeof raw === "string") {
      // Which account was it? Enough to keep the account from half-importing.
      const guess = /"?account_id"?\s*[:=]\s*"([^"]+)"/.exec(body)?.[1] ?? null;
      return reject(line, guess, l.text === null ? "invalid UTF-8" : raw);
    }
    const accountId = accountOf(raw);
    if (l.text === null) return reject(line, accountId, "invalid UTF-8");
    const type = raw["type"];
    if (typeof type !== "string" || !(LEGACY_RECORD_TYPES as readonly string[]).includes(type)) {
      return reject(line, accountId, `unknown record type ${JSON.stringify(type)}`);
    }
    if (accountId === null) return reject(line, null, type === "account" ? "id is missing" : "account_id is missing");
    if (accountId.length > 200) return reject(line, null, "account id is longer than 200 characters");
    const d = draft(accountId);
    if (type === "account") {
      if (d.account) return reject(line, accountId, `duplicate account id ${JSON.stringify(accountId)} (first on line ${d.account.line})`);
      d.account = { line, raw };
    } else d.rows.push({ line, type: type as LegacyRecordType, raw });
  });

  const accounts: LegacyAccount[] = [];
  for (const [id, d] of drafts) {
    if (!d.account) {
      for (const r of d.rows) reject(r.line, id, `no account record with id ${JSON.stringify(id)}`);
      continue;
    }
    if (d.bad) continue;
    const acct = buildAccount(id, d.account, d.rows, opts, (line, reason) => reject(line, id, reason));
    if (acct && !d.bad) accounts.push(acct);
  }
  errors.sort((a, b) => a.line - b.line);
  const rejected = [...drafts.entries()].filter(([, d]) => d.bad && d.account).map(([id]) => id);
  return { accounts: accounts.sort((a, b) => a.line - b.line), errors, rejected, lines: lines.length };
}

function buildAccount(
  id: string,
  head: { line: number; raw: Raw },
  rows: ReadonlyArray<{ line: number; type: LegacyRecordType; raw: Raw }>,
  opts: ParseOptions,
  reject: (line: number, reason: string) => void,
): LegacyAccount | null {
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
  const base = at(head.line, () => {
    const r = head.raw;
    currency(r);
    const plan = text(r, "plan", { max: 64 });
    if (!opts.plans.has(plan)) fail(`unknown plan ${JSON.stringify(plan)}`);
    return {
      name: text(r, "name"),
      plan,
      enabled: bool(r, "extra_usage_enabled"),
      createdAt: instant(r, "created_at") as number,
      balance: amount(r, "balance"),
    };
  });
  const members: LegacyMember[] = [];
  const lots: LegacyLot[] = [];
  const paymentMethods: LegacyPaymentMethod[] = [];
  const holds: LegacyHold[] = [];
  let monthlyLimit: LegacyAccount["monthlyLimit"];
  let autoReload: (LegacyAutoReload & { line: number }) | undefined;
  let periodSpend: LegacyAccount["periodSpend"];
  const seen = new Map<string, number>();
  const once = (key: string, line: number, what: string) => {
    const first = seen.get(key);
    if (first !== undefined) fail(`duplicate ${what} (first on line ${first})`);
    seen.set(key, line);
  };
  for (const { line, type, raw: r } of rows) {
    at(line, () => {
      currency(r);
      switch (type) {
        case "member": {
          const mid = text(r, "id");
          once(`member:${mid}`, line, `member id ${JSON.stringify(mid)}`);
          const email = text(r, "email", { max: 254 });
          if (!/^[^@\s]+@[^@\s]+$/.test(email)) fail(`email is not an address: ${JSON.stringify(email)}`);
          once(`email:${email.toLowerCase()}`, line, `member email ${JSON.stringify(email)}`);
          const role = text(r, "role");
          if (!(ROLES as readonly string[]).includes(role)) fail(`role must be one of ${ROLES.join(", ")}`);
          members.push({ id: mid, email, name: text(r, "name", { optional: true }) || email, role: role as Role, enabled: bool(r, "extra_usage_enabled", true) });
          break;
        }
        case "lot": {
          const lid = text(r, "id");
          once(`lot:${lid}`, line, `lot id ${JSON.stringify(lid)}`);
          const total = amount(r, "amount");
          const remaining = amount(r, "remaining");
          if (remaining > total) fail(`remaining ${r["remaining"]} exceeds the lot's amount ${r["amount"]}`);
          const purchasedAt = instant(r, "purchased_at") as number;
          const expiresAt = instant(r, "expires_at", true);
          if (expiresAt !== null && expiresAt <= opts.now && remaining > 0) fail(`the lot expired on ${r["expires_at"]}, before the import (export again)`);
          if (expiresAt !== null && expiresAt <= purchasedAt) fail("expires_at is not after purchased_at");
          lots.push({ id: lid, amount: total, remaining, purchasedAt, expiresAt });
          break;
        }
        case "limit": {
          once("limit", line, "limit record");
          const v = r["monthly_limit"];
          monthlyLimit = { amount: v === "unlimited" ? null : amount(r, "monthly_limit") };
          break;
        }
        case "auto_reload": {
          once("auto_reload", line, "auto_reload record");
          const pm = text(r, "payment_method_id", { optional: true });
          const enabled = bool(r, "enabled");
          const reloadAmount = amount(r, "amount");
          if (enabled && reloadAmount <= 0) fail("an enabled auto-reload needs an amount above zero");
          autoReload = { line, enabled, threshold: amount(r, "threshold"), amount: reloadAmount, paymentMethodId: pm === "" ? null : pm };
          break;
        }
        case "payment_method": {
          const pid = text(r, "id");
          once(`pm:${pid}`, line, `payment method id ${JSON.stringify(pid)}`);
          const last4 = text(r, "last4");
          if (!/^\d{4}$/.test(last4)) fail("last4 must be 4 digits");
          paymentMethods.push({ id: pid, provider: text(r, "provider", { max: 32 }), token: text(r, "token"), brand: text(r, "brand", { max: 32 }), last4 });
          break;
        }
        case "period_spend": {
          once("period_spend", line, "period_spend record");
          const period = text(r, "period");
          if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(period)) fail(`period must be YYYY-MM, got ${JSON.stringify(period)}`);
          periodSpend = { period, spent: amount(r, "spent") };
          break;
        }
        case "hold": {
          const hid = text(r, "id");
          once(`hold:${hid}`, line, `hold id ${JSON.stringify(hid)}`);
          holds.push({ id: hid, amount: amount(r, "amount") });
          break;
        }
        case "account":
          break;
      }
    });
  }
  if (base === undefined || bad) return null;
  const problems: string[] = [];
  const lotTotal = lots.reduce((t, l) => t + l.remaining, 0);
  if (lotTotal !== base.balance) problems.push(`balance ${base.balance} micros does not equal the lots' remaining ${lotTotal} micros`);
  if (!members.some((m) => m.role === "owner")) problems.push("the account has no member with role owner");
  if (autoReload?.paymentMethodId && !paymentMethods.some((p) => p.id === autoReload?.paymentMethodId)) {
    problems.push(`auto_reload names payment method ${JSON.stringify(autoReload.paymentMethodId)}, which the account does not have`);
  }
  const heldTotal = holds.reduce((t, h) => t + h.amount, 0);
  if (heldTotal > base.balance) problems.push(`pending holds (${heldTotal} micros) exceed the balance`);
  for (const p of problems) reject(head.line, p);
  if (problems.length > 0) return null;
  const { line } = head;
  return { id, line, ...base, members, lots, monthlyLimit, autoReload: autoReload && { enabled: autoReload.enabled, threshold: autoReload.threshold, amount: autoReload.amount, paymentMethodId: autoReload.paymentMethodId }, paymentMethods, periodSpend, holds };
}

/** A stable text of an account's data (its digest decides "unchanged" vs "conflict" on a re-run). */
export function canonicalAccount(a: LegacyAccount): string {
  const { line: _line, ...data } = a;
  void _line;
  const sortBy = <T extends { id: string }>(xs: readonly T[]) => [...xs].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  return JSON.stringify({ ...data, members: sortBy(data.members), lots: sortBy(data.lots), paymentMethods: sortBy(data.paymentMethods), holds: sortBy(data.holds) });
}
