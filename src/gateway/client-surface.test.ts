// Which surface traffic is metered on: recognised from Claude Code's own headers, declared, or the
// key's; only ever narrowing, so no header puts traffic on the plan windows.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { meteredSurface, recognisedSurface } from "./client-surface.js";
import type { Surface } from "../core/plans.js";

describe("recognisedSurface", () => {
  const cases: Array<[string | undefined, string | undefined, Surface | undefined]> = [
    ["cli", "claude-cli/2.1.332 (external, sdk-cli)", "cli_headless"],
    ["cli", "claude-cli/2.1.336 (external, sdk-ts, agent-sdk/0.3.336)", "sdk"],
    ["cli", "claude-cli/2.1.336 (external, sdk-py)", "sdk"],
    ["cli", "claude-cli/2.1.332 (external, claude-code-github-action)", "ci"],
    ["cli", "claude-cli/2.1.332 (external, cli)", "interactive"],
    ["cli", "claude-cli/2.1.332 (external, some-new-entrypoint)", "interactive"],
    [undefined, "claude-cli/2.1.332 (external, sdk-cli)", "cli_headless"],
    [undefined, "Anthropic/JS 1.17.0", undefined],
    [undefined, undefined, undefined],
    ["web", "ai-sdk/anthropic/3.0.140", undefined],
  ];
  for (const [xApp, ua, want] of cases) test(`${xApp ?? "-"} / ${ua ?? "-"} → ${want ?? "none"}`, () => assert.equal(recognisedSurface(xApp, ua), want));
});

describe("meteredSurface", () => {
  const sdkTs = "claude-cli/2.1.336 (external, sdk-ts)";
  const cli = "claude-cli/2.1.332 (external, cli)";
  const ok = (key: Surface, signals: { declared?: string; xApp?: string; userAgent?: string }) => {
    const r = meteredSurface(key, { declared: signals.declared, xApp: signals.xApp, userAgent: signals.userAgent });
    return r.ok ? r.surface : r.error.code;
  };

  test("an interactive key is narrowed by a recognised client or a declaration", () => {
    assert.equal(ok("interactive", {}), "interactive");
    assert.equal(ok("interactive", { xApp: "cli", userAgent: sdkTs }), "sdk");
    assert.equal(ok("interactive", { declared: "ci", xApp: "cli", userAgent: sdkTs }), "ci", "an explicit declaration wins");
  });

  test("nothing a client sends moves a credit-only key onto the plan (interactive)", () => {
    for (const key of ["sdk", "cli_headless", "ci"] as const) {
      assert.equal(ok(key, { xApp: "cli", userAgent: cli }), key, `${key}: a forged interactive Claude Code header is ignored`);
      assert.equal(ok(key, { declared: "interactive" }), "forbidden", `${key}: declaring interactive is refused`);
      assert.equal(ok(key, { declared: key, xApp: "cli", userAgent: cli }), key);
    }
    assert.equal(ok("sdk", { xApp: "cli", userAgent: "claude-cli/2 (external, sdk-cli)" }), "sdk", "a recognised client never moves a key sideways either");
  });

  test("an unknown declaration is a caller's mistake", () => {
    assert.equal(ok("interactive", { declared: "browser" }), "invalid_request");
  });
});
