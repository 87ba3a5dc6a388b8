// The API's JSON shapes the dashboard reads: the server's response schemas (src/schemas/responses.ts,
// type-only: web/tsconfig.json includes that file), so they are never copied by hand. What is left
// here are names the pages use for parts of those shapes.
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

export type Plan = R.Plan;
export type Event = R.Event;

export type UsageCell = R.UsageCell;
export type Breakdown = R.Breakdown;

export type PlanWindow = R.PlanWindow;
/** GET /v1/plans/:plan_id/versions: a version with its status. */
export type PlanVersion = R.ListedPlanVersion;
/** POST /v1/plans/:plan_id/versions: the version created. */
export type CreatedPlanVersion = R.PlanVersion;

export type LabSpend = R.LabSpend;
export type LabOrg = R.LabOrg;
export type LabReplay = R.LabReplay;
