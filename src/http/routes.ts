// The API's route table: each route declares its permission and schemas, then calls one use case.

import { z } from "zod";
import type { Principal } from "../app/auth.js";
import type { HoldActor } from "../core/books.js";
import { domainError } from "../core/errors.js";
import { narrowSurface } from "../core/surface-rule.js";
import type { GrantKind } from "../core/grants.js";
import type { LimitPeriod, LimitScope } from "../core/limits.js";
import type { Role } from "../core/model.js";
import type { PlanDef, SeatDef, SeatTier, Surface } from "../core/plans.js";
import type { PriceBookSpec as PriceBookSpecType } from "../core/price-book.js";
import { cacheWrites, type Speed, type Usage as CoreUsage } from "../core/rating.js";
import { aliasRoutes } from "./aliases.js";
import { buildOpenApi } from "./openapi.js";
import { moneyRoutes } from "./money-routes.js";
import { sdkCreditRoutes } from "./sdk-credit-routes.js";
import { statementRoutes } from "./statement-routes.js";
import { labRoutes } from "./lab-routes.js";
import { receiptRoutes } from "./receipt-routes.js";
import { operatorRoutes } from "./operator-routes.js";
import { webhookRoutes } from "./webhook-routes.js";
import { auditRoutes } from "./audit-routes.js";
import { operatorKeyRoutes } from "./operator-key-routes.js";
import { dashboardRoutes } from "./dashboard-routes.js";
import {
  presentAuthorized,
  presentCreditsStatus,
  presentCreatedKey,
  presentGrant,
  presentHold,
  presentKey,
  presentLimit,
  presentMember,
  presentOrg,
  presentPlan,
  presentSettled,
  presentSummary,
  presentTransaction,
  presentUsage,
  presentWorkspace,
  MONEY_FORMAT,
} from "./presenters.js";
import * as S from "./schemas.js";
import { errorReply, HttpError, idempotencyCaller, route, type AnyRoute, type Ctx } from "./server.js";
import { cursor, parseCursor } from "./paging.js";

/** Why an operator voided a grant (kept in the audit log entry). */
const VoidQuery = z.strictObject({ reason: z.string().max(500).optional() });
const ORG = "/v1/organizations/:org_id";

function toUsage(u: z.infer<typeof S.Usage>): CoreUsage {
  // The gateway's rule exactly (rating.ts cacheWrites): a total beyond the breakdown is never dropped.
  const { fiveMinutes, oneHour } = cacheWrites(u.cache_creation_input_tokens, u.cache_creation);
  return {
    input_tokens: u.input_tokens,
    output_tokens: u.output_tokens,
    cache_creation_5m_input_tokens: fiveMinutes,
    cache_creation_1h_input_tokens: oneHour,
    cache_read_input_tokens: u.cache_read_input_tokens,
    web_search_requests: u.server_tool_use?.web_search_requests ?? 0,
  };
}

export function toPlan(id: string, spec: z.infer<typeof S.PlanSpec>): PlanDef {
  const seat = (s: z.infer<typeof S.PlanSpec>["seats"]["standard"]): SeatDef => ({
    windows: s.windows.map((w) => ({
      key: w.key,
      kind: w.kind,
      durationMs: w.duration_seconds * 1000,
      quota: Number(w.quota),
      ...(w.families ? { families: w.families } : {}),
    })),
    monthlySdkCredit: Number(s.monthly_sdk_credit),
  });
  return {
    id,
    name: spec.name,
    seats: { standard: seat(spec.seats.standard), ...(spec.seats.premium ? { premium: seat(spec.seats.premium) } : {}) },
    creditOnlySurfaces: spec.credit_only_surfaces as Surface[],
  };
}

/**
 * The member a metering call acts for (the key's own, or another one for owner/admin/platform
 * keys) and the surface it is metered on: the key's, or a narrower one the request declares
 * (core/surface-rule.ts, the gateway's rule too).
 */
