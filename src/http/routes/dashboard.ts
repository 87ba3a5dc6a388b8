// Dashboard routes: sign-in and sign-out (the session cookie), "who am I" with the CSRF token,
// setting a member's password, and the usage breakdown behind the usage page. Registered by one
// line in routes.ts; the dashboard's files are served by dashboard-pages.ts.

import { z } from "zod";
import { allows, type Permission } from "../../app/auth.js";
import { MAX_PASSWORD } from "../../app/sessions.js";
import { domainError } from "../../core/errors.js";
import { parseInstant } from "../../core/price-book.js";
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


const postDashboardSession = typed({
  method: "POST",
  path: "/v1/dashboard/session",
  summary:
    "Sign in to the dashboard with a member's email and password: sets the HttpOnly session cookie and returns the CSRF token to send in x-csrf-token on every change. Failures are throttled per account and per client address (429 with Retry-After).",
  tag: "Dashboard",
  auth: "public",
  body: SignIn,
  success: 201,
  response: R.SignedIn,
  handler: async (ctx) => {
    const sessions = ctx.services.sessions;
    const r = await sessions.signIn(ctx.body.email, ctx.body.password, ctx.remoteAddress);
    if (!r.ok) throw new HttpError(r.error);
    const { token, session, member } = r.value;
    const body: R.SignedIn = { type: "dashboard_session", member_id: member.id, org_id: member.orgId, role: member.role, csrf_token: session.csrfToken, expires_at: iso(session.expiresAt) };
    return {
      status: 201,
      body,
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
  response: R.SignedOut,
  handler: async (ctx) => {
    const p = ctx.principal;
    if (p.kind === "member" && p.keyId.startsWith("ses_")) await ctx.services.sessions.signOut(p.keyId);
    const secure = ctx.services.sessions.config.secureCookies;
    const body: R.SignedOut = { type: "dashboard_session", signed_out: readCookie(ctx.headers["cookie"], SESSION_COOKIE) !== undefined };
    return { status: 200, body, headers: { "set-cookie": clearedSessionCookie(secure) } };
  },
});

const putMembersMemberPassword = typed({
  method: "PUT",
  path: `${ORG}/members/:member_id/password`,
  summary: "Set a member's dashboard password (owner or admin). At least 12 characters; stored as a salted scrypt hash.",
  tag: "Dashboard",
  auth: "manage",
  body: SetPassword,
  response: R.MemberPassword,
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
    // The cells come from the usage rollups as one JSON text built by the database: neither
    // ~10,000 row objects nor their serialization pass through the event loop.
    const b = await ctx.services.admin.usageBreakdownJson(orgId, from, to);
    const totals = { requests: b.requests, cost: String(b.cost), credit_cost: String(b.creditCost), input_tokens: b.inputTokens, output_tokens: b.outputTokens };
    const head = `{"type":"usage_breakdown","from":${JSON.stringify(iso(from))},"to":${JSON.stringify(iso(to))},"data":`;
    const tail = `,"totals":${JSON.stringify(totals)},${JSON.stringify(MONEY_FORMAT).slice(1)}`;
    const bytes = Buffer.concat([Buffer.from(head), typeof b.data === "string" ? Buffer.from(b.data) : b.data, Buffer.from(tail)]);
    return {
      status: 200,
      body: null,
      headers: { "content-type": "application/json; charset=utf-8", "content-length": String(bytes.length) },
      write: async (res) => {
        res.end(bytes);
      },
    };
  },
});

export function dashboardRoutes(): AnyRoute[] {
  return [postDashboardSession, getDashboardSession, deleteDashboardSession, putMembersMemberPassword, getUsageBreakdown];
}
