// The catalog: plans and price books (platform keys write them), and the ledger's own check.

import type { z } from "zod";
import { domainError } from "../../core/errors.js";
import { versionInForce, type PlanDef, type PlanVersion, type SeatDef } from "../../core/plans.js";
import { parseInstant, type PriceBookSpec as PriceBookSpecType } from "../../core/price-book.js";
import { presentListedPlanVersion, presentPlan, presentPlanVersion } from "../../presenters/core.js";
import * as S from "../../schemas/requests.js";
import * as R from "../../schemas/responses.js";
import { planFromSpec as toPlan } from "../../schemas/requests.js";
import { HttpError } from "../server.js";
import { typed } from "./define.js";

/** A price book is answered in the very form it was published (POST /v1/price_books). */
const PriceBook = S.PriceBookSpec;

export const listPlans = typed({
  method: "GET",
  path: "/v1/plans",
  summary: "List plans with their windows and quotas.",
  tag: "Catalog",
  auth: "authenticated",
  response: R.list(R.Plan),
  handler: async (ctx) => ctx.ok({ data: (await ctx.services.catalog.listPlans()).map(presentPlan) }),
});

export const putPlan = typed({
  method: "PUT",
  path: "/v1/plans/:plan_id",
  summary: "Create a plan, or add a version of it effective now (platform key); see POST /v1/plans/:plan_id/versions for a later time.",
  tag: "Catalog",
  auth: "platform",
  body: S.PlanSpec,
  response: R.Plan,
  handler: async (ctx) => {
    const id = ctx.params.plan_id;
    if (!/^[a-z0-9_]{1,40}$/.test(id)) throw new HttpError(domainError("invalid_request", "plan_id: lowercase letters, digits and _ (at most 40)."));
    return ctx.reply(await ctx.services.admin.putPlan(toPlan(id, ctx.body), ctx.principal.keyId), presentPlan);
  },
});

export const listPlanVersions = typed({
  method: "GET",
  path: "/v1/plans/:plan_id/versions",
  summary: "A plan's versions, oldest first, each with its effective time and status (current, scheduled or past).",
  tag: "Catalog",
  auth: "authenticated",
  response: R.PlanVersions,
  handler: async (ctx) => {
    const id = ctx.params.plan_id;
    const versions = await ctx.services.catalog.planVersions(id);
    if (versions.length === 0) throw new HttpError(domainError("not_found", `No plan ${id}.`));
    const now = ctx.services.clock.now();
    const current = versionInForce(versions, now);
    return ctx.ok({ data: versions.map((v) => presentListedPlanVersion(v, current, now)), server_time: new Date(now).toISOString() });
  },
});

export const addPlanVersion = typed({
  method: "POST",
  path: "/v1/plans/:plan_id/versions",
  summary:
    "Add a version of a plan (platform key), effective at `effective_at` (now or later; default now). A window already running keeps its quota until it resets; the new quotas apply from each member's next window.",
  tag: "Catalog",
  auth: "platform",
  body: S.PlanVersionSpec,
  success: 201,
  response: R.PlanVersion,
  handler: async (ctx) => {
    const { effective_at, ...spec } = ctx.body;
    const present = (v: PlanVersion) => presentPlanVersion(v);
    const at = effective_at === undefined ? null : parseInstant(effective_at);
    return ctx.reply(await ctx.services.admin.addPlanVersion(toPlan(ctx.params.plan_id, spec), at, ctx.principal.keyId, ctx.idempotency(present)), present);
  },
});

export const listPriceBooks = typed({
  method: "GET",
  path: "/v1/price_books",
  summary: "List price books (versioned, effective-dated).",
  tag: "Catalog",
  auth: "authenticated",
  response: R.list(PriceBook),
  handler: async (ctx) => ctx.ok({ data: await ctx.services.catalog.listPriceBookSpecs() }),
});

export const publishPriceBook = typed({
  method: "POST",
  path: "/v1/price_books",
  summary: "Publish a new price book version (platform key). Books are immutable.",
  tag: "Catalog",
  auth: "platform",
  body: S.PriceBookSpec,
  success: 201,
  response: PriceBook,
  handler: async (ctx) => {
    const spec = ctx.body as unknown as PriceBookSpecType;
    return ctx.reply(await ctx.services.admin.addPriceBook(spec, ctx.idempotency((v) => v)), (v) => v);
  },
});

export const verifyLedger = typed({
  method: "GET",
  path: "/v1/ledger/verify",
  summary: "Check every ledger invariant (platform key).",
  tag: "Ledger",
  auth: "platform",
  response: R.LedgerCheck,
  handler: async (ctx) => {
    const r = await ctx.services.admin.verify();
    return ctx.ok({ ok: r.violations.length === 0, transactions: r.transactions, violations: r.violations });
  },
});

export const catalogRoutes = [listPlans, putPlan, listPlanVersions, addPlanVersion, listPriceBooks, publishPriceBook, verifyLedger];
