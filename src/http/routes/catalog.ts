// The catalog: plans and price books (platform keys write them), and the ledger's own check.

import type { z } from "zod";
import { domainError } from "../../core/errors.js";
import type { PlanDef, SeatDef } from "../../core/plans.js";
import type { PriceBookSpec as PriceBookSpecType } from "../../core/price-book.js";
import { presentPlan } from "../../presenters/core.js";
import * as S from "../../schemas/requests.js";
import { planFromSpec as toPlan } from "../../schemas/requests.js";
import { HttpError } from "../server.js";
import { typed } from "./define.js";

export const listPlans = typed({
  method: "GET",
  path: "/v1/plans",
  summary: "List plans with their windows and quotas.",
  tag: "Catalog",
  auth: "authenticated",
  handler: async (ctx) => ctx.ok({ data: (await ctx.services.catalog.listPlans()).map(presentPlan) }),
});

export const putPlan = typed({
  method: "PUT",
  path: "/v1/plans/:plan_id",
  summary: "Create or replace a plan (platform key).",
  tag: "Catalog",
  auth: "platform",
  body: S.PlanSpec,
  handler: async (ctx) => {
    const id = ctx.params.plan_id;
    if (!/^[a-z0-9_]{1,40}$/.test(id)) throw new HttpError(domainError("invalid_request", "plan_id: lowercase letters, digits and _ (at most 40)."));
    return ctx.reply(await ctx.services.admin.putPlan(toPlan(id, ctx.body)), presentPlan);
  },
});

export const listPriceBooks = typed({
  method: "GET",
  path: "/v1/price_books",
  summary: "List price books (versioned, effective-dated).",
  tag: "Catalog",
  auth: "authenticated",
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
  handler: async (ctx) => {
    const r = await ctx.services.admin.verify();
    return ctx.ok({ ok: r.violations.length === 0, transactions: r.transactions, violations: r.violations });
  },
});

export const catalogRoutes = [listPlans, putPlan, listPriceBooks, publishPriceBook, verifyLedger];
