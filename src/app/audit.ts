// Who is acting, for the audit log. The HTTP edge (and the CLI) runs each request inside an actor
// context; use cases record drafts of what they change, and the transaction that makes the change
// appends them (Admin.write, the batcher, the payment steps), stamped with this context's actor and
// request id. Work with no context (sweeps, the payment poller, provider webhooks) is the system.
//
// The context travels with async calls (AsyncLocalStorage), so no use-case signature carries it.
// Work that runs on behalf of nobody in particular (auto-reload, evaluated after someone's settle)
// is explicitly run as the system.

import { AsyncLocalStorage } from "node:async_hooks";
import { auditSnapshot, SYSTEM_ACTOR, type AuditActor, type AuditDraft, type AuditEntry } from "../core/audit.js";
import { newId } from "../core/ids.js";
import type { StoreTx } from "../ports/store.js";

export interface ActorContext {
  readonly actor: AuditActor;
  readonly requestId: string | null;
}

const context = new AsyncLocalStorage<ActorContext>();

/** Runs fn with `ctx` as the acting context (and everything it awaits or schedules). */
export function actingAs<T>(ctx: ActorContext, fn: () => T): T {
  return context.run(ctx, fn);
}

/** Runs fn as the system (whatever context the caller had). */
export function asSystem<T>(fn: () => T): T {
  return context.run({ actor: SYSTEM_ACTOR, requestId: null }, fn);
}

export function currentActor(): ActorContext {
  return context.getStore() ?? { actor: SYSTEM_ACTOR, requestId: null };
}

/** Collects a use case's drafts during its transaction. */
export class AuditRecorder {
  readonly drafts: AuditDraft[] = [];

  /** Snapshots are taken now: the objects may change later in the same transaction. */
  record(draft: AuditDraft): void {
    this.drafts.push({ ...draft, before: auditSnapshot(draft.before), after: auditSnapshot(draft.after) });
  }
}

const BASE32 = "0123456789abcdefghjkmnpqrstvwxyz";
let lastId = "";

/**
 * Entry ids increase within this process even inside one millisecond (the log is read newest first
 * by (at, id), and one transaction often records several entries): a fresh id not above the last
 * one becomes the last one plus one, ULID's monotonic rule. Ids stay well-formed and unguessable.
 */
function auditId(now: number): string {
  let id = newId("auditEntry", now);
  if (id <= lastId) {
    const chars = lastId.split("");
    for (let i = chars.length - 1; i >= 0; i--) {
      const v = BASE32.indexOf(chars[i] ?? "");
      if (v < 0) break; // reached the prefix: 2^80 ids in one millisecond do not happen
      if (v < 31) {
        chars[i] = BASE32[v + 1] ?? "0";
        break;
      }
      chars[i] = "0";
    }
    id = chars.join("");
  }
  lastId = id;
  return id;
}

/** Stamps drafts with id, time, actor and request id; snapshots lose their secret fields here. */
export function auditEntries(drafts: readonly AuditDraft[], now: number, by: ActorContext = currentActor()): AuditEntry[] {
  return drafts.map((d) => ({
    ...d,
    before: auditSnapshot(d.before),
    after: auditSnapshot(d.after),
    id: auditId(now),
    at: now,
    actor: by.actor,
    requestId: by.requestId,
  }));
}

/** Appends drafts inside the caller's transaction. */
export async function appendAudit(tx: StoreTx, drafts: readonly AuditDraft[], now: number, by?: ActorContext): Promise<void> {
  if (drafts.length > 0) await tx.audit.insert(auditEntries(drafts, now, by));
}
