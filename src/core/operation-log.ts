// The operation log: every money operation the books decide, in the order they decided it, with
// the inputs needed to decide it again (the pricing lab replays it, lab.ts). `LoggedBooks` is the
// `Books` every writer uses: it only watches the public operations and appends one entry each;
// it never changes a decision. Refused authorizations are logged too (they are nowhere else).
// The store writes `log` with the rest of the batch's changes, in one transaction, in this order.

import { Books, type AuthorizeRequest, type Changes, type HoldActor, type NewId, type SettleOutcome, type Tokens } from "./books.js";
import type { Result } from "./errors.js";
import type { Grant } from "./grants.js";
import type { SpendLimit } from "./limits.js";
import type { Hold, Member, Organization, Snapshot } from "./model.js";
import type { Micros } from "./money.js";
import type { Surface } from "./plans.js";
import type { PriceBook } from "./price-book.js";
import { rate, ZERO_USAGE, type RatingOptions, type Speed, type Usage } from "./rating.js";

/** What a cost was computed from: tokens rated by a price book, or an amount given as is. */
export interface CostInputs {
  /** null: rated from `usage`; else the amount the caller gave (never re-rated). */
  readonly amount: Micros | null;
  readonly usage: Usage | null;
  readonly batch: boolean;
  readonly dataResidency: boolean;
  /**
   * The gateway's worst-case estimate: `usage` is the plain worst case (all input plain, output at
   * max_tokens), "cache" when cache writes of all input were candidates too (worstCaseVariants).
   */
  readonly worstCase?: "plain" | "cache";
}

/** The usages a worst case is the dearest of (gateway/estimate.ts): plain, and as cache writes. */
export function worstCaseVariants(base: Usage, cacheable: boolean): Usage[] {
  if (!cacheable) return [base];
  return [
    base,
    { ...base, input_tokens: 0, cache_creation_5m_input_tokens: base.input_tokens },
    { ...base, input_tokens: 0, cache_creation_1h_input_tokens: base.input_tokens },
  ];
}

/**
 * The dearest rating of `usages`, each at the usual and the long-context rates (the input count is
 * an upper bound, so either may be the dearer); undefined when the book has no price for the model.
 */
export function worstCaseMicros(book: PriceBook, model: string, usages: readonly Usage[], options: RatingOptions): Micros | undefined {
  let worst: Micros | undefined;
  for (const usage of usages) {
    const usual = rate(book, model, usage, { ...options, longContext: false });
    if (!usual) return undefined;
    // A model without long-context rates rates the same either way: no second rating.
    const long = usual.model.longContext ? rate(book, model, usage, { ...options, longContext: true }) : usual;
    if (!long) return undefined;
    for (const r of [long, usual]) if (worst === undefined || r.micros > worst) worst = r.micros;
  }
  return worst;
}

/**
 * A cost priced again by `book`: an amount stays as given; tokens are rated (a worst case as the
 * gateway computes it). undefined when the book has no price for the model; RangeError beyond MAX_MICROS.
 */
export function priceInputs(book: PriceBook, model: string, speed: Speed, cost: CostInputs): Micros | undefined {
  if (cost.amount !== null) return cost.amount;
  const usage = cost.usage ?? ZERO_USAGE;
  const options: RatingOptions = { speed, batch: cost.batch, dataResidency: cost.dataResidency };
  if (cost.worstCase) return worstCaseMicros(book, model, worstCaseVariants(usage, cost.worstCase === "cache"), options);
  return rate(book, model, usage, options)?.micros;
}

export type LogKind =
  | "authorize"
  | "refuse"
  | "settle"
  | "release"
  | "grant"
  | "void"
  | "expire_holds"
  | "expire_grants"
  | "limit_set"
  | "limit_delete"
  | "org_update"
  | "member_update";

export interface LogEntry {
  readonly orgId: string;
  readonly at: number;
  readonly kind: LogKind;
  readonly holdId: string | null;
  readonly memberId: string | null;
  readonly workspaceId: string | null;
  readonly surface: Surface | null;
  readonly model: string | null;
  readonly family: string | null;
  readonly speed: Speed | null;
  /** authorize/refuse: the estimate; settle: the amount asked to charge. */
  readonly micros: Micros | null;
  readonly cost: CostInputs | null;
  readonly ttlMs: number | null;
  readonly owner: string | null;
  /** Who resolved a hold: "gateway", "api" (internal), or "caller:<member|->:<0|1 privileged>". */
  readonly actor: string | null;
  /** refuse: the refusal code; settle/release: the error code when it failed. */
  readonly code: string | null;
  /** grant: the grant as created; void: its id; limit_*, org_update, member_update: { before, after }; refuse window_exhausted: { window }. */
  readonly data: unknown;
}

/** Extra inputs a caller may pass along with an authorize or a settle, for the log. */
export interface Costed {
  readonly cost?: CostInputs;
}

export interface LoggedChanges extends Changes {
  readonly log: LogEntry[];
}

const EMPTY = {
  holdId: null,
  memberId: null,
  workspaceId: null,
  surface: null,
  model: null,
  family: null,
  speed: null,
  micros: null,
  cost: null,
  ttlMs: null,
  owner: null,
  actor: null,
  code: null,
  data: null,
} as const;

