// Which surface a gateway request is metered on (DOMAIN.md §5, §7). Pure.
//
// The key sets the surface it may use; the traffic itself may only narrow it. Claude Code and the
// Agent SDK say who they are: `x-app: cli` and `user-agent: claude-cli/<version> (external,
// <entrypoint>[, …])`, where the entrypoint is `cli` (interactive Claude Code), `sdk-cli`
// (`claude -p`, headless), `sdk-ts` / `sdk-py` (the Agent SDK) or `claude-code-github-action`
// (CI). A client may also declare a surface in `x-usage-credits-surface`.
//
// Narrowing only: an `interactive` key's traffic recognised as sdk, cli_headless or ci is metered
// on that surface (it leaves the plan windows for monthly SDK credits, then usage credits, as the
// plan's credit-only surfaces must). Nothing a client sends moves traffic the other way: a key made
// for sdk, cli_headless or ci stays on its surface whatever the headers say (a declaration of
// another surface is refused; a recognised client header is ignored), so a forged header can
// never put traffic on the plan windows.

import type { DomainError } from "../core/errors.js";
import type { Surface } from "../core/plans.js";
import { narrowSurface } from "../core/surface-rule.js";

/** Lets a client declare its surface explicitly. */
export const SURFACE_HEADER = "x-usage-credits-surface";

/** Claude Code's entrypoints (the user-agent's second field) and the surface each one is. */
const ENTRYPOINTS: Readonly<Record<string, Surface>> = {
  cli: "interactive",
  "sdk-cli": "cli_headless",
  "sdk-ts": "sdk",
  "sdk-py": "sdk",
  "claude-code-github-action": "ci",
  "claude-code-gitlab-ci": "ci",
};

const CLAUDE_CLI = /^claude-cli\/[^\s()]+\s+\(([^)]*)\)/;

/** The surface the client's own headers name, or undefined when they name none we know. */
export function recognisedSurface(xApp: string | undefined, userAgent: string | undefined): Surface | undefined {
  const m = userAgent === undefined ? null : CLAUDE_CLI.exec(userAgent);
  const fields = m?.[1]?.split(",").map((f) => f.trim()) ?? [];
  const entrypoint = fields[1];
  if (entrypoint !== undefined && Object.hasOwn(ENTRYPOINTS, entrypoint)) return ENTRYPOINTS[entrypoint];
  // `x-app: cli` alone (no entrypoint we know): Claude Code of some kind, interactive unless it says otherwise.
  return xApp === "cli" ? "interactive" : undefined;
}

export interface SurfaceSignals {
  /** The `x-usage-credits-surface` header. */
  readonly declared: string | undefined;
  readonly xApp: string | undefined;
  readonly userAgent: string | undefined;
}

/**
 * The surface a request is metered on: the key's, narrowed by an explicit declaration (checked:
 * an unknown or widening one is an error) or else by the recognised client (never an error: an
 * unrecognised or widening client header is simply not used).
 */
export function meteredSurface(keySurface: Surface, signals: SurfaceSignals): { ok: true; surface: Surface } | { ok: false; error: DomainError } {
  if (signals.declared !== undefined) {
    // The one rule of core/surface-rule.ts, as for authorize and usage events.
    const r = narrowSurface(keySurface, signals.declared, SURFACE_HEADER);
    return r.ok ? { ok: true, surface: r.value } : { ok: false, error: r.error };
  }
  const recognised = recognisedSurface(signals.xApp, signals.userAgent);
  return { ok: true, surface: keySurface === "interactive" && recognised !== undefined ? recognised : keySurface };
}
