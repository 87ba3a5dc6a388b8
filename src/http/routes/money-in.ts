// Money-in routes (add funds, payment methods, credit requests, auto-reload, the events outbox),
// with their request schemas and presenters. Registered by one line in routes.ts; the OpenAPI
// document is generated from these schemas like every other route's.

import { z } from "zod";
import { allows } from "../../app/auth.js";
import type { MoneyIn } from "../../app/money-in/index.js";
import type { Idempotency } from "../../app/batcher.js";
import { domainError, type Result } from "../../core/errors.js";
import type { Payment, ReloadMode } from "../../core/money-in-model.js";
import { MONEY_FORMAT } from "../../presenters/core.js";
import { Id, Micros } from "../../schemas/requests.js";
import { HttpError, type AnyRoute, type Reply } from "../server.js";
import { cursor, parseCursor } from "../paging.js";
import { AUTO_RELOAD_OFF, presentAttempt, presentAutoReload, presentBundle, presentCreditRequest, presentEvent, presentPayment, presentPaymentMethod } from "../../presenters/money-in.js";
import { ORG, typed, type CallCtx } from "./define.js";
import * as R from "../../schemas/responses.js";


// ------------------------------------------------------------------ schemas

const exactlyOne = (a: string, b: string) => (v: Record<string, unknown>) => (v[a] === undefined) !== (v[b] === undefined);

export const CreatePaymentMethod = z
  .strictObject({
    card_number: z.string().min(12).max(23).regex(/^[\d -]+$/, "digits only").optional().describe("Sandbox: one of the test card numbers (docs/money-in.md). Stored only as brand, last 4 digits and the provider's token."),
    token: z.string().min(3).max(200).optional().describe("A provider token obtained client-side, instead of card_number."),
  })
  .refine(exactlyOne("card_number", "token"), "give exactly one of card_number or token");

export const CreatePurchase = z
  .strictObject({
    amount: Micros.optional().describe("A custom amount in micro-dollars: whole cents (a multiple of 10000), within the configured minimum and maximum."),
    bundle_id: z.string().min(1).max(64).optional().describe("A bundle from GET /v1/bundles: its face value is granted, its discounted price charged."),
    payment_method_id: Id,
    confirm: z.boolean().default(false).describe("Required true when the charge is above the confirmation threshold ($1,000 by default)."),
  })
  .refine(exactlyOne("amount", "bundle_id"), "give exactly one of amount or bundle_id");

export const CreateCreditRequest = z.strictObject({
  amount: Micros.describe("Micro-dollars requested; whole cents within the purchase limits."),
  note: z.string().max(1000).default(""),
  member_id: Id.optional().describe("Only with a platform key: the requesting member."),
});

export const ApproveCreditRequest = z.strictObject({
  payment_method_id: Id,
  confirm: z.boolean().default(false),
});

export const PutAutoReload = z.strictObject({
  enabled: z.boolean(),
  threshold: Micros.describe("Reload when balance + pending reloads is at or below this."),
  mode: z.enum(["amount", "target"]).default("amount").describe('"amount": buy `amount` (or the multiple of it that lifts the balance above the threshold); "target": top up to `target_balance`.'),
  amount: Micros.nullable().default(null),
  target_balance: Micros.nullable().default(null),
  payment_method_id: Id.nullable().default(null),
  monthly_cap: Micros.nullable().default(null).describe("Most auto-reload may charge per UTC month; null = no cap."),
});

const ListLimit = z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(100) });
const EventsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.string().max(120).optional().describe("The `next_cursor` of the previous page."),
});

// ------------------------------------------------------------------ helpers

const actorOf = (ctx: CallCtx): string | null => (ctx.principal.kind === "member" ? ctx.principal.memberId : null);

/** Payments answer 201 when succeeded, 202 while pending; a failed charge is the 402 payment_failed error. */
function paymentIdempotency(ctx: CallCtx): Idempotency<Payment> | undefined {
  const base = ctx.idempotency<Payment>(presentPayment);
  if (!base) return undefined;
  return {
    ...base,
    render: (r: Result<Payment>) => (r.ok && r.value.status === "pending" ? { status: 202, body: JSON.stringify(presentPayment(r.value)) } : base.render(r)),
  };
}

function replyPayment(ctx: CallCtx, out: Awaited<ReturnType<MoneyIn["purchase"]>>): Reply {
  if (out.kind === "fresh" && out.result.ok && out.result.value.status === "pending") return { status: 202, body: presentPayment(out.result.value) };
  return ctx.reply(out, presentPayment);
}


