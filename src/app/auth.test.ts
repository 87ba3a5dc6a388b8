// The edge's one permission decision (decide) gives the answer the two checks it replaces gave
// (canSeeOrg, then allows), for every kind of caller, role, organization and permission.

import assert from "node:assert/strict";
import { test } from "node:test";
import { allows, canSeeOrg, decide, decideAccess, type Permission, type Principal } from "./auth.js";

const PERMISSIONS: readonly Permission[] = ["read", "manage", "billing", "audit", "meter", "meter_any_member", "platform"];
const CALLERS: readonly Principal[] = [
  { kind: "platform", keyId: "key_p" },
  ...(["owner", "admin", "billing", "member"] as const).map((role): Principal => ({ kind: "member", keyId: "key_m", orgId: "org_a", memberId: "mem_1", role, surface: "interactive" })),
];

test("decide: one decision, the same as canSeeOrg then allows", () => {
  let cases = 0;
  for (const p of CALLERS) {
    for (const orgId of ["org_a", "org_b", null]) {
      for (const permission of PERMISSIONS) {
        const before = orgId !== null && !canSeeOrg(p, orgId) ? "not_found" : allows(p, orgId, permission) ? "allowed" : "forbidden";
        assert.equal(decide(p, orgId, permission), before, `${JSON.stringify(p)} ${orgId} ${permission}`);
        cases++;
      }
    }
  }
  assert.equal(cases, 5 * 3 * 7);
});

test("decideAccess: the one decision also says whom the caller may act for, as the handlers' own role checks did", () => {
  for (const p of CALLERS) {
    for (const permission of PERMISSIONS) {
      const { decision, access } = decideAccess(p, "org_a", permission);
      assert.equal(decision, decide(p, "org_a", permission));
      // What metering.ts checked before: owner/admin (or a platform key) may meter for another member;
      // every role but member (or a platform key) may see and resolve anyone's holds.
      const role = p.kind === "platform" ? null : p.role;
      assert.equal(access.anyMember, role === null || role === "owner" || role === "admin", `${JSON.stringify(p)} anyMember`);
      assert.equal(access.anyHold, role === null || role !== "member", `${JSON.stringify(p)} anyHold`);
    }
  }
});