function meteredMember(ctx: Ctx<unknown, unknown>, requested: string | undefined, declared: string | undefined): { memberId: string; surface: Surface } {
  const p: Principal = ctx.principal;
  let memberId: string;
  if (p.kind === "platform") {
    if (!requested) throw new HttpError(domainError("invalid_request", "A platform key must name the member_id to meter for.", { field: "member_id" }));
    memberId = requested;
  } else {
    if (requested && requested !== p.memberId && p.role !== "owner" && p.role !== "admin") {
      throw new HttpError(domainError("forbidden", "Only owner or admin keys may meter for another member.", { field: "member_id" }));
    }
    memberId = requested ?? p.memberId;
  }
  const surface = narrowSurface(p.kind === "platform" ? "any" : p.surface, declared);
  if (!surface.ok) throw new HttpError(surface.error);
  return { memberId, surface: surface.value };
}

/** Who resolves a hold over the API: its member, or owner/admin/billing and platform keys for anyone's. */
function holdActor(p: Principal): HoldActor {
  return p.kind === "platform" ? { kind: "caller", memberId: null, privileged: true } : { kind: "caller", memberId: p.memberId, privileged: p.role !== "member" };
}

/** A plain member sees hold ids of their own requests only (another's would let them resolve it). */
function ownHoldsOnly(p: Principal): string | undefined {
  return p.kind === "member" && p.role === "member" ? p.memberId : undefined;
}

const iso = (v: string | null | undefined): number | null => (v ? Date.parse(v) : null);