// ------------------------------------------------------------------ routes

const getBundles = typed({
  method: "GET",
  path: "/v1/bundles",
  summary: "Credit bundles (face value granted, discounted price charged) and the purchase limits.",
  tag: "Money in",
  auth: "authenticated",
  response: R.Bundles,
  handler: async (ctx) => {
    const r = ctx.services.moneyIn.options.purchases;
    return ctx.ok({
      data: r.bundles.map(presentBundle),
      minimum_amount: String(r.minAmount),
      maximum_amount: String(r.maxAmount),
      confirm_above: String(r.confirmAbove),
      daily_purchase_cap: String(r.dailyCap),
      credits_expire_after_days: Math.round(r.expiryMs / 86_400_000),
      ...MONEY_FORMAT,
    });
  },
});

// ---------------------------------------------------------------- payment methods
const postPaymentMethods = typed({
  method: "POST",
  path: `${ORG}/payment_methods`,
  summary: "Save a payment method (billing rights). Only brand, last 4 digits and the provider's token are stored.",
  tag: "Money in",
  auth: "billing",
  response: R.PaymentMethod,
  body: CreatePaymentMethod,
  success: 201,
  handler: async (ctx) => {
    const b = ctx.body;
    const card = b.card_number !== undefined ? { cardNumber: b.card_number } : b.token !== undefined ? { token: b.token } : {};
    return ctx.reply(await ctx.services.moneyIn.addPaymentMethod(ctx.params.org_id, card, ctx.idempotency(presentPaymentMethod)), presentPaymentMethod);
  },
});

const getPaymentMethods = typed({
  method: "GET",
  path: `${ORG}/payment_methods`,
  summary: "List saved payment methods (billing rights).",
  tag: "Money in",
  auth: "billing",
  response: R.list(R.PaymentMethod),
  handler: async (ctx) => ctx.ok({ data: (await ctx.services.moneyIn.listPaymentMethods(ctx.params.org_id)).map(presentPaymentMethod) }),
});

const deletePaymentMethodsPaymentMethod = typed({
  method: "DELETE",
  path: `${ORG}/payment_methods/:payment_method_id`,
  summary: "Remove a saved payment method (auto-reload using it stops with missing_payment_method).",
  tag: "Money in",
  auth: "billing",
  response: R.PaymentMethod,
  handler: async (ctx) => ctx.reply(await ctx.services.moneyIn.removePaymentMethod(ctx.params.org_id, ctx.params.payment_method_id), presentPaymentMethod),
});

// ---------------------------------------------------------------- purchases
const postPurchases = typed({
  method: "POST",
  path: `${ORG}/purchases`,
  summary:
    "Add funds (billing rights): a custom amount or a bundle, charged to a saved payment method. 201 succeeded (one purchase grant, expiring after a year), 202 pending, 402 payment_failed. Non-refundable.",
  tag: "Money in",
  auth: "billing",
  response: R.Payment,
  body: CreatePurchase,
  success: 201,
  handler: async (ctx) => {
    const b = ctx.body;
    const out = await ctx.services.moneyIn.purchase(
      {
        orgId: ctx.params.org_id,
        actor: actorOf(ctx),
        ...(b.amount !== undefined ? { amount: Number(b.amount) } : {}),
        ...(b.bundle_id !== undefined ? { bundleId: b.bundle_id } : {}),
        paymentMethodId: b.payment_method_id,
        confirm: b.confirm,
      },
      paymentIdempotency(ctx),
    );
    return replyPayment(ctx, out);
  },
});

const getPurchases = typed({
  method: "GET",
  path: `${ORG}/purchases`,
  summary: "Payments of the organization, newest first: purchases, approved credit requests and auto-reloads (billing rights).",
  tag: "Money in",
  auth: "billing",
  response: R.list(R.Payment),
  query: ListLimit,
  handler: async (ctx) => ctx.ok({ data: (await ctx.services.moneyIn.listPayments(ctx.params.org_id, ctx.query.limit)).map(presentPayment) }),
});

const getPurchasesPayment = typed({
  method: "GET",
  path: `${ORG}/purchases/:payment_id`,
  summary: "One payment (billing rights).",
  tag: "Money in",
  auth: "billing",
  response: R.Payment,
  handler: async (ctx) => {
    const p = await ctx.services.moneyIn.getPayment(ctx.params.org_id, ctx.params.payment_id);
    if (!p) throw new HttpError(domainError("not_found", `No payment ${ctx.params.payment_id}.`));
    return ctx.ok(presentPayment(p));
  },
});

