// Dashboard routes: sign-in and sign-out (the session cookie), "who am I" with the CSRF token,
// setting a member's password, and the usage breakdown behind the usage page. Registered by one
// line in routes.ts; the dashboard's files are served by dashboard-pages.ts.

import { z } from "zod";
import { allows, type Permission } from "../../app/auth.js";
import { MAX_PASSWORD } from "../../app/sessions.js";
import { domainError } from "../../core/errors.js";
import { parseInstant } from "../../core/price-book.js";
import type { UsageCell } from "../../ports/dashboard-store.js";
import { clearedSessionCookie, readCookie, SESSION_COOKIE, sessionCookie } from "../cookies.js";
import { MONEY_FORMAT, presentMember, presentOrg } from "../../presenters/core.js";
import { Email, IsoTime } from "../../schemas/requests.js";
import { HttpError, type AnyRoute } from "../server.js";
import { ORG, typed } from "./define.js";
import * as R from "../../schemas/responses.js";

const DAY_MS = 86_400_000;
const MAX_RANGE_DAYS = 366;

export const SignIn = z.strictObject({
  email: Email,
  password: z.string().min(1).max(MAX_PASSWORD),
});

export const SetPassword = z.strictObject({
  password: z.string().max(MAX_PASSWORD).describe("At least 12 characters. Stored only as a salted scrypt hash."),
});

export const BreakdownQuery = z.strictObject({
  from: IsoTime.optional().describe("Start (inclusive); default 30 days before `to`."),
  to: IsoTime.optional().describe("End (exclusive); default: now (inclusive)."),
  days: z.coerce.number().int().min(1).max(366).optional().describe("Instead of `from`: this many days before `to`."),
});

const PERMISSIONS: readonly Permission[] = ["read", "manage", "billing", "audit", "meter"];

const iso = (t: number): string => new Date(t).toISOString();

const presentCell = (c: UsageCell): R.UsageCell => ({
  day: iso(c.day * DAY_MS).slice(0, 10),
  model: c.model,
  surface: c.surface,
  member_id: c.memberId,
  speed: c.speed,
  requests: c.requests,
  cost: String(c.cost),
  credit_cost: String(c.creditCost),
  input_tokens: c.inputTokens,
  output_tokens: c.outputTokens,
});

const postDashboardSession = typed({
  method: "POST",
  path: "/v1/dashboard/session",
  summary:
    "Sign in to the dashboard with a member's email and password: sets the HttpOnly session cookie and returns the CSRF token to send in x-csrf-token on every change. Failures are throttled per account and per client address (429 with Retry-After).",
  tag: "Dashboard",
  auth: "public",
  body: SignIn,
  success: 201,
  handler: async (ctx) => {
    const sessions = ctx.services.sessions;
    const r = await sessions.signIn(ctx.body.email, ctx.body.password, ctx.remoteAddress);
    if (!r.ok) throw new HttpError(r.error);
    const { token, session, member } = r.value;
    return {
      status: 201,
      body: { type: "dashboard_session", member_id: member.id, org_id: member.orgId, role: member.role, csrf_token: session.csrfToken, expires_at: iso(session.expiresAt) },
      headers: { "set-cookie": sessionCookie(token, session.expiresAt - session.createdAt, sessions.config.secureCookies) },
    };
  },
});

const getDashboardSession = typed({
  method: "GET",
  path: "/v1/dashboard/session",
  summary:
    "The session cookie's member, their organization and permissions, and the session's CSRF token; `signed_in: false` (still 200, so the sign-in page loads without an error) when there is no live session.",
  tag: "Dashboard",
  auth: "public",
  response: R.SessionAnswer,
  handler: async (ctx) => {
    const token = readCookie(ctx.headers["cookie"], SESSION_COOKIE);
    const live = token ? await ctx.services.sessions.resolve(token) : undefined;
    const found = live ? await ctx.services.sessions.describe(live.session.id) : undefined;
    if (!live || !found) return ctx.ok({ type: "dashboard_session", signed_in: false });
    const p = live.principal;
    return ctx.ok({
      type: "dashboard_session",
      signed_in: true,
      member: presentMember(found.member),
      organization: presentOrg(found.org),
      permissions: PERMISSIONS.filter((perm) => allows(p, p.orgId, perm)),
      csrf_token: found.session.csrfToken,
      expires_at: iso(found.session.expiresAt),
      server_time: iso(ctx.services.clock.now()),
    });
  },
});