/** The route table; `extra` registers routes built elsewhere (the gateway's) so /openapi.json lists them too. */
export function apiRoutes(extra: readonly AnyRoute[] = []): AnyRoute[] {
  const routes: AnyRoute[] = [
    // ------------------------------------------------------------ service
    route({
      method: "GET",
      path: "/healthz",
      summary: "Liveness: the process is up.",
      tag: "Service",
      auth: "public",
      handler: async () => ({ status: 200, body: { status: "ok" } }),
    }),
    route({
      method: "GET",
      path: "/readyz",
      summary: "Readiness: 200 while the database answers and the server is not shutting down; 503 while draining or when the database is unreachable.",
      tag: "Service",
      auth: "public",
      handler: async (ctx) => {
        const store = ctx.services.store.capabilities.name;
        // Draining: say so at once, so the load balancer stops sending before the listener closes.
        if (ctx.services.lifecycle.draining) return { status: 503, body: { status: "draining", store } };
        // An unreachable database is a StoreUnavailable: the edge answers 503 service_unavailable.
        const version = await ctx.services.store.schemaVersion();
        return { status: 200, body: { status: "ready", store, schema_version: version } };
      },
    }),
    route({
      method: "GET",
      path: "/openapi.json",
      summary: "This API's OpenAPI 3.1 document.",
      tag: "Service",
      auth: "public",
      handler: async () => ({ status: 200, body: openapi }),
    }),

    // ------------------------------------------------------------ catalog
    route({
      method: "GET",
      path: "/v1/plans",
      summary: "List plans with their windows and quotas.",
      tag: "Catalog",
      auth: "authenticated",
      handler: async (ctx) => ({ status: 200, body: { data: (await ctx.services.catalog.listPlans()).map(presentPlan) } }),
    }),
    route<z.infer<typeof S.PlanSpec>>({
      method: "PUT",
      path: "/v1/plans/:plan_id",
      summary: "Create or replace a plan (platform key).",
      tag: "Catalog",
      auth: "platform",
      body: S.PlanSpec,
      handler: async (ctx) => {
        const id = ctx.params["plan_id"] ?? "";
        if (!/^[a-z0-9_]{1,40}$/.test(id)) throw new HttpError(domainError("invalid_request", "plan_id: lowercase letters, digits and _ (at most 40)."));
        return ctx.reply(await ctx.services.admin.putPlan(toPlan(id, ctx.body)), presentPlan);
      },
    }),
    route({
      method: "GET",
      path: "/v1/price_books",
      summary: "List price books (versioned, effective-dated).",
      tag: "Catalog",
      auth: "authenticated",
      handler: async (ctx) => ({ status: 200, body: { data: await ctx.services.catalog.listPriceBookSpecs() } }),
    }),
    route<z.infer<typeof S.PriceBookSpec>>({
      method: "POST",
      path: "/v1/price_books",
      summary: "Publish a new price book version (platform key). Books are immutable.",
      tag: "Catalog",
      auth: "platform",
      body: S.PriceBookSpec,
      success: 201,
      handler: async (ctx) => {
        const spec = ctx.body as unknown as PriceBookSpecType;
        return ctx.reply(await ctx.services.admin.addPriceBook(spec, ctx.idempotency((v) => v, 201)), (v) => v, 201);
      },
    }),
    route({
      method: "GET",
      path: "/v1/ledger/verify",
      summary: "Check every ledger invariant (platform key).",
      tag: "Ledger",
      auth: "platform",
      handler: async (ctx) => {
        const r = await ctx.services.admin.verify();
        return { status: 200, body: { ok: r.violations.length === 0, transactions: r.transactions, violations: r.violations } };
      },
    }),

    // ------------------------------------------------------------ organizations
    route<z.infer<typeof S.CreateOrg>>({
      method: "POST",
      path: "/v1/organizations",
      summary: "Create an organization with its owner and the owner's API key (platform key).",
      tag: "Organizations",
      auth: "platform",
      body: S.CreateOrg,
      success: 201,
      handler: async (ctx) => {
        const b = ctx.body;
        const present = (v: { org: Parameters<typeof presentOrg>[0]; owner: Parameters<typeof presentMember>[0]; key: Parameters<typeof presentCreatedKey>[0] }) => ({
          ...presentOrg(v.org),
          owner: presentMember(v.owner),
          api_key: presentCreatedKey(v.key),
        });
        const out = await ctx.services.admin.createOrg(
          {
            name: b.name,
            planId: b.plan_id,
            usageCreditsEnabled: b.usage_credits_enabled,
            fastModeEnabled: b.fast_mode_enabled,
            fastModeFallback: b.fast_mode_fallback,
            owner: b.owner,
          },
          ctx.idempotency(present, 201),
        );
        return ctx.reply(out, present, 201);
      },
    }),
    route<undefined, z.infer<typeof S.ListQuery>>({
      method: "GET",
      path: "/v1/organizations",
      summary: "List organizations (platform key).",
      tag: "Organizations",
      auth: "platform",
      query: S.ListQuery,
      handler: async (ctx) => ({
        status: 200,
        body: { data: (await ctx.services.admin.read((tx) => tx.listOrgs(ctx.query.limit, ctx.query.offset))).map(presentOrg) },
      }),
    }),
    route({
      method: "GET",
      path: ORG,
      summary: "Get an organization.",
      tag: "Organizations",
      auth: "read",
      handler: async (ctx) => {
        const org = await ctx.services.admin.read((tx) => tx.getOrg(ctx.params["org_id"] ?? ""));
        if (!org) throw new HttpError(domainError("not_found", `No organization ${ctx.params["org_id"]}.`));
        return { status: 200, body: presentOrg(org) };
      },
    }),
    route<z.infer<typeof S.PatchOrg>>({
      method: "PATCH",
      path: ORG,
      summary: "Update name, plan and fast-mode settings.",
      tag: "Organizations",
      auth: "manage",
      body: S.PatchOrg,
      handler: async (ctx) => {
        const b = ctx.body;
        const out = await ctx.services.admin.updateOrg(ctx.params["org_id"] ?? "", {
          name: b.name,
          planId: b.plan_id,
          fastModeEnabled: b.fast_mode_enabled,
          fastModeFallback: b.fast_mode_fallback,
        });
        return ctx.reply(out, presentOrg);
      },
    }),
    route({
      method: "GET",
      path: `${ORG}/usage_credits`,
      summary: "The organization's usage credits: enabled, balance, monthly limit (null: none) and this month's spend.",
      tag: "Usage credits",
      auth: "read",
      handler: async (ctx) => ctx.reply(await ctx.services.admin.creditsStatus(ctx.params["org_id"] ?? ""), presentCreditsStatus),
    }),
    route<z.infer<typeof S.UsageCreditsToggle>>({
      method: "PUT",
      path: `${ORG}/usage_credits`,
      summary: "Enable or disable usage credits for the organization (billing rights).",
      tag: "Usage credits",
      auth: "billing",
      body: S.UsageCreditsToggle,
      handler: async (ctx) => {
        const out = await ctx.services.admin.updateOrg(ctx.params["org_id"] ?? "", { usageCreditsEnabled: ctx.body.is_enabled });
        return ctx.reply(out, (o) => ({ is_enabled: o.usageCreditsEnabled, organization: presentOrg(o) }));
      },
    }),

    // ------------------------------------------------------------ members, workspaces, keys
    route({
      method: "GET",
      path: `${ORG}/members`,
      summary: "List members.",
      tag: "Members",
      auth: "read",
      handler: async (ctx) => ({ status: 200, body: { data: (await ctx.services.admin.read((tx) => tx.listMembers(ctx.params["org_id"] ?? ""))).map(presentMember) } }),
    }),
    route<z.infer<typeof S.CreateMember>>({
      method: "POST",
      path: `${ORG}/members`,
      summary: "Add a member (role, seat tier, workspace).",
      tag: "Members",
      auth: "manage",
      body: S.CreateMember,
      success: 201,
      handler: async (ctx) => {
        const b = ctx.body;
        const out = await ctx.services.admin.createMember(
          ctx.params["org_id"] ?? "",
          { email: b.email, name: b.name, role: b.role as Role, seatTier: b.seat_tier as SeatTier, workspaceId: b.workspace_id, usageCreditsEnabled: b.usage_credits_enabled, fastModeEnabled: b.fast_mode_enabled },
          ctx.idempotency(presentMember, 201),
        );
        return ctx.reply(out, presentMember, 201);
      },
    }),
    route({
      method: "GET",
      path: `${ORG}/members/:member_id`,
      summary: "Get a member.",
      tag: "Members",
      auth: "read",
      handler: async (ctx) => {
        const m = await ctx.services.admin.read((tx) => tx.getMember(ctx.params["member_id"] ?? ""));
        if (!m || m.orgId !== ctx.params["org_id"]) throw new HttpError(domainError("not_found", `No member ${ctx.params["member_id"]}.`));
        return { status: 200, body: presentMember(m) };
      },
    }),
    route<z.infer<typeof S.PatchMember>>({
      method: "PATCH",
      path: `${ORG}/members/:member_id`,
      summary: "Change a member's role, seat tier, workspace or usage-credits access.",
      tag: "Members",
      auth: "manage",
      body: S.PatchMember,
      handler: async (ctx) => {
        const b = ctx.body;
        const out = await ctx.services.admin.updateMember(ctx.params["org_id"] ?? "", ctx.params["member_id"] ?? "", {
          name: b.name,
          role: b.role as Role | undefined,
          seatTier: b.seat_tier as SeatTier | undefined,
          workspaceId: b.workspace_id,
          usageCreditsEnabled: b.usage_credits_enabled,
          fastModeEnabled: b.fast_mode_enabled,
        });
        return ctx.reply(out, presentMember);
      },
    }),
    route({
      method: "GET",
      path: `${ORG}/workspaces`,
      summary: "List workspaces.",
      tag: "Members",
      auth: "read",
      handler: async (ctx) => ({ status: 200, body: { data: (await ctx.services.admin.read((tx) => tx.listWorkspaces(ctx.params["org_id"] ?? ""))).map(presentWorkspace) } }),
    }),
    route<z.infer<typeof S.CreateWorkspace>>({
      method: "POST",
      path: `${ORG}/workspaces`,
      summary: "Create a workspace.",
      tag: "Members",
      auth: "manage",
      body: S.CreateWorkspace,
      success: 201,
      handler: async (ctx) => ctx.reply(await ctx.services.admin.createWorkspace(ctx.params["org_id"] ?? "", ctx.body.name, ctx.idempotency(presentWorkspace, 201)), presentWorkspace, 201),
    }),
    route({
      method: "GET",
      path: `${ORG}/api_keys`,
      summary: "List API keys (never their secrets).",
      tag: "API keys",
      auth: "manage",
      handler: async (ctx) => ({ status: 200, body: { data: (await ctx.services.admin.read((tx) => tx.listApiKeys(ctx.params["org_id"] ?? ""))).map(presentKey) } }),
    }),
    route<z.infer<typeof S.CreateApiKey>>({
      method: "POST",
      path: `${ORG}/api_keys`,
      summary: "Create an API key for a member; the secret is shown once.",
      tag: "API keys",
      auth: "manage",
      body: S.CreateApiKey,
      success: 201,
      handler: async (ctx) => {
        const p = ctx.principal;
        const memberId = ctx.body.member_id ?? (p.kind === "member" ? p.memberId : undefined);
        if (!memberId) throw new HttpError(domainError("invalid_request", "member_id is required with a platform key.", { field: "member_id" }));
        const out = await ctx.services.admin.createApiKey(
          ctx.params["org_id"] ?? "",
          { memberId, name: ctx.body.name, surface: ctx.body.surface as Surface },
          ctx.idempotency(presentCreatedKey, 201),
        );
        return ctx.reply(out, presentCreatedKey, 201);
      },
    }),
    route({
      method: "POST",
      path: `${ORG}/api_keys/:key_id/revoke`,
      summary: "Revoke an API key at once.",
      tag: "API keys",
      auth: "manage",
      handler: async (ctx) => ctx.reply(await ctx.services.admin.revokeApiKey(ctx.params["org_id"] ?? "", ctx.params["key_id"] ?? ""), presentKey),
    }),

    // ------------------------------------------------------------ grants and limits
    route({
      method: "GET",
      path: `${ORG}/grants`,
      summary: "List usage-credit grants with their remaining balance.",
      tag: "Usage credits",
      auth: "read",
      handler: async (ctx) => ({ status: 200, body: { data: (await ctx.services.admin.read((tx) => tx.listGrants(ctx.params["org_id"] ?? ""))).map(presentGrant) } }),
    }),
    route<z.infer<typeof S.CreateGrant>>({
      method: "POST",
      path: `${ORG}/grants`,
      summary: "Grant usage credits (platform key): promotional, adjustment, migrated, monthly or purchase.",
      tag: "Usage credits",
      auth: "platform",
      body: S.CreateGrant,
      success: 201,
      handler: async (ctx) => {
        const b = ctx.body;
        const kind = b.kind as GrantKind;
        const out = await ctx.services.engine.createGrant(
          {
            orgId: ctx.params["org_id"] ?? "",
            kind,
            amount: Number(b.amount),
            priority: b.priority ?? (kind === "monthly" ? 0 : 5),
            expiresAt: iso(b.expires_at),
            surfaces: b.surfaces as Surface[] | null,
            memberId: b.member_id,
            description: b.description,
          },
          ctx.idempotency(presentGrant, 201),
        );
        return ctx.reply(out, presentGrant, 201);
      },
    }),
    route({
      method: "POST",
      path: `${ORG}/grants/:grant_id/void`,
      summary: "Void one grant: its remaining balance returns to its source (platform key). `?reason=` is kept in the audit log.",
      tag: "Usage credits",
      auth: "platform",
      query: VoidQuery,
      handler: async (ctx) =>
        ctx.reply(await ctx.services.engine.voidGrant(ctx.params["org_id"] ?? "", ctx.params["grant_id"] ?? "", ctx.idempotency(presentGrant), (ctx.query as z.infer<typeof VoidQuery>).reason), presentGrant),
    }),
    route({
      method: "GET",
      path: `${ORG}/spend_limits`,
      summary: "List spending limits.",
      tag: "Spending limits",
      auth: "read",
      handler: async (ctx) => ({ status: 200, body: { data: (await ctx.services.admin.read((tx) => tx.listLimits(ctx.params["org_id"] ?? ""))).map(presentLimit) } }),
    }),
    route<z.infer<typeof S.SetLimit>>({
      method: "POST",
      path: `${ORG}/spend_limits`,
      summary: "Set the spending limit of a scope and period (replaces the existing one). amount null = unlimited; stop_usage false = an alert-only budget.",
      tag: "Spending limits",
      auth: "billing",
      body: S.SetLimit,
      handler: async (ctx) => {
        const b = ctx.body;
        const scope = (b.scope === "user" ? "member" : b.scope) as LimitScope;
        const out = await ctx.services.admin.setLimit(
          ctx.params["org_id"] ?? "",
          { scope, scopeId: b.scope_id, period: b.period as LimitPeriod, amount: b.amount === null ? null : Number(b.amount), stopUsage: b.stop_usage },
          ctx.idempotency(presentLimit),
        );
        return ctx.reply(out, presentLimit);
      },
    }),
    route({
      method: "DELETE",
      path: `${ORG}/spend_limits/:limit_id`,
      summary: "Remove a spending limit.",
      tag: "Spending limits",
      auth: "billing",
      handler: async (ctx) => ctx.reply(await ctx.services.admin.deleteLimit(ctx.params["org_id"] ?? "", ctx.params["limit_id"] ?? ""), presentLimit),
    }),

    // ------------------------------------------------------------ metering
    route<z.infer<typeof S.Authorize>>({
      method: "POST",
      path: `${ORG}/authorize`,
      summary: "Reserve the worst-case cost of a request: from the plan windows or from usage credits within every spending limit.",
      tag: "Metering",
      auth: "meter",
      body: S.Authorize,
      success: 201,
      handler: async (ctx) => {
        const b = ctx.body;
        const who = meteredMember(ctx as Ctx<unknown, unknown>, b.member_id, b.surface);
        const out = await ctx.services.engine.authorize(
          {
            orgId: ctx.params["org_id"] ?? "",
            memberId: who.memberId,
            surface: who.surface,
            model: b.model,
            speed: b.speed as Speed,
            estimate: {
              ...(b.estimated_usage ? { usage: toUsage(b.estimated_usage) } : {}),
              ...(b.amount !== undefined ? { amount: Number(b.amount) } : {}),
              batch: b.batch,
              dataResidency: b.data_residency,
            },
            ...(b.ttl_seconds ? { ttlMs: b.ttl_seconds * 1000 } : {}),
            metadata: b.metadata,
          },
          ctx.idempotency(presentAuthorized, 201),
        );
        return ctx.reply(out, presentAuthorized, 201);
      },
    }),
    route({
      method: "GET",
      path: `${ORG}/holds/:hold_id`,
      summary: "Get a hold.",
      tag: "Metering",
      auth: "read",
      handler: async (ctx) => {
        const h = await ctx.services.admin.read((tx) => tx.getHold(ctx.params["hold_id"] ?? ""));
        const own = ownHoldsOnly(ctx.principal);
        if (!h || h.orgId !== ctx.params["org_id"] || (own !== undefined && h.memberId !== own)) throw new HttpError(domainError("not_found", `No hold ${ctx.params["hold_id"]}.`));
        return { status: 200, body: presentHold(h) };
      },
    }),
    route<z.infer<typeof S.Settle>>({
      method: "POST",
      path: `${ORG}/holds/:hold_id/settle`,
      summary: "Charge the actual usage of a hold and release the rest. A hold resolves once.",
      tag: "Metering",
      auth: "meter",
      body: S.Settle,
      handler: async (ctx) => {
        const b = ctx.body;
        const out = await ctx.services.engine.settle(
          ctx.params["org_id"] ?? "",
          ctx.params["hold_id"] ?? "",
          { ...(b.usage ? { usage: toUsage(b.usage) } : {}), ...(b.amount !== undefined ? { amount: Number(b.amount) } : {}), batch: b.batch, dataResidency: b.data_residency },
          ctx.idempotency(presentSettled),
          holdActor(ctx.principal),
        );
        return ctx.reply(out, presentSettled);
      },
    }),
    route({
      method: "POST",
      path: `${ORG}/holds/:hold_id/release`,
      summary: "Release a hold without charging (the request failed or was not made).",
      tag: "Metering",
      auth: "meter",
      handler: async (ctx) =>
        ctx.reply(await ctx.services.engine.release(ctx.params["org_id"] ?? "", ctx.params["hold_id"] ?? "", ctx.idempotency(presentAuthorized), holdActor(ctx.principal)), presentAuthorized),
    }),
    route<z.infer<typeof S.UsageEvent>>({
      method: "POST",
      path: `${ORG}/usage_events`,
      summary: "Report usage after the fact: admitted and charged in one step (or refused, charging nothing). Idempotent by event_id.",
      tag: "Metering",
      auth: "meter",
      body: S.UsageEvent,
      success: 201,
      handler: async (ctx) => {
        const b = ctx.body;
        const who = meteredMember(ctx as Ctx<unknown, unknown>, b.member_id, b.surface);
        const orgId = ctx.params["org_id"] ?? "";
        // Who asked is part of the request: another key reusing an event id never gets this answer.
        const caller = idempotencyCaller(ctx.principal);
        const requestHash = JSON.stringify({ caller, body: b });
        const out = await ctx.services.engine.recordUsage(
          {
            orgId,
            memberId: who.memberId,
            surface: who.surface,
            model: b.model,
            speed: b.speed as Speed,
            cost: {
              ...(b.usage ? { usage: toUsage(b.usage) } : {}),
              ...(b.amount !== undefined ? { amount: Number(b.amount) } : {}),
              batch: b.batch,
              dataResidency: b.data_residency,
            },
            metadata: { ...b.metadata, event_id: b.event_id },
          },
          // The event id is the idempotency key, scoped to the organization and the caller (key or session).
          {
            scope: `usage_event:${orgId}:${caller}`,
            key: b.event_id,
            requestHash,
            render: (r) => {
              if (r.ok) return { status: 201, body: JSON.stringify({ event_id: b.event_id, ...presentSettled(r.value) }) };
              const e = errorReply(r.error, ctx.requestId, ctx.services.clock.now());
              return { status: e.status, body: JSON.stringify(e.body) };
            },
          },
        );
        return ctx.reply(out, (v) => ({ event_id: b.event_id, ...presentSettled(v) }), 201);
      },
    }),

    // ------------------------------------------------------------ reporting
    route<undefined, z.infer<typeof S.SummaryQuery>>({
      method: "GET",
      path: `${ORG}/usage_summary`,
      summary: "Windows (five_hour, seven_day, seven_day_<family>) with utilization and resets_at, plus the usage-credits block.",
      tag: "Reporting",
      auth: "read",
      query: S.SummaryQuery,
      handler: async (ctx) => {
        const p = ctx.principal;
        const memberId = ctx.query.member_id ?? (p.kind === "member" ? p.memberId : undefined);
        if (!memberId) throw new HttpError(domainError("invalid_request", "member_id is required with a platform key.", { field: "member_id" }));
        return ctx.reply(await ctx.services.admin.usageSummary(ctx.params["org_id"] ?? "", memberId), presentSummary);
      },
    }),
    route<undefined, z.infer<typeof S.UsageQuery>>({
      method: "GET",
      path: `${ORG}/usage`,
      summary: "Settled usage records in a time range (default: the last 30 days).",
      tag: "Reporting",
      auth: "read",
      query: S.UsageQuery,
      handler: async (ctx) => {
        const now = ctx.services.clock.now();
        const to = iso(ctx.query.to) ?? now + 1;
        const from = iso(ctx.query.from) ?? to - 30 * 86_400_000;
        const rows = await ctx.services.admin.usageRecords(ctx.params["org_id"] ?? "", from, to, ctx.query.member_id);
        const total = rows.reduce((t, r) => t + r.cost, 0);
        const credits = rows.reduce((t, r) => t + r.creditCost, 0);
        const own = ownHoldsOnly(ctx.principal);
        const shown = rows.map((r) => ({ ...presentUsage(r), ...(own !== undefined && r.memberId !== own ? { hold_id: null } : {}) }));
        return { status: 200, body: { data: shown, total_cost: String(total), total_credit_cost: String(credits), ...MONEY_FORMAT } };
      },
    }),
    route<undefined, z.infer<typeof S.TransactionsQuery>>({
      method: "GET",
      path: `${ORG}/transactions`,
      summary: "The organization's ledger transactions, newest first (each sums to zero).",
      tag: "Ledger",
      auth: "read",
      query: S.TransactionsQuery,
      handler: async (ctx) => {
        const txs = await ctx.services.admin.transactions(ctx.params["org_id"] ?? "", ctx.query.limit, parseCursor(ctx.query.before), ctx.query.kind, ownHoldsOnly(ctx.principal));
        const last = txs[txs.length - 1];
        return {
          status: 200,
          body: { data: txs.map(presentTransaction), next_cursor: txs.length === ctx.query.limit && last ? cursor(last.at, last.id) : null },
        };
      },
    }),
    ...moneyRoutes(),
    ...sdkCreditRoutes(),
    ...statementRoutes(),
    ...labRoutes(),
    ...receiptRoutes(),
    ...operatorRoutes(),
    ...webhookRoutes(),
    ...auditRoutes(),
    ...operatorKeyRoutes(),
    ...dashboardRoutes(),
    ...extra,
  ];
  routes.push(...aliasRoutes(routes));
  const openapi = buildOpenApi(routes);
  return routes;
}
