// Builders of the charge router's input for its tests (router.test.ts): one organization (org_1)
// with one member (mem_1) in workspace wrk_1, plain data only, and seeded random worlds for the
// property tests (mulberry32: a failing world is replayed from its seed; no npm dependency).

import type { WindowStatus } from "./books-state.js";
import type { Grant, GrantKind } from "./grants.js";
import { dayOf, type LimitPeriod, type LimitScope, type SpendLimit } from "./limits.js";
import type { SpendDay } from "./model.js";
import { HOUR_MS, SURFACES, type Surface } from "./plans.js";
import type { RouterInput } from "./router.js";

export const USD = 1_000_000;
export const T0 = Date.UTC(2026, 2, 2, 9); // Monday 2 March 2026, 09:00 UTC
export const ORG = "org_1";
export const MEM = "mem_1";
export const WRK = "wrk_1";


export interface World {
  estimate?: number;
  surface?: Surface;
  fast?: boolean;
  orgCredits?: boolean;
  memberCredits?: boolean;
  orgFast?: boolean;
  memberFast?: boolean;
  debt?: number;
  creditOnly?: readonly Surface[];
  windows?: readonly WindowStatus[];
  grants?: readonly Grant[];
  limits?: readonly SpendLimit[];
  spend?: readonly SpendDay[];
  now?: number;
}

export function input(w: World = {}): RouterInput {
  return {
    request: { surface: w.surface ?? "interactive", speed: w.fast ? "fast" : "standard", estimate: w.estimate ?? 1 * USD },
    org: { id: ORG, usageCreditsEnabled: w.orgCredits ?? true, fastModeEnabled: w.orgFast ?? true, debt: w.debt ?? 0 },
    member: { id: MEM, workspaceId: WRK, usageCreditsEnabled: w.memberCredits ?? true, fastModeEnabled: w.memberFast ?? true },
    creditOnlySurfaces: w.creditOnly ?? ["sdk"],
    windows: w.windows ?? [],
    grants: w.grants ?? [],
    limits: w.limits ?? [],
    spend: w.spend ?? [],
    now: w.now ?? T0,
  };
}

export function win(key: string, quota: number, used: number, resetsAt: number, held = 0): WindowStatus {
  return { key, quota, used, held, periodStart: resetsAt - 5 * HOUR_MS, resetsAt, idle: false };
}

export function grant(id: string, remaining: number, o: Partial<Grant> = {}): Grant {
  return { id, orgId: ORG, kind: "purchase", amount: remaining, remaining, priority: 5, expiresAt: null, surfaces: null, memberId: null, createdAt: T0 - 1000, status: "active", description: "", ...o };
}

export function limit(scope: LimitScope, amount: number | null, o: Partial<SpendLimit> = {}): SpendLimit {
  const scopeId = scope === "organization" ? ORG : scope === "workspace" ? WRK : MEM;
  return { id: `spl_${scope}`, orgId: ORG, scope, scopeId, period: "monthly", amount, stopUsage: true, ...o };
}

export function spent(scopeKey: string, amount: number, day = dayOf(T0), held = 0): SpendDay {
  return { orgId: ORG, scopeKey, day, spent: amount, held };
}

/** mulberry32: a small seedable PRNG, so a failing world can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomWorld(seed: number): World {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const chance = (p: number) => rnd() < p;
  const kinds: readonly GrantKind[] = ["purchase", "promotional", "monthly", "migrated", "adjustment"];
  const grants = Array.from({ length: int(6) }, (_, i) =>
    grant(`g${i}`, int(4) * int(3 * USD), {
      kind: pick(kinds),
      priority: int(3) * 5,
      expiresAt: chance(0.5) ? null : T0 + (int(5) - 1) * HOUR_MS,
      surfaces: chance(0.7) ? null : [pick(SURFACES)],
      memberId: chance(0.8) ? null : pick([MEM, "mem_2"]),
      status: chance(0.9) ? "active" : pick(["voided", "expired"] as const),
      createdAt: T0 - int(1000),
    }),
  );
  const scopes: readonly LimitScope[] = ["organization", "workspace", "member"];
  const periods: readonly LimitPeriod[] = ["daily", "weekly", "monthly"];
  const limits = Array.from({ length: int(3) }, (_, i) => ({ ...limit(pick(scopes), chance(0.1) ? null : int(5 * USD), { period: pick(periods), stopUsage: chance(0.7) }), id: `spl_${i}` }));
  const spend = Array.from({ length: int(4) }, () => spent(pick(["org", MEM, WRK]), int(2 * USD), dayOf(T0) - int(10), int(2) * int(USD)));
  const windows = Array.from({ length: int(3) }, (_, i) => win(`w${i}`, 1 * USD, int(3) * int(USD), T0 + (1 + int(100)) * HOUR_MS, int(2) * int(USD)));
  return {
    estimate: chance(0.05) ? 0 : int(4 * USD),
    surface: pick(SURFACES),
    fast: chance(0.2),
    orgCredits: chance(0.85),
    memberCredits: chance(0.85),
    orgFast: chance(0.9),
    memberFast: chance(0.9),
    debt: chance(0.15) ? 1 + int(USD) : 0,
    creditOnly: chance(0.5) ? ["sdk", "cli_headless", "ci"] : [],
    windows,
    grants,
    limits,
    spend,
  };
}

