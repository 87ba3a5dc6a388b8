// Dashboard sign-in: member passwords (scrypt, a memory-hard KDF, with a per-password salt and
// a constant-time compare), sessions stored in the database (only the token's SHA-256; any
// instance can resolve any session), a per-session CSRF token, and sign-in throttling per
// account and per client address (counters in the database too, so it holds behind a load
// balancer). A session resolves to the same member Principal an API key does, so every role
// check in auth.ts applies unchanged to the dashboard's requests.

import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { domainError, fail, ok, type Result } from "../core/errors.js";
import { newId } from "../core/ids.js";
import { appendAudit } from "./audit.js";
import type { Member, Organization } from "../core/model.js";
import type { Clock } from "../ports/clock.js";
import type { SessionRow } from "../ports/dashboard-store.js";
import type { Store } from "../ports/store.js";
import { hashKey, type Principal } from "./auth.js";

// scrypt N=2^15, r=8, p=1: 32 MiB and ~50-100 ms per hash on a laptop core (OWASP's minimum is
// N=2^17 with r=8 for 128 MiB; 2^15 keeps a small server responsive while staying memory-hard).
const SCRYPT = { N: 1 << 15, r: 8, p: 1 } as const;
const KEY_LEN = 32;
const MAX_MEM = 64 * 1024 * 1024;

export const MIN_PASSWORD = 12;
export const MAX_PASSWORD = 256;

