// API keys: 160 random bits, shown once, stored as a SHA-256 hash (keys are high-entropy, so a
// fast hash is the right tool; passwords, which are not, get a memory-hard KDF elsewhere).
// Lookup is by hash; the final comparison is constant-time.

import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Role } from "../core/model.js";
import type { Surface } from "../core/plans.js";
import type { ApiKeyRow, StoreTx } from "../ports/store.js";

export const KEY_PREFIX = "uck_";

export function generateApiKey(): { secret: string; hash: string; prefix: string } {
  const secret = `${KEY_PREFIX}${randomBytes(20).toString("base64url")}`;
  return { secret, hash: hashKey(secret), prefix: secret.slice(0, 12) };
}

export function hashKey(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

export type Principal =
  | { readonly kind: "platform"; readonly keyId: string }
  | {
      readonly kind: "member";
      readonly keyId: string;
      readonly orgId: string;
      readonly memberId: string;
      readonly role: Role;
      readonly surface: Surface;
    };

export async function authenticate(tx: StoreTx, secret: string): Promise<Principal | undefined> {
  if (!secret.startsWith(KEY_PREFIX) || secret.length > 200) return undefined;
  const hash = hashKey(secret);
  const row: ApiKeyRow | undefined = await tx.findApiKeyByHash(hash);
  if (!row || row.revokedAt !== null) return undefined;
  if (!timingSafeEqual(Buffer.from(row.hash, "hex"), Buffer.from(hash, "hex"))) return undefined;
  if (row.orgId === null) return { kind: "platform", keyId: row.id };
  if (row.memberId === null) return undefined;
  const member = await tx.getMember(row.memberId);
  if (!member || member.orgId !== row.orgId) return undefined;
  return { kind: "member", keyId: row.id, orgId: row.orgId, memberId: member.id, role: member.role, surface: row.surface };
}

/**
 * What each role may do inside its organization. Platform keys may do everything. "audit" reads
 * the audit log: whoever manages the organization or its money may see who changed what.
 */
export type Permission = "read" | "manage" | "billing" | "audit" | "meter" | "meter_any_member" | "platform";

const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  owner: ["read", "manage", "billing", "audit", "meter", "meter_any_member"],
  admin: ["read", "manage", "billing", "audit", "meter", "meter_any_member"],
  billing: ["read", "billing", "audit", "meter"],
  member: ["read", "meter"],
};

export function allows(p: Principal, orgId: string | null, permission: Permission): boolean {
  if (p.kind === "platform") return true;
  if (permission === "platform") return false;
  return orgId !== null && p.orgId === orgId && ROLE_PERMISSIONS[p.role].includes(permission);
}

export type Decision = "allowed" | "forbidden" | "not_found";

/**
 * The one permission decision of a request (the edge's authorize stage): may this caller use this
 * permission inside orgId (null: platform-wide)? Another organization is "not_found", never
 * "forbidden", so its ids look exactly like missing ones. The same answer as canSeeOrg then allows.
 */
export function decide(p: Principal, orgId: string | null, permission: Permission): Decision {
  if (p.kind === "platform") return "allowed";
  if (orgId !== null && p.orgId !== orgId) return "not_found";
  if (permission === "platform" || orgId === null) return "forbidden";
  return ROLE_PERMISSIONS[p.role].includes(permission) ? "allowed" : "forbidden";
}

/**
 * What the request's one decision grants beyond "allowed", so a handler never checks a role itself:
 * whom the caller may act for inside the organization.
 */
export interface Access {
  /** Meter for another member (platform keys; roles with meter_any_member: owner, admin). */
  readonly anyMember: boolean;
  /** See and resolve any member's holds and their ids (platform keys; every role but member). */
  readonly anyHold: boolean;
}

/** The one decision with what it grants: decide()'s answer and the caller's Access. */
export function decideAccess(p: Principal, orgId: string | null, permission: Permission): { decision: Decision; access: Access } {
  const access: Access = p.kind === "platform" ? { anyMember: true, anyHold: true } : { anyMember: ROLE_PERMISSIONS[p.role].includes("meter_any_member"), anyHold: p.role !== "member" };
  return { decision: decide(p, orgId, permission), access };
}

/** A member's key never learns whether another organization's id exists: it is simply not found. */
export function canSeeOrg(p: Principal, orgId: string): boolean {
  return p.kind === "platform" || p.orgId === orgId;
}
