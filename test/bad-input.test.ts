// Bad input over real HTTP, on SQLite and on PostgreSQL: a table of malformed and hostile requests
// (wrong types, negative, fractional and huge amounts, unknown and malformed ids, other
// organizations' ids, missing or bad auth, wrong roles, bad bodies, headers and paths). Every one
// must answer a 4xx with a stable error code in the error envelope, change no state, and never 5xx.
// Then a fast-check property throws random JSON at the money and admin routes: never a 5xx.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { apiRoutes } from "../src/http/routes.js";
import { Router } from "../src/http/router.js";
import { backends } from "./support/backends.js";
import { addMember, createOrg, grant, startHarness, USD, type Harness, type Response } from "./support/harness.js";

type KeyName = "none" | "bad" | "revoked" | "platform" | "owner" | "admin" | "billing" | "member" | "other";

/** Everything the table's paths and bodies refer to, created in `before`. */
interface World {
  a: {
    orgId: string;
    ownerId: string;
    adminId: string;
    billingId: string;
    memberId: string;
    memberKeyId: string;
    workspaceId: string;
    grantId: string;
    voidedGrantId: string;
    limitId: string;
    holdId: string;
    settledHoldId: string;
  };
  b: {
    orgId: string;
    ownerId: string;
    memberId: string;
    workspaceId: string;
    grantId: string;
    limitId: string;
    holdId: string;
  };
  keys: Record<KeyName, string | null>;
  priceBook: Record<string, unknown>;
}

interface Case {
  readonly name: string;
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  readonly path: string | ((w: World) => string);
  readonly key: KeyName;
  /** A JSON value (sent with Content-Type: application/json), or a function of the world giving one. */
  readonly body?: unknown;
  /** A raw body, sent as is (no content type unless given in headers). */
  readonly raw?: string | (() => string);
  readonly headers?: Record<string, string>;
  readonly status: number;
  readonly code: string;
}

const SONNET = "claude-sonnet-4-5";
const ZERO_ORG = "org_00000000000000000000000000";
const JSON_HEADERS = { "content-type": "application/json" };

const A = (w: World) => `/v1/organizations/${w.a.orgId}`;
const B = (w: World) => `/v1/organizations/${w.b.orgId}`;
const okAuthorize = { model: SONNET, amount: "1000" };
const okMember = { email: "new-member@acme.test", name: "New" };

