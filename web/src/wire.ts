// The API's JSON shapes the dashboard reads: the server's response schemas (src/schemas/responses.ts,
// type-only: web/tsconfig.json includes that file), so they are never copied by hand. What is left
// here are names the pages use for parts of those shapes, and the event (no response schema yet).
// Money fields are strings of micro-dollars.

import type * as R from "../../src/schemas/responses.js";

export type Org = R.Org;
export type Member = R.Member;
export type Workspace = R.Workspace;
/** A key as listed; `secret` only in the answer that created it. */
export type ApiKey = R.ApiKey & { readonly secret?: string };
export type Grant = R.Grant;
export type Limit = R.Limit;
export type Transaction = R.Transaction;
export type Payment = R.Payment;
export type PaymentMethod = R.PaymentMethod;
export type CreditRequest = R.CreditRequest;
/** An endpoint as listed; `secret` only in the answer that created it. */
export type WebhookEndpoint = R.WebhookEndpoint & { readonly secret?: string };
export type Delivery = R.Delivery;

export interface List<T> {
  readonly data: T[];
  readonly next_cursor?: string | null;
}

export type Session = R.Session;
export type Window = R.Window;
export type LimitStatus = R.LimitStatus;
export type Summary = R.Summary;
export type AutoReload = R.AutoReload;
export type Attempt = R.Attempt;
export type Receipt = R.Receipt;
export type Bundle = R.Bundle;
export type Bundles = R.Bundles;
export type UsageRecords = R.UsageRecords;
export type Statement = R.Statement;
export type StatementBalances = Statement["closing"];
export type AuditEntry = R.AuditEntry;
export type SdkCredit = R.SdkCredit;
export type Customer = R.Customer;
export type PricePreview = R.PricePreview;
export type PreviewLine = PricePreview["totals"];

/** GET /v1/plans (src/presenters/core.ts presentPlan): the dashboard reads only these. */
export interface Plan {
  readonly id: string;
  readonly name: string;
}

/** GET …/events (no response schema yet). */
export interface Event {
  readonly id: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly created_at: string;
}

export type UsageCell = R.UsageCell;
export type Breakdown = R.Breakdown;

export interface PlanWindow {
  readonly key: string;
  readonly kind: "session" | "weekly";
  readonly duration_seconds: number;
  readonly quota: string;
  readonly families?: readonly string[];
}

export interface PlanSeat {
  readonly windows: readonly PlanWindow[];
  readonly monthly_sdk_credit: string;
}

/** GET /v1/plans (presentPlan). */
export interface PlanDefinition extends Plan {
  readonly seats: { readonly standard: PlanSeat; readonly premium?: PlanSeat };
  readonly credit_only_surfaces: readonly string[];
}

/** GET /v1/plans/:id/versions (presentPlanVersion). */
export interface PlanVersion {
  readonly plan_id: string;
  readonly version: number;
  readonly effective_at: string;
  readonly created_at: string;
  readonly created_by: string;
  readonly status: "current" | "scheduled" | "past";
  readonly definition: PlanDefinition;
}

export interface LabSpend {
  readonly plan_window: string;
  readonly sdk_credits: string;
  readonly usage_credits: string;
  readonly total: string;
  readonly revenue: string;
  readonly breakage: string;
}

export interface LabOrg {
  readonly org_id: string;
  readonly name: string;
  readonly actual: LabSpend;
  readonly replayed: LabSpend;
  readonly difference: LabSpend;
  readonly refusals: { readonly actual: Readonly<Record<string, number>>; readonly replayed: Readonly<Record<string, number>> };
  readonly windows_exhausted: ReadonlyArray<{ readonly window: string; readonly at: string }>;
  readonly closing_balance: { readonly actual: string; readonly replayed: string };
  readonly members: ReadonlyArray<{ readonly member_id: string; readonly actual: LabSpend; readonly replayed: LabSpend }>;
}

/** POST /v1/lab/replays: a period's recorded usage run again under a price book and plans (nothing written). */
export interface LabReplay {
  readonly object: "lab_replay";
  readonly period: { readonly from: string; readonly to: string };
  readonly records: number;
  readonly records_without_token_classes: number;
  readonly totals: { readonly actual: LabSpend; readonly replayed: LabSpend; readonly difference: LabSpend };
  readonly organizations: readonly LabOrg[];
  readonly histogram: ReadonlyArray<{ readonly from: string; readonly to: string; readonly organizations: number }>;
}