// ---------------------------------------------------------------- credit requests
const postCreditRequests = typed({
  method: "POST",
  path: `${ORG}/credit_requests`,
  summary: "Ask an admin for credits (any member; members without billing rights cannot buy).",
  tag: "Money in",
  auth: "read",
  response: R.CreditRequest,
  body: CreateCreditRequest,
  success: 201,
  handler: async (ctx) => {
    const p = ctx.principal;
    const memberId = p.kind === "member" ? p.memberId : ctx.body.member_id;
    if (!memberId) throw new HttpError(domainError("invalid_request", "member_id is required with a platform key.", { field: "member_id" }));
    if (p.kind === "member" && ctx.body.member_id !== undefined && ctx.body.member_id !== p.memberId) {
      throw new HttpError(domainError("forbidden", "A member requests credits for themself.", { field: "member_id" }));
    }
    const out = await ctx.services.moneyIn.requestCredits(ctx.params.org_id, memberId, Number(ctx.body.amount), ctx.body.note, ctx.idempotency(presentCreditRequest));
    return ctx.reply(out, presentCreditRequest);
  },
});

const getCreditRequests = typed({
  method: "GET",
  path: `${ORG}/credit_requests`,
  summary: "List credit requests, newest first (owner or admin).",
  tag: "Money in",
  auth: "manage",
  response: R.list(R.CreditRequest),
  handler: async (ctx) => ctx.ok({ data: (await ctx.services.moneyIn.listCreditRequests(ctx.params.org_id)).map(presentCreditRequest) }),
});

const getMembersMemberCreditRequests = typed({
  method: "GET",
  path: `${ORG}/members/:member_id/credit_requests`,
  summary: "One member's own credit requests, newest first: the member themselves, or an owner or admin.",
  tag: "Money in",
  auth: "read",
  response: R.list(R.CreditRequest),
  handler: async (ctx) => {
    const memberId = ctx.params.member_id;
    const p = ctx.principal;
    if (p.kind === "member" && p.memberId !== memberId && !allows(p, ctx.params.org_id, "manage")) {
      throw new HttpError(domainError("forbidden", "Only the member themselves, an owner or an admin may list a member's credit requests."));
    }
    const member = await ctx.services.admin.getMember(ctx.params.org_id, memberId);
    if (!member.ok) throw new HttpError(member.error);
    const all = await ctx.services.moneyIn.listCreditRequests(ctx.params.org_id);
    return ctx.ok({ data: all.filter((r) => r.memberId === memberId).map(presentCreditRequest) });
  },
});

const postCreditRequestsCreditRequestApprove = typed({
  method: "POST",
  path: `${ORG}/credit_requests/:credit_request_id/approve`,
  summary: "Approve a credit request: buys the requested amount with the given payment method, under the purchase rules (owner or admin).",
  tag: "Money in",
  auth: "manage",
  response: R.Payment,
  body: ApproveCreditRequest,
  success: 201,
  handler: async (ctx) => {
    const out = await ctx.services.moneyIn.approveCreditRequest(
      ctx.params.org_id,
      ctx.params.credit_request_id,
      { actor: actorOf(ctx), paymentMethodId: ctx.body.payment_method_id, confirm: ctx.body.confirm },
      paymentIdempotency(ctx),
    );
    return replyPayment(ctx, out);
  },
});

const postCreditRequestsCreditRequestDecline = typed({
  method: "POST",
  path: `${ORG}/credit_requests/:credit_request_id/decline`,
  summary: "Decline a credit request (owner or admin).",
  tag: "Money in",
  auth: "manage",
  response: R.CreditRequest,
  handler: async (ctx) =>
    ctx.reply(await ctx.services.moneyIn.declineCreditRequest(ctx.params.org_id, ctx.params.credit_request_id, actorOf(ctx), ""), presentCreditRequest),
});

// ---------------------------------------------------------------- auto-reload
const getAutoReload = typed({
  method: "GET",
  path: `${ORG}/auto_reload`,
  summary: "Auto-reload settings and circuit-breaker state (active, disabled or suspended).",
  tag: "Money in",
  auth: "read",
  response: R.AutoReload,
  handler: async (ctx) => {
    const s = await ctx.services.moneyIn.getAutoReload(ctx.params.org_id);
    return ctx.ok(s ? presentAutoReload(s) : AUTO_RELOAD_OFF);
  },
});

