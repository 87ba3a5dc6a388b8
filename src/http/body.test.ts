// The body is walked once (body.ts scanBody): the one walk answers what the three walks it replaces
// answered (a NUL anywhere, an old field name anywhere, the body with old names translated), on
// random JSON values with the rename's field names and NUL characters mixed in.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { fromLegacyFields, usesLegacyFields } from "../core/legacy-names.js";
import { scanBody } from "./body.js";

/** The NUL check the edge ran before the single walk. */
function hasNul(value: unknown, depth = 0): boolean {
  if (typeof value === "string") return value.includes("\u0000");
  if (depth > 64 || value === null || typeof value !== "object") return false;
  for (const [k, v] of Object.entries(value)) if (k.includes("\u0000") || hasNul(v, depth + 1)) return true;
  return false;
}

const key = fc.constantFrom("extra_usage", "extra_usage_enabled", "usage_credits", "usage_credits_enabled", "name", "a\u0000b", "amount");
const leaf = fc.oneof(fc.string(), fc.constantFrom("x\u0000y", ""), fc.integer(), fc.boolean(), fc.constant(null));
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, fc.array(tie("value"), { maxLength: 4 }), fc.dictionary(key, tie("value"), { maxKeys: 5, noNullPrototype: true })),
})).value;

test("scanBody: one walk answers as the NUL check, the old-name check and the translation did", () => {
  fc.assert(
    fc.property(json, (value) => {
      const r = scanBody(value);
      assert.equal(r.nul, hasNul(value));
      assert.equal(r.legacy, usesLegacyFields(value));
      assert.deepEqual(r.value, r.legacy ? fromLegacyFields(value) : value);
      if (!r.legacy) assert.equal(r.value, value, "an untouched body is not copied");
    }),
    { numRuns: 2_000 },
  );
});

test("scanBody: deeper than 64 levels is neither checked nor translated, as before", () => {
  let deep: unknown = { extra_usage: "x\u0000" };
  for (let i = 0; i < 70; i++) deep = { a: deep };
  const r = scanBody(deep);
  assert.equal(r.nul, hasNul(deep));
  assert.equal(r.legacy, usesLegacyFields(deep));
});