function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const options: ScryptOptions = { ...params, maxmem: MAX_MEM };
    scrypt(password.normalize("NFKC"), salt, KEY_LEN, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** "scrypt$<log2 N>$<r>$<p>$<salt>$<key>" (base64url), so parameters can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, SCRYPT);
  return `scrypt$${Math.log2(SCRYPT.N)}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = /^scrypt\$(\d{1,2})\$(\d{1,2})\$(\d{1,2})\$([\w-]+)\$([\w-]+)$/.exec(stored);
  if (!m) return false;
  const expected = Buffer.from(m[5] ?? "", "base64url");
  const key = await derive(password, Buffer.from(m[4] ?? "", "base64url"), { N: 1 << Number(m[1]), r: Number(m[2]), p: Number(m[3]) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Verified against when the email is unknown, so a miss takes as long as a wrong password. */
let decoy: Promise<string> | undefined;

export interface SignedIn {
  readonly token: string;
  readonly session: SessionRow;
  readonly member: Member;
}

export interface ResolvedSession {
  readonly session: SessionRow;
  readonly principal: Extract<Principal, { kind: "member" }>;
}

export function checkPassword(password: string): Result<string> {
  if (password.length < MIN_PASSWORD) return fail(domainError("invalid_request", `A password needs at least ${MIN_PASSWORD} characters.`, { field: "password" }));
  if (password.length > MAX_PASSWORD) return fail(domainError("invalid_request", `A password may have at most ${MAX_PASSWORD} characters.`, { field: "password" }));
  return ok(password);
}

/** What sign-ins need to know, passed in by the composition root (from the dashboard's configuration). */
export interface SessionSettings {
  readonly sessionTtlMs: number;
  /** Failed sign-ins per account (email) within the window before further attempts get 429. */
  readonly maxAccountFailures: number;
  /** Failed sign-ins per client address within the window before further attempts get 429. */
  readonly maxAddressFailures: number;
  readonly failureWindowMs: number;
  /** Whether the session cookie is marked Secure (the edge sets the cookie; kept here beside the session's lifetime). */
  readonly secureCookies: boolean;
}

export class Sessions {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    readonly config: SessionSettings,
  ) {}

  /** Sets (or replaces) a member's dashboard password and ends their sessions; the member must belong to orgId. */
  async setPassword(orgId: string, memberId: string, password: string): Promise<Result<Member>> {
    const checked = checkPassword(password);
    if (!checked.ok) return checked;
    const hash = await hashPassword(password);
    return this.store.transaction(async (tx) => {
      const member = await tx.getMember(memberId);
      if (!member || member.orgId !== orgId) return fail<Member>(domainError("not_found", `No member ${memberId}.`));
      const now = this.clock.now();
      await tx.dashboard.setPassword(memberId, hash, now);
      await tx.dashboard.revokeMemberSessions(memberId, now);
      // The member, never the hash: the action says a password was set (and their sessions ended).
      await appendAudit(tx, [{ orgId, action: "member.password_set", targetType: "member", targetId: memberId, before: member, after: member }], now);
      return ok(member);
    });
  }

  /**
   * Signs in by email and password. Refused with 429 (and a retry time) once the account or the
   * client address has had too many failures in the window, before the password is even checked.
   */
  async signIn(email: string, password: string, address: string): Promise<Result<SignedIn>> {
    const now = this.clock.now();
    const c = this.config;
    const since = now - c.failureWindowMs;
    const account = `account:${email.trim().toLowerCase()}`;
    const client = `address:${address}`;
    const counts = await this.store.read((tx) => tx.dashboard.failures([account, client], since));
    const locked = [
      [counts.get(account), c.maxAccountFailures],
      [counts.get(client), c.maxAddressFailures],
    ] as const;
    for (const [count, max] of locked) {
      if (count && count.failures >= max) {
        const resetsAt = new Date(count.windowStart + c.failureWindowMs).toISOString();
        return fail(domainError("too_many_sign_in_attempts", "Too many failed sign-ins; wait before trying again.", { resets_at: resetsAt }));
      }
    }
    const candidates = await this.store.read((tx) => tx.dashboard.passwordsByEmail(email.trim()));
    let matched: string | undefined;
    if (candidates.length === 0) await verifyPassword(password, await (decoy ??= hashPassword(randomBytes(16).toString("hex"))));
    for (const cand of candidates) {
      if (await verifyPassword(password, cand.hash)) {
        matched = cand.memberId;
        break;
      }
    }
    if (!matched) {
      await this.store.transaction(async (tx) => {
        await tx.dashboard.recordFailure(account, now, since);
        await tx.dashboard.recordFailure(client, now, since);
      });
      return fail(domainError("invalid_credentials", "The email or password is not right."));
    }
    const memberId = matched;
    const token = randomBytes(32).toString("base64url");
    const session: SessionRow = {
      id: newId("session", now),
      tokenHash: hashKey(token),
      memberId,
      csrfToken: randomBytes(24).toString("base64url"),
      createdAt: now,
      expiresAt: now + c.sessionTtlMs,
      revokedAt: null,
    };
    const member = await this.store.transaction(async (tx) => {
      await tx.dashboard.clearFailures(account);
      await tx.dashboard.insertSession(session);
      return tx.getMember(memberId);
    });
    if (!member) return fail(domainError("invalid_credentials", "The email or password is not right."));
    return ok({ token, session, member });
  }

  /** The live session for a cookie's token, as the member's Principal; undefined if none. */
  async resolve(token: string): Promise<ResolvedSession | undefined> {
    if (token.length < 20 || token.length > 100) return undefined;
    const now = this.clock.now();
    return this.store.read(async (tx) => {
      const session = await tx.dashboard.findSession(hashKey(token));
      if (!session || session.revokedAt !== null || session.expiresAt <= now) return undefined;
      const member = await tx.getMember(session.memberId);
      if (!member) return undefined;
      const principal: ResolvedSession["principal"] = { kind: "member", keyId: session.id, orgId: member.orgId, memberId: member.id, role: member.role, surface: "interactive" };
      return { session, principal };
    });
  }

  /** The session (by id) with its member and organization, for the dashboard's "who am I". */
  async describe(sessionId: string): Promise<{ session: SessionRow; member: Member; org: Organization } | undefined> {
    return this.store.read(async (tx) => {
      const session = await tx.dashboard.getSession(sessionId);
      const member = session ? await tx.getMember(session.memberId) : undefined;
      const org = member ? await tx.getOrg(member.orgId) : undefined;
      return session && member && org ? { session, member, org } : undefined;
    });
  }

  async signOut(sessionId: string): Promise<void> {
    await this.store.transaction((tx) => tx.dashboard.revokeSession(sessionId, this.clock.now()));
  }

  /** Constant-time comparison of the CSRF header with the session's token. */
  static csrfMatches(session: SessionRow, header: string | undefined): boolean {
    if (!header) return false;
    const a = Buffer.from(hashKey(header), "hex");
    const b = Buffer.from(hashKey(session.csrfToken), "hex");
    return timingSafeEqual(a, b);
  }
}