const putAutoReload = typed({
  method: "PUT",
  path: `${ORG}/auto_reload`,
  summary: "Set auto-reload (billing rights). A different payment_method_id lifts a suspension and resets the failure count.",
  tag: "Money in",
  auth: "billing",
  response: R.AutoReload,
  body: PutAutoReload,
  handler: async (ctx) => {
    const b = ctx.body;
    const out = await ctx.services.moneyIn.setAutoReload(ctx.params.org_id, {
      enabled: b.enabled,
      threshold: Number(b.threshold),
      mode: b.mode as ReloadMode,
      amount: b.amount === null ? null : Number(b.amount),
      targetBalance: b.target_balance === null ? null : Number(b.target_balance),
      paymentMethodId: b.payment_method_id,
      monthlyCap: b.monthly_cap === null ? null : Number(b.monthly_cap),
    });
    return ctx.reply(out, presentAutoReload);
  },
});

const getAutoReloadAttempts = typed({
  method: "GET",
  path: `${ORG}/auto_reload/attempts`,
  summary: "Auto-reload attempts, newest first, each with its outcome and reason (charge_failed, cap_reached, suspended_after_failures, missing_payment_method).",
  tag: "Money in",
  auth: "read",
  response: R.list(R.Attempt),
  query: ListLimit,
  handler: async (ctx) => ctx.ok({ data: (await ctx.services.moneyIn.listReloadAttempts(ctx.params.org_id, ctx.query.limit)).map(presentAttempt) }),
});

// ---------------------------------------------------------------- events
const getEvents = typed({
  method: "GET",
  path: `${ORG}/events`,
  summary: "The organization's events outbox, newest first (every event type; webhooks deliver them).",
  tag: "Money in",
  auth: "read",
  query: EventsQuery,
  response: R.page(R.Event),
  handler: async (ctx) => {
    const rows = await ctx.services.moneyIn.listEvents(ctx.params.org_id, ctx.query.limit, parseCursor(ctx.query.before));
    const last = rows[rows.length - 1];
    return ctx.ok({ data: rows.map(presentEvent), next_cursor: rows.length === ctx.query.limit && last ? cursor(last.createdAt, last.id) : null });
  },
});

export function moneyRoutes(): AnyRoute[] {
  return [getBundles, postPaymentMethods, getPaymentMethods, deletePaymentMethodsPaymentMethod, postPurchases, getPurchases, getPurchasesPayment, postCreditRequests, getCreditRequests, getMembersMemberCreditRequests, postCreditRequestsCreditRequestApprove, postCreditRequestsCreditRequestDecline, getAutoReload, putAutoReload, getAutoReloadAttempts, getEvents];
}


// ------------------------------------------------------------------ provider webhooks

/** What the webhook route needs from a provider's inbound adapter (src/adapters/payments/stripe-webhooks.ts). */
export interface WebhookReceiver {
  receive(
    raw: Buffer,
    signature: string | undefined,
  ): Promise<{ readonly kind: "rejected" | "retry_later"; readonly message: string } | { readonly kind: "accepted"; readonly body: Record<string, unknown> }>;
}

/**
 * POST /v1/webhooks/stripe: public (Stripe authenticates by signing the raw body), registered by
 * the composition root only when the provider is Stripe. A bad signature is 400
 * webhook_signature_invalid; 503 asks Stripe to redeliver; anything else is 200.
 */
export function stripeWebhookRoute(receiver: WebhookReceiver): AnyRoute {
  return typed({
    method: "POST",
    path: "/v1/webhooks/stripe",
    summary: "Stripe webhook endpoint (payment_intent.* events), verified by the Stripe-Signature header. Duplicates and out-of-order deliveries grant at most once.",
    tag: "Money in",
    auth: "public",
    rawBody: true,
    handler: async (ctx) => {
      const header = ctx.headers["stripe-signature"];
      const r = await receiver.receive(ctx.rawBody, Array.isArray(header) ? header[0] : header);
      switch (r.kind) {
        case "rejected":
          throw new HttpError(domainError("webhook_signature_invalid", `The Stripe-Signature header does not verify: ${r.message}`));
        case "retry_later":
          throw new HttpError(domainError("service_unavailable", `Stripe could not be asked about this event; redeliver it later (${r.message}).`));
        case "accepted":
          return ctx.ok(r.body);
      }
    },
  });
}
