// The store's dashboard part (reached as `tx.dashboard`): member passwords, sign-in sessions,
// sign-in failure counters (shared by every instance, so throttling holds behind a load
// balancer), and the usage breakdown the usage page charts.

export interface PasswordRow {
  readonly memberId: string;
  readonly hash: string;
}

export interface SessionRow {
  readonly id: string;
  readonly tokenHash: string;
  readonly memberId: string;
  readonly csrfToken: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly revokedAt: number | null;
}

/** Settled usage summed per (UTC day, model, surface, member, speed). */
export interface UsageCell {
  readonly day: number;
  readonly model: string;
  readonly surface: string;
  readonly memberId: string;
  readonly speed: string;
  readonly requests: number;
  readonly cost: number;
  readonly creditCost: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/** The usage breakdown's cells (GET …/usage/breakdown) as JSON text, built by the database. */
export interface BreakdownJson {
  /** `[{"day":"YYYY-MM-DD","model",…,"cost":"<micros>",…}, …]`, ordered by day, model, surface, member, speed. */
  readonly data: string | Buffer;
  readonly requests: number;
  readonly cost: number;
  readonly creditCost: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

export interface DashboardTx {
  setPassword(memberId: string, hash: string, at: number): Promise<void>;
  /** Members with a password whose email matches (case-insensitively), oldest membership first. */
  passwordsByEmail(email: string): Promise<PasswordRow[]>;
  insertSession(row: SessionRow): Promise<void>;
  findSession(tokenHash: string): Promise<SessionRow | undefined>;
  getSession(id: string): Promise<SessionRow | undefined>;
  revokeSession(id: string, at: number): Promise<void>;
  /** Ends every live session of a member (their password changed). */
  revokeMemberSessions(memberId: string, at: number): Promise<void>;
  /** Failures counted for each subject in the window that started after `since` (0 otherwise). */
  failures(subjects: readonly string[], since: number): Promise<Map<string, { failures: number; windowStart: number }>>;
  /** Counts one failure; a window that started at or before `since` restarts at `now`. */
  recordFailure(subject: string, now: number, since: number): Promise<void>;
  clearFailures(subject: string): Promise<void>;
  usageBreakdown(orgId: string, from: number, to: number): Promise<UsageCell[]>;
  /** The same cells with their totals, serialized by the database (from the usage rollups). */
  usageBreakdownJson(orgId: string, from: number, to: number): Promise<BreakdownJson>;
}