export function actorText(actor: HoldActor | undefined): string {
  if (!actor) return "api";
  if (actor.kind === "gateway") return "gateway";
  return `caller:${actor.memberId ?? "-"}:${actor.privileged ? 1 : 0}`;
}

export function actorFrom(text: string | null): HoldActor | undefined {
  if (text === null || text === "api") return undefined;
  if (text === "gateway") return { kind: "gateway" };
  const [, member, priv] = text.split(":");
  return { kind: "caller", memberId: member === "-" || member === undefined ? null : member, privileged: priv === "1" };
}

export function logEntry(orgId: string, at: number, kind: LogKind, fields: Partial<Omit<LogEntry, "orgId" | "at" | "kind">>): LogEntry {
  return { ...EMPTY, ...fields, orgId, at, kind };
}

export class LoggedBooks extends Books {
  private readonly log: LogEntry[] = [];
  private authorizing = false;

  constructor(
    private readonly loaded: Snapshot,
    newId: NewId,
  ) {
    super(loaded, newId);
  }

  override authorize(req: AuthorizeRequest & Costed, now: number): Result<Hold> {
    this.authorizing = true;
    let r: Result<Hold>;
    try {
      r = super.authorize(req, now);
    } finally {
      this.authorizing = false;
    }
    const member = this.member(req.orgId, req.memberId);
    const details = r.ok ? undefined : (r.error.details as Record<string, unknown> | undefined);
    this.log.push(
      logEntry(req.orgId, now, r.ok ? "authorize" : "refuse", {
        holdId: req.holdId,
        memberId: req.memberId,
        workspaceId: member?.workspaceId ?? null,
        surface: req.surface,
        model: req.model,
        family: req.family,
        speed: req.speed,
        micros: req.estimate,
        cost: req.cost ?? null,
        ttlMs: req.ttlMs,
        owner: req.owner ?? "api",
        code: r.ok ? null : r.error.code,
        data: !r.ok && typeof details?.["window"] === "string" ? { window: details["window"] } : null,
      }),
    );
    return r;
  }

  override settle(orgId: string, holdId: string, actual: Micros, now: number, tokens?: Tokens & Costed, actor?: HoldActor): Result<SettleOutcome> {
    const r = super.settle(orgId, holdId, actual, now, tokens, actor);
    this.log.push(logEntry(orgId, now, "settle", { holdId, micros: actual, cost: tokens?.cost ?? null, actor: actorText(actor), code: r.ok ? null : r.error.code }));
    return r;
  }

  override release(orgId: string, holdId: string, now: number, actor?: HoldActor): Result<Hold> {
    const r = super.release(orgId, holdId, now, actor);
    this.log.push(logEntry(orgId, now, "release", { holdId, actor: actorText(actor), code: r.ok ? null : r.error.code }));
    return r;
  }

  override expireHolds(now: number, orgId?: string): Hold[] {
    const expired = super.expireHolds(now, orgId);
    // The books unwind an organization's expired holds before its first admission by themselves;
    // only the sweep's explicit call (one organization) is an operation of its own.
    if (orgId !== undefined && !this.authorizing) this.log.push(logEntry(orgId, now, "expire_holds", {}));
    return expired;
  }

  override addGrant(grant: Grant, now: number): Grant {
    const copy = { ...grant };
    const g = super.addGrant(grant, now);
    this.log.push(logEntry(grant.orgId, now, "grant", { memberId: grant.memberId, data: copy }));
    return g;
  }

  override voidGrant(orgId: string, grantId: string, now: number): Result<Grant> {
    const r = super.voidGrant(orgId, grantId, now);
    this.log.push(logEntry(orgId, now, "void", { code: r.ok ? null : r.error.code, data: { grant_id: grantId } }));
    return r;
  }

  override expireGrants(now: number): Grant[] {
    const expired = super.expireGrants(now);
    // Only where a grant expired: elsewhere the call changed nothing, and a replay of it would
    // change nothing either (expiry depends on time alone). The sweep calls this once per
    // organization in a batch, so one entry per loaded organization per call grew as their square.
    for (const orgId of new Set(expired.map((g) => g.orgId))) this.log.push(logEntry(orgId, now, "expire_grants", {}));
    return expired;
  }

  override changes(): LoggedChanges {
    return { ...super.changes(), log: this.log };
  }

  /** Logged apart from a money operation (a spending limit set or removed), in the same order. */
  note(entry: LogEntry): void {
    this.log.push(entry);
  }
}

/** A change of an organization's or a member's settings (plan, usage credits, fast mode, seat, workspace) as an entry of the log. */
export function settingsEntry(orgId: string, at: number, kind: "org_update" | "member_update", before: Organization | Member, after: Organization | Member): LogEntry {
  return logEntry(orgId, at, kind, { memberId: kind === "member_update" ? after.id : null, data: { before, after } });
}

/** A limit change as an entry of the log. */
export function limitEntry(orgId: string, at: number, before: SpendLimit | null, after: SpendLimit | null): LogEntry {
  return logEntry(orgId, at, after ? "limit_set" : "limit_delete", { data: { before, after } });
}