const CASES: readonly Case[] = [
  // ------------------------------------------------------------ authentication
  { name: "missing auth on a write", method: "POST", path: (w) => `${A(w)}/workspaces`, key: "none", body: { name: "w" }, status: 401, code: "unauthenticated" },
  { name: "missing auth on the ledger check", method: "GET", path: "/v1/ledger/verify", key: "none", status: 401, code: "unauthenticated" },
  { name: "unknown key", method: "POST", path: (w) => `${A(w)}/authorize`, key: "bad", body: okAuthorize, status: 401, code: "unauthenticated" },
  { name: "revoked key", method: "POST", path: (w) => `${A(w)}/authorize`, key: "revoked", body: okAuthorize, status: 401, code: "unauthenticated" },
  { name: "key without the uck_ prefix", method: "POST", path: (w) => `${A(w)}/members`, key: "none", headers: { "x-api-key": "not-a-key" }, body: okMember, status: 401, code: "unauthenticated" },
  { name: "unknown bearer token", method: "POST", path: "/v1/organizations", key: "none", headers: { authorization: "Bearer uck_AAAAAAAAAAAAAAAAAAAAAAAAAAA" }, body: { name: "x" }, status: 401, code: "unauthenticated" },
  { name: "empty bearer token", method: "PATCH", path: (w) => A(w), key: "none", headers: { authorization: "Bearer " }, body: { name: "x" }, status: 401, code: "unauthenticated" },
  { name: "oversized key", method: "DELETE", path: (w) => `${A(w)}/spend_limits/${w.a.limitId}`, key: "none", headers: { "x-api-key": `uck_${"a".repeat(300)}` }, status: 401, code: "unauthenticated" },

  // ------------------------------------------------------------ wrong role
  { name: "member sets a spend limit", method: "POST", path: (w) => `${A(w)}/spend_limits`, key: "member", body: { scope: "organization", amount: "1" }, status: 403, code: "forbidden" },
  { name: "member creates a member", method: "POST", path: (w) => `${A(w)}/members`, key: "member", body: okMember, status: 403, code: "forbidden" },
  { name: "billing creates a member", method: "POST", path: (w) => `${A(w)}/members`, key: "billing", body: okMember, status: 403, code: "forbidden" },
  { name: "member patches a member", method: "PATCH", path: (w) => `${A(w)}/members/${w.a.memberId}`, key: "member", body: { role: "owner" }, status: 403, code: "forbidden" },
  { name: "member creates a workspace", method: "POST", path: (w) => `${A(w)}/workspaces`, key: "member", body: { name: "w" }, status: 403, code: "forbidden" },
  { name: "billing creates an API key", method: "POST", path: (w) => `${A(w)}/api_keys`, key: "billing", body: { name: "k" }, status: 403, code: "forbidden" },
  { name: "member revokes a key", method: "POST", path: (w) => `${A(w)}/api_keys/${w.a.memberKeyId}/revoke`, key: "member", status: 403, code: "forbidden" },
  { name: "member patches the organization", method: "PATCH", path: (w) => A(w), key: "member", body: { plan_id: "max_20x" }, status: 403, code: "forbidden" },
  { name: "member toggles usage credits", method: "PUT", path: (w) => `${A(w)}/usage_credits`, key: "member", body: { is_enabled: true }, status: 403, code: "forbidden" },
  { name: "member deletes a spend limit", method: "DELETE", path: (w) => `${A(w)}/spend_limits/${w.a.limitId}`, key: "member", status: 403, code: "forbidden" },
  { name: "owner creates a grant (platform only)", method: "POST", path: (w) => `${A(w)}/grants`, key: "owner", body: { kind: "promotional", amount: "1000000" }, status: 403, code: "forbidden" },
  { name: "admin voids a grant (platform only)", method: "POST", path: (w) => `${A(w)}/grants/${w.a.grantId}/void`, key: "admin", status: 403, code: "forbidden" },
  { name: "owner creates an operator key (platform only)", method: "POST", path: "/v1/operator_keys", key: "owner", body: { name: "mine" }, status: 403, code: "forbidden" },
  { name: "unknown operator key: rotate", method: "POST", path: "/v1/operator_keys/key_00000000000000000000000000/rotate", key: "platform", status: 404, code: "not_found" },
  { name: "a member's key is no operator key: revoke", method: "POST", path: (w) => `/v1/operator_keys/${w.a.memberKeyId}/revoke`, key: "platform", status: 404, code: "not_found" },
  { name: "operator key name too long", method: "POST", path: "/v1/operator_keys", key: "platform", body: { name: "x".repeat(201) }, status: 400, code: "invalid_request" },
  { name: "owner creates an organization (platform only)", method: "POST", path: "/v1/organizations", key: "owner", body: { name: "X", plan_id: "pro", owner: { email: "x@x.test", name: "X" } }, status: 403, code: "forbidden" },
  { name: "owner puts a plan (platform only)", method: "PUT", path: "/v1/plans/hacked", key: "owner", body: { name: "H", seats: { standard: { windows: [], monthly_sdk_credit: "0" } } }, status: 403, code: "forbidden" },
  { name: "owner publishes a price book (platform only)", method: "POST", path: "/v1/price_books", key: "owner", body: (w: World) => w.priceBook, status: 403, code: "forbidden" },
  { name: "owner checks the ledger (platform only)", method: "GET", path: "/v1/ledger/verify", key: "owner", status: 403, code: "forbidden" },
  { name: "member meters for the owner", method: "POST", path: (w) => `${A(w)}/authorize`, key: "member", body: (w: World) => ({ ...okAuthorize, member_id: w.a.ownerId }), status: 403, code: "forbidden" },
  { name: "billing reports usage for another member", method: "POST", path: (w) => `${A(w)}/usage_events`, key: "billing", body: (w: World) => ({ event_id: "ev-1", model: SONNET, amount: "1", member_id: w.a.memberId }), status: 403, code: "forbidden" },

  // ------------------------------------------------------------ another organization's ids (owner key of org B)
  { name: "other org: get the organization", method: "GET", path: (w) => A(w), key: "other", status: 404, code: "not_found" },
  { name: "other org: patch the organization", method: "PATCH", path: (w) => A(w), key: "other", body: { name: "pwned" }, status: 404, code: "not_found" },
  { name: "other org: toggle usage credits", method: "PUT", path: (w) => `${A(w)}/usage_credits`, key: "other", body: { is_enabled: true }, status: 404, code: "not_found" },
  { name: "other org: create a member", method: "POST", path: (w) => `${A(w)}/members`, key: "other", body: okMember, status: 404, code: "not_found" },
  { name: "other org: create a workspace", method: "POST", path: (w) => `${A(w)}/workspaces`, key: "other", body: { name: "w" }, status: 404, code: "not_found" },
  { name: "other org: set a spend limit", method: "POST", path: (w) => `${A(w)}/spend_limits`, key: "other", body: { scope: "organization", amount: null }, status: 404, code: "not_found" },
  { name: "other org: authorize in its org", method: "POST", path: (w) => `${A(w)}/authorize`, key: "other", body: okAuthorize, status: 404, code: "not_found" },
  { name: "other org: settle its hold in its org", method: "POST", path: (w) => `${A(w)}/holds/${w.a.holdId}/settle`, key: "other", body: { amount: "1" }, status: 404, code: "not_found" },
  { name: "other org: void its grant in its org", method: "POST", path: (w) => `${A(w)}/grants/${w.a.grantId}/void`, key: "other", status: 404, code: "not_found" },
  { name: "other org's member id in own org path (patch)", method: "PATCH", path: (w) => `${B(w)}/members/${w.a.memberId}`, key: "other", body: { name: "pwned" }, status: 404, code: "not_found" },
  { name: "other org's member id in own org path (get)", method: "GET", path: (w) => `${B(w)}/members/${w.a.memberId}`, key: "other", status: 404, code: "not_found" },
  { name: "other org's hold: settle", method: "POST", path: (w) => `${B(w)}/holds/${w.a.holdId}/settle`, key: "other", body: { amount: "1" }, status: 404, code: "not_found" },
  { name: "other org's hold: release", method: "POST", path: (w) => `${B(w)}/holds/${w.a.holdId}/release`, key: "other", status: 404, code: "not_found" },
  { name: "other org's hold: get", method: "GET", path: (w) => `${B(w)}/holds/${w.a.holdId}`, key: "other", status: 404, code: "not_found" },
  { name: "other org's grant: void with the platform key", method: "POST", path: (w) => `${B(w)}/grants/${w.a.grantId}/void`, key: "platform", status: 404, code: "not_found" },
  { name: "other org's spend limit: delete", method: "DELETE", path: (w) => `${B(w)}/spend_limits/${w.a.limitId}`, key: "other", status: 404, code: "not_found" },
  { name: "other org's key: revoke", method: "POST", path: (w) => `${B(w)}/api_keys/${w.a.memberKeyId}/revoke`, key: "other", status: 404, code: "not_found" },
  { name: "other org's member: create a key for it", method: "POST", path: (w) => `${B(w)}/api_keys`, key: "other", body: (w: World) => ({ member_id: w.a.memberId, name: "k" }), status: 404, code: "not_found" },
  { name: "other org's member: limit scope", method: "POST", path: (w) => `${B(w)}/spend_limits`, key: "other", body: (w: World) => ({ scope: "member", scope_id: w.a.memberId, amount: "1" }), status: 404, code: "not_found" },
  { name: "other org's workspace: limit scope", method: "POST", path: (w) => `${B(w)}/spend_limits`, key: "other", body: (w: World) => ({ scope: "workspace", scope_id: w.a.workspaceId, amount: "1" }), status: 404, code: "not_found" },
  { name: "other org's organization: limit scope", method: "POST", path: (w) => `${B(w)}/spend_limits`, key: "other", body: (w: World) => ({ scope: "organization", scope_id: w.a.orgId, amount: "1" }), status: 400, code: "invalid_request" },
  { name: "other org's member: meter for it", method: "POST", path: (w) => `${B(w)}/authorize`, key: "other", body: (w: World) => ({ ...okAuthorize, member_id: w.a.ownerId }), status: 404, code: "not_found" },
  { name: "other org's workspace: move a member into it", method: "PATCH", path: (w) => `${B(w)}/members/${w.b.memberId}`, key: "other", body: (w: World) => ({ workspace_id: w.a.workspaceId }), status: 404, code: "not_found" },
  { name: "other org's workspace: create a member in it", method: "POST", path: (w) => `${B(w)}/members`, key: "other", body: (w: World) => ({ ...okMember, workspace_id: w.a.workspaceId }), status: 404, code: "not_found" },
  { name: "other org's member: grant to it (platform)", method: "POST", path: (w) => `${B(w)}/grants`, key: "platform", body: (w: World) => ({ kind: "promotional", amount: "1000", member_id: w.a.memberId }), status: 404, code: "not_found" },
  { name: "other org's member: usage summary", method: "GET", path: (w) => `${B(w)}/usage_summary?member_id=${w.a.ownerId}`, key: "other", status: 404, code: "not_found" },

  // ------------------------------------------------------------ unknown and malformed ids, hostile paths
  { name: "unknown organization (platform)", method: "GET", path: `/v1/organizations/${ZERO_ORG}`, key: "platform", status: 404, code: "not_found" },
  { name: "unknown organization: patch", method: "PATCH", path: `/v1/organizations/${ZERO_ORG}`, key: "platform", body: { name: "x" }, status: 404, code: "not_found" },
  { name: "unknown organization: grant", method: "POST", path: `/v1/organizations/${ZERO_ORG}/grants`, key: "platform", body: { kind: "promotional", amount: "1000" }, status: 404, code: "not_found" },
  { name: "unknown organization: create a member", method: "POST", path: `/v1/organizations/${ZERO_ORG}/members`, key: "platform", body: okMember, status: 404, code: "not_found" },
  { name: "unknown organization: usage credits", method: "PUT", path: `/v1/organizations/${ZERO_ORG}/usage_credits`, key: "platform", body: { is_enabled: true }, status: 404, code: "not_found" },
  { name: "unknown hold: settle", method: "POST", path: (w) => `${A(w)}/holds/hold_00000000000000000000000000/settle`, key: "owner", body: { amount: "1" }, status: 404, code: "not_found" },
  { name: "unknown hold: release", method: "POST", path: (w) => `${A(w)}/holds/hold_00000000000000000000000000/release`, key: "owner", status: 404, code: "not_found" },
  { name: "malformed hold id: settle", method: "POST", path: (w) => `${A(w)}/holds/not-a-hold/settle`, key: "owner", body: { amount: "1" }, status: 404, code: "not_found" },
  { name: "unknown member: patch", method: "PATCH", path: (w) => `${A(w)}/members/mem_00000000000000000000000000`, key: "owner", body: { name: "x" }, status: 404, code: "not_found" },
  { name: "unknown spend limit: delete", method: "DELETE", path: (w) => `${A(w)}/spend_limits/spl_00000000000000000000000000`, key: "owner", status: 404, code: "not_found" },
  { name: "unknown key: revoke", method: "POST", path: (w) => `${A(w)}/api_keys/key_00000000000000000000000000/revoke`, key: "owner", status: 404, code: "not_found" },
  { name: "unknown grant: void", method: "POST", path: (w) => `${A(w)}/grants/grant_00000000000000000000000000/void`, key: "platform", status: 404, code: "not_found" },
  { name: "unknown workspace id for a new member", method: "POST", path: (w) => `${A(w)}/members`, key: "owner", body: { ...okMember, workspace_id: "wrk_00000000000000000000000000" }, status: 404, code: "not_found" },
  { name: "unknown member for a new key", method: "POST", path: (w) => `${A(w)}/api_keys`, key: "owner", body: { member_id: "mem_00000000000000000000000000", name: "k" }, status: 404, code: "not_found" },
  { name: "unknown member: meter for it", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", body: { ...okAuthorize, member_id: "mem_00000000000000000000000000" }, status: 404, code: "not_found" },
  { name: "workspace limit without scope_id", method: "POST", path: (w) => `${A(w)}/spend_limits`, key: "owner", body: { scope: "workspace", amount: "1" }, status: 404, code: "not_found" },
  { name: "malformed workspace id", method: "POST", path: (w) => `${A(w)}/members`, key: "owner", body: { ...okMember, workspace_id: "not-an-id" }, status: 400, code: "invalid_request" },
  { name: "malformed member id for a key", method: "POST", path: (w) => `${A(w)}/api_keys`, key: "owner", body: { member_id: "x", name: "k" }, status: 400, code: "invalid_request" },
  { name: "malformed member id to meter for", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", body: { ...okAuthorize, member_id: "MEM_0000000000" }, status: 400, code: "invalid_request" },
  { name: "malformed member id in the summary query", method: "GET", path: (w) => `${A(w)}/usage_summary?member_id=../../etc`, key: "owner", status: 400, code: "invalid_request" },
  { name: "invalid percent-encoding in the org id", method: "GET", path: "/v1/organizations/%E0%A4%A", key: "platform", status: 400, code: "invalid_request" },
  { name: "invalid percent-encoding on a write", method: "POST", path: "/v1/organizations/%E0%A4%A/members", key: "platform", body: okMember, status: 400, code: "invalid_request" },
  { name: "NUL in a path id", method: "POST", path: (w) => `${A(w)}/holds/%00/settle`, key: "owner", body: { amount: "1" }, status: 400, code: "invalid_request" },
  { name: "NUL in the org id (platform)", method: "GET", path: "/v1/organizations/org_%00", key: "platform", status: 400, code: "invalid_request" },
  { name: "dot-dot member id", method: "PATCH", path: (w) => `${A(w)}/members/%2e%2e`, key: "owner", body: { name: "x" }, status: 404, code: "not_found" },
  { name: "very long org id", method: "PATCH", path: `/v1/organizations/org_${"z".repeat(4000)}`, key: "platform", body: { name: "x" }, status: 404, code: "not_found" },
  { name: "SQL-looking org id", method: "PATCH", path: `/v1/organizations/${encodeURIComponent("x' OR '1'='1")}`, key: "platform", body: { name: "x" }, status: 404, code: "not_found" },

  // ------------------------------------------------------------ wrong JSON types
  { name: "grant amount as a number", method: "POST", path: (w) => `${A(w)}/grants`, key: "platform", body: { kind: "promotional", amount: 5_000_000 }, status: 400, code: "invalid_request" },
  { name: "authorize amount as a number", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", body: { model: SONNET, amount: 1000 }, status: 400, code: "invalid_request" },
  { name: "spend limit amount as a number", method: "POST", path: (w) => `${A(w)}/spend_limits`, key: "owner", body: { scope: "organization", amount: 5 }, status: 400, code: "invalid_request" },
  { name: "boolean as a string (usage credits)", method: "PUT", path: (w) => `${A(w)}/usage_credits`, key: "owner", body: { is_enabled: "true" }, status: 400, code: "invalid_request" },
  { name: "boolean as a string (deprecated extra_usage alias)", method: "PUT", path: (w) => `${A(w)}/extra_usage`, key: "owner", body: { is_enabled: "true" }, status: 400, code: "invalid_request" },
  { name: "member toggles extra usage (deprecated alias)", method: "PUT", path: (w) => `${A(w)}/extra_usage`, key: "member", body: { is_enabled: true }, status: 403, code: "forbidden" },
  { name: "old field name with a wrong type", method: "POST", path: (w) => `${A(w)}/members`, key: "owner", body: { ...okMember, extra_usage_enabled: "yes" }, status: 400, code: "invalid_request" },
  { name: "boolean as a string (org patch)", method: "PATCH", path: (w) => A(w), key: "owner", body: { fast_mode_enabled: "false" }, status: 400, code: "invalid_request" },
  { name: "boolean as a number (member)", method: "POST", path: (w) => `${A(w)}/members`, key: "owner", body: { ...okMember, usage_credits_enabled: 1 }, status: 400, code: "invalid_request" },
  { name: "token count as a string", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", body: { model: SONNET, estimated_usage: { output_tokens: "100" } }, status: 400, code: "invalid_request" },
  { name: "settle usage as a string", method: "POST", path: (w) => `${A(w)}/holds/${w.a.holdId}/settle`, key: "owner", body: { usage: "lots" }, status: 400, code: "invalid_request" },
  { name: "unknown role", method: "POST", path: (w) => `${A(w)}/members`, key: "owner", body: { ...okMember, role: "superuser" }, status: 400, code: "invalid_request" },
  { name: "unknown surface", method: "POST", path: (w) => `${A(w)}/api_keys`, key: "owner", body: { name: "k", surface: "mainframe" }, status: 400, code: "invalid_request" },
  { name: "unknown grant kind", method: "POST", path: (w) => `${A(w)}/grants`, key: "platform", body: { kind: "free_money", amount: "1000" }, status: 400, code: "invalid_request" },
  { name: "unknown limit scope", method: "POST", path: (w) => `${A(w)}/spend_limits`, key: "owner", body: { scope: "galaxy", amount: "1" }, status: 400, code: "invalid_request" },
  { name: "ttl_seconds zero", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", body: { ...okAuthorize, ttl_seconds: 0 }, status: 400, code: "invalid_request" },
  { name: "ttl_seconds fractional", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", body: { ...okAuthorize, ttl_seconds: 1.5 }, status: 400, code: "invalid_request" },
  { name: "negative grant priority", method: "POST", path: (w) => `${A(w)}/grants`, key: "platform", body: { kind: "promotional", amount: "1000", priority: -1 }, status: 400, code: "invalid_request" },
  { name: "empty grant surfaces", method: "POST", path: (w) => `${A(w)}/grants`, key: "platform", body: { kind: "promotional", amount: "1000", surfaces: [] }, status: 400, code: "invalid_request" },
  { name: "organization name as a number", method: "POST", path: "/v1/organizations", key: "platform", body: { name: 42, plan_id: "pro", owner: { email: "x@x.test", name: "X" } }, status: 400, code: "invalid_request" },
  { name: "blank workspace name", method: "POST", path: (w) => `${A(w)}/workspaces`, key: "owner", body: { name: "   " }, status: 400, code: "invalid_request" },

  // ------------------------------------------------------------ negative, fractional, huge and odd numbers
  { name: "negative grant amount", method: "POST", path: (w) => `${A(w)}/grants`, key: "platform", body: { kind: "promotional", amount: "-5" }, status: 400, code: "invalid_request" },
  { name: "zero grant amount", method: "POST", path: (w) => `${A(w)}/grants`, key: "platform", body: { kind: "promotional", amount: "0" }, status: 400, code: "invalid_request" },
  { name: "negative spend limit", method: "POST", path: (w) => `${A(w)}/spend_limits`, key: "owner", body: { scope: "organization", amount: "-5" }, status: 400, code: "invalid_request" },
  { name: "negative settle amount", method: "POST", path: (w) => `${A(w)}/holds/${w.a.holdId}/settle`, key: "owner", body: { amount: "-5" }, status: 400, code: "invalid_request" },
  { name: "negative token count", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", body: { model: SONNET, estimated_usage: { input_tokens: -1 } }, status: 400, code: "invalid_request" },
  { name: "negative usage event amount", method: "POST", path: (w) => `${A(w)}/usage_events`, key: "owner", body: { event_id: "ev-neg", model: SONNET, amount: "-1" }, status: 400, code: "invalid_request" },
  { name: "fractional grant amount", method: "POST", path: (w) => `${A(w)}/grants`, key: "platform", body: { kind: "promotional", amount: "1.5" }, status: 400, code: "invalid_request" },
  { name: "fractional authorize amount", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", body: { model: SONNET, amount: "1.5" }, status: 400, code: "invalid_request" },
  { name: "fractional token count", method: "POST", path: (w) => `${A(w)}/holds/${w.a.holdId}/settle`, key: "owner", body: { usage: { output_tokens: 1.5 } }, status: 400, code: "invalid_request" },
  { name: "20-digit grant amount", method: "POST", path: (w) => `${A(w)}/grants`, key: "platform", body: { kind: "promotional", amount: "99999999999999999999" }, status: 400, code: "invalid_request" },
  { name: "16-digit amount above the maximum", method: "POST", path: (w) => `${A(w)}/grants`, key: "platform", body: { kind: "promotional", amount: "9999999999999999" }, status: 400, code: "invalid_request" },
  { name: "huge spend limit", method: "POST", path: (w) => `${A(w)}/spend_limits`, key: "owner", body: { scope: "organization", amount: "1".repeat(40) }, status: 400, code: "invalid_request" },
  { name: "token count 1e12", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", body: { model: SONNET, estimated_usage: { output_tokens: 1e12 } }, status: 400, code: "invalid_request" },
  { name: "token count 1e400 (Infinity)", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", raw: `{"model":"${SONNET}","estimated_usage":{"output_tokens":1e400}}`, headers: JSON_HEADERS, status: 400, code: "invalid_request" },
  { name: "exponent amount string", method: "POST", path: (w) => `${A(w)}/holds/${w.a.holdId}/settle`, key: "owner", body: { amount: "1e6" }, status: 400, code: "invalid_request" },
  { name: "hex amount string", method: "POST", path: (w) => `${A(w)}/grants`, key: "platform", body: { kind: "promotional", amount: "0x10" }, status: 400, code: "invalid_request" },
  { name: "padded amount string", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", body: { model: SONNET, amount: " 5" }, status: 400, code: "invalid_request" },
  { name: "full-width digits amount", method: "POST", path: (w) => `${A(w)}/grants`, key: "platform", body: { kind: "promotional", amount: "１２３" }, status: 400, code: "invalid_request" },
  { name: "negative plan quota", method: "PUT", path: "/v1/plans/bad_plan", key: "platform", body: { name: "Bad", seats: { standard: { windows: [{ key: "s", kind: "session", duration_seconds: 3600, quota: "-1" }], monthly_sdk_credit: "0" } } }, status: 400, code: "invalid_request" },
  { name: "plan window shorter than a minute", method: "PUT", path: "/v1/plans/bad_plan", key: "platform", body: { name: "Bad", seats: { standard: { windows: [{ key: "s", kind: "session", duration_seconds: 1, quota: "1" }], monthly_sdk_credit: "0" } } }, status: 400, code: "invalid_request" },
  { name: "plan version effective in the past", method: "POST", path: "/v1/plans/pro/versions", key: "platform", body: { name: "Pro", seats: { standard: { windows: [], monthly_sdk_credit: "0" } }, effective_at: "2020-01-01T00:00:00Z" }, status: 400, code: "invalid_request" },
  { name: "plan version with a date that is not one", method: "POST", path: "/v1/plans/pro/versions", key: "platform", body: { name: "Pro", seats: { standard: { windows: [], monthly_sdk_credit: "0" } }, effective_at: "tomorrow" }, status: 400, code: "invalid_request" },
  { name: "version of an unknown plan", method: "POST", path: "/v1/plans/nope/versions", key: "platform", body: { name: "Nope", seats: { standard: { windows: [], monthly_sdk_credit: "0" } } }, status: 404, code: "not_found" },
  { name: "owner adds a plan version (platform only)", method: "POST", path: "/v1/plans/pro/versions", key: "owner", body: { name: "Pro", seats: { standard: { windows: [], monthly_sdk_credit: "0" } } }, status: 403, code: "forbidden" },
  { name: "malformed plan id", method: "PUT", path: "/v1/plans/Bad-Plan", key: "platform", body: { name: "Bad", seats: { standard: { windows: [], monthly_sdk_credit: "0" } } }, status: 400, code: "invalid_request" },
  { name: "price book version zero", method: "POST", path: "/v1/price_books", key: "platform", body: (w: World) => ({ ...w.priceBook, version: 0 }), status: 400, code: "invalid_request" },
  { name: "price book with a negative rate", method: "POST", path: "/v1/price_books", key: "platform", body: (w: World) => ({ ...w.priceBook, version: 999, web_search_per_1000: "-10" }), status: 400, code: "invalid_request" },

  // ------------------------------------------------------------ body shape
  { name: "empty body", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", raw: "", headers: JSON_HEADERS, status: 400, code: "invalid_request" },
  { name: "invalid JSON text", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", raw: `{"model": "${SONNET}", "amount": `, headers: JSON_HEADERS, status: 400, code: "invalid_request" },
  { name: "JSON with a trailing comma", method: "POST", path: (w) => `${A(w)}/spend_limits`, key: "owner", raw: `{"scope":"organization","amount":"1",}`, headers: JSON_HEADERS, status: 400, code: "invalid_request" },
  { name: "JSON array as body", method: "POST", path: (w) => `${A(w)}/members`, key: "owner", body: [okMember], status: 400, code: "invalid_request" },
  { name: "JSON null as body", method: "POST", path: (w) => `${A(w)}/grants`, key: "platform", body: null, status: 400, code: "invalid_request" },
  { name: "JSON string as body", method: "PATCH", path: (w) => A(w), key: "owner", body: "hello", status: 400, code: "invalid_request" },
  { name: "JSON number as body", method: "PUT", path: (w) => `${A(w)}/usage_credits`, key: "owner", body: 1, status: 400, code: "invalid_request" },
  { name: "text/plain body", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", body: okAuthorize, headers: { "content-type": "text/plain" }, status: 415, code: "unsupported_media_type" },
  { name: "form-encoded body", method: "POST", path: (w) => `${A(w)}/workspaces`, key: "owner", raw: "name=w", headers: { "content-type": "application/x-www-form-urlencoded" }, status: 415, code: "unsupported_media_type" },
  { name: "body without a content type", method: "PATCH", path: (w) => `${A(w)}/members/${w.a.memberId}`, key: "owner", raw: `{"name":"x"}`, status: 415, code: "unsupported_media_type" },
  { name: "body on a route that takes none (release)", method: "POST", path: (w) => `${A(w)}/holds/${w.a.holdId}/release`, key: "owner", body: {}, status: 400, code: "invalid_request" },
  { name: "body on a route that takes none (void)", method: "POST", path: (w) => `${A(w)}/grants/${w.a.grantId}/void`, key: "platform", body: { reason: "x" }, status: 400, code: "invalid_request" },
  { name: "body on a route that takes none (delete limit)", method: "DELETE", path: (w) => `${A(w)}/spend_limits/${w.a.limitId}`, key: "owner", body: {}, status: 400, code: "invalid_request" },
  { name: "unknown extra field (authorize)", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", body: { ...okAuthorize, payer: "plan" }, status: 400, code: "invalid_request" },
  { name: "unknown nested field (org owner)", method: "POST", path: "/v1/organizations", key: "platform", body: { name: "X", plan_id: "pro", owner: { email: "x@x.test", name: "X", role: "admin" } }, status: 400, code: "invalid_request" },
  { name: "unknown extra field (org patch: debt)", method: "PATCH", path: (w) => A(w), key: "owner", body: { debt: 0 }, status: 400, code: "invalid_request" },
  { name: "unknown extra field (member patch: org_id)", method: "PATCH", path: (w) => `${A(w)}/members/${w.a.memberId}`, key: "owner", body: (w: World) => ({ org_id: w.b.orgId }), status: 400, code: "invalid_request" },
  { name: "__proto__ key", method: "PATCH", path: (w) => A(w), key: "owner", raw: `{"name":"x","__proto__":{"usage_credits_enabled":true}}`, headers: JSON_HEADERS, status: 400, code: "invalid_request" },
  { name: "deeply nested metadata", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", raw: `{"model":"${SONNET}","amount":"1","metadata":${"[".repeat(5000)}${"]".repeat(5000)}}`, headers: JSON_HEADERS, status: 400, code: "invalid_request" },
  { name: "both estimated_usage and amount", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", body: { model: SONNET, amount: "1000", estimated_usage: { output_tokens: 10 } }, status: 400, code: "invalid_request" },
  { name: "neither estimated_usage nor amount", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", body: { model: SONNET }, status: 400, code: "invalid_request" },
  { name: "settle with both usage and amount", method: "POST", path: (w) => `${A(w)}/holds/${w.a.holdId}/settle`, key: "owner", body: { amount: "1", usage: { output_tokens: 1 } }, status: 400, code: "invalid_request" },
  { name: "settle with neither usage nor amount", method: "POST", path: (w) => `${A(w)}/holds/${w.a.holdId}/settle`, key: "owner", body: {}, status: 400, code: "invalid_request" },
  { name: "usage event with both usage and amount", method: "POST", path: (w) => `${A(w)}/usage_events`, key: "owner", body: { event_id: "ev-both", model: SONNET, amount: "1", usage: { output_tokens: 1 } }, status: 400, code: "invalid_request" },
  { name: "usage event with an empty event_id", method: "POST", path: (w) => `${A(w)}/usage_events`, key: "owner", body: { event_id: "", model: SONNET, amount: "1" }, status: 400, code: "invalid_request" },
  { name: "unknown model (authorize)", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", body: { model: "gpt-nope", amount: "1000" }, status: 400, code: "unknown_model" },
  { name: "unknown model (usage event)", method: "POST", path: (w) => `${A(w)}/usage_events`, key: "owner", body: { event_id: "ev-model", model: "claude-imaginary-9", usage: { output_tokens: 5 } }, status: 400, code: "unknown_model" },
  { name: "empty model", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", body: { model: "", amount: "1000" }, status: 400, code: "invalid_request" },
  { name: "21 metadata keys", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", body: { ...okAuthorize, metadata: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, "v"])) }, status: 400, code: "invalid_request" },
  { name: "metadata value of 501 chars", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", body: { ...okAuthorize, metadata: { k: "v".repeat(501) } }, status: 400, code: "invalid_request" },
  { name: "metadata key of 65 chars", method: "POST", path: (w) => `${A(w)}/usage_events`, key: "owner", body: { event_id: "ev-meta", model: SONNET, amount: "1", metadata: { ["k".repeat(65)]: "v" } }, status: 400, code: "invalid_request" },
  { name: "metadata value not a string", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", body: { ...okAuthorize, metadata: { n: 1 } }, status: 400, code: "invalid_request" },
  { name: "NUL in a body string", method: "POST", path: (w) => `${A(w)}/members`, key: "owner", body: { ...okMember, name: "a\u0000b" }, status: 400, code: "invalid_request" },
  { name: "NUL in a grant description", method: "POST", path: (w) => `${A(w)}/grants`, key: "platform", body: { kind: "promotional", amount: "1000", description: "\u0000" }, status: 400, code: "invalid_request" },
  { name: "invalid email", method: "POST", path: (w) => `${A(w)}/members`, key: "owner", body: { email: "not an email", name: "X" }, status: 400, code: "invalid_request" },
  { name: "unknown plan for a new org", method: "POST", path: "/v1/organizations", key: "platform", body: { name: "X", plan_id: "platinum", owner: { email: "x@x.test", name: "X" } }, status: 400, code: "invalid_request" },
  { name: "unknown plan in an org patch", method: "PATCH", path: (w) => A(w), key: "owner", body: { plan_id: "platinum" }, status: 400, code: "invalid_request" },
  { name: "body larger than 1 MiB", method: "POST", path: (w) => `${A(w)}/workspaces`, key: "owner", raw: () => `{"name":"${"x".repeat(1_153_434)}"}`, headers: JSON_HEADERS, status: 413, code: "payload_too_large" },
  { name: "body larger than 1 MiB, unauthenticated", method: "POST", path: "/v1/organizations", key: "none", raw: () => `{"name":"${"x".repeat(1_153_434)}"}`, headers: JSON_HEADERS, status: 413, code: "payload_too_large" },
  { name: "Idempotency-Key of 300 chars", method: "POST", path: (w) => `${A(w)}/workspaces`, key: "owner", body: { name: "w" }, headers: { "idempotency-key": "k".repeat(300) }, status: 400, code: "invalid_request" },
  { name: "Idempotency-Key with spaces", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", body: okAuthorize, headers: { "idempotency-key": "has a space" }, status: 400, code: "invalid_request" },

  // ------------------------------------------------------------ dates and query strings
  { name: "grant expiry not a date", method: "POST", path: (w) => `${A(w)}/grants`, key: "platform", body: { kind: "promotional", amount: "1000", expires_at: "tomorrow" }, status: 400, code: "invalid_request" },
  { name: "grant expiry month 13", method: "POST", path: (w) => `${A(w)}/grants`, key: "platform", body: { kind: "promotional", amount: "1000", expires_at: "2026-13-45T00:00:00Z" }, status: 400, code: "invalid_request" },
  { name: "grant expiry without a zone", method: "POST", path: (w) => `${A(w)}/grants`, key: "platform", body: { kind: "promotional", amount: "1000", expires_at: "2026-04-01T00:00:00" }, status: 400, code: "invalid_request" },
  { name: "grant expiry as epoch number", method: "POST", path: (w) => `${A(w)}/grants`, key: "platform", body: { kind: "promotional", amount: "1000", expires_at: 1_775_000_000_000 }, status: 400, code: "invalid_request" },
  { name: "price book effective_from not a date", method: "POST", path: "/v1/price_books", key: "platform", body: (w: World) => ({ ...w.priceBook, version: 998, effective_from: "2026-02-30T25:00:00Z" }), status: 400, code: "invalid_request" },
  { name: "usage query with a bad date", method: "GET", path: (w) => `${A(w)}/usage?from=yesterday`, key: "owner", status: 400, code: "invalid_request" },
  { name: "bad before cursor", method: "GET", path: (w) => `${A(w)}/transactions?before=garbage`, key: "owner", status: 400, code: "invalid_request" },
  { name: "cursor with a hostile id", method: "GET", path: (w) => `${A(w)}/transactions?before=${Buffer.from("1:tx'; DROP TABLE ledger;--").toString("base64url")}`, key: "owner", status: 400, code: "invalid_request" },
  { name: "transactions limit zero", method: "GET", path: (w) => `${A(w)}/transactions?limit=0`, key: "owner", status: 400, code: "invalid_request" },
  { name: "transactions limit not a number", method: "GET", path: (w) => `${A(w)}/transactions?limit=abc`, key: "owner", status: 400, code: "invalid_request" },
  { name: "unknown query parameter", method: "GET", path: (w) => `${A(w)}/transactions?foo=1`, key: "owner", status: 400, code: "invalid_request" },
  { name: "organizations offset too large", method: "GET", path: "/v1/organizations?offset=99999999999", key: "platform", status: 400, code: "invalid_request" },

  // ------------------------------------------------------------ routing
  { name: "method not allowed on the collection", method: "DELETE", path: "/v1/organizations", key: "platform", status: 405, code: "method_not_allowed" },
  { name: "method not allowed on authorize", method: "PUT", path: (w) => `${A(w)}/authorize`, key: "owner", body: okAuthorize, status: 405, code: "method_not_allowed" },
  { name: "method not allowed on settle", method: "GET", path: (w) => `${A(w)}/holds/${w.a.holdId}/settle`, key: "owner", status: 405, code: "method_not_allowed" },
  { name: "unknown path", method: "GET", path: "/v1/nope", key: "platform", status: 404, code: "not_found" },
  { name: "unknown write path", method: "POST", path: (w) => `${A(w)}/refunds`, key: "owner", body: { amount: "1" }, status: 404, code: "not_found" },

  // ------------------------------------------------------------ well-formed requests the state refuses (4xx, nothing written)
  { name: "demote the only owner", method: "PATCH", path: (w) => `${A(w)}/members/${w.a.ownerId}`, key: "owner", body: { role: "member" }, status: 409, code: "conflict" },
  { name: "duplicate member email (other case)", method: "POST", path: (w) => `${A(w)}/members`, key: "owner", body: { email: "ADMIN@acme.test", name: "Dup" }, status: 409, code: "conflict" },
  { name: "settle a settled hold", method: "POST", path: (w) => `${A(w)}/holds/${w.a.settledHoldId}/settle`, key: "owner", body: { amount: "1" }, status: 409, code: "hold_not_pending" },
  { name: "release a settled hold", method: "POST", path: (w) => `${A(w)}/holds/${w.a.settledHoldId}/release`, key: "owner", status: 409, code: "hold_not_pending" },
  // A grant resolves once: voiding it again is a conflict, not "not found" (it is still listed).
  { name: "void a voided grant", method: "POST", path: (w) => `${A(w)}/grants/${w.a.voidedGrantId}/void`, key: "platform", status: 409, code: "conflict" },
  { name: "republish an existing price book version", method: "POST", path: "/v1/price_books", key: "platform", body: (w: World) => w.priceBook, status: 409, code: "conflict" },
  { name: "fast mode when the org disabled it", method: "POST", path: (w) => `${A(w)}/authorize`, key: "owner", body: { ...okAuthorize, speed: "fast" }, status: 403, code: "fast_mode_disabled" },
  { name: "more than the credit balance", method: "POST", path: (w) => `${B(w)}/authorize`, key: "other", body: { model: SONNET, amount: String(2 * USD) }, status: 400, code: "insufficient_credits" },
  { name: "past the org spend limit", method: "POST", path: (w) => `${B(w)}/authorize`, key: "other", body: { model: SONNET, amount: String(0.6 * USD) }, status: 429, code: "spend_limit_reached" },
  // ------------------------------------------------------------ money in (test/money-in.test.ts has the full story)
  { name: "member saves a payment method", method: "POST", path: (w) => `${A(w)}/payment_methods`, key: "member", body: { card_number: "4242424242424242" }, status: 403, code: "forbidden" },
  { name: "member removes a payment method", method: "DELETE", path: (w) => `${A(w)}/payment_methods/pm_00000000000000000000000000`, key: "member", status: 403, code: "forbidden" },
  { name: "member buys credits", method: "POST", path: (w) => `${A(w)}/purchases`, key: "member", body: { amount: "5000000", payment_method_id: "pm_00000000000000000000000000" }, status: 403, code: "forbidden" },
  { name: "purchase amount with 3 decimals", method: "POST", path: (w) => `${A(w)}/purchases`, key: "owner", body: { amount: "12345000", payment_method_id: "pm_00000000000000000000000000" }, status: 400, code: "amount_not_whole_cents" },
  { name: "negative credit request", method: "POST", path: (w) => `${A(w)}/credit_requests`, key: "member", body: { amount: "-5000000" }, status: 400, code: "invalid_request" },
  { name: "member approves a credit request", method: "POST", path: (w) => `${A(w)}/credit_requests/creq_00000000000000000000000000/approve`, key: "member", body: { payment_method_id: "pm_00000000000000000000000000" }, status: 403, code: "forbidden" },
  { name: "member declines a credit request", method: "POST", path: (w) => `${A(w)}/credit_requests/creq_00000000000000000000000000/decline`, key: "member", status: 403, code: "forbidden" },
  { name: "auto-reload threshold above target", method: "PUT", path: (w) => `${A(w)}/auto_reload`, key: "owner", body: { enabled: true, threshold: "50000000", mode: "target", target_balance: "40000000" }, status: 400, code: "threshold_not_below_target" },
  // ------------------------------------------------------------ webhooks (test/webhooks.test.ts has the full story)
  { name: "webhook endpoint with a non-URL", method: "POST", path: (w) => `${A(w)}/webhook_endpoints`, key: "owner", body: { url: "not a url" }, status: 400, code: "invalid_request" },
  { name: "webhook endpoint with an unknown event type", method: "POST", path: (w) => `${A(w)}/webhook_endpoints`, key: "owner", body: { url: "https://hooks.example.com/x", event_types: ["credits.stolen"] }, status: 400, code: "invalid_request" },
  { name: "member adds a webhook endpoint", method: "POST", path: (w) => `${A(w)}/webhook_endpoints`, key: "member", body: { url: "https://hooks.example.com/x" }, status: 403, code: "forbidden" },
  { name: "member deletes a webhook endpoint", method: "DELETE", path: (w) => `${A(w)}/webhook_endpoints/whe_00000000000000000000000000`, key: "member", status: 403, code: "forbidden" },
  { name: "delete an unknown webhook endpoint", method: "DELETE", path: (w) => `${A(w)}/webhook_endpoints/whe_00000000000000000000000000`, key: "owner", status: 404, code: "not_found" },
  { name: "a test event to an unknown endpoint", method: "POST", path: (w) => `${A(w)}/webhook_endpoints/whe_00000000000000000000000000/test`, key: "owner", status: 404, code: "not_found" },
  { name: "preview a price book with a negative rate", method: "POST", path: "/v1/price_books/preview", key: "platform", body: (w: World) => ({ ...w.priceBook, web_search_per_1000: "-10" }), status: 400, code: "invalid_request" },
  { name: "preview a price book for a month that is not one", method: "POST", path: "/v1/price_books/preview?month=2026-13", key: "platform", body: (w: World) => w.priceBook, status: 400, code: "invalid_request" },
  { name: "owner previews a price book (platform only)", method: "POST", path: "/v1/price_books/preview", key: "owner", body: (w: World) => w.priceBook, status: 403, code: "forbidden" },
  { name: "lab replay of a period that is not a month", method: "POST", path: "/v1/lab/replays", key: "platform", body: { period: "November" }, status: 400, code: "invalid_request" },
  { name: "lab replay of month 13", method: "POST", path: "/v1/lab/replays", key: "platform", body: { period: "2026-13" }, status: 400, code: "invalid_request" },
  { name: "lab replay with an unknown field", method: "POST", path: "/v1/lab/replays", key: "platform", body: { period: "2026-11", dry: true }, status: 400, code: "invalid_request" },
  { name: "lab replay with a negative rate in its book", method: "POST", path: "/v1/lab/replays", key: "platform", body: (w: World) => ({ period: "2026-11", price_book: { ...w.priceBook, web_search_per_1000: "-10" } }), status: 400, code: "invalid_request" },
  { name: "lab replay of an unknown organization", method: "POST", path: "/v1/lab/replays", key: "platform", body: { period: "2026-11", org_ids: ["org_00000000000000000000000000"] }, status: 404, code: "not_found" },
  { name: "owner runs a lab replay (platform only)", method: "POST", path: "/v1/lab/replays", key: "owner", body: { period: "2026-11" }, status: 403, code: "forbidden" },
  { name: "replay an unknown delivery", method: "POST", path: (w) => `${A(w)}/webhook_endpoints/whe_00000000000000000000000000/deliveries/whd_00000000000000000000000000/replay`, key: "owner", status: 404, code: "not_found" },
  // ------------------------------------------------------------ monthly SDK credits (test/sdk-credits.test.ts has the full story)
  { name: "member claims another member's SDK credit", method: "POST", path: (w) => `${A(w)}/members/${w.a.ownerId}/sdk_credits/claim`, key: "member", status: 403, code: "forbidden" },
  { name: "other org: claim its member's SDK credit", method: "POST", path: (w) => `${A(w)}/members/${w.a.memberId}/sdk_credits/claim`, key: "other", status: 404, code: "not_found" },
  { name: "claim the SDK credit of an unknown member", method: "POST", path: (w) => `${A(w)}/members/mem_00000000000000000000000000/sdk_credits/claim`, key: "owner", status: 404, code: "not_found" },
  { name: "claim the SDK credit with a body", method: "POST", path: (w) => `${A(w)}/members/${w.a.memberId}/sdk_credits/claim`, key: "member", body: { amount: "100000000" }, status: 400, code: "invalid_request" },
  { name: "member pools the SDK credits", method: "PUT", path: (w) => `${A(w)}/sdk_credits`, key: "member", body: { pooled: true }, status: 403, code: "forbidden" },
  { name: "SDK credit pool cap as a number", method: "PUT", path: (w) => `${A(w)}/sdk_credits`, key: "owner", body: { pooled: true, pool_cap: 500 }, status: 400, code: "invalid_request" },
  { name: "SDK credit settings without pooled", method: "PUT", path: (w) => `${A(w)}/sdk_credits`, key: "owner", body: { pool_cap: "1000000" }, status: 400, code: "invalid_request" },
  { name: "other org: pool its SDK credits", method: "PUT", path: (w) => `${A(w)}/sdk_credits`, key: "other", body: { pooled: true }, status: 404, code: "not_found" },
  // ------------------------------------------------------------ dashboard sign-in and passwords
  { name: "sign in without a password", method: "POST", path: "/v1/dashboard/session", key: "none", body: { email: "owner@acme.test" }, status: 400, code: "invalid_request" },
  { name: "sign in with a numeric password", method: "POST", path: "/v1/dashboard/session", key: "none", body: { email: "owner@acme.test", password: 12345678901234 }, status: 400, code: "invalid_request" },
  { name: "sign in with an unknown field", method: "POST", path: "/v1/dashboard/session", key: "none", body: { email: "owner@acme.test", password: "x", remember: true }, status: 400, code: "invalid_request" },
  { name: "sign in with a non-email", method: "POST", path: "/v1/dashboard/session", key: "none", body: { email: "owner", password: "long enough password" }, status: 400, code: "invalid_request" },
  { name: "sign in as form data", method: "POST", path: "/v1/dashboard/session", key: "none", raw: "email=a%40b.c&password=x", headers: { "content-type": "application/x-www-form-urlencoded" }, status: 415, code: "unsupported_media_type" },
  { name: "sign out without a session", method: "DELETE", path: "/v1/dashboard/session", key: "none", status: 401, code: "unauthenticated" },
  { name: "sign out with a stale session cookie", method: "DELETE", path: "/v1/dashboard/session", key: "none", headers: { cookie: "uc_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }, status: 401, code: "unauthenticated" },
  { name: "member sets a password", method: "PUT", path: (w) => `${A(w)}/members/${w.a.memberId}/password`, key: "member", body: { password: "a long enough password" }, status: 403, code: "forbidden" },
  { name: "billing sets a password", method: "PUT", path: (w) => `${A(w)}/members/${w.a.ownerId}/password`, key: "billing", body: { password: "a long enough password" }, status: 403, code: "forbidden" },
  { name: "password too short", method: "PUT", path: (w) => `${A(w)}/members/${w.a.memberId}/password`, key: "owner", body: { password: "short" }, status: 400, code: "invalid_request" },
  { name: "password too long", method: "PUT", path: (w) => `${A(w)}/members/${w.a.memberId}/password`, key: "owner", body: { password: "x".repeat(257) }, status: 400, code: "invalid_request" },
  { name: "password for another org's member", method: "PUT", path: (w) => `${A(w)}/members/${w.b.memberId}/password`, key: "owner", body: { password: "a long enough password" }, status: 404, code: "not_found" },
  { name: "other org: set a password", method: "PUT", path: (w) => `${A(w)}/members/${w.a.memberId}/password`, key: "other", body: { password: "a long enough password" }, status: 404, code: "not_found" },
  { name: "usage breakdown over more than 366 days", method: "GET", path: (w) => `${A(w)}/usage/breakdown?days=400`, key: "owner", status: 400, code: "invalid_request" },
  { name: "transactions of an unknown kind", method: "GET", path: (w) => `${A(w)}/transactions?kind=refund`, key: "owner", status: 400, code: "invalid_request" },
];

/** The route patterns of every write route, from the real route table. */
function writeRoutes(): Array<{ method: string; path: string }> {
  return apiRoutes()
    .filter((r) => r.method !== "GET")
    .map((r) => ({ method: r.method, path: r.path }));
}

for (const backend of backends()) {
  describe(`bad input on ${backend.name}`, () => {
    let h: Harness;
    let w: World;
    let before0: unknown;

    const send = (c: Case): Promise<Response> => {
      const path = typeof c.path === "function" ? c.path(w) : c.path;
      const body = typeof c.body === "function" ? (c.body as (w: World) => unknown)(w) : c.body;
      const raw = typeof c.raw === "function" ? c.raw() : c.raw;
      return h.request(c.method, path, {
        key: w.keys[c.key],
        ...("body" in c ? { body } : {}),
        ...(raw !== undefined ? { raw } : {}),
        ...(c.headers ? { headers: c.headers } : {}),
      });
    };

    const ok = async (method: string, path: string, body?: unknown, key?: string): Promise<Record<string, unknown>> => {
      const r = await h.request(method, path, { ...(body !== undefined ? { body } : {}), ...(key !== undefined ? { key } : {}) });
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };

    /** Everything the API (platform key) and the store show about both organizations. */
    const fingerprint = async (): Promise<unknown> => {
      const get = async (path: string) => {
        const r = await h.request("GET", path);
        assert.equal(r.status, 200, `fingerprint read ${path}: ${JSON.stringify(r.body)}`);
        return r.body;
      };
      const org = async (o: { orgId: string; ownerId: string }, holds: string[]) => {
        const base = `/v1/organizations/${o.orgId}`;
        return {
          org: await get(base),
          members: await get(`${base}/members`),
          workspaces: await get(`${base}/workspaces`),
          api_keys: await get(`${base}/api_keys`),
          grants: await get(`${base}/grants`),
          spend_limits: await get(`${base}/spend_limits`),
          transactions: await get(`${base}/transactions?limit=500`),
          usage: await get(`${base}/usage`),
          usage_summary: await get(`${base}/usage_summary?member_id=${o.ownerId}`),
          holds: await Promise.all(holds.map((id) => get(`${base}/holds/${id}`))),
        };
      };
      return {
        verify: await get("/v1/ledger/verify"),
        organizations: await get("/v1/organizations?limit=500"),
        plans: await get("/v1/plans"),
        price_books: await get("/v1/price_books"),
        aggregates: await h.app.services.store.read((tx) => tx.ledgerAggregates()),
        a: await org(w.a, [w.a.holdId, w.a.settledHoldId]),
        b: await org(w.b, [w.b.holdId]),
      };
    };

    before(async () => {
      h = await startHarness(await backend.createDatabase());
      // Org A: Pro plan, usage credits off, fast mode off; every role, a workspace, grants, a limit, holds.
      const a = await createOrg(h, { plan: "pro", usageCredits: false, fastMode: false });
      const pa = `/v1/organizations/${a.orgId}`;
      const wsA = await ok("POST", `${pa}/workspaces`, { name: "Research" });
      const admin = await addMember(h, a.orgId, { role: "admin", email: "admin@acme.test" });
      const billing = await addMember(h, a.orgId, { role: "billing" });
      const member = await addMember(h, a.orgId, { role: "member", workspace_id: wsA["id"] });
      const keys = (await ok("GET", `${pa}/api_keys`))["data"] as Array<Record<string, unknown>>;
      const memberKey = keys.find((k) => k["member_id"] === member.memberId);
      assert.ok(memberKey);
      const doomed = await ok("POST", `${pa}/api_keys`, { member_id: member.memberId, name: "doomed" });
      await ok("POST", `${pa}/api_keys/${String(doomed["id"])}/revoke`);
      const grantA = await grant(h, a.orgId, { amount: String(10 * USD) });
      const voided = await grant(h, a.orgId, { amount: String(1 * USD) });
      await ok("POST", `${pa}/grants/${String(voided["id"])}/void`);
      const limitA = await ok("POST", `${pa}/spend_limits`, { scope: "organization", period: "monthly", amount: String(5 * USD) });
      const holdA = await ok("POST", `${pa}/authorize`, { model: SONNET, amount: "1000" }, a.ownerKey);
      const settled = await ok("POST", `${pa}/authorize`, { model: SONNET, amount: "2000" }, a.ownerKey);
      const settledHoldId = String((settled["hold"] as Record<string, unknown>)["id"]);
      await ok("POST", `${pa}/holds/${settledHoldId}/settle`, { amount: "1500" }, a.ownerKey);

      // Org B: usage-based, credits on, $1 of credits, a $0.50 org limit, a $0.10 pending hold.
      const b = await createOrg(h, { plan: "enterprise_usage", usageCredits: true });
      const pb = `/v1/organizations/${b.orgId}`;
      const wsB = await ok("POST", `${pb}/workspaces`, { name: "Ops" });
      const memberB = await addMember(h, b.orgId, { role: "member" });
      const grantB = await grant(h, b.orgId, { amount: String(1 * USD) });
      const limitB = await ok("POST", `${pb}/spend_limits`, { scope: "organization", period: "monthly", amount: String(0.5 * USD) });
      const holdB = await ok("POST", `${pb}/authorize`, { model: SONNET, amount: String(0.1 * USD) }, b.ownerKey);

      const books = (await ok("GET", "/v1/price_books"))["data"] as Array<Record<string, unknown>>;
      const priceBook = books[0];
      assert.ok(priceBook, "a price book is installed");

      w = {
        a: {
          orgId: a.orgId,
          ownerId: a.ownerId,
          adminId: admin.memberId,
          billingId: billing.memberId,
          memberId: member.memberId,
          memberKeyId: String(memberKey["id"]),
          workspaceId: String(wsA["id"]),
          grantId: String(grantA["id"]),
          voidedGrantId: String(voided["id"]),
          limitId: String(limitA["id"]),
          holdId: String((holdA["hold"] as Record<string, unknown>)["id"]),
          settledHoldId,
        },
        b: {
          orgId: b.orgId,
          ownerId: b.ownerId,
          memberId: memberB.memberId,
          workspaceId: String(wsB["id"]),
          grantId: String(grantB["id"]),
          limitId: String(limitB["id"]),
          holdId: String((holdB["hold"] as Record<string, unknown>)["id"]),
        },
        keys: {
          none: null,
          bad: `uck_${"A".repeat(27)}`,
          revoked: String(doomed["secret"]),
          platform: h.platformKey,
          owner: a.ownerKey,
          admin: admin.key,
          billing: billing.key,
          member: member.key,
          other: b.ownerKey,
        },
        priceBook,
      };
      before0 = await fingerprint();
    });

    after(async () => {
      await h.close();
      await backend.cleanup();
    });

    test(`the table has at least 45 cases with unique names (${CASES.length})`, () => {
      assert.ok(CASES.length >= 45);
      assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length, "case names are unique");
    });

    for (const c of CASES) {
      test(`${c.method} ${c.name} → ${c.status} ${c.code}`, async () => {
        const r = await send(c);
        const text = JSON.stringify(r.body);
        assert.ok(r.status < 500, `never a 5xx: got ${r.status} ${text}`);
        assert.equal(r.status, c.status, `status: ${text.slice(0, 500)}`);
        assert.equal(r.body["type"], "error", text.slice(0, 500));
        const err = r.body["error"] as Record<string, unknown> | undefined;
        assert.ok(err && typeof err === "object", "an error object");
        assert.equal(err["code"], c.code, `code: ${text.slice(0, 500)}`);
        assert.equal(typeof err["type"], "string");
        assert.equal(typeof err["request_id"], "string");
        assert.match(String(err["request_id"]), /^req_/);
        assert.equal(r.headers.get("request-id"), err["request_id"], "the request-id header matches the envelope");
        assert.equal(typeof err["message"], "string");
        assert.ok(String(err["message"]).length > 0, "a non-empty message");
        assert.ok(!text.includes("    at "), `no stack trace: ${text.slice(0, 500)}`);
        assert.ok(!/\.(?:ts|js):\d+/.test(String(err["message"])), "no source locations in the message");
        assert.ok(err["details"] !== null && typeof err["details"] === "object", "details is an object");
      });
    }

    test("the whole table changed no state, and the ledger verifies", async () => {
      const now = await fingerprint();
      assert.deepEqual(now, before0);
      const v = (await h.request("GET", "/v1/ledger/verify")).body;
      assert.equal(v["ok"], true, JSON.stringify(v));
      assert.deepEqual(v["violations"], []);
      // The revoked key is still refused, the good ones still work.
      assert.equal((await h.request("GET", `/v1/organizations/${w.a.orgId}`, { key: w.keys.revoked })).status, 401);
      assert.equal((await h.request("GET", `/v1/organizations/${w.a.orgId}`, { key: w.keys.member })).status, 200);
    });

    test("the table reaches every POST, PUT, PATCH and DELETE route", () => {
      const router = new Router<{ method: string; path: string }>();
      const all = writeRoutes();
      for (const r of all) router.add(r.method, r.path, r);
      const hit = new Set<string>();
      for (const c of CASES) {
        const path = (typeof c.path === "function" ? c.path(w) : c.path).split("?")[0] ?? "";
        try {
          const m = router.find(c.method, path).match;
          if (m) hit.add(`${m.route.method} ${m.route.path}`);
        } catch {
          // invalid percent-encoding: reaches no route by design
        }
      }
      const missing = all.map((r) => `${r.method} ${r.path}`).filter((k) => !hit.has(k));
      assert.deepEqual(missing, [], "every write route has at least one bad-input case");
    });

    // ------------------------------------------------------------ random JSON: never a 5xx
    const hostileJson = fc.oneof(fc.jsonValue(), fc.jsonValue({ stringUnit: "binary", maxDepth: 3 }));
    type Sample = { kind: "value"; value: unknown } | { kind: "raw"; raw: string } | { kind: "mutated"; field: string; value: unknown };
    const samples = (fields: readonly string[]): fc.Arbitrary<Sample> =>
      fc.oneof(
        hostileJson.map((value): Sample => ({ kind: "value", value })),
        fc.oneof(fc.json(), fc.string({ unit: "binary", maxLength: 200 })).map((raw): Sample => ({ kind: "raw", raw })),
        fc.tuple(fc.constantFrom(...fields, "unexpected"), hostileJson).map(([field, value]): Sample => ({ kind: "mutated", field, value })),
      );

    const fuzz: Array<{ name: string; path: (w: World) => string; key: KeyName; base: Record<string, unknown> | ((w: World) => Record<string, unknown>) }> = [
      { name: "authorize", path: (x) => `${A(x)}/authorize`, key: "owner", base: { model: SONNET, amount: "1000", metadata: { k: "v" }, ttl_seconds: 60 } },
      { name: "settle", path: (x) => `${A(x)}/holds/${x.a.holdId}/settle`, key: "owner", base: { amount: "1", batch: false } },
      { name: "spend_limits", path: (x) => `${A(x)}/spend_limits`, key: "owner", base: (x) => ({ scope: "member", scope_id: x.a.memberId, period: "monthly", amount: "1000000" }) },
      { name: "members", path: (x) => `${A(x)}/members`, key: "owner", base: { email: "fuzz@acme.test", name: "Fuzz", role: "member", seat_tier: "standard" } },
      { name: "grants", path: (x) => `${A(x)}/grants`, key: "platform", base: { kind: "promotional", amount: "1000", description: "fuzz", priority: 3 } },
    ];

    for (const f of fuzz) {
      test(`random JSON bodies on ${f.name} never cause a 5xx`, async () => {
        const base = typeof f.base === "function" ? f.base(w) : f.base;
        await fc.assert(
          fc.asyncProperty(samples(Object.keys(base)), async (s) => {
            const path = f.path(w);
            const key = w.keys[f.key];
            const r =
              s.kind === "raw"
                ? await h.request("POST", path, { key, raw: s.raw, headers: JSON_HEADERS })
                : await h.request("POST", path, { key, body: s.kind === "value" ? s.value : { ...base, [s.field]: s.value } });
            const text = JSON.stringify(r.body);
            assert.ok(r.status < 500, `5xx for ${JSON.stringify(s).slice(0, 300)}: ${r.status} ${text.slice(0, 300)}`);
            if (r.status >= 400) {
              assert.equal(r.body["type"], "error", text.slice(0, 300));
              const err = r.body["error"] as Record<string, unknown>;
              assert.equal(typeof err["code"], "string");
              assert.equal(typeof err["request_id"], "string");
              assert.ok(typeof err["message"] === "string" && err["message"].length > 0);
              assert.ok(!text.includes("    at "), "no stack trace");
            }
          }),
          { numRuns: 60 },
        );
      });
    }

    test("after the fuzzing the ledger still verifies", async () => {
      const v = (await h.request("GET", "/v1/ledger/verify")).body;
      assert.equal(v["ok"], true, JSON.stringify(v));
      assert.deepEqual(v["violations"], []);
    });
  });
}
