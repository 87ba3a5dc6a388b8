// The API's JSON shapes the dashboard reads. The resources' shapes are the server's response
// schemas (src/schemas/responses.ts, type-only: web/tsconfig.json includes that file), so they are
// never copied by hand; the rest are shapes the server has no response schema for yet.
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

export interface Session {
  readonly signed_in: true;
  readonly member: Member;
  readonly organization: Org;
  readonly permissions: string[];
  readonly csrf_token: string;
  readonly expires_at: string;
  readonly server_time: string;
}

export interface Window {
  readonly utilization: number;
  readonly resets_at: string | null;
  readonly status: "idle" | "allowed" | "exhausted";
}

export interface LimitStatus {
  readonly id: string;
  readonly scope: string;
  readonly scope_id: string;
  readonly period: string;
  readonly amount: string | null;
  readonly stop_usage: boolean;
  readonly spent: string;
  readonly headroom: string;
  readonly resets_at: string | null;
}

export interface Summary {
  readonly member_id: string;
  readonly plan_id: string;
  readonly usage_credits: {
    readonly is_enabled: boolean;
    readonly balance: string;
    readonly used_credits: string;
    readonly disabled_reason: string | null;
    readonly spend_limit_reached: boolean;
    readonly limits: LimitStatus[];
  };
  readonly fast_mode: { readonly is_enabled: boolean; readonly fallback_to_standard: boolean };
  readonly [window: string]: unknown;
}

export interface Plan {
  readonly id: string;
  readonly name: string;
}

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

export interface AutoReload {
  readonly enabled: boolean;
  readonly threshold: string | null;
  readonly mode: "amount" | "target" | null;
  readonly amount: string | null;
  readonly target_balance: string | null;
  readonly payment_method_id: string | null;
  readonly monthly_cap: string | null;
  readonly status: "active" | "disabled" | "suspended";
  readonly consecutive_failures: number;
}

export interface Attempt {
  readonly id: string;
  readonly outcome: string;
  readonly reason: string | null;
  readonly amount: string;
  readonly balance: string;
  readonly failure_code: string | null;
  readonly created_at: string;
}

/** GET …/purchases/:id/receipt (src/presenters/receipts.ts). */
export interface Receipt {
  readonly number: string;
  readonly sequence: number;
  readonly payment_id: string;
  readonly issued_at: string;
  readonly purpose: string;
  readonly description: string;
  readonly amount: string;
  readonly credit_amount: string;
  readonly discount: string;
  readonly payment_method: string;
  readonly provider_ref: string | null;
  readonly grant_id: string | null;
  readonly customer: { readonly org_id: string; readonly name: string };
  readonly seller: { readonly name: string; readonly address: string[]; readonly email: string; readonly tax_id: string };
}

export interface Bundle {
  readonly id: string;
  readonly credit_amount: string;
  readonly price: string;
  readonly discount_percent: number;
}

export interface Bundles {
  readonly data: Bundle[];
  readonly minimum_amount: string;
  readonly maximum_amount: string;
  readonly confirm_above: string;
  readonly daily_purchase_cap: string;
  readonly credits_expire_after_days: number;
}

export interface Event {
  readonly id: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly created_at: string;
}

export interface UsageCell {
  readonly day: string;
  readonly model: string;
  readonly surface: string;
  readonly member_id: string;
  readonly speed: string;
  readonly requests: number;
  readonly cost: string;
  readonly credit_cost: string;
  readonly input_tokens: number;
  readonly output_tokens: number;
}

export interface Breakdown {
  readonly from: string;
  readonly to: string;
  readonly data: UsageCell[];
  readonly totals: { readonly requests: number; readonly cost: string; readonly credit_cost: string; readonly input_tokens: number; readonly output_tokens: number };
}

export interface Statement {
  readonly month: string;
  readonly opening_balance: string;
  readonly closing_balance: string;
  readonly closing: StatementBalances;
  readonly ledger_balance: string;
  readonly lines: Array<{ readonly category: string; readonly amount: string; readonly transactions: number }>;
  readonly usage: { readonly total: string };
  readonly reconciled: boolean;
  readonly complete: boolean;
}

export interface AuditEntry {
  readonly id: string;
  readonly at: string;
  readonly actor: { readonly type: "api_key" | "platform_key" | "session" | "cli" | "system"; readonly id: string | null; readonly member_id: string | null };
  readonly action: string;
  readonly target: { readonly type: string; readonly id: string };
  readonly before: Record<string, unknown> | null;
  readonly after: Record<string, unknown> | null;
  readonly request_id: string | null;
}

/** GET …/members/:id/sdk_credits (src/presenters/sdk-credits.ts). */
export interface SdkCredit {
  readonly member_id: string;
  readonly claimed: boolean;
  readonly claimed_at: string | null;
  readonly seat_amount: string;
  readonly surfaces: string[];
  readonly pooled: boolean;
  readonly cycle: { readonly month: string; readonly starts_at: string; readonly ends_at: string };
  readonly current_cycle: { readonly pooled: boolean; readonly amount: string; readonly grant_id: string | null; readonly grant: Grant | null } | null;
}

/** GET …/usage (settled usage records and their totals). */
export interface UsageRecords {
  readonly data: Array<{ readonly id: string; readonly hold_id: string | null; readonly member_id: string; readonly model: string; readonly cost: string; readonly credit_cost: string; readonly created_at: string }>;
  readonly total_cost: string;
  readonly total_credit_cost: string;
}

export interface StatementBalances {
  readonly grants: string;
  readonly held: string;
  readonly debt: string;
}

/** GET /v1/operator/customers (src/http/routes/operator.ts). */
export interface Customer extends Org {
  readonly balance: string;
  readonly month_spend: string;
}

/** POST /v1/price_books/preview (src/http/routes/operator.ts). */
export interface PreviewLine {
  readonly requests: number;
  readonly recorded: string;
  readonly current: string;
  readonly proposed: string;
  readonly difference: string;
  readonly unrated: number;
}
export interface PricePreview {
  readonly month: string;
  readonly rows: Array<PreviewLine & { readonly model: string }>;
  readonly totals: PreviewLine;
}

/** Spend by payer in a pricing-lab replay (POST /v1/lab/replays); money as micro-dollar strings. */
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