const deleteDashboardSession = typed({
  method: "DELETE",
  path: "/v1/dashboard/session",
  summary: "Sign out: ends the session and clears its cookie.",
  tag: "Dashboard",
  auth: "authenticated",
  handler: async (ctx) => {
    const p = ctx.principal;
    if (p.kind === "member" && p.keyId.startsWith("ses_")) await ctx.services.sessions.signOut(p.keyId);
    const secure = ctx.services.sessions.config.secureCookies;
    return { status: 200, body: { type: "dashboard_session", signed_out: readCookie(ctx.headers["cookie"], SESSION_COOKIE) !== undefined }, headers: { "set-cookie": clearedSessionCookie(secure) } };
  },
});

const putMembersMemberPassword = typed({
  method: "PUT",
  path: `${ORG}/members/:member_id/password`,
  summary: "Set a member's dashboard password (owner or admin). At least 12 characters; stored as a salted scrypt hash.",
  tag: "Dashboard",
  auth: "manage",
  body: SetPassword,
  handler: async (ctx) => {
    const r = await ctx.services.sessions.setPassword(ctx.params.org_id, ctx.params.member_id, ctx.body.password);
    if (!r.ok) throw new HttpError(r.error);
    return ctx.ok({ type: "member_password", member_id: r.value.id, is_set: true });
  },
});

const getUsageBreakdown = typed({
  method: "GET",
  path: `${ORG}/usage/breakdown`,
  summary:
    "Settled usage summed per UTC day, model, surface, member and speed over a range (at most 366 days): requests, cost, usage-credit cost and tokens. The dashboard's usage charts, table and CSV are all drawn from this.",
  tag: "Reporting",
  auth: "read",
  response: R.Breakdown,
  query: BreakdownQuery,
  handler: async (ctx) => {
    const now = ctx.services.clock.now();
    // Default end: just after now, so a request settled this very millisecond is included (as in GET /usage).
    const to = ctx.query.to ? (parseInstant(ctx.query.to) ?? now) : now + 1;
    const from = ctx.query.from ? (parseInstant(ctx.query.from) ?? to) : to - (ctx.query.days ?? 30) * DAY_MS;
    if (from >= to) throw new HttpError(domainError("invalid_request", "`from` must be before `to`.", { field: "from" }));
    if (to - from > MAX_RANGE_DAYS * DAY_MS) throw new HttpError(domainError("invalid_request", `The range may span at most ${MAX_RANGE_DAYS} days.`, { field: "from" }));
    const orgId = ctx.params.org_id;
    const cells = await ctx.services.admin.usageBreakdown(orgId, from, to);
    let cost = 0;
    let creditCost = 0;
    let requests = 0;
    let input = 0;
    let output = 0;
    for (const c of cells) {
      cost += c.cost;
      creditCost += c.creditCost;
      requests += c.requests;
      input += c.inputTokens;
      output += c.outputTokens;
    }
    return ctx.ok({
      type: "usage_breakdown",
      from: iso(from),
      to: iso(to),
      data: cells.map(presentCell),
      totals: { requests, cost: String(cost), credit_cost: String(creditCost), input_tokens: input, output_tokens: output },
      ...MONEY_FORMAT,
    });
  },
});

export function dashboardRoutes(): AnyRoute[] {
  return [postDashboardSession, getDashboardSession, deleteDashboardSession, putMembersMemberPassword, getUsageBreakdown];
}
