// The legacy ("extra usage") export format and its validation (docs/legacy-export.md): lines of a
// JSON Lines or CSV file → one checked account per legacy id, or that account's row errors with
// line numbers. Pure: the caller reads the bytes and writes the accounts (app/legacy-import.ts).
//
// Amounts are decimal USD strings with at most 6 decimals ("12.345678"), parsed exactly into
// micro-dollars (money.ts); a JSON number is refused because a float may already have lost cents.
// Any bad row rejects its whole account (all or nothing per account); other accounts are unaffected.

// One account's rows, field by field and as a whole: legacy-account.ts.

import { buildAccount, LEGACY_RECORD_TYPES, type AccountRow, type LegacyAccount, type LegacyRecordType, type ParseOptions, type Raw } from "./legacy-account.js";
import { isOneOf } from "./one-of.js";

export { LEGACY_RECORD_TYPES } from "./legacy-account.js";
export type { LegacyAccount, LegacyAutoReload, LegacyHold, LegacyLot, LegacyMember, LegacyPaymentMethod, LegacyRecordType, ParseOptions } from "./legacy-account.js";

/** The CSV flavour: one header row with these columns (any order); each row fills its type's columns. */
export const LEGACY_CSV_COLUMNS = [
  "type", "account_id", "id", "name", "email", "role", "plan", "currency", "balance", "extra_usage_enabled", "created_at",
  "amount", "remaining", "purchased_at", "expires_at", "monthly_limit", "enabled", "threshold", "payment_method_id",
  "provider", "token", "brand", "last4", "period", "spent",
] as const;

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

/** "YYYY-MM" of an instant (UTC). */
export const monthOf = (t: number): string => new Date(t).toISOString().slice(0, 7);

interface Draft {
  account?: { line: number; raw: Raw };
  rows: AccountRow[];
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

/** A line as a record, or why it is not one. */
function rowOf(format: "jsonl" | "csv", header: readonly string[] | null, t: string): Raw | string {
  if (format === "jsonl") {
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch {
      return "not valid JSON";
    }
    return isRecord(v) ? v : "a line must be a JSON object";
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
}

function isRecord(v: unknown): v is Raw {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The legacy account a record belongs to (an account record is its own). */
function accountOf(raw: Raw): string | null {
  const id = raw["type"] === "account" ? raw["id"] : raw["account_id"];
  return typeof id === "string" && id !== "" ? id : null;
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

  lines.forEach((l, i) => {
    const line = i + 1;
    const body = (l.text ?? l.salvage).replace(/\r$/, "");
    if (body.trim() === "") return;
    if (format === "csv" && header === null) {
      const h = csvFields(body);
      const unknown = h?.filter((c) => !isOneOf(LEGACY_CSV_COLUMNS, c)) ?? ["(unreadable)"];
      if (!h || !h.includes("type") || unknown.length > 0) {
        errors.push({ line, accountId: null, reason: `the first line must be the CSV header (unknown columns: ${unknown.join(", ")})` });
        header = [];
      } else header = h;
      return;
    }
    const raw = rowOf(format, header, body);
    if (typeof raw === "string") {
      // Which account was it? Enough to keep the account from half-importing.
      const guess = /"?account_id"?\s*[:=]\s*"([^"]+)"/.exec(body)?.[1] ?? null;
      return reject(line, guess, l.text === null ? "invalid UTF-8" : raw);
    }
    const accountId = accountOf(raw);
    if (l.text === null) return reject(line, accountId, "invalid UTF-8");
    const type = raw["type"];
    if (!isOneOf<LegacyRecordType>(LEGACY_RECORD_TYPES, type)) {
      return reject(line, accountId, `unknown record type ${JSON.stringify(type)}`);
    }
    if (accountId === null) return reject(line, null, type === "account" ? "id is missing" : "account_id is missing");
    if (accountId.length > 200) return reject(line, null, "account id is longer than 200 characters");
    const d = draft(accountId);
    if (type === "account") {
      if (d.account) return reject(line, accountId, `duplicate account id ${JSON.stringify(accountId)} (first on line ${d.account.line})`);
      d.account = { line, raw };
    } else d.rows.push({ line, type, raw });
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

/** A stable text of an account's data (its digest decides "unchanged" vs "conflict" on a re-run). */
export function canonicalAccount(a: LegacyAccount): string {
  const { line: _line, ...data } = a;
  void _line;
  const sortBy = <T extends { id: string }>(xs: readonly T[]) => [...xs].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  return JSON.stringify({ ...data, members: sortBy(data.members), lots: sortBy(data.lots), paymentMethods: sortBy(data.paymentMethods), holds: sortBy(data.holds) });
}
