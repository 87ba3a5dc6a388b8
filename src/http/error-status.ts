// The one table that maps every error code to its HTTP status and error type. Exhaustive: adding a
// code to core/errors.ts without a row here does not compile. Statuses follow the vendor's wire
// facts (DOMAIN.md §7): out of credits 400, window or enforced spend limit 429 with retry-after.

import type { ErrorCode } from "../core/errors.js";

export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "conflict_error"
  | "api_error"
  | "overloaded_error";

export const ERROR_STATUS: Readonly<Record<ErrorCode, { status: number; type: ErrorType }>> = {
  window_exhausted: { status: 429, type: "rate_limit_error" },
  spend_limit_reached: { status: 429, type: "rate_limit_error" },
  insufficient_credits: { status: 400, type: "invalid_request_error" },
  usage_credits_disabled: { status: 403, type: "permission_error" },
  fast_mode_disabled: { status: 403, type: "permission_error" },
  hold_not_pending: { status: 409, type: "conflict_error" },
  hold_expired: { status: 409, type: "conflict_error" },
  // The gateway resolves its own holds (it bills what it relayed); nobody else may.
  hold_owned_by_gateway: { status: 409, type: "conflict_error" },
  hold_owned_by_other_member: { status: 403, type: "permission_error" },
  // A rated amount beyond MAX_MICROS (a price book or token count too large): the caller's input.
  amount_out_of_range: { status: 400, type: "invalid_request_error" },
  amount_not_whole_cents: { status: 400, type: "invalid_request_error" },
  amount_below_minimum: { status: 400, type: "invalid_request_error" },
  amount_above_maximum: { status: 400, type: "invalid_request_error" },
  unknown_bundle: { status: 400, type: "invalid_request_error" },
  confirmation_required: { status: 400, type: "invalid_request_error" },
  daily_purchase_cap_reached: { status: 429, type: "rate_limit_error" },
  payment_failed: { status: 402, type: "invalid_request_error" },
  payment_method_required: { status: 400, type: "invalid_request_error" },
  threshold_not_below_target: { status: 400, type: "invalid_request_error" },
  invalid_card: { status: 400, type: "invalid_request_error" },
  webhook_signature_invalid: { status: 400, type: "invalid_request_error" },
  invalid_request: { status: 400, type: "invalid_request_error" },
  unknown_model: { status: 400, type: "invalid_request_error" },
  not_found: { status: 404, type: "not_found_error" },
  conflict: { status: 409, type: "conflict_error" },
  idempotency_conflict: { status: 409, type: "conflict_error" },
  unauthenticated: { status: 401, type: "authentication_error" },
  forbidden: { status: 403, type: "permission_error" },
  invalid_credentials: { status: 401, type: "authentication_error" },
  too_many_sign_in_attempts: { status: 429, type: "rate_limit_error" },
  csrf_token_invalid: { status: 403, type: "permission_error" },
  payload_too_large: { status: 413, type: "request_too_large" },
  headers_too_large: { status: 431, type: "request_too_large" },
  request_timeout: { status: 408, type: "invalid_request_error" },
  unsupported_media_type: { status: 415, type: "invalid_request_error" },
  method_not_allowed: { status: 405, type: "invalid_request_error" },
  too_many_auth_failures: { status: 429, type: "rate_limit_error" },
  service_unavailable: { status: 503, type: "overloaded_error" },
  // The database's disk is full: nothing was written; retry after an operator frees space.
  storage_full: { status: 507, type: "api_error" },
  internal_error: { status: 500, type: "api_error" },
};
