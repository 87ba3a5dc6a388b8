import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { narrowSurface } from "./surface-rule.js";

// One rule for authorize, usage events and the gateway: a request may only narrow its key's surface.
describe("narrowSurface", () => {
  const cases: Array<[key: Parameters<typeof narrowSurface>[0], declared: string | undefined, expected: string]> = [
    ["interactive", undefined, "interactive"],
    ["sdk", undefined, "sdk"],
    ["interactive", "sdk", "sdk"],
    ["interactive", "ci", "ci"],
    ["interactive", "cli_headless", "cli_headless"],
    ["sdk", "sdk", "sdk"],
    ["sdk", "interactive", "forbidden"],
    ["ci", "interactive", "forbidden"],
    ["sdk", "ci", "forbidden"],
    ["cli_headless", "sdk", "forbidden"],
    ["interactive", "browser", "invalid_request"],
    ["any", undefined, "interactive"],
    ["any", "ci", "ci"],
  ];
  for (const [key, declared, expected] of cases) {
    test(`a ${key} key declaring ${declared ?? "nothing"} → ${expected}`, () => {
      const r = narrowSurface(key, declared);
      assert.equal(r.ok ? r.value : r.error.code, expected);
    });
  }
});
