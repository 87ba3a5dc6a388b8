// The edge's one permission decision (decide) gives the answer the two checks it replaces gave
// (canSeeOrg, then allows), for every kind of caller, role, organization and permission.

import assert from "node:assert/strict";
import { test } from "node:test";
import { allows, canSeeOrg, decide, type Permission, type Principal } from "./auth.js";

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
