// Expected failures are values with a stable snake_case code. The HTTP status of each code is
// decided in one table at the edge (src/http/error-status.ts); the core never knows about HTTP.

/** Every refusal the charge router (router.ts) can return; its tests prove each one has a case. */
export const ROUTER_REFUSAL_CODES = [
  "window_exhausted",
  "insufficient_credits",
  "spend_limit_reached",
  "usage_credits_disabled",
  "fast_mode_disabled",
] as const;
export type RouterRefusalCode = (typeof ROUTER_REFUSAL_CODES)[number];

export type ErrorCode =
  // refusals of the charge router
  | RouterRefusalCode
  // holds
  | "hold_not_pending"
  | "hold_expired"
  | "hold_owned_by_gateway"
  | "hold_owned_by_other_member"
  | "amount_out_of_range"
  // money in (purchases, auto-reload)
  | "amount_not_whole_cents"
  | "amount_below_minimum"
  | "amount_above_maximum"
  | "unknown_bundle"
  | "confirmation_required"
  | "daily_purchase_cap_reached"
  | "payment_failed"
  | "payment_method_required"
  | "threshold_not_below_target"
  | "invalid_card"
  | "webhook_signature_invalid"
  // request problems
  | "invalid_request"
  | "unknown_model"
  | "not_found"
  | "conflict"
  | "idempotency_conflict"
  | "unauthenticated"
  | "forbidden"
  // dashboard sign-in and sessions
  | "invalid_credentials"
  | "too_many_sign_in_attempts"
  | "csrf_token_invalid"
  | "payload_too_large"
  | "headers_too_large"
  | "request_timeout"
  | "unsupported_media_type"
  | "method_not_allowed"
  | "too_many_auth_failures"
  // infrastructure
  | "service_unavailable"
  | "storage_full"
  | "internal_error";

export interface DomainError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

export function domainError(code: ErrorCode, message: string, details?: Record<string, unknown>): DomainError {
  return details === undefined ? { code, message } : { code, message, details };
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: DomainError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(error: DomainError): Result<T> => ({ ok: false, error });

/** Thrown across layers (e.g. out of a store transaction) to carry an expected failure. */
export class DomainFailure extends Error {
  constructor(readonly error: DomainError) {
    super(error.message);
    this.name = "DomainFailure";
  }
}
