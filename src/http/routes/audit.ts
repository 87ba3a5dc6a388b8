// The audit log over the API: an organization's entries, newest first, filtered by action or
// target. Owners, admins and billing members read it (the "audit" permission). Snapshots are shown
// in the same wire shapes as the objects' own endpoints (money as strings of micro-dollars).

import { z } from "zod";
import { AUDIT_ACTIONS, AUDIT_TARGETS } from "../../core/audit.js";
import { cursor, parseCursor } from "../paging.js";
import { Id } from "../../schemas/requests.js";
import type { AnyRoute, Services } from "../server.js";
import { presentAuditEntry } from "../../presenters/audit.js";
import { ORG, typed } from "./define.js";
import * as R from "../../schemas/responses.js";


export const AuditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.string().max(120).optional().describe("The `next_cursor` of the previous page."),
  action: z.enum(AUDIT_ACTIONS).optional().describe("Only entries of this action."),
  target_type: z.enum(AUDIT_TARGETS).optional().describe("Only entries about this kind of object."),
  target_id: Id.optional().describe("Only entries about this object."),
});

/** One page of an audit log (an organization's, or the platform's), newest first, with the next cursor. */
export async function auditPage(services: Services, orgId: string, q: z.infer<typeof AuditQuery>): Promise<{ data: R.AuditEntry[]; next_cursor: string | null }> {
  const before = parseCursor(q.before);
  const rows = await services.admin.auditEntries({
    orgId,
    limit: q.limit,
    ...(before ? { before } : {}),
    ...(q.action ? { action: q.action } : {}),
    ...(q.target_type ? { targetType: q.target_type } : {}),
    ...(q.target_id ? { targetId: q.target_id } : {}),
  });
  const last = rows[rows.length - 1];
  return { data: rows.map(presentAuditEntry), next_cursor: rows.length === q.limit && last ? cursor(last.at, last.id) : null };
}

export function auditRoutes(): AnyRoute[] {
  return [
    typed({
      method: "GET",
      path: `${ORG}/audit_log`,
      summary:
        "The organization's audit log, newest first: every change to money, limits, reload settings, members and roles, org settings, API keys and webhook endpoints — who (key, member), when, the action, and the object before and after (owner, admin or billing).",
      tag: "Audit",
      auth: "audit",
      response: R.page(R.AuditEntry),
      query: AuditQuery,
      handler: async (ctx) => {
        return ctx.ok(await auditPage(ctx.services, ctx.params.org_id, ctx.query));
      },
    }),
  ];
}
